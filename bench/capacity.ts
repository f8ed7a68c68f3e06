/**
 * Benchmark 3: capacity of one mcpwatch process (`node bin/mcpwatch.js`, the shipped build) with
 * 100 / 500 / 1,000 / 2,000 targets at a 15 s interval, spread over two fast fixture server
 * processes. Each level runs in a fresh process, several rounds. After a settling period it
 * measures over a window: mcpwatch's CPU % (from /proc/<pid>/stat), peak RSS, probes/s, failures,
 * and schedule lag p50/p99 from the `mcpwatch_probe_schedule_lag_seconds` histogram (the window's
 * observations only).
 *
 * V8 grows its heap lazily far past what is live when memory is plentiful, so RSS on a large
 * machine says little about what the process needs. mcpwatch runs with a V8 heap cap, as the
 * Kubernetes manifests do (`--max-old-space-size`, default here 160 MB); one extra run at the
 * largest level without the cap shows what V8 takes when nothing bounds it.
 */
import { procCpuSeconds, procRssBytes, sleep, startFastServer } from './lib/proc.js';
import { histogramBuckets, quantileBetween, startMcpwatch, sumSamples, targetsYaml } from './lib/sidecar-proc.js';
import { median, spread, table, type PieceResult } from './lib/stats.js';

const LEVELS = (process.env.BENCH_CAPACITY_LEVELS ?? '100,500,1000,2000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_CAPACITY_ROUNDS ?? 3);
const HEAP_MB = Number(process.env.BENCH_CAPACITY_HEAP_MB ?? 160);
const SETTLE_S = Number(process.env.BENCH_CAPACITY_SETTLE_S ?? 20);
const WINDOW_S = Number(process.env.BENCH_CAPACITY_WINDOW_S ?? 45);
const LAG = 'mcpwatch_probe_schedule_lag_seconds';

/** The failure reasons seen between two scrapes, most frequent first: `timeout 12, connect 3`. */
function reasonCounts(before: string, after: string): Map<string, number> {
  const count = (text: string) => {
    const out = new Map<string, number>();
    for (const m of text.matchAll(/^mcp_probe_failures_total\{[^}]*reason="([^"]+)"[^}]*\} (\S+)$/gm)) {
      out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
    }
    return out;
  };
  const a = count(after);
  const b = count(before);
  return new Map(
    [...a].map(([reason, n]) => [reason, n - (b.get(reason) ?? 0)] as [string, number]).filter(([, n]) => n > 0),
  );
}

interface Run {
  probesPerS: number;
  failures: number;
  reasons: Map<string, number>;
  skipped: number;
  cpuPct: number;
  cpuMsPerProbe: number;
  rssMb: number;
  lagP50Ms: number;
  lagP99Ms: number;
}

async function runLevel(n: number, ports: number[], heapMb: number | undefined): Promise<Run> {
  const sidecar = await startMcpwatch(targetsYaml(n, ports, '15s'), heapMb ? [`--max-old-space-size=${heapMb}`] : []);
  try {
    await sleep(SETTLE_S * 1000);
    const m0 = await sidecar.metrics();
    const cpu0 = procCpuSeconds(sidecar.pid);
    const t0 = Date.now();
    let rssMax = 0;
    for (let s = 0; s < WINDOW_S; s += 5) {
      await sleep(5000);
      rssMax = Math.max(rssMax, procRssBytes(sidecar.pid));
    }
    const seconds = (Date.now() - t0) / 1000;
    const cpu = procCpuSeconds(sidecar.pid) - cpu0;
    const m1 = await sidecar.metrics();
    const b0 = histogramBuckets(m0, LAG);
    const b1 = histogramBuckets(m1, LAG);
    const probes = sumSamples(m1, 'mcp_probes_total') - sumSamples(m0, 'mcp_probes_total');
    return {
      probesPerS: probes / seconds,
      failures:
        sumSamples(m1, 'mcp_probes_total', 'result="failure"') - sumSamples(m0, 'mcp_probes_total', 'result="failure"'),
      reasons: reasonCounts(m0, m1),
      skipped: sumSamples(m1, 'mcpwatch_probes_skipped_total') - sumSamples(m0, 'mcpwatch_probes_skipped_total'),
      cpuPct: (cpu / seconds) * 100,
      cpuMsPerProbe: (cpu * 1000) / Math.max(1, probes),
      rssMb: rssMax / 1024 / 1024,
      lagP50Ms: quantileBetween(b0, b1, 0.5) * 1000,
      lagP99Ms: quantileBetween(b0, b1, 0.99) * 1000,
    };
  } finally {
    await sidecar.stop();
  }
}

function row(label: string, runs: Run[]): string[] {
  const reasons = new Map<string, number>();
  for (const r of runs) for (const [k, v] of r.reasons) reasons.set(k, (reasons.get(k) ?? 0) + v);
  const why = [...reasons]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const failures = runs.reduce((a, r) => a + r.failures, 0);
  return [
    label,
    String(runs.length),
    spread(
      runs.map((r) => r.probesPerS),
      1,
    ),
    `${failures}${why ? ` (${why})` : ''}`,
    String(runs.reduce((a, r) => a + r.skipped, 0)),
    `${spread(
      runs.map((r) => r.cpuPct),
      1,
    )} %`,
    spread(runs.map((r) => r.cpuMsPerProbe)),
    spread(
      runs.map((r) => r.rssMb),
      0,
    ),
    spread(
      runs.map((r) => r.lagP50Ms),
      1,
    ),
    spread(
      runs.map((r) => r.lagP99Ms),
      1,
    ),
  ];
}

/** Runs benchmark 3 and returns its markdown. */
export async function capacity(): Promise<PieceResult> {
  const servers = [await startFastServer(), await startFastServer()];
  const ports = servers.map((s) => s.port);
  const rows: string[][] = [];
  let goal = 'not reached';
  try {
    for (const n of LEVELS) {
      const runs: Run[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        runs.push(await runLevel(n, ports, HEAP_MB));
        process.stderr.write(
          `  ${n} targets, round ${round + 1}/${ROUNDS}: ${row(String(n), runs.slice(-1)).join(' | ')}\n`,
        );
      }
      rows.push(row(`${n}`, runs));
      const ok =
        runs.every((r) => r.failures === 0) &&
        median(runs.map((r) => r.lagP99Ms)) < 1000 &&
        median(runs.map((r) => r.rssMb)) < 300;
      if (ok) goal = `${n} targets`;
    }
    const largest = LEVELS.at(-1) as number;
    const free = await runLevel(largest, ports, undefined);
    rows.push(row(`${largest}, no heap cap (reference)`, [free]));
    process.stderr.write(`  ${largest} targets without heap cap: ${rows.at(-1)!.join(' | ')}\n`);
  } finally {
    for (const s of servers) await s.stop();
  }
  const markdown = [
    `One \`node --max-old-space-size=${HEAP_MB} bin/mcpwatch.js\` process (a V8 heap cap, as the Kubernetes manifests set one for the sidecar; see below), 15 s interval, targets spread over 2 fast fixture server processes on loopback. Each level: ${ROUNDS} rounds, each in a fresh process: ${SETTLE_S} s settling after /-/ready, then a ${WINDOW_S} s window. Median (min–max) over rounds; failures and skips are totals. Lag quantiles are interpolated inside the histogram buckets (as \`histogram_quantile\`), from the window's observations only. CPU ms / probe includes scrapes, timers and GC.`,
    '',
    table(
      [
        'targets',
        'rounds',
        'probes/s',
        'failed probes',
        'skipped',
        'mcpwatch CPU',
        'CPU ms / probe',
        'RSS max MB',
        'lag p50 ms',
        'lag p99 ms',
      ],
      rows,
    ),
    '',
    `Goal (2,000 targets, RSS < 300 MB, lag p99 < 1 s, no failures), with the heap cap: largest level meeting it: ${goal}.`,
    '',
    'Without a cap V8 grows its heap lazily far past the live set when the machine has memory to spare (last row); the cap makes it collect sooner, at some CPU cost.',
  ].join('\n');
  return { title: 'Capacity at a 15 s interval', markdown };
}
