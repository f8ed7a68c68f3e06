/**
 * The transport table: one opener per transport a target can name. Adding a transport is one
 * new file beside this one and one line here (the Record makes the compiler ask for it once the
 * name is in config/transports.ts).
 */
import type { ResolvedTransport } from '../types.js';
import { openSse } from './sse.js';
import { openStdio } from './stdio.js';
import { openStreamableHttp } from './streamable-http.js';
import type { OpenedTransport, TransportContext, TransportOpener } from './types.js';

export type { OpenedTransport, TransportContext, TransportOpener } from './types.js';

const OPENERS: Record<ResolvedTransport, TransportOpener> = {
  'streamable-http': openStreamableHttp,
  sse: openSse,
  stdio: openStdio,
};

/** Builds the transport of one probe (no I/O yet). */
export function openTransport(kind: ResolvedTransport, ctx: TransportContext): OpenedTransport {
  return OPENERS[kind](ctx);
}
