/** Transports a target can name in `transport:`; `auto` resolves to one of the others at probe time. */
export const TRANSPORTS = ['auto', 'streamable-http', 'sse', 'stdio'] as const;
export type TransportName = (typeof TRANSPORTS)[number];
