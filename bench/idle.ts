/**
 * Benchmark 6: idle footprint of one mcpwatch process (`node bin/mcpwatch.js`) with 10 targets
 * at a 30 s interval: RSS sampled every 5 s and CPU % over the window, from /proc.
 */
import { procCpuSeconds, procRssBytes, sleep, startFastServer } from './lib/proc.js';
import { startMcpwatch, targetsYaml } from './lib/sidecar-proc.js';
import { median, table, type PieceResult } from './lib/stats.js';

const WINDOW_S = Number(process.env.BENCH_IDLE_WINDOW_S ?? 150);

/** Runs benchmark 6 and returns its markdown. */
export async function idle(): Promise<PieceResult> {
  const server = await startFastServer();
  const sidecar = await startMcpwatch(targetsYaml(10, [server.port], '30s'));
  const rss: number[] = [];
  let cpu: number;
  let seconds: number;
  try {
    await sleep(5000);
    const c0 = procCpuSeconds(sidecar.pid);
    const t0 = Date.now();
    for (let s = 0; s < WINDOW_S; s += 5) {
      await sleep(5000);
      rss.push(procRssBytes(sidecar.pid) / 1024 / 1024);
    }
    seconds = (Date.now() - t0) / 1000;
    cpu = procCpuSeconds(sidecar.pid) - c0;
  } finally {
    await sidecar.stop();
    await server.stop();
  }
  const markdown = [
    `One \`node bin/mcpwatch.js\`, 10 targets at 30 s on a fast fixture server, ${Math.round(seconds)} s window after 5 s of start-up; RSS sampled every 5 s; nothing scrapes it.`,
    '',
    table(
      ['CPU over the window', 'CPU seconds', 'RSS median MB', 'RSS min–max MB'],
      [
        [
          `${((cpu / seconds) * 100).toFixed(2)} %`,
          cpu.toFixed(2),
          median(rss).toFixed(0),
          `${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)}`,
        ],
      ],
    ),
  ].join('\n');
  return { title: 'Idle footprint', markdown };
}
