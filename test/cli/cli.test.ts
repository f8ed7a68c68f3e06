/**
 * The command line as a user runs it: the real `bin/mcpwatch.js` (built dist/), exit codes and
 * output, against real servers and real child processes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { closedPort, waitFor } from '../fixtures/prom-text.js';
import { EVERYTHING, EVERYTHING_ENTRY } from '../fixtures/everything.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/mcpwatch.js');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

function run(
  args: string[],
  opts: { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('probe URL: a readable report and exit 0', async () => {
  const demo = await startDemoServer(0);
  cleanups.push(demo.close);
  const r = await run(['probe', demo.url, '--canary.tool=echo', '--canary.args={"message":"x"}']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Verdict: {3}SUCCESS/);
  assert.match(r.stdout, /Server: {4}mcpwatch-demo 1\.0\.0/);
  assert.match(r.stdout, /Protocol: {2}2026-07-28/);
  assert.match(r.stdout, /Transport: streamable-http/);
  assert.match(r.stdout, /Tools: {5}3 /);
  assert.match(r.stdout, /handshake +\d+\.\d ms/);
  assert.match(r.stdout, /tool_call +\d+\.\d ms/);
});

test('probe --json: machine-readable, and exit 1 with the reason on failure', async () => {
  const port = await closedPort();
  const r = await run(['probe', '--json', '--timeout=2s', `http://127.0.0.1:${port}/mcp`]);
  assert.equal(r.code, 1, r.stderr);
  const json = JSON.parse(r.stdout) as { success: boolean; reason: string; target: string };
  assert.equal(json.success, false);
  assert.equal(json.reason, 'connect');
  const text = await run(['probe', '--timeout=2s', `http://127.0.0.1:${port}/mcp`]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /Verdict: {3}FAILURE \(connect\)/);
  assert.match(text.stdout, /ECONNREFUSED/);
});

test('probe -- CMD ARGS: a stdio server as a child process', async () => {
  const r = await run(['probe', '--json', '--', process.execPath, EVERYTHING_ENTRY]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const json = JSON.parse(r.stdout) as {
    server: { name: string; transport: string; protocolVersion: string };
    tools: unknown[];
  };
  assert.equal(json.server.name, EVERYTHING.name);
  assert.equal(json.server.transport, 'stdio');
  assert.equal(json.server.protocolVersion, EVERYTHING.protocolVersion);
  assert.equal(json.tools.length, EVERYTHING.tools);
});

test('usage errors exit 2 and say what is wrong', async () => {
  const none = await run(['probe']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /a URL or -- COMMAND is required/);
  const badFlag = await run(['probe', '--nope', 'http://x']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /unknown flag --nope/);
  const noConfig = await run([]);
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /--config.file is required/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--web.listen-address/);
});

test('--config.check prints every problem as path: message and exits 1; 0 when valid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-cli-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'targets:\n  - { name: a, url: "http://x/mcp", timeout: 1m, interval: 30s }\n  - { name: a, transport: stdio }\n',
  );
  const r = await run(['--config.check', `--config.file=${bad}`]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    [
      'targets[0].timeout: timeout (60000ms) must be below the interval (30000ms)',
      'targets[1].name: duplicate target name "a" (also targets[0])',
      'targets[1].command: required when transport is stdio',
    ].join('\n'),
  );
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'targets:\n  - { name: a, url: "http://x/mcp" }\n');
  const ok = await run(['--config.check', `--config.file=${good}`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /OK \(1 targets\)/);
});

test('the sidecar serves, reloads on SIGHUP, and exits cleanly on SIGTERM within a few seconds', async () => {
  const demo = await startDemoServer(0);
  cleanups.push(demo.close);
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-cli-'));
  const file = join(dir, 'mcpwatch.yaml');
  writeFileSync(file, `defaults: { interval: 1s, timeout: 500ms }\ntargets:\n  - { name: demo, url: ${demo.url} }\n`);
  const port = await closedPort();
  const child = spawn(
    process.execPath,
    [bin, `--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, '--log.format=json'],
    { cwd: root },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /mcp_probe_success\{target="demo"\} 1/.test(text);
      },
      15_000,
      'demo probed',
    );
    writeFileSync(
      file,
      `defaults: { interval: 1s, timeout: 500ms }\ntargets:\n  - { name: demo2, url: ${demo.url} }\n`,
    );
    child.kill('SIGHUP');
    await waitFor(
      async () =>
        /mcp_probe_success\{target="demo2"\} 1/.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
      10_000,
      'reloaded target probed',
    );
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - stoppedAt < 5000, 'exit within 5 s');
    const lines = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    assert.ok(lines.some((l) => l.msg === 'config reloaded'));
    assert.equal(lines.at(-1)?.msg, 'stopped');
  } finally {
    child.kill('SIGKILL');
  }
});

test('--demo (the README first command): a built-in server probed successfully, with a tool call, and a clean exit', async () => {
  const port = await closedPort();
  const child = spawn(process.execPath, [bin, '--demo', `--web.listen-address=127.0.0.1:${port}`], {
    cwd: root,
    env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^mcp_probe_success\{target="demo"\} 1$/m.test(text);
      },
      20_000,
      'the demo target probed',
    );
    assert.match(text, /^mcp_server_tools\{target="demo"\} [1-9]/m);
    // The demo's canary calls `echo`: a tools/call operation was timed.
    assert.match(
      text,
      /^mcp_client_operation_duration_seconds_count\{[^}]*mcp_method_name="tools\/call"[^}]*\} [1-9]/m,
    );
    assert.match(stdout + stderr, /mcpwatch demo: probing a built-in MCP server at http:\/\/127\.0\.0\.1:\d+\/mcp/);
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(page, /demo/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});
