/**
 * The transparent MCP proxy of one target: a node:http server that forwards every request to
 * the target's origin (same path and query) with undici, streaming both ways, and observes the
 * JSON-RPC traffic without changing a byte (one `Exchange` per request, ./exchange.ts). See
 * ../../docs/internal-metrics.md.
 *
 * Contract: never buffers a response (SSE passes chunk by chunk); passes every end-to-end header
 * (Authorization included) and drops hop-by-hop ones (RFC 9110 section 7.6.1); answers a clean
 * 502 when the upstream cannot be reached; never logs a body; anything it cannot parse or that
 * is larger than `maxParseBytes` passes through untouched and is counted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { TargetConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { tlsConnectOptions } from '../net/tls.js';
import { Exchange, type ExchangeContext } from './exchange.js';
import { TrafficObserver, type ProxySink } from './observer.js';

export interface ProxyOptions {
  target: TargetConfig;
  sink: ProxySink;
  logger: Logger;
}

export interface RunningProxy {
  address: { host: string; port: number };
  observer: TrafficObserver;
  /** Stops listening, cuts open streams, closes upstream connections. Never throws. */
  close(): Promise<void>;
}

/** Starts the proxy of `target` (which must have `internal.proxy`). Rejects if it cannot listen. */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const { target, logger } = opts;
  const cfg = target.internal?.proxy;
  if (!cfg || !target.url) throw new Error(`target ${target.name} has no proxy config or url`);
  const upstream = new URL(target.url);
  const pool = new Pool(upstream.origin, {
    pipelining: 1,
    keepAliveTimeout: 60_000,
    // Tool calls may take minutes before the first header (JSON answers) and event streams idle
    // for long stretches: the agent's own timeouts govern, not ours.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: tlsConnectOptions(target.tls, 5000),
  });
  const observer = new TrafficObserver(opts.sink, {
    maxPending: cfg.maxPendingRequests,
    idleTimeoutMs: cfg.idleTimeoutMs,
  });

  const ctx: ExchangeContext = { pool, observer, logger, targetName: target.name, maxParseBytes: cfg.maxParseBytes };
  const server: Server = createServer((req, res) => new Exchange(ctx, req, res).start());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // long-lived SSE requests are the agent's to end
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  logger.info('proxy listening', { target: target.name, address: `${addr.address}:${addr.port}` });
  return {
    address: { host: addr.address, port: addr.port },
    observer,
    async close() {
      observer.close(); // first: the exchanges cut below report nothing
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await pool.destroy().catch(() => {});
    },
  };
}
