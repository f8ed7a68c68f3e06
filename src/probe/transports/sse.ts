/** Legacy HTTP+SSE (MCP 2024-11-05): answers arrive on a GET event stream, requests are POSTed. */
import { SSEClientTransport } from '@modelcontextprotocol/client';
import { createProbeWire } from './http-wire.js';
import type { TransportOpener } from './types.js';

export const openSse: TransportOpener = ({ target, headers, signal }) => {
  // The GET stream carries the answers here: it goes out (no local 405).
  const url = new URL(target.url ?? '');
  const wire = createProbeWire(target, signal);
  // The SSE transport sends requestInit's headers on the event-stream GET too.
  const transport = new SSEClientTransport(url, { fetch: wire.fetch, requestInit: { headers } });
  return {
    kind: 'sse',
    transport,
    wire,
    stderr: () => '',
    onClosing: () => () => {},
    release: () => wire.close(),
  };
};
