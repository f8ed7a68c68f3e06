/**
 * The transparent MCP proxy of one target: a node:http server that forwards every request to
 * the target's origin (same path and query) with undici, streaming both ways, and observes the
 * JSON-RPC traffic without changing a byte. See ../../docs/internal-metrics.md.
 *
 * Contract: never buffers a response (SSE passes chunk by chunk); passes every end-to-end header
 * (Authorization included) and drops hop-by-hop ones (RFC 9110 section 7.6.1); answers a clean
 * 502 when the upstream cannot be reached; never logs a body; anything it cannot parse or that
 * is larger than `maxParseBytes` passes through untouched and is counted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { TargetConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createSseReader } from './sse.js';
import { TrafficObserver, type ProxySink } from './observer.js';
import { tlsConnectOptions } from '../net/tls.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
  'http2-settings',
]);

export interface ProxyOptions {
  target: TargetConfig;
  sink: ProxySink;
  logger: Logger;
}

export interface RunningProxy {
  address: { host: string; port: number };
  observer: TrafficObserver;
  /** Stops listening, cuts open streams, closes upstream connections. Never throws. */
  close(): Promise<void>;
}

/** Filters hop-by-hop headers (and those named in `Connection`) out of raw [name, value, ...] pairs. */
function endToEnd(raw: string[]): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'connection') {
      named ??= new Set();
      for (const t of (raw[i + 1] as string).split(',')) named.add(t.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(k) || named?.has(k)) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const named = headers.connection;
  const extra = typeof named === 'string' ? new Set(named.split(',').map((t) => t.trim().toLowerCase())) : undefined;
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || extra?.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The legacy HTTP+SSE session id from `/message?sessionId=…`, cheaply. */
function legacySessionId(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0 || !url.includes('sessionId=', q)) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('sessionId') ?? undefined;
}

let requestCounter = 0;

/** Starts the proxy of `target` (which must have `internal.proxy`). Rejects if it cannot listen. */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const { target, logger } = opts;
  const cfg = target.internal?.proxy;
  if (!cfg || !target.url) throw new Error(`target ${target.name} has no proxy config or url`);
  const upstream = new URL(target.url);
  const maxParse = cfg.maxParseBytes;
  const pool = new Pool(upstream.origin, {
    pipelining: 1,
    keepAliveTimeout: 60_000,
    // Tool calls may take minutes before the first header (JSON answers) and event streams idle
    // for long stretches: the agent's own timeouts govern, not ours.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: tlsConnectOptions(target.tls, 5000),
  });
  const observer = new TrafficObserver(opts.sink, {
    maxPending: cfg.maxPendingRequests,
    idleTimeoutMs: cfg.idleTimeoutMs,
  });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const sid = header(req.headers, 'mcp-session-id');
    const legacy = sid === undefined ? legacySessionId(url) : undefined;
    // The key answers are matched under: the session, or (no session) this one HTTP exchange.
    const session = sid !== undefined ? `s:${sid}` : legacy !== undefined ? `l:${legacy}` : `r:${++requestCounter}`;
    const hasSession = sid !== undefined || legacy !== undefined;
    if (hasSession) observer.touch(session, false);

    const controller = new AbortController();
    let done = false;
    res.on('close', () => {
      if (!done) controller.abort();
    });

    const forward = (body: Buffer | Readable | null, keys: string[], bodyMethod: string | undefined) => {
      pool
        .request({
          path: url,
          method: method as 'GET',
          headers: endToEnd(req.rawHeaders),
          body,
          signal: controller.signal,
        })
        .then(
          (up) => {
            const status = up.statusCode;
            const h = up.headers as Record<string, string | string[] | undefined>;
            up.body.on('error', () => {}); // a destroyed body reports an abort; handled below
            try {
              res.writeHead(status, responseHeaders(h));
            } catch {
              up.body.destroy();
              return;
            }
            // Session lifecycle, from what the server said.
            const newSid = header(h, 'mcp-session-id');
            if (sid === undefined && newSid !== undefined && status < 300) observer.touch(`s:${newSid}`, true);
            if (sid !== undefined && status < 300 && method !== 'DELETE') observer.touch(session, true); // adopt sessions opened before we started
            const endsSession = hasSession && (status === 404 || (method === 'DELETE' && status < 300));
            const ctype = header(h, 'content-type') ?? '';
            const isSse = ctype.startsWith('text/event-stream');
            const isJson = !isSse && ctype.includes('json');
            let legacyKey: string | undefined;
            const isGetStream = method === 'GET' && isSse;
            if (isGetStream && sid !== undefined) observer.stream(session, 1);
            // A message of this response passed unread (too large or not JSON): it may have been
            // the answer to a request of this exchange.
            let missed = false;
            const onMessages = (text: string) => {
              let parsed: unknown;
              try {
                parsed = JSON.parse(text);
              } catch {
                missed = true;
                observer.count('unparsable');
                return;
              }
              const key = legacyKey ?? session;
              if (Array.isArray(parsed)) for (const m of parsed) observer.serverMessage(key, m);
              else observer.serverMessage(key, parsed);
            };
            let feed: ((chunk: Buffer) => void) | undefined;
            let jsonChunks: Buffer[] | undefined;
            let jsonSize = 0;
            if (isSse) {
              const reader = createSseReader(
                (type, data) => {
                  if (type === 'endpoint') {
                    // Legacy HTTP+SSE: this GET stream is the session; its answers come here.
                    const id = legacySessionId(data);
                    if (id !== undefined) {
                      legacyKey = `l:${id}`;
                      observer.touch(legacyKey, true);
                      observer.stream(legacyKey, 1);
                    }
                    return;
                  }
                  onMessages(data);
                },
                maxParse,
                () => {
                  missed = true;
                  observer.count('too_large');
                },
              );
              feed = (c) => reader.feed(c);
            } else if (isJson && keys.length > 0) {
              jsonChunks = [];
              feed = (c) => {
                if (!jsonChunks) return;
                jsonSize += c.length;
                if (jsonSize > maxParse) {
                  jsonChunks = undefined;
                  missed = true;
                  observer.count('too_large');
                } else jsonChunks.push(c);
              };
            }
            const finish = (complete: boolean) => {
              if (done) return;
              done = true;
              if (jsonChunks && complete) onMessages(Buffer.concat(jsonChunks).toString('utf8'));
              if (status >= 400) for (const k of keys) observer.fail(k, `http_${status}`);
              if (endsSession) observer.endSession(session);
              for (const k of keys) {
                // Still pending after its exchange: a JSON body holds every answer of its POST, and
                // an SSE stream that skipped an unreadable message most likely carried it there.
                // Neither answer can be timed now; waiting on would keep the call "active" until
                // idle_timeout. Otherwise (a stream the server closed before answering, see
                // https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#resumability-and-redelivery)
                // the answer may still come on the session's GET stream.
                if (!hasSession || !complete || isJson || missed) observer.drop(k);
                else observer.detach(k);
              }
              if (bodyMethod !== undefined && keys.length === 0 && !hasSession)
                observer.operation(bodyMethod, status >= 400 ? `http_${status}` : '', t0);
              if (isGetStream && sid !== undefined) observer.stream(session, -1);
              if (legacyKey !== undefined) observer.endSession(legacyKey); // the legacy session lives as long as its stream
            };
            const body = up.body;
            body.on('data', (chunk: Buffer) => {
              if (feed) feed(chunk);
              if (!res.write(chunk)) body.pause();
            });
            res.on('drain', () => body.resume());
            body.on('end', () => {
              finish(true);
              res.end();
            });
            body.on('error', () => {
              finish(false);
              res.destroy();
            });
            res.on('close', () => {
              if (!done) {
                finish(false);
                body.destroy();
              }
            });
          },
          (err: Error & { code?: string }) => {
            done = true;
            for (const k of keys) observer.fail(k, 'http_502');
            if (bodyMethod !== undefined && keys.length === 0 && !hasSession)
              observer.operation(bodyMethod, 'http_502', t0);
            if (controller.signal.aborted) return; // the agent went away first
            logger.warn('proxy: upstream unavailable', { target: target.name, code: err.code ?? err.name });
            if (!res.headersSent) {
              res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
              res.end('mcpwatch proxy: upstream unavailable\n');
            } else res.destroy();
          },
        );
    };

    if (method !== 'POST') {
      forward(null, [], undefined);
      return;
    }
    // POST: read the JSON-RPC body (small) to learn ids and methods before forwarding; a body
    // past the parse limit is streamed on unparsed.
    const chunks: Buffer[] = [];
    let size = 0;
    const headerMethod = header(req.headers, 'mcp-method');
    const onData = (c: Buffer) => {
      size += c.length;
      chunks.push(c);
      if (size <= maxParse) return;
      req.off('data', onData);
      req.off('end', onEnd);
      req.pause();
      observer.count('too_large');
      async function* rest(): AsyncIterable<Buffer> {
        yield* chunks;
        for await (const more of req) yield more as Buffer;
      }
      forward(Readable.from(rest(), { objectMode: false }), [], headerMethod);
    };
    const onEnd = () => {
      const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const keys: string[] = [];
      let bodyMethod = headerMethod;
      try {
        const parsed: unknown = JSON.parse(buf.toString('utf8'));
        const msgs = Array.isArray(parsed) ? parsed : [parsed];
        for (const m of msgs) {
          const k = observer.clientMessage(session, m, t0);
          if (k !== undefined) keys.push(k);
        }
        bodyMethod = undefined;
      } catch {
        observer.count('unparsable');
      }
      forward(buf, keys, bodyMethod);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => controller.abort());
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // long-lived SSE requests are the agent's to end
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  logger.info('proxy listening', { target: target.name, address: `${addr.address}:${addr.port}` });
  return {
    address: { host: addr.address, port: addr.port },
    observer,
    async close() {
      observer.close(); // first: the exchanges cut below report nothing
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await pool.destroy().catch(() => {});
    },
  };
}
