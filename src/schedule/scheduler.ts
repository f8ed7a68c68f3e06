/**
 * Runs each target's probes on its interval or cron schedule.
 *
 * - The first probe runs right at start, spread over the first second, or over 5 ms per
 *   starting target when more start at once (at most the interval), so two thousand targets do
 *   not open two thousand connections in the same second; later probes keep a
 *   fixed per-target phase across the whole interval: slot k = phase + k * interval, so lag
 *   does not accumulate and a fleet's probes are spread evenly.
 * - Never two probes of one target at once: a slot that finds the previous probe still running
 *   is skipped and counted.
 * - Schedule lag (actual start minus slot) is reported.
 * - Reload: targets added, removed or changed without disturbing the others.
 * - Timers are unref'd and every callback is caught at this boundary (OTel periodic reader style).
 */
import { createHash } from 'node:crypto';
import type { TargetConfig } from '../config/schema.js';
import type { FanoutResult, ProbeMemory, ProbeResult } from '../probe/types.js';
import { nextCronTimeMs } from './cron.js';

export interface SchedulerDeps {
  /** Runs one probe; must resolve (never reject) and honour the signal. */
  runProbe: (target: TargetConfig, options: { memory: ProbeMemory; signal: AbortSignal }) => Promise<ProbeResult>;
  /** Called with each finished probe (the prober has set tool-list drift from the target's memory). */
  onResult: (result: ProbeResult, target: TargetConfig) => void;
  /**
   * Runs one fan-out round of a target with `fanout`, which must end (closes included) before
   * `endBeforeMs`; resolves undefined when the slot has no room for one (tried again next slot).
   * Must not reject.
   */
  runFanout?: (
    target: TargetConfig,
    options: { memory: ProbeMemory; signal: AbortSignal; endBeforeMs: number },
  ) => Promise<FanoutResult | undefined>;
  onFanout?: (result: FanoutResult, target: TargetConfig) => void;
  onSkip?: (target: string) => void;
  onLag?: (seconds: number) => void;
  onError?: (component: string, err: unknown) => void;
  /** Milliseconds since the epoch; replaceable in tests. */
  now?: () => number;
}

/** Average spacing of first probes when many targets start at once. */
export const FIRST_PROBE_SPACING_MS = 5;

/** Deterministic per-name fraction in [0, 1): the target's phase offset. */
export function phaseFraction(name: string): number {
  return createHash('sha1').update(name).digest().readUInt32BE(0) / 2 ** 32;
}

class TargetRunner {
  private timer?: NodeJS.Timeout;
  private inFlight?: { controller: AbortController; done: Promise<void> };
  private readonly memory: ProbeMemory = {};
  private slotMs = 0;
  /** This target's fixed phase: slots are phaseMs + k * interval. */
  private phaseMs = 0;
  private stopped = false;
  /** When the last fan-out round started (scheduler clock). */
  private lastFanoutMs: number | undefined;

  constructor(
    readonly target: TargetConfig,
    private readonly deps: Required<Pick<SchedulerDeps, 'now'>> & SchedulerDeps,
  ) {}

  /** Starts probing; the first probe falls within `firstSpreadMs` (capped at the interval). */
  start(firstSpreadMs = 1000): void {
    const now = this.deps.now();
    const interval = this.target.intervalMs ?? 1000;
    const fraction = phaseFraction(this.target.name);
    // The first probe runs right at start (spread over firstSpreadMs); later slots keep a
    // per-target phase across the whole interval, so N targets do not all fire in the same
    // second of every interval (a burst that bench/capacity measured as lag and timeouts).
    this.slotMs = now + Math.floor(fraction * Math.min(firstSpreadMs, interval));
    this.phaseMs = now + Math.floor(fraction * interval);
    if (this.target.schedule) {
      // Cron targets also probe right at start, then follow the schedule.
      this.slotMs = now;
    }
    this.arm();
  }

  /** The next slot after `afterMs`. */
  private nextSlot(afterMs: number): number | undefined {
    if (this.target.schedule) return nextCronTimeMs(this.target.schedule, afterMs);
    const interval = this.target.intervalMs ?? 30_000;
    let slot = this.phaseMs;
    if (slot <= afterMs) slot += (Math.floor((afterMs - slot) / interval) + 1) * interval;
    return slot;
  }

  private arm(): void {
    if (this.stopped) return;
    const delay = Math.max(0, this.slotMs - this.deps.now());
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    if (this.stopped) return;
    const slot = this.slotMs;
    try {
      if (this.inFlight) {
        this.deps.onSkip?.(this.target.name);
      } else {
        this.deps.onLag?.((this.deps.now() - slot) / 1000);
        this.runOnce();
      }
    } catch (err) {
      this.deps.onError?.('scheduler', err);
    }
    // At least half an interval after this slot: the first slot lies off the phase lattice
    // (spread over the start-up window), and the lattice slot right after it may be only
    // moments later, which would probe again at once or count a spurious skip.
    const minGap = this.target.schedule ? 0 : (this.target.intervalMs ?? 30_000) / 2;
    const next = this.nextSlot(Math.max(slot + minGap, this.deps.now()));
    if (next === undefined) return;
    this.slotMs = next;
    this.arm();
  }

  private runOnce(): void {
    const controller = new AbortController();
    const done = (async () => {
      try {
        const result = await this.deps.runProbe(this.target, { memory: this.memory, signal: controller.signal });
        if (this.stopped && controller.signal.aborted) return;
        this.deps.onResult(result, this.target);
        if (result.success) await this.fanoutIfDue(controller.signal);
      } catch (err) {
        this.deps.onError?.('probe', err);
      } finally {
        this.inFlight = undefined;
      }
    })();
    this.inFlight = { controller, done };
  }

  /**
   * A fan-out round, when one is due, right after a successful probe and in its slot: it never
   * overlaps a probe (the next slot finds it in flight and skips), never runs more often than
   * `fanout.interval`, and must end before the next slot. After a failed probe it waits: N
   * sessions would only repeat the failure at a sick server.
   */
  private async fanoutIfDue(signal: AbortSignal): Promise<void> {
    const every = this.target.fanout?.intervalMs;
    const run = this.deps.runFanout;
    if (every === undefined || !run || signal.aborted) return;
    const now = this.deps.now();
    if (this.lastFanoutMs !== undefined && now - this.lastFanoutMs < every) return;
    // fire() has moved slotMs on to the next slot by the time the probe has ended.
    const endBeforeMs = this.slotMs > now ? this.slotMs : now + this.target.timeoutMs;
    try {
      const round = await run(this.target, { memory: this.memory, signal, endBeforeMs });
      if (!round || (this.stopped && signal.aborted)) return;
      this.lastFanoutMs = now;
      this.deps.onFanout?.(round, this.target);
    } catch (err) {
      this.deps.onError?.('fanout', err);
    }
  }

  /** Stops scheduling and aborts a probe in flight; resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const inFlight = this.inFlight;
    if (inFlight) {
      inFlight.controller.abort(new Error('target stopped'));
      await inFlight.done;
    }
  }
}

/** Owns one runner per target. */
export class Scheduler {
  private readonly runners = new Map<string, TargetRunner>();
  private readonly deps: Required<Pick<SchedulerDeps, 'now'>> & SchedulerDeps;

  constructor(deps: SchedulerDeps) {
    this.deps = { ...deps, now: deps.now ?? Date.now };
  }

  /** Applies a target list: starts new targets, stops removed ones, restarts changed ones. */
  async setTargets(
    targets: readonly TargetConfig[],
  ): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const next = new Map(targets.map((t) => [t.name, t]));
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const stops: Promise<void>[] = [];
    for (const [name, runner] of this.runners) {
      const t = next.get(name);
      if (!t) {
        removed.push(name);
        stops.push(runner.stop());
        this.runners.delete(name);
      } else if (JSON.stringify(t) !== JSON.stringify(runner.target)) {
        changed.push(name);
        stops.push(runner.stop());
        this.runners.delete(name);
      }
    }
    await Promise.all(stops);
    const starting = targets.filter((t) => !this.runners.has(t.name));
    // A burst of first probes costs memory and timeouts (bench/capacity measured it at 2,000
    // targets): at most one first probe per FIRST_PROBE_SPACING_MS on average.
    const firstSpreadMs = Math.max(1000, starting.length * FIRST_PROBE_SPACING_MS);
    const changedNames = new Set(changed);
    for (const t of starting) {
      if (!changedNames.has(t.name)) added.push(t.name);
      const runner = new TargetRunner(t, this.deps);
      this.runners.set(t.name, runner);
      runner.start(firstSpreadMs);
    }
    return { added, removed, changed };
  }

  /** Stops everything, aborting probes in flight. */
  async stop(): Promise<void> {
    const all = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(all.map((r) => r.stop()));
  }
}
