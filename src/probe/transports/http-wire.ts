/**
 * The HTTP layer under one probe: a fresh undici Agent whose connector times DNS, TCP and TLS,
 * reads the peer certificate, and a `fetch` for the MCP SDK's transports that records every
 * status, bounds every body, and never lets a connection outlive the probe.
 *
 * Why a fresh Agent per probe: connection-level faults (refused, reset, TLS) and connection
 * phase timings are only visible on new connections. See ../../docs/metrics.md.
 */
import { performance } from 'node:perf_hooks';
import type { TLSSocket, PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import type { Socket } from 'node:net';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import type { TargetConfig } from '../../config/schema.js';
import { WireResponse, plainHeaders, type BodyLimit, type RawHeaders } from './wire-response.js';
import { declaredOverLimit, tooLargeError } from '../../net/body.js';
import { tlsConnectOptions } from '../../net/tls.js';
import { VERSION } from '../../version.js';

/** What the wire saw during one probe; read by classify() and the recorder. */
export interface WireObservations {
  /** Last HTTP status received (0: none yet). */
  lastStatus: number;
  /** Response headers of the last non-2xx answer, lower-cased names (for auth challenges). */
  lastErrorHeaders?: Record<string, string>;
  /** First connection's phases, seconds. */
  dnsSeconds?: number;
  connectSeconds?: number;
  tlsSeconds?: number;
  /** Earliest `notAfter` in the peer chain, unix seconds. */
  certExpirySeconds?: number;
  /** A body grew past the limit. */
  tooLarge: boolean;
  /** The first connection-level error (DNS, TCP, TLS), as Node raised it. */
  connectError?: NodeJS.ErrnoException;
  /** Which phase the connection error happened in. */
  connectErrorPhase?: 'dns' | 'connect' | 'tls';
  /** The first MAX_RECORDED_REQUESTS requests made, in order: method and status (debug log). */
  requests: Array<{ method: string; status: number; ms: number }>;
  /** All requests made (a server may make the SDK reconnect over and over). */
  requestCount: number;
}

export interface ProbeWire {
  fetch: (url: string | URL, init?: RequestInit) => Promise<Response>;
  observations: WireObservations;
  /** Destroys every socket of this probe. Never throws. */
  close(): Promise<void>;
}

function earliestExpiry(cert: DetailedPeerCertificate | PeerCertificate | undefined): number | undefined {
  let earliest: number | undefined;
  const seen = new Set<unknown>();
  let c = cert as DetailedPeerCertificate | undefined;
  while (c && !seen.has(c) && c.valid_to) {
    seen.add(c);
    const t = Date.parse(c.valid_to) / 1000;
    if (Number.isFinite(t) && (earliest === undefined || t < earliest)) earliest = t;
    c = c.issuerCertificate;
  }
  return earliest;
}

/** How long the DELETE that ends a session may take, whatever the probe's deadline. */
const SESSION_END_TIMEOUT_MS = 1500;

/** Requests kept for the debug log of one probe. */
const MAX_RECORDED_REQUESTS = 32;

/** Sent when the target sets none: some WAFs and CDNs refuse requests without a User-Agent. */
const USER_AGENT = `mcpwatch/${VERSION}`;

export interface ProbeWireOptions {
  /**
   * Answer a GET of the MCP endpoint locally with 405: the Streamable HTTP transport's standalone
   * event stream for server-initiated messages, which a one-shot probe never reads. Off for
   * legacy SSE, whose GET stream carries the answers.
   */
  localGetStream?: boolean;
}

/**
 * Builds the wire for one probe of `target`. `signal` aborts every request of the probe.
 * Throws only for local config problems (unreadable TLS files).
 */
export function createProbeWire(target: TargetConfig, signal: AbortSignal, options: ProbeWireOptions = {}): ProbeWire {
  const obs: WireObservations = { lastStatus: 0, tooLarge: false, requests: [], requestCount: 0 };
  const connectTimeout = Math.max(1, target.timeoutMs);
  const agent = new Agent({
    connect: observingConnector(buildConnector(tlsConnectOptions(target.tls, connectTimeout)), obs),
    connections: 4,
    pipelining: 1,
    keepAliveTimeout: connectTimeout,
    headersTimeout: connectTimeout,
    bodyTimeout: connectTimeout,
  });
  const probeFetch = wireFetch({ agent, obs, signal, target, localGetStream: options.localGetStream === true });
  return {
    fetch: probeFetch as unknown as ProbeWire['fetch'],
    observations: obs,
    async close() {
      await agent.destroy().catch(() => {});
    },
  };
}

/**
 * Wraps undici's connector: times DNS, TCP and TLS of the first connection, keeps the first
 * connection-level error with the phase it happened in, and reads the peer chain's expiry.
 */
function observingConnector(baseConnect: buildConnector.connector, obs: WireObservations): buildConnector.connector {
  let first = true;
  return (opts, callback) => {
    const isFirst = first;
    first = false;
    const t0 = performance.now();
    let tLookup: number | undefined;
    let tConnect: number | undefined;
    let phase: 'dns' | 'connect' | 'tls' = opts.hostname && /^[\d.]+$|:/.test(opts.hostname) ? 'connect' : 'dns';
    const socket = baseConnect(opts, (err, sock) => {
      if (err) {
        if (!obs.connectError) {
          obs.connectError = err as NodeJS.ErrnoException;
          obs.connectErrorPhase = phase;
        }
      } else if (isFirst) {
        const tEnd = performance.now();
        const tcpEnd = tConnect ?? tEnd;
        const lookupEnd = tLookup ?? t0;
        obs.dnsSeconds = (lookupEnd - t0) / 1000;
        obs.connectSeconds = (tcpEnd - lookupEnd) / 1000;
        if (opts.protocol === 'https:') obs.tlsSeconds = (tEnd - tcpEnd) / 1000;
      }
      if (err) callback(err, null);
      else callback(null, sock as Socket);
    }) as unknown as Socket; // undici's connector returns the socket; its typings say void
    socket.once('lookup', (err: Error | null) => {
      tLookup = performance.now();
      if (!err) phase = 'connect';
    });
    socket.once('connect', () => {
      tConnect = performance.now();
      phase = opts.protocol === 'https:' ? 'tls' : 'connect';
    });
    // TLS 1.3 servers reject a missing or unknown client certificate after the handshake, with
    // an alert the request later sees only as "other side closed": keep the alert's error.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!obs.connectError && /^ERR_(SSL|TLS)_/.test(err.code ?? '')) {
        obs.connectError = err;
        obs.connectErrorPhase = 'tls';
      }
    });
    socket.once('secureConnect', () => {
      // Later connections resume the TLS session and carry no certificate: read it on the first.
      const cert = (socket as TLSSocket).getPeerCertificate?.(true);
      const expiry = earliestExpiry(cert);
      if (expiry !== undefined && (obs.certExpirySeconds === undefined || expiry < obs.certExpirySeconds)) {
        obs.certExpirySeconds = expiry;
      }
    });
    return socket;
  };
}

interface WireFetchContext {
  agent: Agent;
  obs: WireObservations;
  signal: AbortSignal;
  target: TargetConfig;
  localGetStream: boolean;
}

/** The `fetch` the SDK's transports get: every status recorded, every body bounded. */
function wireFetch({ agent, obs, signal, target, localGetStream }: WireFetchContext) {
  const limit = target.maxResponseBytes;
  const endpoint = target.url ? new URL(target.url).href : undefined;
  const bodyLimit: BodyLimit = {
    maxBytes: limit,
    onTooLarge: () => {
      obs.tooLarge = true;
    },
  };
  return async (url: string | URL, init: RequestInit = {}): Promise<Response> => {
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = plainHeaders(init.headers);
    headers['user-agent'] ??= USER_AGENT;
    const href = String(url);
    // The SDK opens a standalone GET event stream after `initialized` for server-initiated
    // messages. A one-shot probe never reads it; answering 405 locally (as a server without
    // the stream would) saves a request, and a connection, since the SDK sends its next request
    // without waiting for that GET. Only the MCP endpoint itself: OAuth metadata GETs go out.
    // A GET with Last-Event-ID resumes a stream the server closed before answering (the answer
    // comes on it): that one goes out.
    if (method === 'GET' && localGetStream && href === endpoint && headers['last-event-id'] === undefined) {
      return new WireResponse({ url: href, status: 405, headers: {}, body: null }, bodyLimit) as unknown as Response;
    }
    // Ending the session is worth a try after the deadline too: a probe that timed out would
    // otherwise leave its session open on the server. Bounded on its own (and by wire.close()).
    const own = method === 'DELETE' ? AbortSignal.timeout(SESSION_END_TIMEOUT_MS) : signal;
    const signals = [own, init.signal].filter((s): s is AbortSignal => Boolean(s));
    const t0 = performance.now();
    const res = await request(href, {
      method: method as Dispatcher.HttpMethod,
      headers,
      body: requestBody(init.body, headers),
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      dispatcher: agent,
    });
    const status = res.statusCode;
    obs.lastStatus = status;
    obs.requestCount++;
    if (obs.requests.length < MAX_RECORDED_REQUESTS) obs.requests.push({ method, status, ms: performance.now() - t0 });
    // Made first: it guards the body against an unhandled 'error' (the destroy below emits one).
    const response = new WireResponse(
      { url: href, status, statusText: res.statusText, headers: res.headers as RawHeaders, body: res.body },
      bodyLimit,
    );
    if (status >= 400) obs.lastErrorHeaders = response.headers.toObject();
    if (declaredOverLimit(res.headers, limit) !== undefined) {
      obs.tooLarge = true;
      res.body.destroy();
      throw tooLargeError(limit);
    }
    return response as unknown as Response;
  };
}

/** A fetch `body` as `request()` takes it (the SDK sends strings; OAuth-style forms are encoded). */
function requestBody(body: RequestInit['body'], headers: Record<string, string>): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  throw new TypeError('probe requests send string, byte or form bodies only');
}
