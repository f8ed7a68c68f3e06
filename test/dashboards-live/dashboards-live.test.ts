/**
 * Every panel and every variable query of the mcpwatch dashboards returns data from a real
 * Prometheus (Debian's 2.42) scraping a real mcpwatch that probes real MCP servers every second:
 * the built-in demo (healthy), a canary whose tool always errors (error panels), a closed port
 * (failure panels), and an SDK server with agents in front of it. Prometheus loads the generated
 * alerts/mcpwatch.rules.yml, and 26 h of probe-duration history is backfilled with
 * `promtool tsdb create-blocks-from openmetrics` so the 1-day baselines (dashboard and recording
 * rule) have a real window behind them.
 *
 * Internal metrics come out of mcpwatch's own /metrics, the only job Prometheus scrapes:
 * - `agents` (proxy): mcpwatch listens as a transparent proxy (`internal.proxy`) in front of the
 *   SDK tool server of test/proxy, and real SDK clients work through it: sessions opened and
 *   ended with DELETE, tools listed, tool calls that answer, fail (`isError`) and sleep across a
 *   scrape. Sessions, tool calls in flight, operation and session durations, errors by type.
 * - `demo` (scrape): mcpwatch scrapes a server endpoint in OTel semconv names
 *   (`internal.metrics_url`, the endpoint of test/alerts-e2e): `mcp_internal_scrape_success`
 *   exists only this way.
 * Each internal panel must have data for the target that supplies it, not just any target.
 *
 * A dashboard's `target` variable holds one value at a time: a panel passes when it has data for
 * at least one of the targets (what "All" would show), and a query error fails at once. A series
 * counts as data only if it has a number that is not NaN (Grafana draws nothing for NaN).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSidecar } from '../../src/sidecar.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { parseConfig, formatIssues } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { METRICS } from '../../src/metrics/names.js';
import { allDashboardQueries, type DashboardQuery } from '../../dashboards/queries.js';
import { freePort, refusedPort, waitForPort } from '../fixtures/net.js';
import { startNamedServer } from '../fixtures/named-server.js';
import { startToolServer } from '../fixtures/tool-server.js';
import { connectClient } from '../fixtures/proxy-helpers.js';
import { startMetricsEndpoint } from '../fixtures/prometheus-stack.js';

const RULES = resolve('alerts/mcpwatch.rules.yml');
const TARGETS = ['demo', 'billing', 'legacy', 'agents'] as const;
const SCRAPE_SECONDS = 25;
/** Sessions the scraped endpoint of `demo` reports. */
const DEMO_SESSIONS = 3;
/** SDK agents working through the proxy of `agents` at once. */
const AGENTS = 3;
/** How long the `sleep` tool call of each agent round is held open: longer than a scrape interval. */
const SLEEP_MS = 1500;

/** The internal series and which target supplies them in this test (proxy or scrape). */
const SUPPLIER: Array<[RegExp, (typeof TARGETS)[number]]> = [
  [
    /mcp_server_(sessions_active|tool_calls_active|tool_calls_max|operation_duration_seconds|session_duration_seconds|session_oldest_age_seconds)|mcp_probe_fanout_|mcpwatch_proxy_sessions_idle_closed/,
    'agents',
  ],
  [/mcp_internal_scrape_success/, 'demo'],
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `n` SDK agents working through `url` (the proxy) until stopped, staggered. Each round: connect
 * (initialize opens a session), tools/list, `echo`, `fail` (an `isError` result), `sleep` for
 * `sleepMs`, then DELETE the session and close. Errors are collected, not thrown.
 */
function startAgents(url: string, n: number, sleepMs: number) {
  let stopping = false;
  let rounds = 0;
  const errors: string[] = [];
  const agent = async (i: number) => {
    await sleep((i * sleepMs) / n);
    while (!stopping) {
      try {
        const { client, transport } = await connectClient(url);
        try {
          await client.listTools();
          await client.callTool({ name: 'echo', arguments: { message: `agent-${i}` } });
          const failed = await client.callTool({ name: 'fail', arguments: {} });
          if (failed.isError !== true) errors.push(`agent ${i}: the fail tool answered without isError`);
          await client.callTool({ name: 'sleep', arguments: { ms: sleepMs } });
          await (transport as { terminateSession(): Promise<void> }).terminateSession();
          rounds++;
        } finally {
          await client.close();
        }
      } catch (err) {
        if (!stopping) errors.push(`agent ${i}: ${(err as Error).message}`);
        await sleep(200);
      }
    }
  };
  const running = Array.from({ length: n }, (_, i) => agent(i));
  return {
    errors,
    rounds: () => rounds,
    /** Lets every agent finish its round (at most one `sleep` call), then resolves. */
    stop: async () => {
      stopping = true;
      await Promise.all(running);
    },
  };
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

async function promGet(
  base: string,
  path: string,
  params: Record<string, string>,
): Promise<{ status: string; data: unknown; error?: string }> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  return (await res.json()) as { status: string; data: unknown; error?: string };
}

/** True if a series of an instant (`value`) or range (`values`) result holds a number Grafana can draw. */
function hasNumber(s: { value?: [number, string]; values?: Array<[number, string]> }): boolean {
  const samples = s.values ?? (s.value ? [s.value] : []);
  return samples.some(([, v]) => !Number.isNaN(Number(v)));
}

/**
 * Runs one dashboard query the way Grafana would (instant, or a range over the last 20 s);
 * returns how many series hold a drawable number. Throws on a Prometheus error.
 */
async function runQuery(base: string, q: DashboardQuery, nowS: number): Promise<number> {
  const r = q.instant
    ? await promGet(base, '/api/v1/query', { query: q.expr, time: String(nowS) })
    : await promGet(base, '/api/v1/query_range', {
        query: q.expr,
        start: String(nowS - 20),
        end: String(nowS),
        step: '2',
      });
  if (r.status !== 'success') throw new Error(`${q.dashboard} / ${q.panel} / ${q.refId}: ${r.error}\n${q.expr}`);
  const result = (
    r.data as {
      result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }>;
    }
  ).result;
  if (q.label) return result.filter((s) => s.metric[q.label as string] !== undefined).length;
  return result.filter(hasNumber).length;
}

/** The single number of an instant query (NaN when the result is empty). */
async function scalar(base: string, expr: string, nowS: number): Promise<number> {
  const r = await promGet(base, '/api/v1/query', { query: expr, time: String(nowS) });
  assert.equal(r.status, 'success', `${expr}: ${r.error}`);
  const result = (r.data as { result: Array<{ value: [number, string] }> }).result;
  assert.ok(result.length <= 1, `${expr}: ${result.length} series`);
  return Number(result[0]?.value[1] ?? NaN);
}

test(
  'every dashboard panel and variable query returns data from a real Prometheus scraping mcpwatch',
  { timeout: 90_000 },
  async (t) => {
    // One teardown, last started first: agents stop before the proxy and servers they talk to.
    const cleanups: Array<() => unknown> = [];
    t.after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-dashboards-live-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const demo = await startDemoServer(0);
    cleanups.push(() => demo.close());
    const demoMetrics = await startMetricsEndpoint(DEMO_SESSIONS);
    cleanups.push(() => demoMetrics.close());
    const billing = await startNamedServer({
      name: 'billing-mcp',
      tools: () => ['lookup_invoice'],
      failingTool: 'charge',
    });
    cleanups.push(() => billing.close());
    const tools = await startToolServer();
    cleanups.push(() => tools.close());
    const closed = await refusedPort();
    const proxyPort = await freePort();
    const yaml = `defaults:
  interval: 1s
  timeout: 800ms
targets:
  - name: demo
    url: ${demo.url}
    sessions_expected_max: 8
    tool_groups:
      echoes: echo*
    internal:
      metrics_url: ${demoMetrics.url}
  - name: billing
    url: ${billing.url}
    sessions_expected_max: 4
    latency_slo: 250ms
    canary:
      tool: charge
  - name: legacy
    url: http://127.0.0.1:${closed}/mcp
  - name: agents
    url: ${tools.url}
    interval: 3s
    timeout: 1s
    sessions_expected_max: ${AGENTS + 1}
    latency_slo: 500ms
    tool_calls_max: ${AGENTS}
    fanout: { sessions: 4, interval: 3s }
    internal:
      proxy:
        listen: 127.0.0.1:${proxyPort}
        idle_timeout: 2s
`;
    const { config, issues } = parseConfig(yaml, {}, 'dashboards-live.test');
    assert.ok(config, formatIssues(issues));
    const sidecar = await startSidecar({
      config,
      env: {},
      logger: silentLogger,
      listen: { host: '127.0.0.1', port: 0 },
      enableLifecycle: false,
      processMetrics: true,
    });
    cleanups.push(() => sidecar.close());
    const instance = `127.0.0.1:${sidecar.address.port}`;

    // Agents talk to the server through mcpwatch's proxy (same path, proxy's port); probes go direct.
    const proxyUrl = new URL(tools.url);
    proxyUrl.port = String(proxyPort);
    await waitForPort(proxyPort, 5_000);
    const agents = startAgents(proxyUrl.href, AGENTS, SLEEP_MS);
    cleanups.push(() => agents.stop());
    // One agent leaves without DELETE: the proxy ends its session after idle_timeout.
    const leaver = await connectClient(proxyUrl.href);
    await leaver.client.listTools();
    await leaver.client.close();

    // History first, into the TSDB directory Prometheus will open.
    const nowAtStart = Math.floor(Date.now() / 1000);
    const tsdb = join(dir, 'tsdb');
    writeFileSync(join(dir, 'backfill.om'), backfillText('mcpwatch', instance, nowAtStart));
    const bf = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'backfill.om'), tsdb], {
      encoding: 'utf8',
      timeout: 30_000,
    });
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
`,
    );
    const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(check.status, 0, `promtool check config:\n${check.stdout}\n${check.stderr}`);

    const promPort = await freePort();
    let promLog = '';
    const prom: ChildProcess = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${tsdb}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--storage.tsdb.retention.time=30d',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stdout?.on('data', (d) => (promLog += String(d)));
    prom.stderr?.on('data', (d) => (promLog += String(d)));
    const exited = new Promise<void>((r) => prom.once('exit', () => r()));
    cleanups.push(async () => {
      if (prom.exitCode === null) prom.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    });
    await waitForPort(promPort, 20_000, () => prom.exitCode === null).catch((err) => assert.fail(`${err}\n${promLog}`));
    const base = `http://127.0.0.1:${promPort}`;

    // Let it scrape: enough samples for 1m rates, and several agent rounds (sessions ended, tools called).
    await sleep(SCRAPE_SECONDS * 1000);
    const nowS = Math.floor(Date.now() / 1000);

    // One job: everything below comes out of mcpwatch's own /metrics.
    const up = await promGet(base, '/api/v1/query', { query: 'up', time: String(nowS) });
    const ups = (up.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
    assert.deepEqual(ups.map((s) => `${s.metric.job}=${s.value[1]}`).sort(), ['mcpwatch=1'], promLog);
    assert.deepEqual(agents.errors, [], 'the agents worked through the proxy without errors');
    assert.ok(agents.rounds() >= AGENTS * 3, `only ${agents.rounds()} agent rounds finished`);

    // The proxied and scraped series reached Prometheus with the values the traffic implies.
    const sel = (target: string) => `job="mcpwatch",instance="${instance}",target="${target}"`;
    const window = `${SCRAPE_SECONDS - 5}s`;
    const proxied = {
      sessionsMax: await scalar(base, `max_over_time(mcp_server_sessions_active{${sel('agents')}}[${window}])`, nowS),
      toolCallsMax: await scalar(
        base,
        `max_over_time(mcp_server_tool_calls_active{${sel('agents')}}[${window}])`,
        nowS,
      ),
      sessionsEnded: await scalar(
        base,
        `increase(mcp_server_session_duration_seconds_count{${sel('agents')}}[${window}])`,
        nowS,
      ),
      toolCalls: await scalar(
        base,
        `sum(increase(mcp_server_operation_duration_seconds_count{${sel('agents')},mcp_method_name="tools/call",error_type=""}[${window}]))`,
        nowS,
      ),
      toolErrors: await scalar(
        base,
        `sum(increase(mcp_server_operation_duration_seconds_count{${sel('agents')},mcp_method_name="tools/call",error_type="tool_error"}[${window}]))`,
        nowS,
      ),
    };
    t.diagnostic(
      `proxy, as Prometheus saw it over ${window}: ${JSON.stringify(proxied)}; agent rounds ${agents.rounds()}`,
    );
    assert.ok(
      proxied.sessionsMax >= 1 && proxied.sessionsMax <= AGENTS,
      `sessions active through the proxy: ${proxied.sessionsMax}`,
    );
    assert.ok(proxied.toolCallsMax >= 1, `a tool call was in flight at some scrape: ${proxied.toolCallsMax}`);
    assert.ok(proxied.sessionsEnded > 0, `sessions ended through the proxy: ${proxied.sessionsEnded}`);
    assert.ok(proxied.toolCalls > 0, `tool calls answered through the proxy: ${proxied.toolCalls}`);
    assert.ok(proxied.toolErrors > 0, `tool errors through the proxy: ${proxied.toolErrors}`);
    // The issue-14 signals of the proxied target carry real values, not just their zeros.
    assert.equal(
      await scalar(base, `mcpwatch_proxy_sessions_idle_closed_total{${sel('agents')}}`, nowS),
      1,
      'the agent that left without DELETE was closed by the idle timeout',
    );
    assert.equal(await scalar(base, `mcp_probe_fanout_success{${sel('agents')}}`, nowS), 1, 'fan-out rounds ran');
    assert.ok(
      (await scalar(base, `max_over_time(mcp_server_session_oldest_age_seconds{${sel('agents')}}[${window}])`, nowS)) >
        0,
      'the oldest open session had an age',
    );
    const byTool = await promGet(base, '/api/v1/query', {
      query: `count by (gen_ai_tool_name) (mcp_server_operation_duration_seconds_count{${sel('agents')},mcp_method_name="tools/call"})`,
      time: String(nowS),
    });
    const names = (byTool.data as { result: Array<{ metric: Record<string, string> }> }).result
      .map((r) => r.metric.gen_ai_tool_name)
      .sort();
    assert.ok(
      ['echo', 'fail', 'sleep'].every((n) => names.includes(n)),
      `tool names: ${names.join(', ')}`,
    );
    assert.equal(
      await scalar(base, `mcp_internal_scrape_success{${sel('demo')}}`, nowS),
      1,
      'the scrape of the demo server works',
    );
    assert.equal(
      await scalar(base, `mcp_server_sessions_active{${sel('demo')}}`, nowS),
      DEMO_SESSIONS,
      "scraped sessions (summed over the server's series)",
    );

    // The backfilled day is really there (a 1-day baseline is computed over it, not over 25 s).
    const days = await promGet(base, '/api/v1/query', {
      query: 'count_over_time(mcp_probe_duration_seconds{job="mcpwatch",target="demo"}[1d])',
      time: String(nowS),
    });
    const count = Number((days.data as { result: Array<{ value: [number, string] }> }).result[0]?.value[1] ?? 0);
    assert.ok(count > 1000, `backfilled history missing: ${count} samples in the last day`);

    // The rules loaded and evaluate without errors; the 1-day recording rule has data.
    const rules = await promGet(base, '/api/v1/rules', {});
    const groups = (
      rules.data as { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }
    ).groups;
    assert.ok(groups.length > 0, 'rule file not loaded');
    const bad = groups.flatMap((g) => g.rules).filter((r) => r.health === 'err');
    assert.deepEqual(bad, [], 'rules evaluate without errors');
    const median = await promGet(base, '/api/v1/query', {
      query: 'target:mcp_probe_duration_seconds:avg5m_median1d{target="demo"}',
      time: String(nowS),
    });
    assert.equal(
      (median.data as { result: unknown[] }).result.length,
      1,
      'the 1-day median recording rule has data from the backfill',
    );

    // Every dashboard query.
    const perTarget = TARGETS.map((target) =>
      allDashboardQueries({ job: 'mcpwatch', instance, target, rateInterval: '1m' }),
    );
    const empty: string[] = [];
    const allowedEmpty: string[] = [];
    const unsupplied: string[] = [];
    let checked = 0;
    let internalChecked = 0;
    for (let i = 0; i < perTarget[0]!.length; i++) {
      const variants = perTarget.map((qs) => qs[i]!);
      const q = variants[0]!;
      const counts: number[] = [];
      for (const v of variants) counts.push(await runQuery(base, v, nowS));
      const series = Math.max(...counts);
      checked++;
      if (series === 0 && q.allowEmpty) allowedEmpty.push(`${q.dashboard} / ${q.panel}`);
      if (series === 0 && !q.allowEmpty) empty.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${q.expr}`);
      // An internal panel must have data for the target whose proxy or scrape supplies it.
      const supplier = SUPPLIER.find(([re]) => re.test(q.rawExpr))?.[1];
      if (supplier === undefined) continue;
      internalChecked++;
      if (counts[TARGETS.indexOf(supplier)] === 0)
        unsupplied.push(
          `${q.dashboard} / ${q.panel} / ${q.refId} for target ${supplier}: ${variants[TARGETS.indexOf(supplier)]!.expr}`,
        );
    }
    t.diagnostic(
      `${checked} queries checked against Prometheus (${internalChecked} internal, each for its proxied or scraped target); allowed empty and empty: ${allowedEmpty.join('; ') || 'none'}`,
    );
    assert.ok(checked > 50, `only ${checked} queries found`);
    assert.ok(internalChecked >= 10, `only ${internalChecked} internal queries found`);
    assert.deepEqual(empty, [], `panels or variables without data:\n${empty.join('\n')}`);
    assert.deepEqual(
      unsupplied,
      [],
      `internal panels without data for the target that supplies them:\n${unsupplied.join('\n')}`,
    );

    // The target variable lists every probed target.
    const targetVar = perTarget[0]!.find((q) => q.dashboard === 'mcpwatch-fleet' && q.panel === 'variable target')!;
    const listed = await promGet(base, '/api/v1/query', { query: targetVar.expr, time: String(nowS) });
    assert.deepEqual(
      (listed.data as { result: Array<{ metric: Record<string, string> }> }).result.map((s) => s.metric.target).sort(),
      [...TARGETS].sort(),
    );
  },
);
