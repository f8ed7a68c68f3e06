/**
 * Tracing inside the running sidecar: exemplars on `/metrics` (OpenMetrics only) that point at
 * exported traces, and a dead or stuck collector that neither slows probing nor holds shutdown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { probe } from '../../src/probe/prober.js';
import { startSidecar } from '../../src/sidecar.js';
import { setupTracing } from '../../src/telemetry/tracing.js';
import { refusedPort } from '../fixtures/net.js';
import { startStatelessJsonServer } from '../fixtures/sdk-servers.js';
import { targetOf } from '../fixtures/targets.js';
import { startOtlpReceiver } from '../fixtures/otlp-receiver.js';

const quiet = createLogger({ write: () => {} });

function configFor(url: string) {
  const text = `defaults:\n  interval: 1s\n  timeout: 900ms\ntargets:\n  - name: fixture\n    url: ${url}\n`;
  const { config } = parseConfig(text, {}, 'test');
  assert.ok(config);
  return config;
}

/** Exemplars of one histogram in an OpenMetrics body: trace and span ids. */
function exemplars(body: string, metric: string): Array<{ traceId: string; spanId: string }> {
  const out: Array<{ traceId: string; spanId: string }> = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`)) continue;
    const m = / # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} [0-9.e+-]+ [0-9.]+$/.exec(line);
    if (m) out.push({ traceId: m[1] as string, spanId: m[2] as string });
  }
  return out;
}

test('/metrics in OpenMetrics carries exemplars whose trace and span ids were exported; plain text has none', async () => {
  const receiver = await startOtlpReceiver();
  const server = await startStatelessJsonServer();
  const sidecar = await startSidecar({
    config: configFor(server.url),
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
    logger: quiet,
    listen: { host: '127.0.0.1', port: 0 },
    enableLifecycle: false,
    processMetrics: false,
  });
  const base = `http://127.0.0.1:${sidecar.address.port}`;
  try {
    let found: Array<{ traceId: string; spanId: string }> = [];
    let body = '';
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      const res = await fetch(`${base}/metrics`, {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      });
      assert.match(String(res.headers.get('content-type')), /application\/openmetrics-text/);
      body = await res.text();
      found = exemplars(body, 'mcp_client_operation_duration_seconds');
      const exported = new Set(receiver.spans.map((s) => `${s.traceId}/${s.spanId}`));
      if (found.length > 0 && found.every((e) => exported.has(`${e.traceId}/${e.spanId}`))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      found.length > 0,
      `exemplars in:\n${body
        .split('\n')
        .filter((l) => l.includes('client_operation'))
        .join('\n')}`,
    );
    for (const e of found) {
      const span = receiver.spans.find((s) => s.traceId === e.traceId && s.spanId === e.spanId);
      assert.ok(span, `exemplar ${e.traceId}/${e.spanId} names an exported span`);
      assert.match(span.name, /^(initialize|server\/discover|tools\/list) fixture$/);
      assert.ok(
        receiver.spans.some((s) => s.traceId === e.traceId && s.name === 'probe fixture'),
        'and its trace has the probe root',
      );
    }
    assert.ok(body.trimEnd().endsWith('# EOF'));

    const plain = await (await fetch(`${base}/metrics`)).text();
    assert.ok(plain.includes('mcp_client_operation_duration_seconds_bucket{'));
    assert.ok(!plain.includes(' # {'), 'the Prometheus text format has no exemplars');
  } finally {
    const t0 = performance.now();
    await sidecar.close();
    assert.ok(performance.now() - t0 < 5000, 'sidecar closes in bounded time with tracing on');
    await server.close();
    await receiver.close();
  }
});

for (const collector of ['closed port', 'receiver that never answers'] as const) {
  test(`collector at a ${collector}: probing keeps its rate, shutdown ends within its deadline`, async (ctx) => {
    const receiver = collector === 'closed port' ? undefined : await startOtlpReceiver('hang');
    const endpoint = receiver?.url ?? `http://127.0.0.1:${await refusedPort()}`;
    const server = await startStatelessJsonServer();
    const t = targetOf({ name: 'fast', url: server.url, transport: 'streamable-http' });
    const tracing = setupTracing({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Export often, with an export timeout longer than the probing and a tiny queue: exports
      // are in flight (or failing) during every probe, and spans beyond the queue are dropped.
      // (The exporter's retries keep the event loop alive until that timeout: keep it short here.)
      OTEL_BSP_SCHEDULE_DELAY: '10',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_BSP_MAX_QUEUE_SIZE: '16',
    });
    try {
      assert.equal(tracing.enabled, true);
      const n = 20;
      // Baseline: the same probes without tracing.
      let t0 = performance.now();
      for (let i = 0; i < n; i++) assert.equal((await probe(t)).success, true);
      const baselineMs = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const r = await probe(t, { tracer: tracing.hooks });
        assert.equal(r.success, true, r.log.join('\n'));
        assert.ok(r.traceId);
      }
      const tracedMs = performance.now() - t0;
      ctx.diagnostic(`${n} probes: untraced ${baselineMs.toFixed(0)}ms, traced ${tracedMs.toFixed(0)}ms`);
      // Generous against noise on 2 cores; a blocked probe would wait for an export timeout (3s).
      assert.ok(
        tracedMs < baselineMs * 3 + 1500,
        `${n} traced probes took ${tracedMs.toFixed(0)}ms, untraced ${baselineMs.toFixed(0)}ms`,
      );
      if (receiver) assert.ok(receiver.requests() >= 1, 'exports were in flight while probing');
    } finally {
      const t0 = performance.now();
      await tracing.shutdown(1500);
      const shutdownMs = performance.now() - t0;
      ctx.diagnostic(`tracing shutdown ${shutdownMs.toFixed(0)}ms`);
      assert.ok(shutdownMs < 2500, `tracing shutdown took ${shutdownMs.toFixed(0)}ms`);
      await server.close();
      await receiver?.close();
    }
  });
}
