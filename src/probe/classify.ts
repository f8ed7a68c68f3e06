/**
 * Any error a probe can meet -> one FailureReason from the closed set. Pure and table-tested
 * (test/probe/classify.test.ts): the same inputs always give the same reason.
 *
 * Order matters: the most specific evidence wins (a body over the limit beats the parse error
 * it causes; a refused connection beats the SDK's generic "fetch failed").
 */
import { errorChain, findMcpwatchError, type ErrorCode } from '../net/errors.js';
import type { FailureReason } from './types.js';

/** The failure reason of each of mcpwatch's own error codes. */
const REASON_OF: Record<ErrorCode, FailureReason> = {
  response_too_large: 'response_too_large',
  assertion: 'assertion',
  config: 'internal',
  invalid_response: 'invalid_response',
  auth: 'auth',
  deadline: 'timeout',
};

/** What the probe knew when the error happened. */
export interface ClassifyInput {
  error: unknown;
  /** The probe's own deadline fired (or the request timed out). */
  timedOut: boolean;
  /** Phase the probe was in. */
  phase: 'handshake' | 'tools_list' | 'tool_call' | 'close' | 'setup';
  transport: 'streamable-http' | 'sse' | 'stdio';
  /** Last HTTP status seen, 0 if none. */
  lastStatus: number;
  /** A response body grew past the limit. */
  tooLarge: boolean;
  /** A connection-level error the HTTP layer saw, and the phase it happened in. */
  connectError?: { code?: string; phase?: 'dns' | 'connect' | 'tls' };
  /** The transport reported unparsable or unexpected messages before the failure. */
  sawMalformedMessages: boolean;
  /** The probe already had a session (handshake done). */
  hadSession: boolean;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ENOENT',
  'EACCES',
  'E2BIG',
]);
/** undici's errors for a response it cannot parse as HTTP/1.1. */
const HTTP_PARSE_ERRORS = new Set(['HTTPParserError', 'HeadersOverflowError', 'ResponseContentLengthMismatchError']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'REQUEST_TIMEOUT', 'ABORT_ERR']);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') || // CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, …
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'EPROTO'
  );
}

function prop(e: unknown, key: string): unknown {
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined;
}

/** HTTP status carried by an SDK HTTP error (SdkHttpError.status, SseError.code, data.status). */
function httpStatusOf(e: unknown): number | undefined {
  for (const candidate of [prop(e, 'status'), prop(prop(e, 'data'), 'status')]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  const name = String(prop(e, 'name') ?? '');
  const code = prop(e, 'code');
  if ((name === 'SseError' || name === 'StreamableHTTPError') && typeof code === 'number' && code >= 100 && code < 600)
    return code;
  const msg = String(prop(e, 'message') ?? '');
  const m = /\bHTTP (\d{3})\b|\((\d{3})\)|Non-200 status code \((\d{3})\)/.exec(msg);
  const s = m ? Number(m[1] ?? m[2] ?? m[3]) : undefined;
  return s !== undefined && s >= 400 && s < 600 ? s : undefined;
}

function statusReason(status: number, input: ClassifyInput): FailureReason {
  if (status === 401 || status === 403) return 'auth';
  if (status === 413) return 'response_too_large';
  if (input.hadSession && (status === 404 || status === 400)) return 'session';
  return 'http_status';
}

/** Classifies one probe failure. Never throws. */
export function classifyError(input: ClassifyInput): FailureReason {
  if (input.tooLarge) return 'response_too_large';
  const chain = errorChain(input.error);
  const codes = chain.map((e) => prop(e, 'code')).filter((c): c is string | number => c !== undefined);
  const strCodes = codes.filter((c): c is string => typeof c === 'string');
  const names = chain.map((e) => String(prop(e, 'name') ?? ''));
  const messages = chain.map((e) => String(prop(e, 'message') ?? ''));

  // Our own errors say what they are; a deadline falls through to the timing evidence below.
  const own = findMcpwatchError(input.error);
  if (own && own.code !== 'deadline') return REASON_OF[own.code];

  // Connection-level evidence from the HTTP layer is the most precise.
  if (input.connectError?.code) {
    const c = input.connectError.code;
    if (DNS_CODES.has(c) || input.connectError.phase === 'dns') return 'dns';
    if (isTlsCode(c) || input.connectError.phase === 'tls') return 'tls';
    if (CONNECT_CODES.has(c)) return 'connect';
  }
  for (const c of strCodes) {
    if (DNS_CODES.has(c)) return 'dns';
    if (isTlsCode(c)) return 'tls';
  }
  // An answer the HTTP layer cannot parse (broken status line, malformed or oversized headers):
  // the server answered, but not in HTTP (test/hostile). The SDK may wrap it: names and messages.
  if (
    names.some((n) => HTTP_PARSE_ERRORS.has(n)) ||
    strCodes.some((c) => c.startsWith('HPE_') || c === 'UND_ERR_HEADERS_OVERFLOW') ||
    messages.some((m) => /does not match the HTTP\/1\.1 protocol|Headers Overflow/i.test(m))
  ) {
    return 'invalid_response';
  }

  if (
    codes.includes(-32022) ||
    names.includes('UnsupportedProtocolVersionError') ||
    messages.some((m) => /protocol version is not supported|unsupported protocol version/i.test(m))
  ) {
    return 'unsupported_version';
  }

  for (const e of chain) {
    const status = httpStatusOf(e);
    if (status !== undefined && status >= 400) return statusReason(status, input);
  }

  if (input.timedOut || strCodes.some((c) => TIMEOUT_CODES.has(c)) || codes.includes(-32001)) {
    return input.sawMalformedMessages ? 'invalid_response' : 'timeout';
  }

  for (const c of strCodes) {
    if (CONNECT_CODES.has(c)) {
      // A connection that dies after an HTTP answer started is a broken response, not a refusal.
      return input.lastStatus > 0 && (c === 'ECONNRESET' || c === 'UND_ERR_SOCKET') ? 'invalid_response' : 'connect';
    }
  }
  if (input.lastStatus >= 400) return statusReason(input.lastStatus, input);
  // A redirect the probe did not follow (another origin, or a loop past the SDK's limit) is an
  // unexpected HTTP answer, not a broken body (test/hostile).
  if (input.lastStatus >= 300 && input.lastStatus < 400) return 'http_status';

  if (
    strCodes.some((c) =>
      [
        'INVALID_RESULT',
        'CLIENT_HTTP_UNEXPECTED_CONTENT',
        'LIST_PAGINATION_EXCEEDED',
        'UNSUPPORTED_RESULT_TYPE',
      ].includes(c),
    ) ||
    names.some((n) => n === 'ZodError' || n === 'SyntaxError' || n === '$ZodError')
  ) {
    return 'invalid_response';
  }
  // The server answered with a JSON-RPC error object.
  if (codes.some((c) => typeof c === 'number' && c < 0 && c !== -32001) || names.includes('ProtocolError'))
    return 'protocol_error';

  if (strCodes.includes('CONNECTION_CLOSED') || strCodes.includes('NOT_CONNECTED')) {
    if (input.transport === 'stdio') return input.sawMalformedMessages ? 'invalid_response' : 'connect';
    return input.lastStatus > 0 ? 'invalid_response' : 'connect';
  }
  if (strCodes.includes('ERA_NEGOTIATION_FAILED')) return input.lastStatus >= 500 ? 'http_status' : 'protocol_error';
  if (names.includes('SseError') || names.includes('StreamableHTTPError')) return 'invalid_response';
  if (input.sawMalformedMessages) return 'invalid_response';
  return 'internal';
}
