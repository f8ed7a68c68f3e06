/**
 * Media types, parsed (RFC 9110 section 8.3.1) rather than matched with `includes('json')`:
 * `Application/JSON; charset=utf-8` is JSON, `application/jsonl` and `text/x-json-ish` are not.
 */

/** The media type of a Content-Type value, lower-cased without parameters; '' when absent. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** `application/json` or a structured `+json` type (RFC 6839), e.g. `application/problem+json`. */
export function isJsonType(contentType: string | undefined): boolean {
  const t = mediaType(contentType);
  return t === 'application/json' || (t.startsWith('application/') && t.endsWith('+json'));
}

/** `text/event-stream` (Server-Sent Events). */
export function isEventStream(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'text/event-stream';
}
