/**
 * A target's request headers and the secrets they carry: configured headers (with `${VAR}`
 * already expanded by config/load.ts) plus `authorization`, whose `credentials_file` is read
 * afresh on every call so a rotated secret is used without a reload.
 */
import { readFileSync } from 'node:fs';
import type { TargetConfig } from '../config/schema.js';
import { McpwatchError } from './errors.js';
import { mergeSecrets, targetSecrets } from './redact.js';

/** Builds the request headers of a target. Throws a `config` McpwatchError naming the key. */
export function resolveHeaders(target: TargetConfig): { headers: Record<string, string>; secrets: string[] } {
  const headers = { ...target.headers };
  const secrets = targetSecrets(target);
  const a = target.authorization;
  if (!a) return { headers, secrets };
  let credentials = a.credentials;
  if (a.credentialsFile) credentials = readSecretFile(a.credentialsFile, 'authorization.credentials_file');
  if (!credentials) return { headers, secrets };
  headers.Authorization = `${a.type} ${credentials}`;
  return { headers, secrets: mergeSecrets(secrets, [credentials]) };
}

/** Reads a secret file (trimmed); the error names the config key and the path, never the content. */
export function readSecretFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new McpwatchError(
      'config',
      `${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: err,
      },
    );
  }
}
