/**
 * Benchmark 2: CPU per probe of mcpwatch against Debian's prometheus-blackbox-exporter, both
 * probing the same fast fixture server through their `/probe` endpoints, driven alike (one
 * request at a time, back to back, from this process). CPU is each prober process's own, from
 * /proc/<pid>/stat. The exporter's check is weaker: one POST of `initialize`, status 2xx.
 * mcpwatch runs the full probe (initialize, initialized, tools/list, DELETE).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { procCpuSeconds, sleep, startFastServer, startProcess, type Started } from './lib/proc.js';
import { freePort, startMcpwatch } from './lib/sidecar-proc.js';
import { median, spread, table, type PieceResult } from './lib/stats.js';

const ROUNDS = 5;
const WARMUP = 300;
const PROBES = 500;

const INIT_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'blackbox', version: '0.23' } },
});

function blackboxConfig(): string {
  return [
    'modules:',
    '  http_post_2xx:',
    '    prober: http',
    '    timeout: 5s',
    '    http:',
    '      method: POST',
    '      valid_status_codes: [200]',
    '      headers:',
    '        Content-Type: application/json',
    '        Accept: "application/json, text/event-stream"',
    `      body: '${INIT_BODY}'`,
    '',
  ].join('\n');
}

/** Drives `url` PROBES times back to back; returns wall ms and the prober's CPU ms per probe. */
async function drive(
  url: string,
  pid: number,
  ok: (status: number, body: string) => boolean,
): Promise<{ wall: number; cpu: number; failed: number }> {
  let failed = 0;
  const once = async () => {
    const res = await fetch(url);
    if (!ok(res.status, await res.text())) failed++;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const c0 = procCpuSeconds(pid);
  const t0 = performance.now();
  for (let i = 0; i < PROBES; i++) await once();
  const wall = (performance.now() - t0) / PROBES;
  const cpu = ((procCpuSeconds(pid) - c0) * 1000) / PROBES;
  return { wall, cpu, failed };
}

/** Runs benchmark 2 and returns its markdown. */
export async function peer(): Promise<PieceResult> {
  const server = await startFastServer();
  const target = `http://127.0.0.1:${server.port}/mcp`;
  const dir = mkdtempSync(join(tmpdir(), 'blackbox-bench-'));
  writeFileSync(join(dir, 'blackbox.yml'), blackboxConfig());
  const bbPort = await freePort();
  let blackbox: Started | undefined;
  const mcpwatch = await startMcpwatch(
    ['targets:', '  - name: fast', `    url: ${target}`, '    transport: streamable-http', '    interval: 1h', ''].join(
      '\n',
    ),
  );
  const res: Record<'mcpwatch' | 'blackbox', Array<{ wall: number; cpu: number; failed: number }>> = {
    mcpwatch: [],
    blackbox: [],
  };
  const ratios: number[] = [];
  try {
    blackbox = await startProcess(
      'prometheus-blackbox-exporter',
      [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${bbPort}`],
      { ready: /Listening on/, readyOnStderr: true },
    );
    await sleep(300);
    const bbUrl = `http://127.0.0.1:${bbPort}/probe?module=http_post_2xx&target=${encodeURIComponent(target)}`;
    const mwUrl = `http://127.0.0.1:${mcpwatch.port}/probe?target=fast`;
    for (let round = 0; round < ROUNDS; round++) {
      const m = await drive(mwUrl, mcpwatch.pid, (s) => s === 200);
      const b = await drive(bbUrl, blackbox.pid, (s, body) => s === 200 && /^probe_success 1$/m.test(body));
      res.mcpwatch.push(m);
      res.blackbox.push(b);
      ratios.push(m.cpu / b.cpu);
      process.stderr.write(
        `  round ${round + 1}: mcpwatch ${m.cpu.toFixed(2)} ms CPU, blackbox ${b.cpu.toFixed(2)} ms CPU\n`,
      );
    }
  } finally {
    await blackbox?.stop();
    await mcpwatch.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const row = (name: string, what: string, r: Array<{ wall: number; cpu: number; failed: number }>) => [
    name,
    what,
    spread(r.map((x) => x.wall)),
    spread(r.map((x) => x.cpu)),
    String(r.reduce((a, x) => a + x.failed, 0)),
  ];
  const markdown = [
    `Both probers in their own processes, driven through \`/probe\` one request at a time: ${ROUNDS} interleaved rounds of ${WARMUP} warm-up and ${PROBES} timed probes. CPU per probe is the prober process's own (/proc/<pid>/stat, 10 ms ticks, includes serving the /probe request). Median (min–max) over rounds.`,
    '',
    table(
      ['prober', 'check', 'wall ms / probe', 'prober CPU ms / probe', 'failed'],
      [
        row('mcpwatch `/probe?target=`', 'initialize, initialized, tools/list, DELETE + report', res.mcpwatch),
        row('prometheus-blackbox-exporter `/probe` (http_post_2xx)', 'one POST initialize, 2xx', res.blackbox),
      ],
    ),
    '',
    `CPU ratio mcpwatch / blackbox_exporter per round: ${spread(ratios)} (median ${median(ratios).toFixed(2)}x), for a check of 4 requests against 1.`,
  ].join('\n');
  return { title: 'Against the peer: prometheus-blackbox-exporter', markdown };
}
