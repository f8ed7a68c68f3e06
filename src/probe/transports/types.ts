/**
 * The seam every transport opens through. A transport file exports one `TransportOpener`; the
 * session script (../session.ts) never asks which transport it drives, only for what this
 * interface offers: the SDK transport, what the HTTP wire saw, the child's stderr, and how to
 * free what the SDK's own close leaves behind.
 */
import type { Transport } from '@modelcontextprotocol/client';
import type { TargetConfig } from '../../config/schema.js';
import type { ResolvedTransport } from '../types.js';
import type { ProbeWire } from './http-wire.js';

export interface TransportContext {
  target: TargetConfig;
  /** Request headers, credentials included (HTTP transports). */
  headers: Record<string, string>;
  /** Aborts every request of the probe (its deadline, shutdown). */
  signal: AbortSignal;
  /** The server sent something that cannot be a JSON-RPC message (counted, named in the log). */
  onNoise(what: string): void;
}

export interface OpenedTransport {
  kind: ResolvedTransport;
  transport: Transport;
  /** What the HTTP wire saw: statuses, connection phases, certificate (HTTP transports). */
  wire?: ProbeWire;
  /** What the server wrote to stderr so far, bounded (stdio). */
  stderr(): string;
  /**
   * Called as closing starts, before the session ends; returns what cancels anything it set
   * going (stdio: SIGTERM, then SIGKILL, for a child that ignores a closed stdin).
   */
  onClosing(): () => void;
  /** Frees what the SDK's close leaves: sockets, a child that lingers. Never throws. */
  release(say: (line: string) => void): Promise<void>;
}

/** Builds the transport of one probe. Performs no I/O; throws only on local config problems. */
export type TransportOpener = (ctx: TransportContext) => OpenedTransport;
