/**
 * classifyError is pure: a table of (what the probe knew) -> reason. Every reason of the closed
 * set appears at least once, and the ordering rules (most specific evidence wins) are pinned.
 * The errors are shaped like the ones the SDK, undici and Node really raise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyError, type ClassifyInput } from '../../src/probe/classify.js';
import { errorChain, McpwatchError } from '../../src/net/errors.js';
import { FAILURE_REASONS, type FailureReason } from '../../src/probe/types.js';

/** An Error with extra own properties (code, status, name, cause). */
function err(message: string, props: Record<string, unknown> = {}): Error {
  const e = new Error(message, props.cause !== undefined ? { cause: props.cause } : undefined);
  for (const [k, v] of Object.entries(props))
    if (k !== 'cause') Object.defineProperty(e, k, { value: v, enumerable: true, configurable: true, writable: true });
  return e;
}
/** Node's fetch: TypeError('fetch failed') with the socket error as cause. */
const fetchFailed = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: err(`${code} something`, { code }) });

const base: ClassifyInput = {
  error: new Error('boom'),
  timedOut: false,
  phase: 'handshake',
  transport: 'streamable-http',
  lastStatus: 0,
  tooLarge: false,
  sawMalformedMessages: false,
  hadSession: false,
};

const cases: Array<[string, Partial<ClassifyInput>, FailureReason]> = [
  // timeout
  [
    'probe deadline fired',
    { timedOut: true, error: new McpwatchError('deadline', 'probe deadline of 2000ms exceeded') },
    'timeout',
  ],
  ['SDK request timeout (-32001)', { error: err('Request timed out', { code: -32001 }) }, 'timeout'],
  ['undici headers timeout', { error: fetchFailed('UND_ERR_HEADERS_TIMEOUT') }, 'timeout'],
  [
    'deadline, legacy SSE never sent endpoint (200 seen)',
    { timedOut: true, transport: 'sse', lastStatus: 200 },
    'timeout',
  ],
  // dns
  ['ENOTFOUND in the cause chain', { error: fetchFailed('ENOTFOUND') }, 'dns'],
  ['EAI_AGAIN seen by the wire', { connectError: { code: 'EAI_AGAIN', phase: 'dns' } }, 'dns'],
  ['wire error during lookup', { connectError: { code: 'ESOMETHING', phase: 'dns' } }, 'dns'],
  // connect
  [
    'ECONNREFUSED seen by the wire',
    { error: fetchFailed('ECONNREFUSED'), connectError: { code: 'ECONNREFUSED', phase: 'connect' } },
    'connect',
  ],
  ['ECONNREFUSED only in the chain', { error: fetchFailed('ECONNREFUSED') }, 'connect'],
  [
    'stdio command not found (ENOENT)',
    { transport: 'stdio', error: err('spawn /x ENOENT', { code: 'ENOENT' }) },
    'connect',
  ],
  [
    'stdio child exited (connection closed)',
    { transport: 'stdio', error: err('Connection closed', { code: 'CONNECTION_CLOSED' }) },
    'connect',
  ],
  [
    'HTTP connection closed before any answer',
    { error: err('Connection closed', { code: 'CONNECTION_CLOSED' }) },
    'connect',
  ],
  // tls
  ['self-signed certificate', { error: fetchFailed('DEPTH_ZERO_SELF_SIGNED_CERT') }, 'tls'],
  ['wire error during TLS', { connectError: { code: 'ECONNRESET', phase: 'tls' } }, 'tls'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', { connectError: { code: 'ERR_TLS_CERT_ALTNAME_INVALID', phase: 'tls' } }, 'tls'],
  // http_status
  [
    '500 on a StreamableHTTPError',
    { error: err('Error POSTing to endpoint (HTTP 500)', { name: 'StreamableHTTPError', code: 500 }), lastStatus: 500 },
    'http_status',
  ],
  [
    '502 from the SSE GET',
    { transport: 'sse', error: err('SSE error: Non-200 status code (502)', { name: 'SseError', code: 502 }) },
    'http_status',
  ],
  ['status only known to the wire', { error: err('something'), lastStatus: 503 }, 'http_status'],
  ['404 before a session', { error: err('x', { status: 404 }) }, 'http_status'],
  ['redirect not followed', { error: err('unexpected redirect'), lastStatus: 302 }, 'http_status'],
  // auth
  ['401', { error: err('Unauthorized', { status: 401 }), lastStatus: 401 }, 'auth'],
  ['403 in data.status', { error: err('Forbidden', { data: { status: 403 } }) }, 'auth'],
  // session
  [
    '404 after the handshake (session gone)',
    { phase: 'tools_list', hadSession: true, error: err('Session not found', { status: 404 }), lastStatus: 404 },
    'session',
  ],
  [
    '400 after the handshake',
    { phase: 'tools_list', hadSession: true, lastStatus: 400, error: err('Bad Request: no valid session') },
    'session',
  ],
  // unsupported_version
  [
    'client rejects the server version',
    { error: err("Server's protocol version is not supported: 2020-01-01") },
    'unsupported_version',
  ],
  [
    'server answers -32022',
    { error: err('Unsupported protocol version', { code: -32022 }), lastStatus: 400 },
    'unsupported_version',
  ],
  [
    'UnsupportedProtocolVersionError',
    { error: err('nope', { name: 'UnsupportedProtocolVersionError' }) },
    'unsupported_version',
  ],
  // protocol_error
  [
    'JSON-RPC error on tools/list',
    {
      phase: 'tools_list',
      hadSession: true,
      lastStatus: 200,
      error: err('tool registry unavailable', { code: -32603 }),
    },
    'protocol_error',
  ],
  [
    'ProtocolError by name',
    { error: err('Method not found', { name: 'ProtocolError' }), lastStatus: 200 },
    'protocol_error',
  ],
  [
    'era negotiation failed without an HTTP error',
    { error: err('negotiation failed', { code: 'ERA_NEGOTIATION_FAILED' }), lastStatus: 200 },
    'protocol_error',
  ],
  // invalid_response
  [
    'JSON parse error',
    { error: err('Unexpected token', { name: 'SyntaxError' }), lastStatus: 200 },
    'invalid_response',
  ],
  ['result fails the schema', { error: err('invalid', { name: 'ZodError' }), lastStatus: 200 }, 'invalid_response'],
  [
    'unexpected content type',
    { error: err('Unexpected content type', { code: 'CLIENT_HTTP_UNEXPECTED_CONTENT' }), lastStatus: 200 },
    'invalid_response',
  ],
  [
    'tool list longer than the page cap',
    { phase: 'tools_list', error: err('too many pages', { code: 'LIST_PAGINATION_EXCEEDED' }) },
    'invalid_response',
  ],
  ['deadline after garbage messages', { timedOut: true, sawMalformedMessages: true }, 'invalid_response'],
  ['connection reset mid-answer', { error: fetchFailed('ECONNRESET'), lastStatus: 200 }, 'invalid_response'],
  [
    'SseError with no status',
    { transport: 'sse', error: err('SSE stream broke', { name: 'SseError' }) },
    'invalid_response',
  ],
  [
    'stdio closed after garbage',
    { transport: 'stdio', sawMalformedMessages: true, error: err('Connection closed', { code: 'CONNECTION_CLOSED' }) },
    'invalid_response',
  ],
  ['prober validation error', { error: new McpwatchError('invalid_response', 'bad') }, 'invalid_response'],
  // response_too_large
  [
    'body grew past the limit',
    { tooLarge: true, error: err('JSON parse failed', { name: 'SyntaxError' }) },
    'response_too_large',
  ],
  [
    'limit error in the chain',
    {
      error: err('wrapped', {
        cause: new McpwatchError('response_too_large', 'response body exceeded 1024 bytes'),
      }),
    },
    'response_too_large',
  ],
  ['413', { error: err('Payload Too Large', { status: 413 }) }, 'response_too_large'],
  // assertion
  [
    'expect failed',
    {
      phase: 'tools_list',
      error: new McpwatchError('assertion', 'expect.min_tools: 2 tools'),
    },
    'assertion',
  ],
  [
    'canary failed, assertion beats the status seen',
    { phase: 'tool_call', lastStatus: 200, error: new McpwatchError('assertion', 'canary_text') },
    'assertion',
  ],
  // internal
  ['unknown error', { error: new Error('something odd') }, 'internal'],
  ['a thrown string', { error: 'not even an Error' }, 'internal'],
  // Our codes are types, not strings: an SDK or server error that happens to carry one of our
  // code names as a string is classified by its own evidence.
  ['a foreign error with our code as a string', { error: err('odd', { code: 'assertion' }) }, 'internal'],
  [
    'unreadable credentials file',
    { error: new McpwatchError('config', 'authorization.credentials_file: cannot read') },
    'internal',
  ],
];

for (const [name, input, expected] of cases) {
  test(`classify: ${name} -> ${expected}`, () => {
    assert.equal(classifyError({ ...base, ...input }), expected);
  });
}

test('the table covers every reason of the closed set', () => {
  const covered = new Set(cases.map(([, , r]) => r));
  assert.deepEqual(
    FAILURE_REASONS.filter((r) => !covered.has(r)),
    [],
  );
});

test('classify is pure: same input, same reason; never throws on odd input', () => {
  for (const [, input, expected] of cases) {
    const full = { ...base, ...input };
    assert.equal(classifyError(full), classifyError(full));
    assert.equal(classifyError(full), expected);
  }
  const cyclic: { cause?: unknown; message: string } = { message: 'cycle' };
  cyclic.cause = cyclic;
  assert.equal(classifyError({ ...base, error: cyclic }), 'internal');
  assert.equal(classifyError({ ...base, error: null }), 'internal');
  assert.equal(classifyError({ ...base, error: undefined }), 'internal');
});

test('errorChain walks causes and AggregateError members, bounded', () => {
  const inner = err('inner', { code: 'ECONNREFUSED' });
  const agg = new AggregateError([err('a'), inner], 'all failed');
  const chain = errorChain(new TypeError('fetch failed', { cause: agg }));
  assert.ok(chain.includes(inner));
  let deep: Error = new Error('0');
  for (let i = 1; i < 100; i++) deep = new Error(String(i), { cause: deep });
  assert.ok(errorChain(deep).length <= 16);
});
