/**
 * Several canaries per target (`canaries:`), against a real SDK server: each tool's call is its
 * own result and its own series; a failing entry of `canaries` does not fail the probe, a failing
 * `canary` (required) still does; each canary keeps its own interval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { probe } from '../../src/probe/prober.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { renderRegistry } from '../../src/metrics/exposition.js';
import type { ProbeMemory } from '../../src/probe/types.js';
import { startToolServer } from '../fixtures/tool-server.js';
import { targetOf } from '../fixtures/targets.js';
import { parsePromText, valueOf } from '../fixtures/prom-text.js';

test('each canary is its own result; only a required one fails the probe', { timeout: 20_000 }, async () => {
  const server = await startToolServer();
  try {
    const target = targetOf({
      name: 'tools',
      url: server.url,
      timeout: '5s',
      canary: { tool: 'echo', arguments: { message: 'hi' }, expect_text: 'echo: hi' },
      canaries: [{ tool: 'fail' }, { tool: 'no-such-tool' }, { tool: 'sleep', arguments: { ms: 30 } }],
    });
    const r = await probe(target);
    assert.equal(r.success, true, `${r.reason}: ${r.message}\n${r.log.join('\n')}`);
    assert.deepEqual(
      r.canaries?.map((c) => [c.tool, c.success, c.reason]),
      [
        ['echo', true, undefined],
        ['fail', false, 'assertion'],
        ['no-such-tool', false, r.canaries?.[2]?.reason],
        ['sleep', true, undefined],
      ],
    );
    const unknown = r.canaries?.[2];
    assert.ok(
      unknown?.reason === 'assertion' || unknown?.reason === 'protocol_error',
      `unknown tool: ${unknown?.reason}`,
    );
    assert.ok((r.canaries?.[3]?.durationSeconds ?? 0) >= 0.03, 'each call is timed on its own');
    assert.equal(r.operations.filter((o) => o.method === 'tools/call').length, 4);
    assert.equal(server.sessions(), 0);

    // The per-tool series, bounded by the configured list.
    const registry = new Registry();
    const recorder = new Recorder(registry);
    recorder.addTarget(target);
    recorder.recordProbe(r, false);
    recorder.recordProbe(r, false);
    const samples = parsePromText(await renderRegistry(registry, false));
    const tool = (name: string, gen_ai_tool_name: string) =>
      valueOf(samples, name, { target: 'tools', gen_ai_tool_name });
    assert.equal(tool('mcp_probe_tool_success', 'echo'), 1);
    assert.equal(tool('mcp_probe_tool_success', 'fail'), 0);
    assert.equal(tool('mcp_probe_tool_consecutive_failures', 'fail'), 2);
    assert.equal(tool('mcp_probe_tool_consecutive_failures', 'echo'), 0);
    assert.equal(
      valueOf(samples, 'mcp_probe_tool_failures_total', {
        target: 'tools',
        gen_ai_tool_name: 'fail',
        reason: 'assertion',
      }),
      2,
    );
    assert.ok((tool('mcp_probe_tool_duration_seconds', 'sleep') ?? 0) >= 0.03);

    // A reload that drops a canary drops its series.
    recorder.addTarget(targetOf({ name: 'tools', url: server.url, canary: { tool: 'echo' } }));
    const after = parsePromText(await renderRegistry(registry, false));
    assert.equal(valueOf(after, 'mcp_probe_tool_success', { target: 'tools', gen_ai_tool_name: 'fail' }), undefined);
    assert.equal(valueOf(after, 'mcp_probe_tool_success', { target: 'tools', gen_ai_tool_name: 'echo' }), 1);
  } finally {
    await server.close();
  }
});

test('a required canary that fails still fails the probe, with its tool result', { timeout: 20_000 }, async () => {
  const server = await startToolServer();
  try {
    const r = await probe(
      targetOf({
        name: 'tools',
        url: server.url,
        timeout: '5s',
        canaries: [
          { tool: 'fail', required: true },
          { tool: 'echo', arguments: { message: 'x' } },
        ],
      }),
    );
    assert.equal(r.success, false);
    assert.equal(r.reason, 'assertion');
    assert.deepEqual(
      r.canaries?.map((c) => [c.tool, c.success, c.reason]),
      [['fail', false, 'assertion']],
      'the script stops at the required canary',
    );
  } finally {
    await server.close();
  }
});

test('each canary keeps its own interval', { timeout: 20_000 }, async () => {
  const server = await startToolServer();
  try {
    const target = targetOf({
      name: 'tools',
      url: server.url,
      interval: '2s',
      timeout: '1s',
      canaries: [
        { tool: 'echo', arguments: { message: 'x' } },
        { tool: 'sleep', arguments: { ms: 1 }, interval: '1h' },
      ],
    });
    const memory: ProbeMemory = {};
    const tools = async () => ((await probe(target, { memory })).canaries ?? []).map((c) => c.tool);
    assert.deepEqual(await tools(), ['echo', 'sleep'], 'the first probe runs every canary');
    assert.deepEqual(await tools(), ['echo'], 'sleep is not due for an hour');
    memory.canaryRunAtMs = { ...memory.canaryRunAtMs, sleep: Date.now() - 3_600_000 };
    assert.deepEqual(await tools(), ['echo', 'sleep'], 'due again');
  } finally {
    await server.close();
  }
});
