/**
 * Benchmark 3: capacity of one mcpwatch process (`node bin/mcpwatch.js`, the shipped build) with
 * 100 / 500 / 1,000 / 2,000 targets at a 15 s interval, spread over two fast fixture server
 * processes. After a settling period, measures over a window: mcpwatch's CPU % (from
 * /proc/<pid>/stat), RSS at the end, probes/s, failures, and schedule lag p50/p99 from the
 * `mcpwatch_probe_schedule_lag_seconds` histogram (the window's observations only).
 */
import { procCpuSeconds, procRssBytes, sleep, startFastServer } from './lib/proc.js';
import { histogramBuckets, quantileBetween, startMcpwatch, sumSamples, targetsYaml } from './lib/sidecar-proc.js';
import { table, type PieceResult } from './lib/stats.js';

const LEVELS = (process.env.BENCH_CAPACITY_LEVELS ?? '100,500,1000,2000').split(',').map(Number);
const SETTLE_S = Number(process.env.BENCH_CAPACITY_SETTLE_S ?? 20);
const WINDOW_S = Number(process.env.BENCH_CAPACITY_WINDOW_S ?? 45);
const LAG = 'mcpwatch_probe_schedule_lag_seconds';

/** The failure reasons seen between two scrapes, most frequent first: `timeout 12, connect 3`. */
function topReasons(before: string, after: string): string {
  const count = (text: string) => {
    const out = new Map<string, number>();
    for (const m of text.matchAll(/^mcp_probe_failures_total\{[^}]*reason="([^"]+)"[^}]*\} (\S+)$/gm)) {
      out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
    }
    return out;
  };
  const a = count(after);
  const b = count(before);
  return [...a]
    .map(([reason, n]) => [reason, n - (b.get(reason) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
}

/** Runs benchmark 3 and returns its markdown. */
export async function capacity(): Promise<PieceResult> {
  const servers = [await startFastServer(), await startFastServer()];
  const rows: string[][] = [];
  let goal = 'not reached';
  try {
    for (const n of LEVELS) {
      const sidecar = await startMcpwatch(targetsYaml(n, servers.map((s) => s.port), '15s'));
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
        const failures = sumSamples(m1, 'mcp_probes_total', 'result="failure"') - sumSamples(m0, 'mcp_probes_total', 'result="failure"');
        const skipped = sumSamples(m1, 'mcpwatch_probes_skipped_total') - sumSamples(m0, 'mcpwatch_probes_skipped_total');
        const reasons = topReasons(m0, m1);
        const p50 = quantileBetween(b0, b1, 0.5);
        const p99 = quantileBetween(b0, b1, 0.99);
        const rssMb = rssMax / 1024 / 1024;
        if (p99 < 1 && rssMb < 300) goal = `${n} targets`;
        rows.push([
          String(n),
          (probes / seconds).toFixed(1),
          `${failures}${reasons ? ` (${reasons})` : ''}`,
          String(skipped),
          `${((cpu / seconds) * 100).toFixed(1)} %`,
          ((cpu * 1000) / Math.max(1, probes)).toFixed(2),
          rssMb.toFixed(0),
          (p50 * 1000).toFixed(1),
          (p99 * 1000).toFixed(1),
        ]);
        process.stderr.write(`  ${n} targets: ${rows.at(-1)!.join(' | ')}\n`);
      } finally {
        await sidecar.stop();
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  const markdown = [
    `One \`node bin/mcpwatch.js\` process, 15 s interval, targets spread over 2 fast fixture server processes on loopback. ${SETTLE_S} s settling after /-/ready, then a ${WINDOW_S} s window. Lag quantiles are interpolated inside the histogram buckets (as \`histogram_quantile\`), from the window's observations only. CPU ms / probe includes scrapes, timers and GC.`,
    '',
    table(['targets', 'probes/s', 'failed probes', 'skipped', 'mcpwatch CPU', 'CPU ms / probe', 'RSS max MB', 'lag p50 ms', 'lag p99 ms'], rows),
    '',
    `Goal (2,000 targets, RSS < 300 MB, lag p99 < 1 s): largest level meeting it: ${goal}.`,
  ].join('\n');
  return { title: 'Capacity at a 15 s interval', markdown };
}
