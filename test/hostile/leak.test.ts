/**
 * 1,000 hostile probes (the catalogue cases that fail fast, 20 at a time): afterwards the
 * process's active handles, child processes and heap are back near their baseline. Prints
 * the measured numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { probe } from '../../src/probe/prober.js';
import type { TargetConfig } from '../../src/config/schema.js';
import { targetOf } from '../fixtures/targets.js';
import { HOSTILE_CASES, targetFields, type HostileServer } from '../fixtures/hostile-servers.js';
import { childPids } from './proc.js';

const PROBES = 1000;
const CONCURRENCY = 20;

/** A real gc() (the runner does not pass --expose-gc); undefined if the flag cannot be set. */
function getGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

function resourceCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settle(gc: (() => void) | undefined): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await sleep(200);
    gc?.();
  }
}

test(
  `leak: ${PROBES} hostile probes leave handles, children and heap near baseline`,
  { timeout: 240_000 },
  async (t) => {
    const gc = getGc();
    const cases = HOSTILE_CASES.filter((c) => c.fast);
    const servers: HostileServer[] = await Promise.all(cases.map((c) => c.start()));
    try {
      // A longer timeout than the catalogue's (20 probes share 2 cores: a fast case must not time
      // out on CPU) and a 64 KiB body limit (the 200 MB case stays a limit hit, not a 4 MiB copy).
      const targets: TargetConfig[] = cases.map((c, i) =>
        targetOf({
          ...targetFields(`leak-${i}`, c, servers[i] as HostileServer),
          timeout: '5s',
          max_response_bytes: 65_536,
        }),
      );
      const run = async (n: number) => {
        let next = 0;
        const counts = new Map<string, number>();
        const worker = async () => {
          while (next < n) {
            const i = next++;
            const target = targets[i % targets.length] as TargetConfig;
            const r = await probe(target);
            const key = `${target.name}:${r.success ? 'success' : (r.reason ?? 'none')}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        return counts;
      };

      // Warm up (module loading, JIT, undici's lazily created state) before the baseline.
      await run(2 * targets.length);
      await settle(gc);
      const baseChildren = childPids();
      const baseResources = resourceCounts();
      const baseHeap = process.memoryUsage().heapUsed;

      const t0 = Date.now();
      const counts = await run(PROBES);
      const elapsedMs = Date.now() - t0;

      const until = Date.now() + 5000;
      let children = childPids().filter((p) => !baseChildren.includes(p));
      while ((children.length > 0 || total(resourceCounts()) > total(baseResources) + 2) && Date.now() < until) {
        await sleep(100);
        children = childPids().filter((p) => !baseChildren.includes(p));
      }
      await settle(gc);
      const resources = resourceCounts();
      const heap = process.memoryUsage().heapUsed;
      const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

      t.diagnostic(
        `${PROBES} probes, concurrency ${CONCURRENCY}, ${cases.length} cases, ${elapsedMs} ms; reasons ${JSON.stringify(Object.fromEntries(counts))}`,
      );
      t.diagnostic(`active resources: baseline ${JSON.stringify(baseResources)} -> after ${JSON.stringify(resources)}`);
      t.diagnostic(`child processes: baseline ${baseChildren.length} -> new after ${children.length}`);
      t.diagnostic(
        `heap used: baseline ${mib(baseHeap)} MiB -> after ${mib(heap)} MiB (gc ${gc ? 'exposed' : 'not exposed'})`,
      );

      assert.equal(
        [...counts.values()].reduce((a, b) => a + b, 0),
        PROBES,
      );
      // Every probe went down its hostile path: each case ended with the catalogue's reason.
      const wrong = [...counts.keys()].filter((k) => {
        const [name, reason] = k.split(':');
        return reason !== cases[Number(name?.slice('leak-'.length))]?.reason;
      });
      assert.deepEqual(wrong, [], 'probes that ended with another reason than their case expects');
      assert.ok(![...counts.keys()].some((k) => k.endsWith(':internal')), 'no probe ended as an internal error');
      assert.deepEqual(children, [], 'no child process left (zombies included)');
      assert.ok(
        total(resources) <= total(baseResources) + 2,
        `active resources back near baseline: ${JSON.stringify(resources)}`,
      );
      // With a real gc, 1,000 probes may leave a few MiB of lazily grown caches, not per-probe state.
      const heapBudget = gc ? 16 * 1024 * 1024 : 64 * 1024 * 1024;
      assert.ok(heap - baseHeap <= heapBudget, `heap grew by ${mib(heap - baseHeap)} MiB`);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  },
);
