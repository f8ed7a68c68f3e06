/**
 * Tool-name globs of `tool_groups`: `*` any run of characters (none included), `?` exactly one,
 * everything else literal; the whole name must match. `github_*` matches `github_search`,
 * `backend__*` matches mcp-hub's `backend__tool` names.
 */

/** The RegExp of a glob. */
export function globRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
