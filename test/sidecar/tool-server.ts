/** A v2-SDK MCP server whose tool list the test can change between probes. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { z } from 'zod';

export async function startToolServer(initial: string[]): Promise<{ url: string; setTools: (names: string[]) => void; close: () => Promise<void> }> {
  let names = initial;
  const handler = createMcpHandler(() => {
    const s = new McpServer({ name: 'tool-server', version: '2.0.0' });
    for (const n of names) s.registerTool(n, { description: `tool ${n}`, inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: n }] }));
    return s;
  });
  const node = toNodeHandler(handler);
  const http = createServer((req, res) => {
    node(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    setTools: (n) => {
      names = n;
    },
    close: () => new Promise((r) => { http.closeAllConnections(); http.close(() => r()); }),
  };
}
