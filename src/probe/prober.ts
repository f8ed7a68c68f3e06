/**
 * One probe of one target: the envelope around the session script (./session.ts). It owns the
 * deadline, the credentials (headers, OAuth 2 token), the transport fallback of
 * `transport: auto`, what the probe teaches its memory, and the result, redacted.
 *
 * Contract: `probe()` resolves to a ProbeResult and never rejects; it honours `signal`; it ends
 * within the target's timeout plus the close deadline, even when the SDK would hang (the legacy
 * SSE start has no timeout of its own); it never leaks a socket, session or child process.
 */
import { performance } from 'node:perf_hooks';
import type { CanaryConfig, TargetConfig } from '../config/schema.js';
import { mergeSecrets, redact, safeUrl, targetSecrets } from '../net/redact.js';
import { dropToken } from './oauth.js';
import { requestCredentials } from './request-credentials.js';
import { deadlineSignal, runSession, type Attempt } from './session.js';
import { hashToolList, trackToolList } from './tool-hash.js';
import { NOOP_TRACE_HOOKS, type ProbeTrace, type ProbeTraceStart, type TraceHooks } from './trace-hooks.js';
import type { FailureReason, ProbeMemory, ProbeResult, ResolvedTransport } from './types.js';

export { CLOSE_DEADLINE_MS } from './session.js';
const MAX_MESSAGE_LENGTH = 500;

export interface ProbeOptions {
  /** What earlier probes of this target learned; updated in place after the probe. */
  memory?: ProbeMemory;
  /** Aborts the probe (shutdown, reload). */
  signal?: AbortSignal;
  /** Run every canary (true) or none (false) in this probe; by default those whose `interval` says they are due (see canaryDue). */
  canary?: boolean;
  /** Receives the probe's spans (src/telemetry/); default: no tracing, no `_meta` injection. */
  tracer?: TraceHooks;
}

/** The probe's log: lines stamped with the time since the start, secrets redacted. */
class ProbeLog {
  readonly lines: string[] = [];
  secrets: string[];
  private readonly t0 = performance.now();

  constructor(target: TargetConfig) {
    this.secrets = targetSecrets(target);
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  readonly say = (line: string): void => {
    const ms = (this.elapsedSeconds * 1000).toFixed(1).padStart(7);
    this.lines.push(`+${ms}ms ${redact(line, this.secrets)}`);
  };
}

/** Runs one probe of `target`. Never rejects. */
export async function probe(target: TargetConfig, options: ProbeOptions = {}): Promise<ProbeResult> {
  const memory = options.memory ?? {};
  const startedAtMs = Date.now();
  const log = new ProbeLog(target);
  const result: ProbeResult = {
    target: target.name,
    success: false,
    startedAtMs,
    durationSeconds: 0,
    phases: {},
    httpStatus: 0,
    operations: [],
    checks: [],
    log: log.lines,
  };
  const trace = startTrace(options.tracer, target);
  if (trace.traceId) log.say(`trace id ${trace.traceId}`);
  const deadline = deadlineSignal(target.timeoutMs, options.signal, 'probe');
  const where = target.transport === 'stdio' ? `stdio ${target.command}` : safeUrl(target.url ?? '');
  log.say(`probe ${target.name}: ${where} (timeout ${target.timeoutMs}ms)`);
  try {
    const creds = await requestCredentials(target, memory, deadline.signal);
    log.secrets = mergeSecrets(log.secrets, creds.secrets);
    if (creds.note) log.say(creds.note);
    if (creds.failure) fail(result, creds.failure.reason, creds.failure.message);
    else
      await attempts(target, { memory, signal: deadline.signal, log, trace, headers: creds.headers, result, options });
  } catch (err) {
    // Only a bug in mcpwatch gets here; it is still data.
    fail(result, 'internal', `internal error: ${(err as Error).message}`);
  } finally {
    deadline.dispose();
    result.durationSeconds = log.elapsedSeconds;
    if (result.message) result.message = redact(result.message, log.secrets).slice(0, MAX_MESSAGE_LENGTH);
    for (const c of result.canaries ?? [])
      if (c.message) c.message = redact(c.message, log.secrets).slice(0, MAX_MESSAGE_LENGTH);
    log.say(
      result.success
        ? `success in ${(result.durationSeconds * 1000).toFixed(1)}ms`
        : `failure: ${result.reason}: ${result.message}`,
    );
    if (trace.traceId) result.traceId = trace.traceId;
    trace.end(result);
  }
  return result;
}

/** The transports to try, in order: `auto` tries Streamable HTTP, then legacy SSE, unless memory knows. */
function transportsToTry(target: TargetConfig, memory: ProbeMemory): ResolvedTransport[] {
  if (target.transport !== 'auto') return [target.transport];
  return memory.transport ? [memory.transport] : ['streamable-http', 'sse'];
}

interface AttemptsContext {
  memory: ProbeMemory;
  signal: AbortSignal;
  log: ProbeLog;
  trace: ProbeTrace;
  headers: Record<string, string>;
  result: ProbeResult;
  options: ProbeOptions;
}

/** Runs the session script over each transport to try until one answers; fills `result` and memory. */
async function attempts(target: TargetConfig, ctx: AttemptsContext): Promise<void> {
  const { memory, signal, log, trace, headers, result } = ctx;
  const kinds = transportsToTry(target, memory);
  for (const [i, kind] of kinds.entries()) {
    const canaries = target.canaries.filter(
      (c) => ctx.options.canary ?? canaryDue(target, c, memory, result.startedAtMs),
    );
    const attempt = await runSession({ target, kind, headers, memory, signal, say: log.say, canaries, trace });
    for (const c of attempt.canaries ?? []) (memory.canaryRunAtMs ??= {})[c.tool] = result.startedAtMs;
    merge(result, attempt);
    if (!attempt.reason) {
      result.success = true;
      memory.transport = target.transport === 'auto' ? kind : undefined;
      memory.era = attempt.server?.era;
      memory.protocolVersion = attempt.server?.protocolVersion;
      trackToolList(result, memory);
      return;
    }
    // transport: auto falls back to legacy SSE when the Streamable HTTP endpoint refuses the POST.
    const refused = attempt.reason === 'http_status' && [400, 404, 405].includes(attempt.httpStatus);
    if (i < kinds.length - 1 && refused && !signal.aborted) {
      log.say(`streamable-http answered HTTP ${attempt.httpStatus}; trying legacy sse`);
      continue;
    }
    fail(result, attempt.reason, attempt.message ?? attempt.reason);
    // A rejected token may have been revoked before its expiry: fetch a new one next time.
    if (attempt.reason === 'auth') dropToken(memory);
    // Re-learn the era and transport on the next probe.
    delete memory.era;
    delete memory.protocolVersion;
    delete memory.transport;
    return;
  }
}

/** Adds what one attempt saw to the probe's result (a fallback attempt's phases overwrite the first's). */
function merge(result: ProbeResult, attempt: Attempt): void {
  Object.assign(result.phases, attempt.phases);
  result.operations.push(...attempt.operations);
  result.httpStatus = attempt.httpStatus;
  if (attempt.certExpirySeconds !== undefined) result.tlsCertExpirySeconds = attempt.certExpirySeconds;
  if (attempt.server) result.server = attempt.server;
  if (attempt.tools) {
    result.tools = attempt.tools;
    result.toolListHash = hashToolList(attempt.tools);
  }
  result.checks = attempt.checks;
  if (attempt.canaries) result.canaries = attempt.canaries;
}

/** Starts the probe's trace; a tracer that throws is replaced by none (tracing never fails a probe). */
function startTrace(tracer: TraceHooks | undefined, target: TargetConfig): ProbeTrace {
  const start: ProbeTraceStart = {
    target: target.name,
    networkTransport: target.transport === 'stdio' ? 'pipe' : 'tcp',
  };
  if (target.transport !== 'stdio' && target.url) {
    try {
      // Host and port only: the URL's path, query and userinfo may hold secrets.
      const u = new URL(target.url);
      start.serverAddress = u.hostname.replace(/^\[|\]$/g, '');
      start.serverPort = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    } catch {
      /* an invalid URL fails the probe later, with a reason */
    }
  }
  try {
    return (tracer ?? NOOP_TRACE_HOOKS).startProbe(start);
  } catch {
    return NOOP_TRACE_HOOKS.startProbe(start);
  }
}

/**
 * Whether a canary's call falls due on a probe starting at `nowMs`: always without its
 * `interval`; else when the interval has passed since the last call, less half a probe
 * interval, so schedule lag never pushes the call to the probe after.
 */
export function canaryDue(target: TargetConfig, canary: CanaryConfig, memory: ProbeMemory, nowMs: number): boolean {
  const every = canary.intervalMs;
  const last = memory.canaryRunAtMs?.[canary.tool];
  if (!every || last === undefined) return true;
  return nowMs - last >= every - (target.intervalMs ?? 0) / 2;
}

function fail(result: ProbeResult, reason: FailureReason, message: string): void {
  result.success = false;
  result.reason = reason;
  result.message = message;
}
