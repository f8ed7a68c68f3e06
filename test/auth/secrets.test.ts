/**
 * Security (issue 3): a canary secret planted in headers, a token file, a URL query, URL
 * userinfo and a stdio env var never appears in /metrics, debug logs, /probe?debug=true, the
 * status page, /api/v1/targets, probe messages or `--config.check` output, for probes that fail
 * and probes that succeed. A hostile 10 kB server name is bounded in /metrics.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSidecar } from '../../src/sidecar.js';
import { createLogger } from '../../src/log/logger.js';
import { parseConfig, formatIssues } from '../../src/config/load.js';
import { probe } from '../../src/probe/prober.js';
import { healthyServer, jsonRpcServer, type HostileServer } from '../fixtures/hostile-servers.js';

const SECRET = 'CANARY-s3cr3t-7f1e9d';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-secrets-'));
const servers: HostileServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A server that echoes every header and the URL into its errors, as careless servers do. */
async function echoingServer(ok: boolean): Promise<HostileServer> {
  const s = ok
    ? await healthyServer()
    : await jsonRpcServer(() => undefined, {
        guard: (req, res) => {
          res
            .writeHead(401, { 'www-authenticate': `Bearer error="${JSON.stringify(req.headers).replace(/"/g, "'")}"` })
            .end(`denied ${req.url} ${JSON.stringify(req.headers)}`);
          return true;
        },
      });
  servers.push(s);
  return s;
}

test('security: a planted secret never leaves mcpwatch', { timeout: 60_000 }, async () => {
  const good = await echoingServer(true);
  const bad = await echoingServer(false);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${SECRET}-file\n`);
  const withUserinfo = (url: string) => url.replace('http://', `http://user:${SECRET}-pw@`);
  const targets = [good, bad].flatMap((s, i) => [
    {
      name: `headers-${i}`,
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      headers: { 'X-Api-Key': `${SECRET}-hdr` },
    },
    {
      name: `file-${i}`,
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      authorization: { credentials_file: tokenFile },
    },
    { name: `query-${i}`, url: `${s.url}?api_key=${SECRET}-q`, transport: 'streamable-http', timeout: '3s' },
    { name: `userinfo-${i}`, url: withUserinfo(s.url ?? ''), transport: 'streamable-http', timeout: '3s' },
  ]);
  targets.push(
    // A stdio child that fails and prints its environment to stderr (which mcpwatch reports).
    {
      name: 'stdio-env',
      transport: 'stdio',
      command: process.execPath,
      args: ['-e', 'console.error(JSON.stringify(process.env)); process.exit(1)'],
      env: { API_TOKEN: `${SECRET}-env` },
      timeout: '3s',
    } as never,
  );
  const yaml = JSON.stringify({ defaults: { interval: '1h' }, targets });
  const { config, issues } = parseConfig(yaml, {}, 'secrets');
  assert.ok(config, formatIssues(issues));

  const lines: string[] = [];
  const sidecar = await startSidecar({
    config,
    env: {},
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: false,
    processMetrics: false,
  });
  const outputs: Record<string, string> = {};
  try {
    const base = `http://127.0.0.1:${sidecar.address.port}`;
    const results = await Promise.all(config.targets.map((t) => probe(t)));
    assert.ok(results.some((r) => r.success) && results.some((r) => !r.success), 'both successes and failures');
    outputs.results = JSON.stringify(results);
    for (const t of config.targets) {
      outputs[`debug ${t.name}`] = await (await fetch(`${base}/probe?target=${t.name}&debug=true`)).text();
      outputs[`probe ${t.name}`] = await (await fetch(`${base}/probe?target=${t.name}`)).text();
    }
    // The scheduled first probes have run by now (spread over the first second).
    await new Promise((r) => setTimeout(r, 1500));
    outputs.metrics = await (await fetch(`${base}/metrics`)).text();
    outputs.status = await (await fetch(`${base}/`)).text();
    outputs.api = await (await fetch(`${base}/api/v1/targets`)).text();
  } finally {
    await sidecar.close();
  }
  outputs.logs = lines.join('\n');
  // The secrets did reach mcpwatch (the echoing server and the stdio child sent them back) and were redacted.
  assert.match(outputs.results, /<redacted>/);
  assert.ok(/probe failed/.test(outputs.logs), 'failures were logged');

  // --config.check, valid and invalid, with the secrets expanded from the environment.
  const cfgFile = join(dir, 'mcpwatch.yaml');
  writeFileSync(cfgFile, yaml.replaceAll(SECRET, '${PLANTED}'));
  const badFile = join(dir, 'bad.yaml');
  writeFileSync(
    badFile,
    `targets:\n  - name: x\n    url: "http://u:\${PLANTED}@127.0.0.1/?k=\${PLANTED}"\n    timeout: 1h\n    headers: { X-Key: "\${PLANTED}" }\n    bogus: "\${PLANTED}"\n`,
  );
  for (const f of [cfgFile, badFile]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', `--config.file=${f}`, '--config.check'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PLANTED: SECRET },
      encoding: 'utf8',
      timeout: 30_000,
    });
    outputs[`config.check ${f}`] = `${r.stdout}${r.stderr}`;
    assert.ok(r.status === 0 || r.status === 1, `config.check exited ${r.status}: ${r.stderr}`);
  }

  for (const [where, text] of Object.entries(outputs)) {
    assert.ok(text.length > 0, `${where} is empty`);
    const at = text.indexOf(SECRET);
    assert.equal(at, -1, `the secret leaked into ${where}: …${text.slice(Math.max(0, at - 80), at + 40)}…`);
  }
});

test('security: a hostile 10 kB server name is bounded in /metrics', async () => {
  const hugeName = `evil"}\n${'A'.repeat(10_000)}`;
  const s = await jsonRpcServer((msg) =>
    msg.method === 'initialize'
      ? {
          protocolVersion: '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: hugeName, version: `1.0\n${'9'.repeat(10_000)}` },
        }
      : msg.method === 'tools/list'
        ? { tools: [] }
        : undefined,
  );
  servers.push(s);
  const { config } = parseConfig(
    JSON.stringify({
      targets: [{ name: 'evil', url: s.url, transport: 'streamable-http', interval: '1h', timeout: '3s' }],
    }),
    {},
    'evil',
  );
  assert.ok(config);
  const sidecar = await startSidecar({
    config,
    env: {},
    logger: createLogger({ write: () => {} }),
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: false,
    processMetrics: false,
  });
  try {
    const base = `http://127.0.0.1:${sidecar.address.port}`;
    let line: string | undefined;
    const until = Date.now() + 10_000;
    while (!line && Date.now() < until) {
      const text = await (await fetch(`${base}/metrics`)).text();
      line = text.split('\n').find((l) => l.startsWith('mcp_server_info{'));
      if (!line) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(line, 'mcp_server_info was recorded');
    assert.ok(line.length < 400, `label values bounded (${line.length} chars)`);
    assert.ok(!line.includes('evil"}'), 'quotes and braces from the server are replaced');
    assert.match(line, /server_name="evil_+A+"/);
  } finally {
    await sidecar.close();
  }
});
