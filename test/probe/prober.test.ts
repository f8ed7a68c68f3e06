/**
 * The prober against real servers on 127.0.0.1: server-everything (the reference server, as a
 * child process) over Streamable HTTP and legacy SSE, `transport: auto`, the canary, and the
 * SDK v2 fixture servers (stateful, stateless JSON, 2026-07-28-only, paged tool lists), plus what
 * a probe remembers between runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEverything, EVERYTHING } from '../fixtures/everything.js';
import {
  startHeaderParamServer,
  startModernOnlyServer,
  startPagingServer,
  startStatefulServer,
  startStatelessJsonServer,
  pagedToolNames,
  FIXTURE_SERVER,
  FIXTURE_TOOLS,
} from '../fixtures/sdk-servers.js';
import { target } from '../fixtures/targets.js';
import { assertSuccess, explain, timedProbe } from '../fixtures/probe-helpers.js';
import type { Fixture } from '../fixtures/net.js';
import type { ProbeMemory, ProbeResult } from '../../src/probe/types.js';

let http: Fixture;
let sse: Fixture;

before(async () => {
  [http, sse] = await Promise.all([startEverything('streamableHttp'), startEverything('sse')]);
});
after(async () => {
  await Promise.all([http?.close(), sse?.close()]);
});

function assertEverything(r: ProbeResult, transport: 'streamable-http' | 'sse'): void {
  assertSuccess(r);
  assert.equal(r.server?.name, EVERYTHING.name);
  assert.equal(r.server?.version, EVERYTHING.version);
  assert.equal(r.server?.protocolVersion, EVERYTHING.protocolVersion);
  assert.equal(r.server?.transport, transport);
  assert.equal(r.server?.era, 'legacy');
  assert.equal(r.tools?.length, EVERYTHING.tools, explain(r));
  assert.ok(r.tools?.some((t) => t.name === 'echo'));
  assert.match(r.toolListHash ?? '', /^[0-9a-f]{16}$/);
  // The last request of a legacy SSE probe is a POST answered 202 (the answer comes on the stream).
  assert.equal(r.httpStatus, transport === 'sse' ? 202 : 200);
  for (const phase of ['connect', 'handshake', 'tools_list', 'close'] as const) {
    assert.equal(typeof r.phases[phase], 'number', `phase ${phase} timed: ${JSON.stringify(r.phases)}`);
  }
  // Only successful operations here (a `transport: auto` fallback adds the failed attempt's).
  assert.deepEqual(
    r.operations.filter((o) => o.errorType === undefined).map((o) => o.method),
    ['initialize', 'tools/list'],
  );
}

test('server-everything over Streamable HTTP', async () => {
  const { result } = await timedProbe(
    target(`name: everything-http\nurl: ${http.url}\ntransport: streamable-http\ntimeout: 15s`),
  );
  assertEverything(result, 'streamable-http');
});

test('server-everything over legacy HTTP+SSE', async () => {
  const { result } = await timedProbe(target(`name: everything-sse\nurl: ${sse.url}\ntransport: sse\ntimeout: 15s`));
  assertEverything(result, 'sse');
});

test('transport auto against an SSE-only URL falls back to legacy SSE and remembers it', async () => {
  const t = target(`name: everything-auto\nurl: ${sse.url}\ntimeout: 15s`);
  assert.equal(t.transport, 'auto');
  const memory: ProbeMemory = {};
  const first = await timedProbe(t, { memory });
  assertEverything(first.result, 'sse');
  assert.match(first.result.log.join('\n'), /trying legacy sse/);
  const failedAttempt = first.result.operations.filter((o) => o.errorType !== undefined);
  assert.equal(
    failedAttempt.length,
    1,
    `the Streamable HTTP attempt is recorded as a failed operation: ${JSON.stringify(first.result.operations)}`,
  );
  assert.equal(memory.transport, 'sse');
  const second = await timedProbe(t, { memory });
  assertEverything(second.result, 'sse');
  assert.doesNotMatch(second.result.log.join('\n'), /trying legacy sse/, 'the second probe goes straight to SSE');
  assert.equal(second.result.operations.filter((o) => o.errorType !== undefined).length, 0);
});

test('transport auto against a Streamable HTTP URL stays on Streamable HTTP', async () => {
  const { result } = await timedProbe(target(`name: everything-auto-http\nurl: ${http.url}\ntimeout: 15s`));
  assertEverything(result, 'streamable-http');
});

test('canary: echo with the expected text succeeds and is timed', async () => {
  const { result } = await timedProbe(
    target(
      `name: canary-ok\nurl: ${http.url}\ntransport: streamable-http\ntimeout: 15s\ncanary: { tool: echo, arguments: { message: mcpwatch-canary }, expect_text: "Echo: mcpwatch-canary" }`,
    ),
  );
  assertSuccess(result);
  assert.equal(typeof result.phases.tool_call, 'number');
  const call = result.operations.find((o) => o.method === 'tools/call');
  assert.deepEqual({ tool: call?.toolName, error: call?.errorType }, { tool: 'echo', error: undefined });
  assert.deepEqual(
    result.checks.map((c) => [c.name, c.ok]),
    [
      ['canary_success', true],
      ['canary_text', true],
    ],
  );
});

test('canary: a wrong expect_text fails with assertion and names the check', async () => {
  const t = target(
    `name: canary-bad\nurl: ${http.url}\ntransport: streamable-http\ntimeout: 15s\ncanary: { tool: echo, arguments: { message: hi }, expect_text: "something else" }`,
  );
  const { result } = await timedProbe(t);
  assert.equal(result.success, false, explain(result));
  assert.equal(result.reason, 'assertion', explain(result));
  assert.deepEqual(
    result.checks.filter((c) => !c.ok).map((c) => c.name),
    ['canary_text'],
  );
  assert.match(result.message ?? '', /canary_text/);
});

test('canary can be skipped for one probe', async () => {
  const t = target(
    `name: canary-skip\nurl: ${http.url}\ntransport: streamable-http\ntimeout: 15s\ncanary: { tool: echo, arguments: { message: hi }, expect_text: "never" }`,
  );
  const { result } = await timedProbe(t, { canary: false });
  assertSuccess(result);
  assert.equal(result.phases.tool_call, undefined);
});

test('expect: passing checks are reported one by one', async () => {
  const t = target(
    `name: expect-ok\nurl: ${http.url}\ntimeout: 15s\nexpect: { min_tools: 13, tools: [echo, get-sum], protocol_versions: ["2025-11-25"] }`,
  );
  const { result } = await timedProbe(t);
  assertSuccess(result);
  assert.deepEqual(
    result.checks.map((c) => [c.name, c.ok]),
    [
      ['min_tools', true],
      ['tools', true],
      ['protocol_versions', true],
    ],
  );
});

test('SDK fixtures: stateful (session ended with DELETE) and stateless JSON servers', async () => {
  const [stateful, stateless] = await Promise.all([startStatefulServer(), startStatelessJsonServer()]);
  try {
    const [a, b] = await Promise.all([
      timedProbe(target(`name: stateful\nurl: ${stateful.url}\ntransport: streamable-http\ntimeout: 15s`)),
      timedProbe(target(`name: stateless\nurl: ${stateless.url}\ntransport: streamable-http\ntimeout: 15s`)),
    ]);
    for (const { result } of [a, b]) {
      assertSuccess(result);
      assert.deepEqual(
        {
          name: result.server?.name,
          version: result.server?.version,
          era: result.server?.era,
          protocol: result.server?.protocolVersion,
        },
        { name: FIXTURE_SERVER.name, version: FIXTURE_SERVER.version, era: 'legacy', protocol: '2025-11-25' },
      );
      assert.deepEqual(result.tools?.map((t) => t.name).sort(), [...FIXTURE_TOOLS].sort());
    }
    assert.equal(stateful.deletes(), 1, 'the probe ended its session with DELETE');
    assert.equal(stateful.sessions(), 0, 'no session left open on the server');
  } finally {
    await Promise.all([stateful.close(), stateless.close()]);
  }
});

test('a 2026-07-28-only server (legacy initialize rejected) is probed in the modern era', async () => {
  const modern = await startModernOnlyServer();
  try {
    const { result } = await timedProbe(target(`name: modern\nurl: ${modern.url}\ntimeout: 15s`));
    assertSuccess(result);
    assert.equal(result.server?.protocolVersion, '2026-07-28');
    assert.equal(result.server?.era, 'modern');
    assert.equal(result.server?.name, FIXTURE_SERVER.name);
    assert.deepEqual(
      result.operations.map((o) => o.method),
      ['server/discover', 'tools/list'],
    );
    assert.equal(result.tools?.length, FIXTURE_TOOLS.length);
  } finally {
    await modern.close();
  }
});

test('a tool list over several pages is read in full', async () => {
  const paging = await startPagingServer(25, 7);
  try {
    const { result } = await timedProbe(
      target(`name: paging\nurl: ${paging.url}\ntimeout: 15s\nexpect: { min_tools: 25, tools: [tool-00, tool-24] }`),
    );
    assertSuccess(result);
    assert.deepEqual(
      result.tools?.map((t) => t.name),
      pagedToolNames(25),
    );
    assert.ok(paging.pagesServed() >= 4, `4 pages of 7 for 25 tools, served ${paging.pagesServed()}`);
  } finally {
    await paging.close();
  }
});

test('a tool list longer than max_tool_pages fails instead of paging forever', async () => {
  const paging = await startPagingServer(25, 2);
  try {
    const { result } = await timedProbe(
      target(`name: paging-cap\nurl: ${paging.url}\ntimeout: 15s\nmax_tool_pages: 3`),
    );
    assert.equal(result.success, false, explain(result));
    assert.equal(result.reason, 'invalid_response', explain(result));
    assert.ok(paging.pagesServed() <= 4, `stopped after the cap, served ${paging.pagesServed()}`);
  } finally {
    await paging.close();
  }
});

test('memory: the second probe of a handshake server skips server/discover', async () => {
  const stateful = await startStatefulServer();
  try {
    const t = target(`name: memory-legacy\nurl: ${stateful.url}\ntimeout: 15s`);
    const memory: ProbeMemory = {};
    const first = await timedProbe(t, { memory });
    assertSuccess(first.result);
    const { lastToolList, ...learned } = memory;
    assert.deepEqual(learned, { transport: 'streamable-http', era: 'legacy', protocolVersion: '2025-11-25' });
    // The tool list is remembered for drift (the scheduler no longer keeps it).
    assert.ok((lastToolList?.tools.length ?? 0) > 0);
    assert.match(first.result.log.join('\n'), /handshake \(negotiating era\)/);
    const discoversBefore = stateful.sessionlessMethods().filter((m) => m === 'server/discover').length;
    assert.ok(
      discoversBefore >= 1,
      `the first probe tried server/discover: ${stateful.sessionlessMethods().join(', ')}`,
    );

    const second = await timedProbe(t, { memory });
    assertSuccess(second.result);
    assert.match(second.result.log.join('\n'), /handshake \(initialize\)/);
    const discoversAfter = stateful.sessionlessMethods().filter((m) => m === 'server/discover').length;
    assert.equal(discoversAfter, discoversBefore, 'no server/discover on the second probe');
    assert.equal(stateful.sessionlessMethods().at(-1), 'initialize');
  } finally {
    await stateful.close();
  }
});

test('memory: the second probe of a 2026-07-28 server pins the version it learned', async () => {
  const modern = await startModernOnlyServer();
  try {
    const t = target(`name: memory-modern\nurl: ${modern.url}\ntimeout: 15s`);
    const memory: ProbeMemory = {};
    assertSuccess((await timedProbe(t, { memory })).result);
    assert.deepEqual(
      { ...memory, lastToolList: undefined },
      { transport: 'streamable-http', era: 'modern', protocolVersion: '2026-07-28', lastToolList: undefined },
    );
    const second = (await timedProbe(t, { memory })).result;
    assertSuccess(second);
    assert.match(second.log.join('\n'), /handshake \(server\/discover\)/);
    assert.equal(second.server?.protocolVersion, '2026-07-28');
  } finally {
    await modern.close();
  }
});

test('memory is forgotten after a failure so the next probe re-learns', async () => {
  const stateful = await startStatefulServer();
  const url = stateful.url;
  const t = target(`name: memory-reset\nurl: ${url}\ntimeout: 5s`);
  const memory: ProbeMemory = {};
  assertSuccess((await timedProbe(t, { memory })).result);
  await stateful.close();
  const failed = (await timedProbe(t, { memory })).result;
  assert.equal(failed.reason, 'connect', explain(failed));
  assert.deepEqual({ ...memory, lastToolList: undefined }, { lastToolList: undefined });
});

test('the 2026-07-28-only fixture really rejects initialize: a remembered legacy era fails, then is forgotten', async () => {
  const modern = await startModernOnlyServer();
  try {
    const t = target(`name: modern-reject\nurl: ${modern.url}\ntimeout: 15s`);
    const memory: ProbeMemory = { transport: 'streamable-http', era: 'legacy', protocolVersion: '2025-11-25' };
    const failed = (await timedProbe(t, { memory })).result;
    assert.equal(failed.reason, 'unsupported_version', explain(failed));
    assert.equal(failed.httpStatus, 400);
    // Only the last successful tool list (for drift) outlives a failure.
    assert.deepEqual(
      { ...memory, lastToolList: undefined },
      { lastToolList: undefined },
      'the era is re-learned after a failure',
    );
    const next = (await timedProbe(t, { memory })).result;
    assertSuccess(next);
    assert.equal(next.server?.protocolVersion, '2026-07-28');
  } finally {
    await modern.close();
  }
});

test('a tool with x-mcp-header: the canary mirrors Mcp-Param-* on the first tools/call, no refused request', async () => {
  const server = await startHeaderParamServer();
  try {
    const t = target(
      `name: regional\nurl: ${server.url}\ncanary: { tool: regional, arguments: { region: eu-west }, expect_text: in eu-west }`,
    );
    const memory: ProbeMemory = {};
    for (let i = 0; i < 2; i++) {
      const { result: r } = await timedProbe(t, { memory });
      assertSuccess(r);
      assert.deepEqual(
        server.requests(),
        Array.from({ length: i + 1 }, () => [
          'POST server/discover - 200',
          'POST tools/list - 200',
          'POST tools/call eu-west 200',
        ]).flat(),
        `probe ${i + 1}: exactly the requests of a conforming client\n${explain(r)}`,
      );
    }
  } finally {
    await server.close();
  }
});
