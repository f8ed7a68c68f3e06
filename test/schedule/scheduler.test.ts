import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { parseConfig } from '../../src/config/load.js';
import type { ProbeResult } from '../../src/probe/types.js';

function targets(n: number, interval: string, timeout: string) {
  const yaml = `defaults: { interval: ${interval}, timeout: ${timeout} }\ntargets:\n${Array.from({ length: n }, (_, i) => `  - { name: t${i}, url: "http://127.0.0.1:9/mcp" }`).join('\n')}\n`;
  return parseConfig(yaml, {}).config!.targets;
}
const result = (target: string): ProbeResult => ({
  target,
  success: true,
  startedAtMs: Date.now(),
  durationSeconds: 0,
  phases: {},
  httpStatus: 0,
  operations: [],
  checks: [],
  log: [],
});

test('first probe at start, later probes at a per-target phase spread over the interval', async () => {
  const starts = new Map<string, number[]>();
  const t0 = Date.now();
  const s = new Scheduler({
    runProbe: async (t) => {
      starts.set(t.name, [...(starts.get(t.name) ?? []), Date.now() - t0]);
      return result(t.name);
    },
    onResult: () => {},
  });
  const list = targets(40, '2s', '1s');
  await s.setTargets(list);
  await new Promise((r) => setTimeout(r, 6500));
  await s.stop();
  for (const t of list) {
    const times = starts.get(t.name) ?? [];
    // First within 1 s, second at the first phase slot at least 1 s later (by 4 s), third one
    // interval after that (by 6 s): the gap check below runs for every target.
    assert.ok(times.length >= 3, `${t.name} probed ${times.length} times`);
    assert.ok((times[0] as number) < 1200, `${t.name}: first probe at ${times[0]}ms, not right at start`);
    for (let i = 2; i < times.length; i++) {
      const gap = (times[i] as number) - (times[i - 1] as number);
      assert.ok(gap > 1700 && gap < 2300, `${t.name}: steady slots ${gap}ms apart`);
    }
  }
  // The second probes are spread over the whole 2 s interval, not bunched in its first second.
  const phases = list.map((t) => (starts.get(t.name)?.[1] as number) % 2000);
  const late = phases.filter((p) => p >= 1000).length;
  assert.ok(late >= 8 && late <= 32, `second probes in the later half of the interval: ${late} of 40`);
});

test('many targets starting at once spread their first probes over 5 ms each (at most the interval)', async () => {
  const firsts = new Map<string, number>();
  const t0 = Date.now();
  const s = new Scheduler({
    runProbe: async (t) => {
      if (!firsts.has(t.name)) firsts.set(t.name, Date.now() - t0);
      return result(t.name);
    },
    onResult: () => {},
  });
  // 600 targets at 5 ms each: first probes over 3 s (not the 1 s a handful gets).
  const list = targets(600, '30s', '1s');
  await s.setTargets(list);
  await new Promise((r) => setTimeout(r, 3400));
  await s.stop();
  const times = [...firsts.values()].sort((a, b) => a - b);
  assert.equal(times.length, 600, 'every target had its first probe within the spread');
  const inFirstSecond = times.filter((t) => t < 1000).length;
  assert.ok(
    inFirstSecond > 120 && inFirstSecond < 300,
    `first probes in the first second: ${inFirstSecond} of 600 (expected about 200)`,
  );
  assert.ok(times.at(-1)! > 2000, `the last first probe at ${times.at(-1)}ms, spread past 2 s`);
});

test('after a spread-out start, no target is probed twice within half an interval or skipped', async () => {
  // 380 targets at 2 s: first probes spread over 1.9 s, so most first slots sit just before the
  // target's own phase slot; the second probe must wait for the next one.
  const starts = new Map<string, number[]>();
  let skipped = 0;
  const t0 = Date.now();
  const s = new Scheduler({
    runProbe: async (t) => {
      starts.set(t.name, [...(starts.get(t.name) ?? []), Date.now() - t0]);
      await new Promise((r) => setTimeout(r, 20));
      return result(t.name);
    },
    onResult: () => {},
    onSkip: () => skipped++,
  });
  await s.setTargets(targets(380, '2s', '1s'));
  await new Promise((r) => setTimeout(r, 4500));
  await s.stop();
  assert.equal(skipped, 0, 'no slot found its target still probing');
  let tooSoon = 0;
  for (const times of starts.values())
    for (let i = 1; i < times.length; i++) if ((times[i] as number) - (times[i - 1] as number) < 1000) tooSoon++;
  assert.equal(tooSoon, 0, `probes less than half an interval after the previous one: ${tooSoon}`);
  assert.equal(starts.size, 380);
});

test('never two probes of one target at once: a slot that finds one running is skipped and counted', async () => {
  let running = 0;
  let maxRunning = 0;
  let probes = 0;
  const skipped: string[] = [];
  const s = new Scheduler({
    runProbe: async (t, o) => {
      running++;
      probes++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => {
        const timer = setTimeout(r, 450);
        o.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          r(undefined);
        });
      });
      running--;
      return result(t.name);
    },
    onResult: () => {},
    onSkip: (name) => skipped.push(name),
  });
  await s.setTargets(targets(1, '200ms', '100ms'));
  await new Promise((r) => setTimeout(r, 1500));
  await s.stop();
  assert.equal(maxRunning, 1);
  assert.equal(running, 0, 'stop() waits for the probe in flight');
  assert.ok(probes >= 2 && skipped.length >= 3, `probes ${probes}, skipped ${skipped.length}`);
});
