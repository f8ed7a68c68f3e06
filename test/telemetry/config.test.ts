/** The OTEL_* variables as the spec defines them, read from an env passed in. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingConfigFromEnv } from '../../src/telemetry/config.js';
import { setupTracing } from '../../src/telemetry/tracing.js';

test('tracing is off unless an exporter or an endpoint is configured', () => {
  assert.equal(tracingConfigFromEnv({}).enabled, false);
  assert.equal(tracingConfigFromEnv({ OTEL_SERVICE_NAME: 'x' }).enabled, false);
  assert.equal(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).enabled, true);
  assert.equal(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled, true);
  assert.equal(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).enabled, true);
  assert.equal(
    tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).enabled,
    false,
  );
  assert.equal(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).enabled, false);
  assert.equal(setupTracing({}).enabled, false);
});

test('endpoints: the base one gets /v1/traces, the traces one is used as is', () => {
  assert.equal(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).url, 'http://localhost:4318/v1/traces');
  assert.equal(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).url, 'http://c:4318/v1/traces');
  assert.equal(
    tracingConfigFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t/ingest',
    }).url,
    'https://t/ingest',
  );
});

test('protocol, headers, resource, sampler and batch limits', () => {
  const c = tracingConfigFromEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a%20b,authorization=Bearer%20t',
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,k8s.namespace.name=mcp',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_BSP_MAX_QUEUE_SIZE: '100',
  });
  assert.equal(c.protocol, 'http/json');
  assert.deepEqual(c.headers, { 'x-tenant': 'a b', authorization: 'Bearer t' });
  assert.equal(c.serviceName, 'ignored', 'service.name from OTEL_RESOURCE_ATTRIBUTES when OTEL_SERVICE_NAME is unset');
  assert.equal(c.resourceAttributes['k8s.namespace.name'], 'mcp');
  assert.equal(c.sampler, 'parentbased_traceidratio');
  assert.equal(c.samplerRatio, 0.25);
  assert.equal(c.maxQueueSize, 100);
  assert.equal(c.maxExportBatchSize, 100, 'a batch never exceeds the queue');
  assert.deepEqual(c.warnings, []);
  assert.equal(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).serviceName, 'mcpwatch');
  assert.equal(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).protocol, 'http/protobuf');
});

test('unsupported values warn and never throw; grpc turns tracing off with a reason', () => {
  const g = tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(g.enabled, false);
  assert.match(g.warnings.join('\n'), /grpc" is not supported/);
  const w = tracingConfigFromEnv({
    OTEL_TRACES_EXPORTER: 'otlp,zipkin',
    OTEL_TRACES_SAMPLER: 'sometimes',
    OTEL_TRACES_SAMPLER_ARG: '2',
    OTEL_BSP_MAX_QUEUE_SIZE: '-1',
  });
  assert.equal(w.enabled, true);
  assert.equal(w.sampler, 'parentbased_always_on');
  assert.equal(w.maxQueueSize, 2048);
  assert.equal(w.warnings.length, 3, w.warnings.join('\n'));
});

test('an empty OTEL_EXPORTER_OTLP_TRACES_TIMEOUT counts as unset: the general timeout applies', () => {
  const c = tracingConfigFromEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
  });
  assert.equal(c.exportTimeoutMs, 2500);
});
