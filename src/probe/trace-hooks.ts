/**
 * What the prober tells a tracer, as plain calls: the prober never depends on OpenTelemetry.
 * src/telemetry/probe-tracer.ts implements these hooks with `@opentelemetry/api`; the default is
 * NOOP_TRACE_HOOKS, which costs nothing and injects nothing.
 *
 * Every hook must never throw: tracing is best effort and must not change a probe's outcome.
 */
import type { ProbeResult } from './types.js';

/** Where a probe goes, already free of secrets (host and port only, never the URL). */
export interface ProbeTraceStart {
  target: string;
  /** `tcp` for HTTP transports, `pipe` for stdio (OTel `network.transport`). */
  networkTransport: 'tcp' | 'pipe';
  serverAddress?: string;
  serverPort?: number;
}

/** What an MCP operation's span learns when it ends. */
export interface OperationOutcome {
  /** Final method name (the handshake's is known only afterwards); absent keeps the start name. */
  method?: string;
  errorType?: string;
  protocolVersion?: string;
  sessionId?: string;
  toolName?: string;
}

/** The W3C trace context of an operation, as carried in a request's `params._meta`. */
export interface TraceMeta {
  traceparent: string;
  tracestate?: string;
}

/** One MCP operation of a probe (a span per operation). */
export interface OperationTrace {
  /** Context to inject into the operation's requests; undefined when tracing is off. */
  readonly meta?: TraceMeta;
  /** Ids for an exemplar; undefined unless the span is sampled (exported). */
  readonly traceId?: string;
  readonly spanId?: string;
  /** A JSON-RPC request of this operation was sent. */
  request(id: string | number): void;
  /** A connection phase (dns, connect, tls) that happened inside this operation, in seconds. */
  phase(name: 'dns' | 'connect' | 'tls', seconds: number): void;
  end(outcome: OperationOutcome): void;
}

/** One probe (a trace per probe). */
export interface ProbeTrace {
  /** Defined when the probe's trace is sampled. */
  readonly traceId?: string;
  startOperation(method: string): OperationTrace;
  end(result: ProbeResult): void;
}

/** The tracer a prober is given. */
export interface TraceHooks {
  startProbe(start: ProbeTraceStart): ProbeTrace;
}

const NOOP_OPERATION: OperationTrace = {
  request() {},
  phase() {},
  end() {},
};

const NOOP_PROBE: ProbeTrace = {
  startOperation: () => NOOP_OPERATION,
  end() {},
};

/** Hooks that do nothing: the prober's default. */
export const NOOP_TRACE_HOOKS: TraceHooks = { startProbe: () => NOOP_PROBE };
