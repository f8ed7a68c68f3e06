/**
 * The fan-out round of one target: what an orchestrator does when it sends N sub-agents at a
 * server at once. One session alone first (the baseline), then N independent sessions at the
 * same instant, each its own client, connection and session, each running the same session
 * script as a probe (./session.ts) with the round's call. Every session ends (DELETE on
 * Streamable HTTP) whatever happens; the round never rejects.
 *
 * Bounds: at most 64 sessions (config), the whole round under `timeoutMs`; closes take at most
 * CLOSE_DEADLINE_MS after it, as for a probe.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { TargetConfig } from '../config/schema.js';
import { redact, targetSecrets } from '../net/redact.js';
import { requestCredentials } from './request-credentials.js';
import { CLOSE_DEADLINE_MS, deadlineSignal, runSession, type Attempt } from './session.js';
import { NOOP_TRACE_HOOKS } from './trace-hooks.js';
import type { FanoutResult, Phase, ProbeMemory, ResolvedTransport } from './types.js';

const MAX_MESSAGE_LENGTH = 500;
const NO_TRACE = NOOP_TRACE_HOOKS.startProbe({ target: '', networkTransport: 'tcp' });

export interface FanoutOptions {
  /** The target's probe memory: the round speaks the era and transport its probes learned. */
  memory: ProbeMemory;
  /** Aborts the round (shutdown, reload). */
  signal?: AbortSignal;
  /** The round's deadline, at most the target's timeout (the scheduler shortens it to fit its slot). */
  timeoutMs: number;
}

/** Rounds shorter than this are not worth opening N sessions for: wait for a roomier slot. */
const MIN_ROUND_MS = 100;

/**
 * The deadline a round gets when it must end (closes included) within `roomMs`: the target's
 * timeout, or less; undefined when there is no room for a round.
 */
export function fanoutTimeoutMs(target: TargetConfig, roomMs: number): number | undefined {
  const ms = Math.min(target.timeoutMs, roomMs - CLOSE_DEADLINE_MS - MIN_ROUND_MS);
  return ms >= MIN_ROUND_MS ? ms : undefined;
}

/** Runs one fan-out round of `target` (which has `fanout`). Never rejects. */
export async function fanoutRound(target: TargetConfig, options: FanoutOptions): Promise<FanoutResult> {
  const cfg = target.fanout ?? { sessions: 2, intervalMs: 0, call: 'tools/list' as const };
  const t0 = performance.now();
  const result: FanoutResult = {
    target: target.name,
    success: false,
    startedAtMs: Date.now(),
    durationSeconds: 0,
    call: cfg.call,
    sessions: cfg.sessions,
    completed: 0,
  };
  const round = deadlineSignal(options.timeoutMs, options.signal, 'fan-out round');
  const deadline = round.signal;
  // N sessions each listen on the one deadline (their requests, their race): not a leak.
  setMaxListeners(16 * (cfg.sessions + 1), deadline);
  let secrets = targetSecrets(target);
  try {
    const creds = await requestCredentials(target, options.memory, deadline);
    secrets = [...secrets, ...creds.secrets];
    if (creds.failure) {
      result.reason = creds.failure.reason;
      result.message = creds.failure.message;
      return result;
    }
    const session = () =>
      runSession({
        target,
        kind: transportOf(target, options.memory),
        headers: creds.headers,
        memory: options.memory,
        signal: deadline,
        say: () => {},
        // The round's call must succeed in every session: its canary counts as required here.
        canaries: cfg.call === 'canary' && target.canaries[0] ? [{ ...target.canaries[0], required: true }] : [],
        trace: NO_TRACE,
      });
    const baseline = await session();
    const callPhase: Phase = cfg.call === 'canary' ? 'tool_call' : 'tools_list';
    if (!baseline.reason) result.baselineSeconds = baseline.phases[callPhase];
    // Each session opens its own connection: they start together, as N sub-agents would.
    const fanned = baseline.reason ? [] : await Promise.all(Array.from({ length: cfg.sessions }, session));
    summarise(result, baseline, fanned, callPhase);
  } catch (err) {
    // Only a bug in mcpwatch gets here.
    result.reason = 'internal';
    result.message = `internal error: ${(err as Error).message}`;
  } finally {
    round.dispose();
    result.durationSeconds = (performance.now() - t0) / 1000;
    if (result.message) result.message = redact(result.message, secrets).slice(0, MAX_MESSAGE_LENGTH);
  }
  return result;
}

/** The transport the target's probes use (a round never negotiates `auto` on its own). */
function transportOf(target: TargetConfig, memory: ProbeMemory): ResolvedTransport {
  if (target.transport !== 'auto') return target.transport;
  return memory.transport ?? 'streamable-http';
}

/** Fills in completion, quantiles and the slowdown from the baseline and the N sessions. */
function summarise(result: FanoutResult, baseline: Attempt, fanned: Attempt[], callPhase: Phase): void {
  const latencies = fanned
    .filter((a) => !a.reason)
    .map((a) => a.phases[callPhase] ?? 0)
    .sort((a, b) => a - b);
  result.completed = latencies.length;
  if (latencies.length > 0) {
    result.p50Seconds = nearestRank(latencies, 0.5);
    result.p99Seconds = nearestRank(latencies, 0.99);
  }
  if (result.p99Seconds !== undefined && result.baselineSeconds)
    result.slowdownRatio = result.p99Seconds / result.baselineSeconds;
  const failed = baseline.reason ? baseline : fanned.find((a) => a.reason);
  result.success = failed === undefined;
  if (failed) {
    result.reason = failed.reason;
    const which =
      failed === baseline
        ? 'baseline session'
        : `${fanned.length - result.completed} of ${fanned.length} sessions failed; first`;
    result.message = `${which}: ${failed.message ?? failed.reason}`;
  }
}

/** The q-quantile of sorted values, nearest rank (with N = 8, p99 is the slowest session). */
function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
