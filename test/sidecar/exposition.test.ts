/**
 * /metrics in both formats, concurrently, as Prometheus (which prefers OpenMetrics) and a text
 * scraper would hit it: neither format may leak into the other, and counters keep `_total`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSidecar } from '../../src/sidecar.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { waitFor } from '../fixtures/prom-text.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { renderRegistry, renderRegistryChunks } from '../../src/metrics/exposition.js';
import { SeriesGauge, SeriesHistogram } from '../../src/metrics/series.js';

const OM = 'application/openmetrics-text; version=1.0.0';

test('OpenMetrics and text scrapes do not disturb each other', async () => {
  const demo = await startDemoServer(0);
  const { config } = parseConfig(
    `defaults: { interval: 1s, timeout: 800ms }\ntargets:\n  - { name: demo, url: ${demo.url} }\n`,
    {},
  );
  const sc = await startSidecar({
    config: config!,
    env: {},
    logger: silentLogger,
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: false,
    processMetrics: false,
  });
  after(async () => {
    await sc.close();
    await demo.close();
  });
  const url = `http://127.0.0.1:${sc.address.port}/metrics`;
  const get = async (accept?: string) => {
    const res = await fetch(url, { headers: accept ? { accept } : {} });
    return { type: res.headers.get('content-type') ?? '', body: await res.text() };
  };
  await waitFor(
    async () => /mcp_probes_total\{target="demo",result="success"\} [1-9]/.test((await get()).body),
    10_000,
    'a probe',
  );

  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => get(i % 2 === 0 ? OM : undefined)));
  results.push(await get());
  results.forEach((r, i) => {
    const om = i < 10 && i % 2 === 0;
    if (om) {
      assert.match(r.type, /application\/openmetrics-text/);
      assert.match(r.body, /^# TYPE mcp_probes counter$/m, `scrape ${i}`);
      assert.match(r.body, /^mcp_probes_total\{target="demo",result="success"\} \d+$/m, `scrape ${i}`);
      assert.ok(r.body.endsWith('# EOF\n'), `scrape ${i} ends with # EOF`);
    } else {
      assert.match(r.type, /text\/plain; version=0\.0\.4/);
      assert.match(r.body, /^# TYPE mcp_probes_total counter$/m, `scrape ${i}`);
      assert.match(r.body, /^mcp_probes_total\{target="demo",result="success"\} \d+$/m, `scrape ${i}`);
      assert.ok(!r.body.includes('# EOF'), `scrape ${i} is not OpenMetrics`);
    }
  });
});

/** A registry as mcpwatch fills it, plus the awkward cases: escaping, special values, exemplars. */
async function awkwardRegistry(): Promise<Registry> {
  const { Recorder } = await import('../../src/metrics/recorder.js');
  const { ConfigSchema, resolveConfig } = await import('../../src/config/schema.js');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const recorder = new Recorder(registry);
  const targets = resolveConfig(
    ConfigSchema.parse({
      targets: [
        { name: 'plain', url: 'http://127.0.0.1:1/mcp' },
        { name: 'second', url: 'http://127.0.0.1:2/mcp', sessions_expected_max: 5 },
      ],
    }),
  ).config!.targets;
  for (const t of targets) {
    recorder.addTarget(t);
    recorder.recordProbe(
      {
        target: t.name,
        success: t.name === 'plain',
        reason: t.name === 'plain' ? undefined : 'handshake',
        startedAtMs: Date.now(),
        durationSeconds: 0.0042,
        phases: { connect: 0.0003, handshake: 0.002, tools_list: 0.001 },
        httpStatus: 200,
        server: {
          name: 'srv "q" \\ \n',
          version: '1',
          protocolVersion: '2025-06-18',
          transport: 'streamable-http',
          era: 'legacy',
        },
        tools: [{ name: 'echo' }],
        toolListHash: 'abc',
        operations: [
          {
            method: 'initialize',
            durationSeconds: 0.002,
            traceId: '0af7651916cd43dd8448eb211c80319c',
            spanId: 'b7ad6b7169203331',
          },
          { method: 'tools/list', durationSeconds: 250, errorType: '-32603' },
        ],
        checks: [],
        log: [],
      } as never,
      false,
    );
  }
  // Observed proxy series for both targets; the scrape of 'second' replaces its own (external series).
  recorder.recordProxyOperation('plain', { method: 'tools/call', errorType: '', tool: 'echo' }, 0.03);
  recorder.recordProxyOperation('second', { method: 'tools/call', errorType: '' }, 0.03);
  recorder.recordProxySessionEnd('plain', 12);
  recorder.recordScrape({
    target: 'second',
    success: true,
    durationSeconds: 0.01,
    operationDuration: [
      {
        labels: { mcp_method_name: 'tools/call', error_type: '' },
        buckets: [
          [0.1, 3],
          [1, 5],
          [Infinity, 6],
        ],
        sum: 4.25,
        count: 6,
      },
    ],
    sessionDuration: [{ labels: {}, buckets: [[Infinity, 1]], sum: 7, count: 1 }],
  });
  recorder.recordScheduleLag(0.2);
  const extra = new Gauge({
    name: 'awkward_values',
    help: 'help with \\ and\nnewline',
    labelNames: ['k'],
    registers: [registry],
  });
  extra.set({ k: 'nan' }, Number.NaN);
  extra.set({ k: 'inf' }, Infinity);
  extra.set({ k: 'ninf' }, -Infinity);
  extra.set({ k: 'tiny' }, 1e-9);
  extra.set({ k: 'q"uo\\te\nx' }, 1);
  new Counter({ name: 'awkward_no_suffix', help: 'a counter without _total', registers: [registry] }).inc(3);
  // prom-client refuses exemplars when registering on a text registry: register by hand, as the Recorder does.
  const ex = new Counter({
    name: 'awkward_exemplars_total',
    help: 'x',
    labelNames: ['a'],
    enableExemplars: true,
    registers: [],
  });
  registry.registerMetric(ex);
  ex.inc({ labels: { a: '1' }, value: 2, exemplarLabels: { trace_id: 'abc' } } as never);
  const h = new Histogram({ name: 'awkward_hist', help: 'h', buckets: [0.1, 1], enableExemplars: true, registers: [] });
  registry.registerMetric(h);
  h.observe({ value: 0.05, exemplarLabels: { trace_id: 'one' } });
  h.observe({ value: 50, exemplarLabels: { trace_id: 'inf' } });
  new Gauge({
    name: 'awkward_collected',
    help: 'set in collect',
    registers: [registry],
    collect() {
      this.set(7);
    },
  });
  return registry;
}

/** prom-client's own rendering in one format (on a registry no one else is using). */
async function promClientRender(registry: Registry, openMetrics: boolean): Promise<string> {
  const counters = registry
    .getMetricsAsArray()
    .filter((m) => (m as unknown as { type: string }).type === 'counter') as unknown as Array<{ name: string }>;
  const names = counters.map((c) => c.name);
  registry.setContentType(
    (openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE) as never,
  );
  try {
    return await registry.metrics();
  } finally {
    registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE as never);
    counters.forEach((c, i) => (c.name = names[i]!));
  }
}

/** Exemplar and process-metric timestamps and values move between two renders: blank them. */
function stable(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(process|nodejs)_/.test(l) && !/^# (HELP|TYPE) (process|nodejs)_/.test(l))
    .join('\n')
    .replace(/ # (\{[^}]*\}) (\S+) \d+(\.\d+)?$/gm, ' # $1 $2 TS');
}

for (const openMetrics of [false, true]) {
  test(`renderRegistry writes the bytes prom-client writes (${openMetrics ? 'OpenMetrics' : 'text 0.0.4'})`, async () => {
    const registry = await awkwardRegistry();
    const ours = await renderRegistry(registry, openMetrics);
    const theirs = await promClientRender(registry, openMetrics);
    assert.ok(ours.includes('awkward_collected 7'), 'collect hooks run');
    assert.match(ours, /_bucket\{le="1",target="second",mcp_method_name="tools\/call",error_type=""\} 5$/m, 'scraped');
    assert.doesNotMatch(ours, /_bucket\{le="0\.05",target="second",mcp_method_name="tools\/call"/, 'observed hidden');
    assert.match(
      ours,
      /_bucket\{le="0\.05",target="plain",mcp_method_name="tools\/call",error_type="",gen_ai_tool_name="echo"\} 1$/m,
    );
    assert.ok(ours.includes('awkward_values{k="q\\"uo\\\\te\\nx"} 1'), 'label values escaped');
    if (openMetrics) assert.match(ours, /awkward_hist_bucket\{le="\+Inf"\} 2 # \{trace_id="inf"\} 50 /);
    assert.equal(stable(ours), stable(theirs));
    // The process metrics are rendered too (their values move, so only their presence is compared).
    assert.match(ours, /^process_cpu_user_seconds_total(_total)? /m);
  });
}

test('a large family is rendered in slices, yielding to the event loop between them, with the same bytes', async () => {
  const registry = new Registry();
  const g = new Gauge({ name: 'many', help: 'one series per label value', labelNames: ['i'], registers: [registry] });
  for (let i = 0; i < 1200; i++) g.set({ i: String(i) }, i);
  const h = new Histogram({ name: 'many_hist', help: 'h', labelNames: ['i'], buckets: [1, 2], registers: [registry] });
  for (let i = 0; i < 1200; i++) h.observe({ i: String(i) }, i % 3);
  // The same through mcpwatch's own classes (rendered from their series, not through get()).
  const own = new SeriesGauge({ name: 'own_many', help: 'ours', labelNames: ['i'], registers: [registry] });
  for (let i = 0; i < 1200; i++) own.set({ i: String(i) }, i);
  const ownH = new SeriesHistogram({
    name: 'own_hist',
    help: 'h',
    labelNames: ['i'],
    buckets: [1, 2],
    registers: [registry],
  });
  for (let i = 0; i < 1200; i++) ownH.observe({ i: String(i) }, i % 3);
  let turns = 0;
  let tick: NodeJS.Immediate;
  const spin = () => {
    turns++;
    tick = setImmediate(spin);
  };
  tick = setImmediate(spin);
  const chunks: string[] = [];
  try {
    for await (const c of renderRegistryChunks(registry, false)) chunks.push(c);
  } finally {
    clearImmediate(tick!);
  }
  assert.ok(chunks.length >= 16, `chunks: ${chunks.length}`);
  assert.ok(turns >= 2, `the event loop ran ${turns} times while rendering`);
  assert.equal(chunks.join(''), await promClientRender(registry, false));
});
