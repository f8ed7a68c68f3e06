/**
 * A WHATWG-`Response`-shaped answer over undici's `request()`, for the MCP SDK's transports.
 *
 * Why not undici `fetch()`: for the few small JSON bodies of a probe, fetch's Request/Response
 * objects, web streams and abort plumbing cost more CPU than the HTTP exchange itself
 * (bench/probe-cost.ts measures both). The SDK reads `ok`, `status`, `statusText`, `headers.get`,
 * `text()`, `json()` and, for event streams only, `body`; this class gives exactly that and makes
 * a web stream only when `body` is read. Every read is bounded by the probe's body limit.
 */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { readBounded, tooLargeError } from '../../net/body.js';

/** Raw response headers as undici's `request()` returns them (lower-case names). */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** The read side of WHATWG `Headers`: lower-case names, repeated values joined by ", ". */
export class WireHeaders implements Iterable<[string, string]> {
  readonly #map = new Map<string, string>();

  constructor(raw: RawHeaders) {
    for (const name of Object.keys(raw)) {
      const value = raw[name];
      if (value === undefined) continue;
      this.#map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }

  forEach(callback: (value: string, name: string, parent: WireHeaders) => void): void {
    for (const [name, value] of this.#map) callback(value, name, this);
  }

  entries(): IterableIterator<[string, string]> {
    return this.#map.entries();
  }

  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  values(): IterableIterator<string> {
    return this.#map.values();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#map.entries();
  }

  /** As an object, e.g. for `lastErrorHeaders`. */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.#map);
  }
}

function ignore(): void {}

/** Drops a leading BOM and replaces invalid sequences, like `Response.text()`. */
const utf8 = new TextDecoder('utf-8');

/** Called when a body grows past the limit (before the error is thrown). */
export type OnTooLarge = () => void;

/** What one answer is made of: where it came from, its status line, headers and body. */
export interface WireResponseInit {
  url: string;
  status: number;
  statusText?: string;
  headers: RawHeaders;
  body: Readable | null;
}

/** How bodies are bounded: the byte limit, and who hears when a body passes it. */
export interface BodyLimit {
  maxBytes: number;
  onTooLarge: OnTooLarge;
}

export class WireResponse {
  readonly url: string;
  readonly status: number;
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: WireHeaders;
  readonly type = 'basic';
  readonly redirected = false;
  readonly #node: Readable | null;
  readonly #limit: number;
  readonly #onTooLarge: OnTooLarge;
  #web: ReadableStream<Uint8Array> | undefined;
  #used = false;

  constructor({ url, status, statusText, headers, body }: WireResponseInit, limit: BodyLimit) {
    this.url = url;
    this.status = status;
    this.ok = status >= 200 && status < 300;
    this.statusText = statusText || (STATUS_CODES[status] ?? '');
    this.headers = new WireHeaders(headers);
    // A body nobody reads may still fail (the probe's deadline aborts it, the wire closes): a
    // stream 'error' without a listener would be an uncaught exception. Readers still see the
    // error through their iterator or web stream.
    body?.on('error', ignore);
    this.#node = body;
    this.#limit = limit.maxBytes;
    this.#onTooLarge = limit.onTooLarge;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** The body as a web stream (made on first read), bounded by the limit. */
  get body(): ReadableStream<Uint8Array> | null {
    if (!this.#node) return null;
    if (!this.#web && this.#node.errored) {
      // Aborted before anyone read it: a web stream made now would look cleanly ended.
      const reason = this.#node.errored;
      this.#used = true;
      this.#web = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.error(reason);
        },
      });
    }
    if (!this.#web) {
      this.#used = true;
      let seen = 0;
      const limit = this.#limit;
      const onTooLarge = this.#onTooLarge;
      this.#web = (Readable.toWeb(this.#node) as ReadableStream<Uint8Array>).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += chunk.byteLength;
            if (seen > limit) {
              onTooLarge();
              controller.error(tooLargeError(limit));
              return;
            }
            controller.enqueue(chunk);
          },
        }),
      );
    }
    return this.#web;
  }

  /** UTF-8, a leading byte-order mark dropped (as WHATWG `Response.text()` does). */
  async text(): Promise<string> {
    return utf8.decode(await this.#bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  clone(): never {
    throw new TypeError('a probe response cannot be cloned');
  }

  async #bytes(): Promise<Buffer> {
    const node = this.#node;
    if (!node) return Buffer.alloc(0);
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    const bytes = await readBounded(node, this.#limit, this.#onTooLarge);
    // Let undici finish the exchange (mark the connection free) before the caller's next
    // request: sent in the same tick, that request would open a second connection.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return bytes;
  }
}

/** Request headers from any `HeadersInit` as a plain object with lower-case names. */
export function plainHeaders(init: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  if (Array.isArray(init)) {
    for (const [name, value] of init as Array<[string, string]>) out[name.toLowerCase()] = value;
  } else if (typeof (init as Headers).forEach === 'function') {
    (init as Headers).forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
  } else {
    for (const [name, value] of Object.entries(init as Record<string, string>)) out[name.toLowerCase()] = value;
  }
  return out;
}
