/**
 * A stable hash of a tool list and the difference between two lists. The hash covers names,
 * titles, descriptions, schemas and annotations; it ignores tool order and object key order, so
 * it changes only when what a client sees changes.
 */
import { createHash } from 'node:crypto';
import type { ProbeMemory, ProbeResult, ToolListDiff, ToolSummary } from './types.js';

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function toolKey(t: ToolSummary): string {
  return canonicalJson({ ...t });
}

/** 16 hex characters of SHA-256 over the canonical, name-sorted tool list. */
export function hashToolList(tools: readonly ToolSummary[]): string {
  const sorted = [...tools].map(toolKey).sort();
  return createHash('sha256')
    .update(`[${sorted.join(',')}]`)
    .digest('hex')
    .slice(0, 16);
}

/** What changed from `before` to `after`, by tool name (sorted). */
export function diffToolLists(before: readonly ToolSummary[], after: readonly ToolSummary[]): ToolListDiff {
  const a = new Map(before.map((t) => [t.name, toolKey(t)]));
  const b = new Map(after.map((t) => [t.name, toolKey(t)]));
  return {
    added: [...b.keys()].filter((n) => !a.has(n)).sort(),
    removed: [...a.keys()].filter((n) => !b.has(n)).sort(),
    changed: [...b.keys()].filter((n) => a.has(n) && a.get(n) !== b.get(n)).sort(),
  };
}

/** One line: `+added -removed ~changed`. */
export function describeDiff(d: ToolListDiff): string {
  const parts = [...d.added.map((n) => `+${n}`), ...d.removed.map((n) => `-${n}`), ...d.changed.map((n) => `~${n}`)];
  return parts.length === 0 ? 'no change' : parts.join(' ');
}

/**
 * Tool-list drift: sets `result.toolListChange` when a successful probe lists other tools than
 * the previous successful probe of the same target, and remembers this list in `memory`. The
 * first listing is not a change; failed probes leave the memory as it was.
 */
export function trackToolList(result: ProbeResult, memory: ProbeMemory): void {
  if (!result.success || !result.tools || !result.toolListHash) return;
  const last = memory.lastToolList;
  if (last && last.hash !== result.toolListHash) result.toolListChange = diffToolLists(last.tools, result.tools);
  memory.lastToolList = { hash: result.toolListHash, tools: result.tools };
}
