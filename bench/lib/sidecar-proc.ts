/**
 * A real mcpwatch process (`node bin/mcpwatch.js`, the shipped build) for the benchmarks: writes a
 * config with N targets spread over a few fixture servers, starts it on a free loopback port,
 * waits for /-/ready, and reads /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, sleep } from './proc.js';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** YAML for `targets` targets at `interval`, round-robin over `ports` (each path distinct). */
export function targetsYaml(targets: number, ports: readonly number[], interval: string): string {
  const lines = ['defaults:', `  interval: ${interval}`, '  timeout: 5s', '  transport: streamable-http', 'targets:'];
  for (let i = 0; i < targets; i++) {
    lines.push(
      `  - name: t${String(i).padStart(5, '0')}`,
      `    url: http://127.0.0.1:${ports[i % ports.length]}/mcp/${i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface McpwatchProc {
  pid: number;
  port: number;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `node bin/mcpwatch.js` with `yaml` as its config file; resolves once /-/ready answers 200.
 * `nodeArgs` go before the script (e.g. `--max-old-space-size=160`, as the Kubernetes manifests set).
 */
export async function startMcpwatch(yaml: string, nodeArgs: readonly string[] = []): Promise<McpwatchProc> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-bench-'));
  const file = join(dir, 'config.yml');
  writeFileSync(file, yaml);
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      'bin/mcpwatch.js',
      `--config.file=${file}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (err.length < 4000) err += c.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`mcpwatch exited with ${child.exitCode}: ${err}`);
    }
    try {
      const res = await fetch(`${base}/-/ready`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mcpwatch not ready after 30 s: ${err}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid as number,
    port,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    stop,
  };
}

/** Cumulative histogram buckets (`le` -> count) of an unlabelled histogram in a scrape. */
export function histogramBuckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) out.set(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2]));
  return out;
}

/**
 * The q-quantile of the observations between two scrapes of one histogram, interpolated
 * linearly inside the bucket as Prometheus' histogram_quantile does.
 */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    const bound = bounds[i] as number;
    const count = counts[i] as number;
    if (count >= rank) {
      if (!Number.isFinite(bound)) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(1e-9, count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** The sum of every sample of `name` (any labels) whose label set contains `match`. */
export function sumSamples(text: string, name: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
