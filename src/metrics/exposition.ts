/**
 * Renders a registry as Prometheus text (0.0.4) or OpenMetrics 1.0 (the format that carries
 * exemplars), producing exactly the bytes prom-client's `registry.metrics()` would.
 *
 * Why not `registry.metrics()`:
 * - Speed. prom-client builds an object per sample (a bucket object per histogram bucket) and
 *   formats every label set of every sample afresh; at 10,000 targets a scrape took seconds
 *   (bench/scrape.ts). mcpwatch's own metrics are instances of its own classes (series.ts), whose
 *   series this module reads directly, formatting each series' label set once and caching it.
 * - Formats. prom-client picks the format from the registry's content type, read after an await,
 *   and in OpenMetrics mode renames every counter in place (drops `_total`) without restoring it:
 *   switching a shared registry per request mixes formats under concurrent scrapes. Here the
 *   format is an argument and the registry is never changed.
 *
 * Only prom-client's public API is used: `registry.getMetricsAsArray()` and, for every metric
 * that is not one of ours (process metrics, anything else registered), its public `get()`,
 * formatted the way prom-client's registry formats it. No private field is read and no method
 * is replaced, so a prom-client release cannot change `/metrics` behind our back
 * (test/architecture/prom-client-public.test.ts keeps it so).
 * test/sidecar/exposition.test.ts checks the output against prom-client's byte for byte.
 *
 * Registry default labels (`setDefaultLabels`) are not rendered: prom-client has no public way to
 * read them, and mcpwatch sets none (the architecture test above checks src/ never calls it).
 */
import { Registry } from 'prom-client';
import {
  SeriesCounter,
  SeriesGauge,
  SeriesHistogram,
  type Exemplar,
  type HistogramEntry,
  type ValueSeries,
} from './series.js';

type Labels = Record<string, string | number>;
type ExemplarLike = Exemplar;

/** A sample as prom-client's public get() returns it. */
interface MetricValue {
  value: number;
  labels?: Labels;
  /** Set by some custom get()s; prom-client's registry writes these after `labels`. */
  sharedLabels?: Labels;
  metricName?: string;
  exemplar?: ExemplarLike | null;
}

/** What this module reads of a metric that is not one of ours: public fields and get(). */
interface MetricLike {
  name: string;
  help: string;
  type: string;
  get(): Promise<{ values?: MetricValue[] }> | { values?: MetricValue[] };
}

type OwnMetric = SeriesGauge | SeriesCounter | SeriesHistogram;

function escapeString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(v: string | number): string | number {
  return typeof v === 'string' ? escapeString(v).replace(/"/g, '\\"') : v;
}

/** A number as prom-client writes it (its NaN spelling included). */
function num(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** `a="1",b="2"` for the labels not in `exclude`. */
function formatLabels(labels: Labels, exclude?: Labels): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (!exclude || !Object.prototype.hasOwnProperty.call(exclude, name))
      out.push(`${name}="${escapeLabelValue(value)}"`);
  }
  return out;
}

function exemplarText(e: ExemplarLike): string {
  return ` # {${formatLabels(e.labelSet).join(',')}} ${num(e.value)} ${e.timestamp}`;
}

/**
 * Formatted label sets, cached per series. A series keeps its labels object for life and
 * prom-client never changes it; callers must not mutate a labels object after passing it in.
 */
const labelCache = new WeakMap<Labels, string>();

function cachedLabels(labels: Labels): string {
  let s = labelCache.get(labels);
  if (s === undefined) {
    s = formatLabels(labels).join(',');
    labelCache.set(labels, s);
  }
  return s;
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeString(help)}`, `# TYPE ${name} ${type}`];
}

/** Names as the format wants them: OpenMetrics counters are declared without `_total`. */
function familyName(m: MetricLike, openMetrics: boolean): { family: string; sample: string } {
  const name = escapeString(m.name);
  if (openMetrics && m.type === 'counter') {
    const family = name.replace(/_total$/, '');
    return { family, sample: `${family}_total` };
  }
  return { family: name, sample: name };
}

function isOwn(m: unknown): m is OwnMetric {
  return m instanceof SeriesGauge || m instanceof SeriesCounter || m instanceof SeriesHistogram;
}

/** Series per rendered slice: about 5 ms of work, so a large scrape never holds the event loop long. */
const SLICE_SERIES = 500;

/** One of our metrics: its header, then its series in slices (each line starts with "\n"). */
function* renderOwn(m: OwnMetric, openMetrics: boolean): Generator<string> {
  const { family, sample } = familyName(m, openMetrics);
  yield header(family, m.help, m.type).join('\n');
  if (m instanceof SeriesHistogram) {
    const byTarget = m.external?.();
    const entries = m.visible(byTarget);
    for (let from = 0; from < entries.length; from += SLICE_SERIES)
      yield histogramLines(m, sample, entries.slice(from, from + SLICE_SERIES), openMetrics);
    for (const [target, list] of byTarget ?? []) yield externalLines(sample, target, list);
    return;
  }
  const entries = m.entries();
  for (let from = 0; from < entries.length; from += SLICE_SERIES)
    yield valueLines(sample, entries.slice(from, from + SLICE_SERIES), openMetrics);
}

function valueLines(sample: string, entries: ValueSeries[], openMetrics: boolean): string {
  // One string grown by appends (V8 ropes), not an array of lines joined: about half the time.
  let out = '';
  for (const e of entries) {
    const labels = cachedLabels(e.labels);
    out += `\n${sample}${labels ? `{${labels}}` : ''} ${num(e.value)}`;
    if (openMetrics && e.exemplar) out += exemplarText(e.exemplar);
  }
  return out;
}

function histogramLines(m: SeriesHistogram, sample: string, entries: HistogramEntry[], openMetrics: boolean): string {
  const bounds = m.bounds;
  const n = bounds.length;
  const leText = bounds.map((b) => `\n${sample}_bucket{le="${escapeLabelValue(b)}"`);
  const infText = `\n${sample}_bucket{le="+Inf"`;
  let out = '';
  for (const e of entries) {
    const shared = cachedLabels(e.labels);
    const tail = shared ? `,${shared}} ` : '} ';
    const counts = e.counts;
    const ex = openMetrics ? e.exemplars : undefined;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += counts[i] as number;
      out += leText[i] + tail + num(acc);
      const x = ex?.[i];
      if (x) out += exemplarText(x);
    }
    out += infText + tail + num(e.count);
    const xInf = ex?.[n];
    if (xInf) out += exemplarText(xInf);
    const braces = shared ? `{${shared}}` : '';
    out += `\n${sample}_sum${braces} ${num(e.sum)}\n${sample}_count${braces} ${num(e.count)}`;
  }
  return out;
}

/** Series supplied whole (a scraped server's buckets), labelled `{le, target, ...labels}`. */
function externalLines(
  sample: string,
  target: string,
  list: readonly {
    labels: Record<string, string>;
    buckets: ReadonlyArray<readonly [number, number]>;
    sum: number;
    count: number;
  }[],
): string {
  let out = '';
  for (const s of list) {
    const shared = formatLabels({ target, ...s.labels }).join(',');
    for (const [le, count] of s.buckets)
      out += `\n${sample}_bucket{le="${le === Infinity ? '+Inf' : escapeLabelValue(le)}",${shared}} ${num(count)}`;
    out += `\n${sample}_sum{${shared}} ${num(s.sum)}\n${sample}_count{${shared}} ${num(s.count)}`;
  }
  return out;
}

/** A metric that is not ours, through its public get(), formatted as prom-client's registry formats it, in slices. */
async function* renderGeneric(m: MetricLike, openMetrics: boolean): AsyncGenerator<string> {
  const data = await m.get();
  const { family } = familyName(m, openMetrics);
  yield header(family, m.help, m.type).join('\n');
  const values = data.values ?? [];
  for (let from = 0; from < values.length; from += SLICE_SERIES) {
    let out = '';
    for (const v of values.slice(from, from + SLICE_SERIES)) {
      let metricName = v.metricName ?? family;
      if (openMetrics && m.type === 'counter') metricName = `${metricName}_total`;
      const parts = formatLabels(v.labels ?? {}, v.sharedLabels);
      if (v.sharedLabels) {
        const flat = formatLabels(v.sharedLabels).join(',');
        if (flat) parts.push(flat);
      }
      const labels = parts.join(',');
      out += `\n${metricName}${labels ? `{${labels}}` : ''} ${num(v.value)}`;
      if (openMetrics && v.exemplar) out += exemplarText(v.exemplar);
    }
    yield out;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Renders every metric of `registry` in one format, as a sequence of chunks whose concatenation
 * is the exposition. Between slices of a large family it yields to the event loop, so probes
 * keep their schedule while a scrape of thousands of targets is rendered.
 */
export async function* renderRegistryChunks(registry: Registry, openMetrics: boolean): AsyncGenerator<string> {
  const metrics = registry.getMetricsAsArray() as unknown as MetricLike[];
  for (const [i, m] of metrics.entries()) {
    if (i > 0) yield openMetrics ? '\n' : '\n\n';
    let slices = 0;
    const chunks = isOwn(m) ? renderOwn(m, openMetrics) : renderGeneric(m, openMetrics);
    for await (const chunk of chunks) {
      if (slices++ > 1) await nextTurn();
      yield chunk;
    }
  }
  yield openMetrics ? '\n# EOF\n' : '\n';
}

/** Renders every metric of `registry` in one format, as one string. */
export async function renderRegistry(registry: Registry, openMetrics: boolean): Promise<string> {
  let out = '';
  for await (const chunk of renderRegistryChunks(registry, openMetrics)) out += chunk;
  return out;
}

/** The Content-Type of each format. */
export function contentTypeOf(openMetrics: boolean): string {
  return openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
}
