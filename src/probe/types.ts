/**
 * The prober's contract: what a probe produces and the closed sets its labels come from.
 * Every other room (metrics, server, schedule, cli, telemetry) builds on these types.
 */
import { TRANSPORTS, type TransportName } from '../config/transports.js';

/** Phases of one probe, each timed separately; label values of `mcp_probe_phase_duration_seconds`. */
export const PHASES = ['dns', 'connect', 'tls', 'handshake', 'tools_list', 'tool_call', 'close'] as const;
export type Phase = (typeof PHASES)[number];

/** Why a probe failed: a closed set, label values of `mcp_probe_failures_total`. */
export const FAILURE_REASONS = [
  'timeout',
  'dns',
  'connect',
  'tls',
  'http_status',
  'auth',
  'session',
  'unsupported_version',
  'protocol_error',
  'invalid_response',
  'response_too_large',
  'assertion',
  'internal',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Transports a probe can speak (what users write in `transport:`; config owns the list). */
export { TRANSPORTS, type TransportName };
export type ResolvedTransport = Exclude<TransportName, 'auto'>;

/** The two protocol eras: `legacy` = initialize handshake (2024-11-05 … 2025-11-25), `modern` = 2026-07-28 stateless. */
export type ProtocolEra = 'legacy' | 'modern';

/** One tool as listed by the server, kept for hashing and drift reports. */
export interface ToolSummary {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

/** One MCP operation the probe made, for `mcp_client_operation_duration_seconds` and spans. */
export interface OperationRecord {
  /** JSON-RPC method, e.g. `initialize`, `server/discover`, `tools/list`, `tools/call`. */
  method: string;
  durationSeconds: number;
  /** Absent on success; a JSON-RPC code as a string, `tool_error`, or a failure reason. */
  errorType?: string;
  /** Tool name for `tools/call`. */
  toolName?: string;
  /** Trace and span id of the operation's span when it was sampled (exemplars). */
  traceId?: string;
  spanId?: string;
}

/** One `expect`/canary check, reported on its own (Gatus style). */
export interface CheckResult {
  name: string;
  ok: boolean;
  message: string;
}

/** What answered, as far as the handshake told. */
export interface ServerIdentity {
  name: string;
  version: string;
  protocolVersion: string;
  transport: ResolvedTransport;
  era: ProtocolEra;
}

/** How the tool list differs from the previous successful listing. */
export interface ToolListDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/**
 * What every run against a target reports (a probe, a fan-out round). A failure is data, never
 * an exception: `success` false with a `reason` from the closed set and a human `message`.
 */
export interface RunOutcome {
  target: string;
  success: boolean;
  reason?: FailureReason;
  /** Human-readable cause; logs and debug output only, never a label. Contains no secrets. */
  message?: string;
  /** Unix time in milliseconds when the run started. */
  startedAtMs: number;
  durationSeconds: number;
}

/** The outcome of one probe. */
export interface ProbeResult extends RunOutcome {
  /** Seconds spent per phase; absent phases did not happen. */
  phases: Partial<Record<Phase, number>>;
  /** Last HTTP status seen; 0 for stdio or no answer. */
  httpStatus: number;
  /** Earliest peer certificate `notAfter`, unix seconds, when TLS was used. */
  tlsCertExpirySeconds?: number;
  server?: ServerIdentity;
  /** All tools, every page, in server order. */
  tools?: ToolSummary[];
  /** Stable hash of the tool list (see probe/tool-hash.ts); present when `tools` is. */
  toolListHash?: string;
  operations: OperationRecord[];
  checks: CheckResult[];
  /** Each canary that ran in this probe, in config order (per-tool series, status page). */
  canaries?: CanaryResult[];
  /** Set when the tool list differs from the previous successful probe's (from ProbeMemory). */
  toolListChange?: ToolListDiff;
  /** Timestamped lines describing the probe step by step, for `/probe?debug=true` and `probe` CLI. */
  log: string[];
  /** Trace id of the probe's trace when tracing is on and the trace was sampled (docs/tracing.md). */
  traceId?: string;
}

/**
 * State a target's probes carry from one probe to the next (one per target, kept by the
 * scheduler, read and updated only by the prober): the era learned from the last success, so a
 * probe skips version discovery round trips, the OAuth token, and the last tool list.
 */
export interface ProbeMemory {
  transport?: ResolvedTransport;
  era?: ProtocolEra;
  protocolVersion?: string;
  /** The OAuth 2 access token of this target, cached until it expires (probe/oauth.ts). */
  oauth2Token?: { key: string; accessToken: string; expiresAtMs?: number };
  /** When each canary's tool call last ran (unix ms, by tool), for its `interval`. */
  canaryRunAtMs?: Record<string, number>;
  /** The tool list of the last successful probe, to report drift (`toolListChange`). */
  lastToolList?: { hash: string; tools: ToolSummary[] };
}

/**
 * The outcome of one fan-out round (probe/fanout.ts): N sessions opened at once, each making the
 * same call, against one session alone just before. Latencies are of the call itself.
 */
export interface FanoutResult extends RunOutcome {
  // `success`: every session, baseline included, completed its call; `message`: the first failure.
  /** What each session called. */
  call: 'tools/list' | 'canary';
  /** Sessions opened at once (the configured N). */
  sessions: number;
  /** Of those, the ones that completed their call. */
  completed: number;
  /** The call's latency in a single session, seconds (absent when it failed). */
  baselineSeconds?: number;
  /** Latency across the completed sessions, seconds, nearest rank (absent when none completed). */
  p50Seconds?: number;
  p99Seconds?: number;
  /** p99 / baseline (absent without both). */
  slowdownRatio?: number;
}

/** One canary tool call of a probe. */
export interface CanaryResult {
  tool: string;
  success: boolean;
  /** Why it failed: `assertion` (isError, text), or the call's own failure (timeout, protocol_error, ...). */
  reason?: FailureReason;
  /** Human-readable, free of secrets once the probe redacts it. */
  message?: string;
  durationSeconds: number;
}
