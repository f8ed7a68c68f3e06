/**
 * TLS (issue 3): verified by default; expired, self-signed and wrong-host certificates fail with
 * reason `tls` and a readable message; the expiry metric comes from the first full handshake
 * and equals the generated certificate's notAfter; a custom CA and mTLS client certificates work.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { probe } from '../../src/probe/prober.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { targetOf } from '../fixtures/targets.js';
import { healthyServer, type HostileServer } from '../fixtures/hostile-servers.js';
import { makePki, type Pki } from './pki.js';

let pki: Pki;
const servers: HostileServer[] = [];

before(() => {
  pki = makePki();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  pki?.remove();
});

async function httpsServer(
  cert: { cert: string; key: string },
  extra: Record<string, unknown> = {},
): Promise<HostileServer> {
  const s = await healthyServer({ tls: { cert: pki.read(cert.cert), key: pki.read(cert.key), ...extra } });
  servers.push(s);
  return s;
}

test('tls: a server certificate from a custom CA verifies with ca_file; the expiry gauge equals its notAfter', async () => {
  const s = await httpsServer(pki.server);
  const target = targetOf({
    name: 'custom-ca',
    url: s.url,
    transport: 'streamable-http',
    timeout: '3s',
    tls: { ca_file: pki.caCert },
  });
  const r = await probe(target);
  assert.equal(r.success, true, r.message);
  assert.ok(r.phases.tls !== undefined && r.phases.tls > 0, 'tls phase timed');
  assert.equal(r.tlsCertExpirySeconds, pki.server.notAfterSeconds);
  const registry = new Registry();
  const recorder = new Recorder(registry);
  recorder.addTarget(target);
  recorder.recordProbe(r, false);
  const text = await registry.metrics();
  assert.match(
    text,
    new RegExp(
      `^mcp_probe_tls_cert_expiry_timestamp_seconds\\{target="custom-ca"\\} ${pki.server.notAfterSeconds}$`,
      'm',
    ),
  );
});

test('tls: without the CA the same server fails: verify by default', async () => {
  const s = await httpsServer(pki.server);
  const r = await probe(targetOf({ name: 'no-ca', url: s.url, transport: 'streamable-http', timeout: '3s' }));
  assert.equal(r.reason, 'tls', r.message);
  assert.match(r.message ?? '', /certificate/i);
});

const failing: Array<{ name: string; cert: () => { cert: string; key: string }; message: RegExp }> = [
  { name: 'expired', cert: () => pki.expired, message: /expired/i },
  { name: 'self-signed', cert: () => pki.selfSigned, message: /self[- ]signed/i },
  { name: 'wrong host', cert: () => pki.wrongHost, message: /altnames|does not match|Hostname\/IP/i },
];
for (const f of failing) {
  test(`tls: a ${f.name} certificate gives reason tls with a readable message`, async () => {
    const s = await httpsServer(f.cert());
    const t0 = Date.now();
    const r = await probe(
      targetOf({
        name: 'bad-cert',
        url: s.url,
        transport: 'streamable-http',
        timeout: '2s',
        tls: { ca_file: pki.caCert },
      }),
    );
    assert.equal(r.reason, 'tls', r.message);
    assert.match(r.message ?? '', f.message);
    assert.ok(Date.now() - t0 < 2000, 'fails fast, not at the deadline');
  });
}

test('tls: insecure_skip_verify accepts a self-signed certificate', async () => {
  const s = await httpsServer(pki.selfSigned);
  const r = await probe(
    targetOf({
      name: 'skip',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      tls: { insecure_skip_verify: true },
    }),
  );
  assert.equal(r.success, true, r.message);
});

test('tls: mTLS: the client certificate is presented; without it the server refuses (tls)', async () => {
  const s = await httpsServer(pki.server, { ca: pki.read(pki.caCert), requestCert: true, rejectUnauthorized: true });
  const ok = await probe(
    targetOf({
      name: 'mtls',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      tls: { ca_file: pki.caCert, cert_file: pki.client.cert, key_file: pki.client.key },
    }),
  );
  assert.equal(ok.success, true, ok.message);
  const refused = await probe(
    targetOf({
      name: 'mtls-none',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      tls: { ca_file: pki.caCert },
    }),
  );
  assert.equal(refused.success, false);
  assert.equal(refused.reason, 'tls', `${refused.message}\n${refused.log.join('\n')}`);
  assert.match(refused.message ?? '', /certificate/i);
});

test('tls: server_name overrides the name verified (SNI and certificate check)', async () => {
  const s = await httpsServer(pki.wrongHost);
  const r = await probe(
    targetOf({
      name: 'sni',
      url: s.url,
      transport: 'streamable-http',
      timeout: '3s',
      tls: { ca_file: pki.caCert, server_name: 'wrong.example' },
    }),
  );
  assert.equal(r.success, true, r.message);
});
