/**
 * Every metric mcpwatch exposes: name, type, help and labels. The metrics contract of DESIGN.md
 * in code; docs/metrics.md, alerts and dashboards are checked against this list by tests.
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricDef {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

/**
 * OTel MCP semconv advised buckets (seconds) plus finer ones below 10 ms, where loopback and
 * in-cluster MCP calls live.
 */
export const OPERATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
] as const;

/** Session durations: from a second-long sub-agent call to a day-long interactive session. */
export const SESSION_BUCKETS_SECONDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;

/** Schedule lag: how late a probe started against its slot. */
export const LAG_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * Why the proxy passed something through without observing it (`reason` of
 * `mcpwatch_proxy_unobserved_total`): a body or SSE event over `max_parse_bytes`, a body that is
 * not JSON, or a request beyond `max_pending_requests`.
 */
export const PROXY_UNOBSERVED_REASONS = ['too_large', 'unparsable', 'pending_limit'] as const;
export type ProxyUnobservedReason = (typeof PROXY_UNOBSERVED_REASONS)[number];

const def = <T extends MetricDef>(m: T): T => m;

export const METRICS = {
  probeSuccess: def({
    name: 'mcp_probe_success',
    type: 'gauge',
    help: 'Whether the last probe of the target succeeded (1) or failed (0).',
    labels: ['target'],
  }),
  probeDuration: def({
    name: 'mcp_probe_duration_seconds',
    type: 'gauge',
    help: 'Total duration of the last probe, in seconds.',
    labels: ['target'],
  }),
  probePhaseDuration: def({
    name: 'mcp_probe_phase_duration_seconds',
    type: 'gauge',
    help: 'Duration of each phase of the last probe, in seconds.',
    labels: ['target', 'phase'],
  }),
  probesTotal: def({
    name: 'mcp_probes_total',
    type: 'counter',
    help: 'Probes run, by result.',
    labels: ['target', 'result'],
  }),
  probeFailuresTotal: def({
    name: 'mcp_probe_failures_total',
    type: 'counter',
    help: 'Failed probes, by reason.',
    labels: ['target', 'reason'],
  }),
  probeConsecutiveFailures: def({
    name: 'mcp_probe_consecutive_failures',
    type: 'gauge',
    help: 'Failed probes in a row (0 after a success).',
    labels: ['target'],
  }),
  probeToolSuccess: def({
    name: 'mcp_probe_tool_success',
    type: 'gauge',
    help: 'Whether the last canary call of the tool succeeded (1) or not (0); one series per configured canary.',
    labels: ['target', 'gen_ai_tool_name'],
  }),
  probeToolDuration: def({
    name: 'mcp_probe_tool_duration_seconds',
    type: 'gauge',
    help: 'Duration of the last canary call of the tool, in seconds.',
    labels: ['target', 'gen_ai_tool_name'],
  }),
  probeToolConsecutiveFailures: def({
    name: 'mcp_probe_tool_consecutive_failures',
    type: 'gauge',
    help: 'Failed canary calls of the tool in a row (0 after a success).',
    labels: ['target', 'gen_ai_tool_name'],
  }),
  probeToolFailuresTotal: def({
    name: 'mcp_probe_tool_failures_total',
    type: 'counter',
    help: 'Failed canary calls of the tool, by reason.',
    labels: ['target', 'gen_ai_tool_name', 'reason'],
  }),
  serverToolGroupTools: def({
    name: 'mcp_server_tool_group_tools',
    type: 'gauge',
    help: 'Tools of the last successful tools/list whose names match the group (tool_groups).',
    labels: ['target', 'group'],
  }),
  serverToolGroupMin: def({
    name: 'mcp_server_tool_group_min',
    type: 'gauge',
    help: 'Fewest tools the group must list, from config tool_groups (1 by default).',
    labels: ['target', 'group'],
  }),
  probeToolGroupUp: def({
    name: 'mcp_probe_tool_group_up',
    type: 'gauge',
    help: 'Whether the group lists at least its minimum of tools and its canary (if any) last succeeded (1) or not (0).',
    labels: ['target', 'group'],
  }),
  probeLastSuccess: def({
    name: 'mcp_probe_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last successful probe, in seconds.',
    labels: ['target'],
  }),
  probeHttpStatus: def({
    name: 'mcp_probe_http_status_code',
    type: 'gauge',
    help: 'Last HTTP status code seen by the probe (0 for stdio or no answer).',
    labels: ['target'],
  }),
  probeTlsExpiry: def({
    name: 'mcp_probe_tls_cert_expiry_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time when the earliest peer certificate expires, in seconds.',
    labels: ['target'],
  }),
  clientOperationDuration: def({
    name: 'mcp_client_operation_duration_seconds',
    type: 'histogram',
    help: 'Duration of MCP operations made by the prober, in seconds (OTel mcp.client.operation.duration).',
    labels: ['target', 'mcp_method_name', 'error_type', 'mcp_protocol_version', 'network_transport'],
    buckets: OPERATION_BUCKETS_SECONDS,
  }),
  serverInfo: def({
    name: 'mcp_server_info',
    type: 'gauge',
    help: 'What answered the last successful handshake; always 1.',
    labels: ['target', 'server_name', 'server_version', 'protocol_version', 'transport'],
  }),
  serverTools: def({
    name: 'mcp_server_tools',
    type: 'gauge',
    help: 'Number of tools the server lists (all pages).',
    labels: ['target'],
  }),
  serverToolListInfo: def({
    name: 'mcp_server_tool_list_info',
    type: 'gauge',
    help: 'Stable hash of the tool list (names, descriptions, schemas); always 1.',
    labels: ['target', 'hash'],
  }),
  serverToolListChanges: def({
    name: 'mcp_server_tool_list_changes_total',
    type: 'counter',
    help: 'Times the tool list changed since the previous probe.',
    labels: ['target'],
  }),

  probeFanoutSuccess: def({
    name: 'mcp_probe_fanout_success',
    type: 'gauge',
    help: 'Whether every session of the last fan-out round completed its call (1) or not (0).',
    labels: ['target'],
  }),
  probeFanoutSessions: def({
    name: 'mcp_probe_fanout_sessions',
    type: 'gauge',
    help: 'Sessions opened in the last fan-out round (the configured N).',
    labels: ['target'],
  }),
  probeFanoutSessionsCompleted: def({
    name: 'mcp_probe_fanout_sessions_completed',
    type: 'gauge',
    help: 'Sessions of the last fan-out round that completed their call.',
    labels: ['target'],
  }),
  probeFanoutDuration: def({
    name: 'mcp_probe_fanout_duration_seconds',
    type: 'gauge',
    help: 'Call latency across the N sessions of the last fan-out round, by quantile (0.5, 0.99), in seconds.',
    labels: ['target', 'quantile'],
  }),
  probeFanoutBaselineDuration: def({
    name: 'mcp_probe_fanout_baseline_duration_seconds',
    type: 'gauge',
    help: 'Latency of the same call in a single session in the last fan-out round, in seconds.',
    labels: ['target'],
  }),
  probeFanoutSlowdownRatio: def({
    name: 'mcp_probe_fanout_slowdown_ratio',
    type: 'gauge',
    help: 'p99 call latency at N sessions divided by the single-session baseline of the last fan-out round.',
    labels: ['target'],
  }),

  // Inside the server: scraped from its own metrics or measured by the proxy.
  serverSessionsActive: def({
    name: 'mcp_server_sessions_active',
    type: 'gauge',
    help: 'Open MCP sessions on the server.',
    labels: ['target'],
  }),
  serverSessionsExpectedMax: def({
    name: 'mcp_server_sessions_expected_max',
    type: 'gauge',
    help: 'Expected maximum concurrent sessions (multi-agent fan-out), from config.',
    labels: ['target'],
  }),
  serverToolCallsActive: def({
    name: 'mcp_server_tool_calls_active',
    type: 'gauge',
    help: 'Tool calls executing on the server now.',
    labels: ['target'],
  }),
  serverToolCallsMax: def({
    name: 'mcp_server_tool_calls_max',
    type: 'gauge',
    help: 'Maximum concurrent tool calls the server should run, from config tool_calls_max (absent when not configured).',
    labels: ['target'],
  }),
  serverSessionOldestAge: def({
    name: 'mcp_server_session_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest open MCP session on the server, in seconds.',
    labels: ['target'],
  }),
  serverSessionMaxAge: def({
    name: 'mcp_server_session_max_age_seconds',
    type: 'gauge',
    help: 'Maximum expected age of an MCP session, in seconds, from config session_max_age (default 1h).',
    labels: ['target'],
  }),
  serverOperationDuration: def({
    name: 'mcp_server_operation_duration_seconds',
    type: 'histogram',
    help: 'Duration of MCP operations handled by the server, in seconds (OTel mcp.server.operation.duration).',
    labels: ['target', 'mcp_method_name', 'error_type', 'gen_ai_tool_name'],
    buckets: OPERATION_BUCKETS_SECONDS,
  }),
  serverSessionDuration: def({
    name: 'mcp_server_session_duration_seconds',
    type: 'histogram',
    help: 'Duration of MCP sessions on the server, in seconds (OTel mcp.server.session.duration).',
    labels: ['target'],
    buckets: SESSION_BUCKETS_SECONDS,
  }),
  serverLatencySlo: def({
    name: 'mcp_server_latency_slo_seconds',
    type: 'gauge',
    help: 'The p99 latency objective for the server operations, in seconds, from config.',
    labels: ['target'],
  }),
  internalScrapeSuccess: def({
    name: 'mcp_internal_scrape_success',
    type: 'gauge',
    help: 'Whether the last scrape of the server own metrics worked (1) or not (0).',
    labels: ['target'],
  }),

  // The sidecar itself.
  configLastReloadSuccessful: def({
    name: 'mcpwatch_config_last_reload_successful',
    type: 'gauge',
    help: 'Whether the last configuration reload attempt succeeded (1) or not (0).',
    labels: [],
  }),
  configLastReloadSuccessTimestamp: def({
    name: 'mcpwatch_config_last_reload_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last successful configuration reload, in seconds.',
    labels: [],
  }),
  scheduleLag: def({
    name: 'mcpwatch_probe_schedule_lag_seconds',
    type: 'histogram',
    help: 'How late probes started against their scheduled time, in seconds.',
    labels: [],
    buckets: LAG_BUCKETS_SECONDS,
  }),
  probesSkippedTotal: def({
    name: 'mcpwatch_probes_skipped_total',
    type: 'counter',
    help: 'Scheduled probes skipped because the previous probe of the target was still running.',
    labels: ['target'],
  }),
  internalErrorsTotal: def({
    name: 'mcpwatch_internal_errors_total',
    type: 'counter',
    help: 'Unexpected internal errors caught at a loop boundary.',
    labels: ['component'],
  }),
  targetsConfigured: def({
    name: 'mcpwatch_targets',
    type: 'gauge',
    help: 'Targets in the running configuration.',
    labels: [],
  }),
  proxyUnobservedTotal: def({
    name: 'mcpwatch_proxy_unobserved_total',
    type: 'counter',
    help: 'Bodies, SSE events and requests the proxy passed through untouched without observing them, by reason.',
    labels: ['target', 'reason'],
  }),
  proxySessionsIdleClosedTotal: def({
    name: 'mcpwatch_proxy_sessions_idle_closed_total',
    type: 'counter',
    help: 'Sessions the proxy stopped tracking after its idle timeout.',
    labels: ['target'],
  }),
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;
