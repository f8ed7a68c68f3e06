/**
 * Renders a registry as Prometheus text (0.0.4) or OpenMetrics 1.0 (the format that carries
 * exemplars), producing exactly the bytes prom-client's `registry.metrics()` would.
 *
 * Why not `registry.metrics()`:
 * - Speed. prom-client builds an object per sample (a bucket object per histogram bucket) and
 *   formats every label set of every sample afresh; at 10,000 targets a scrape took seconds
 *   (bench/scrape.ts). Here a plain Gauge, Counter or Histogram is read straight from its series
 *   map and each series' label set is formatted once and cached.
 * - Formats. prom-client picks the format from the registry's content type, read after an await,
 *   and in OpenMetrics mode renames every counter in place (drops `_total`) without restoring it:
 *   switching a shared registry per request mixes formats under concurrent scrapes. Here the
 *   format is an argument and the registry is never changed.
 *
 * Metrics with a `collect` hook or a replaced `get` (scraped series, process metrics) go through
 * their public `get()`/`getForPromString()`, formatted the same way.
 * test/sidecar/exposition.test.ts checks the output against prom-client's byte for byte.
 */
import { Registry } from 'prom-client';

type Labels = Record<string, string | number>;

interface ExemplarLike {
  labelSet: Labels;
  value: number;
  timestamp: number;
}

/** A sample as prom-client's public get()/getForPromString() return it. */
interface MetricValue {
  value: number;
  labels?: Labels;
  sharedLabels?: Labels;
  metricName?: string;
  exemplar?: ExemplarLike | null;
}

/** What this module reads of a prom-client metric: public fields, plus its series map. */
interface MetricLike {
  name: string;
  help: string;
  type: string;
  collect?: unknown;
  get(): Promise<{ values?: MetricValue[] }> | { values?: MetricValue[] };
  getForPromString?(): Promise<{ values?: MetricValue[] }>;
  hashMap?: Record<string, SeriesEntry>;
  upperBounds?: readonly number[];
}

interface SeriesEntry {
  labels: Labels;
  value?: number;
  exemplar?: ExemplarLike | null;
  bucketValues?: Record<string, number>;
  bucketExemplars?: Record<string, ExemplarLike | null>;
  sum?: number;
  count?: number;
}

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

/** Whether `m` is a plain prom-client Gauge/Counter/Histogram whose series map says it all. */
function isPlain(m: MetricLike): boolean {
  return (
    !m.collect &&
    m.hashMap !== undefined &&
    !Object.prototype.hasOwnProperty.call(m, 'get') &&
    !Object.prototype.hasOwnProperty.call(m, 'getForPromString') &&
    (m.type === 'gauge' || m.type === 'counter' || (m.type === 'histogram' && Array.isArray(m.upperBounds)))
  );
}

/** Series per rendered slice: about 5 ms of work, so a large scrape never holds the event loop long. */
const SLICE_SERIES = 500;

/** A plain metric's text: its header, then its series in slices (each line starts with "\n"). */
function* renderPlain(m: MetricLike, openMetrics: boolean): Generator<string> {
  const { family, sample } = familyName(m, openMetrics);
  yield header(family, m.help, m.type).join('\n');
  const entries = Object.values(m.hashMap ?? {});
  for (let from = 0; from < entries.length; from += SLICE_SERIES) {
    const slice = entries.slice(from, from + SLICE_SERIES);
    yield m.type === 'histogram'
      ? histogramLines(m, sample, slice, openMetrics)
      : valueLines(sample, slice, openMetrics);
  }
}

function valueLines(sample: string, entries: SeriesEntry[], openMetrics: boolean): string {
  // One string grown by appends (V8 ropes), not an array of lines joined: about half the time.
  let out = '';
  for (const e of entries) {
    const labels = cachedLabels(e.labels);
    out += `\n${sample}${labels ? `{${labels}}` : ''} ${num(e.value ?? 0)}`;
    if (openMetrics && e.exemplar) out += exemplarText(e.exemplar);
  }
  return out;
}

function histogramLines(m: MetricLike, sample: string, entries: SeriesEntry[], openMetrics: boolean): string {
  const bounds = m.upperBounds ?? [];
  const leText = bounds.map((b) => `\n${sample}_bucket{le="${escapeLabelValue(b)}"`);
  const infText = `\n${sample}_bucket{le="+Inf"`;
  let out = '';
  for (const e of entries) {
    const shared = cachedLabels(e.labels);
    const tail = shared ? `,${shared}} ` : '} ';
    const values = e.bucketValues ?? {};
    let acc = 0;
    for (let i = 0; i < bounds.length; i++) {
      const b = bounds[i] as number;
      acc += values[b] ?? 0;
      out += leText[i] + tail + num(acc);
      const ex = openMetrics ? e.bucketExemplars?.[b] : undefined;
      if (ex) out += exemplarText(ex);
    }
    out += infText + tail + num(e.count ?? 0);
    const exInf = openMetrics ? e.bucketExemplars?.['-1'] : undefined;
    if (exInf) out += exemplarText(exInf);
    const braces = shared ? `{${shared}}` : '';
    out += `\n${sample}_sum${braces} ${num(e.sum ?? 0)}\n${sample}_count${braces} ${num(e.count ?? 0)}`;
  }
  return out;
}

/** Through the metric's public API, formatted as prom-client's registry formats it. */
async function renderGeneric(m: MetricLike, openMetrics: boolean): Promise<string> {
  const data = typeof m.getForPromString === 'function' ? await m.getForPromString() : await m.get();
  const { family } = familyName(m, openMetrics);
  const lines = header(family, m.help, m.type);
  for (const v of data.values ?? []) {
    let metricName = v.metricName ?? family;
    if (openMetrics && m.type === 'counter') metricName = `${metricName}_total`;
    const shared = v.sharedLabels ?? {};
    const parts = formatLabels(v.labels ?? {}, shared);
    const flatShared = formatLabels(shared).join(',');
    if (flatShared) parts.push(flatShared);
    let line = `${metricName}${parts.length ? `{${parts.join(',')}}` : ''} ${num(v.value)}`;
    if (openMetrics && v.exemplar) line += exemplarText(v.exemplar);
    lines.push(line);
  }
  return lines.join('\n');
}

function assertNoDefaultLabels(registry: Registry): void {
  if (Object.keys((registry as unknown as { _defaultLabels?: object })._defaultLabels ?? {}).length > 0) {
    throw new Error('renderRegistry: registry default labels are not supported (mcpwatch sets none)');
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Renders every metric of `registry` in one format, as a sequence of chunks whose concatenation
 * is the exposition. Between slices of a large family it yields to the event loop, so probes
 * keep their schedule while a scrape of thousands of targets is rendered.
 */
export async function* renderRegistryChunks(registry: Registry, openMetrics: boolean): AsyncGenerator<string> {
  assertNoDefaultLabels(registry);
  const metrics = registry.getMetricsAsArray() as unknown as MetricLike[];
  for (const [i, m] of metrics.entries()) {
    if (i > 0) yield openMetrics ? '\n' : '\n\n';
    if (isPlain(m)) {
      let slices = 0;
      for (const chunk of renderPlain(m, openMetrics)) {
        if (slices++ > 1) await nextTurn();
        yield chunk;
      }
    } else {
      yield await renderGeneric(m, openMetrics);
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
