/**
 * OpenTelemetry tracing for the sidecar: a tracer provider that is never registered globally,
 * an OTLP/HTTP exporter (protobuf or JSON) behind a bounded BatchSpanProcessor, and the probe
 * trace hooks on top. Configured from the standard OTEL_* variables (./config.ts), passed in.
 *
 * Why the bounds: a missing or slow collector must never block probing (spans are queued and
 * exported in the background), never grow memory (the queue drops spans beyond maxQueueSize),
 * and never hold up shutdown (shutdown races a deadline and never rejects).
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../log/logger.js';
import { NOOP_TRACE_HOOKS, type TraceHooks } from '../probe/trace-hooks.js';
import { tracingConfigFromEnv, type TracingConfig } from './config.js';
import { createProbeTracer } from './probe-tracer.js';
import { VERSION } from '../version.js';

/** How long shutdown may take by default: flushing the last spans is worth a little, not more. */
export const SHUTDOWN_TIMEOUT_MS = 3000;
/** At most one "export failed" warning per this many ms (a down collector must not flood logs). */
const EXPORT_WARNING_INTERVAL_MS = 60_000;

/** Running tracing (or its disabled stand-in). */
export interface Tracing {
  readonly enabled: boolean;
  readonly config: TracingConfig;
  /** Hooks to pass to the prober; NOOP_TRACE_HOOKS when disabled. */
  readonly hooks: TraceHooks;
  /** Exports queued spans now; resolves within `timeoutMs`, never rejects. */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes and stops; resolves within `timeoutMs` even if the collector hangs. Never rejects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Resolves after `ms` without keeping the process alive. */
function after(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}

async function within(work: Promise<unknown>, ms: number): Promise<'done' | 'timeout' | 'failed'> {
  return Promise.race([
    work.then(
      () => 'done' as const,
      () => 'failed' as const,
    ),
    after(ms),
  ]);
}

function buildSampler(c: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(c.samplerRatio);
  switch (c.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Wraps an exporter to log failed exports, rate-limited. */
function reportingExporter(inner: SpanExporter, logger: Logger | undefined, url: string): SpanExporter {
  let lastWarnMs = -Infinity;
  let failedSince = 0;
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (result) => {
        if (result.code !== 0) {
          failedSince++;
          const now = Date.now();
          if (now - lastWarnMs >= EXPORT_WARNING_INTERVAL_MS) {
            logger?.warn('trace export failed; spans dropped', {
              endpoint: url,
              failed_exports: failedSince,
              err: result.error?.message ?? 'unknown',
            });
            lastWarnMs = now;
            failedSince = 0;
          }
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

function disabled(config: TracingConfig): Tracing {
  return { enabled: false, config, hooks: NOOP_TRACE_HOOKS, flush: async () => {}, shutdown: async () => {} };
}

/**
 * Sets tracing up from `env` (OTEL_* variables). Returns a disabled stand-in when tracing is
 * not configured. Never throws; logs configuration warnings to `logger`.
 */
export function setupTracing(env: Record<string, string | undefined>, logger?: Logger): Tracing {
  const config = tracingConfigFromEnv(env);
  for (const w of config.warnings) logger?.warn('tracing config', { problem: w });
  if (!config.enabled) return disabled(config);
  try {
    const exporterOptions = { url: config.url, headers: config.headers, timeoutMillis: config.exportTimeoutMs };
    const exporter =
      config.protocol === 'http/json' ? new OTLPJsonExporter(exporterOptions) : new OTLPProtoExporter(exporterOptions);
    const processor = new BatchSpanProcessor(reportingExporter(exporter, logger, safeEndpoint(config.url)), {
      maxQueueSize: config.maxQueueSize,
      maxExportBatchSize: config.maxExportBatchSize,
      scheduledDelayMillis: config.scheduledDelayMs,
      exportTimeoutMillis: config.exportTimeoutMs,
    });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        ...config.resourceAttributes,
        'service.name': config.serviceName,
        'service.version': VERSION,
      }),
      sampler: buildSampler(config),
      spanProcessors: [processor],
    });
    const tracer: Tracer = provider.getTracer('mcpwatch', VERSION);
    let stopped: Promise<void> | undefined;
    logger?.info('tracing on', {
      endpoint: safeEndpoint(config.url),
      protocol: config.protocol,
      sampler: config.sampler,
    });
    return {
      enabled: true,
      config,
      hooks: createProbeTracer(tracer),
      async flush(timeoutMs = SHUTDOWN_TIMEOUT_MS) {
        await within(provider.forceFlush(), timeoutMs);
      },
      shutdown(timeoutMs = SHUTDOWN_TIMEOUT_MS) {
        stopped ??= within(provider.shutdown(), timeoutMs).then((outcome) => {
          // With no collector the exporter's shutdown rejects: that is data, not a crash.
          if (outcome !== 'done')
            logger?.warn('tracing shutdown did not flush every span', { outcome, timeout_ms: timeoutMs });
        });
        return stopped;
      },
    };
  } catch (err) {
    logger?.error('tracing setup failed; tracing is off', { err: (err as Error).message });
    return disabled(config);
  }
}

/** The endpoint for logs: scheme, host and path, never userinfo or query. */
function safeEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'invalid-url';
  }
}
