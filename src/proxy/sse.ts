/**
 * An incremental, bounded Server-Sent Events reader for the proxy: fed raw chunks as they pass
 * through, it calls `onEvent` with each complete event's type and data. It only observes; the
 * bytes it reads are forwarded unchanged by the caller.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { StringDecoder } from 'node:string_decoder';

export interface SseReader {
  /** Feeds one chunk. Never throws. */
  feed(chunk: Buffer): void;
}

/**
 * Creates a reader. An event whose data grows past `maxEventBytes` is skipped (reported through
 * `onOversize` once) and reading resumes at the next event.
 */
export function createSseReader(
  onEvent: (type: string, data: string) => void,
  maxEventBytes: number,
  onOversize: () => void,
): SseReader {
  const decoder = new StringDecoder('utf8'); // a character split across chunks stays whole
  let partial = ''; // an incomplete line carried over between chunks
  let data: string[] = [];
  let dataBytes = 0;
  let type = '';
  let skipping = false;
  const dispatch = () => {
    // An event whose data buffer is empty is not dispatched (WHATWG, "dispatch the event" step
    // 1): the priming event a resumable server sends before its answer (id, empty data) is
    // neither a message nor unparsable.
    const text = data.join('\n');
    if (!skipping && text !== '') onEvent(type || 'message', text);
    data = [];
    dataBytes = 0;
    type = '';
    skipping = false;
  };
  const line = (l: string) => {
    if (l === '') return dispatch();
    if (skipping || l.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      dataBytes += value.length;
      if (dataBytes > maxEventBytes) {
        skipping = true;
        data = [];
        onOversize();
        return;
      }
      data.push(value);
    } else if (field === 'event') type = value;
  };
  return {
    feed(chunk) {
      try {
        const text = partial + decoder.write(chunk);
        let start = 0;
        for (let i = 0; i < text.length; i++) {
          const c = text.charCodeAt(i);
          if (c !== 10 && c !== 13) continue;
          line(text.slice(start, i));
          if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
          start = i + 1;
        }
        partial = text.slice(start);
        if (partial.length > maxEventBytes) {
          // A line longer than the limit: drop it and the rest of its event.
          partial = '';
          if (!skipping) onOversize();
          skipping = true;
          data = [];
        }
      } catch {
        /* observing never breaks forwarding */
      }
    },
  };
}
