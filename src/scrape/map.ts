/**
 * Maps a server's parsed metrics onto mcpwatch's standard ones. By default it recognises the
 * OTel MCP semantic-convention names as OTel's Prometheus exporter writes them
 * (`mcp.server.operation.duration` in seconds -> `mcp_server_operation_duration_seconds_bucket`
 * with `mcp_method_name` and `error_type` labels); a config `mapping` replaces any of them.
 *
 * Histograms are copied, never re-observed: the server's cumulative bucket counts are summed
 * over the labels we drop (scope, transport, ...) per (method, error, le), which keeps them exact.
 */
import type { ParsedExposition, Sample } from './parse.js';
import { boundLabel } from '../net/labels.js';
import type { GaugeMapping, HistogramMapping, HistogramSeries, InternalMapping } from './types.js';

/** The default mapping: OTel MCP semconv names through OTel's Prometheus exporter. */
export const DEFAULT_MAPPING: Required<InternalMapping> = {
  sessionsActive: { metric: 'mcp_server_sessions_active', match: {}, sum: true },
  toolCallsActive: { metric: 'mcp_server_tool_calls_active', match: {}, sum: true },
  sessionOldestAge: { metric: 'mcp_server_session_oldest_age_seconds', match: {}, sum: true },
  operationDuration: {
    metric: 'mcp_server_operation_duration_seconds',
    match: {},
    methodLabel: 'mcp_method_name',
    errorLabel: 'error_type',
  },
  sessionDuration: { metric: 'mcp_server_session_duration_seconds', match: {} },
};

/** Server-provided label values are bounded in length and character set (cardinality, odd bytes). */

function matches(s: Sample, match: Record<string, string>): boolean {
  for (const k in match) if (s.labels[k] !== match[k]) return false;
  return true;
}

/**
 * The gauge value, or undefined when no series matches. Several matching series without
 * `sum` is ambiguous and throws (the scrape then fails with `parse`, naming the metric).
 */
export function mapGauge(
  parsed: ParsedExposition,
  m: GaugeMapping,
  combine: (a: number, b: number) => number = (a, b) => a + b,
): number | undefined {
  let total: number | undefined;
  let n = 0;
  for (const s of parsed.samples) {
    if (s.name !== m.metric || !matches(s, m.match)) continue;
    n++;
    total = total === undefined ? s.value : combine(total, s.value);
  }
  if (n > 1 && !m.sum) throw new Error(`${n} series of ${m.metric} match; set sum: true or narrow match`);
  return total;
}

/** The histogram series (grouped by our labels), or undefined when the server has none. */
export function mapHistogram(parsed: ParsedExposition, m: HistogramMapping): HistogramSeries[] | undefined {
  const base = m.metric.replace(/_bucket$/, '');
  const bucketName = `${base}_bucket`;
  const sumName = `${base}_sum`;
  const countName = `${base}_count`;
  const groups = new Map<
    string,
    { labels: Record<string, string>; buckets: Map<number, number>; sum: number; count: number }
  >();
  const group = (s: Sample) => {
    const labels: Record<string, string> = {};
    if (m.methodLabel !== undefined) labels.mcp_method_name = boundLabel(s.labels[m.methodLabel]) || 'unknown';
    if (m.errorLabel !== undefined) labels.error_type = boundLabel(s.labels[m.errorLabel]);
    const key = JSON.stringify(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, buckets: new Map(), sum: 0, count: 0 }));
    return g;
  };
  let seen = false;
  for (const s of parsed.samples) {
    if (s.name !== bucketName && s.name !== sumName && s.name !== countName) continue;
    if (!matches(s, m.match)) continue;
    seen = true;
    const g = group(s);
    if (s.name === sumName) g.sum += s.value;
    else if (s.name === countName) g.count += s.value;
    else {
      const le = s.labels.le === undefined ? NaN : s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (Number.isNaN(le)) throw new Error(`${bucketName} has a bucket without a valid le label`);
      g.buckets.set(le, (g.buckets.get(le) ?? 0) + s.value);
    }
  }
  if (!seen) return undefined;
  return [...groups.values()].map((g) => {
    const buckets = [...g.buckets.entries()].sort((a, b) => a[0] - b[0]);
    if (buckets.at(-1)?.[0] !== Infinity) buckets.push([Infinity, g.count]);
    return { labels: g.labels, buckets, sum: g.sum, count: g.count };
  });
}

/** Applies `mapping` over the defaults: what this scrape says about each standard metric. */
export function mapExposition(
  parsed: ParsedExposition,
  mapping: InternalMapping = {},
): {
  sessionsActive?: number;
  toolCallsActive?: number;
  sessionOldestAge?: number;
  operationDuration?: HistogramSeries[];
  sessionDuration?: HistogramSeries[];
} {
  const m: Required<InternalMapping> = {
    sessionsActive: mapping.sessionsActive ?? DEFAULT_MAPPING.sessionsActive,
    toolCallsActive: mapping.toolCallsActive ?? DEFAULT_MAPPING.toolCallsActive,
    sessionOldestAge: mapping.sessionOldestAge ?? DEFAULT_MAPPING.sessionOldestAge,
    operationDuration: mapping.operationDuration ?? DEFAULT_MAPPING.operationDuration,
    sessionDuration: mapping.sessionDuration ?? DEFAULT_MAPPING.sessionDuration,
  };
  return {
    sessionsActive: mapGauge(parsed, m.sessionsActive),
    toolCallsActive: mapGauge(parsed, m.toolCallsActive),
    // The oldest of several series (per transport, per worker) is the oldest session.
    sessionOldestAge: mapGauge(parsed, { ...m.sessionOldestAge, sum: true }, Math.max),
    operationDuration: mapHistogram(parsed, {
      ...m.operationDuration,
      methodLabel: m.operationDuration.methodLabel ?? 'mcp_method_name',
      errorLabel: m.operationDuration.errorLabel ?? 'error_type',
    }),
    sessionDuration: mapHistogram(parsed, { metric: m.sessionDuration.metric, match: m.sessionDuration.match }),
  };
}
