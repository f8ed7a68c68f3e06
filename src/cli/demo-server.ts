/**
 * The built-in demo MCP server behind `mcpwatch --demo`: a real server built with the official
 * SDK (`@modelcontextprotocol/server`), serving both protocol eras over Streamable HTTP on
 * 127.0.0.1, with three small tools. It exists so a newcomer sees real metrics at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';

function buildServer(): McpServer {
  const server = new McpServer({ name: 'mcpwatch-demo', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes the message back.', inputSchema: z.object({ message: z.string() }) }, async ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }));
  server.registerTool('add', { description: 'Adds two numbers.', inputSchema: z.object({ a: z.number(), b: z.number() }) }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool(
    'sleep',
    { description: 'Waits for the given number of milliseconds (at most 10 s).', inputSchema: z.object({ ms: z.number().min(0).max(10_000) }) },
    async ({ ms }) => {
      await new Promise((r) => setTimeout(r, ms));
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );
  return server;
}

async function toWebRequest(req: IncomingMessage, base: string): Promise<Request> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1024 * 1024) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
  return new Request(new URL(req.url ?? '/', base), { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
}

/** Starts the demo server on 127.0.0.1 (`port` 0 picks a free one). Resolves with its MCP URL. */
export async function startDemoServer(port = 0): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const handler = createMcpHandler(() => buildServer());
  const http = createServer((req, res) => {
    void (async () => {
      try {
        if (!req.url?.startsWith('/mcp')) {
          res.writeHead(404).end('not found\n');
          return;
        }
        const response = await handler.fetch(await toWebRequest(req, 'http://127.0.0.1'));
        res.writeHead(response.status, Object.fromEntries(response.headers));
        if (response.body) {
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
        }
        res.end();
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`demo server error: ${(err as Error).message}\n`);
      }
    })();
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
