/**
 * The one bounded body reader. Every body mcpwatch reads whole (probe answers, scraped
 * metrics, OAuth token responses) goes through `readBounded`: a body whose declared
 * `content-length` is over the limit is refused before a byte is read, and a body that grows
 * past it while streaming stops at the first chunk over, with the stream destroyed. The proxy
 * is the one reader that does not use it: it must pass bodies of any size through untouched,
 * and only buffers up to its parse limit beside them (proxy/proxy.ts).
 */
import { McpwatchError } from './errors.js';

/** The error of a body over its limit (code `response_too_large`). */
export function tooLargeError(limit: number): McpwatchError {
  return new McpwatchError('response_too_large', `response body exceeded ${limit} bytes`);
}

/** The declared `content-length` when it is over `limit`, else undefined. */
export function declaredOverLimit(
  headers: Record<string, string | string[] | undefined>,
  limit: number,
): number | undefined {
  const declared = Number(headers['content-length']);
  return Number.isFinite(declared) && declared > limit ? declared : undefined;
}

/** A readable body: a Node stream or a web stream (both async-iterable), optionally destroyable. */
export type BodySource = AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void };

/**
 * Reads `body` whole, at most `limit` bytes. Over the limit: calls `onTooLarge`, destroys the
 * stream and throws a `response_too_large` McpwatchError. Other stream errors pass through.
 */
export async function readBounded(body: BodySource, limit: number, onTooLarge?: () => void): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      onTooLarge?.();
      body.destroy?.();
      throw tooLargeError(limit);
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1 && Buffer.isBuffer(chunks[0])) return chunks[0];
  return Buffer.concat(chunks, size);
}
