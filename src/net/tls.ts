/**
 * The one TLS options builder: a target's `tls` block as undici connect options, for probes,
 * scrapes, the proxy's upstream and the OAuth token endpoint alike.
 */
import { readFileSync } from 'node:fs';
import type { buildConnector } from 'undici';
import type { TargetConfig } from '../config/schema.js';
import { McpwatchError } from './errors.js';

/** Reads a TLS file named in config; the error names the key, never the content. */
function readTlsFile(path: string | undefined, key: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new McpwatchError(
      'config',
      `tls.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * undici connect options for a target's `tls` block (CA, client certificate and key, server
 * name, skip-verify). Reads the files now (rotated certificates are picked up by the next pool);
 * throws a `config` McpwatchError naming the key if one cannot be read.
 */
export function tlsConnectOptions(tls: TargetConfig['tls'], timeoutMs: number): buildConnector.BuildOptions {
  return {
    timeout: timeoutMs,
    ca: readTlsFile(tls?.caFile, 'ca_file'),
    cert: readTlsFile(tls?.certFile, 'cert_file'),
    key: readTlsFile(tls?.keyFile, 'key_file'),
    servername: tls?.serverName,
    rejectUnauthorized: !(tls?.insecureSkipVerify ?? false),
  } as buildConnector.BuildOptions;
}
