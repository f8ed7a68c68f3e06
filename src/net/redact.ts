/**
 * Keeps secrets out of every text mcpwatch writes (logs, debug output, error messages, status
 * page). A target's secrets are its header values, authorization credentials, and the password
 * and query values of its URL; `redact` replaces each with `<redacted>`.
 */

const MIN_SECRET_LENGTH = 4;
export const REDACTED = '<redacted>';

/** Replaces every known secret in `text`. Never throws. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= MIN_SECRET_LENGTH && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/** A URL safe to show: no userinfo, query values replaced. Returns the input unchanged if it is not a URL. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, REDACTED);
    return u.toString().replace(/%3Credacted%3E/g, REDACTED);
  } catch {
    return '<invalid url>';
  }
}

/** The secret strings of a target (values only; the caller adds credentials read from files). */
export function targetSecrets(t: {
  url?: string;
  headers: Record<string, string>;
  authorization?: { credentials?: string };
  env?: Record<string, string>;
}): string[] {
  const out: string[] = [];
  for (const v of Object.values(t.headers)) {
    out.push(v);
    // "Bearer abc": the token alone may show up in a server's echo.
    const parts = v.split(/\s+/);
    if (parts.length === 2 && parts[1]) out.push(parts[1]);
  }
  if (t.authorization?.credentials) out.push(t.authorization.credentials);
  for (const v of Object.values(t.env ?? {})) out.push(v);
  if (t.url) {
    try {
      const u = new URL(t.url);
      if (u.password) out.push(decodeURIComponent(u.password), u.password);
      if (u.username) out.push(decodeURIComponent(u.username), u.username);
      for (const v of u.searchParams.values()) out.push(v);
    } catch {
      /* not a URL: nothing to extract */
    }
  }
  return mergeSecrets(out);
}

/** Secret lists merged as redact() wants them: distinct, long enough to matter, longest first. */
export function mergeSecrets(...lists: readonly string[][]): string[] {
  return [...new Set(lists.flat().filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
}
