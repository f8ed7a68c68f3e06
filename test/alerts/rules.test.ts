// The alert rules against the real promtool (Debian's prometheus 2.42): generated files not stale,
// lint, unit tests (fire and near miss for every alert), fast profile timings, and the
// conventions every alert keeps (severity, annotations, runbook anchors, metric contract).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { alertsConfig, SEVERITIES } from '../../alerts/config.js';
import { renderAlertmanager, renderRules, ALERTMANAGER_FILE, RULES_FILE } from '../../alerts/generate.js';
import { buildRuleGroups, type AlertingRule, type RecordingRule } from '../../alerts/rules.js';
import { METRICS } from '../../src/metrics/names.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const testsDir = join(root, 'alerts/tests');

/** Runs a tool with a time bound; returns its exit code and combined output. */
function run(cmd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-alerts-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const allRules = (profile: 'production' | 'fast' = 'production') =>
  buildRuleGroups(alertsConfig(profile)).flatMap((g) => g.rules);
const alerts = (profile?: 'production' | 'fast') => allRules(profile).filter((r): r is AlertingRule => 'alert' in r);
const records = (profile?: 'production' | 'fast') => allRules(profile).filter((r): r is RecordingRule => 'record' in r);

test('committed rule and Alertmanager files are what the generator writes (run: node --import tsx alerts/generate.ts)', () => {
  assert.equal(readFileSync(RULES_FILE, 'utf8'), renderRules('production'), 'alerts/mcpwatch.rules.yml is stale');
  assert.equal(readFileSync(ALERTMANAGER_FILE, 'utf8'), renderAlertmanager(), 'alerts/alertmanager.yml is stale');
});

test('promtool check rules --lint-fatal accepts the production and fast rules', () => {
  withTempDir((dir) => {
    const fast = join(dir, 'fast.rules.yml');
    writeFileSync(fast, renderRules('fast'));
    const r = run('promtool', ['check', 'rules', '--lint-fatal', RULES_FILE, fast]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS: \d+ rules found[\s\S]*SUCCESS: \d+ rules found/);
  });
});

test('promtool check rules fails on a broken rule (the check can fail)', () => {
  withTempDir((dir) => {
    const bad = join(dir, 'bad.rules.yml');
    writeFileSync(bad, renderRules('production').replace('>= 2', '>= >= 2'));
    assert.notEqual(run('promtool', ['check', 'rules', '--lint-fatal', bad]).status, 0);
  });
});

test('promtool test rules: every alert fires on its condition and stays silent on the near miss', () => {
  const files = readdirSync(testsDir)
    .filter((f) => f.endsWith('.test.yml'))
    .map((f) => join(testsDir, f));
  assert.ok(files.length >= 3, `unit test files in ${testsDir}`);
  const r = run('promtool', ['test', 'rules', ...files]);
  assert.equal(r.status, 0, r.output);
  // Every alert the generator emits is exercised by at least one unit test.
  const tested = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const name of new Set(alerts().map((a) => a.alert))) {
    assert.match(tested, new RegExp(`alertname: ${name}\\b`), `no promtool unit test for ${name}`);
  }
});

test('promtool test rules catches a wrong threshold (the unit tests can fail)', () => {
  withTempDir((dir) => {
    // One failed probe must not page: with the count set to 1 the flake test has to fail.
    const config = alertsConfig('production', { probeFailing: { consecutiveFailures: 1 } });
    const groups = buildRuleGroups(config);
    // JSON is YAML: promtool reads it as a rule file.
    writeFileSync(join(dir, 'mcpwatch.rules.yml'), JSON.stringify({ groups }));
    mkdirSync(join(dir, 'tests'));
    copyFileSync(join(testsDir, 'probe.test.yml'), join(dir, 'tests/probe.test.yml'));
    const r = run('promtool', ['test', 'rules', join(dir, 'tests/probe.test.yml')]);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /MCPProbeFailing/);
  });
});

test('fast profile: MCPProbeFailing fires 2 s after the server stops, MCPSessionsOverrun within 3 s (1 s probes)', () => {
  withTempDir((dir) => {
    writeFileSync(join(dir, 'mcpwatch-fast.rules.yml'), renderRules('fast'));
    copyFileSync(join(testsDir, 'fast-profile.yml'), join(dir, 'fast-profile.yml'));
    const r = run('promtool', ['test', 'rules', join(dir, 'fast-profile.yml')]);
    assert.equal(r.status, 0, r.output);
  });
});

test('the consecutive-failure count is a generator setting', () => {
  const rule = alerts().find((a) => a.alert === 'MCPProbeFailing');
  assert.equal(rule?.expr, 'mcp_probe_consecutive_failures{job="mcpwatch"} >= 2');
  const three = buildRuleGroups(alertsConfig('production', { probeFailing: { consecutiveFailures: 3 } }))
    .flatMap((g) => g.rules)
    .find((r) => 'alert' in r && r.alert === 'MCPProbeFailing');
  assert.equal(three?.expr, 'mcp_probe_consecutive_failures{job="mcpwatch"} >= 3');
  const custom = buildRuleGroups(alertsConfig('production', { selector: 'job="mcp",namespace="ai"' }));
  assert.ok(custom.flatMap((g) => g.rules).every((r) => !r.expr.includes('job="mcpwatch"')));
});

test('buildRuleGroups rejects an invalid config, naming every problem', () => {
  const bad = alertsConfig('production', {
    probeFailing: { consecutiveFailures: 0 },
    sessions: { for: '10 minutes' },
    // Units repeated or out of order: promtool refuses these.
    tls: { for: '1h1h' },
    internalScrape: { for: '5m1h' },
    slo: { objective: 0.9 },
  });
  assert.throws(
    () => buildRuleGroups(bad),
    (e: Error) => {
      assert.match(e.message, /probeFailing\.consecutiveFailures: must be an integer >= 1/);
      assert.match(e.message, /sessions\.for: invalid duration "10 minutes"/);
      assert.match(e.message, /tls\.for: invalid duration "1h1h"/);
      assert.match(e.message, /internalScrape\.for: invalid duration "5m1h"/);
      // 14.4 x 10 % budget is over 100 %: no quantile can express it.
      assert.match(e.message, /slo\.burnWindows\[0\]\.factor/);
      return true;
    },
  );
});

test('every alert has an allowed severity, summary, description with target/instance and value, and a runbook anchor that exists', () => {
  const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');
  const anchors = new Set(
    [...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  for (const profile of ['production', 'fast'] as const) {
    for (const a of alerts(profile)) {
      assert.ok(SEVERITIES.includes(a.labels.severity), `${a.alert}: severity ${a.labels.severity}`);
      assert.ok(a.annotations.summary.length > 0, `${a.alert}: summary`);
      assert.match(
        a.annotations.description,
        /\{\{ \$labels\.(target|instance) \}\}/,
        `${a.alert}: description names the target`,
      );
      assert.match(a.annotations.description, /\$value/, `${a.alert}: description shows the value`);
      const anchor = new URL(a.annotations.runbook_url).hash.slice(1);
      assert.equal(anchor, a.alert.toLowerCase());
      assert.ok(anchors.has(anchor), `${a.alert}: docs/runbook.md has no section #${anchor}`);
    }
  }
});

test('recording rules are named level:metric:operations', () => {
  for (const r of [...records('production'), ...records('fast')])
    assert.match(r.record, /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/, r.record);
});

test('every metric a rule reads is in the metrics contract, a recording rule, or up', () => {
  const contract = new Set<string>(['up']);
  for (const m of Object.values(METRICS)) {
    contract.add(m.name);
    if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) contract.add(m.name + s);
  }
  for (const profile of ['production', 'fast'] as const) {
    const known = new Set([...contract, ...records(profile).map((r) => r.record)]);
    for (const rule of allRules(profile)) {
      const names = metricNames(rule.expr);
      assert.ok(names.length > 0, `no metric found in ${rule.expr}`);
      for (const name of names)
        assert.ok(
          known.has(name),
          `${'alert' in rule ? rule.alert : rule.record} reads ${name}, not in src/metrics/names.ts`,
        );
    }
  }
});

/** Metric names of every vector selector in a PromQL expression; fails on a parse error. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      assert.ok(!node.type.isError, `PromQL parse error at ${node.from} in: ${expr}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        assert.ok(id, `selector without a metric name in: ${expr}`);
        names.push(expr.slice(id.from, id.to));
      }
    },
  });
  return names;
}

test('docs/runbook.md states the production for: of every alert in its section (time to detect stays true)', () => {
  const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');
  const sections = new Map(
    runbook
      .split(/^## /m)
      .slice(1)
      .map((s) => [s.slice(0, s.indexOf('\n')).trim(), s] as const),
  );
  for (const a of alerts('production')) {
    const section = sections.get(a.alert);
    assert.ok(section, `docs/runbook.md has no "## ${a.alert}"`);
    if (a.for !== undefined)
      assert.match(section, new RegExp(`\\b${a.for}\\b`), `${a.alert}: for ${a.for} not in its runbook section`);
  }
});
