/**
 * Benchmark 5: the transparent proxy (`internal.proxy.listen`, src/proxy/) inside a real
 * mcpwatch process, against going direct to the same server, for two servers: the minimal
 * hand-written fast fixture (the proxy's worst case: it costs more than the server) and a real
 * server built with the official SDK. At 1, 10 and 50 concurrent sessions (each its own
 * keep-alive connection, initialized once, then `tools/list` back to back for a fixed time),
 * direct and proxied runs are interleaved over rounds: added latency p50/p99, the throughput
 * ratio, and CPU per request of mcpwatch and of the server (from /proc). Then 1,000 sessions are
 * opened through the proxy and left open: mcpwatch's RSS growth per open session.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { procCpuSeconds, procRssBytes, sleep, startFastServer, startSdkServer, type Started } from './lib/proc.js';
import { freePort, startMcpwatch } from './lib/sidecar-proc.js';
import { median, quantile, spread, table, type PieceResult } from './lib/stats.js';

const LEVELS = [1, 10, 50];
const ROUNDS = 3;
const RUN_MS = 4000;
const OPEN_SESSIONS = 1000;
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Initializes a session; resolves with its id, or undefined for a stateless server (no `Mcp-Session-Id`). */
async function initialize(url: string, agent: Agent): Promise<string | undefined> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
    }),
  });
  await res.body.dump();
  const sid = res.headers['mcp-session-id'];
  if (res.statusCode !== 200) throw new Error(`initialize via ${url}: HTTP ${res.statusCode}`);
  return typeof sid === 'string' ? sid : undefined;
}

/** `sessions` concurrent sessions doing tools/list for RUN_MS; latencies in ms and requests/s. */
async function load(url: string, sessions: number): Promise<{ latencies: number[]; rps: number; errors: number }> {
  const agents = Array.from({ length: sessions }, () => new Agent({ connections: 1 }));
  const sids = await Promise.all(agents.map((a) => initialize(url, a)));
  const latencies: number[] = [];
  let errors = 0;
  let id = 1;
  const t0 = performance.now();
  const end = t0 + RUN_MS;
  await Promise.all(
    agents.map(async (agent, i) => {
      const sid = sids[i];
      const headers = { ...HEADERS, 'mcp-protocol-version': '2025-06-18', ...(sid ? { 'mcp-session-id': sid } : {}) };
      while (performance.now() < end) {
        const s = performance.now();
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers,
          body: `{"jsonrpc":"2.0","id":${id++},"method":"tools/list","params":{}}`,
        });
        await res.body.text();
        latencies.push(performance.now() - s);
        if (res.statusCode !== 200) errors++;
      }
    }),
  );
  const rps = latencies.length / ((performance.now() - t0) / 1000);
  await Promise.all(
    agents.map((a, i) => {
      const sid = sids[i];
      return sid
        ? request(url, { method: 'DELETE', dispatcher: a, headers: { 'mcp-session-id': sid } }).then((r) =>
            r.body.dump(),
          )
        : undefined;
    }),
  );
  await Promise.all(agents.map((a) => a.destroy()));
  return { latencies, rps, errors };
}

interface Upstream {
  label: string;
  start: () => Promise<Started>;
}

const UPSTREAMS: Upstream[] = [
  { label: 'fast fixture (hand-written, no SDK)', start: startFastServer },
  { label: 'official SDK server', start: startSdkServer },
];

/** The rows of one upstream, and the RSS per open session measured through its proxy. */
async function measure(
  up: Upstream,
  measureSessions: boolean,
): Promise<{ rows: string[][]; errors: number; perSession: number; p99At50: number }> {
  const server = await up.start();
  const direct = `http://127.0.0.1:${server.port}/mcp`;
  const proxyPort = await freePort();
  const sidecar = await startMcpwatch(
    [
      'targets:',
      '  - name: bench',
      `    url: ${direct}`,
      '    transport: streamable-http',
      '    interval: 1h',
      '    internal:',
      '      proxy:',
      `        listen: 127.0.0.1:${proxyPort}`,
      '',
    ].join('\n'),
  );
  const proxied = `http://127.0.0.1:${proxyPort}/mcp`;
  const rows: string[][] = [];
  let perSession = Number.NaN;
  let errors = 0;
  let p99At50 = Number.NaN;
  try {
    for (const n of LEVELS) {
      const addedP50: number[] = [];
      const addedP99: number[] = [];
      const ratio: number[] = [];
      const d50: number[] = [];
      const proxyCpuUs: number[] = [];
      const serverCpuUs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 ? [proxied, direct] : [direct, proxied];
        const out: Record<string, Awaited<ReturnType<typeof load>>> = {};
        for (const url of order) {
          const p0 = procCpuSeconds(sidecar.pid);
          const s0 = procCpuSeconds(server.pid);
          out[url] = await load(url, n);
          if (url === proxied) {
            const count = out[url]!.latencies.length;
            proxyCpuUs.push(((procCpuSeconds(sidecar.pid) - p0) * 1e6) / count);
            serverCpuUs.push(((procCpuSeconds(server.pid) - s0) * 1e6) / count);
          }
        }
        const d = out[direct]!;
        const p = out[proxied]!;
        errors += d.errors + p.errors;
        d50.push(quantile(d.latencies, 0.5));
        addedP50.push(quantile(p.latencies, 0.5) - quantile(d.latencies, 0.5));
        addedP99.push(quantile(p.latencies, 0.99) - quantile(d.latencies, 0.99));
        ratio.push(p.rps / d.rps);
      }
      if (n === LEVELS.at(-1)) p99At50 = median(addedP99);
      rows.push([
        up.label,
        String(n),
        spread(d50, 3),
        spread(addedP50, 3),
        spread(addedP99, 3),
        spread(
          ratio.map((x) => x * 100),
          0,
        ),
        spread(proxyCpuUs, 0),
        spread(serverCpuUs, 0),
      ]);
      process.stderr.write(`  ${rows.at(-1)!.join(' | ')}\n`);
    }
    if (measureSessions) {
      // Memory per open session: open sessions through the proxy and keep them (no DELETE).
      await sleep(1000);
      const rss0 = procRssBytes(sidecar.pid);
      const agent = new Agent({ connections: 50 });
      for (let i = 0; i < OPEN_SESSIONS; i += 50) {
        await Promise.all(Array.from({ length: 50 }, () => initialize(proxied, agent)));
      }
      await sleep(2000);
      perSession = (procRssBytes(sidecar.pid) - rss0) / OPEN_SESSIONS;
      await agent.destroy();
    }
  } finally {
    await sidecar.stop();
    await server.stop();
  }
  return { rows, errors, perSession, p99At50 };
}

/** Runs benchmark 5 and returns its markdown. */
export async function proxy(): Promise<PieceResult> {
  const rows: string[][] = [];
  let errors = 0;
  let perSession = Number.NaN;
  const p99s: string[] = [];
  for (const [i, up] of UPSTREAMS.entries()) {
    const m = await measure(up, i === 0);
    rows.push(...m.rows);
    errors += m.errors;
    if (i === 0) perSession = m.perSession;
    p99s.push(`${up.label}: ${m.p99At50.toFixed(3)} ms`);
  }
  const markdown = [
    `A real \`node bin/mcpwatch.js\` with one target whose \`internal.proxy.listen\` is on loopback, in front of each server in turn. Per level, ${ROUNDS} interleaved rounds of direct and proxied runs; each run: every session on its own keep-alive connection, initialized, then \`tools/list\` back to back for ${RUN_MS / 1000} s. Median (min–max) over rounds; latencies measured by the load generator (one process, same for both sides). CPU per request is from /proc during the proxied runs. Load generator, server and mcpwatch share the machine's 2 cores, so once they saturate it the proxy's CPU per request, next to the server's, bounds the throughput ratio. Non-200 answers: ${errors}.`,
    '',
    table(
      [
        'server',
        'sessions',
        'direct p50 ms',
        'added p50 ms',
        'added p99 ms',
        'throughput via proxy, % of direct',
        'mcpwatch CPU µs / request',
        'server CPU µs / request',
      ],
      rows,
    ),
    '',
    `Memory: ${OPEN_SESSIONS} sessions opened through the proxy (fast fixture) and left open grew mcpwatch's RSS by ${(perSession / 1024).toFixed(1)} KiB per session (one sample; RSS also moves with GC).`,
    '',
    `Goal: added p99 < 1 ms at 50 sessions (measured: ${p99s.join('; ')}), throughput >= 90 % of direct.`,
  ].join('\n');
  return { title: 'Proxy overhead', markdown };
}
