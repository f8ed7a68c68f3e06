/**
 * Benchmark 4: cost of a `/metrics` scrape at 1,000 and 10,000 targets. A Recorder (the real
 * one, src/metrics/recorder.ts) is filled in-process with synthetic successful ProbeResults (two
 * operations, one tool, TLS expiry), then: `renderRegistry()` (src/metrics/exposition.ts, what `/metrics` serves) timed directly, and an HTTP GET
 * of `/metrics` served by the sidecar's real HTTP app (src/server/app.ts over node:http).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigSchema, resolveConfig, type TargetConfig } from '../src/config/schema.js';
import { Recorder } from '../src/metrics/recorder.js';
import { History } from '../src/server/history.js';
import { createApp } from '../src/server/app.js';
import { renderRegistry } from '../src/metrics/exposition.js';
import type { ProbeResult } from '../src/probe/types.js';
import { median, quantile, table, type PieceResult } from './lib/stats.js';

const SIZES = [1000, 2000, 10_000];
const ROUNDS = 7;

export function syntheticResult(target: string, i: number): ProbeResult {
  return {
    target,
    success: true,
    startedAtMs: Date.now(),
    durationSeconds: 0.004 + (i % 7) / 1000,
    phases: { dns: 0, connect: 0.0003, tls: 0.002, handshake: 0.002, tools_list: 0.001, close: 0.0007 },
    httpStatus: 200,
    tlsCertExpirySeconds: Date.now() / 1000 + 86400 * 30,
    server: {
      name: 'bench-fast',
      version: '1.0.0',
      protocolVersion: '2025-06-18',
      transport: 'streamable-http',
      era: 'legacy',
    },
    tools: [{ name: 'echo' }],
    toolListHash: 'abc123',
    operations: [
      { method: 'initialize', durationSeconds: 0.002 },
      { method: 'tools/list', durationSeconds: 0.001 },
    ],
    checks: [],
    log: [],
  };
}

/** Runs benchmark 4 and returns its markdown. */
export async function scrape(): Promise<PieceResult> {
  const rows: string[][] = [];
  let atMax = Number.NaN;
  for (const n of SIZES) {
    const file = ConfigSchema.parse({
      targets: Array.from({ length: n }, (_, i) => ({
        name: `t${String(i).padStart(5, '0')}`,
        url: `https://mcp-${i}.example.com/mcp`,
      })),
    });
    const config = resolveConfig(file).config!;
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const recorder = new Recorder(registry);
    const history = new History();
    config.targets.forEach((t: TargetConfig, i: number) => {
      recorder.addTarget(t);
      const r = syntheticResult(t.name, i);
      recorder.recordProbe(r, false);
      history.add(r);
    });
    const direct: number[] = [];
    let size = 0;
    for (let k = 0; k < ROUNDS + 1; k++) {
      const t0 = performance.now();
      const text = await renderRegistry(registry, false);
      if (k > 0) direct.push(performance.now() - t0); // first call is warm-up
      size = Buffer.byteLength(text);
    }
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
    const http: number[] = [];
    let httpSize = 0;
    let series = 0;
    try {
      for (let k = 0; k < ROUNDS + 1; k++) {
        const t0 = performance.now();
        const res = await fetch(url);
        const body = await res.text();
        if (k > 0) http.push(performance.now() - t0);
        httpSize = Buffer.byteLength(body);
        series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    if (n === SIZES.at(-1)) atMax = median(http);
    rows.push([
      n.toLocaleString('en'),
      series.toLocaleString('en'),
      `${(size / 1024 / 1024).toFixed(1)} MB`,
      `${median(direct).toFixed(0)} (${Math.min(...direct).toFixed(0)}–${Math.max(...direct).toFixed(0)})`,
      `${median(http).toFixed(0)} (${quantile(http, 0).toFixed(0)}–${quantile(http, 1).toFixed(0)})`,
      `${(httpSize / 1024 / 1024).toFixed(1)} MB`,
    ]);
    process.stderr.write(`  ${n}: ${rows.at(-1)!.join(' | ')}\n`);
  }
  const markdown = [
    `The real Recorder filled in-process with one synthetic successful probe result per target (2 operations, 1 tool, TLS expiry); ${ROUNDS} scrapes after one warm-up, median (min–max). HTTP is a GET of \`/metrics\` served by the sidecar's app over node:http on loopback, client in the same process.`,
    '',
    table(['targets', 'samples', 'text size', '`renderRegistry()` ms', 'HTTP GET /metrics ms', 'HTTP body'], rows),
    '',
    `Goal (< 250 ms at 10,000 targets): ${atMax < 250 ? 'met' : 'missed'} (median HTTP ${atMax.toFixed(0)} ms).`,
  ].join('\n');
  return { title: 'Scrape cost', markdown };
}
