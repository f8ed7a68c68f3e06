/**
 * What the proxy cannot observe it passes through untouched and counts in
 * `mcpwatch_proxy_unobserved_total{target,reason}`: a body over `max_parse_bytes` (too_large), a
 * body that is not JSON (unparsable), a request beyond `max_pending_requests` (pending_limit).
 * Each case compares the upstream's received bytes with what the agent sent, and the agent's
 * answer through the proxy with the server's direct answer to the same bytes.
 */
import { test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startRecordingServer } from '../fixtures/body-recording-server.js';
import { startToolServer } from '../fixtures/tool-server.js';
import {
  connectClient,
  eventually,
  modernHeaders,
  modernRequest,
  proxyFor,
  type ProxyUnderTest,
} from '../fixtures/proxy-helpers.js';
import { parsePromText, valueOf } from '../fixtures/prom-text.js';

const REASONS = ['too_large', 'unparsable', 'pending_limit'] as const;

/** Every reason's counter for target `t`, as /metrics shows it (undefined if the series is missing). */
async function unobserved(p: ProxyUnderTest): Promise<Record<string, number | undefined>> {
  const samples = parsePromText(await p.metrics());
  return Object.fromEntries(
    REASONS.map((reason) => [reason, valueOf(samples, 'mcpwatch_proxy_unobserved_total', { target: 't', reason })]),
  );
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; contentType: string; body: string }> {
  const res = await request(url, { method: 'POST', headers, body });
  return {
    status: res.statusCode,
    contentType: String(res.headers['content-type'] ?? ''),
    body: await res.body.text(),
  };
}

test('every reason series exists with 0 before anything passes', { timeout: 10_000 }, async () => {
  const server = await startRecordingServer();
  const p = await proxyFor(server.url);
  try {
    assert.deepEqual(await unobserved(p), { too_large: 0, unparsable: 0, pending_limit: 0 });
  } finally {
    await p.close();
    await server.close();
  }
});

test(
  'too_large: a request body over max_parse_bytes reaches the server byte for byte; the Mcp-Method header still names the operation',
  { timeout: 20_000 },
  async () => {
    const server = await startRecordingServer();
    const p = await proxyFor(server.url, { max_parse_bytes: 1024 });
    try {
      const message = 'é'.repeat(1500); // multi-byte characters across chunk boundaries
      const body = modernRequest(7, 'tools/call', { name: 'echo', arguments: { message } });
      assert.ok(Buffer.byteLength(body) > 1024);
      const headers = modernHeaders('tools/call', 'echo');
      const direct = await post(server.url, body, headers);
      const proxied = await post(p.url, body, headers);
      assert.equal(direct.status, 200);
      assert.deepEqual(proxied, direct, 'the agent gets the server answer unchanged');
      assert.match(proxied.body, new RegExp(`echo: ${message}`));
      assert.equal(server.received.length, 2);
      assert.ok(server.received[1]?.body.equals(Buffer.from(body)), 'the server received the bytes the agent sent');

      assert.deepEqual(await unobserved(p), { too_large: 1, unparsable: 0, pending_limit: 0 });
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', {
          target: 't',
          mcp_method_name: 'tools/call',
          error_type: '',
        }),
        1,
      );

      // An SDK agent sees the same result with and without the proxy.
      const results = [];
      for (const url of [server.url, p.url]) {
        const client = new Client({ name: 'agent', version: '1.0.0' }, {
          versionNegotiation: { mode: 'auto' },
        } as ConstructorParameters<typeof Client>[1]);
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
        results.push(await client.callTool({ name: 'echo', arguments: { message } }));
        await client.close();
      }
      assert.deepEqual(results[1], results[0]);
      assert.equal((await unobserved(p)).too_large, 2);
      assert.equal(p.proxy.observer.snapshot().pending, 0);
    } finally {
      await p.close();
      await server.close();
    }
  },
);

test(
  'unparsable: a body that is not JSON reaches the server untouched and the agent gets its parse error',
  { timeout: 20_000 },
  async () => {
    const server = await startRecordingServer();
    const p = await proxyFor(server.url);
    try {
      const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call", this is not json';
      const headers = modernHeaders('tools/call', 'echo');
      const direct = await post(server.url, body, headers);
      const proxied = await post(p.url, body, headers);
      assert.deepEqual(proxied, direct);
      assert.equal(proxied.status, 400);
      assert.equal((JSON.parse(proxied.body) as { error: { code: number } }).error.code, -32700);
      assert.ok(server.received[1]?.body.equals(Buffer.from(body)));

      assert.deepEqual(await unobserved(p), { too_large: 0, unparsable: 1, pending_limit: 0 });
      // Timed at the HTTP level under the method the header gives.
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', {
          target: 't',
          mcp_method_name: 'tools/call',
          error_type: 'http_400',
        }),
        1,
      );
    } finally {
      await p.close();
      await server.close();
    }
  },
);

test(
  'pending_limit: requests beyond max_pending_requests pass through unobserved and are answered',
  { timeout: 20_000 },
  async () => {
    const server = await startRecordingServer();
    const p = await proxyFor(server.url, { max_pending_requests: 2 });
    try {
      const bodies = [1, 2, 3].map((id) => modernRequest(id, 'tools/call', { name: 'sleep', arguments: { ms: 800 } }));
      const headers = modernHeaders('tools/call', 'sleep');
      const answers = bodies.map((b) => post(p.url, b, headers));
      const most = { calls: 0 };
      assert.ok(
        await eventually(async () => {
          most.calls = Math.max(most.calls, await p.value('mcp_server_tool_calls_active', { target: 't' }));
          return server.received.length === 3;
        }, 2000),
      );
      const results = await Promise.all(answers);
      for (const [i, r] of results.entries()) {
        assert.equal(r.status, 200);
        const parsed = JSON.parse(r.body) as { id: number; result: { content: Array<{ text: string }> } };
        assert.equal(parsed.id, i + 1);
        assert.equal(parsed.result.content[0]?.text, 'slept 800');
      }
      const received = server.received.map((r) => r.body.toString('utf8')).sort();
      assert.deepEqual(received, [...bodies].sort(), 'the server received every body unchanged');

      assert.equal(most.calls, 2, 'at most two calls tracked');
      assert.deepEqual(await unobserved(p), { too_large: 0, unparsable: 0, pending_limit: 1 });
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', { target: 't', mcp_method_name: 'tools/call' }),
        2,
      );
      assert.equal(await p.value('mcp_server_tool_calls_active', { target: 't' }), 0);
    } finally {
      await p.close();
      await server.close();
    }
  },
);

for (const jsonResponse of [true, false]) {
  test(
    `too_large answer on a session (${jsonResponse ? 'JSON body' : 'SSE event'}): the agent gets it whole and the call stops counting as in flight`,
    { timeout: 20_000 },
    async () => {
      const server = await startToolServer(jsonResponse);
      const p = await proxyFor(server.url, { max_parse_bytes: 1024 });
      try {
        const { client, transport } = await connectClient(p.url);
        const result = (await client.callTool({ name: 'big', arguments: { size: 5000 } })) as {
          content: Array<{ text: string }>;
        };
        assert.equal(result.content[0]?.text, 'x'.repeat(5000));
        assert.deepEqual(await unobserved(p), { too_large: 1, unparsable: 0, pending_limit: 0 });
        // The answer came and went on this exchange: nothing is left waiting for it (the bug: the
        // call stayed "active" until idle_timeout, 5 minutes by default).
        assert.equal(await p.value('mcp_server_tool_calls_active', { target: 't' }), 0);
        assert.equal(p.proxy.observer.snapshot().pending, 0);
        // Later calls on the session are observed as usual.
        await client.callTool({ name: 'echo', arguments: { message: 'small' } });
        assert.equal(
          await p.value('mcp_server_operation_duration_seconds_count', {
            target: 't',
            mcp_method_name: 'tools/call',
            error_type: '',
          }),
          1,
        );
        await (transport as { terminateSession(): Promise<void> }).terminateSession();
        await client.close();
      } finally {
        await p.close();
        await server.close();
      }
    },
  );
}

test(
  'an SSE priming event (id, empty data) before the answer is neither a message nor unparsable',
  { timeout: 20_000 },
  async () => {
    // A resumable server (2025-11-25 transports) opens a POST's stream with an event that has an
    // id and empty data, so the client can resume; the answer follows on the same stream.

    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' });
        res.write('id: prime-1\ndata:\n\n');
        res.end('id: 2\nevent: message\ndata: {"jsonrpc":"2.0","id":7,"result":{"content":[]}}\n\n');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    const p = await proxyFor(`http://127.0.0.1:${port}/mcp`);
    try {
      const answer = await post(
        p.url,
        modernRequest(7, 'tools/call', { name: 'echo', arguments: {} }),
        modernHeaders('tools/call', 'echo'),
      );
      assert.equal(answer.status, 200);
      assert.match(answer.body, /^id: prime-1\ndata:\n\n/, 'the priming event reaches the agent unchanged');
      assert.deepEqual(await unobserved(p), { too_large: 0, unparsable: 0, pending_limit: 0 });
      assert.equal(
        await p.value('mcp_server_operation_duration_seconds_count', {
          target: 't',
          mcp_method_name: 'tools/call',
          error_type: '',
        }),
        1,
        'the answer after the priming event is timed',
      );
    } finally {
      await p.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  },
);
