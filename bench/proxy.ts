/**
 * Benchmark 5: the transparent proxy (`internal.proxy.listen`, src/proxy/) inside a real
 * mcpwatch process, against going direct to the same fast fixture server. At 1, 10 and 50
 * concurrent sessions (each its own keep-alive connection, initialized once, then `tools/list`
 * back to back for a fixed time), direct and proxied runs are interleaved over rounds: added
 * latency p50/p99 and the throughput ratio. Then 1,000 sessions are opened through the proxy
 * and left open: mcpwatch's RSS growth per open session.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { procRssBytes, sleep, startFastServer } from './lib/proc.js';
import { freePort, startMcpwatch } from './lib/sidecar-proc.js';
import { median, quantile, spread, table, type PieceResult } from './lib/stats.js';

const LEVELS = [1, 10, 50];
const ROUNDS = 3;
const RUN_MS = 4000;
const OPEN_SESSIONS = 1000;
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function initialize(url: string, agent: Agent): Promise<string> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } }),
  });
  await res.body.dump();
  const sid = res.headers['mcp-session-id'];
  if (res.statusCode !== 200 || typeof sid !== 'string') throw new Error(`initialize via ${url}: HTTP ${res.statusCode}`);
  return sid;
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
      const headers = { ...HEADERS, 'mcp-session-id': sids[i] as string, 'mcp-protocol-version': '2025-06-18' };
      while (performance.now() < end) {
        const s = performance.now();
        const res = await request(url, { method: 'POST', dispatcher: agent, headers, body: `{"jsonrpc":"2.0","id":${id++},"method":"tools/list","params":{}}` });
        await res.body.text();
        latencies.push(performance.now() - s);
        if (res.statusCode !== 200) errors++;
      }
    }),
  );
  const rps = latencies.length / ((performance.now() - t0) / 1000);
  await Promise.all(agents.map((a, i) => request(url, { method: 'DELETE', dispatcher: a, headers: { 'mcp-session-id': sids[i] as string } }).then((r) => r.body.dump())));
  await Promise.all(agents.map((a) => a.destroy()));
  return { latencies, rps, errors };
}

/** Runs benchmark 5 and returns its markdown. */
export async function proxy(): Promise<PieceResult> {
  const server = await startFastServer();
  const direct = `http://127.0.0.1:${server.port}/mcp`;
  const proxyPort = await freePort();
  const sidecar = await startMcpwatch(
    [
      'targets:',
      '  - name: fast',
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
  try {
    for (const n of LEVELS) {
      const addedP50: number[] = [];
      const addedP99: number[] = [];
      const ratio: number[] = [];
      const d50: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 ? [proxied, direct] : [direct, proxied];
        const out: Record<string, Awaited<ReturnType<typeof load>>> = {};
        for (const url of order) out[url] = await load(url, n);
        const d = out[direct]!;
        const p = out[proxied]!;
        errors += d.errors + p.errors;
        d50.push(quantile(d.latencies, 0.5));
        addedP50.push(quantile(p.latencies, 0.5) - quantile(d.latencies, 0.5));
        addedP99.push(quantile(p.latencies, 0.99) - quantile(d.latencies, 0.99));
        ratio.push(p.rps / d.rps);
      }
      rows.push([String(n), spread(d50, 3), spread(addedP50, 3), spread(addedP99, 3), spread(ratio.map((x) => x * 100), 0)]);
      process.stderr.write(`  ${n} sessions: ${rows.at(-1)!.join(' | ')}\n`);
    }
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
  } finally {
    await sidecar.stop();
    await server.stop();
  }
  const p99At50 = rows.at(-1)?.[3] ?? 'n/a';
  const markdown = [
    `A real \`node bin/mcpwatch.js\` with one target whose \`internal.proxy.listen\` is on loopback, in front of the fast fixture server. Per level, ${ROUNDS} interleaved rounds of direct and proxied runs; each run: every session on its own keep-alive connection, initialized, then \`tools/list\` back to back for ${RUN_MS / 1000} s. Median (min–max) over rounds; latencies measured by the load generator (one process, same for both sides). Non-200 answers: ${errors}.`,
    '',
    table(['sessions', 'direct p50 ms', 'added p50 ms', 'added p99 ms', 'throughput via proxy, % of direct'], rows),
    '',
    `Memory: ${OPEN_SESSIONS} sessions opened through the proxy and left open grew mcpwatch's RSS by ${(perSession / 1024).toFixed(1)} KiB per session (one sample; RSS also moves with GC).`,
    '',
    `Goal: added p99 < 1 ms at 50 sessions (measured: ${p99At50} ms), throughput >= 90 % of direct.`,
  ].join('\n');
  return { title: 'Proxy overhead', markdown };
}
