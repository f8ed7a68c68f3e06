/**
 * The proxy inside a full sidecar (startSidecar with `internal.proxy`) across config reloads:
 * an unrelated change leaves it alone (a tool call in flight completes and is timed), a change
 * of its own config restarts it on the same port, removing it (or its target) closes the port
 * and removes its series, and nothing keeps listening after the sidecar stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSidecar, type Sidecar } from '../../src/sidecar.js';
import { loadConfigFile } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { startModernOnlyServer } from '../fixtures/sdk-servers.js';
import { freePort } from '../fixtures/net.js';
import { parsePromText, valueOf, type Sample } from '../fixtures/prom-text.js';
import { startToolServer } from '../fixtures/tool-server.js';
import { connectClient } from '../fixtures/proxy-helpers.js';

async function scrape(sc: Sidecar): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${sc.address.port}/metrics`);
  assert.equal(res.status, 200);
  return parsePromText(await res.text());
}

async function reload(sc: Sidecar): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${sc.address.port}/-/reload`, { method: 'POST' });
  assert.equal(res.status, 200, await res.text());
}

/** Whether the port is free: we can listen on it ourselves (then we let it go). */
async function bindable(port: number): Promise<boolean> {
  const srv = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => srv.close(() => r()));
  return ok;
}

/** Whether a plain MCP request through the proxy port gets an HTTP answer (any status). */
async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(3000),
    });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

test(
  'reloads keep, restart and remove the proxy of a target; no listener is left behind',
  { timeout: 60_000 },
  async () => {
    const upstream = await startToolServer(false);
    const modern = await startModernOnlyServer();
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-proxy-reload-'));
    const file = join(dir, 'mcpwatch.yaml');
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => logs.push(l) });
    const listening = () => logs.filter((l) => l.includes('proxy listening')).length;
    const write = (agents: string, otherTimeout = '5s') =>
      writeFileSync(
        file,
        `defaults: { interval: 1h, timeout: 5s }\ntargets:\n${agents}  - { name: other, url: ${modern.url}, timeout: ${otherTimeout} }\n`,
      );
    const agentsWithProxy = (idle = '5m') =>
      `  - { name: agents, url: ${upstream.url}, internal: { proxy: { listen: "127.0.0.1:${port}", idle_timeout: ${idle} } } }\n`;

    write(agentsWithProxy());
    const loaded = loadConfigFile(file, {});
    assert.deepEqual(loaded.issues, []);
    const sc = await startSidecar({
      config: loaded.config!,
      configFile: file,
      env: {},
      logger,
      listen: { host: '127.0.0.1', port: 0 },
      enableLifecycle: true,
      processMetrics: false,
    });
    const agent = await connectClient(`http://127.0.0.1:${port}/mcp`);
    try {
      let s = await scrape(sc);
      assert.equal(valueOf(s, 'mcp_server_sessions_active', { target: 'agents' }), 1);
      assert.equal(valueOf(s, 'mcpwatch_proxy_unobserved_total', { target: 'agents', reason: 'too_large' }), 0);
      assert.equal(
        valueOf(s, 'mcpwatch_proxy_unobserved_total', { target: 'other', reason: 'too_large' }),
        undefined,
        'no proxy, no series',
      );
      assert.equal(listening(), 1);

      // 1. Another target changes: the proxy is untouched, a tool call in flight across the reload completes and is timed.
      const slow = agent.client.callTool({ name: 'sleep', arguments: { ms: 1500 } });
      await new Promise((r) => setTimeout(r, 300));
      write(agentsWithProxy(), '3s');
      await reload(sc);
      assert.deepEqual(await slow, { content: [{ type: 'text', text: 'slept 1500' }] });
      s = await scrape(sc);
      assert.equal(
        valueOf(s, 'mcp_server_operation_duration_seconds_count', {
          target: 'agents',
          mcp_method_name: 'tools/call',
          error_type: '',
        }),
        1,
      );
      assert.equal(valueOf(s, 'mcp_server_sessions_active', { target: 'agents' }), 1);
      assert.equal(listening(), 1, 'the proxy was not restarted');

      // 2. Its own config changes: it restarts on the same port; the agent's session carries on through it.
      write(agentsWithProxy('10m'));
      await reload(sc);
      assert.equal(listening(), 2);
      const echo = await agent.client.callTool({ name: 'echo', arguments: { message: 'after restart' } });
      assert.deepEqual(echo, { content: [{ type: 'text', text: 'echo: after restart' }] });
      s = await scrape(sc);
      assert.equal(
        valueOf(s, 'mcp_server_sessions_active', { target: 'agents' }),
        1,
        'the session is adopted by the new proxy',
      );

      // 3. The proxy leaves the config, the target stays: the port closes, the proxy's series go.
      write(`  - { name: agents, url: ${upstream.url} }\n`);
      await reload(sc);
      assert.equal(await answers(port), false, 'nothing answers on the proxy port');
      assert.equal(await bindable(port), true, 'the port is free again');
      s = await scrape(sc);
      assert.equal(valueOf(s, 'mcp_server_latency_slo_seconds', { target: 'agents' }), 2, 'the target itself stays');
      for (const name of [
        'mcpwatch_proxy_unobserved_total',
        'mcp_server_sessions_active',
        'mcp_server_tool_calls_active',
      ]) {
        assert.deepEqual(
          s.filter((x) => x.name === name && x.labels.target === 'agents'),
          [],
          `${name} of a target without a proxy`,
        );
      }

      // 4. Back again, then the whole target leaves: no series of it remain, the port is free.
      write(agentsWithProxy());
      await reload(sc);
      assert.equal(await answers(port), true);
      s = await scrape(sc);
      assert.equal(valueOf(s, 'mcp_server_sessions_active', { target: 'agents' }), 0);
      assert.equal(valueOf(s, 'mcpwatch_proxy_unobserved_total', { target: 'agents', reason: 'pending_limit' }), 0);
      write('');
      await reload(sc);
      assert.equal(await answers(port), false);
      assert.equal(await bindable(port), true);
      s = await scrape(sc);
      assert.deepEqual(
        s.filter((x) => x.labels.target === 'agents').map((x) => x.name),
        [],
        'no series of a removed target',
      );
      assert.ok(s.some((x) => x.labels.target === 'other'));
    } finally {
      await agent.client.close().catch(() => {});
      await sc.close();
      await upstream.close();
      await modern.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await bindable(port), true, 'nothing listens after the sidecar stopped');
  },
);

test(
  'a sidecar stopped with its proxy running frees the proxy port and cuts open agent streams',
  { timeout: 30_000 },
  async () => {
    const upstream = await startToolServer(false);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-proxy-stop-'));
    const file = join(dir, 'mcpwatch.yaml');
    writeFileSync(
      file,
      `defaults: { interval: 1h, timeout: 5s }\ntargets:\n  - { name: agents, url: ${upstream.url}, internal: { proxy: { listen: "127.0.0.1:${port}" } } }\n`,
    );
    const loaded = loadConfigFile(file, {});
    const logger = createLogger({ level: 'error', write: () => {} });
    const sc = await startSidecar({
      config: loaded.config!,
      configFile: file,
      env: {},
      logger,
      listen: { host: '127.0.0.1', port: 0 },
      enableLifecycle: false,
      processMetrics: false,
    });
    const agent = await connectClient(`http://127.0.0.1:${port}/mcp`);
    try {
      const slow = agent.client.callTool({ name: 'sleep', arguments: { ms: 4000 } }).then(
        () => 'answered',
        () => 'cut',
      );
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await sc.close();
      assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms despite a call in flight`);
      assert.equal(await bindable(port), true);
      assert.equal(await Promise.race([slow, new Promise((r) => setTimeout(() => r('hung'), 2500))]), 'cut');
    } finally {
      await agent.client.close().catch(() => {});
      await sc.close().catch(() => {});
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a target removed while agents keep calling through its proxy leaves no series behind',
  { timeout: 30_000 },
  async () => {
    const upstream = await startToolServer(true);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-proxy-busy-'));
    const file = join(dir, 'mcpwatch.yaml');
    const other = `  - { name: other, url: ${upstream.url} }\n`;
    writeFileSync(
      file,
      `defaults: { interval: 1h, timeout: 5s }\ntargets:\n  - { name: agents, url: ${upstream.url}, internal: { proxy: { listen: "127.0.0.1:${port}" } } }\n${other}`,
    );
    const loaded = loadConfigFile(file, {});
    const logger = createLogger({ level: 'error', write: () => {} });
    const sc = await startSidecar({
      config: loaded.config!,
      configFile: file,
      env: {},
      logger,
      listen: { host: '127.0.0.1', port: 0 },
      enableLifecycle: true,
      processMetrics: false,
    });
    const agents = await Promise.all(Array.from({ length: 8 }, () => connectClient(`http://127.0.0.1:${port}/mcp`)));
    let calls = 0;
    let stop = false;
    const loops = agents.map(async ({ client }) => {
      while (!stop) {
        try {
          await client.callTool({ name: 'echo', arguments: { message: 'busy' } });
          calls++;
        } catch {
          return; // the proxy went away
        }
      }
    });
    try {
      while (calls < 50) await new Promise((r) => setTimeout(r, 10));
      writeFileSync(file, `defaults: { interval: 1h, timeout: 5s }\ntargets:\n${other}`);
      await reload(sc);
      stop = true;
      await Promise.all(loops);
      const s = await scrape(sc);
      assert.deepEqual(
        [...new Set(s.filter((x) => x.labels.target === 'agents').map((x) => x.name))],
        [],
        `no series of a removed target (${calls} calls made)`,
      );
      assert.equal(await bindable(port), true);
    } finally {
      stop = true;
      await Promise.all(agents.map(({ client }) => client.close().catch(() => {})));
      await sc.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
