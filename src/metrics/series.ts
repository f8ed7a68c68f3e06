/**
 * mcpwatch's own Gauge, Counter and Histogram: the series the Recorder writes, kept in plain
 * maps that this module owns, so `/metrics` (exposition.ts) can render them without reading
 * prom-client's private fields.
 *
 * They take the calls the Recorder makes of prom-client's classes (`set`, `inc`, `observe`,
 * `remove`, the object form of `observe` with exemplar labels) and behave the same way: the same
 * label validation and errors, a series keeps its place when it is updated, a label-less metric
 * has its one series from the start. They implement prom-client's public metric shape (`name`,
 * `help`, `type`, `aggregator`, `get()`, `reset()`), so they are registered with the public
 * `registry.registerMetric()` and `registry.metrics()`/`getMetricsAsJSON()` render them too;
 * test/metrics/series.test.ts checks `get()` against prom-client's own classes.
 */
import { inspect } from 'node:util';
import type { Metric, Registry } from 'prom-client';

export type Labels = Record<string, string | number>;

export interface Exemplar {
  labelSet: Labels;
  value: number;
  timestamp: number;
}

/** A sample in the shape of prom-client's public `get()`. */
export interface SampleValue {
  labels: Labels;
  value: number;
  metricName?: string;
  exemplar?: Exemplar | null;
}

export interface MetricData {
  name: string;
  help: string;
  type: string;
  values: SampleValue[];
  aggregator: string;
}

interface Options {
  name: string;
  help: string;
  labelNames?: readonly string[];
  registers?: Registry[];
}

/** The key of a label set, independent of key order (as prom-client's own). */
function keyOf(sortedNames: readonly string[], labels: Labels): string {
  let key = '';
  for (const name of sortedNames) {
    const v = labels[name];
    if (v !== undefined) key += `${name}:${v},`;
  }
  return key;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object';
}

function checkExemplarLabels(labelSet: Labels): void {
  let s = '';
  for (const [k, v] of Object.entries(labelSet)) s += `${k}${v}`;
  if (s.length > 128) throw new RangeError('Label set size must be smaller than 128 UTF-8 chars');
}

/** What the three kinds share: name, labels, registration. */
export abstract class SeriesMetric<S extends { labels: Labels }> {
  name: string;
  readonly help: string;
  abstract readonly type: 'gauge' | 'counter' | 'histogram';
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';
  protected readonly sortedNames: readonly string[];
  /** Series by label key, in creation order. */
  protected series = new Map<string, S>();

  constructor(opts: Options) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = [...(opts.labelNames ?? [])];
    this.sortedNames = [...this.labelNames].sort();
    for (const r of opts.registers ?? []) r.registerMetric(this as unknown as Metric);
  }

  protected check(labels: Labels): void {
    for (const name in labels) {
      if (!this.labelNames.includes(name))
        throw new Error(`Added label "${name}" is not included in initial labelset: ${inspect(this.labelNames)}`);
    }
  }

  protected key(labels: Labels): string {
    return keyOf(this.sortedNames, labels);
  }

  /** Every series, in the order they render. */
  entries(): S[] {
    return [...this.series.values()];
  }

  remove(labels: Labels): void {
    this.check(labels);
    this.series.delete(this.key(labels));
  }

  abstract reset(): void;
  abstract get(): Promise<MetricData>;

  protected data(values: SampleValue[]): MetricData {
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface ValueSeries {
  labels: Labels;
  value: number;
  exemplar?: Exemplar | null;
}

/** What a gauge and a counter share: one value per series, adding to it, reset and get. */
abstract class ValueMetric extends SeriesMetric<ValueSeries> {
  constructor(opts: Options) {
    super(opts);
    this.reset();
  }

  /** Adds `v` to the series of `l` (created at `v`); `l` already checked. */
  protected add(l: Labels, v: number): void {
    const key = this.key(l);
    const s = this.series.get(key);
    if (s) s.value += v;
    else this.series.set(key, { labels: l, value: v });
  }

  reset(): void {
    this.series = new Map();
    if (this.labelNames.length === 0) this.series.set('', { labels: {}, value: 0 });
  }

  async get(): Promise<MetricData> {
    return this.data(this.entries().map((s) => ({ value: s.value, labels: s.labels })));
  }
}

export class SeriesGauge extends ValueMetric {
  readonly type = 'gauge';

  set(labels: Labels | number, value?: number): void {
    const [l, v] = isObject(labels) ? [labels, value] : [{}, labels];
    if (typeof v !== 'number') throw new TypeError(`Value is not a valid number: ${inspect(v)}`);
    this.check(l);
    const key = this.key(l);
    const s = this.series.get(key);
    // Like prom-client: the series keeps its place, with the labels object of the latest call.
    if (s) {
      s.value = v;
      s.labels = l;
    } else this.series.set(key, { labels: l, value: v });
  }

  inc(labels?: Labels | number, value?: number): void {
    const [l, v] = isObject(labels) ? [labels, value ?? 1] : [{}, labels ?? 1];
    if (typeof v !== 'number') throw new TypeError(`Delta is not a valid number: ${inspect(v)}`);
    this.check(l);
    this.add(l, v);
  }
}

export class SeriesCounter extends ValueMetric {
  readonly type = 'counter';

  inc(labels?: Labels | number, value?: number): void {
    const [l, raw] = isObject(labels) ? [labels, value] : [{}, labels];
    if (raw && !Number.isFinite(raw)) throw new TypeError(`Value is not a valid number: ${inspect(raw)}`);
    if ((raw ?? 0) < 0) throw new Error('It is not possible to decrease a counter');
    this.check(l);
    this.add(l, raw ?? 1);
  }
}

export interface HistogramEntry {
  labels: Labels;
  /** Observations per bucket (not cumulative); the last slot is the one above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
  /** Per bucket, like `counts`; only on exemplar-enabled histograms. */
  exemplars?: Array<Exemplar | undefined>;
}

/** A series supplied whole from outside (a scraped server's own cumulative buckets). */
export interface ExternalHistogramSeries {
  labels: Record<string, string>;
  /** Cumulative counts by upper bound, ascending, ending with +Inf. */
  buckets: ReadonlyArray<readonly [number, number]>;
  sum: number;
  count: number;
}

/**
 * Series that replace a histogram's observed ones, per value of its `target` label: a target in
 * the map has only these series rendered, labelled `{target, ...labels}`, after the observed ones.
 */
export type ExternalSource = () => ReadonlyMap<string, readonly ExternalHistogramSeries[]>;

interface HistogramOptions extends Options {
  buckets: readonly number[];
  enableExemplars?: boolean;
}

interface ObserveObject {
  labels?: Labels;
  value: number;
  exemplarLabels?: Labels;
}

export class SeriesHistogram extends SeriesMetric<HistogramEntry> {
  readonly type = 'histogram';
  /** Upper bounds, ascending, without +Inf. */
  readonly bounds: readonly number[];
  readonly exemplars: boolean;
  external?: ExternalSource;

  constructor(opts: HistogramOptions) {
    super(opts);
    if (this.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    this.bounds = Object.freeze([...opts.buckets]);
    this.exemplars = opts.enableExemplars === true;
    if (this.labelNames.length === 0) this.series.set('', this.fresh({}));
  }

  private fresh(labels: Labels): HistogramEntry {
    const e: HistogramEntry = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    if (this.exemplars) e.exemplars = new Array<Exemplar | undefined>(this.bounds.length + 1);
    return e;
  }

  /** `observe(value)`, `observe(labels, value)`, or on an exemplar histogram `observe({labels, value, exemplarLabels})`. */
  observe(labels: Labels | number | ObserveObject, value?: number): void {
    let l: Labels;
    let v: number | undefined;
    let exemplarLabels: Labels | undefined;
    if (this.exemplars && isObject(labels)) {
      const o = labels as unknown as ObserveObject;
      l = o.labels ?? {};
      v = o.value;
      exemplarLabels = o.exemplarLabels;
    } else if (isObject(labels)) {
      l = labels as Labels;
      v = value;
    } else {
      l = {};
      v = labels as number;
    }
    this.check(l);
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${inspect(v)}`);
    const x = v as number;
    const key = this.key(l);
    let e = this.series.get(key);
    if (!e) {
      e = this.fresh(l);
      this.series.set(key, e);
    }
    let i = 0;
    while (i < this.bounds.length && x > (this.bounds[i] as number)) i++;
    e.sum += x;
    e.count += 1;
    (e.counts as Float64Array)[i]! += 1;
    if (e.exemplars && exemplarLabels && Object.keys(exemplarLabels).length > 0) {
      checkExemplarLabels(exemplarLabels);
      e.exemplars[i] = { labelSet: exemplarLabels, value: x, timestamp: Date.now() / 1000 };
    }
  }

  /** Observed series, less those of targets the external source supplies. */
  visible(byTarget: ReadonlyMap<string, unknown> | undefined): HistogramEntry[] {
    const all = this.entries();
    if (!byTarget || byTarget.size === 0) return all;
    return all.filter((e) => !byTarget.has(String(e.labels.target)));
  }

  reset(): void {
    this.series = new Map();
  }

  async get(): Promise<MetricData> {
    const byTarget = this.external?.();
    const bucket = `${this.name}_bucket`;
    const values: SampleValue[] = [];
    for (const e of this.visible(byTarget)) {
      let acc = 0;
      this.bounds.forEach((b, i) => {
        acc += e.counts[i] as number;
        values.push({
          labels: { le: b, ...e.labels },
          value: acc,
          metricName: bucket,
          exemplar: e.exemplars?.[i] ?? null,
        });
      });
      const inf = e.exemplars?.[this.bounds.length] ?? null;
      values.push({ labels: { le: '+Inf', ...e.labels }, value: e.count, metricName: bucket, exemplar: inf });
      values.push({ labels: { ...e.labels }, value: e.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...e.labels }, value: e.count, metricName: `${this.name}_count` });
    }
    for (const [target, list] of byTarget ?? []) {
      for (const s of list) {
        const shared = { target, ...s.labels };
        for (const [le, count] of s.buckets)
          values.push({ labels: { le: le === Infinity ? '+Inf' : le, ...shared }, value: count, metricName: bucket });
        values.push({ labels: { ...shared }, value: s.sum, metricName: `${this.name}_sum` });
        values.push({ labels: { ...shared }, value: s.count, metricName: `${this.name}_count` });
      }
    }
    return this.data(values);
  }
}
