/** Streamable HTTP (MCP 2025-03-26 and later): one POST per message over the probe's own wire. */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createProbeWire } from './http-wire.js';
import type { TransportOpener } from './types.js';

export const openStreamableHttp: TransportOpener = ({ target, headers, signal }) => {
  // The standalone GET event stream carries server-initiated messages a probe never reads.
  const url = new URL(target.url ?? '');
  const wire = createProbeWire(target, signal, { localGetStream: true });
  const transport = new StreamableHTTPClientTransport(url, {
    fetch: wire.fetch,
    requestInit: { headers },
  });
  return {
    kind: 'streamable-http',
    transport,
    wire,
    stderr: () => '',
    onClosing: () => () => {},
    release: () => wire.close(),
  };
};
