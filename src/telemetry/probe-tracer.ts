/**
 * The prober's trace hooks (src/probe/trace-hooks.ts) on `@opentelemetry/api`: one trace per
 * probe, a root span `probe {target}` and a child span `{mcp.method.name} {target}` per MCP
 * operation, attributed by the OTel MCP semantic conventions (docs/tracing.md).
 *
 * Contexts are passed explicitly (no global context manager, no global tracer provider), so
 * several sidecars or tests in one process never share tracing state. Never throws.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type {
  OperationOutcome,
  OperationTrace,
  ProbeTrace,
  ProbeTraceStart,
  TraceHooks,
  TraceMeta,
} from '../probe/trace-hooks.js';
import type { ProbeResult } from '../probe/types.js';

/** Runs `fn`, swallowing anything it throws: tracing must never change a probe's outcome. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    /* best effort */
  }
}

function metaOf(span: Span): TraceMeta {
  const c = span.spanContext();
  const flags = (c.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00';
  const tracestate = c.traceState?.serialize();
  return { traceparent: `00-${c.traceId}-${c.spanId}-${flags}`, ...(tracestate ? { tracestate } : {}) };
}

function sampledIds(span: Span): { traceId?: string; spanId?: string } {
  const c = span.spanContext();
  return span.isRecording() && (c.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
    ? { traceId: c.traceId, spanId: c.spanId }
    : {};
}

function connectionAttributes(start: ProbeTraceStart): Attributes {
  const a: Attributes = { 'network.transport': start.networkTransport };
  if (start.serverAddress) a['server.address'] = start.serverAddress;
  if (start.serverPort) a['server.port'] = start.serverPort;
  return a;
}

function startOperation(tracer: Tracer, root: Span, start: ProbeTraceStart, method: string): OperationTrace {
  const span = tracer.startSpan(
    `${method} ${start.target}`,
    { kind: SpanKind.CLIENT, attributes: { 'mcp.method.name': method, ...connectionAttributes(start) } },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  const startMs = Date.now();
  let phaseOffsetMs = 0;
  const ids = sampledIds(span);
  return {
    meta: metaOf(span),
    ...ids,
    request(id) {
      // One attribute per span: the last request of the operation (the handshake may try
      // server/discover before initialize; tools/list may page).
      quietly(() => span.setAttribute('jsonrpc.request.id', String(id)));
    },
    phase(name, seconds) {
      // Connection phases happen back to back at the start of the handshake: place each
      // event where its phase ended, carrying its duration.
      quietly(() => {
        phaseOffsetMs += seconds * 1000;
        span.addEvent(name, { 'mcpwatch.phase.duration_seconds': seconds }, startMs + phaseOffsetMs);
      });
    },
    end(outcome: OperationOutcome) {
      quietly(() => {
        if (outcome.method) {
          span.updateName(`${outcome.method} ${start.target}`);
          span.setAttribute('mcp.method.name', outcome.method);
        }
        if (outcome.protocolVersion) span.setAttribute('mcp.protocol.version', outcome.protocolVersion);
        if (outcome.sessionId) span.setAttribute('mcp.session.id', outcome.sessionId);
        if (outcome.toolName) {
          span.setAttribute('gen_ai.tool.name', outcome.toolName);
          span.setAttribute('gen_ai.operation.name', 'execute_tool');
        }
        if (outcome.errorType) {
          span.setAttribute('error.type', outcome.errorType);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      });
    },
  };
}

function endProbe(root: Span, result: ProbeResult): void {
  quietly(() => {
    root.setAttribute('mcpwatch.probe.success', result.success);
    root.setAttribute('mcpwatch.probe.duration_seconds', result.durationSeconds);
    if (result.httpStatus) root.setAttribute('http.response.status_code', result.httpStatus);
    if (result.server) {
      root.setAttribute('mcp.protocol.version', result.server.protocolVersion);
      root.setAttribute('mcpwatch.transport', result.server.transport);
    }
    if (!result.success) {
      root.setAttribute('error.type', result.reason ?? 'internal');
      // The message is already free of secrets (prober contract).
      root.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${result.reason ?? 'internal'}: ${result.message ?? ''}`.slice(0, 300),
      });
    }
    root.end();
  });
}

/** Trace hooks that record probes with `tracer`. */
export function createProbeTracer(tracer: Tracer): TraceHooks {
  return {
    startProbe(start: ProbeTraceStart): ProbeTrace {
      const root = tracer.startSpan(
        `probe ${start.target}`,
        { kind: SpanKind.INTERNAL, attributes: { 'mcpwatch.target': start.target, ...connectionAttributes(start) } },
        ROOT_CONTEXT,
      );
      return {
        traceId: sampledIds(root).traceId,
        startOperation(method) {
          try {
            return startOperation(tracer, root, start, method);
          } catch {
            return { request() {}, phase() {}, end() {} };
          }
        },
        end: (result) => endProbe(root, result),
      };
    },
  };
}
