/**
 * "Up, but walled": for a server monitored without credentials (`expect.auth_challenge`), a 401
 * is healthy when it carries a `WWW-Authenticate` Bearer challenge and the RFC 9728 protected
 * resource metadata it points to (MCP authorization spec, 2025-06-18 and later) is reachable.
 */
import type { CheckResult } from './types.js';

const MAX_METADATA_BYTES = 64 * 1024;

/**
 * The metadata URL of a challenge: its `resource_metadata` parameter, else the RFC 9728
 * well-known location for `endpoint` (`/.well-known/oauth-protected-resource` + path).
 */
export function resourceMetadataUrl(wwwAuthenticate: string, endpoint: string): string | undefined {
  const m = /resource_metadata\s*=\s*(?:"([^"]*)"|([^\s,]+))/i.exec(wwwAuthenticate);
  try {
    if (m) return new URL(m[1] ?? m[2] ?? '', endpoint).toString();
    const u = new URL(endpoint);
    const path = u.pathname === '/' ? '' : u.pathname;
    return new URL(`/.well-known/oauth-protected-resource${path}`, u.origin).toString();
  } catch {
    return undefined;
  }
}

/**
 * Checks a 401's challenge and fetches its metadata with `fetch` (the probe's wire: same TLS
 * settings, body limit and deadline). Never throws; the result is one named check.
 */
export async function checkAuthChallenge(
  wwwAuthenticate: string | undefined,
  endpoint: string,
  fetch: (url: string, init?: RequestInit) => Promise<Response>,
): Promise<CheckResult> {
  const fail = (message: string): CheckResult => ({ name: 'auth_challenge', ok: false, message });
  if (!wwwAuthenticate) return fail('401 without a WWW-Authenticate challenge');
  if (!/^\s*bearer\b/i.test(wwwAuthenticate) && !/,\s*bearer\b/i.test(wwwAuthenticate))
    return fail('401 without a Bearer challenge');
  const url = resourceMetadataUrl(wwwAuthenticate, endpoint);
  if (!url) return fail('401 challenge with an unusable resource_metadata URL');
  try {
    const res = await fetch(url, { method: 'GET', headers: { accept: 'application/json' } });
    const text = await res.text();
    if (res.status !== 200) return fail(`protected-resource metadata answered HTTP ${res.status}`);
    if (text.length > MAX_METADATA_BYTES) return fail('protected-resource metadata too large');
    const doc = JSON.parse(text) as { resource?: unknown; authorization_servers?: unknown };
    if (typeof doc.resource !== 'string') return fail('protected-resource metadata has no "resource"');
    const servers = Array.isArray(doc.authorization_servers) ? doc.authorization_servers.length : 0;
    return {
      name: 'auth_challenge',
      ok: true,
      message: `401 with a Bearer challenge; protected-resource metadata names ${servers} authorization server(s)`,
    };
  } catch (err) {
    return fail(`protected-resource metadata unreachable or not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
}
