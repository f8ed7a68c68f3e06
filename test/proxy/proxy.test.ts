/**
 * The proxy under a real multi-agent fan-out: SDK v2 clients through the proxy to real MCP
 * servers (an SDK v2 fixture and server-everything), asserting on the /metrics text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startToolServer } from '../fixtures/tool-server.js';
import { connectClient, eventually, proxyFor } from '../fixtures/proxy-helpers.js';
import { startEverything } from '../fixtures/everything.js';
import { refusedPort } from '../fixtures/net.js';

const SESSIONS = 20;

async function outcome(p: Promise<unknown>): Promise<{ ok: unknown } | { code: unknown; message: string }> {
  try {
    return { ok: await p };
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
}

for (const jsonResponse of [false, true]) {
  test(
    `fan-out of ${SESSIONS} agents through the proxy (${jsonResponse ? 'JSON' : 'SSE'} answers)`,
    { timeout: 60_000 },
    async () => {
      const server = await startToolServer(jsonResponse);
      const p = await proxyFor(server.url);
      try {
        const agents = await Promise.all(Array.from({ length: SESSIONS }, () => connectClient(p.url)));
        assert.equal(await p.value('mcp_server_sessions_active', { target: 't' }), SESSIONS);
        assert.equal(
          await p.value('mcp_server_operation_duration_seconds_count', { mcp_method_name: 'initialize' }),
          SESSIONS,
        );

        // Each agent: three quick calls, a slow one, a failing tool, an unknown tool, all at once.
        const runs = agents.map(({ client }, i) =>
          Promise.all([
            outcome(client.callTool({ name: 'echo', arguments: { message: `a${i}` } })),
            outcome(client.callTool({ name: 'echo', arguments: { message: `b${i}` } })),
            outcome(client.callTool({ name: 'echo', arguments: { message: `c${i}` } })),
            outcome(client.callTool({ name: 'sleep', arguments: { ms: 4000 } })),
            outcome(client.callTool({ name: 'fail', arguments: {} })),
            outcome(client.callTool({ name: 'no-such-tool', arguments: {} })),
          ]),
        );
        // While the slow tool runs, the gauges read what is really happening.
        let most = 0;
        const inFlight = await eventually(async () => {
          most = Math.max(most, await p.value('mcp_server_tool_calls_active', { target: 't' }));
          return most >= SESSIONS;
        }, 3800);
        assert.ok(
          inFlight,
          `slow calls in flight: at most ${most} seen; ${JSON.stringify(p.proxy.observer.snapshot())}`,
        );
        assert.equal(await p.value('mcp_server_sessions_active', { target: 't' }), SESSIONS);
        const results = await Promise.all(runs);
        assert.equal(await p.value('mcp_server_tool_calls_active', { target: 't' }), 0);

        // Expected error types from what the agents themselves saw.
        const expected = new Map<string, number>();
        for (const r of results.flat()) {
          const key = 'code' in r ? String(r.code) : (r.ok as { isError?: boolean }).isError ? 'tool_error' : '';
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
        assert.equal(expected.get(''), SESSIONS * 4);
        console.log('# error types seen by the agents:', JSON.stringify([...expected]));
        assert.equal(
          expected.get('tool_error') ?? 0,
          SESSIONS * (1 + (expected.has('-32602') ? 0 : 1)),
          JSON.stringify([...expected]),
        );
        for (const [errorType, n] of expected) {
          assert.equal(
            await p.value('mcp_server_operation_duration_seconds_count', {
              target: 't',
              mcp_method_name: 'tools/call',
              error_type: errorType,
            }),
            n,
            `error_type="${errorType}"`,
          );
        }
        assert.equal(
          await p.value('mcp_server_operation_duration_seconds_count', { mcp_method_name: 'tools/call' }),
          SESSIONS * 6,
        );
        // The slow calls landed in buckets above a second.
        assert.ok(
          (await p.value('mcp_server_operation_duration_seconds_bucket', {
            mcp_method_name: 'tools/call',
            error_type: '',
            le: '1',
          })) <=
            SESSIONS * 3,
        );

        // DELETE ends each session.
        await Promise.all(
          agents.map(async ({ client, transport }) => {
            await (transport as { terminateSession(): Promise<void> }).terminateSession();
            await client.close();
          }),
        );
        assert.equal(await p.value('mcp_server_sessions_active', { target: 't' }), 0);
        assert.equal(await p.value('mcp_server_session_duration_seconds_count', { target: 't' }), SESSIONS);
        assert.equal(server.sessions(), 0);
      } finally {
        await p.close();
        await server.close();
      }
    },
  );
}

test('an idle session is ended after idle_timeout; a 404 for a session ends it too', { timeout: 20_000 }, async () => {
  const server = await startToolServer(true);
  const p = await proxyFor(server.url, { idle_timeout: '300ms' });
  try {
    const { client } = await connectClient(p.url);
    assert.equal(await p.value('mcp_server_sessions_active'), 1);
    // The agent vanishes without DELETE (JSON answers, so no GET stream is left open).
    await client.close();
    assert.ok(await eventually(async () => (await p.value('mcp_server_sessions_active')) === 0, 3000));
    assert.equal(await p.value('mcp_server_session_duration_seconds_count'), 1);

    const second = await connectClient(p.url);
    assert.equal(await p.value('mcp_server_sessions_active'), 1);
    await server.forgetSessions();
    const after = await outcome(second.client.callTool({ name: 'echo', arguments: { message: 'x' } }));
    assert.ok('code' in after, 'the agent sees the 404');
    assert.equal(await p.value('mcp_server_sessions_active'), 0);
    assert.equal(
      await p.value('mcp_server_operation_duration_seconds_count', {
        mcp_method_name: 'tools/call',
        error_type: 'http_404',
      }),
      1,
    );
    await second.client.close();
  } finally {
    await p.close();
    await server.close();
  }
});

test(
  'the oldest open session is aged, idle closes are counted, tool calls carry their listed tool name',
  { timeout: 20_000 },
  async () => {
    const server = await startToolServer(true);
    const p = await proxyFor(server.url, { idle_timeout: '400ms' });
    try {
      assert.equal(await p.value('mcp_server_session_oldest_age_seconds', { target: 't' }), 0, 'no session yet');
      assert.equal(await p.value('mcpwatch_proxy_sessions_idle_closed_total', { target: 't' }), 0);
      // Before any probe listed the tools, every name is _other (a client cannot mint labels).
      const first = await connectClient(p.url);
      await first.client.callTool({ name: 'echo', arguments: { message: 'x' } });
      const listed = await first.client.listTools();
      p.recorder.recordProbe(
        {
          target: 't',
          success: true,
          startedAtMs: Date.now(),
          durationSeconds: 0.01,
          phases: {},
          httpStatus: 200,
          operations: [],
          checks: [],
          log: [],
          tools: listed.tools.map((t) => ({ name: t.name })),
          toolListHash: 'h',
        },
        false,
      );
      await first.client.callTool({ name: 'echo', arguments: { message: 'y' } });
      await first.client.callTool({ name: 'no-such-tool', arguments: {} }).catch(() => {});
      const count = (tool: string) =>
        p.value('mcp_server_operation_duration_seconds_count', {
          mcp_method_name: 'tools/call',
          gen_ai_tool_name: tool,
        });
      assert.equal(await count('echo'), 1, 'a listed tool is its own series');
      assert.equal(await count('_other'), 2, 'before the list, and a tool the server does not list');
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', {
          mcp_method_name: 'tools/list',
          gen_ai_tool_name: '',
        }),
        1,
        'other methods carry an empty tool name',
      );

      // Keep the session busy past one sweep: its age grows while it lives.
      const keep = setInterval(() => void first.client.ping().catch(() => {}), 100);
      const aged = await eventually(
        async () => (await p.value('mcp_server_session_oldest_age_seconds', { target: 't' })) >= 0.5,
        3000,
      );
      clearInterval(keep);
      assert.ok(aged, 'the oldest session ages while it is open');
      // The agent leaves without DELETE: the idle sweep ends it, counts it, and the age drops to 0.
      await first.client.close();
      assert.ok(
        await eventually(
          async () => (await p.value('mcpwatch_proxy_sessions_idle_closed_total', { target: 't' })) === 1,
          3000,
        ),
      );
      assert.equal(await p.value('mcp_server_session_oldest_age_seconds', { target: 't' }), 0);
    } finally {
      await p.close();
      await server.close();
    }
  },
);

test('agents see identical results with and without the proxy (server-everything)', { timeout: 60_000 }, async () => {
  const everything = await startEverything('streamableHttp');
  const p = await proxyFor(everything.url);
  try {
    const direct = await connectClient(everything.url);
    const proxied = await connectClient(p.url);
    const [d, q] = [direct.client, proxied.client];
    assert.deepEqual(await q.listTools(), await d.listTools());
    assert.deepEqual(
      await q.callTool({ name: 'echo', arguments: { message: 'hi' } }),
      await d.callTool({ name: 'echo', arguments: { message: 'hi' } }),
    );
    assert.deepEqual(
      await q.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }),
      await d.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }),
    );
    const de = await outcome(d.callTool({ name: 'no-such-tool', arguments: {} }));
    const qe = await outcome(q.callTool({ name: 'no-such-tool', arguments: {} }));
    assert.deepEqual(qe, de);
    const dv = await outcome(d.callTool({ name: 'get-sum', arguments: { a: 'x' } }));
    const qv = await outcome(q.callTool({ name: 'get-sum', arguments: { a: 'x' } }));
    assert.deepEqual(qv, dv);
    // The slow tool with progress notifications arrives intact through the proxy's SSE stream.
    const progress: number[] = [];
    const slow = await q.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, {
      onprogress: (pr: { progress: number }) => progress.push(pr.progress),
    } as never);
    assert.deepEqual(progress, [1, 2, 3]);
    assert.match(JSON.stringify(slow), /completed/i);
    assert.ok((await p.value('mcp_server_operation_duration_seconds_count', { mcp_method_name: 'tools/list' })) >= 1);
    await (proxied.transport as { terminateSession(): Promise<void> }).terminateSession();
    await (direct.transport as { terminateSession(): Promise<void> }).terminateSession();
    await Promise.all([d.close(), q.close()]);
    assert.equal(await p.value('mcp_server_sessions_active'), 0);
  } finally {
    await p.close();
    await everything.close();
  }
});

test(
  'legacy HTTP+SSE through the proxy: answers on the GET stream are timed, the session ends with the stream',
  { timeout: 60_000 },
  async () => {
    const everything = await startEverything('sse');
    const p = await proxyFor(everything.url);
    try {
      const { client } = await connectClient(p.url, 'sse');
      const tools = await client.listTools();
      assert.ok(tools.tools.length > 0);
      const echo = await client.callTool({ name: 'echo', arguments: { message: 'legacy' } });
      assert.match(JSON.stringify(echo), /legacy/);
      assert.equal(await p.value('mcp_server_sessions_active'), 1);
      assert.equal(await p.value('mcp_server_operation_duration_seconds_count', { mcp_method_name: 'tools/list' }), 1);
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', { mcp_method_name: 'tools/call', error_type: '' }),
        1,
      );
      await client.close();
      assert.ok(await eventually(async () => (await p.value('mcp_server_sessions_active')) === 0));
    } finally {
      await p.close();
      await everything.close();
    }
  },
);

test('upstream down: a clean 502 at once, never a hang', { timeout: 10_000 }, async () => {
  const port = await refusedPort();
  const p = await proxyFor(`http://127.0.0.1:${port}/mcp`);
  try {
    const t0 = Date.now();
    const res = await request(p.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.statusCode, 502);
    await res.body.text();
    assert.ok(Date.now() - t0 < 1000, `answered in ${Date.now() - t0}ms`);
    assert.equal(
      await p.value('mcp_server_operation_duration_seconds_count', {
        mcp_method_name: 'tools/list',
        error_type: 'http_502',
      }),
      1,
    );
  } finally {
    await p.close();
  }
});
