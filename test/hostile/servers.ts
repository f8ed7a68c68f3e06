/**
 * The hostile catalogue: real servers misbehaving on the wire (raw node:http, node:net and child
 * processes), each paired with the failure reason a probe must report. Every server listens on
 * 127.0.0.1:0 and its close() destroys every socket it accepted.
 */
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { fileURLToPath } from 'node:url';
import { listenTracked, type Fixture } from '../fixtures/net.js';
import type { FailureReason } from '../../src/probe/types.js';

/** One catalogue case: how to start the misbehaving server and what a probe must say about it. */
export interface HostileCase {
  name: string;
  reason: FailureReason | 'success';
  /** Extra target YAML fields (timeout, max_response_bytes…). */
  fields?: Record<string, unknown>;
  /** Fails fast (well under the timeout): used by the leak test. */
  fast: boolean;
  start(): Promise<HostileServer>;
}

/** A started hostile server: either a URL or a stdio command, plus close(). */
export interface HostileServer extends Partial<Fixture> {
  url?: string;
  command?: string;
  args?: string[];
  close(): Promise<void>;
}

const STDIO_DIR = fileURLToPath(new URL('./stdio/', import.meta.url));

/** A stdio case: a node script of stdio/. */
function stdioScript(file: string): () => Promise<HostileServer> {
  return async () => ({ command: process.execPath, args: [`${STDIO_DIR}${file}`], close: async () => {} });
}

async function rawTcp(onSocket: (s: Socket) => void): Promise<HostileServer> {
  const server = createNetServer((s) => {
    s.on('error', () => {});
    onSocket(s);
  });
  const { port, close } = await listenTracked(server);
  return { url: `http://127.0.0.1:${port}/mcp`, close };
}

/** Options of the raw servers: TLS (an https server) and a guard run before the handler. */
export interface RawServerOptions {
  tls?: HttpsServerOptions;
  /** Answers the request itself (returns true) or lets the handler answer (false). */
  guard?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean;
}

/** A raw node:http (or node:https) server on 127.0.0.1:0; `handler` gets the whole request body. */
export async function rawHttp(
  handler: (req: IncomingMessage, res: ServerResponse, body: string, port: number) => void,
  opts: RawServerOptions = {},
): Promise<HostileServer> {
  let port = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (opts.guard?.(req, res, body)) return;
      handler(req, res, body, port);
    });
  };
  const server = opts.tls ? createHttpsServer(opts.tls, onRequest) : createServer(onRequest);
  server.on('tlsClientError', () => {});
  // Keep-alive sockets of the fixture must not keep the test alive; listenTracked destroys them.
  const tracked = await listenTracked(server);
  port = tracked.port;
  return { url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`, close: tracked.close };
}

type JsonRpcMessage = {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
};

const INIT_RESULT = {
  protocolVersion: '2025-06-18',
  capabilities: { tools: {} },
  serverInfo: { name: 'hostile', version: '6.6.6' },
};

/**
 * A hand-written Streamable HTTP JSON-RPC server answering with plain JSON. `answer` returns the
 * result (or a full message when it has `jsonrpc`) for a request; `undefined` means "method not
 * found". `server/discover` is refused so a client negotiates the initialize era.
 */
export function jsonRpcServer(
  answer: (msg: JsonRpcMessage) => unknown,
  opts: RawServerOptions = {},
): Promise<HostileServer> {
  return rawHttp((req, res, body) => {
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    let msg: JsonRpcMessage;
    try {
      msg = JSON.parse(body) as JsonRpcMessage;
    } catch {
      return void res.writeHead(400).end();
    }
    if (msg.id === undefined) return void res.writeHead(202).end();
    const out = msg.method === 'server/discover' ? undefined : answer(msg);
    const reply =
      out === undefined
        ? { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } }
        : typeof out === 'object' && out !== null && 'jsonrpc' in out
          ? out
          : { jsonrpc: '2.0', id: msg.id, result: out };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  }, opts);
}

/** A well-behaved server (initialize, two tools, `echo`) for auth and TLS tests. */
export function healthyServer(opts: RawServerOptions = {}): Promise<HostileServer> {
  return jsonRpcServer((msg) => {
    if (msg.method === 'initialize') return INIT_RESULT;
    if (msg.method === 'tools/list')
      return {
        tools: [
          { name: 'echo', inputSchema: { type: 'object' } },
          { name: 'add', inputSchema: { type: 'object' } },
        ],
      };
    if (msg.method === 'tools/call') {
      const args = (msg.params?.arguments ?? {}) as Record<string, unknown>;
      return { content: [{ type: 'text', text: `echo: ${String(args.message ?? '')}` }] };
    }
    return undefined;
  }, opts);
}

/** Answers `initialize` normally and `tools/list` with `tools`. */
function listingServer(listAnswer: (msg: JsonRpcMessage) => unknown): Promise<HostileServer> {
  return jsonRpcServer((msg) =>
    msg.method === 'initialize' ? INIT_RESULT : msg.method === 'tools/list' ? listAnswer(msg) : undefined,
  );
}

/** Every timer a hostile server starts, so close() can stop it. */
function withTimers(start: (timers: Set<NodeJS.Timeout>) => Promise<HostileServer>): () => Promise<HostileServer> {
  return async () => {
    const timers = new Set<NodeJS.Timeout>();
    const s = await start(timers);
    return {
      ...s,
      close: async () => {
        for (const t of timers) clearInterval(t);
        await s.close();
      },
    };
  };
}

const TIMEOUT = { timeout: '2s' };

/** The catalogue. Expected reasons are documented in docs/failure-reasons.md. */
export const HOSTILE_CASES: HostileCase[] = [
  {
    name: 'no answer after accept',
    reason: 'timeout',
    fields: TIMEOUT,
    fast: false,
    start: () => rawTcp(() => {}),
  },
  {
    name: 'headers then no body',
    reason: 'timeout',
    fields: TIMEOUT,
    fast: false,
    start: () =>
      rawHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
      }),
  },
  {
    name: 'body drips a byte a second',
    reason: 'timeout',
    fields: TIMEOUT,
    fast: false,
    start: withTimers((timers) =>
      rawHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const t = setInterval(() => res.write(' '), 1000);
        timers.add(t);
        res.on('close', () => clearInterval(t));
      }),
    ),
  },
  {
    name: '200 MB body',
    reason: 'response_too_large',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      rawHttp((_req, res) => {
        // Chunked, no content-length: the limit must be enforced while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = (200 * 1024 * 1024) / chunk.length;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
      }),
  },
  {
    name: '200 MB declared content-length',
    reason: 'response_too_large',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      rawHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * 1024 * 1024) });
        res.write('{"jsonrpc":"2.0"');
      }),
  },
  {
    name: 'malformed JSON',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      rawHttp(
        (_req, res) =>
          void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end('{"jsonrpc": "2.0", "id": 1, "result": {'),
      ),
  },
  {
    name: 'JSON that is not JSON-RPC',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      rawHttp(
        (_req, res) =>
          void res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world","status":"ok"}'),
      ),
  },
  {
    name: 'JSON-RPC answer with the wrong id',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: false,
    start: () => jsonRpcServer((msg) => ({ jsonrpc: '2.0', id: `${String(msg.id)}-not-yours`, result: INIT_RESULT })),
  },
  {
    name: 'initialize result with missing fields',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: true,
    start: () => jsonRpcServer((msg) => (msg.method === 'initialize' ? { capabilities: {} } : undefined)),
  },
  {
    name: 'tools/list nextCursor never ends',
    reason: 'invalid_response',
    fields: { ...TIMEOUT, max_tool_pages: 5 },
    fast: true,
    start: () => {
      let n = 0;
      return listingServer(() => ({
        tools: [{ name: `t${n++}`, inputSchema: { type: 'object' } }],
        nextCursor: `c${n}`,
      }));
    },
  },
  {
    // The SDK ends the walk when a page repeats its cursor and content: bounded, and lenient.
    name: 'tools/list same cursor and page forever',
    reason: 'success',
    fields: { ...TIMEOUT, max_tool_pages: 5 },
    fast: true,
    start: () => listingServer(() => ({ tools: [], nextCursor: 'again' })),
  },
  {
    name: 'duplicate tool names',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      listingServer(() => ({
        tools: [
          { name: 'search', inputSchema: { type: 'object' } },
          { name: 'search', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
        ],
      })),
  },
  {
    name: 'redirect loop',
    reason: 'http_status',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      rawHttp((req, res) => void res.writeHead(307, { location: req.url === '/mcp' ? '/mcp2' : '/mcp' }).end()),
  },
  {
    name: 'redirect to another host',
    reason: 'http_status',
    fields: TIMEOUT,
    fast: true,
    // localhost vs 127.0.0.1 is another origin: the probe must not follow it.
    start: () =>
      rawHttp(
        (_req, res, _body, port) => void res.writeHead(307, { location: `http://localhost:${port}/elsewhere` }).end(),
      ),
  },
  {
    name: 'connection reset mid-body',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: true,
    start: () =>
      rawHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
        res.write('{"jsonrpc":"2.0","id":');
        setTimeout(() => res.socket?.resetAndDestroy(), 20);
      }),
  },
  {
    name: 'SSE comments forever',
    reason: 'timeout',
    fields: TIMEOUT,
    fast: false,
    start: withTimers((timers) =>
      rawHttp((req, res) => {
        if (req.method !== 'POST') return void res.writeHead(405).end();
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const t = setInterval(() => res.write(': still thinking\n\n'), 50);
        timers.add(t);
        res.on('close', () => clearInterval(t));
      }),
    ),
  },
  {
    name: 'stdio garbage on stdout',
    reason: 'invalid_response',
    fields: TIMEOUT,
    fast: false,
    start: stdioScript('garbage.mjs'),
  },
  {
    name: 'stdio exits at once',
    reason: 'connect',
    fields: TIMEOUT,
    fast: true,
    start: stdioScript('exit-at-once.mjs'),
  },
  {
    name: 'stdio ignores SIGTERM',
    reason: 'success',
    fields: TIMEOUT,
    fast: false,
    start: stdioScript('ignore-sigterm.mjs'),
  },
];

/** Target fields for a started server (URL or stdio command) plus the case's own fields. */
export function targetFields(name: string, c: HostileCase, s: HostileServer): Record<string, unknown> {
  const where = s.url
    ? { url: s.url, transport: 'streamable-http' }
    : { transport: 'stdio', command: s.command, args: s.args };
  return { name, ...where, ...c.fields };
}
