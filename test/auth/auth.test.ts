/**
 * Auth (issue 3): static headers, a bearer token file rotated between probes, OAuth 2 client
 * credentials against a real local token endpoint (cached until expiry, refreshed, dropped on
 * 401), and `expect.auth_challenge` ("up, but walled") with RFC 9728 metadata. Canary interval.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe } from '../../src/probe/prober.js';
import type { ProbeMemory } from '../../src/probe/types.js';
import { listenTracked } from '../fixtures/net.js';
import { targetOf } from '../fixtures/targets.js';
import { healthyServer, rawHttp, type HostileServer } from '../fixtures/hostile-servers.js';

const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-auth-'));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(cleanups.map((c) => c()));
  rmSync(dir, { recursive: true, force: true });
});

/** A healthy MCP server that answers 401 unless `accept(authorization)`; records what it saw. */
async function guardedServer(
  accept: (authorization: string | undefined, req: IncomingMessage) => boolean,
): Promise<HostileServer & { seen: string[] }> {
  const seen: string[] = [];
  const s = await healthyServer({
    guard: (req, res) => {
      const a = req.headers.authorization;
      seen.push(a ?? '');
      if (accept(a, req)) return false;
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return true;
    },
  });
  cleanups.push(s.close);
  return { ...s, seen };
}

test('auth: static headers reach the server; a 401 is reason auth', async () => {
  const s = await guardedServer((_a, req) => req.headers['x-api-key'] === 'k-123456');
  const ok = await probe(
    targetOf({
      name: 'hdr',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      headers: { 'X-Api-Key': 'k-123456' },
    }),
  );
  assert.equal(ok.success, true, ok.message);
  const bad = await probe(
    targetOf({
      name: 'hdr',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      headers: { 'X-Api-Key': 'wrong-key' },
    }),
  );
  assert.equal(bad.reason, 'auth', bad.message);
  assert.equal(bad.httpStatus, 401);
});

test('auth: a bearer token file rotated between probes: the new token is used', async () => {
  let valid = 'token-one-aaaa';
  const s = await guardedServer((a) => a === `Bearer ${valid}`);
  const file = join(dir, 'token');
  writeFileSync(file, `${valid}\n`);
  const target = targetOf({
    name: 'rot',
    url: s.url,
    transport: 'streamable-http',
    timeout: '3s',
    authorization: { credentials_file: file },
  });
  const memory: ProbeMemory = {};
  assert.equal((await probe(target, { memory })).success, true);
  // Kubernetes rotates the mounted secret: the server only accepts the new token now.
  valid = 'token-two-bbbb';
  writeFileSync(file, valid);
  const r = await probe(target, { memory });
  assert.equal(r.success, true, r.message);
  assert.equal(s.seen.at(-1), 'Bearer token-two-bbbb');
});

/** A real OAuth 2 token endpoint (client credentials), issuing `tok-N` tokens. */
async function tokenEndpoint(opts: { expiresIn?: number } = {}) {
  const issued: string[] = [];
  const requests: URLSearchParams[] = [];
  let expiresIn = opts.expiresIn;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      requests.push(form);
      const basic = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (
        req.method !== 'POST' ||
        form.get('grant_type') !== 'client_credentials' ||
        basic !== 'probe-client:s3cret%2Fvalue'
      ) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const token = `tok-${issued.length + 1}-${'x'.repeat(8)}`;
      issued.push(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          access_token: token,
          token_type: 'Bearer',
          ...(expiresIn ? { expires_in: expiresIn } : {}),
        }),
      );
    });
  });
  const { port, close } = await listenTracked(server);
  cleanups.push(close);
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    issued,
    requests,
    setExpiresIn: (s?: number) => (expiresIn = s),
  };
}

test('auth: oauth2 client credentials: token fetched once, cached, refreshed after expiry, dropped on 401', async () => {
  const idp = await tokenEndpoint({ expiresIn: 3600 });
  let revoked = new Set<string>();
  const s = await guardedServer((a) => idp.issued.some((t) => a === `Bearer ${t}` && !revoked.has(t)));
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, 's3cret/value\n');
  const target = targetOf({
    name: 'oauth',
    url: s.url,
    transport: 'streamable-http',
    timeout: '3s',
    oauth2: {
      client_id: 'probe-client',
      client_secret_file: secretFile,
      token_url: idp.url,
      scopes: ['mcp:read', 'mcp:tools'],
      endpoint_params: { audience: 'mcp' },
    },
  });
  const memory: ProbeMemory = {};
  const first = await probe(target, { memory });
  assert.equal(first.success, true, `${first.message}\n${first.log.join('\n')}`);
  assert.equal(idp.issued.length, 1);
  assert.equal(idp.requests[0]?.get('scope'), 'mcp:read mcp:tools');
  assert.equal(idp.requests[0]?.get('audience'), 'mcp');
  assert.equal((await probe(target, { memory })).success, true);
  assert.equal(idp.issued.length, 1, 'the cached token was reused');

  // The server revokes the token early: one probe fails with auth, the next gets a new token.
  revoked = new Set(idp.issued);
  const rejected = await probe(target, { memory });
  assert.equal(rejected.reason, 'auth');
  const recovered = await probe(target, { memory });
  assert.equal(recovered.success, true, recovered.message);
  assert.equal(idp.issued.length, 2);

  // A short-lived token (11 s, refreshed 10 s early) is renewed once its life is over.
  idp.setExpiresIn(11);
  memory.oauth2Token = undefined;
  assert.equal((await probe(target, { memory })).success, true);
  assert.equal(idp.issued.length, 3);
  assert.equal((await probe(target, { memory })).success, true);
  assert.equal(idp.issued.length, 3, 'still fresh');
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await probe(target, { memory })).success, true);
  assert.equal(idp.issued.length, 4, 'refreshed after expiry');
  for (const r of [first, rejected, recovered]) {
    const text = JSON.stringify(r);
    assert.ok(!text.includes('s3cret/value') && !/tok-\d-x{8}/.test(text), 'neither secret nor token in the result');
  }
});

test('auth: oauth2 with a wrong client secret is reason auth, and the secret is not in the message', async () => {
  const idp = await tokenEndpoint();
  const s = await guardedServer(() => true);
  const r = await probe(
    targetOf({
      name: 'oauth-bad',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      oauth2: { client_id: 'probe-client', client_secret: 'wrong-secret-zzz', token_url: idp.url },
    }),
  );
  assert.equal(r.reason, 'auth');
  assert.match(r.message ?? '', /token endpoint answered HTTP 401: invalid_client/);
  assert.ok(!JSON.stringify(r).includes('wrong-secret-zzz'));
  assert.equal(s.seen.length, 0, 'the MCP server was not contacted without a token');
});

/** A walled server: 401 + challenge on /mcp, RFC 9728 metadata at `metadataPath` (or 404). */
async function walledServer(metadata: 'resource_metadata' | 'well-known' | 'missing') {
  const s = await rawHttp((req, res, _body, port) => {
    const meta = JSON.stringify({
      resource: `http://127.0.0.1:${port}/mcp`,
      authorization_servers: ['https://idp.example'],
    });
    if (req.url === '/meta/prm' && metadata === 'resource_metadata')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(meta);
    if (req.url === '/.well-known/oauth-protected-resource/mcp' && metadata === 'well-known')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(meta);
    if (req.url !== '/mcp') return void res.writeHead(404).end();
    const challenge =
      metadata === 'resource_metadata'
        ? `Bearer resource_metadata="http://127.0.0.1:${port}/meta/prm", scope="mcp"`
        : 'Bearer realm="mcp"';
    res.writeHead(401, { 'www-authenticate': challenge }).end();
  });
  cleanups.push(s.close);
  return s;
}

for (const kind of ['resource_metadata', 'well-known'] as const) {
  test(`auth: expect.auth_challenge: a 401 with a challenge and reachable metadata (${kind}) is up, but walled`, async () => {
    const s = await walledServer(kind);
    const r = await probe(
      targetOf({
        name: 'walled',
        url: s.url,
        transport: 'streamable-http',
        timeout: '3s',
        expect: { auth_challenge: true },
      }),
    );
    assert.equal(r.success, true, `${r.message}\n${r.log.join('\n')}`);
    assert.equal(r.httpStatus, 401);
    assert.deepEqual(
      r.checks.map((c) => [c.name, c.ok]),
      [['auth_challenge', true]],
    );
  });
}

test('auth: expect.auth_challenge: unreachable metadata stays reason auth; without expect a 401 is auth', async () => {
  const s = await walledServer('missing');
  const r = await probe(
    targetOf({
      name: 'walled',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      expect: { auth_challenge: true },
    }),
  );
  assert.equal(r.reason, 'auth');
  assert.match(r.message ?? '', /protected-resource metadata answered HTTP 404/);
  const good = await walledServer('well-known');
  const plain = await probe(targetOf({ name: 'walled', url: good.url, transport: 'streamable-http', timeout: '3s' }));
  assert.equal(plain.reason, 'auth');
});

test('auth: expect.auth_challenge on a server that lets anyone in fails with assertion', async () => {
  const s = await healthyServer();
  cleanups.push(s.close);
  const r = await probe(
    targetOf({
      name: 'open',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      expect: { auth_challenge: true },
    }),
  );
  assert.equal(r.reason, 'assertion');
});

test('canary: canary.interval runs the call only on the probes that fall due', async () => {
  const s = await healthyServer();
  cleanups.push(s.close);
  const target = targetOf({
    name: 'canary',
    url: s.url,
    transport: 'streamable-http',
    timeout: '1s',
    interval: '2s',
    canary: { tool: 'echo', arguments: { message: 'hi' }, expect_text: 'echo: hi', interval: '1m' },
  });
  const memory: ProbeMemory = {};
  const calls = async () =>
    (await probe(target, { memory })).operations.filter((o) => o.method === 'tools/call').length;
  assert.equal(await calls(), 1, 'the first probe calls the tool');
  assert.equal(await calls(), 0, 'not due yet');
  memory.canaryRunAtMs = { echo: Date.now() - 59_500 }; // within half a probe interval of the canary interval
  assert.equal(await calls(), 1, 'due again');
  const always = targetOf({
    name: 'canary',
    url: s.url,
    transport: 'streamable-http',
    timeout: '1s',
    canary: { tool: 'echo', arguments: { message: 'hi' } },
  });
  assert.equal((await probe(always, { memory: {} })).operations.filter((o) => o.method === 'tools/call').length, 1);
});
