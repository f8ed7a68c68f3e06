/**
 * A throwaway PKI made with the `openssl` CLI for TLS and mTLS tests: a CA, a server certificate
 * for 127.0.0.1/localhost, an expired one, one for another host, a self-signed one and a client
 * certificate. Everything lives in one temp dir the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  server: { cert: string; key: string; notAfterSeconds: number };
  expired: { cert: string; key: string };
  wrongHost: { cert: string; key: string };
  selfSigned: { cert: string; key: string };
  client: { cert: string; key: string };
  /** Reads a file of the PKI. */
  read(path: string): Buffer;
  remove(): void;
}

const openssl = (dir: string, args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** `notAfter` of a certificate, unix seconds. */
export function notAfterSeconds(dir: string, cert: string): number {
  const out = openssl(dir, ['x509', '-in', cert, '-noout', '-enddate']);
  return Date.parse(out.trim().replace(/^notAfter=/, '')) / 1000;
}

/** Builds the PKI (a second or two of openssl). Throws if openssl fails. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-pki-'));
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = d',
      '[d]',
      'database = index.txt',
      'new_certs_dir = db',
      'serial = serial',
      'default_md = sha256',
      'policy = p',
      'copy_extensions = copy',
      'unique_subject = no',
      '[p]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    '/CN=mcpwatch test CA',
  ]);
  const issue = (name: string, san: string, validity: string[], extra: string[] = []) => {
    openssl(dir, [
      'req',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
      ...extra,
    ]);
    openssl(dir, [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.crt',
      '-keyfile',
      'ca.key',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.crt`,
      '-notext',
      ...validity,
    ]);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const server = issue('server', 'IP:127.0.0.1,DNS:localhost', ['-days', '30']);
  const expired = issue('expired', 'IP:127.0.0.1,DNS:localhost', [
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
  ]);
  const wrongHost = issue('wronghost', 'DNS:wrong.example', ['-days', '30']);
  const client = issue('client', 'DNS:mcpwatch-client', ['-days', '30'], ['-addext', 'extendedKeyUsage=clientAuth']);
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'self.key',
    '-out',
    'self.crt',
    '-days',
    '30',
    '-subj',
    '/CN=self-signed',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    server: { ...server, notAfterSeconds: notAfterSeconds(dir, server.cert) },
    expired,
    wrongHost,
    selfSigned: { cert: join(dir, 'self.crt'), key: join(dir, 'self.key') },
    client,
    read: (p) => readFileSync(p),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
