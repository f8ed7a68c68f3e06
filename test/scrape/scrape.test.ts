/**
 * Scraping real HTTP servers that expose metrics: OTel semconv names (as OTel's Prometheus
 * exporter writes them), custom names with a mapping, and broken bodies. Asserts on the
 * registry's exposition text, as GET /metrics shows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { Recorder } from '../../src/metrics/recorder.js';
import { createScrapeAgent, scrapeOnce } from '../../src/scrape/scraper.js';
import { listenTracked, refusedPort } from '../fixtures/net.js';
import { targetOf } from '../fixtures/targets.js';
import type { ScrapeResult } from '../../src/scrape/types.js';

async function metricsServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const { port, close } = await listenTracked(createServer(handler));
  return { url: `http://127.0.0.1:${port}/metrics`, close };
}

async function scrape(url: string, internal: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const target = targetOf({
    name: 'srv',
    url: 'http://127.0.0.1:1/mcp',
    internal: { metrics_url: url, timeout: '2s', ...internal },
    ...extra,
  });
  const registry = new Registry();
  const recorder = new Recorder(registry);
  recorder.addTarget(target);
  const agent = createScrapeAgent(target, 2000);
  try {
    const result = await scrapeOnce(target, agent);
    recorder.recordScrape(result);
    return { result, text: await registry.metrics() };
  } finally {
    await agent.destroy().catch(() => {});
  }
}

const SEMCONV = `# HELP mcp_server_operation_duration_seconds MCP server operation duration
# TYPE mcp_server_operation_duration_seconds histogram
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="",otel_scope_name="a",le="0.1"} 3
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="",otel_scope_name="a",le="1"} 5
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="",otel_scope_name="a",le="+Inf"} 6
mcp_server_operation_duration_seconds_sum{mcp_method_name="tools/call",error_type="",otel_scope_name="a"} 4.25
mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="",otel_scope_name="a"} 6
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="",otel_scope_name="b",le="0.1"} 1
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="",otel_scope_name="b",le="1"} 1
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="",otel_scope_name="b",le="+Inf"} 1
mcp_server_operation_duration_seconds_sum{mcp_method_name="tools/call",error_type="",otel_scope_name="b"} 0.05
mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="",otel_scope_name="b"} 1
mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",error_type="tool_error",le="+Inf"} 2
mcp_server_operation_duration_seconds_sum{mcp_method_name="tools/call",error_type="tool_error"} 0.5
mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="tool_error"} 2
# TYPE mcp_server_session_duration_seconds histogram
mcp_server_session_duration_seconds_bucket{le="60"} 4
mcp_server_session_duration_seconds_bucket{le="+Inf"} 5
mcp_server_session_duration_seconds_sum 400
mcp_server_session_duration_seconds_count 5
# TYPE mcp_server_sessions_active gauge
mcp_server_sessions_active{otel_scope_name="a"} 7
# TYPE mcp_server_tool_calls_active gauge
mcp_server_tool_calls_active 2
# TYPE mcp_server_session_oldest_age_seconds gauge
mcp_server_session_oldest_age_seconds{network_transport="tcp"} 42.5
mcp_server_session_oldest_age_seconds{network_transport="pipe"} 7
`;

test('OTel semconv names are recognised by default; buckets are copied and summed over dropped labels', async () => {
  let accept = '';
  const srv = await metricsServer((req, res) => {
    accept = String(req.headers.accept);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(SEMCONV);
  });
  try {
    const { result, text } = await scrape(srv.url);
    assert.equal(result.success, true, result.message);
    assert.match(accept, /openmetrics-text/);
    assert.match(text, /^mcp_internal_scrape_success\{target="srv"\} 1$/m);
    assert.match(text, /^mcp_server_sessions_active\{target="srv"\} 7$/m);
    assert.match(text, /^mcp_server_tool_calls_active\{target="srv"\} 2$/m);
    assert.match(text, /^mcp_server_session_oldest_age_seconds\{target="srv"\} 42.5$/m, 'the oldest of the series');
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_bucket\{le="0.1",target="srv",mcp_method_name="tools\/call",error_type=""\} 4$/m,
    );
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_bucket\{le="1",target="srv",mcp_method_name="tools\/call",error_type=""\} 6$/m,
    );
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_bucket\{le="\+Inf",target="srv",mcp_method_name="tools\/call",error_type=""\} 7$/m,
    );
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_count\{target="srv",mcp_method_name="tools\/call",error_type=""\} 7$/m,
    );
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_sum\{target="srv",mcp_method_name="tools\/call",error_type=""\} 4.3$/m,
    );
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_count\{target="srv",mcp_method_name="tools\/call",error_type="tool_error"\} 2$/m,
    );
    assert.match(text, /^mcp_server_session_duration_seconds_count\{target="srv"\} 5$/m);
  } finally {
    await srv.close();
  }
});

test('custom names through a mapping, with label matchers and a sum; headers and authorization are sent', async () => {
  let auth = '';
  const body = `# TYPE my_request_seconds histogram
my_request_seconds_bucket{method="tools/call",code="",app="x",le="0.5"} 9
my_request_seconds_bucket{method="tools/call",code="",app="x",le="+Inf"} 10
my_request_seconds_sum{method="tools/call",code="",app="x"} 3
my_request_seconds_count{method="tools/call",code="",app="x"} 10
my_request_seconds_bucket{method="tools/call",code="",app="other",le="+Inf"} 99
my_request_seconds_count{method="tools/call",code="",app="other"} 99
my_sessions{state="open",shard="1"} 4
my_sessions{state="open",shard="2"} 5
my_sessions{state="closed",shard="1"} 100
`;
  const srv = await metricsServer((req, res) => {
    auth = String(req.headers.authorization);
    res.writeHead(200).end(body);
  });
  try {
    const { result, text } = await scrape(
      srv.url,
      {
        mapping: {
          sessions_active: { metric: 'my_sessions', match: { state: 'open' }, sum: true },
          operation_duration: {
            metric: 'my_request_seconds',
            match: { app: 'x' },
            method_label: 'method',
            error_label: 'code',
          },
        },
      },
      { authorization: { credentials: 's3cret' } },
    );
    assert.equal(result.success, true, result.message);
    assert.equal(auth, 'Bearer s3cret');
    assert.match(text, /^mcp_server_sessions_active\{target="srv"\} 9$/m);
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_bucket\{le="0.5",target="srv",mcp_method_name="tools\/call",error_type=""\} 9$/m,
    );
    assert.match(
      text,
      /^mcp_server_operation_duration_seconds_count\{target="srv",mcp_method_name="tools\/call",error_type=""\} 10$/m,
    );
    assert.doesNotMatch(text, /mcp_server_tool_calls_active\{/);

    // Without sum, two matching series are ambiguous: the scrape fails and says why.
    const ambiguous = await scrape(srv.url, {
      mapping: { sessions_active: { metric: 'my_sessions', match: { state: 'open' } } },
    });
    assert.equal(ambiguous.result.success, false);
    assert.match(ambiguous.result.message ?? '', /set sum: true/);
  } finally {
    await srv.close();
  }
});

async function failing(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  internal: Record<string, unknown> = {},
): Promise<{ result: ScrapeResult; text: string }> {
  const srv = await metricsServer(handler);
  try {
    return await scrape(srv.url, internal);
  } finally {
    await srv.close();
  }
}

test('a malformed body fails the scrape with the line, never the content', async () => {
  const { result, text } = await failing((_req, res) => res.end('good 1\nbad{x="1" 2 secret-token\n'));
  assert.equal(result.success, false);
  assert.equal(result.reason, 'parse');
  assert.match(result.message ?? '', /line 2/);
  assert.doesNotMatch(result.message ?? '', /secret-token/);
  assert.match(text, /^mcp_internal_scrape_success\{target="srv"\} 0$/m);
});

test('an oversized body is refused, declared or streamed', async () => {
  const big = 'm 1\n'.repeat(2000); // 8000 bytes
  const declared = await failing((_req, res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big), {
    max_response_bytes: 4096,
  });
  assert.equal(declared.result.reason, 'too_large');
  const streamed = await failing(
    (_req, res) => {
      res.writeHead(200);
      res.write(big);
      res.end(big);
    },
    { max_response_bytes: 4096 },
  );
  assert.equal(streamed.result.reason, 'too_large');
  assert.match(streamed.text, /^mcp_internal_scrape_success\{target="srv"\} 0$/m);
});

test('too many series, HTTP errors, a dead server and a slow one fail with their reason', async () => {
  const many = await failing((_req, res) => res.end(Array.from({ length: 50 }, (_, i) => `m{i="${i}"} 1`).join('\n')), {
    max_series: 10,
  });
  assert.equal(many.result.reason, 'too_many_series');
  const status = await failing((_req, res) => res.writeHead(503).end('down'));
  assert.equal(status.result.reason, 'http_status');
  const dead = await scrape(`http://127.0.0.1:${await refusedPort()}/metrics`);
  assert.equal(dead.result.reason, 'connect');
  const t0 = Date.now();
  const slow = await failing(() => {}, { timeout: '300ms', interval: '1s' });
  assert.equal(slow.result.reason, 'timeout');
  assert.ok(Date.now() - t0 < 2000);
});
