/**
 * The built-in demo MCP server behind `mcpwatch --demo`: a real server built with the official
 * SDK (`@modelcontextprotocol/server`), serving both protocol eras over Streamable HTTP on
 * 127.0.0.1, with three small tools. It exists so a newcomer sees real metrics at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { z } from 'zod';

function buildServer(): McpServer {
  const server = new McpServer({ name: 'mcpwatch-demo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes the message back.', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({
      content: [{ type: 'text', text: message }],
    }),
  );
  server.registerTool(
    'add',
    { description: 'Adds two numbers.', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
    }),
  );
  server.registerTool(
    'sleep',
    {
      description: 'Waits for the given number of milliseconds (at most 10 s).',
      inputSchema: z.object({ ms: z.number().min(0).max(10_000) }),
    },
    async ({ ms }) => {
      await new Promise((r) => setTimeout(r, ms));
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );
  return server;
}

/** Starts the demo server on 127.0.0.1 (`port` 0 picks a free one). Resolves with its MCP URL. */
export async function startDemoServer(port = 0): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const handler = createMcpHandler(() => buildServer());
  const node = toNodeHandler(handler);
  const http = createServer((req, res) => {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end('not found\n');
      return;
    }
    node(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`demo server error: ${err.message}\n`);
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const { port: actual } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/mcp`,
    server: http,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
