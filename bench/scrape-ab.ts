/**
 * Scrape cost before/after a change, in one process: the Recorder, renderer and HTTP app of an
 * older tree (BEFORE, an exported commit) against this tree's, on the same synthetic targets as
 * bench/scrape.ts, scrapes alternating between the two. Not part of `npm run bench`.
 *
 *   git archive <commit> | (mkdir -p /tmp/before && tar -x -C /tmp/before)
 *   ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   BEFORE=/tmp/before node --import tsx bench/scrape-ab.ts
 *
 * Both registries live in one heap, so each side's GC also pays for the other's series: the
 * ratio is what this measures, not the absolute times of bench/scrape.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { median } from './lib/stats.js';
import { syntheticResult } from './scrape.js';

const AFTER = fileURLToPath(new URL('../src', import.meta.url));
const SIZES = [1000, 10_000];
const ROUNDS = Number(process.env.ROUNDS ?? 11);

interface Side {
  render(): Promise<number>;
  http(): Promise<number>;
  close(): Promise<void>;
}

/** A filled Recorder and a listening app, from the sources under `src`. */
async function side(src: string, n: number): Promise<Side> {
  const { ConfigSchema, resolveConfig } = await import(join(src, 'config/schema.ts'));
  const { Recorder } = await import(join(src, 'metrics/recorder.ts'));
  const { History } = await import(join(src, 'server/history.ts'));
  const { createApp } = await import(join(src, 'server/app.ts'));
  const { renderRegistry } = await import(join(src, 'metrics/exposition.ts'));
  const file = ConfigSchema.parse({
    targets: Array.from({ length: n }, (_, i) => ({
      name: `t${String(i).padStart(5, '0')}`,
      url: `https://mcp-${i}.example.com/mcp`,
    })),
  });
  const config = resolveConfig(file).config;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const recorder = new Recorder(registry);
  const history = new History();
  config.targets.forEach((t: { name: string }, i: number) => {
    recorder.addTarget(t);
    const r = syntheticResult(t.name, i);
    recorder.recordProbe(r, false);
    history.add(r);
  });
  const app = createApp({
    registry,
    getConfig: () => config,
    probeNow: async () => {
      throw new Error('not used');
    },
    history,
    isReady: () => true,
    version: 'bench',
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return {
    render: async () => {
      const t0 = performance.now();
      await renderRegistry(registry, false);
      return performance.now() - t0;
    },
    http: async () => {
      const t0 = performance.now();
      await (await fetch(url)).text();
      return performance.now() - t0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const fmt = (a: number[]) => `${median(a).toFixed(0)} (${Math.min(...a).toFixed(0)}–${Math.max(...a).toFixed(0)})`;
const change = (after: number[], before: number[]) => `${((median(after) / median(before)) * 100 - 100).toFixed(0)} %`;

async function main(): Promise<void> {
  const before = process.env.BEFORE;
  if (!before) throw new Error('set BEFORE to an exported older tree (see the header of bench/scrape-ab.ts)');
  const rows: string[] = [];
  for (const n of SIZES) {
    const sides = { before: await side(join(before, 'src'), n), after: await side(AFTER, n) };
    const t = {
      before: { render: [] as number[], http: [] as number[] },
      after: { render: [] as number[], http: [] as number[] },
    };
    for (let k = 0; k <= ROUNDS; k++) {
      // Alternate which side goes first; round 0 is the warm-up.
      for (const s of k % 2 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        const r = await sides[s].render();
        const h = await sides[s].http();
        if (k > 0) {
          t[s].render.push(r);
          t[s].http.push(h);
        }
      }
    }
    await sides.before.close();
    await sides.after.close();
    rows.push(
      `| ${n.toLocaleString('en')} | ${fmt(t.before.render)} | ${fmt(t.after.render)} | ${change(t.after.render, t.before.render)} | ${fmt(t.before.http)} | ${fmt(t.after.http)} | ${change(t.after.http, t.before.http)} |`,
    );
    process.stderr.write(`${rows.at(-1)}\n`);
  }
  process.stdout.write(
    [
      `${ROUNDS} alternating scrapes per side after one warm-up, median (min–max) ms.`,
      '',
      '| targets | `renderRegistry()` before | after | change | HTTP GET /metrics before | after | change |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
  process.exit(0);
}

void main();
