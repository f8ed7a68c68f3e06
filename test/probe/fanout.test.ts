/**
 * The fan-out round (src/probe/fanout.ts) against real SDK servers: one whose tool holds a
 * server-wide lock (p99 grows with N) and one whose tool scales (it does not), each proven with
 * the server's own session count: N sessions really were open at once, and none outlives its
 * round, even when the round fails at its deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fanoutRound, fanoutTimeoutMs } from '../../src/probe/fanout.js';
import { probe } from '../../src/probe/prober.js';
import type { ProbeMemory } from '../../src/probe/types.js';
import { startToolServer } from '../fixtures/tool-server.js';
import { targetOf } from '../fixtures/targets.js';

const canaryTarget = (url: string, tool: string, ms: number, sessions = 8) =>
  targetOf({
    name: 'fan',
    url,
    timeout: '10s',
    canary: { tool, arguments: { ms } },
    fanout: { sessions, call: 'canary', interval: '1h' },
  });

test('a tool behind a shared lock: p99 at N grows about N-fold over one session', { timeout: 30_000 }, async () => {
  const server = await startToolServer();
  try {
    const target = canaryTarget(server.url, 'locked', 60);
    const r = await fanoutRound(target, { memory: {}, timeoutMs: 10_000 });
    assert.equal(r.success, true, r.message);
    assert.equal(r.sessions, 8);
    assert.equal(r.completed, 8);
    assert.ok(r.baselineSeconds !== undefined && r.baselineSeconds >= 0.06, `baseline ${r.baselineSeconds}`);
    // Eight calls queue on one lock: the last waits for the seven before it.
    assert.ok((r.slowdownRatio ?? 0) > 4, `slowdown ${r.slowdownRatio} should be near 8`);
    assert.ok((r.p99Seconds ?? 0) > (r.p50Seconds ?? Infinity), 'the queue spreads the sessions');
    assert.equal(server.peakSessions(), 8, 'eight sessions were open on the server at once');
    assert.equal(server.openedSessions(), 9, 'the baseline session, then eight');
    assert.equal(server.sessions(), 0, 'every session was ended (DELETE) before the round returned');
  } finally {
    await server.close();
  }
});

test('a tool that scales: the same round stays near 1x', { timeout: 30_000 }, async () => {
  const server = await startToolServer();
  try {
    const r = await fanoutRound(canaryTarget(server.url, 'sleep', 60), { memory: {}, timeoutMs: 10_000 });
    assert.equal(r.success, true, r.message);
    assert.equal(r.completed, 8);
    assert.ok((r.slowdownRatio ?? Infinity) < 2.5, `slowdown ${r.slowdownRatio} should be near 1`);
    assert.equal(server.peakSessions(), 8);
    assert.equal(server.sessions(), 0);
  } finally {
    await server.close();
  }
});

test('tools/list rounds reuse what the probe learned, and honour the era', { timeout: 30_000 }, async () => {
  const server = await startToolServer();
  try {
    const target = targetOf({ name: 'fan', url: server.url, timeout: '5s', fanout: { sessions: 4, interval: '1h' } });
    const memory: ProbeMemory = {};
    assert.equal((await probe(target, { memory })).success, true);
    const r = await fanoutRound(target, { memory, timeoutMs: 5000 });
    assert.equal(r.success, true, r.message);
    assert.equal(r.call, 'tools/list');
    assert.equal(r.completed, 4);
    assert.ok(r.baselineSeconds !== undefined && r.p99Seconds !== undefined && r.slowdownRatio !== undefined);
    assert.equal(server.sessions(), 0);
  } finally {
    await server.close();
  }
});

test(
  'a round cut by its deadline fails with timeout, counts what completed, and still ends every session',
  { timeout: 30_000 },
  async () => {
    const server = await startToolServer();
    try {
      // 8 x 150 ms behind one lock cannot finish in 700 ms after a 150 ms baseline.
      const target = canaryTarget(server.url, 'locked', 150);
      const t0 = performance.now();
      const r = await fanoutRound(target, { memory: {}, timeoutMs: 700 });
      const took = performance.now() - t0;
      assert.equal(r.success, false);
      assert.equal(r.reason, 'timeout', r.message);
      assert.ok(r.completed < 8, `completed ${r.completed}`);
      assert.match(r.message ?? '', /of 8 sessions failed/);
      assert.ok(took < 700 + 1500 + 500, `the round took ${took} ms: deadline plus the close deadline at most`);
      // The sessions' DELETEs go out after the deadline too (their own timeout): none is left.
      assert.equal(server.sessions(), 0, 'no fan-out session outlives its round');
    } finally {
      await server.close();
    }
  },
);

test('an unreachable server fails the baseline and opens no fan-out sessions', { timeout: 20_000 }, async () => {
  const server = await startToolServer();
  const url = server.url;
  await server.close();
  const r = await fanoutRound(canaryTarget(url, 'sleep', 1), { memory: {}, timeoutMs: 2000 });
  assert.equal(r.success, false);
  assert.equal(r.reason, 'connect');
  assert.equal(r.completed, 0);
  assert.match(r.message ?? '', /^baseline session/);
  assert.equal(r.p99Seconds, undefined);
});

test('fanoutTimeoutMs: the target timeout, shortened to end before the next slot, or no room', () => {
  const target = targetOf({ name: 'fan', url: 'http://127.0.0.1:1/mcp', timeout: '2s', fanout: { interval: '1h' } });
  assert.equal(fanoutTimeoutMs(target, 60_000), 2000);
  assert.equal(fanoutTimeoutMs(target, 2600), 1000, 'room less the close deadline and a margin');
  assert.equal(fanoutTimeoutMs(target, 1500), undefined, 'no room for a round in this slot');
});
