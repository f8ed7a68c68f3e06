/**
 * 2026-07-28 stateless traffic through the proxy: no session, each request answered within its
 * own HTTP exchange. The method label comes from the body when the proxy can read it (a
 * disagreeing `Mcp-Method` header does not change it), and from the header when it cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startModernOnlyServer, FIXTURE_TOOLS } from '../fixtures/sdk-servers.js';
import { modernHeaders, modernRequest, proxyFor } from '../fixtures/proxy-helpers.js';

async function modernClient(url: string): Promise<Client> {
  const client = new Client({ name: 'stateless-agent', version: '1.0.0' }, {
    versionNegotiation: { mode: 'auto' },
  } as ConstructorParameters<typeof Client>[1]);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function outcome(p: Promise<unknown>): Promise<{ ok: unknown } | { code: unknown; message: string }> {
  try {
    return { ok: await p };
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
}

test(
  'an SDK agent speaking 2026-07-28 through the proxy: every request timed under its method, no session',
  { timeout: 30_000 },
  async () => {
    const server = await startModernOnlyServer();
    const p = await proxyFor(server.url);
    try {
      const direct = await modernClient(server.url);
      const agent = await modernClient(p.url);
      assert.equal(agent.getNegotiatedProtocolVersion(), '2026-07-28');
      const tools = await agent.listTools();
      assert.deepEqual(tools, await direct.listTools());
      assert.deepEqual(tools.tools.map((t) => t.name).sort(), [...FIXTURE_TOOLS].sort());
      assert.deepEqual(
        await agent.callTool({ name: 'add', arguments: { a: 2, b: 3 } }),
        await direct.callTool({ name: 'add', arguments: { a: 2, b: 3 } }),
      );
      const missing = await outcome(agent.callTool({ name: 'no-such-tool', arguments: {} }));
      assert.deepEqual(missing, await outcome(direct.callTool({ name: 'no-such-tool', arguments: {} })));

      const count = (labels: Record<string, string>) =>
        p.value('mcp_server_operation_duration_seconds_count', { target: 't', ...labels });
      assert.equal(await count({ mcp_method_name: 'server/discover', error_type: '' }), 1);
      assert.equal(await count({ mcp_method_name: 'tools/list', error_type: '' }), 1);
      assert.equal(await count({ mcp_method_name: 'tools/call', error_type: '' }), 1);
      // The unknown tool: a JSON-RPC error code or a tool result with isError, as the agent saw it.
      const expected = 'code' in missing ? String(missing.code) : 'tool_error';
      assert.equal(await count({ mcp_method_name: 'tools/call', error_type: expected }), 1, `error_type ${expected}`);
      assert.equal(await count({}), 4, 'nothing else was timed');
      assert.equal(await p.value('mcp_server_sessions_active', { target: 't' }), 0);
      assert.equal(await p.value('mcp_server_session_duration_seconds_count', { target: 't' }), 0);
      assert.deepEqual(p.proxy.observer.snapshot(), { sessions: 0, pending: 0, toolCalls: 0 });
      await Promise.all([agent.close(), direct.close()]);
    } finally {
      await p.close();
      await server.close();
    }
  },
);

test(
  'the body names the method when it can be read; a disagreeing Mcp-Method header does not relabel it',
  { timeout: 20_000 },
  async () => {
    const server = await startModernOnlyServer();
    const p = await proxyFor(server.url);
    try {
      const res = await request(p.url, {
        method: 'POST',
        headers: modernHeaders('tools/list'),
        body: modernRequest(5, 'tools/call', { name: 'echo', arguments: { message: 'a' } }),
      });
      const answer = (await res.body.json()) as { id: number; error?: { code: number } };
      assert.equal(res.statusCode, 400, 'the server rejects the mismatch');
      assert.equal(answer.id, 5);
      const code = String(answer.error?.code);
      // The JSON-RPC error answer inside the 400 gives the error type, not the HTTP status.
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', {
          target: 't',
          mcp_method_name: 'tools/call',
          error_type: code,
        }),
        1,
      );
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', { target: 't', mcp_method_name: 'tools/list' }),
        0,
      );
    } finally {
      await p.close();
      await server.close();
    }
  },
);

test(
  'when the body cannot be read the Mcp-Method header names the method, bounded to known methods; without it nothing is timed',
  { timeout: 20_000 },
  async () => {
    const server = await startModernOnlyServer();
    const p = await proxyFor(server.url, { max_parse_bytes: 1024 });
    try {
      const big = modernRequest(1, 'tools/list', { cursor: 'c'.repeat(2000) });
      const listed = await request(p.url, { method: 'POST', headers: modernHeaders('tools/list'), body: big });
      await listed.body.text();
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', { target: 't', mcp_method_name: 'tools/list' }),
        1,
      );

      // A client-chosen header value never becomes a label value of its own.
      const odd = await request(p.url, {
        method: 'POST',
        headers: modernHeaders('x-vendor/secret-method-9f2c'),
        body: 'not json',
      });
      await odd.body.text();
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', {
          target: 't',
          mcp_method_name: 'other',
          error_type: `http_${odd.statusCode}`,
        }),
        1,
      );
      assert.doesNotMatch(await p.metrics(), /secret-method/);

      const headers = modernHeaders('tools/list');
      delete headers['mcp-method'];
      const bare = await request(p.url, { method: 'POST', headers, body: 'not json' });
      await bare.body.text();
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', { target: 't' }),
        2,
        'no method, no observation',
      );
      assert.equal(await p.value('mcpwatch_proxy_unobserved_total', { target: 't', reason: 'unparsable' }), 2);
      assert.equal(await p.value('mcpwatch_proxy_unobserved_total', { target: 't', reason: 'too_large' }), 1);
    } finally {
      await p.close();
      await server.close();
    }
  },
);
