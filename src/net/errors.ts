/**
 * mcpwatch's own errors: one type with a closed code set. Raised by the network layer, the
 * prober's checks and the OAuth client; `probe/classify.ts` turns each code into a failure
 * reason by type, never by matching strings. Errors of Node, undici and the MCP SDK keep their
 * own codes and are classified from those.
 */

/** Why mcpwatch itself refused or stopped something. */
export const ERROR_CODES = [
  /** Local configuration the process cannot use (an unreadable secret or TLS file). */
  'config',
  /** Credentials refused or not obtainable (the OAuth token endpoint). */
  'auth',
  /** The server answered, but not what `expect` or the canary asked for. */
  'assertion',
  /** The server's answer breaks the protocol in a way the SDK does not catch. */
  'invalid_response',
  /** A response body grew past its limit. */
  'response_too_large',
  /** The probe's own deadline fired. */
  'deadline',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class McpwatchError extends Error {
  override readonly name = 'McpwatchError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The first mcpwatch error in `error`'s cause chain, if any. */
export function findMcpwatchError(error: unknown): McpwatchError | undefined {
  return errorChain(error).find((e): e is McpwatchError => e instanceof McpwatchError);
}

/** Whether `error` (or its cause chain) is an mcpwatch error with `code`. */
export function hasCode(error: unknown, code: ErrorCode): boolean {
  return errorChain(error).some((e) => e instanceof McpwatchError && e.code === code);
}

/** Walks `cause` (and AggregateError members) to collect every error in the chain, at most 16. */
export function errorChain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const stack: unknown[] = [error];
  while (stack.length > 0 && out.length < 16) {
    const e = stack.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    if (typeof e === 'object') {
      const obj = e as { cause?: unknown; errors?: unknown[] };
      if (obj.cause !== undefined) stack.push(obj.cause);
      if (Array.isArray(obj.errors)) stack.push(...obj.errors);
    }
  }
  return out;
}

/** The first string `code` in the chain (ECONNREFUSED, UND_ERR_…), for messages. */
export function firstErrorCode(error: unknown): string | undefined {
  return errorChain(error)
    .map((e) => (e as { code?: unknown } | undefined)?.code)
    .find((c): c is string => typeof c === 'string');
}
