/**
 * OAuth 2 client credentials over the target's whole `tls` block: the token endpoint is asked
 * over a connection with the custom CA, the client certificate and key, the server name and
 * skip-verify, exactly like the MCP server itself. Real HTTPS servers on 127.0.0.1, a real PKI
 * from openssl (./pki.ts): the token endpoint requires a client certificate signed by the test CA
 * and records the CN it saw; the MCP server only lets in bearer tokens that endpoint issued.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { probe } from '../../src/probe/prober.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { listenTracked } from '../fixtures/net.js';
import { targetOf } from '../fixtures/targets.js';
import { healthyServer } from '../fixtures/hostile-servers.js';
import { makePki, type Pki } from './pki.js';

const CLIENT_ID = 'mtls-client';
const CLIENT_SECRET = 'mtls-s3cret-value-q7';

let pki: Pki;
const cleanups: Array<() => Promise<void>> = [];

before(() => {
  pki = makePki();
});
after(async () => {
  await Promise.all(cleanups.map((c) => c()));
  pki?.remove();
});

/**
 * A client-credentials token endpoint on HTTPS that requires a client certificate from the test
 * CA (`requestCert`, `rejectUnauthorized`). Records the CN of every client certificate it saw.
 */
async function mtlsTokenEndpoint(cert: { cert: string; key: string } = pki.server) {
  const issued: string[] = [];
  const peerCns: string[] = [];
  const tlsErrors: string[] = [];
  const server = createHttpsServer(
    {
      cert: pki.read(cert.cert),
      key: pki.read(cert.key),
      ca: pki.read(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      peerCns.push(String(peer?.subject?.CN ?? ''));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        const basic = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
        if (
          req.method !== 'POST' ||
          form.get('grant_type') !== 'client_credentials' ||
          basic !== `${CLIENT_ID}:${CLIENT_SECRET}`
        ) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
          return;
        }
        const token = `mtls-tok-${issued.length + 1}-${'y'.repeat(8)}`;
        issued.push(token);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
      });
    },
  );
  server.on('tlsClientError', (err: Error) => tlsErrors.push(err.message));
  const { port, close } = await listenTracked(server);
  cleanups.push(close);
  return { url: `https://127.0.0.1:${port}/oauth/token`, issued, peerCns, tlsErrors };
}

/**
 * A healthy MCP server on HTTPS (certificate from the test CA, no client certificate needed)
 * that answers 401 unless the bearer token is one `issued` by the token endpoint.
 */
async function bearerServer(
  issued: string[],
  cert: { cert: string; key: string } = pki.server,
): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const s = await healthyServer({
    tls: { cert: pki.read(cert.cert), key: pki.read(cert.key) },
    guard: (req, res) => {
      const a = req.headers.authorization ?? '';
      seen.push(a);
      if (issued.some((t) => a === `Bearer ${t}`)) return false;
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return true;
    },
  });
  const { url, close } = s;
  if (!url || !close) throw new Error('healthyServer gave no url');
  cleanups.push(close);
  return { url, seen };
}

function oauthTarget(name: string, url: string, tokenUrl: string, tls: Record<string, unknown>) {
  return targetOf({
    name,
    url,
    transport: 'streamable-http',
    timeout: '3s',
    tls,
    oauth2: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_url: tokenUrl },
  });
}

const detail = (r: ProbeResult) => `${r.reason}: ${r.message}\n${r.log.join('\n')}`;

/** Neither the client secret nor an issued token anywhere in the result (message, log, checks). */
function assertNoSecrets(r: ProbeResult) {
  const text = JSON.stringify(r);
  assert.ok(!text.includes(CLIENT_SECRET), 'client secret not in the result');
  assert.ok(!/mtls-tok-\d+-y{8}/.test(text), 'access token not in the result');
}

test('oauth mtls: ca_file + cert_file + key_file reach the token endpoint; it sees the client CN', async () => {
  const idp = await mtlsTokenEndpoint();
  const s = await bearerServer(idp.issued);
  const r = await probe(
    oauthTarget('oauth-mtls', s.url, idp.url, {
      ca_file: pki.caCert,
      cert_file: pki.client.cert,
      key_file: pki.client.key,
    }),
  );
  assert.equal(r.success, true, detail(r));
  assert.equal(idp.issued.length, 1, 'one token issued');
  assert.deepEqual(idp.peerCns, ['client'], 'the token endpoint saw the client certificate');
  assert.ok(s.seen.includes(`Bearer ${idp.issued[0]}`), 'the MCP server got the bearer token issued over mTLS');
  assertNoSecrets(r);
});

test('oauth mtls: without the client certificate the token endpoint refuses: reason auth, no secret', async () => {
  const idp = await mtlsTokenEndpoint();
  const s = await bearerServer(idp.issued);
  const r = await probe(oauthTarget('oauth-no-cert', s.url, idp.url, { ca_file: pki.caCert }));
  assert.equal(r.success, false);
  assert.equal(r.reason, 'auth', detail(r));
  // TLS 1.3: the server rejects the missing certificate after the client's handshake is done,
  // so undici only sees the connection closed; the server side proves why.
  assert.equal(r.message, 'oauth2 token endpoint unreachable: UND_ERR_SOCKET other side closed');
  assert.ok(
    idp.tlsErrors.some((m) => /peer did not return a certificate/i.test(m)),
    `token endpoint refused for the missing certificate: ${idp.tlsErrors.join('; ')}`,
  );
  assert.equal(idp.peerCns.length, 0, 'no request reached the token endpoint');
  assert.equal(idp.issued.length, 0, 'no token issued');
  assert.equal(s.seen.length, 0, 'the MCP server was not contacted without a token');
  assertNoSecrets(r);
});

test('oauth mtls: without the CA the token endpoint certificate fails verification (reason auth)', async () => {
  const idp = await mtlsTokenEndpoint();
  const s = await bearerServer(idp.issued);
  const r = await probe(
    oauthTarget('oauth-no-ca', s.url, idp.url, { cert_file: pki.client.cert, key_file: pki.client.key }),
  );
  assert.equal(r.success, false);
  assert.equal(r.reason, 'auth', detail(r));
  assert.match(
    r.message ?? '',
    /^oauth2 token endpoint unreachable: SELF_SIGNED_CERT_IN_CHAIN self-signed certificate/,
  );
  assert.equal(idp.peerCns.length, 0, 'no request reached the token endpoint');
  assert.equal(s.seen.length, 0, 'the MCP server was not contacted without a token');
  assertNoSecrets(r);
});

test('oauth mtls: insecure_skip_verify without the CA, with the client certificate, succeeds', async () => {
  const idp = await mtlsTokenEndpoint();
  const s = await bearerServer(idp.issued);
  const r = await probe(
    oauthTarget('oauth-skip', s.url, idp.url, {
      insecure_skip_verify: true,
      cert_file: pki.client.cert,
      key_file: pki.client.key,
    }),
  );
  assert.equal(r.success, true, detail(r));
  assert.deepEqual(idp.peerCns, ['client'], 'the client certificate was still presented');
  assert.equal(idp.issued.length, 1);
  assertNoSecrets(r);
});

test('oauth mtls: server_name verifies a token endpoint certificate issued for another name', async () => {
  const idp = await mtlsTokenEndpoint(pki.wrongHost);
  const s = await bearerServer(idp.issued, pki.wrongHost);
  const tls = { ca_file: pki.caCert, cert_file: pki.client.cert, key_file: pki.client.key };
  const mismatch = await probe(oauthTarget('oauth-sni-none', s.url, idp.url, tls));
  assert.equal(mismatch.reason, 'auth', detail(mismatch));
  assert.match(
    mismatch.message ?? '',
    /^oauth2 token endpoint unreachable: ERR_TLS_CERT_ALTNAME_INVALID .*does not match/,
  );
  assert.equal(idp.peerCns.length, 0);
  const r = await probe(oauthTarget('oauth-sni', s.url, idp.url, { ...tls, server_name: 'wrong.example' }));
  assert.equal(r.success, true, detail(r));
  assert.deepEqual(idp.peerCns, ['client']);
  assert.equal(idp.issued.length, 1);
  assertNoSecrets(r);
  assertNoSecrets(mismatch);
});
