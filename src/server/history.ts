/**
 * Recent probe results per target, bounded: the status page and `/api/v1/targets` read it.
 */
import type { CanaryResult, ProbeResult, ToolListDiff } from '../probe/types.js';

export interface HistoryEntry {
  startedAtMs: number;
  success: boolean;
  reason?: string;
  message?: string;
  durationSeconds: number;
  phases: ProbeResult['phases'];
  toolListChange?: ToolListDiff;
}

/** A ring of the last `capacity` results of each target, plus the last full result. */
export class History {
  private readonly rings = new Map<string, HistoryEntry[]>();
  private readonly last = new Map<string, ProbeResult>();
  /** Each canary's last call per target (canaries with their own interval skip probes). */
  private readonly canaries = new Map<string, Map<string, CanaryResult & { atMs: number }>>();

  constructor(readonly capacity = 60) {}

  add(r: ProbeResult): void {
    const ring = this.rings.get(r.target) ?? [];
    ring.push({
      startedAtMs: r.startedAtMs,
      success: r.success,
      reason: r.reason,
      message: r.message,
      durationSeconds: r.durationSeconds,
      phases: r.phases,
      toolListChange: r.toolListChange,
    });
    if (ring.length > this.capacity) ring.splice(0, ring.length - this.capacity);
    this.rings.set(r.target, ring);
    // The last full result (its tools array is the one the scheduler already holds, not a copy).
    this.last.set(r.target, r);
    if (r.canaries?.length) {
      const byTool = this.canaries.get(r.target) ?? new Map<string, CanaryResult & { atMs: number }>();
      for (const c of r.canaries) byTool.set(c.tool, { ...c, atMs: r.startedAtMs });
      this.canaries.set(r.target, byTool);
    }
  }

  /** The last call of each canary of `target` that has run, among `tools` (the configured ones), in that order. */
  lastCanaries(target: string, tools: readonly string[]): Array<CanaryResult & { atMs: number }> {
    const byTool = this.canaries.get(target);
    return byTool ? tools.flatMap((t) => byTool.get(t) ?? []) : [];
  }

  entries(target: string): readonly HistoryEntry[] {
    return this.rings.get(target) ?? [];
  }

  lastResult(target: string): ProbeResult | undefined {
    return this.last.get(target);
  }

  /** Forget targets that are no longer configured. */
  retain(names: ReadonlySet<string>): void {
    for (const k of [...this.rings.keys()]) if (!names.has(k)) this.rings.delete(k);
    for (const k of [...this.last.keys()]) if (!names.has(k)) this.last.delete(k);
    for (const k of [...this.canaries.keys()]) if (!names.has(k)) this.canaries.delete(k);
  }
}
