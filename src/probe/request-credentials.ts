/**
 * The request headers of one probe or fan-out round: the target's headers and authorization
 * (files re-read, `${VAR}` expanded, net/credentials.ts) plus an OAuth 2 bearer token (./oauth.ts,
 * cached in the target's memory). Every secret met is returned, so the caller can redact it.
 */
import type { TargetConfig } from '../config/schema.js';
import { resolveHeaders } from '../net/credentials.js';
import { hasCode } from '../net/errors.js';
import { currentClientSecret, getAccessToken } from './oauth.js';
import type { FailureReason, ProbeMemory } from './types.js';

export type RequestCredentials = {
  /** Values to redact from everything the probe reports. */
  secrets: string[];
  /** A line for the probe's log (where the token came from). */
  note?: string;
} & (
  | { headers: Record<string, string>; failure?: undefined }
  | { headers?: undefined; failure: { reason: FailureReason; message: string } }
);

/** Resolves the headers of a request to `target`. Never throws. */
export async function requestCredentials(
  target: TargetConfig,
  memory: ProbeMemory,
  signal: AbortSignal,
): Promise<RequestCredentials> {
  let headers: Record<string, string>;
  let secrets: string[];
  try {
    ({ headers, secrets } = resolveHeaders(target));
  } catch (err) {
    return { secrets: [], failure: { reason: 'internal', message: (err as Error).message } };
  }
  if (!target.oauth2) return { headers, secrets };
  const oauth = await oauthHeader(target, memory, signal);
  secrets = [...secrets, ...oauth.secrets];
  if (oauth.error) return { secrets, failure: oauth.error };
  headers.Authorization = oauth.header as string;
  return {
    headers,
    secrets,
    note: `oauth2: ${oauth.fromCache ? 'cached access token' : 'new access token from the token endpoint'}`,
  };
}

/** The OAuth 2 Authorization header of a target, or why there is none. Never throws. */
async function oauthHeader(
  target: TargetConfig,
  memory: ProbeMemory,
  signal: AbortSignal,
): Promise<{
  header?: string;
  fromCache?: boolean;
  secrets: string[];
  error?: { reason: FailureReason; message: string };
}> {
  const cfg = target.oauth2 as NonNullable<TargetConfig['oauth2']>;
  const secrets = [currentClientSecret(cfg)].filter((s) => s.length > 0);
  try {
    const { accessToken, fromCache } = await getAccessToken(cfg, memory, {
      signal,
      tls: target.tls,
      timeoutMs: target.timeoutMs,
    });
    secrets.push(accessToken);
    return { header: `Bearer ${accessToken}`, fromCache, secrets };
  } catch (err) {
    const reason: FailureReason = signal.aborted ? 'timeout' : hasCode(err, 'auth') ? 'auth' : 'internal';
    return {
      secrets,
      error: {
        reason,
        message: signal.aborted ? 'oauth2: token endpoint did not answer before the deadline' : (err as Error).message,
      },
    };
  }
}
