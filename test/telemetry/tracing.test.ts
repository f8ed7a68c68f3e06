/**
 * Probe traces end to end: the real OTLP/HTTP exporter sends to a real receiver on loopback,
 * a real MCP server records the trace context it got in `params._meta`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probe } from '../../src/probe/prober.js';
import { setupTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { startStatusServer } from '../fixtures/raw-servers.js';
import { refusedPort } from '../fixtures/net.js';
import { targetOf } from '../fixtures/targets.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';
import { startRecordingServer } from '../fixtures/trace-recording-server.js';
import type { ProbeResult } from '../../src/probe/types.js';

/** Tracing configured explicitly (the test runner sets OTEL_SDK_DISABLED for everyone else). */
export function tracingTo(receiver: OtlpReceiver): Tracing {
  return setupTracing({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
  });
}

/**
 * Waits until the receiver holds the root span of `traceId` and one span per operation of the
 * probe (batches can arrive out of order under load), and returns that trace's spans.
 */
async function traceOf(receiver: OtlpReceiver, tracing: Tracing, result: ProbeResult): Promise<ReceivedSpan[]> {
  const traceId = result.traceId;
  assert.ok(traceId, 'the probe result carries its trace id');
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    await tracing.flush(1000);
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (spans.some((s) => s.parentSpanId === '') && spans.length >= 1 + result.operations.length) return spans;
    await new Promise((r) => setTimeout(r, 20));
  }
  const got = receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name);
  assert.fail(
    `trace ${traceId}: expected a root and ${result.operations.length} operation spans, received [${got.join(', ')}]`,
  );
}

function rootOf(spans: ReceivedSpan[]): ReceivedSpan {
  const roots = spans.filter((s) => s.parentSpanId === '');
  assert.equal(roots.length, 1, 'exactly one root span per probe');
  return roots[0] as ReceivedSpan;
}

function childNamed(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `span "${name}" among: ${spans.map((x) => x.name).join(', ')}`);
  return s;
}

const ERROR = 2; // OTLP STATUS_CODE_ERROR

test('a successful probe is one trace: root span, a child per MCP operation, semconv attributes, context in _meta', async () => {
  const receiver = await startOtlpReceiver();
  const server = await startRecordingServer();
  const tracing = tracingTo(receiver);
  try {
    const secret = 's3cr3t-token-value';
    const t = targetOf({
      name: 'fixture',
      url: `${server.url}?api_key=${secret}`,
      headers: { 'X-Api-Key': secret },
      canary: { tool: 'echo', arguments: { message: 'hi' }, expect_text: 'echo: hi' },
    });
    const r: ProbeResult = await probe(t, { tracer: tracing.hooks });
    assert.equal(r.success, true, r.log.join('\n'));
    const spans = await traceOf(receiver, tracing, r);
    const root = rootOf(spans);
    const port = Number(new URL(server.url).port);

    assert.equal(root.name, 'probe fixture');
    assert.equal(root.attributes['mcpwatch.target'], 'fixture');
    assert.equal(root.attributes['server.address'], '127.0.0.1');
    assert.equal(root.attributes['server.port'], port);
    assert.equal(root.attributes['network.transport'], 'tcp');
    assert.equal(root.attributes['mcp.protocol.version'], r.server?.protocolVersion);
    assert.equal(root.attributes['error.type'], undefined);
    assert.notEqual(root.status.code, ERROR);
    assert.equal(root.resource['service.name'], 'mcpwatch');
    assert.equal(root.resource['deployment.environment.name'], 'test');

    const names = spans
      .filter((s) => s !== root)
      .map((s) => s.name)
      .sort();
    assert.deepEqual(names, ['initialize fixture', 'tools/call fixture', 'tools/list fixture']);
    for (const s of spans.filter((x) => x !== root)) {
      assert.equal(s.parentSpanId, root.spanId, `${s.name} is a child of the probe span`);
      assert.equal(s.kind, 3, `${s.name} is a CLIENT span`);
      assert.equal(s.attributes['mcp.method.name'], s.name.split(' ')[0]);
      assert.equal(s.attributes['mcp.protocol.version'], r.server?.protocolVersion);
      assert.equal(s.attributes['network.transport'], 'tcp');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], port);
      assert.match(String(s.attributes['mcp.session.id']), /^[0-9a-f-]{36}$/, `${s.name} carries the session id`);
      assert.ok(s.attributes['jsonrpc.request.id'] !== undefined, `${s.name} carries its request id`);
      assert.equal(s.attributes['error.type'], undefined);
    }
    const call = childNamed(spans, 'tools/call fixture');
    assert.equal(call.attributes['gen_ai.tool.name'], 'echo');
    const handshake = childNamed(spans, 'initialize fixture');
    assert.deepEqual(
      handshake.events.map((e) => e.name),
      ['dns', 'connect'],
      'connection phases as events (no TLS on http)',
    );
    assert.equal(typeof handshake.events[1]?.attributes['mcpwatch.phase.duration_seconds'], 'number');

    // The server saw each request with the context of the operation's span.
    // (With no era learned yet, the handshake tries server/discover before initialize.)
    assert.deepEqual(
      server.received.map((q) => q.method).filter((m) => m !== 'server/discover'),
      ['initialize', 'tools/list', 'tools/call'],
    );
    for (const q of server.received) {
      const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(q.traceparent ?? '');
      assert.ok(m, `${q.method} carried a sampled traceparent, got ${q.traceparent}`);
      assert.equal(m[1], r.traceId, `${q.method}: the server's trace id is the probe's`);
      const span = childNamed(spans, `${q.method === 'server/discover' ? 'initialize' : q.method} fixture`);
      assert.equal(m[2], span.spanId, `${q.method}: parent is the operation's span`);
      if (q.method !== 'server/discover') assert.equal(span.attributes['jsonrpc.request.id'], String(q.id));
    }
    // Exemplar ids on the operation records.
    for (const op of r.operations) {
      assert.equal(op.traceId, r.traceId);
      assert.equal(op.spanId, childNamed(spans, `${op.method} fixture`).spanId);
    }
    assert.ok(!JSON.stringify(receiver.spans).includes(secret), 'no secret from the URL or headers in any span');
  } finally {
    await tracing.shutdown(2000);
    await server.close();
    await receiver.close();
  }
});

test('failed probes: the root span and the failing operation carry error.type = the failure reason', async () => {
  const receiver = await startOtlpReceiver();
  const tracing = tracingTo(receiver);
  const recording = await startRecordingServer();
  const status500 = await startStatusServer(500);
  const closed = await refusedPort();
  try {
    const cases = [
      {
        reason: 'connect',
        t: targetOf({
          name: 'refused',
          url: `http://127.0.0.1:${closed}/mcp`,
          transport: 'streamable-http',
          timeout: '2s',
        }),
        failing: 'initialize',
      },
      {
        reason: 'http_status',
        t: targetOf({ name: 'status', url: status500.url, transport: 'streamable-http', timeout: '2s' }),
        failing: 'initialize',
      },
      {
        reason: 'assertion',
        t: targetOf({ name: 'expect', url: recording.url, expect: { tools: ['no-such-tool'] } }),
        failing: undefined,
      },
    ] as const;
    for (const c of cases) {
      const r = await probe(c.t, { tracer: tracing.hooks });
      assert.equal(r.reason, c.reason, r.log.join('\n'));
      const spans = await traceOf(receiver, tracing, r);
      const root = rootOf(spans);
      assert.equal(root.name, `probe ${c.t.name}`);
      assert.equal(root.attributes['error.type'], c.reason, `${c.reason}: root error.type`);
      assert.equal(root.status.code, ERROR, `${c.reason}: root status is ERROR`);
      assert.match(String(root.status.message), new RegExp(`^${c.reason}: `));
      if (c.failing) {
        const op = childNamed(spans, `${c.failing} ${c.t.name}`);
        assert.equal(op.attributes['error.type'], c.reason, `${c.reason}: operation error.type`);
        assert.equal(op.status.code, ERROR);
      } else {
        // An assertion fails after the operations succeeded: they carry no error.
        const list = childNamed(spans, `tools/list ${c.t.name}`);
        assert.equal(list.attributes['error.type'], undefined);
      }
    }
  } finally {
    await tracing.shutdown(2000);
    await Promise.all([recording.close(), status500.close(), receiver.close()]);
  }
});

test('no tracer: requests carry no _meta trace context and results no trace id', async () => {
  const server = await startRecordingServer();
  try {
    const r = await probe(targetOf({ name: 'plain', url: server.url }));
    assert.equal(r.success, true, r.log.join('\n'));
    assert.equal(r.traceId, undefined);
    assert.ok(server.received.length >= 2);
    assert.ok(server.received.every((q) => q.traceparent === undefined));
  } finally {
    await server.close();
  }
});

test('a sampled-out probe propagates an unsampled context and exports nothing', async () => {
  const receiver = await startOtlpReceiver();
  const server = await startRecordingServer();
  const tracing = setupTracing({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'always_off',
  });
  try {
    assert.equal(tracing.enabled, true, 'an endpoint alone turns tracing on');
    const r = await probe(targetOf({ name: 'unsampled', url: server.url }), { tracer: tracing.hooks });
    assert.equal(r.success, true);
    assert.equal(r.traceId, undefined);
    assert.ok(r.operations.every((o) => o.traceId === undefined));
    assert.ok(server.received.every((q) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/.test(q.traceparent ?? '')));
    await tracing.flush(1000);
    assert.equal(receiver.spans.length, 0);
  } finally {
    await tracing.shutdown(2000);
    await server.close();
    await receiver.close();
  }
});
