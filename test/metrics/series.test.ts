/**
 * mcpwatch's own metric classes (src/metrics/series.ts) against prom-client's: the same calls
 * give the same public get() and the same registry.metrics() text, and the same errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SeriesCounter, SeriesGauge, SeriesHistogram } from '../../src/metrics/series.js';
import { renderRegistry } from '../../src/metrics/exposition.js';

type Ops = {
  gauge: { set(...a: unknown[]): void; inc(...a: unknown[]): void; remove(...a: unknown[]): void };
  counter: { inc(...a: unknown[]): void; remove(...a: unknown[]): void };
  hist: { observe(...a: unknown[]): void; remove(...a: unknown[]): void };
  exHist: { observe(...a: unknown[]): void };
  bare: { set(...a: unknown[]): void };
  bareHist: { observe(...a: unknown[]): void };
};

function exercise(o: Ops): void {
  o.gauge.set({ target: 'a', phase: 'x' }, 1);
  o.gauge.set({ phase: 'y', target: 'a' }, 2);
  o.gauge.set({ target: 'b', phase: 'x' }, Number.NaN);
  o.gauge.inc({ target: 'a', phase: 'x' }, 0.5);
  o.gauge.set({ target: 'c', phase: 'x' }, 3);
  o.gauge.set({ phase: 'x', target: 'c' }, 4); // same series, labels in another order
  o.gauge.remove({ target: 'b', phase: 'x' });
  o.gauge.set({ target: 'b', phase: 'x' }, -Infinity);
  o.counter.inc({ target: 'a', result: 'success' }, 0);
  o.counter.inc({ target: 'a', result: 'failure' });
  o.counter.inc({ target: 'a', result: 'success' }, 2.5);
  o.counter.inc({ target: 'b', result: 'success' });
  o.counter.remove({ target: 'b', result: 'success' });
  for (const v of [0, 0.1, 0.7, 1, 3, 99]) o.hist.observe({ target: 'a', m: 'q"\\\n' }, v);
  o.hist.observe({ target: 'b', m: 'x' }, 0.2);
  o.hist.remove({ target: 'b', m: 'x' });
  o.hist.observe({ target: 'c', m: 'x' }, 0.2);
  o.exHist.observe({ labels: { target: 'a' }, value: 0.05, exemplarLabels: { trace_id: 't1' } });
  o.exHist.observe({ labels: { target: 'a' }, value: 50, exemplarLabels: { trace_id: 't2' } });
  o.exHist.observe({ labels: { target: 'b' }, value: 0.5 });
  o.bare.set(4);
  o.bareHist.observe(0.3);
}

function theirs(registry: Registry): Ops {
  const registers = [registry];
  const exHist = new Histogram({
    name: 'ex_hist',
    help: 'e',
    labelNames: ['target'],
    buckets: [0.1, 1],
    enableExemplars: true,
    registers: [],
  });
  const ops = {
    gauge: new Gauge({ name: 'g', help: 'gauge', labelNames: ['target', 'phase'], registers }),
    counter: new Counter({ name: 'c_total', help: 'counter', labelNames: ['target', 'result'], registers }),
    hist: new Histogram({
      name: 'h',
      help: 'hist',
      labelNames: ['target', 'm'],
      buckets: [0.1, 0.5, 1, 10],
      registers,
    }),
    exHist,
    bare: new Gauge({ name: 'bare', help: 'no labels', registers }),
    bareHist: new Histogram({ name: 'bare_hist', help: 'no labels', buckets: [1], registers }),
  };
  registry.registerMetric(exHist);
  return ops as unknown as Ops;
}

function ours(registry: Registry): Ops {
  const registers = [registry];
  const exHist = new SeriesHistogram({
    name: 'ex_hist',
    help: 'e',
    labelNames: ['target'],
    buckets: [0.1, 1],
    enableExemplars: true,
  });
  const ops = {
    gauge: new SeriesGauge({ name: 'g', help: 'gauge', labelNames: ['target', 'phase'], registers }),
    counter: new SeriesCounter({ name: 'c_total', help: 'counter', labelNames: ['target', 'result'], registers }),
    hist: new SeriesHistogram({
      name: 'h',
      help: 'hist',
      labelNames: ['target', 'm'],
      buckets: [0.1, 0.5, 1, 10],
      registers,
    }),
    exHist,
    bare: new SeriesGauge({ name: 'bare', help: 'no labels', registers }),
    bareHist: new SeriesHistogram({ name: 'bare_hist', help: 'no labels', buckets: [1], registers }),
  };
  registry.registerMetric(exHist as never);
  return ops as unknown as Ops;
}

/** get() of every metric, exemplar timestamps blanked. */
async function snapshot(registry: Registry): Promise<unknown> {
  const out = await Promise.all(
    registry.getMetricsAsArray().map(async (m) => {
      const d = await (m as unknown as { get(): Promise<{ name: string; type: string; values: unknown[] }> }).get();
      return {
        name: d.name,
        type: d.type,
        values: d.values.map((v) => {
          const { labels, value, metricName, exemplar } = v as Record<string, unknown>;
          const ex = exemplar as { labelSet: unknown; value: number } | null | undefined;
          return { labels, value, metricName, exemplar: ex ? { labelSet: ex.labelSet, value: ex.value } : null };
        }),
      };
    }),
  );
  return out;
}

const noTs = (s: string) => s.replace(/ # (\{[^}]*\}) (\S+) \d+(\.\d+)?$/gm, ' # $1 $2 TS');

test('our metric classes give the get() and the text that prom-client gives for the same calls', async () => {
  const a = new Registry();
  const b = new Registry();
  exercise(theirs(a));
  exercise(ours(b));
  assert.deepEqual(await snapshot(b), await snapshot(a));
  assert.equal(await b.metrics(), await a.metrics());
  for (const om of [false, true]) assert.equal(noTs(await renderRegistry(b, om)), noTs(await renderRegistry(a, om)));
});

test('our metric classes refuse what prom-client refuses', () => {
  const registry = new Registry();
  const g = new SeriesGauge({ name: 'g', help: 'h', labelNames: ['a'], registers: [registry] });
  assert.throws(() => g.set({ b: 'x' }, 1), /Added label "b" is not included in initial labelset/);
  assert.throws(() => g.set({ a: 'x' }, 'x' as never), TypeError);
  const c = new SeriesCounter({ name: 'c', help: 'h', labelNames: ['a'] });
  assert.throws(() => c.inc({ a: 'x' }, -1), /not possible to decrease a counter/);
  assert.throws(() => c.inc({ a: 'x' }, Infinity), TypeError);
  const h = new SeriesHistogram({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1] });
  assert.throws(() => h.observe({ a: 'x' }, Number.NaN), TypeError);
  assert.throws(() => new SeriesHistogram({ name: 'x', help: 'h', labelNames: ['le'], buckets: [1] }), /reserved/);
  assert.throws(() => new SeriesGauge({ name: 'g', help: 'other', registers: [registry] }), /already been registered/);
});
