/**
 * Recent probe results per target, bounded: the status page and `/api/v1/targets` read it.
 */
import type { ProbeResult, ToolListDiff } from '../probe/types.js';

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
  }
}
