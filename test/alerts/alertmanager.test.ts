// The example Alertmanager config against Debian's alertmanager 0.25: amtool validates it and
// resolves each severity to its receiver; a real Alertmanager on 127.0.0.1 applies the inhibitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ALERTMANAGER_FILE } from '../../alerts/generate.js';
import { buildAlertmanagerConfig } from '../../alerts/alertmanager.js';

function amtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('amtool', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const routeTest = (receiver: string, labels: string[]) =>
  amtool([
    'config',
    'routes',
    'test',
    `--config.file=${ALERTMANAGER_FILE}`,
    `--verify.receivers=${receiver}`,
    ...labels,
  ]);

test('amtool check-config accepts alerts/alertmanager.yml', () => {
  const r = amtool(['check-config', ALERTMANAGER_FILE]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS/);
  assert.match(r.output, /5 inhibit rules/);
});

test('critical pages, warning files a ticket, info goes to low-priority', () => {
  const cases: Array<[string, string[]]> = [
    ['pager', ['severity=critical', 'target=x', 'alertname=MCPProbeFailing']],
    ['pager', ['severity=critical', 'job=mcpwatch', 'instance=a:9465', 'alertname=MCPWatchDown']],
    ['ticket', ['severity=warning', 'target=x', 'alertname=MCPSessionsOverrun']],
    ['low-priority', ['severity=info', 'target=x', 'alertname=MCPToolListChanged']],
    // Without a severity (a rule outside this mixin), the root route files a ticket.
    ['ticket', ['target=x', 'alertname=SomethingElse']],
  ];
  for (const [receiver, labels] of cases) {
    const r = routeTest(receiver, labels);
    assert.equal(r.status, 0, `${labels.join(' ')} -> expected ${receiver}: ${r.output}`);
  }
});

test('a route test fails on the wrong receiver (the check can fail)', () => {
  assert.equal(routeTest('pager', ['severity=warning', 'target=x', 'alertname=MCPSessionsOverrun']).status, 1);
  assert.equal(routeTest('ticket', ['severity=critical', 'target=x', 'alertname=MCPProbeFailing']).status, 1);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

test('a real Alertmanager applies the inhibitions: probe failure over latency, sidecar down over the rest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-am-'));
  const port = await freePort();
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(
    configFile,
    stringify(buildAlertmanagerConfig({ webhookBaseUrl: 'http://127.0.0.1:9', groupWait: '1h' })),
  );
  const am = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  am.stderr.on('data', (d: Buffer) => (log += d.toString()));
  t.after(async () => {
    if (am.exitCode === null) {
      const exited = new Promise((r) => am.once('exit', r));
      am.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const base = `http://127.0.0.1:${port}/api/v2`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${base}/status`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    assert.ok(Date.now() < deadline && am.exitCode === null, `alertmanager did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const mk = (alertname: string, severity: string, labels: Record<string, string>) => ({
    labels: { alertname, severity, job: 'mcpwatch', ...labels },
    startsAt: new Date().toISOString(),
  });
  const a = { instance: 'a:9465' };
  const b = { instance: 'b:9465' };
  const posted = await fetch(`${base}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      mk('MCPProbeFailing', 'critical', { ...a, target: 'search' }),
      mk('MCPProbeLatencyHigh', 'warning', { ...a, target: 'search' }),
      mk('MCPLatencyBudgetBurn', 'critical', { ...a, target: 'search', long_window: '1h', short_window: '5m' }),
      mk('MCPProbeLatencyHigh', 'warning', { ...a, target: 'other' }),
      mk('MCPWatchDown', 'critical', b),
      mk('MCPSessionsOverrun', 'warning', { ...b, target: 'files' }),
      mk('MCPFanoutSlowdown', 'warning', { ...a, target: 'search' }),
      mk('MCPSessionsOverrun', 'warning', { ...a, target: 'crowded' }),
      mk('MCPSessionsNearMax', 'warning', { ...a, target: 'crowded' }),
      mk('MCPSessionsNearMax', 'warning', { ...a, target: 'busy' }),
    ]),
  });
  assert.equal(posted.status, 200);

  // Inhibition is computed when alerts are listed; poll until all ten are there.
  let listed: AmAlert[] = [];
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    listed = (await (await fetch(`${base}/alerts`)).json()) as AmAlert[];
    if (listed.length === 10 && listed.some((x) => x.status.state === 'suppressed')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const state = (alertname: string, target?: string) =>
    listed.find((x) => x.labels.alertname === alertname && x.labels.target === target)?.status.state;
  assert.equal(state('MCPProbeFailing', 'search'), 'active');
  assert.equal(state('MCPProbeLatencyHigh', 'search'), 'suppressed', 'latency of a failing target is inhibited');
  assert.equal(state('MCPLatencyBudgetBurn', 'search'), 'suppressed', 'budget burn of a failing target is inhibited');
  assert.equal(state('MCPProbeLatencyHigh', 'other'), 'active', 'another target is not inhibited');
  assert.equal(state('MCPWatchDown'), 'active');
  assert.equal(state('MCPSessionsOverrun', 'files'), 'suppressed', "a down sidecar's alerts are inhibited");
  assert.equal(state('MCPFanoutSlowdown', 'search'), 'suppressed', 'fan-out of a failing target is inhibited');
  assert.equal(state('MCPSessionsNearMax', 'crowded'), 'suppressed', 'the 90 % warning yields to the overrun');
  assert.equal(state('MCPSessionsNearMax', 'busy'), 'active', 'without an overrun the warning stays');
});
