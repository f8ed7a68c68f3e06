/**
 * Benchmark client, run in its own process: performs probes of one URL back to back and prints
 * one JSON line `{ mode, probes, wallMsPerProbe, cpuMsPerProbe, failures }`.
 *
 * Modes:
 * - `mcpwatch`: mcpwatch's `probe()` with a ProbeMemory carried from probe to probe (as the scheduler does).
 * - `floor`: the same HTTP requests (initialize, notifications/initialized, tools/list, DELETE)
 *   hand-written with undici `request()` and a fresh Agent per probe (new connections, like a probe).
 * - `floor-fetch`: the same sequence with undici `fetch()` (the WHATWG API the MCP SDK requires) and a
 *   fresh Agent per probe: shows how much of the gap is the fetch API itself.
 * - `floor-shared`: the same sequence over one shared keep-alive Agent (reference only).
 *
 * Usage: node bench/clients/probe-client.mjs MODE URL WARMUP PROBES (after `npm run build`)
 */
// Plain JavaScript, run without a loader: the measured path is exactly what bin/mcpwatch.js runs.
import { performance } from 'node:perf_hooks';
import { Agent, request, fetch as undiciFetch } from 'undici';
const { probe } = await import('../../dist/probe/prober.js');
const { ConfigSchema, resolveConfig } = await import('../../dist/config/schema.js');
const [mode = 'mcpwatch', url = '', warmupArg = '200', probesArg = '1000'] = process.argv.slice(2);
const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
async function floorProbe(agent) {
  const init = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: BASE_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'floor', version: '0' } },
    }),
  });
  const initBody = await init.body.json();
  const sid = init.headers['mcp-session-id'];
  if (init.statusCode !== 200 || !sid || !initBody.result) return false;
  const headers = {
    ...BASE_HEADERS,
    'mcp-session-id': sid,
    'mcp-protocol-version': initBody.result.protocolVersion ?? '2025-06-18',
  };
  const note = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await note.body.dump();
  const list = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  const listBody = await list.body.json();
  const del = await request(url, { method: 'DELETE', dispatcher: agent, headers });
  await del.body.dump();
  return (
    note.statusCode === 202 && list.statusCode === 200 && Array.isArray(listBody.result?.tools) && del.statusCode < 300
  );
}
async function fetchProbe(agent) {
  const post = (headers2, body) =>
    undiciFetch(url, { method: 'POST', dispatcher: agent, headers: headers2, body: JSON.stringify(body) });
  const init = await post(BASE_HEADERS, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'floor', version: '0' } },
  });
  const initBody = await init.json();
  const sid = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sid || !initBody.result) return false;
  const headers = {
    ...BASE_HEADERS,
    'mcp-session-id': sid,
    'mcp-protocol-version': initBody.result.protocolVersion ?? '2025-06-18',
  };
  const note = await post(headers, { jsonrpc: '2.0', method: 'notifications/initialized' });
  await note.arrayBuffer();
  const list = await post(headers, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
  const listBody = await list.json();
  const del = await undiciFetch(url, { method: 'DELETE', dispatcher: agent, headers });
  await del.arrayBuffer();
  return note.status === 202 && list.status === 200 && Array.isArray(listBody.result?.tools) && del.status < 300;
}
async function main() {
  const warmup = Number(warmupArg);
  const probes = Number(probesArg);
  const { config } = resolveConfig(
    ConfigSchema.parse({ targets: [{ name: 'bench', url, transport: 'streamable-http' }] }),
  );
  const target = config.targets[0];
  const memory = {};
  const shared = new Agent({ connections: 4 });
  const one = async () => {
    if (mode === 'mcpwatch') return (await probe(target, { memory })).success;
    if (mode === 'floor-shared') return floorProbe(shared);
    const agent = new Agent({ connections: 4 });
    try {
      return mode === 'floor-fetch' ? await fetchProbe(agent) : await floorProbe(agent);
    } finally {
      await agent.destroy();
    }
  };
  let failures = 0;
  for (let i = 0; i < warmup; i++) if (!(await one())) failures++;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < probes; i++) if (!(await one())) failures++;
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await shared.destroy();
  process.stdout.write(
    `${JSON.stringify({ mode, probes, wallMsPerProbe: wall / probes, cpuMsPerProbe: (cpu.user + cpu.system) / 1e3 / probes, failures })}
`,
  );
}
void main();
