/**
 * OAuth 2 client credentials (RFC 6749 section 4.4) for probes, Prometheus `oauth2` style: the
 * token endpoint is asked with HTTP Basic client authentication, the access token is cached in
 * the target's ProbeMemory until shortly before it expires, and dropped when the server
 * answers 401 (revoked early). No module state: the cache lives in the memory passed in.
 */
import { createHash } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import type { TargetConfig } from '../config/schema.js';
import { readBounded } from '../net/body.js';
import { readSecretFile } from '../net/credentials.js';
import { hasCode, McpwatchError } from '../net/errors.js';
import { tlsConnectOptions } from '../net/tls.js';
import type { ProbeMemory } from './types.js';

type OAuth2Config = NonNullable<TargetConfig['oauth2']>;

/** Tokens are refreshed this long before they expire, so a probe never sends a dying token. */
export const EXPIRY_SKEW_MS = 10_000;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/** A token endpoint failure: an `auth` McpwatchError (failure reason `auth`). */
function oauthError(message: string): McpwatchError {
  return new McpwatchError('auth', message);
}

/** Identifies a token's origin: a config change (other client, scopes, endpoint) invalidates it. */
function cacheKey(cfg: OAuth2Config): string {
  return createHash('sha256')
    .update(JSON.stringify([cfg.clientId, cfg.tokenUrl, cfg.scopes, cfg.endpointParams, cfg.clientSecretFile ?? '']))
    .digest('hex');
}

function readSecret(cfg: OAuth2Config): string {
  if (!cfg.clientSecretFile) return cfg.clientSecret ?? '';
  return readSecretFile(cfg.clientSecretFile, 'oauth2.client_secret_file');
}

/** The client secret currently configured (for redaction); empty when unreadable. */
export function currentClientSecret(cfg: OAuth2Config): string {
  try {
    return readSecret(cfg);
  } catch {
    return '';
  }
}

/** Forgets the cached token (the server rejected it). */
export function dropToken(memory: ProbeMemory): void {
  delete memory.oauth2Token;
}

/**
 * Returns an access token for `cfg`: the cached one while it is fresh, else a new one from the
 * token endpoint, over a connection with the target's whole `tls` block (CA, client certificate,
 * server name, skip-verify). Honours `signal`. Throws an `auth` McpwatchError (endpoint refused,
 * unusable answer) or a `config` one (secret or TLS file unreadable); messages never contain the
 * secret or token.
 */
export async function getAccessToken(
  cfg: OAuth2Config,
  memory: ProbeMemory,
  opts: { signal: AbortSignal; tls?: TargetConfig['tls']; timeoutMs?: number; now?: () => number },
): Promise<{ accessToken: string; fromCache: boolean }> {
  const now = opts.now ?? Date.now;
  const key = cacheKey(cfg);
  const cached = memory.oauth2Token;
  if (
    cached &&
    cached.key === key &&
    (cached.expiresAtMs === undefined || cached.expiresAtMs - EXPIRY_SKEW_MS > now())
  ) {
    return { accessToken: cached.accessToken, fromCache: true };
  }
  const secret = readSecret(cfg);
  const form = new URLSearchParams({ ...cfg.endpointParams, grant_type: 'client_credentials' });
  if (cfg.scopes.length > 0) form.set('scope', cfg.scopes.join(' '));
  // RFC 6749 section 2.3.1: id and secret are form-urlencoded before Basic encoding.
  const basic = Buffer.from(`${encodeURIComponent(cfg.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const agent = new Agent({ connect: tlsConnectOptions(opts.tls, opts.timeoutMs ?? 10_000) });
  let text: string;
  let status: number;
  try {
    const res = await undiciFetch(cfg.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      signal: opts.signal,
      dispatcher: agent,
      redirect: 'manual',
    });
    status = res.status;
    text = res.body ? (await readBounded(res.body, MAX_TOKEN_RESPONSE_BYTES)).toString('utf8') : '';
  } catch (err) {
    if (opts.signal.aborted || hasCode(err, 'auth')) throw err;
    if (hasCode(err, 'response_too_large'))
      throw oauthError(`oauth2 token response exceeded ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw oauthError(
      `oauth2 token endpoint unreachable: ${cause?.code ?? ''} ${cause?.message ?? (err as Error).message}`.trim(),
    );
  } finally {
    await agent.destroy().catch(() => {});
  }
  let body: { access_token?: unknown; expires_in?: unknown; error?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    /* reported below */
  }
  if (status < 200 || status >= 300) {
    const error = typeof body.error === 'string' ? `: ${body.error.slice(0, 64)}` : '';
    throw oauthError(`oauth2 token endpoint answered HTTP ${status}${error}`);
  }
  if (typeof body.access_token !== 'string' || body.access_token === '')
    throw oauthError('oauth2 token endpoint answered without an access_token');
  const expiresIn = Number(body.expires_in);
  memory.oauth2Token = {
    key,
    accessToken: body.access_token,
    // No expires_in: the token is used until the server rejects it (golang.org/x/oauth2 does the same).
    expiresAtMs: Number.isFinite(expiresIn) && expiresIn > 0 ? now() + expiresIn * 1000 : undefined,
  };
  return { accessToken: body.access_token, fromCache: false };
}
