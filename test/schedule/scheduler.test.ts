/**
 * The scheduler on Node's fake timers (setTimeout and Date): every slot is checked to the
 * millisecond, and no test waits on the wall clock.
 */
import { afterEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_PROBE_SPACING_MS, Scheduler, phaseFraction } from '../../src/schedule/scheduler.js';
import { parseConfig } from '../../src/config/load.js';
import type { TargetConfig } from '../../src/config/schema.js';
import type { ProbeResult } from '../../src/probe/types.js';

/** The fake clock's start: a whole second plus 250 ms, so cron slots fall off the start. */
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0, 250);

function parseTargets(lines: string[], interval = '30s', timeout = '1s'): TargetConfig[] {
  const yaml = `defaults: { interval: ${interval}, timeout: ${timeout} }\ntargets:\n${lines.map((l) => `  - ${l}`).join('\n')}\n`;
  const { config, issues } = parseConfig(yaml, {});
  assert.ok(config, JSON.stringify(issues));
  return config.targets;
}
function targets(n: number, interval: string, timeout: string): TargetConfig[] {
  return parseTargets(
    Array.from({ length: n }, (_, i) => `{ name: t${i}, url: "http://127.0.0.1:9/mcp" }`),
    interval,
    timeout,
  );
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

/** Fake setTimeout, setInterval and Date from T0; restored when the test ends. */
function fakeClock(): void {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: T0 });
}
afterEach(() => mock.timers.reset());

/** Lets every pending promise settle: setImmediate is not faked, and runs after all microtasks. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Moves the fake clock on by `ms`, one millisecond at a time, letting promises settle at each
 * step, so a timer fires with Date.now() equal to its due time and a probe that resolves at a
 * millisecond has finished before the next one.
 */
async function advance(ms: number): Promise<void> {
  // Timers armed at the current millisecond (delay 0) fire at it, not one millisecond late.
  mock.timers.tick(0);
  await settle();
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await settle();
    mock.timers.tick(0);
    await settle();
  }
}

/** A probe's work: `ms` of fake time, cut short by the signal as runProbe's contract asks. */
const hold = (ms: number, signal: AbortSignal, onAbort = () => {}) =>
  new Promise<void>((r) => {
    const timer = setTimeout(r, ms);
    signal.addEventListener('abort', () => {
      onAbort();
      clearTimeout(timer);
      r();
    });
  });

/** Milliseconds since T0. */
const elapsed = () => Date.now() - T0;

/**
 * The slots the scheduler's contract gives a target started at `startMs` (ms since T0) and
 * never busy, up to `untilMs`: the first at its spread offset, the next on its phase lattice at
 * least half an interval later (strictly after), then one interval apart.
 */
function expectedSlots(name: string, intervalMs: number, spreadMs: number, startMs: number, untilMs: number): number[] {
  const f = phaseFraction(name);
  const first = startMs + Math.floor(f * Math.min(spreadMs, intervalMs));
  const phase = startMs + Math.floor(f * intervalMs);
  const slots = [first];
  let next = phase;
  while (next <= first + intervalMs / 2) next += intervalMs;
  for (; next <= untilMs; next += intervalMs) slots.push(next);
  return slots.filter((s) => s <= untilMs);
}

test('first probe at start, later probes at a per-target phase spread over the interval', async () => {
  fakeClock();
  const starts = new Map<string, number[]>();
  const lags: number[] = [];
  const s = new Scheduler({
    runProbe: async (t) => {
      starts.set(t.name, [...(starts.get(t.name) ?? []), elapsed()]);
      return result(t.name);
    },
    onResult: () => {},
    onLag: (seconds) => lags.push(seconds),
  });
  const list = targets(40, '2s', '1s');
  await s.setTargets(list);
  await advance(6500);
  await s.stop();
  let probes = 0;
  for (const t of list) {
    const times = starts.get(t.name) ?? [];
    probes += times.length;
    // First within the 1 s spread, then at least three probes in all, so the gap check runs for
    // every target.
    assert.ok(times.length >= 3, `${t.name} probed ${times.length} times`);
    assert.ok((times[0] as number) < 1000, `${t.name}: first probe at ${times[0]}ms, not right at start`);
    assert.equal(times[0], Math.floor(phaseFraction(t.name) * 1000), `${t.name}: first probe at its spread offset`);
    const phase = Math.floor(phaseFraction(t.name) * 2000);
    assert.equal((times[1] as number) % 2000, phase, `${t.name}: second probe on its own phase`);
    assert.ok((times[1] as number) - (times[0] as number) > 1000, `${t.name}: second probe half an interval later`);
    for (let i = 2; i < times.length; i++) {
      assert.equal((times[i] as number) - (times[i - 1] as number), 2000, `${t.name}: steady slots one interval apart`);
    }
    assert.deepEqual(times, expectedSlots(t.name, 2000, 1000, 0, 6500), `${t.name}: every slot up to 6.5 s, on time`);
  }
  // The second probes are spread over the whole 2 s interval, not bunched in its first second.
  const phases = list.map((t) => (starts.get(t.name)?.[1] as number) % 2000);
  const late = phases.filter((p) => p >= 1000).length;
  assert.ok(late >= 8 && late <= 32, `second probes in the later half of the interval: ${late} of 40`);
  // On a clock nothing else competes for, every probe starts exactly at its slot.
  assert.equal(lags.length, probes, 'one lag report per probe');
  assert.deepEqual(new Set(lags), new Set([0]), 'no schedule lag');
});

test('many targets starting at once spread their first probes over 5 ms each (at most the interval)', async () => {
  fakeClock();
  const firsts = new Map<string, number>();
  let probes = 0;
  const s = new Scheduler({
    runProbe: async (t) => {
      probes++;
      if (!firsts.has(t.name)) firsts.set(t.name, elapsed());
      return result(t.name);
    },
    onResult: () => {},
  });
  // 600 targets at 5 ms each: first probes over 3 s (not the 1 s a handful gets).
  const list = targets(600, '30s', '1s');
  const spreadMs = 600 * FIRST_PROBE_SPACING_MS;
  await s.setTargets(list);
  await advance(spreadMs);
  await s.stop();
  const times = [...firsts.values()].sort((a, b) => a - b);
  assert.equal(times.length, 600, 'every target had its first probe within the spread');
  assert.equal(probes, 600, 'and only its first probe (the interval is 30 s)');
  for (const t of list) {
    assert.equal(firsts.get(t.name), Math.floor(phaseFraction(t.name) * spreadMs), `${t.name}: at its offset`);
  }
  const inFirstSecond = times.filter((t) => t < 1000).length;
  assert.ok(
    inFirstSecond > 120 && inFirstSecond < 300,
    `first probes in the first second: ${inFirstSecond} of 600 (expected about 200)`,
  );
  assert.ok(times.at(-1)! > 2000, `the last first probe at ${times.at(-1)}ms, spread past 2 s`);
  assert.ok(times.at(-1)! < spreadMs, `the last first probe at ${times.at(-1)}ms, within 600 x 5 ms`);
});

test('after a spread-out start, no target is probed twice within half an interval or skipped', async () => {
  fakeClock();
  // 380 targets at 2 s: first probes spread over 1.9 s, so most first slots sit just before the
  // target's own phase slot; the second probe must wait for the next one.
  const starts = new Map<string, number[]>();
  let skipped = 0;
  const s = new Scheduler({
    runProbe: async (t, o) => {
      starts.set(t.name, [...(starts.get(t.name) ?? []), elapsed()]);
      await hold(20, o.signal);
      return result(t.name);
    },
    onResult: () => {},
    onSkip: () => skipped++,
  });
  const list = targets(380, '2s', '1s');
  await s.setTargets(list);
  await advance(4500);
  await s.stop();
  assert.equal(skipped, 0, 'no slot found its target still probing');
  let tooSoon = 0;
  let gaps = 0;
  for (const times of starts.values())
    for (let i = 1; i < times.length; i++, gaps++)
      if ((times[i] as number) - (times[i - 1] as number) < 1000) tooSoon++;
  assert.equal(tooSoon, 0, `probes less than half an interval after the previous one: ${tooSoon}`);
  assert.ok(gaps >= 380, `the gap check ran ${gaps} times`);
  assert.equal(starts.size, 380);
  for (const t of list) {
    assert.deepEqual(starts.get(t.name), expectedSlots(t.name, 2000, 1900, 0, 4500), `${t.name}: its slots, on time`);
  }
});

test('never two probes of one target at once: a slot that finds one running is skipped and counted', async () => {
  fakeClock();
  let running = 0;
  let maxRunning = 0;
  const events: string[] = [];
  let aborted = 0;
  const s = new Scheduler({
    runProbe: async (t, o) => {
      running++;
      events.push(`probe ${elapsed()}`);
      maxRunning = Math.max(maxRunning, running);
      await hold(450, o.signal, () => aborted++);
      running--;
      return result(t.name);
    },
    onResult: () => {},
    onSkip: () => events.push(`skip ${elapsed()} while ${running} running`),
  });
  const list = targets(1, '200ms', '100ms');
  await s.setTargets(list);
  await advance(1500);
  await s.stop();
  assert.equal(maxRunning, 1);
  assert.equal(running, 0, 'stop() waits for the probe in flight');
  // Slots every 200 ms from the phase; a probe of 450 ms covers the next two, which are skipped.
  const phase = Math.floor(phaseFraction(list[0]!.name) * 200);
  const expected: string[] = [];
  for (let k = 0; phase + k * 200 <= 1500; k++) {
    expected.push(k % 3 === 0 ? `probe ${phase + k * 200}` : `skip ${phase + k * 200} while 1 running`);
  }
  assert.deepEqual(events, expected);
  const probes = events.filter((e) => e.startsWith('probe')).length;
  const skips = events.length - probes;
  assert.ok(probes >= 3 && skips >= 4, `probes ${probes}, skipped ${skips}`);
  // The last probe (phase + 1200 ms) was still running at 1.5 s: stop() aborted it.
  assert.equal(aborted, 1, 'stop() aborted the probe in flight');
});

test('reload: added, removed and changed targets, the unchanged one keeps its slots', async () => {
  fakeClock();
  const starts = new Map<string, number[]>();
  const results: string[] = [];
  const signals = new Map<string, AbortSignal>();
  const s = new Scheduler({
    runProbe: async (t, o) => {
      starts.set(t.name, [...(starts.get(t.name) ?? []), elapsed()]);
      signals.set(t.name, o.signal);
      // c hangs until it is stopped.
      if (t.name === 'c') await new Promise((r) => o.signal.addEventListener('abort', r));
      return result(t.name);
    },
    onResult: (r) => results.push(r.target),
  });
  const url = 'url: "http://127.0.0.1:9/mcp"';
  const before = parseTargets([`{ name: a, ${url} }`, `{ name: b, ${url} }`, `{ name: c, ${url} }`], '2s');
  assert.deepEqual(await s.setTargets(before), { added: ['a', 'b', 'c'], removed: [], changed: [] });
  await advance(3000);
  assert.equal(starts.get('c')?.length, 1, 'c probed once and still probing');
  const after = parseTargets([`{ name: a, ${url} }`, `{ name: b, ${url}, interval: 4s }`, `{ name: d, ${url} }`], '2s');
  assert.deepEqual(await s.setTargets(after), { added: ['d'], removed: ['c'], changed: ['b'] });
  assert.equal(elapsed(), 3000, 'the reload took no fake time');
  assert.equal(signals.get('c')?.aborted, true, "the removed target's probe in flight was aborted");
  const bBefore = starts.get('b')?.length ?? 0;
  await advance(6000);
  await s.stop();
  assert.deepEqual(starts.get('a'), expectedSlots('a', 2000, 1000, 0, 9000), 'a: slots from the first start');
  assert.deepEqual(starts.get('c'), [starts.get('c')![0]], 'c: never probed after removal');
  assert.ok(!results.includes('c'), "c's aborted probe reported no result");
  assert.deepEqual(
    starts.get('b')?.slice(bBefore),
    expectedSlots('b', 4000, 1000, 3000, 9000),
    'b: restarted at the reload on its new interval',
  );
  assert.deepEqual(starts.get('d'), expectedSlots('d', 2000, 1000, 3000, 9000), 'd: started at the reload');
});

test('cron: a probe right at start, then one at every scheduled time', async () => {
  fakeClock();
  const starts: number[] = [];
  const lags: number[] = [];
  const s = new Scheduler({
    runProbe: async (t) => {
      starts.push(elapsed());
      return result(t.name);
    },
    onResult: () => {},
    onLag: (seconds) => lags.push(seconds),
  });
  await s.setTargets(parseTargets([`{ name: every-second, url: "http://127.0.0.1:9/mcp", schedule: "* * * * * *" }`]));
  await advance(3000);
  await s.stop();
  // T0 is 250 ms past a whole second: the cron times are 750 ms, 1750 ms and 2750 ms later.
  assert.deepEqual(starts, [0, 750, 1750, 2750]);
  assert.deepEqual(lags, [0, 0, 0, 0]);
});

test('lag: a late slot reports how late it ran, and later slots stay on the phase lattice', async () => {
  fakeClock();
  const starts: number[] = [];
  const lags: number[] = [];
  let skipped = 0;
  const s = new Scheduler({
    runProbe: async (t) => {
      starts.push(elapsed());
      return result(t.name);
    },
    onResult: () => {},
    onLag: (seconds) => lags.push(seconds),
    onSkip: () => skipped++,
  });
  const list = targets(1, '1s', '100ms');
  const phase = Math.floor(phaseFraction(list[0]!.name) * 1000);
  await s.setTargets(list);
  await advance(phase + 999);
  // The event loop is blocked for 1.3 s: the timer for the slot at phase + 1 s fires only then,
  // with the clock already 1.3 s on, and the slot at phase + 2 s passes while it is blocked.
  mock.timers.tick(1300);
  await settle();
  await advance(1000);
  await s.stop();
  assert.deepEqual(starts, [phase, phase + 2299, phase + 3000], 'no burst to catch up; back on the lattice');
  assert.deepEqual(lags, [0, 1.299, 0]);
  assert.equal(skipped, 0);
});
