/**
 * Every way a probe fails, against real misbehaving servers on 127.0.0.1: each case asserts the
 * reason label AND that the probe ended within its timeout plus the close deadline. Slow cases
 * (the ones that must wait for the deadline) run concurrently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedPort } from '../fixtures/net.js';
import {
  startMalformedJsonServer,
  startSilentTcpServer,
  startSseNoEndpointServer,
  startStatusServer,
  startUnauthorizedServer,
} from '../fixtures/raw-servers.js';
import {
  startStatefulServer,
  startToolsListErrorServer,
  startUnsupportedVersionServer,
} from '../fixtures/sdk-servers.js';
import { target } from '../fixtures/targets.js';
import { assertFailure, eventually, explain, timedProbe } from '../fixtures/probe-helpers.js';
import type { FailureReason } from '../../src/probe/types.js';

/** Short enough to keep the suite fast, long enough that a loaded machine answers real servers. */
const DEADLINE = '2s';
/** For cases that fail on their own: the deadline is not the point, only an upper bound. */
const GENEROUS = '10s';

test('connection refused -> connect', async () => {
  const port = await refusedPort();
  const t = target(`name: refused\nurl: http://127.0.0.1:${port}/mcp\ntimeout: ${GENEROUS}`);
  const r = await timedProbe(t);
  assertFailure(r, t, 'connect');
  assert.equal(r.result.httpStatus, 0);
  assert.match(r.result.message ?? '', /ECONNREFUSED/);
});

test('unresolvable host -> dns', async () => {
  const t = target(`name: nxdomain\nurl: http://nonexistent.invalid/mcp\ntimeout: ${GENEROUS}`);
  const r = await timedProbe(t);
  assertFailure(r, t, 'dns');
  assert.equal(r.result.httpStatus, 0);
});

test('servers that never answer time out on the deadline and leave no socket open', async () => {
  const [silent, sse] = await Promise.all([startSilentTcpServer(), startSseNoEndpointServer()]);
  try {
    const silentTarget = target(`name: silent\nurl: ${silent.url}\ntimeout: ${DEADLINE}`);
    const sseTarget = target(`name: sse-no-endpoint\nurl: ${sse.url}\ntransport: sse\ntimeout: ${DEADLINE}`);
    const [a, b] = await Promise.all([timedProbe(silentTarget), timedProbe(sseTarget)]);

    assertFailure(a, silentTarget, 'timeout');
    assert.ok(silent.accepted() >= 1, 'the probe did connect');
    assert.ok(a.wallMs >= 1900, `a timeout waits for the deadline (${a.wallMs.toFixed(0)}ms)`);

    assertFailure(b, sseTarget, 'timeout');
    assert.deepEqual(sse.requests(), ['GET /sse'], 'only the event-stream GET was made');
    assert.equal(b.result.httpStatus, 200);

    assert.ok(
      await eventually(() => silent.openConnections() === 0),
      `silent server still has ${silent.openConnections()} sockets from the probe`,
    );
    assert.ok(
      await eventually(() => sse.openConnections() === 0),
      `SSE server still has ${sse.openConnections()} sockets from the probe`,
    );
  } finally {
    await Promise.all([silent.close(), sse.close()]);
  }
});

test('HTTP errors: 500 -> http_status, 401 -> auth, malformed JSON -> invalid_response', async () => {
  const [s500, s401, bad] = await Promise.all([
    startStatusServer(500),
    startUnauthorizedServer(),
    startMalformedJsonServer(),
  ]);
  try {
    const cases: Array<[typeof s500, FailureReason, number, string]> = [
      [s500, 'http_status', 500, 'streamable-http'],
      [s401, 'auth', 401, 'streamable-http'],
      [bad, 'invalid_response', 200, 'streamable-http'],
    ];
    await Promise.all(
      cases.map(async ([fixture, reason, status, transport], i) => {
        const t = target(`name: http-${i}\nurl: ${fixture.url}\ntransport: ${transport}\ntimeout: ${GENEROUS}`);
        const r = await timedProbe(t);
        assertFailure(r, t, reason);
        assert.equal(r.result.httpStatus, status, explain(r.result));
        assert.ok(await eventually(() => fixture.openConnections() === 0), 'no socket left open');
      }),
    );
  } finally {
    await Promise.all([s500.close(), s401.close(), bad.close()]);
  }
});

test('transport auto does not mistake a 500 or 401 for "no Streamable HTTP here"', async () => {
  const [s500, s401] = await Promise.all([startStatusServer(500), startUnauthorizedServer()]);
  try {
    const t500 = target(`name: auto-500\nurl: ${s500.url}\ntimeout: ${GENEROUS}`);
    const t401 = target(`name: auto-401\nurl: ${s401.url}\ntimeout: ${GENEROUS}`);
    const [a, b] = await Promise.all([timedProbe(t500), timedProbe(t401)]);
    assertFailure(a, t500, 'http_status');
    assertFailure(b, t401, 'auth');
    assert.ok(!s500.requests().some((r) => r.startsWith('GET')), `no SSE fallback: ${s500.requests().join(', ')}`);
  } finally {
    await Promise.all([s500.close(), s401.close()]);
  }
});

test('unsupported protocol version -> unsupported_version', async () => {
  const old = await startUnsupportedVersionServer('2020-01-01');
  try {
    const t = target(`name: old\nurl: ${old.url}\ntimeout: ${GENEROUS}`);
    const r = await timedProbe(t);
    assertFailure(r, t, 'unsupported_version');
    assert.match(r.result.message ?? '', /2020-01-01/);
  } finally {
    await old.close();
  }
});

test('JSON-RPC error on tools/list -> protocol_error, the handshake still reported', async () => {
  const broken = await startToolsListErrorServer(-32603, 'tool registry unavailable');
  try {
    const t = target(`name: list-error\nurl: ${broken.url}\ntimeout: ${GENEROUS}`);
    const r = await timedProbe(t);
    assertFailure(r, t, 'protocol_error');
    assert.equal(r.result.server?.name, 'broken-list-fixture');
    const list = r.result.operations.find((o) => o.method === 'tools/list');
    assert.equal(list?.errorType, '-32603', JSON.stringify(r.result.operations));
    assert.match(r.result.message ?? '', /tool registry unavailable/);
  } finally {
    await broken.close();
  }
});

test('failed expect -> assertion, naming the failing check', async () => {
  const server = await startStatefulServer();
  try {
    const tooFew = target(`name: expect-min\nurl: ${server.url}\ntimeout: ${GENEROUS}\nexpect: { min_tools: 50 }`);
    const missing = target(
      `name: expect-tools\nurl: ${server.url}\ntimeout: ${GENEROUS}\nexpect: { min_tools: 1, tools: [echo, search_records] }`,
    );
    const version = target(
      `name: expect-version\nurl: ${server.url}\ntimeout: ${GENEROUS}\nexpect: { protocol_versions: ["2026-07-28"] }`,
    );
    const [a, b, c] = await Promise.all([timedProbe(tooFew), timedProbe(missing), timedProbe(version)]);

    assertFailure(a, tooFew, 'assertion');
    assert.deepEqual(
      a.result.checks.map((x) => [x.name, x.ok]),
      [['min_tools', false]],
    );
    assert.match(a.result.message ?? '', /min_tools/);
    assert.equal(a.result.tools?.length, 2, 'the tool list is still reported');

    assertFailure(b, missing, 'assertion');
    assert.deepEqual(
      b.result.checks.map((x) => [x.name, x.ok]),
      [
        ['min_tools', true],
        ['tools', false],
      ],
    );
    assert.match(b.result.checks[1]?.message ?? '', /search_records/);
    assert.doesNotMatch(b.result.checks[1]?.message ?? '', /echo/, 'only the missing tool is named');

    assertFailure(c, version, 'assertion');
    assert.deepEqual(
      c.result.checks.map((x) => [x.name, x.ok]),
      [['protocol_versions', false]],
    );

    assert.equal(server.sessions(), 0, 'sessions are ended after a failed check too');
  } finally {
    await server.close();
  }
});

test('an aborted probe ends promptly and never rejects', async () => {
  const silent = await startSilentTcpServer();
  try {
    const t = target(`name: aborted\nurl: ${silent.url}\ntimeout: ${GENEROUS}`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutdown')), 300);
    const r = await timedProbe(t, { signal: ac.signal });
    assert.equal(r.result.success, false);
    assert.ok(r.wallMs < 300 + 1500 + 1000, `aborted probe took ${r.wallMs.toFixed(0)}ms`);
  } finally {
    await silent.close();
  }
});

test('an unreadable credentials_file is a clean internal failure, not a crash', async () => {
  const server = await startStatefulServer();
  try {
    const t = target(
      `name: creds\nurl: ${server.url}\ntimeout: ${GENEROUS}\nauthorization: { credentials_file: /nonexistent/mcpwatch-token }`,
    );
    const r = await timedProbe(t);
    assertFailure(r, t, 'internal');
    assert.match(r.result.message ?? '', /credentials_file/);
  } finally {
    await server.close();
  }
});
