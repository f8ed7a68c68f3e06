/**
 * The probe's HTTP layer (src/probe/transports/http-wire.ts, src/probe/transports/wire-response.ts) against real HTTP
 * servers on 127.0.0.1: the Response-shaped answers the SDK reads, body limits on every read
 * path, request bodies and headers as sent, redirects left to the caller, and one connection per
 * probe when requests follow each other.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenTracked } from '../fixtures/net.js';
import { target } from '../fixtures/targets.js';
import { startStatelessJsonServer } from '../fixtures/sdk-servers.js';
import { createProbeWire } from '../../src/probe/transports/http-wire.js';
import { McpwatchError } from '../../src/net/errors.js';

const tooLarge = (e: unknown) => e instanceof McpwatchError && e.code === 'response_too_large';
import { probe } from '../../src/probe/prober.js';
import type { ProbeMemory } from '../../src/probe/types.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server whose routes the test writes; records every request it gets and every connection. */
async function scripted(routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void>) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = routes[req.url ?? ''];
      if (route) route(req, res, body);
      else res.writeHead(404).end();
    });
  });
  server.on('connection', () => connections++);
  const { port, close } = await listenTracked(server);
  return { base: `http://127.0.0.1:${port}`, seen, connections: () => connections, close };
}

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

test('wire: answers carry status, statusText, ok and case-insensitive headers; JSON and text bodies read once', async () => {
  const s = await scripted({
    '/json': (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] }).end('{"ok":true}'),
    '/teapot': (_req, res) => res.writeHead(418, { 'www-authenticate': 'Bearer realm="x"' }).end('short and stout'),
    '/custom': (_req, res) => res.writeHead(599, 'Upstream Melted').end(),
  });
  servers.push(s);
  const wire = createProbeWire(target(`name: w\nurl: ${s.base}/json`), new AbortController().signal);
  try {
    const res = await wire.fetch(`${s.base}/json`, {
      method: 'POST',
      headers: new Headers({ 'X-Probe': 'yes' }),
      body: '{"a":1}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.ok, true);
    assert.equal(res.statusText, 'OK');
    assert.equal(res.headers.get('Content-Type'), 'application/json');
    assert.equal(res.headers.get('x-multi'), 'a, b');
    assert.equal(res.headers.has('X-MULTI'), true);
    assert.deepEqual(await res.json(), { ok: true });
    await assert.rejects(res.text(), /already been read/);
    assert.equal(s.seen[0]?.body, '{"a":1}');
    assert.equal(s.seen[0]?.headers['x-probe'], 'yes');

    const tea = await wire.fetch(`${s.base}/teapot`);
    assert.equal(tea.status, 418);
    assert.equal(tea.ok, false);
    assert.equal(await tea.text(), 'short and stout');
    assert.equal(wire.observations.lastStatus, 418);
    assert.equal(wire.observations.lastErrorHeaders?.['www-authenticate'], 'Bearer realm="x"');
    const custom = await wire.fetch(`${s.base}/custom`);
    assert.equal(custom.statusText, 'Upstream Melted', "the server's own reason phrase");
    await custom.text();
    assert.deepEqual(
      wire.observations.requests.map((r) => `${r.method} ${r.status}`),
      ['POST 200', 'GET 418', 'GET 599'],
    );
  } finally {
    await wire.close();
  }
});

test('wire: a form body is encoded with its content type; redirects are returned, not followed', async () => {
  const s = await scripted({
    '/form': (_req, res) => res.writeHead(204).end(),
    '/moved': (_req, res) => res.writeHead(307, { location: '/elsewhere' }).end(),
  });
  servers.push(s);
  const wire = createProbeWire(target(`name: w\nurl: ${s.base}/form`), new AbortController().signal);
  try {
    const form = await wire.fetch(`${s.base}/form`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    assert.equal(form.status, 204);
    await form.text();
    assert.equal(s.seen[0]?.body, 'grant_type=client_credentials');
    assert.match(String(s.seen[0]?.headers['content-type']), /^application\/x-www-form-urlencoded/);

    const moved = await wire.fetch(`${s.base}/moved`);
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.get('location'), '/elsewhere');
    await moved.text();
    assert.equal(s.seen.filter((r) => r.url === '/elsewhere').length, 0, 'the redirect is not followed by the wire');
  } finally {
    await wire.close();
  }
});

test('wire: every read path stops at max_response_bytes (declared length, text(), event stream)', async () => {
  const big = 'x'.repeat(4096);
  const s = await scripted({
    '/declared': (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': big.length }).end(big),
    '/chunked': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(big.slice(0, 2048));
      res.end(big.slice(2048));
    },
    '/stream': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${big}\n\n`);
      res.end();
    },
  });
  servers.push(s);
  const t = target(`name: w\nurl: ${s.base}/declared\nmax_response_bytes: 1024`);
  for (const path of ['/declared', '/chunked', '/stream']) {
    const wire = createProbeWire(t, new AbortController().signal);
    try {
      if (path === '/declared') {
        await assert.rejects(wire.fetch(`${s.base}${path}`), tooLarge);
      } else if (path === '/chunked') {
        const res = await wire.fetch(`${s.base}${path}`);
        await assert.rejects(res.text(), tooLarge);
      } else {
        const res = await wire.fetch(`${s.base}${path}`);
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        await assert.rejects(
          (async () => {
            for (;;) if ((await reader.read()).done) break;
          })(),
          tooLarge,
        );
      }
      assert.equal(wire.observations.tooLarge, true, `${path}: tooLarge observed`);
    } finally {
      await wire.close();
    }
  }
});

test('wire: an event stream body is a web stream the SDK can read to the end', async () => {
  const s = await scripted({
    '/stream': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
      setTimeout(() => res.end('data: two\n\n'), 20);
    },
  });
  servers.push(s);
  const wire = createProbeWire(target(`name: w\nurl: ${s.base}/stream`), new AbortController().signal);
  try {
    const res = await wire.fetch(`${s.base}/stream`);
    const text = await new Response(res.body).text();
    assert.equal(text, 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\ndata: two\n\n');
  } finally {
    await wire.close();
  }
});

test('wire: the probe signal aborts a request that never answers', async () => {
  const s = await scripted({ '/hang': () => {} });
  servers.push(s);
  const ac = new AbortController();
  const wire = createProbeWire(target(`name: w\nurl: ${s.base}/hang`), ac.signal);
  try {
    const pending = wire.fetch(`${s.base}/hang`);
    setTimeout(() => ac.abort(new Error('deadline')), 50);
    await assert.rejects(pending, /deadline/);
  } finally {
    await wire.close();
  }
});

test('a Streamable HTTP probe of a JSON-answering server makes its requests over one connection', async () => {
  // (A server answering POSTs with event streams may take two: the SDK sends its next request
  // as soon as the answer's event arrives, before the server ends that stream.)
  const fixture = await startStatelessJsonServer();
  servers.push(fixture);
  // A counting TCP hop in front of the fixture: every connection the probe opens passes here.
  const { createServer: createNetServer, connect } = await import('node:net');
  const upstream = new URL(fixture.url);
  let opened = 0;
  const hop = createNetServer((c) => {
    opened++;
    const u = connect(Number(upstream.port), '127.0.0.1');
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  const { port, close } = await listenTracked(hop);
  servers.push({ close });
  const t = target(`name: one\nurl: http://127.0.0.1:${port}${upstream.pathname}\ntransport: streamable-http`);
  const memory: ProbeMemory = {};
  await probe(t, { memory }); // learns the era
  opened = 0;
  const r = await probe(t, { memory });
  assert.equal(r.success, true, r.message);
  assert.ok(r.operations.length >= 2, 'handshake and tools/list');
  assert.equal(opened, 1, `connections opened by one probe (initialize, initialized, tools/list): ${opened}`);
});

test('wire: text() drops a UTF-8 byte-order mark and sends a User-Agent by default', async () => {
  const s = await scripted({
    '/bom': (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])),
  });
  servers.push(s);
  const wire = createProbeWire(target(`name: w\nurl: ${s.base}/bom`), new AbortController().signal);
  try {
    assert.deepEqual(await (await wire.fetch(`${s.base}/bom`)).json(), { a: 1 });
    assert.match(String(s.seen[0]?.headers['user-agent']), /^mcpwatch\//);
    await (await wire.fetch(`${s.base}/bom`, { headers: { 'User-Agent': 'custom/1' } })).text();
    assert.equal(s.seen[1]?.headers['user-agent'], 'custom/1', 'a configured User-Agent wins');
  } finally {
    await wire.close();
  }
});

test('a probe resumes a stream the server closed before answering (GET with Last-Event-ID goes out)', async () => {
  // The spec's polling pattern: tools/list is answered with an event id and an empty event, the
  // stream closes, and the answer comes on the client's reconnecting GET.
  let listId: unknown = 0;
  const s = await scripted({
    '/mcp': (req, res, body) => {
      if (req.method === 'GET') {
        if (!req.headers['last-event-id']) return void res.writeHead(405).end();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          `id: 2\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: listId, result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } })}\n\n`,
        );
        return;
      }
      const m = JSON.parse(body) as { id?: unknown; method: string; params?: { protocolVersion?: string } };
      if (m.id === undefined) return void res.writeHead(202).end();
      if (m.method === 'initialize') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: m.id,
            result: {
              protocolVersion: m.params?.protocolVersion,
              capabilities: { tools: {} },
              serverInfo: { name: 'poll', version: '1' },
            },
          }),
        );
        return;
      }
      if (m.method === 'tools/list') {
        listId = m.id;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('id: 1\nretry: 50\ndata: \n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'no' } }));
    },
  });
  servers.push(s);
  const r = await probe(target(`name: poll\nurl: ${s.base}/mcp\ntransport: streamable-http\ntimeout: 3s`), {
    memory: { era: 'legacy' },
  });
  assert.equal(r.success, true, `${r.reason}: ${r.message}\n${r.log.join('\n')}`);
  assert.deepEqual(
    r.tools?.map((t) => t.name),
    ['echo'],
  );
  assert.ok(
    s.seen.some((x) => x.method === 'GET' && x.headers['last-event-id'] === '1'),
    'the resuming GET reached the server',
  );
  assert.ok(
    !s.seen.some((x) => x.method === 'GET' && !x.headers['last-event-id']),
    'the standalone GET stream was answered locally',
  );
});
