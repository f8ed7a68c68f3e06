/**
 * The configuration file's shape: the single source of truth. Types are inferred from the zod
 * schemas; docs/configuration.md documents every key and a test keeps the two in step.
 *
 * Strict about our own config: unknown keys are errors, and every message names its path.
 * Cross-field rules (timeout below interval, url vs command, unique names) live in `checkConfig`.
 */
import { z } from 'zod';
import { parseDurationMs } from './duration.js';
import type { InternalMapping } from './mapping.js';
import { TRANSPORTS } from './transports.js';

/** A Prometheus-style duration (`500ms`, `30s`, `5m`), parsed to milliseconds. */
export const Duration = z.string().transform((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${text}" (use e.g. 500ms, 30s, 5m, 1h)` });
    return z.NEVER;
  }
  return ms;
});

/** Target names become the `target` label: Prometheus label-value safe and readable. */
const TargetName = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,62}$/,
    'must be 1-63 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit',
  );

const SecretFileOrValue = {
  /** Inline value (may use ${VAR}). */
  credentials: z.string().min(1).optional(),
  /** Path of a file holding the value; re-read when it changes (rotated secrets). */
  credentials_file: z.string().min(1).optional(),
};

export const AuthorizationSchema = z.strictObject({
  /** The scheme placed before the credentials; `Bearer` by default. */
  type: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9._-]*$/, 'must be an HTTP auth scheme such as Bearer')
    .default('Bearer'),
  ...SecretFileOrValue,
});

export const TlsSchema = z.strictObject({
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  server_name: z.string().min(1).optional(),
  insecure_skip_verify: z.boolean().default(false),
});

export const ExpectSchema = z.strictObject({
  /** Minimum number of tools `tools/list` must return (all pages). */
  min_tools: z.number().int().min(0).optional(),
  /** Tool names that must be present. */
  tools: z.array(z.string().min(1)).optional(),
  /** Protocol versions the negotiated one must be among. */
  protocol_versions: z
    .array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a protocol revision such as 2025-11-25'))
    .optional(),
  /**
   * The server is monitored without credentials: a 401 with a `WWW-Authenticate` challenge and
   * reachable RFC 9728 protected-resource metadata counts as success ("up, but walled").
   */
  auth_challenge: z.boolean().optional(),
});

/** OAuth 2 client credentials grant (Prometheus `oauth2` style); the token is cached until it expires. */
export const OAuth2Schema = z.strictObject({
  client_id: z.string().min(1),
  client_secret: z.string().min(1).optional(),
  /** File holding the client secret; re-read whenever a token is requested. */
  client_secret_file: z.string().min(1).optional(),
  token_url: z.string().url(),
  scopes: z.array(z.string().min(1)).default([]),
  /** Extra form parameters sent to the token endpoint (e.g. `audience`). */
  endpoint_params: z.record(z.string(), z.string()).default({}),
});

export const CanarySchema = z.strictObject({
  /** Tool to call after `tools/list`. */
  tool: z.string().min(1),
  /** Arguments passed to the tool. */
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** The result's text content must contain this string. */
  expect_text: z.string().optional(),
  /** The result must not have `isError: true` (default true). */
  expect_success: z.boolean().default(true),
  /** Run the call at most this often (on the probes that fall due); every probe by default. */
  interval: Duration.optional(),
  /**
   * A failed call fails the whole probe (`assertion`). Default true for `canary`, false for the
   * entries of `canaries` (each is then its own per-tool signal).
   */
  required: z.boolean().optional(),
});

/** Most canaries one target may list (they become `gen_ai_tool_name` values). */
export const MAX_CANARIES = 20;

/** Most tool groups one target may have (they become `group` values). */
export const MAX_TOOL_GROUPS = 50;

/** A glob over tool names: `*` any run of characters, `?` one character; e.g. `github_*`, `jira__*`. */
const ToolGlob = z.string().min(1).max(200);

/**
 * One backend behind a gateway, recognised by its tools' names: the glob alone, or with the
 * fewest tools it must list and a canary of its own.
 */
export const ToolGroupSchema = z.union([
  ToolGlob,
  z.strictObject({
    match: ToolGlob,
    /** The group is missing below this many listed tools. */
    min: z.number().int().min(1).default(1),
    /** A call that must succeed for the group to count as up (not required: it never fails the probe). */
    canary: CanarySchema.optional(),
  }),
]);

/** What one session of a fan-out round calls. */
export const FANOUT_CALLS = ['tools/list', 'canary'] as const;

/**
 * The fan-out probe: N sessions opened at once (as N sub-agents would), each running the same
 * call, compared with a single session in the same round. On its own schedule.
 */
export const FanoutSchema = z.strictObject({
  /** Sessions opened at the same instant, each its own client and connection. */
  sessions: z.number().int().min(2).max(64).default(8),
  /** Time between rounds; at least the target's probe interval. */
  interval: Duration.default(300_000),
  /** The call each session makes: `tools/list`, or the target's `canary` tool call. */
  call: z.enum(FANOUT_CALLS).default('tools/list'),
});

const LabelMatch = z
  .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name'), z.string())
  .default({});
const MetricName = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a Prometheus metric name');

const GaugeMappingSchema = z.strictObject({
  /** The server's metric name. */
  metric: MetricName,
  /** Only series whose labels equal these values. */
  match: LabelMatch,
  /** Sum every matching series (otherwise more than one match fails the scrape). */
  sum: z.boolean().default(false),
});

const HistogramMappingSchema = z.strictObject({
  /** The server's histogram, base name (without `_bucket`). */
  metric: MetricName,
  match: LabelMatch,
  /** The server's label holding the MCP method (operation_duration only). */
  method_label: z.string().min(1).optional(),
  /** The server's label holding the error type (operation_duration only). */
  error_label: z.string().min(1).optional(),
});

/** Inside the server: scrape its own metrics (`metrics_url`) and/or measure it as a proxy. */
export const InternalSchema = z.strictObject({
  metrics_url: z.string().url().optional(),
  /** Scrape interval; the target's interval by default. */
  interval: Duration.optional(),
  /** Scrape deadline; the target's timeout by default. */
  timeout: Duration.optional(),
  max_response_bytes: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  max_series: z.number().int().min(1).default(10_000),
  mapping: z
    .strictObject({
      sessions_active: GaugeMappingSchema.optional(),
      tool_calls_active: GaugeMappingSchema.optional(),
      session_oldest_age: GaugeMappingSchema.optional(),
      operation_duration: HistogramMappingSchema.optional(),
      session_duration: HistogramMappingSchema.omit({ method_label: true, error_label: true }).optional(),
    })
    .optional(),
  proxy: z
    .strictObject({
      /** `host:port` or `:port` (all interfaces). */
      listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be host:port or :port'),
      /** A session with no traffic for this long is counted as ended. */
      idle_timeout: Duration.default(300_000),
      /** Requests awaiting an answer tracked per target; beyond it requests pass unobserved. */
      max_pending_requests: z.number().int().min(1).default(10_000),
      /** Bodies and SSE events larger than this pass through unparsed (and are counted). */
      max_parse_bytes: z
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024),
    })
    .optional(),
});

export const TargetSchema = z.strictObject({
  name: TargetName,
  /** Server URL (http/https). Required unless `transport: stdio`. */
  url: z.string().url().optional(),
  transport: z.enum(TRANSPORTS).optional(),
  /** stdio: the command to start. */
  command: z.string().min(1).optional(),
  /** stdio: its arguments. */
  args: z.array(z.string()).default([]),
  /** stdio: environment variables for the child (only these plus PATH/HOME/LANG are passed). */
  env: z.record(z.string(), z.string()).default({}),
  /** stdio: working directory of the child. */
  cwd: z.string().min(1).optional(),
  interval: Duration.optional(),
  /** Cron schedule instead of an interval (6 fields allowed: seconds first). */
  schedule: z.string().min(1).optional(),
  timeout: Duration.optional(),
  /** Extra HTTP headers on every request (values may use ${VAR}). */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'), z.string())
    .default({}),
  authorization: AuthorizationSchema.optional(),
  oauth2: OAuth2Schema.optional(),
  tls: TlsSchema.optional(),
  expect: ExpectSchema.optional(),
  canary: CanarySchema.optional(),
  /** Backends behind a gateway, by tool-name glob: each counted and checked on its own. */
  tool_groups: z
    .record(
      z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be a group name of letters, digits, "_", "." or "-"'),
      ToolGroupSchema,
    )
    .refine((g) => Object.keys(g).length <= MAX_TOOL_GROUPS, `at most ${MAX_TOOL_GROUPS} groups`)
    .optional(),
  /** Several canaries, each run in the probe's session after tools/list, each its own signal. */
  canaries: z.array(CanarySchema).max(MAX_CANARIES).optional(),
  /** Largest response body read, in bytes; beyond it the probe fails with `response_too_large`. */
  max_response_bytes: z.number().int().min(1024).optional(),
  /** Most `tools/list` pages followed before the probe fails with `invalid_response`. */
  max_tool_pages: z.number().int().min(1).max(10_000).optional(),
  /** Expected max concurrent sessions (multi-agent fan-out), exported as a gauge for alerting. */
  sessions_expected_max: z.number().int().min(1).optional(),
  /** p99 latency objective for the server's operations, exported as a gauge for alerting. */
  latency_slo: Duration.optional(),
  /** A session open longer than this is stuck (a leak): exported as a gauge for alerting. */
  session_max_age: Duration.optional(),
  /** The server's tool-call concurrency limit (semaphore, pool size), exported for the saturation alert. */
  tool_calls_max: z.number().int().min(1).optional(),
  /** Fan-out probe: N parallel sessions on their own schedule (opt-in). */
  fanout: FanoutSchema.optional(),
  /** Session, concurrency and latency metrics from inside the server: scrape and/or proxy. */
  internal: InternalSchema.optional(),
});

export const DefaultsSchema = z.strictObject({
  interval: Duration.default(30_000),
  timeout: Duration.default(10_000),
  transport: z.enum(TRANSPORTS).default('auto'),
  max_response_bytes: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  max_tool_pages: z.number().int().min(1).max(10_000).default(100),
  latency_slo: Duration.default(2000),
  session_max_age: Duration.default(3_600_000),
});

export const ConfigSchema = z.strictObject({
  defaults: DefaultsSchema.default(DefaultsSchema.parse({})),
  targets: z.array(TargetSchema).default([]),
});

export type ConfigFile = z.infer<typeof ConfigSchema>;
export type TargetFile = z.infer<typeof TargetSchema>;

/** `snake_case` -> `camelCase`, at the type level. */
type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;
/** An object type with its keys camel-cased (one level: user data such as `arguments` keeps its keys). */
export type Camel<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

/** Camel-cases the keys of one config block (one level), as `Camel<T>` says. */
function camel<T extends object>(block: T): Camel<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(block)) {
    if (v !== undefined) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  return out as Camel<T>;
}

/**
 * A target with defaults applied and units in its names: what probers and the scheduler use.
 * Each block's type is inferred from its schema (camel-cased); only the target's own fields
 * differ from what users write (defaults merged, durations in `…Ms`/`…Seconds`).
 */
export interface TargetConfig {
  name: string;
  transport: (typeof TRANSPORTS)[number];
  url?: string;
  command?: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Set unless `schedule` is. */
  intervalMs?: number;
  schedule?: string;
  timeoutMs: number;
  headers: Record<string, string>;
  authorization?: Camel<z.output<typeof AuthorizationSchema>>;
  oauth2?: Camel<z.output<typeof OAuth2Schema>>;
  tls?: Camel<z.output<typeof TlsSchema>>;
  expect?: Camel<z.output<typeof ExpectSchema>>;
  /** `canary` (first, when set), `canaries`, then the tool groups' canaries: each a tool call in the probe's session. */
  canaries: CanaryConfig[];
  /** `tool_groups`, in config order. */
  toolGroups: ToolGroupConfig[];
  maxResponseBytes: number;
  maxToolPages: number;
  sessionsExpectedMax?: number;
  latencySloSeconds: number;
  sessionMaxAgeSeconds: number;
  toolCallsMax?: number;
  fanout?: { sessions: number; intervalMs: number; call: (typeof FANOUT_CALLS)[number] };
  internal?: InternalConfig;
}

/** One resolved canary: the schema's block camel-cased, its interval in ms, `required` decided. */
export type CanaryConfig = Omit<Camel<z.output<typeof CanarySchema>>, 'interval' | 'required'> & {
  intervalMs?: number;
  required: boolean;
};

/** One resolved tool group. `canaryTool` names its canary among the target's canaries. */
export interface ToolGroupConfig {
  name: string;
  match: string;
  min: number;
  canaryTool?: string;
}

/** The resolved `internal` block of a target. */
export interface InternalConfig {
  metricsUrl?: string;
  intervalMs: number;
  timeoutMs: number;
  maxResponseBytes: number;
  maxSeries: number;
  mapping: InternalMapping;
  proxy?: { host?: string; port: number; idleTimeoutMs: number; maxPendingRequests: number; maxParseBytes: number };
}

function resolveInternal(
  i: z.infer<typeof InternalSchema>,
  intervalMs: number,
  timeoutMs: number,
  issue: (key: string, message: string) => void,
): InternalConfig {
  if (!i.metrics_url && !i.proxy) issue('internal', 'needs metrics_url (scrape) or proxy (or both)');
  if (i.metrics_url && !/^https?:\/\//i.test(i.metrics_url))
    issue('internal.metrics_url', 'must be an http:// or https:// URL');
  const interval = i.interval ?? intervalMs;
  const timeout = i.timeout ?? Math.min(timeoutMs, Math.max(1, interval - 1));
  if (interval <= 0) issue('internal.interval', 'must be greater than 0');
  if (timeout >= interval)
    issue('internal.timeout', `timeout (${timeout}ms) must be below the interval (${interval}ms)`);
  const gauge = (g?: z.infer<typeof GaugeMappingSchema>) => g && { metric: g.metric, match: g.match, sum: g.sum };
  const m = i.mapping;
  let proxy: InternalConfig['proxy'];
  if (i.proxy) {
    const at = i.proxy.listen.lastIndexOf(':');
    const host = i.proxy.listen.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(i.proxy.listen.slice(at + 1));
    if (port > 65535) issue('internal.proxy.listen', 'port must be at most 65535');
    proxy = {
      host: host === '' ? undefined : host,
      port,
      idleTimeoutMs: i.proxy.idle_timeout,
      maxPendingRequests: i.proxy.max_pending_requests,
      maxParseBytes: i.proxy.max_parse_bytes,
    };
  }
  return {
    metricsUrl: i.metrics_url,
    intervalMs: interval,
    timeoutMs: timeout,
    maxResponseBytes: i.max_response_bytes,
    maxSeries: i.max_series,
    mapping: {
      sessionsActive: gauge(m?.sessions_active),
      toolCallsActive: gauge(m?.tool_calls_active),
      sessionOldestAge: gauge(m?.session_oldest_age),
      operationDuration: m?.operation_duration && {
        metric: m.operation_duration.metric,
        match: m.operation_duration.match,
        methodLabel: m.operation_duration.method_label,
        errorLabel: m.operation_duration.error_label,
      },
      sessionDuration: m?.session_duration && { metric: m.session_duration.metric, match: m.session_duration.match },
    },
    proxy,
  };
}

/** The whole resolved configuration. */
export interface Config {
  targets: TargetConfig[];
}

/** One problem found in a config: `path: message`, the path in dotted/indexed YAML form. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Formats a zod-style path (`['targets', 0, 'timeout']`) as `targets[0].timeout`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

type IssueAt = (key: string, message: string) => void;
type Defaults = ConfigFile['defaults'];

/**
 * Cross-field rules and defaults. Returns the resolved config, or every issue found.
 * Never throws.
 */
export function resolveConfig(file: ConfigFile): { config?: Config; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  const targets = file.targets.map((t, i) => {
    const issue: IssueAt = (key, message) => issues.push({ path: `targets[${i}]${key ? `.${key}` : ''}`, message });
    const first = seen.get(t.name);
    if (first !== undefined) issue('name', `duplicate target name "${t.name}" (also targets[${first}])`);
    else seen.set(t.name, i);
    return resolveTarget(t, file.defaults, issue);
  });
  return issues.length > 0 ? { issues } : { config: { targets }, issues };
}

function resolveTarget(t: TargetFile, d: Defaults, issue: IssueAt): TargetConfig {
  const transport = t.transport ?? (t.command ? 'stdio' : d.transport);
  checkEndpoint(t, transport, issue);
  const { intervalMs, timeoutMs } = checkTiming(t, d, issue);
  checkCredentials(t, transport, issue);
  checkFanout(t, intervalMs, issue);
  return {
    name: t.name,
    transport,
    url: t.url,
    command: t.command,
    args: t.args,
    env: t.env,
    cwd: t.cwd,
    intervalMs,
    schedule: t.schedule,
    timeoutMs,
    headers: t.headers,
    authorization: t.authorization && camel(t.authorization),
    tls: t.tls && camel(t.tls),
    expect: t.expect && camel(t.expect),
    oauth2: t.oauth2 && camel(t.oauth2),
    canaries: resolveCanaries(t, issue),
    toolGroups: Object.entries(t.tool_groups ?? {}).map(([name, g]) =>
      typeof g === 'string'
        ? { name, match: g, min: 1 }
        : { name, match: g.match, min: g.min, canaryTool: g.canary?.tool },
    ),
    maxResponseBytes: t.max_response_bytes ?? d.max_response_bytes,
    maxToolPages: t.max_tool_pages ?? d.max_tool_pages,
    sessionsExpectedMax: t.sessions_expected_max,
    latencySloSeconds: (t.latency_slo ?? d.latency_slo) / 1000,
    sessionMaxAgeSeconds: (t.session_max_age ?? d.session_max_age) / 1000,
    toolCallsMax: t.tool_calls_max,
    fanout: t.fanout && { sessions: t.fanout.sessions, intervalMs: t.fanout.interval, call: t.fanout.call },
    internal: t.internal && resolveInternal(t.internal, intervalMs ?? d.interval, timeoutMs, issue),
  };
}

/** url vs command, by transport. */
function checkEndpoint(t: TargetFile, transport: TargetConfig['transport'], issue: IssueAt): void {
  if (transport === 'stdio') {
    if (!t.command) issue('command', 'required when transport is stdio');
    if (t.url) issue('url', 'not allowed when transport is stdio (use command and args)');
    return;
  }
  if (!t.url) issue('url', `required when transport is ${transport}`);
  else if (!/^https?:\/\//i.test(t.url)) issue('url', 'must be an http:// or https:// URL');
  if (t.command) issue('command', 'only allowed when transport is stdio');
  if (t.tls && t.url && !/^https:/i.test(t.url)) issue('tls', 'only allowed with an https:// url');
}

/** Interval or schedule, and a timeout below the interval. */
function checkTiming(t: TargetFile, d: Defaults, issue: IssueAt): { intervalMs?: number; timeoutMs: number } {
  if (t.schedule && t.interval !== undefined) issue('schedule', 'set either interval or schedule, not both');
  const intervalMs = t.schedule ? undefined : (t.interval ?? d.interval);
  const timeoutMs = t.timeout ?? d.timeout;
  if (timeoutMs <= 0) issue('timeout', 'must be greater than 0');
  if (intervalMs !== undefined && intervalMs <= 0) issue('interval', 'must be greater than 0');
  if (intervalMs !== undefined && timeoutMs >= intervalMs) {
    issue(
      t.timeout !== undefined ? 'timeout' : 'interval',
      `timeout (${timeoutMs}ms) must be below the interval (${intervalMs}ms)`,
    );
  }
  return { intervalMs, timeoutMs };
}

/** `canary` then `canaries`, resolved; a tool named twice is an issue (its series would collide). */
function resolveCanaries(t: TargetFile, issue: IssueAt): CanaryConfig[] {
  const listed: Array<[string, z.output<typeof CanarySchema>, boolean]> = [];
  if (t.canary) listed.push(['canary', t.canary, true]);
  (t.canaries ?? []).forEach((c, i) => listed.push([`canaries[${i}]`, c, false]));
  for (const [name, g] of Object.entries(t.tool_groups ?? {}))
    if (typeof g !== 'string' && g.canary)
      listed.push([`tool_groups.${name}.canary`, { ...g.canary, required: false }, false]);
  const seen = new Map<string, string>();
  return listed.map(([path, c, requiredByDefault]) => {
    const first = seen.get(c.tool);
    if (first !== undefined) issue(`${path}.tool`, `tool "${c.tool}" already has a canary (${first})`);
    else seen.set(c.tool, path);
    const { interval, required, ...rest } = c;
    return {
      ...camel(rest),
      ...(interval !== undefined && { intervalMs: interval }),
      required: required ?? requiredByDefault,
    };
  });
}

/** A fan-out round needs its call, and runs no more often than the probes. */
function checkFanout(t: TargetFile, intervalMs: number | undefined, issue: IssueAt): void {
  if (!t.fanout) return;
  if (t.fanout.call === 'canary' && !t.canary && !t.canaries?.length)
    issue('fanout.call', "canary needs the target's canary (or canaries) block");
  if (intervalMs !== undefined && t.fanout.interval < intervalMs)
    issue('fanout.interval', `must be at least the probe interval (${intervalMs}ms)`);
  if (t.session_max_age !== undefined && t.session_max_age <= 0) issue('session_max_age', 'must be greater than 0');
}

/** One source per credential, and the TLS key pair whole. */
function checkCredentials(t: TargetFile, transport: TargetConfig['transport'], issue: IssueAt): void {
  const headerAuth = Object.keys(t.headers).some((h) => h.toLowerCase() === 'authorization');
  if (t.authorization) {
    const a = t.authorization;
    if (a.credentials && a.credentials_file)
      issue('authorization', 'set either credentials or credentials_file, not both');
    if (!a.credentials && !a.credentials_file) issue('authorization', 'needs credentials or credentials_file');
  }
  if (t.tls && Boolean(t.tls.cert_file) !== Boolean(t.tls.key_file)) issue('tls', 'cert_file and key_file go together');
  if (t.authorization && headerAuth) issue('headers.Authorization', 'conflicts with the authorization block; keep one');
  if (t.oauth2) {
    if (t.oauth2.client_secret && t.oauth2.client_secret_file)
      issue('oauth2', 'set either client_secret or client_secret_file, not both');
    if (!t.oauth2.client_secret && !t.oauth2.client_secret_file)
      issue('oauth2', 'needs client_secret or client_secret_file');
    if (t.authorization || headerAuth)
      issue('oauth2', 'conflicts with authorization / headers.Authorization; keep one');
    if (transport === 'stdio') issue('oauth2', 'not allowed when transport is stdio');
  }
}
