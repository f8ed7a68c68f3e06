/**
 * The hostile catalogue (issue 3): every misbehaving server of servers.ts is probed; each probe
 * must end with its expected reason within timeout + 1 s, leave no child process behind, and a
 * sidecar probing the same servers on its schedule must keep serving /metrics with the reasons.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSidecar, type Sidecar } from '../../src/sidecar.js';
import { createLogger } from '../../src/log/logger.js';
import { parseConfig, formatIssues } from '../../src/config/load.js';
import { probe } from '../../src/probe/prober.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { targetOf } from '../fixtures/targets.js';
import { HOSTILE_CASES, targetFields, type HostileServer } from '../fixtures/hostile-servers.js';
import { childPids } from './proc.js';

const servers: HostileServer[] = [];
const results = new Map<string, { result: ProbeResult; wallMs: number; timeoutMs: number }>();
let sidecar: Sidecar | undefined;
const logLines: string[] = [];

const slug = (name: string) =>
  name
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

let baselineChildren: number[] = [];

before(async () => {
  // tsx may run an esbuild service as a child: only children started after this count.
  baselineChildren = childPids();
  const started = await Promise.all(HOSTILE_CASES.map((c) => c.start()));
  servers.push(...started);
  const targets = HOSTILE_CASES.map((c, i) => targetFields(slug(c.name), c, started[i] as HostileServer));
  // JSON is YAML: the sidecar reads the hostile targets through the real config loader.
  const { config, issues } = parseConfig(JSON.stringify({ defaults: { interval: '1h' }, targets }), {}, 'hostile');
  assert.ok(config, formatIssues(issues));
  sidecar = await startSidecar({
    config,
    env: {},
    logger: createLogger({ level: 'debug', write: (l) => logLines.push(l) }),
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: false,
    processMetrics: false,
  });
  // Direct probes of every case while the sidecar probes the same servers: the slow cases all
  // at once (they wait on the network), the fast ones one by one (they need the CPU).
  const direct = async (i: number) => {
    const c = HOSTILE_CASES[i] as (typeof HOSTILE_CASES)[number];
    const target = targetOf(targets[i] as Record<string, unknown>);
    const t0 = Date.now();
    const result = await probe(target);
    results.set(c.name, { result, wallMs: Date.now() - t0, timeoutMs: target.timeoutMs });
  };
  const indexes = HOSTILE_CASES.map((_, i) => i);
  const slow = Promise.all(indexes.filter((i) => !HOSTILE_CASES[i]?.fast).map(direct));
  for (const i of indexes.filter((i) => HOSTILE_CASES[i]?.fast)) await direct(i);
  await slow;
});

after(async () => {
  await sidecar?.close();
  await Promise.all(servers.map((s) => s.close()));
});

for (const c of HOSTILE_CASES) {
  test(`hostile: ${c.name} -> ${c.reason}`, () => {
    const r = results.get(c.name);
    assert.ok(r, 'probe ran');
    const got = r.result.success ? 'success' : r.result.reason;
    assert.equal(got, c.reason, `reason (message: ${r.result.message})\n${r.result.log.join('\n')}`);
    assert.ok(r.wallMs <= r.timeoutMs + 1000, `ended in ${r.wallMs}ms, timeout ${r.timeoutMs}ms`);
    if (!r.result.success) {
      assert.ok(r.result.message && r.result.message.length <= 500, 'a bounded, readable message');
    }
  });
}

test('hostile: the sidecar probing every case still serves /metrics with each reason', async () => {
  assert.ok(sidecar);
  const base = `http://127.0.0.1:${sidecar.address.port}`;
  const deadline = Date.now() + 15_000;
  let text = '';
  const counted = (name: string) =>
    new RegExp(`^mcp_probes_total\\{target="${name}",result="(success|failure)"\\} 1$`, 'm').test(text);
  for (;;) {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    text = await res.text();
    if (HOSTILE_CASES.every((c) => counted(slug(c.name)))) break;
    assert.ok(
      Date.now() < deadline,
      `scheduled probes did not all finish:\n${HOSTILE_CASES.filter((c) => !counted(slug(c.name)))
        .map((c) => c.name)
        .join('\n')}`,
    );
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const c of HOSTILE_CASES) {
    const name = slug(c.name);
    if (c.reason === 'success') {
      assert.match(text, new RegExp(`^mcp_probe_success\\{target="${name}"\\} 1$`, 'm'), c.name);
    } else {
      assert.match(
        text,
        new RegExp(`^mcp_probe_failures_total\\{target="${name}",reason="${c.reason}"\\} 1$`, 'm'),
        c.name,
      );
    }
  }
  assert.equal((await fetch(`${base}/-/healthy`)).status, 200);
  // Every failure was logged once with its reason; nothing crashed the loop.
  assert.ok(!logLines.some((l) => /level=error/.test(l)), logLines.filter((l) => /level=error/.test(l)).join('\n'));
});

test('hostile: no child process outlives its probe', async () => {
  // Stdio children are killed at close; give the kernel a moment to reap the last ones.
  const until = Date.now() + 3000;
  const extra = () => childPids().filter((p) => !baselineChildren.includes(p));
  while (extra().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(extra(), []);
});
