import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { DASHBOARDS, renderDashboard } from '../../dashboards/src/index.js';
import type { DashboardJson } from '../../dashboards/src/common.js';
import { allDashboardQueries, allPanels, expandVariables } from '../../dashboards/queries.js';
import { knownMetrics, lintDashboard, lintQueries, promqlSyntaxProblems } from './lint.js';

const committed = (file: string): string => readFileSync(new URL(`../../dashboards/${file}`, import.meta.url), 'utf8');
const fleet = (): DashboardJson => DASHBOARDS[0]!.build();
const known = knownMetrics();

test('committed dashboard JSON matches the typed source (run node --import tsx dashboards/generate.ts)', () => {
  for (const entry of DASHBOARDS) {
    assert.equal(committed(entry.file), renderDashboard(entry.build()), `dashboards/${entry.file} is stale`);
  }
});

test('dashboard uids and files are stable: links and provisioned copies depend on them', () => {
  assert.deepEqual(
    DASHBOARDS.map((e) => [e.file, e.uid, (JSON.parse(committed(e.file)) as DashboardJson).uid]),
    [
      ['mcpwatch-fleet.json', 'mcpwatch-fleet', 'mcpwatch-fleet'],
      ['mcpwatch-target.json', 'mcpwatch-target', 'mcpwatch-target'],
      ['mcpwatch-self.json', 'mcpwatch-self', 'mcpwatch-self'],
    ],
  );
});

test('every committed dashboard follows the Grafana conventions', () => {
  for (const entry of DASHBOARDS) {
    const d = JSON.parse(committed(entry.file)) as DashboardJson;
    assert.deepEqual(lintDashboard(d), [], entry.file);
  }
});

test('every query parses as PromQL, uses $__rate_interval in rates and names known metrics and labels', () => {
  for (const entry of DASHBOARDS) {
    const d = JSON.parse(committed(entry.file)) as DashboardJson;
    assert.deepEqual(lintQueries(d, known), [], entry.file);
  }
});

test('Prometheus 2.42 (promtool) accepts every expanded query', () => {
  // lezer-promql follows the newest grammar; promtool is the parser of the Prometheus users run.
  const queries = allDashboardQueries({
    job: 'mcpwatch',
    instance: '127.0.0.1:9465',
    target: 'demo',
    rateInterval: '1m',
  });
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-dashboards-'));
  try {
    const rules = {
      groups: [
        { name: 'dashboards', rules: queries.map((q, i) => ({ record: `dashboard:query:${i}`, expr: q.expr })) },
      ],
    };
    writeFileSync(join(dir, 'queries.yml'), toYaml(rules));
    const r = spawnSync('promtool', ['check', 'rules', join(dir, 'queries.yml')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(
      r.error,
      undefined,
      `promtool not runnable (scripts/install-test-deps.sh installs it): ${r.error?.message}`,
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the dashboards show the metrics the issue asks for', () => {
  const exprs = (uid: string): string =>
    allDashboardQueries({ job: 'j', instance: 'i', target: 't', rateInterval: '1m' })
      .filter((q) => q.dashboard === uid)
      .map((q) => q.rawExpr)
      .join('\n');
  const want: Record<string, string[]> = {
    'mcpwatch-fleet': [
      'mcp_probe_success',
      'mcp_probes_total',
      'mcp_probe_duration_seconds',
      'mcp_probe_failures_total',
      'mcp_probe_tls_cert_expiry_timestamp_seconds',
      'mcp_server_tool_list_changes_total',
      'mcp_probe_consecutive_failures',
      'ALERTS',
    ],
    'mcpwatch-target': [
      'mcp_probe_phase_duration_seconds',
      'mcp_client_operation_duration_seconds_bucket',
      'mcp_server_operation_duration_seconds_bucket',
      'mcp_server_latency_slo_seconds',
      'mcp_server_sessions_active',
      'mcp_server_sessions_expected_max',
      'mcp_server_tool_calls_active',
      'mcp_server_session_duration_seconds_bucket',
      'error_type',
      'mcp_server_tools',
      'mcp_server_tool_list_changes_total',
      'mcp_server_info',
    ],
    'mcpwatch-self': [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'mcpwatch_probe_schedule_lag_seconds_bucket',
      'mcp_probe_duration_seconds',
      'mcp_internal_scrape_success',
      'mcpwatch_config_last_reload_successful',
      'mcpwatch_config_last_reload_success_timestamp_seconds',
      'mcpwatch_internal_errors_total',
      'mcpwatch_probes_skipped_total',
    ],
  };
  for (const [uid, names] of Object.entries(want))
    for (const n of names) assert.ok(exprs(uid).includes(n), `${uid} does not query ${n}`);
});

test('the fleet overview links each target to the drill-down with its target variable', () => {
  const status = allPanels(fleet()).find((p) => p.title === 'Target status') as {
    fieldConfig: { defaults: { links: { url: string }[] } };
  };
  const url = status.fieldConfig.defaults.links[0]!.url;
  assert.match(url, /^\/d\/mcpwatch-target\//);
  assert.match(url, /var-target=\$\{__field\.labels\.target\}/);
  for (const entry of DASHBOARDS) {
    const links = entry.build().links ?? [];
    assert.ok(
      links.some((l) => l.type === 'dashboards' && l.tags?.includes('mcpwatch') && l.includeVars && l.keepTime),
      `${entry.uid} links its siblings`,
    );
  }
});

test('allowEmpty entries name real panels, and only those panels may be empty', () => {
  for (const entry of DASHBOARDS) {
    const titles = new Set(allPanels(entry.build()).map((p) => p.title));
    for (const title of Object.keys(entry.allowEmpty))
      assert.ok(titles.has(title), `${entry.uid}: allowEmpty names no panel "${title}"`);
  }
  const queries = allDashboardQueries({
    job: 'mcpwatch',
    instance: '127.0.0.1:9465',
    target: 'demo',
    rateInterval: '1m',
  });
  const firing = queries.find((q) => q.panel === 'Firing alerts');
  assert.equal(firing?.allowEmpty, true);
  assert.match(firing?.emptyReason ?? '', /healthy/);
  assert.equal(queries.find((q) => q.panel === 'Targets up')?.allowEmpty, false);
});

test('allDashboardQueries expands every Grafana variable and lists variable queries with their label', () => {
  const queries = allDashboardQueries({
    job: 'mcpwatch',
    instance: '10.0.0.7:9465',
    target: 'search',
    rateInterval: '2m',
  });
  assert.ok(queries.length > 60, `only ${queries.length} queries`);
  for (const q of queries) {
    assert.doesNotMatch(q.expr, /\$/, `${q.dashboard} / ${q.panel}: unexpanded variable in ${q.expr}`);
    assert.deepEqual(promqlSyntaxProblems(q.expr), [], q.expr);
  }
  const targetVar = queries.find((q) => q.dashboard === 'mcpwatch-fleet' && q.panel === 'variable target');
  assert.deepEqual(
    { expr: targetVar?.expr, label: targetVar?.label },
    { expr: 'mcp_probe_success{job=~"mcpwatch", instance=~"10\\\\.0\\\\.0\\\\.7:9465"}', label: 'target' },
  );
  const ratio = queries.find((q) => q.panel === 'Probe success ratio');
  assert.match(ratio?.expr ?? '', /target=~"search", result="success"\}\[2m\]/);
  assert.equal(queries.find((q) => q.panel === 'Targets up')?.instant, true);
  assert.throws(
    () => expandVariables('up{x="$unknown"}', { job: 'j', instance: 'i', target: 't', rateInterval: '1m' }),
    /unknown Grafana variable \$unknown/,
  );
});

// The lint must be able to fail: break one convention at a time and read the complaint.
// Panels typed loosely: the mutations reach into fields a given panel kind may not declare.
type LooseDashboard = Omit<DashboardJson, 'panels'> & { panels: any[] };
const broken = (mutate: (d: LooseDashboard) => void): DashboardJson => {
  const d = structuredClone(fleet()) as LooseDashboard;
  mutate(d);
  return d as DashboardJson;
};

test('lint reports a panel without a description or unit', () => {
  const d = broken((d) => {
    delete d.panels[0].description;
    d.panels[1].fieldConfig.defaults.unit = '';
  });
  assert.deepEqual(lintDashboard(d), ['panel 1 "Targets up": no description', 'panel 2 "Targets down": no unit']);
});

test('lint reports a hard-coded datasource, duplicate ids and a missing datasource variable', () => {
  const d = broken((d) => {
    d.panels[0].datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' };
    d.panels[2].id = 2;
    d.templating = { list: (d.templating?.list ?? []).filter((v) => v.type !== 'datasource') };
  });
  assert.deepEqual(lintDashboard(d), [
    'needs exactly one datasource variable, named "datasource", of type prometheus',
    'panel 1 "Targets up": datasource must be ${datasource}',
    'panel 2 "Target status": duplicate id 2 (also panel 2 "Targets down")',
  ]);
});

test('lint reports a variable chain that is broken', () => {
  const d = broken((d) => {
    const target = d.templating?.list?.find((v) => v.name === 'target');
    if (target) target.query = 'label_values(mcp_probe_success, target)';
  });
  assert.deepEqual(lintDashboard(d), ['variable target must be filtered by $job and $instance']);
});

test('query lint reports a fixed rate window, an unknown metric, an unknown label and a syntax error', () => {
  const setExpr = (d: LooseDashboard, title: string, expr: string): void => {
    d.panels.find((p) => p.title === title).targets[0].expr = expr;
  };
  const d = broken((d) => {
    setExpr(d, 'Targets up', 'sum(rate(mcp_probes_total[5m]))');
    setExpr(d, 'Targets down', 'sum(mcp_probe_sucess)');
    setExpr(d, 'Target status', 'mcp_probe_success{reason="timeout"}');
    setExpr(d, 'Consecutive failures', 'max(mcp_probe_consecutive_failures{target=~"$target"}');
  });
  const problems = lintQueries(d, known);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /Targets up \/ A: rate\(\) must use \[\$__rate_interval\], got \[5m\]/);
  assert.match(problems[1]!, /Targets down \/ A: unknown metric mcp_probe_sucess/);
  assert.match(problems[2]!, /Target status \/ A: mcp_probe_success has no label reason/);
  assert.match(problems[3]!, /Consecutive failures \/ A: syntax error/);
});
