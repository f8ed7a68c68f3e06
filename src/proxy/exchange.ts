/**
 * One HTTP exchange through the proxy: an agent's request forwarded to the upstream, its answer
 * streamed back, and what both say about the JSON-RPC traffic handed to the TrafficObserver.
 * Nothing here changes a byte; anything it cannot read passes through and is counted.
 *
 * `Exchange` is the request side (which session, which JSON-RPC ids, forward or 502);
 * `ResponseTap` reads the answer as it streams (JSON body or SSE events) and `Exchange.settle`
 * closes the books when the answer ends or is cut.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { Logger } from '../log/logger.js';
import { isEventStream, isJsonType } from '../net/content-type.js';
import { endToEnd, header, legacySessionId, responseHeaders } from './headers.js';
import type { TrafficObserver } from './observer.js';
import { createSseReader, type SseReader } from './sse.js';

/** What every exchange of one proxy shares. */
export interface ExchangeContext {
  pool: Pool;
  observer: TrafficObserver;
  logger: Logger;
  targetName: string;
  /** Bodies and events larger than this pass unparsed (`too_large`). */
  maxParseBytes: number;
}

/** The JSON-RPC requests of one POST: the pending keys to settle, or the method of an unreadable body. */
interface RequestBook {
  keys: string[];
  /** Method of a body that could not be read (from the `Mcp-Method` header), timed per exchange. */
  bodyMethod: string | undefined;
  /** Its tool (`Mcp-Name` of a `tools/call`). */
  bodyTool?: string;
}

let requestCounter = 0;

export class Exchange {
  private readonly t0 = performance.now();
  private readonly method: string;
  private readonly url: string;
  /** `Mcp-Session-Id` of a Streamable HTTP session. */
  private readonly sid: string | undefined;
  /** The key answers are matched under: the session, or (no session) this one HTTP exchange. */
  private readonly session: string;
  private readonly hasSession: boolean;
  private readonly controller = new AbortController();
  private done = false;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.sid = header(req.headers, 'mcp-session-id');
    const legacy = this.sid === undefined ? legacySessionId(this.url) : undefined;
    this.session =
      this.sid !== undefined ? `s:${this.sid}` : legacy !== undefined ? `l:${legacy}` : `r:${++requestCounter}`;
    this.hasSession = this.sid !== undefined || legacy !== undefined;
    if (this.hasSession) ctx.observer.touch(this.session, false);
    res.on('close', () => {
      if (!this.done) this.controller.abort();
    });
  }

  /** Forwards the request; a POST's JSON-RPC body is read first (when small enough). */
  start(): void {
    if (this.method !== 'POST') this.forward(null, { keys: [], bodyMethod: undefined });
    else this.readRequest();
  }

  /** Reads a POST body up to the parse limit; past it, streams the rest on unparsed. */
  private readRequest(): void {
    const { req, ctx } = this;
    const chunks: Buffer[] = [];
    let size = 0;
    const headerMethod = header(req.headers, 'mcp-method');
    const headerTool = headerMethod === 'tools/call' ? header(req.headers, 'mcp-name') : undefined;
    const onData = (c: Buffer) => {
      size += c.length;
      chunks.push(c);
      if (size <= ctx.maxParseBytes) return;
      req.off('data', onData);
      req.off('end', onEnd);
      req.pause();
      ctx.observer.count('too_large');
      async function* rest(): AsyncIterable<Buffer> {
        yield* chunks;
        for await (const more of req) yield more as Buffer;
      }
      this.forward(Readable.from(rest(), { objectMode: false }), {
        keys: [],
        bodyMethod: headerMethod,
        bodyTool: headerTool,
      });
    };
    const onEnd = () => {
      const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      this.forward(buf, { ...this.book(buf, headerMethod), bodyTool: headerTool });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => this.controller.abort());
  }

  /** Hands each JSON-RPC message of the body to the observer. */
  private book(buf: Buffer, headerMethod: string | undefined): RequestBook {
    const keys: string[] = [];
    try {
      const parsed: unknown = JSON.parse(buf.toString('utf8'));
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        const k = this.ctx.observer.clientMessage(this.session, m, this.t0);
        if (k !== undefined) keys.push(k);
      }
      return { keys, bodyMethod: undefined };
    } catch {
      this.ctx.observer.count('unparsable');
      return { keys, bodyMethod: headerMethod };
    }
  }

  private forward(body: Buffer | Readable | null, book: RequestBook): void {
    this.ctx.pool
      .request({
        path: this.url,
        method: this.method as Dispatcher.HttpMethod,
        headers: endToEnd(this.req.rawHeaders),
        body,
        signal: this.controller.signal,
      })
      .then(
        (up) => this.relay(up, book),
        (err: Error & { code?: string }) => this.unreachable(err, book),
      );
  }

  /** Streams the upstream's answer back, reading it on the way. */
  private relay(up: Dispatcher.ResponseData, book: RequestBook): void {
    const { res, ctx } = this;
    const status = up.statusCode;
    const h = up.headers as Record<string, string | string[] | undefined>;
    up.body.on('error', () => {}); // a destroyed body reports an abort; handled below
    try {
      res.writeHead(status, responseHeaders(h));
    } catch {
      up.body.destroy();
      return;
    }
    this.sessionLifecycle(status, header(h, 'mcp-session-id'));
    const tap = new ResponseTap(ctx, { status, contentType: header(h, 'content-type'), book, session: this.session });
    tap.isGetStream = this.method === 'GET' && tap.isSse;
    if (tap.isGetStream && this.sid !== undefined) ctx.observer.stream(this.session, 1);
    const body = up.body;
    body.on('data', (chunk: Buffer) => {
      tap.feed(chunk);
      if (!res.write(chunk)) body.pause();
    });
    res.on('drain', () => body.resume());
    body.on('end', () => {
      this.settle(tap, true);
      res.end();
    });
    body.on('error', () => {
      this.settle(tap, false);
      res.destroy();
    });
    res.on('close', () => {
      if (this.done) return;
      this.settle(tap, false);
      body.destroy();
    });
  }

  /** Sessions opened and adopted, from what the server said. */
  private sessionLifecycle(status: number, newSid: string | undefined): void {
    const { observer } = this.ctx;
    if (this.sid === undefined && newSid !== undefined && status < 300) observer.touch(`s:${newSid}`, true);
    // Adopt sessions opened before the proxy started.
    if (this.sid !== undefined && status < 300 && this.method !== 'DELETE') observer.touch(this.session, true);
  }

  /** The answer ended (`complete`) or was cut: settle every request of this exchange. */
  private settle(tap: ResponseTap, complete: boolean): void {
    if (this.done) return;
    this.done = true;
    const { observer } = this.ctx;
    const { status, book } = tap;
    if (complete) tap.flush();
    if (status >= 400) for (const k of book.keys) observer.fail(k, `http_${status}`);
    if (this.hasSession && (status === 404 || (this.method === 'DELETE' && status < 300)))
      observer.endSession(this.session);
    for (const k of book.keys) {
      // Still pending after its exchange: a JSON body holds every answer of its POST, and an SSE
      // stream that skipped an unreadable message most likely carried it there. Neither answer
      // can be timed now; waiting on would keep the call "active" until idle_timeout. Otherwise
      // (a stream the server closed before answering, see
      // https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#resumability-and-redelivery)
      // the answer may still come on the session's GET stream.
      if (!this.hasSession || !complete || tap.isJson || tap.missed) observer.drop(k);
      else observer.detach(k);
    }
    if (book.bodyMethod !== undefined && book.keys.length === 0 && !this.hasSession)
      observer.operation(book.bodyMethod, status >= 400 ? `http_${status}` : '', this.t0, book.bodyTool);
    if (tap.isGetStream && this.sid !== undefined) observer.stream(this.session, -1);
    // The legacy session lives as long as its stream.
    if (tap.legacyKey !== undefined) observer.endSession(tap.legacyKey);
  }

  /** The upstream could not be reached: a clean 502, and every request of this exchange failed. */
  private unreachable(err: Error & { code?: string }, book: RequestBook): void {
    const { observer, logger, targetName } = this.ctx;
    const res = this.res;
    this.done = true;
    for (const k of book.keys) observer.fail(k, 'http_502');
    if (book.bodyMethod !== undefined && book.keys.length === 0 && !this.hasSession)
      observer.operation(book.bodyMethod, 'http_502', this.t0, book.bodyTool);
    if (this.controller.signal.aborted) return; // the agent went away first
    logger.warn('proxy: upstream unavailable', { target: targetName, code: err.code ?? err.name });
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('mcpwatch proxy: upstream unavailable\n');
    } else res.destroy();
  }
}

interface TapInit {
  status: number;
  contentType: string | undefined;
  book: RequestBook;
  /** The exchange's session key, where answers are matched. */
  session: string;
}

/** Reads one answer as it streams past: a JSON body (buffered up to the limit) or SSE events. */
class ResponseTap {
  readonly status: number;
  readonly book: RequestBook;
  readonly isSse: boolean;
  readonly isJson: boolean;
  isGetStream = false;
  /** A legacy HTTP+SSE stream: the session it opened (from its `endpoint` event). */
  legacyKey: string | undefined;
  /** A message of this answer passed unread (too large or not JSON): it may have been an answer. */
  missed = false;
  private readonly session: string;
  private readonly sse: SseReader | undefined;
  private json: Buffer[] | undefined;
  private jsonSize = 0;

  constructor(
    private readonly ctx: ExchangeContext,
    init: TapInit,
  ) {
    this.status = init.status;
    this.book = init.book;
    this.session = init.session;
    this.isSse = isEventStream(init.contentType);
    this.isJson = !this.isSse && isJsonType(init.contentType);
    if (this.isSse) {
      this.sse = createSseReader(
        (type, data) => this.event(type, data),
        ctx.maxParseBytes,
        () => this.tooLarge(),
      );
    } else if (this.isJson && init.book.keys.length > 0) this.json = [];
  }

  feed(chunk: Buffer): void {
    if (this.sse) return this.sse.feed(chunk);
    if (!this.json) return;
    this.jsonSize += chunk.length;
    if (this.jsonSize > this.ctx.maxParseBytes) {
      this.json = undefined;
      this.tooLarge();
    } else this.json.push(chunk);
  }

  /** The answer ended whole: read the buffered JSON body. */
  flush(): void {
    if (this.json) this.messages(Buffer.concat(this.json).toString('utf8'));
  }

  private tooLarge(): void {
    this.missed = true;
    this.ctx.observer.count('too_large');
  }

  private event(type: string, data: string): void {
    if (type !== 'endpoint') return this.messages(data);
    // Legacy HTTP+SSE: this GET stream is the session; its answers come here.
    const id = legacySessionId(data);
    if (id === undefined) return;
    this.legacyKey = `l:${id}`;
    this.ctx.observer.touch(this.legacyKey, true);
    this.ctx.observer.stream(this.legacyKey, 1);
  }

  private messages(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.missed = true;
      this.ctx.observer.count('unparsable');
      return;
    }
    const key = this.legacyKey ?? this.session;
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) this.ctx.observer.serverMessage(key, m);
  }
}
