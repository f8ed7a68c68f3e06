/**
 * The sidecar as users see it: the text of /metrics, /probe, the lifecycle endpoints and
 * reloads, against real MCP servers on 127.0.0.1.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSidecar, type Sidecar } from '../../src/sidecar.js';
import { parseConfig, loadConfigFile } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { PHASES, FAILURE_REASONS } from '../../src/probe/types.js';
import { parsePromText, valueOf, waitFor, closedPort } from '../fixtures/prom-text.js';
import { startNamedServer } from '../fixtures/named-server.js';

const logs: string[] = [];
const logger = createLogger({ level: 'debug', write: (l) => logs.push(l) });
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function scrape(sc: Sidecar) {
  const res = await fetch(`http://127.0.0.1:${sc.address.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

async function start(yaml: string, extra: { configFile?: string; enableLifecycle?: boolean } = {}) {
  const { config, issues } = parseConfig(yaml, {});
  assert.deepEqual(issues, []);
  const sc = await startSidecar({
    config: config!,
    env: {},
    logger,
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: false,
    processMetrics: false,
    ...extra,
  });
  cleanups.push(() => sc.close());
  return sc;
}

test('probes on schedule and exposes the metrics contract', async () => {
  const demo = await startDemoServer(0);
  cleanups.push(demo.close);
  const port = await closedPort();
  const sc = await start(`
defaults: { interval: 1s, timeout: 800ms }
targets:
  - name: demo
    url: ${demo.url}
    canary: { tool: echo, arguments: { message: hi }, expect_text: hi }
    sessions_expected_max: 20
  - name: down
    url: http://127.0.0.1:${port}/mcp
`);
  const samples = await waitFor(
    async () => {
      const s = await scrape(sc);
      return (valueOf(s, 'mcp_probes_total', { target: 'down', result: 'failure' }) ?? 0) >= 2 &&
        (valueOf(s, 'mcp_probes_total', { target: 'demo', result: 'success' }) ?? 0) >= 2
        ? s
        : undefined;
    },
    10_000,
    'two probes of each target',
  );

  assert.equal(valueOf(samples, 'mcp_probe_success', { target: 'demo' }), 1);
  assert.equal(valueOf(samples, 'mcp_probe_success', { target: 'down' }), 0);
  assert.ok((valueOf(samples, 'mcp_probe_failures_total', { target: 'down', reason: 'connect' }) ?? 0) >= 2);
  assert.ok((valueOf(samples, 'mcp_probe_consecutive_failures', { target: 'down' }) ?? 0) >= 2);
  assert.equal(valueOf(samples, 'mcp_probe_consecutive_failures', { target: 'demo' }), 0);
  // Closed sets exist up front, with zeros.
  for (const reason of FAILURE_REASONS)
    assert.notEqual(valueOf(samples, 'mcp_probe_failures_total', { target: 'demo', reason }), undefined, reason);
  for (const phase of PHASES)
    assert.notEqual(valueOf(samples, 'mcp_probe_phase_duration_seconds', { target: 'demo', phase }), undefined, phase);
  assert.ok((valueOf(samples, 'mcp_probe_phase_duration_seconds', { target: 'demo', phase: 'tool_call' }) ?? 0) > 0);
  const info = samples.find((s) => s.name === 'mcp_server_info' && s.labels.target === 'demo');
  assert.deepEqual(info?.labels, {
    target: 'demo',
    server_name: 'mcpwatch-demo',
    server_version: '1.0.0',
    protocol_version: '2026-07-28',
    transport: 'streamable-http',
  });
  assert.equal(valueOf(samples, 'mcp_server_tools', { target: 'demo' }), 3);
  assert.equal(valueOf(samples, 'mcp_probe_http_status_code', { target: 'demo' }), 200);
  assert.equal(valueOf(samples, 'mcp_probe_http_status_code', { target: 'down' }), 0);
  assert.equal(valueOf(samples, 'mcp_server_sessions_expected_max', { target: 'demo' }), 20);
  assert.equal(valueOf(samples, 'mcp_server_latency_slo_seconds', { target: 'demo' }), 2);
  const now = Date.now() / 1000;
  const last = valueOf(samples, 'mcp_probe_last_success_timestamp_seconds', { target: 'demo' }) ?? 0;
  assert.ok(Math.abs(now - last) < 10, `last success ${last} vs now ${now}`);
  const calls = valueOf(samples, 'mcp_client_operation_duration_seconds_count', {
    target: 'demo',
    mcp_method_name: 'tools/call',
    error_type: '',
    mcp_protocol_version: '2026-07-28',
    network_transport: 'tcp',
  });
  assert.ok((calls ?? 0) >= 2);
  assert.equal(valueOf(samples, 'mcpwatch_config_last_reload_successful'), 1);
  assert.ok((valueOf(samples, 'mcpwatch_probe_schedule_lag_seconds_count') ?? 0) >= 4);
  // No URL or port of a target leaks into any label.
  for (const s of samples)
    for (const v of Object.values(s.labels)) assert.ok(!v.includes('127.0.0.1'), `${s.name} has a URL-ish label ${v}`);
});

test('/probe probes one configured target into a fresh registry; names only', async () => {
  const demo = await startDemoServer(0);
  cleanups.push(demo.close);
  const sc = await start(`
defaults: { interval: 1h, timeout: 2s }
targets:
  - { name: demo, url: ${demo.url} }
  - { name: other, url: ${demo.url} }
`);
  const base = `http://127.0.0.1:${sc.address.port}`;
  const res = await fetch(`${base}/probe?target=demo`);
  assert.equal(res.status, 200);
  const samples = parsePromText(await res.text());
  assert.equal(valueOf(samples, 'mcp_probe_success', { target: 'demo' }), 1);
  assert.equal(valueOf(samples, 'mcp_probes_total', { target: 'demo', result: 'success' }), 1);
  assert.ok(
    samples.every((s) => s.labels.target === undefined || s.labels.target === 'demo'),
    'only the probed target',
  );

  const debug = await (await fetch(`${base}/probe?target=demo&debug=true`)).text();
  assert.match(debug, /Verdict: {3}SUCCESS/);
  assert.match(debug, /Protocol: {2}2026-07-28/);
  assert.match(debug, /Log:\n/);

  assert.equal((await fetch(`${base}/probe?target=${encodeURIComponent('http://127.0.0.1:1/mcp')}`)).status, 404);
  assert.equal((await fetch(`${base}/probe?target=nope`)).status, 404);
  assert.equal((await fetch(`${base}/probe`)).status, 400);
  assert.equal((await fetch(`${base}/-/healthy`)).status, 200);
  assert.equal((await fetch(`${base}/-/ready`)).status, 200);
  assert.equal((await fetch(`${base}/-/reload`, { method: 'POST' })).status, 403, 'lifecycle is off by default');
});

test('reload adds, changes and removes targets; a bad config keeps the running one', async () => {
  const demo = await startDemoServer(0);
  cleanups.push(demo.close);
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-reload-'));
  const file = join(dir, 'mcpwatch.yaml');
  writeFileSync(
    file,
    `defaults: { interval: 500ms, timeout: 400ms }\ntargets:\n  - { name: a, url: ${demo.url} }\n  - { name: b, url: ${demo.url} }\n`,
  );
  const loaded = loadConfigFile(file, {});
  const sc = await startSidecar({
    config: loaded.config!,
    configFile: file,
    env: {},
    logger,
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: true,
    processMetrics: false,
  });
  cleanups.push(() => sc.close());
  const base = `http://127.0.0.1:${sc.address.port}`;
  await waitFor(
    async () => (valueOf(await scrape(sc), 'mcp_probe_success', { target: 'b' }) === 1 ? true : undefined),
    5000,
    'b up',
  );

  writeFileSync(
    file,
    `defaults: { interval: 500ms, timeout: 400ms }\ntargets:\n  - { name: a, url: ${demo.url} }\n  - { name: c, url: ${demo.url} }\n`,
  );
  const ok = await fetch(`${base}/-/reload`, { method: 'POST' });
  assert.equal(ok.status, 200, await ok.text());
  const s1 = await waitFor(
    async () => {
      const s = await scrape(sc);
      return valueOf(s, 'mcp_probe_success', { target: 'c' }) === 1 ? s : undefined;
    },
    5000,
    'c probed',
  );
  assert.equal(valueOf(s1, 'mcp_probe_success', { target: 'b' }), undefined, 'removed target has no series');
  assert.equal(s1.filter((s) => s.labels.target === 'b').length, 0);
  const aCount = valueOf(s1, 'mcp_probes_total', { target: 'a', result: 'success' }) ?? 0;
  assert.ok(aCount >= 2, 'a kept its counters: undisturbed by the reload');

  writeFileSync(
    file,
    `defaults: { interval: 500ms, timeout: 400ms }\ntargets:\n  - { name: a, url: ${demo.url}, bogus: 1 }\n`,
  );
  const bad = await fetch(`${base}/-/reload`, { method: 'POST' });
  assert.equal(bad.status, 500);
  assert.match(await bad.text(), /targets\[0\]: unknown key "bogus"/);
  const s2 = await waitFor(
    async () => {
      const s = await scrape(sc);
      return (valueOf(s, 'mcp_probes_total', { target: 'c', result: 'success' }) ?? 0) >= 3 ? s : undefined;
    },
    5000,
    'c still probed after a refused reload',
  );
  assert.equal(valueOf(s2, 'mcpwatch_config_last_reload_successful'), 0);
  assert.ok(logs.some((l) => l.includes('config reload failed')));
});

test('a changed tool list is counted once, described, and the first probe is not a change', async () => {
  let tools = ['alpha', 'beta'];
  const srv = await startNamedServer({ name: 'tool-server', tools: () => tools });
  cleanups.push(srv.close);
  const sc = await start(`
defaults: { interval: 300ms, timeout: 250ms }
targets:
  - { name: drift, url: ${srv.url} }
`);
  const base = `http://127.0.0.1:${sc.address.port}`;
  await waitFor(
    async () =>
      (valueOf(await scrape(sc), 'mcp_probes_total', { target: 'drift', result: 'success' }) ?? 0) >= 2
        ? true
        : undefined,
    5000,
    'two probes',
  );
  assert.equal(valueOf(await scrape(sc), 'mcp_server_tool_list_changes_total', { target: 'drift' }), 0);
  tools = ['alpha', 'gamma'];
  const s = await waitFor(
    async () => {
      const x = await scrape(sc);
      return valueOf(x, 'mcp_server_tool_list_changes_total', { target: 'drift' }) === 1 ? x : undefined;
    },
    5000,
    'one change',
  );
  // Later probes see the same new list: the count must stay at 1 (not one per probe).
  const probed = valueOf(s, 'mcp_probes_total', { target: 'drift', result: 'success' }) ?? 0;
  await waitFor(
    async () =>
      (valueOf(await scrape(sc), 'mcp_probes_total', { target: 'drift', result: 'success' }) ?? 0) >= probed + 2
        ? true
        : undefined,
    5000,
    'two more probes',
  );
  assert.equal(valueOf(await scrape(sc), 'mcp_server_tool_list_changes_total', { target: 'drift' }), 1, 'counted once');
  assert.equal(
    s.filter((x) => x.name === 'mcp_server_tool_list_info' && x.labels.target === 'drift').length,
    1,
    'one hash series',
  );
  assert.ok(
    logs.some((l) => l.includes('tool list changed') && l.includes('+gamma -beta')),
    'the log line says what changed',
  );
  const json = (await (await fetch(`${base}/api/v1/targets`)).json()) as {
    targets: Array<{ name: string; toolListChanges: Array<{ added: string[]; removed: string[] }> }>;
  };
  const drift = json.targets.find((t) => t.name === 'drift');
  assert.deepEqual(drift?.toolListChanges[0]?.added, ['gamma']);
  assert.deepEqual(drift?.toolListChanges[0]?.removed, ['beta']);
});

test('a fan-out target gets its round after a probe, on its own interval, with every session ended', async () => {
  const { startToolServer } = await import('../fixtures/tool-server.js');
  const server = await startToolServer();
  cleanups.push(server.close);
  const sc = await start(`
targets:
  - name: fan
    url: ${server.url}
    interval: 3s
    timeout: 2s
    canary: { tool: locked, arguments: { ms: 20 } }
    fanout: { sessions: 6, interval: 1h, call: canary }
    tool_calls_max: 4
    session_max_age: 10m
  - name: plain
    url: ${server.url}
    interval: 3s
    timeout: 2s
`);
  const samples = await waitFor(
    async () => {
      const s = await scrape(sc);
      return valueOf(s, 'mcp_probe_fanout_success', { target: 'fan' }) !== undefined && s;
    },
    8000,
    'a fan-out round',
  );
  assert.equal(valueOf(samples, 'mcp_probe_fanout_success', { target: 'fan' }), 1);
  assert.equal(valueOf(samples, 'mcp_probe_fanout_sessions', { target: 'fan' }), 6);
  assert.equal(valueOf(samples, 'mcp_probe_fanout_sessions_completed', { target: 'fan' }), 6);
  const ratio = valueOf(samples, 'mcp_probe_fanout_slowdown_ratio', { target: 'fan' }) ?? 0;
  assert.ok(ratio > 2, `six calls behind one lock: slowdown ${ratio}`);
  for (const quantile of ['0.5', '0.99'])
    assert.ok((valueOf(samples, 'mcp_probe_fanout_duration_seconds', { target: 'fan', quantile }) ?? 0) > 0);
  assert.ok((valueOf(samples, 'mcp_probe_fanout_baseline_duration_seconds', { target: 'fan' }) ?? 0) >= 0.02);
  assert.equal(valueOf(samples, 'mcp_server_tool_calls_max', { target: 'fan' }), 4);
  assert.equal(valueOf(samples, 'mcp_server_session_max_age_seconds', { target: 'fan' }), 600);
  assert.equal(valueOf(samples, 'mcp_server_session_max_age_seconds', { target: 'plain' }), 3600, 'the default');
  assert.equal(valueOf(samples, 'mcp_probe_fanout_success', { target: 'plain' }), undefined, 'opt-in only');
  assert.equal(valueOf(samples, 'mcp_server_tool_calls_max', { target: 'plain' }), undefined);
  // 1 baseline + 6 fan-out sessions, plus one per probe of each target; none left open after.
  const opened = server.openedSessions();
  assert.ok(opened >= 9, `opened ${opened}`);
  assert.equal(server.peakSessions() >= 6, true);
  await waitFor(async () => server.sessions() === 0, 3000, 'no session left open');
  // fanout.interval 1h: the next probe of "fan" runs no second round.
  await waitFor(
    async () => (valueOf(await scrape(sc), 'mcp_probes_total', { target: 'fan', result: 'success' }) ?? 0) >= 2,
    8000,
    'a second probe of fan',
  );
  assert.ok(server.openedSessions() - opened <= 3, 'later probes open one session each, no round');
});
