/**
 * Reads the standard OpenTelemetry environment variables into a tracing config: pure, no I/O,
 * never throws. The environment is passed in (only main.ts reads process.env).
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 *
 * Tracing is off unless OTEL_TRACES_EXPORTER says `otlp` or an OTLP endpoint is set, so an
 * unconfigured mcpwatch never tries to reach a collector at localhost:4318.
 */

/** Samplers of OTEL_TRACES_SAMPLER that mcpwatch supports (all the spec's built-in ones). */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Everything setupTracing needs; every field has a documented default (docs/tracing.md). */
export interface TracingConfig {
  enabled: boolean;
  /** Full URL of the traces endpoint, e.g. http://collector:4318/v1/traces. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  /** Per export request. */
  exportTimeoutMs: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: SamplerName;
  /** Ratio for the traceidratio samplers, 0..1. */
  samplerRatio: number;
  /** Spans waiting for export; beyond this spans are dropped (memory stays bounded). */
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  /** Problems found in the variables (unsupported values are ignored, never fatal). */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

const DEFAULT_ENDPOINT = 'http://localhost:4318';

/** Parses `k1=v1,k2=v2` (values percent-decoded) as in OTEL_RESOURCE_ATTRIBUTES and *_HEADERS. */
export function parseKeyValueList(text: string | undefined, what: string, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) {
      warnings.push(`${what}: ignoring "${part.trim().slice(0, 40)}" (expected key=value)`);
      continue;
    }
    const key = part.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      warnings.push(`${what}: ignoring the value of ${key} (bad percent-encoding)`);
    }
  }
  return out;
}

function positiveInt(env: Env, name: string, fallback: number, warnings: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    warnings.push(`${name}: "${raw}" is not a positive integer; using ${fallback}`);
    return fallback;
  }
  return n;
}

function nonEmpty(...values: Array<string | undefined>): string | undefined {
  return values.find((v) => v !== undefined && v.trim() !== '')?.trim();
}

/** Builds the tracing config from `env`. Never throws; unsupported values become warnings. */
export function tracingConfigFromEnv(env: Env): TracingConfig {
  const warnings: string[] = [];
  const tracesEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const baseEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  // The signal-specific endpoint is used as is; the base one gets /v1/traces appended (spec).
  const url = tracesEndpoint ?? `${(baseEndpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;

  const exporters = (nonEmpty(env.OTEL_TRACES_EXPORTER) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  let enabled = exporters.length === 0 ? Boolean(tracesEndpoint ?? baseEndpoint) : exporters.includes('otlp');
  for (const e of exporters) {
    if (e !== 'otlp' && e !== 'none')
      warnings.push(`OTEL_TRACES_EXPORTER: "${e}" is not supported (only otlp); ignored`);
  }
  if (exporters.includes('none')) enabled = false;
  if ((nonEmpty(env.OTEL_SDK_DISABLED) ?? '').toLowerCase() === 'true') enabled = false;

  let protocol: TracingConfig['protocol'] = 'http/protobuf';
  const p = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, env.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (p === 'http/json' || p === 'http/protobuf') protocol = p;
  else if (p !== undefined) {
    warnings.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: "${p}" is not supported (use http/protobuf or http/json, port 4318); tracing is off`,
    );
    enabled = false;
  }

  let sampler: SamplerName = 'parentbased_always_on';
  const s = nonEmpty(env.OTEL_TRACES_SAMPLER)?.toLowerCase();
  if (s !== undefined) {
    if ((SAMPLERS as readonly string[]).includes(s)) sampler = s as SamplerName;
    else warnings.push(`OTEL_TRACES_SAMPLER: "${s}" is not supported; using parentbased_always_on`);
  }
  let samplerRatio = 1;
  const arg = nonEmpty(env.OTEL_TRACES_SAMPLER_ARG);
  if (arg !== undefined && sampler.endsWith('traceidratio')) {
    const r = Number(arg);
    if (Number.isFinite(r) && r >= 0 && r <= 1) samplerRatio = r;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio in [0, 1]; using 1`);
  }

  const resourceAttributes = parseKeyValueList(env.OTEL_RESOURCE_ATTRIBUTES, 'OTEL_RESOURCE_ATTRIBUTES', warnings);
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? resourceAttributes['service.name'] ?? 'mcpwatch';
  const headers = {
    ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS', warnings),
    ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', warnings),
  };
  // An empty variable counts as unset (OTel spec), as everywhere else in this file.
  const timeoutName =
    nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT) !== undefined
      ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'
      : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const maxQueueSize = positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, warnings);
  return {
    enabled,
    url,
    protocol,
    headers,
    exportTimeoutMs: positiveInt(env, timeoutName, 10_000, warnings),
    serviceName,
    resourceAttributes,
    sampler,
    samplerRatio,
    maxQueueSize,
    // The batch may not exceed the queue (the SDK would throw).
    maxExportBatchSize: Math.min(positiveInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, warnings), maxQueueSize),
    scheduledDelayMs: positiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, warnings),
    warnings,
  };
}
