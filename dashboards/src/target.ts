/**
 * Target drill-down: one MCP server (variable `target`), to explain a bad minute. The probe as a
 * client saw it (phases, per-method latency, errors), the inside of the server (latency against
 * its SLO, sessions against the expected fan-out, tool calls in flight, session durations,
 * errors), and what answered (server info, tool list).
 */
import {
  SEL,
  UIDS,
  baseDashboard,
  boolMapping,
  datasourceVariable,
  finish,
  greenFrom,
  quantiles,
  redFrom,
  row,
  scopeVariables,
  statPanel,
  stateTimelinePanel,
  tablePanel,
  timeseriesPanel,
} from './common.js';
import type { DashboardJson } from './common.js';

/** Panels of this dashboard that may rightly show no data, with the reason (for the data test). */
export const TARGET_ALLOW_EMPTY: Record<string, string> = {
  'Probe errors by type': 'a target whose probes all succeed has no errored operations',
  'Server errors by type': 'a server that answers every operation without error has no errored operations',
};

/** Builds the target drill-down dashboard (uid `mcpwatch-target`). */
export function targetDashboard(): DashboardJson {
  const b = baseDashboard(
    UIDS.target,
    'mcpwatch / Target drill-down',
    'One MCP server in depth: probe phases and per-method latency as a client sees them, and inside the server latency against its SLO, sessions against the expected fan-out, tool calls in flight, errors and the tool list.',
  )
    .variables([datasourceVariable(), ...scopeVariables('mcp_probe_success', false)])
    .withRow(row('Probe: the server as a client sees it'))
    .withPanel(
      statPanel({
        title: 'Status',
        description: 'Result of the last probe, per mcpwatch instance probing this target.',
        unit: 'none',
        queries: [{ expr: `mcp_probe_success{${SEL}}`, legend: '{{instance}}', instant: true }],
        width: 4,
        height: 4,
        mappings: boolMapping('UP', 'DOWN'),
        thresholds: greenFrom(1),
        background: true,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Last probe duration',
        description: 'Total duration of the last probe (handshake, tools/list, canary call, close).',
        unit: 's',
        queries: [{ expr: `mcp_probe_duration_seconds{${SEL}}`, legend: '{{instance}}', instant: true }],
        width: 4,
        height: 4,
        sparkline: true,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Consecutive failures',
        description: 'Failed probes in a row; 0 after a success.',
        unit: 'short',
        queries: [{ expr: `mcp_probe_consecutive_failures{${SEL}}`, legend: '{{instance}}', instant: true }],
        width: 4,
        height: 4,
        thresholds: redFrom(2, 1),
      }),
    )
    .withPanel(
      statPanel({
        title: 'HTTP status',
        description: 'Last HTTP status code the probe saw; 0 for stdio targets or when nothing answered.',
        unit: 'none',
        queries: [{ expr: `mcp_probe_http_status_code{${SEL}}`, legend: '{{instance}}', instant: true }],
        width: 4,
        height: 4,
        thresholds: [
          { value: null, color: 'red' },
          { value: 200, color: 'green' },
          { value: 300, color: 'orange' },
          { value: 400, color: 'red' },
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Last success',
        description: 'When a probe of this target last succeeded.',
        unit: 'dateTimeAsIso',
        queries: [
          { expr: `mcp_probe_last_success_timestamp_seconds{${SEL}} * 1000`, legend: '{{instance}}', instant: true },
        ],
        width: 4,
        height: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Tools listed',
        description: 'Tools the server lists, all pages of tools/list.',
        unit: 'short',
        queries: [{ expr: `mcp_server_tools{${SEL}}`, legend: '{{instance}}', instant: true }],
        width: 4,
        height: 4,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe phase durations',
        description:
          'How long each phase of the last probe took, stacked: dns, connect, tls, handshake, tools_list, tool_call, close. The phase that grows is where the time went.',
        unit: 's',
        queries: [{ expr: `mcp_probe_phase_duration_seconds{${SEL}}`, legend: '{{phase}} ({{instance}})' }],
        width: 12,
        height: 8,
        stacked: true,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe failures by reason',
        description: 'Failed probes per second by reason, from the closed set of failure reasons.',
        unit: 'ops',
        queries: [
          { expr: `sum by (reason) (rate(mcp_probe_failures_total{${SEL}}[$__rate_interval]))`, legend: '{{reason}}' },
        ],
        width: 12,
        height: 8,
        bars: true,
        stacked: true,
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Tool canaries',
        description:
          'One row per canary tool (canary and canaries in the config): whether its last call succeeded (mcp_probe_tool_success). A red row while the server is green is MCPToolCanaryFailing: one tool, or one backend behind a gateway, is broken.',
        unit: 'none',
        queries: [
          { expr: `max by (gen_ai_tool_name) (mcp_probe_tool_success{${SEL}})`, legend: '{{gen_ai_tool_name}}' },
        ],
        width: 12,
        height: 8,
        mappings: boolMapping('OK', 'FAILED'),
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Backends (tool groups)',
        description:
          'One row per tool group of a gateway (tool_groups): up when it lists at least its minimum of tools and its canary does not fail (mcp_probe_tool_group_up). A red row while the gateway is green is MCPBackendMissing.',
        unit: 'none',
        queries: [{ expr: `max by (group) (mcp_probe_tool_group_up{${SEL}})`, legend: '{{group}}' }],
        width: 12,
        height: 8,
        mappings: boolMapping('UP', 'MISSING'),
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Tool canary duration',
        description: 'How long the last canary call of each tool took (mcp_probe_tool_duration_seconds).',
        unit: 's',
        queries: [
          {
            expr: `max by (gen_ai_tool_name) (mcp_probe_tool_duration_seconds{${SEL}})`,
            legend: '{{gen_ai_tool_name}}',
          },
        ],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe operation latency by method',
        description:
          'p50, p90 and p99 of each MCP operation the prober made (initialize, tools/list, tools/call...), from mcp_client_operation_duration_seconds.',
        unit: 's',
        queries: quantiles(
          'mcp_client_operation_duration_seconds_bucket',
          SEL,
          'mcp_method_name',
          ' {{mcp_method_name}}',
        ),
        width: 12,
        height: 8,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe errors by type',
        description: 'Prober operations per second that ended in an error, by method and error type.',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (mcp_method_name, error_type) (rate(mcp_client_operation_duration_seconds_count{${SEL}, error_type!=""}[$__rate_interval]))`,
            legend: '{{mcp_method_name}}: {{error_type}}',
          },
        ],
        width: 12,
        height: 8,
        bars: true,
        stacked: true,
      }),
    )
    .withRow(row('Fan-out: N sessions at once'))
    .withPanel(
      timeseriesPanel({
        title: 'Fan-out latency vs one session',
        description:
          'The call of the last fan-out round: p50 and p99 across its N concurrent sessions (mcp_probe_fanout_duration_seconds) against the same call in one session (baseline, dashed) and the p99 objective. Targets without `fanout` show nothing here.',
        unit: 's',
        queries: [
          { expr: `max by (quantile) (mcp_probe_fanout_duration_seconds{${SEL}})`, legend: 'p{{quantile}} at N' },
          { expr: `max(mcp_probe_fanout_baseline_duration_seconds{${SEL}})`, legend: 'one session' },
          { expr: `max(mcp_server_latency_slo_seconds{${SEL}})`, legend: 'p99 objective' },
        ],
        width: 12,
        height: 8,
        min: 0,
        dashedRegex: '^(one session|p99 objective)$',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Fan-out slowdown',
        description:
          'p99 at N sessions divided by the single-session latency, per round (mcp_probe_fanout_slowdown_ratio). A server that scales stays near 1x; MCPFanoutSlowdown fires above 3x (dashed) for two rounds in a row.',
        unit: 'suffix:x',
        queries: [
          { expr: `max(mcp_probe_fanout_slowdown_ratio{${SEL}})`, legend: 'slowdown' },
          { expr: `vector(3) and on () count(mcp_probe_fanout_slowdown_ratio{${SEL}})`, legend: 'alert (3x)' },
        ],
        width: 6,
        height: 8,
        min: 0,
        dashedRegex: '^alert',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Fan-out sessions completed',
        description:
          'Sessions of the last round that completed their call, against the sessions opened (mcp_probe_fanout_sessions, dashed). Fewer means the server drops or times out sessions under concurrency (MCPFanoutFailing).',
        unit: 'short',
        queries: [
          { expr: `max(mcp_probe_fanout_sessions_completed{${SEL}})`, legend: 'completed' },
          { expr: `max(mcp_probe_fanout_sessions{${SEL}})`, legend: 'opened' },
        ],
        width: 6,
        height: 8,
        min: 0,
        dashedRegex: '^opened$',
      }),
    )
    .withRow(row('Inside the server (scraped or proxied)'))
    .withPanel(
      timeseriesPanel({
        title: 'Server operation latency vs SLO',
        description:
          'p50, p90 and p99 of the operations the server handled, by method (mcp_server_operation_duration_seconds), against the p99 objective from config (dashed). MCPLatencySLOBreach fires when p99 stays above it.',
        unit: 's',
        queries: [
          ...quantiles('mcp_server_operation_duration_seconds_bucket', SEL, 'mcp_method_name', ' {{mcp_method_name}}'),
          { expr: `max(mcp_server_latency_slo_seconds{${SEL}})`, legend: 'p99 objective' },
        ],
        width: 12,
        height: 8,
        dashedRegex: '^p99 objective$',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Server operations by method',
        description: 'Operations per second the server handled, by method: the traffic behind the latency quantiles.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (mcp_method_name) (rate(mcp_server_operation_duration_seconds_count{${SEL}}[$__rate_interval]))`,
            legend: '{{mcp_method_name}}',
          },
        ],
        width: 12,
        height: 8,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Sessions vs expected max',
        description:
          'Open MCP sessions per instance against the expected maximum fan-out from config (dashed) and the overrun line at +20 % where MCPSessionsOverrun fires.',
        unit: 'short',
        queries: [
          { expr: `mcp_server_sessions_active{${SEL}}`, legend: 'sessions ({{instance}})' },
          { expr: `max(mcp_server_sessions_expected_max{${SEL}})`, legend: 'expected max' },
          { expr: `1.2 * max(mcp_server_sessions_expected_max{${SEL}})`, legend: 'overrun (+20 %)' },
        ],
        width: 8,
        height: 8,
        min: 0,
        dashedRegex: '^(expected max|overrun.*)$',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Tool calls in flight',
        description:
          'Tool calls executing on the server now, per instance: concurrency that sessions alone do not show.',
        unit: 'short',
        queries: [
          { expr: `mcp_server_tool_calls_active{${SEL}}`, legend: '{{instance}}' },
          { expr: `max(mcp_server_tool_calls_max{${SEL}})`, legend: 'limit' },
          { expr: `0.9 * max(mcp_server_tool_calls_max{${SEL}})`, legend: 'saturated (90 %)' },
        ],
        width: 8,
        height: 8,
        min: 0,
        dashedRegex: '^(limit|saturated.*)$',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Session durations',
        description:
          'p50, p90 and p99 of how long MCP sessions on the server lasted (mcp_server_session_duration_seconds), over sessions that ended in the interval.',
        unit: 's',
        queries: quantiles('mcp_server_session_duration_seconds_bucket', SEL, '', ''),
        width: 8,
        height: 8,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Oldest open session vs max age',
        description:
          'Age of the oldest session still open on the server (mcp_server_session_oldest_age_seconds) against session_max_age from config (dashed): a leaked session climbs without end and never reaches the session-duration histogram. MCPSessionStuck fires above the line.',
        unit: 's',
        queries: [
          { expr: `mcp_server_session_oldest_age_seconds{${SEL}}`, legend: 'oldest ({{instance}})' },
          { expr: `max(mcp_server_session_max_age_seconds{${SEL}})`, legend: 'max age' },
        ],
        width: 8,
        height: 8,
        min: 0,
        dashedRegex: '^max age$',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Server error ratio',
        description:
          "Share of server operations that failed, HTTP 200 or not: JSON-RPC errors, isError tool results, the proxy's http_<status> (non-empty error_type). MCPServerErrorRateHigh fires over 5 % (dashed) with enough traffic.",
        unit: 'percentunit',
        queries: [
          {
            expr: `sum(rate(mcp_server_operation_duration_seconds_count{${SEL}, error_type!=""}[$__rate_interval])) / sum(rate(mcp_server_operation_duration_seconds_count{${SEL}}[$__rate_interval]))`,
            legend: 'errors',
          },
          {
            expr: `vector(0.05) and on () count(mcp_server_operation_duration_seconds_count{${SEL}})`,
            legend: 'alert (5 %)',
          },
        ],
        width: 8,
        height: 8,
        min: 0,
        dashedRegex: '^alert',
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Sessions ended by idle timeout',
        description:
          'Sessions the proxy counted as ended because they stayed idle past idle_timeout (mcpwatch_proxy_sessions_idle_closed_total): agents that left without DELETE.',
        unit: 'short',
        queries: [
          {
            expr: `sum(increase(mcpwatch_proxy_sessions_idle_closed_total{${SEL}}[$__rate_interval]))`,
            legend: 'idle closes',
          },
        ],
        width: 8,
        height: 8,
        min: 0,
        bars: true,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Slowest tools (p99)',
        description:
          'p99 of tools/call by tool (gen_ai_tool_name), the five slowest: which tool makes the server slow. Tools not in the last tool list are _other.',
        unit: 's',
        queries: [
          {
            expr: `topk(5, histogram_quantile(0.99, sum by (le, gen_ai_tool_name) (rate(mcp_server_operation_duration_seconds_bucket{${SEL}, mcp_method_name="tools/call"}[$__rate_interval]))))`,
            legend: '{{gen_ai_tool_name}}',
          },
        ],
        width: 12,
        height: 8,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Server errors by type',
        description:
          'Operations per second the server answered with an error, by method and error type (JSON-RPC code or tool_error).',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (mcp_method_name, error_type) (rate(mcp_server_operation_duration_seconds_count{${SEL}, error_type!=""}[$__rate_interval]))`,
            legend: '{{mcp_method_name}}: {{error_type}}',
          },
        ],
        width: 12,
        height: 8,
        bars: true,
        stacked: true,
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Internal metrics scrape',
        description:
          "Whether mcpwatch could read the server's own metrics endpoint; red means the panels of this row are stale.",
        unit: 'none',
        queries: [{ expr: `mcp_internal_scrape_success{${SEL}}`, legend: '{{instance}}' }],
        width: 12,
        height: 8,
        mappings: boolMapping('OK', 'FAILED'),
        thresholds: greenFrom(1),
      }),
    )
    .withRow(row('What answered: server and tools'))
    .withPanel(
      tablePanel({
        title: 'Server info',
        description:
          'What answered the last successful handshake: server name and version, negotiated protocol version, transport.',
        unit: 'short',
        queries: [{ expr: `mcp_server_info{${SEL}}`, instant: true, table: true }],
        width: 24,
        height: 5,
        hide: ['Time', '__name__', 'Value'],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Tool count and tool-list changes',
        description:
          'Tools listed (line) and times the tool list changed (bars). A change nobody deployed means agents now see different tools.',
        unit: 'short',
        queries: [
          { expr: `mcp_server_tools{${SEL}}`, legend: 'tools ({{instance}})' },
          { expr: `sum(increase(mcp_server_tool_list_changes_total{${SEL}}[$__rate_interval]))`, legend: 'changes' },
        ],
        width: 12,
        height: 8,
        min: 0,
      }).overrideByName('changes', [
        { id: 'custom.drawStyle', value: 'bars' },
        { id: 'custom.fillOpacity', value: 80 },
      ]),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Tool-list versions',
        description: 'Which tool-list hash the server exposed over time: each colour change is a tool-list change.',
        unit: 'none',
        queries: [{ expr: `mcp_server_tool_list_info{${SEL}}`, legend: '{{hash}}' }],
        width: 12,
        height: 8,
      }),
    );
  return finish(b);
}
