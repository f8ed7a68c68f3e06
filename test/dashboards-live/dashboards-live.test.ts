/**
 * Every panel and every variable query of the mcpwatch dashboards returns data from a real
 * Prometheus (Debian's 2.42) scraping a real mcpwatch that probes real MCP servers every second:
 * the built-in demo (healthy), a canary whose tool always errors (error panels), and a closed
 * port (failure panels). Prometheus loads the generated alerts/mcpwatch.rules.yml, and 26 h of
 * probe-duration history is backfilled with `promtool tsdb create-blocks-from openmetrics` so the
 * 1-day baselines (dashboard and recording rule) have a real window behind them.
 *
 * Internal metrics (`mcp_server_*`, `mcp_internal_scrape_success`): the scrape/proxy feature
 * (src/scrape, src/proxy) was not wired into the sidecar when this test was written, so a small
 * node:http endpoint below serves those series (names, help and buckets from
 * src/metrics/names.ts, values moving on every scrape) with the mcpwatch job/instance/target
 * labels, scraped by an extra `honor_labels` job. Once the sidecar exports them itself, drop
 * that job and this test proves the real thing.
 *
 * A dashboard's `target` variable holds one value at a time: a panel passes when it has data for
 * at least one of the three targets (what "All" would show), and a query error fails at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Histogram, Gauge, Registry } from 'prom-client';
import { startSidecar } from '../../src/sidecar.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { parseConfig, formatIssues } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { METRICS } from '../../src/metrics/names.js';
import { allDashboardQueries, type DashboardQuery } from '../../dashboards/queries.js';
import { freePort, listenTracked, refusedPort, waitForPort } from '../fixtures/net.js';
import { startNamedServer } from '../status-page/fixtures/named-server.js';

const RULES = resolve('alerts/mcpwatch.rules.yml');
const TARGETS = ['demo', 'billing', 'legacy'] as const;
const SCRAPE_SECONDS = 25;

/** Serves the in-server metrics for `targets`, advancing them on every scrape (see the file comment). */
async function startInternalMetrics(job: string, instance: string) {
  const registry = new Registry();
  const L = ['job', 'instance'];
  const op = new Histogram({ name: METRICS.serverOperationDuration.name, help: METRICS.serverOperationDuration.help, labelNames: [...L, ...METRICS.serverOperationDuration.labels], buckets: [...METRICS.serverOperationDuration.buckets], registers: [registry] });
  const session = new Histogram({ name: METRICS.serverSessionDuration.name, help: METRICS.serverSessionDuration.help, labelNames: [...L, ...METRICS.serverSessionDuration.labels], buckets: [...METRICS.serverSessionDuration.buckets], registers: [registry] });
  const sessions = new Gauge({ name: METRICS.serverSessionsActive.name, help: METRICS.serverSessionsActive.help, labelNames: [...L, 'target'], registers: [registry] });
  const calls = new Gauge({ name: METRICS.serverToolCallsActive.name, help: METRICS.serverToolCallsActive.help, labelNames: [...L, 'target'], registers: [registry] });
  const scrapeOk = new Gauge({ name: METRICS.internalScrapeSuccess.name, help: METRICS.internalScrapeSuccess.help, labelNames: [...L, 'target'], registers: [registry] });
  let tick = 0;
  const advance = () => {
    tick++;
    for (const target of ['demo', 'billing']) {
      const base = { job, instance, target };
      for (let i = 0; i < 5; i++) {
        op.observe({ ...base, mcp_method_name: 'tools/call', error_type: '' }, 0.005 + 0.01 * i);
        op.observe({ ...base, mcp_method_name: 'tools/list', error_type: '' }, 0.002 * (i + 1));
      }
      if (target === 'billing') op.observe({ ...base, mcp_method_name: 'tools/call', error_type: 'tool_error' }, 0.03);
      session.observe(base, 20 + (tick % 7) * 10);
      sessions.set(base, 3 + (tick % 4));
      calls.set(base, tick % 3);
      scrapeOk.set(base, 1);
    }
  };
  const server = createServer((_req, res) => {
    advance();
    void registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
  });
  const { port, close } = await listenTracked(server);
  return { address: `127.0.0.1:${port}`, close };
}

/** OpenMetrics text with timestamps: 26 h of probe durations and their 5 m average, one point a minute, ending an hour ago. */
function backfillText(job: string, instance: string, nowS: number): string {
  const end = Math.floor(nowS / 60) * 60 - 3600;
  const start = end - 26 * 3600;
  const lines: string[] = [];
  for (const [name, help] of [
    ['mcp_probe_duration_seconds', METRICS.probeDuration.help],
    ['target:mcp_probe_duration_seconds:avg5m', 'Backfilled recording-rule output.'],
  ] as const) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const target of ['demo', 'billing']) {
      for (let t = start; t <= end; t += 60) {
        const v = 0.02 + 0.005 * Math.sin(t / 3600);
        lines.push(`${name}{job="${job}",instance="${instance}",target="${target}"} ${v.toFixed(5)} ${t}`);
      }
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

async function promGet(base: string, path: string, params: Record<string, string>): Promise<{ status: string; data: unknown; error?: string }> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  return (await res.json()) as { status: string; data: unknown; error?: string };
}

/** Runs one dashboard query the way Grafana would (instant or range); returns the series count or throws on a Prometheus error. */
async function runQuery(base: string, q: DashboardQuery, nowS: number): Promise<number> {
  const r = q.instant
    ? await promGet(base, '/api/v1/query', { query: q.expr, time: String(nowS) })
    : await promGet(base, '/api/v1/query_range', { query: q.expr, start: String(nowS - 20), end: String(nowS), step: '2' });
  if (r.status !== 'success') throw new Error(`${q.dashboard} / ${q.panel} / ${q.refId}: ${r.error}\n${q.expr}`);
  const result = (r.data as { result: Array<{ metric: Record<string, string> }> }).result;
  if (q.label) return result.filter((s) => s.metric[q.label as string] !== undefined).length;
  return result.length;
}

test('every dashboard panel and variable query returns data from a real Prometheus scraping mcpwatch', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-dashboards-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const demo = await startDemoServer(0);
  t.after(() => demo.close());
  const billing = await startNamedServer({ name: 'billing-mcp', tools: () => ['lookup_invoice'], failingTool: 'charge' });
  t.after(() => billing.close());
  const closed = await refusedPort();
  const yaml = `defaults:
  interval: 1s
  timeout: 800ms
targets:
  - name: demo
    url: ${demo.url}
    sessions_expected_max: 8
  - name: billing
    url: ${billing.url}
    sessions_expected_max: 4
    latency_slo: 250ms
    canary:
      tool: charge
  - name: legacy
    url: http://127.0.0.1:${closed}/mcp
`;
  const { config, issues } = parseConfig(yaml, {}, 'dashboards-live.test');
  assert.ok(config, formatIssues(issues));
  const sidecar = await startSidecar({ config, env: {}, logger: silentLogger, listen: { host: '127.0.0.1', port: 0 }, enableLifecycle: false, processMetrics: true });
  t.after(() => sidecar.close());
  const instance = `127.0.0.1:${sidecar.address.port}`;
  const internal = await startInternalMetrics('mcpwatch', instance);
  t.after(() => internal.close());

  // History first, into the TSDB directory Prometheus will open.
  const nowAtStart = Math.floor(Date.now() / 1000);
  const tsdb = join(dir, 'tsdb');
  writeFileSync(join(dir, 'backfill.om'), backfillText('mcpwatch', instance, nowAtStart));
  const bf = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'backfill.om'), tsdb], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bf.status, 0, `promtool backfill failed:\n${bf.stdout}\n${bf.stderr}`);

  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - ${JSON.stringify(RULES)}
scrape_configs:
  - job_name: mcpwatch
    static_configs:
      - targets: [${JSON.stringify(instance)}]
  # Stand-in for the not-yet-wired scrape/proxy feature: series carry job/instance/target themselves.
  - job_name: mcpwatch-internal-standin
    honor_labels: true
    static_configs:
      - targets: [${JSON.stringify(internal.address)}]
`,
  );
  const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(check.status, 0, `promtool check config:\n${check.stdout}\n${check.stderr}`);

  const promPort = await freePort();
  let promLog = '';
  const prom: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${tsdb}`, `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.retention.time=30d', '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prom.stdout?.on('data', (d) => (promLog += String(d)));
  prom.stderr?.on('data', (d) => (promLog += String(d)));
  const exited = new Promise<void>((r) => prom.once('exit', () => r()));
  t.after(async () => {
    if (prom.exitCode === null) prom.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (prom.exitCode === null) prom.kill('SIGKILL');
  });
  await waitForPort(promPort, 20_000, () => prom.exitCode === null).catch((err) => assert.fail(`${err}\n${promLog}`));
  const base = `http://127.0.0.1:${promPort}`;

  // Let it scrape; stop early once every target of both jobs is up and has enough samples.
  await new Promise((r) => setTimeout(r, SCRAPE_SECONDS * 1000));
  const nowS = Math.floor(Date.now() / 1000);

  const up = await promGet(base, '/api/v1/query', { query: 'up', time: String(nowS) });
  const ups = (up.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
  assert.deepEqual(ups.map((s) => `${s.metric.job}=${s.value[1]}`).sort(), ['mcpwatch-internal-standin=1', 'mcpwatch=1'], promLog);

  // The backfilled day is really there (a 1-day baseline is computed over it, not over 25 s).
  const days = await promGet(base, '/api/v1/query', { query: 'count_over_time(mcp_probe_duration_seconds{job="mcpwatch",target="demo"}[1d])', time: String(nowS) });
  const count = Number((days.data as { result: Array<{ value: [number, string] }> }).result[0]?.value[1] ?? 0);
  assert.ok(count > 1000, `backfilled history missing: ${count} samples in the last day`);

  // The rules loaded and evaluate without errors; the 1-day recording rule has data.
  const rules = await promGet(base, '/api/v1/rules', {});
  const groups = (rules.data as { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }).groups;
  assert.ok(groups.length > 0, 'rule file not loaded');
  const bad = groups.flatMap((g) => g.rules).filter((r) => r.health === 'err');
  assert.deepEqual(bad, [], 'rules evaluate without errors');
  const median = await promGet(base, '/api/v1/query', { query: 'target:mcp_probe_duration_seconds:avg5m_median1d{target="demo"}', time: String(nowS) });
  assert.equal((median.data as { result: unknown[] }).result.length, 1, 'the 1-day median recording rule has data from the backfill');

  // Every dashboard query.
  const perTarget = TARGETS.map((target) => allDashboardQueries({ job: 'mcpwatch', instance, target, rateInterval: '1m' }));
  const empty: string[] = [];
  const allowedEmpty: string[] = [];
  let checked = 0;
  for (let i = 0; i < perTarget[0]!.length; i++) {
    const variants = perTarget.map((qs) => qs[i]!);
    const q = variants[0]!;
    let series = 0;
    for (const v of variants) series = Math.max(series, await runQuery(base, v, nowS));
    checked++;
    if (series === 0 && q.allowEmpty) allowedEmpty.push(`${q.dashboard} / ${q.panel}`);
    if (series === 0 && !q.allowEmpty) empty.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${q.expr}`);
  }
  t.diagnostic(`${checked} queries checked against Prometheus; allowed empty and empty: ${allowedEmpty.join('; ') || 'none'}`);
  assert.ok(checked > 50, `only ${checked} queries found`);
  assert.deepEqual(empty, [], `panels or variables without data:\n${empty.join('\n')}`);

  // The target variable lists every probed target.
  const targetVar = perTarget[0]!.find((q) => q.dashboard === 'mcpwatch-fleet' && q.panel === 'variable target')!;
  const listed = await promGet(base, '/api/v1/query', { query: targetVar.expr, time: String(nowS) });
  assert.deepEqual((listed.data as { result: Array<{ metric: Record<string, string> }> }).result.map((s) => s.metric.target).sort(), [...TARGETS].sort());
});
