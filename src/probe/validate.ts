/**
 * Checks on what a server sent that the SDK accepts but a probe must not: answers that parse
 * yet make no sense for a client. Pure functions; failures become reason `invalid_response`.
 */
import { McpwatchError } from '../net/errors.js';
import type { ToolSummary } from './types.js';

/**
 * Tool names listed more than once (across all pages), in first-seen order. A client cannot
 * tell which of two `search` tools a `tools/call` reaches, so a duplicate is an invalid list,
 * not an expectation failure (docs/failure-reasons.md).
 */
export function duplicateToolNames(tools: readonly ToolSummary[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.name)) dup.add(t.name);
    seen.add(t.name);
  }
  return [...dup];
}

/** Throws an `invalid_response` McpwatchError when the tool list has duplicate names. */
export function assertUniqueToolNames(tools: readonly ToolSummary[]): void {
  const dup = duplicateToolNames(tools);
  if (dup.length > 0) {
    const shown = dup.slice(0, 5).map((n) => JSON.stringify(n.slice(0, 64)));
    throw new McpwatchError(
      'invalid_response',
      `tools/list: duplicate tool names: ${shown.join(', ')}${dup.length > 5 ? ', …' : ''}`,
    );
  }
}

/**
 * Whether a line a stdio server wrote to stdout could be a JSON-RPC message (else it is noise).
 * Cheap on purpose (no parse): it runs on every stdout line beside the SDK's own parser.
 */
export function looksLikeJsonRpcLine(line: string): boolean {
  return /^\s*([[{]|$)/.test(line);
}
