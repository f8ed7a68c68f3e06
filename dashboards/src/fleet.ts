/**
 * Fleet overview: in one glance, which MCP servers are down and why, how their latency compares
 * with their own baseline, and what changed (tool lists, certificates, alerts).
 */
import {
  DRILL_DOWN_LINK,
  SEL,
  UIDS,
  baseDashboard,
  boolMapping,
  datasourceVariable,
  finish,
  greenFrom,
  redFrom,
  row,
  scopeVariables,
  statPanel,
  stateTimelinePanel,
  tablePanel,
  timeseriesPanel,
  type DashboardJson,
} from './common.js';

/** Panels of this dashboard that may rightly show no data, with the reason (for the data test). */
export const FLEET_ALLOW_EMPTY: Record<string, string> = {
  'TLS certificate expiry': 'only targets probed over https export a certificate expiry',
  'Firing alerts': 'no mcpwatch alert is firing in a healthy fleet',
};

/** Builds the fleet overview dashboard (uid `mcpwatch-fleet`). */
export function fleetDashboard(): DashboardJson {
  const b = baseDashboard(
    UIDS.fleet,
    'mcpwatch / Fleet overview',
    'Every MCP server mcpwatch probes: up or down now, success ratio, latency against its own baseline, failures by reason, certificates, tool-list changes and firing alerts.',
  )
    .variables([datasourceVariable(), ...scopeVariables('mcp_probe_success', true)])
    .withPanel(
      statPanel({
        title: 'Targets up',
        description: 'Targets whose last probe succeeded (mcp_probe_success = 1).',
        unit: 'short',
        queries: [{ expr: `sum(mcp_probe_success{${SEL}})`, instant: true }],
        width: 4,
        height: 4,
        thresholds: [{ value: null, color: 'green' }],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Targets down',
        description:
          'Targets whose last probe failed. Any value above zero needs a look: the table and the failure reasons below say which and why.',
        unit: 'short',
        queries: [{ expr: `sum(1 - mcp_probe_success{${SEL}})`, instant: true }],
        width: 4,
        height: 4,
        thresholds: redFrom(1),
        background: true,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Target status',
        description: 'Last probe result per target. Click a tile to open the target drill-down.',
        unit: 'none',
        queries: [{ expr: `mcp_probe_success{${SEL}}`, legend: '{{target}}', instant: true }],
        width: 16,
        height: 4,
        mappings: boolMapping('UP', 'DOWN'),
        thresholds: greenFrom(1),
        background: true,
        links: [DRILL_DOWN_LINK],
      }),
    )
    .withPanel(
      tablePanel({
        title: 'Targets',
        description:
          'One row per target and mcpwatch instance: last result, failed probes in a row, time since the last success, last probe duration, last HTTP status and tools listed. Click a target to drill down.',
        unit: 'short',
        // Same label set on every query (no __name__), so Grafana's merge joins them into one row.
        queries: [
          `mcp_probe_success{${SEL}}`,
          `mcp_probe_consecutive_failures{${SEL}}`,
          `time() - mcp_probe_last_success_timestamp_seconds{${SEL}}`,
          `mcp_probe_duration_seconds{${SEL}}`,
          `mcp_probe_http_status_code{${SEL}}`,
          `mcp_server_tools{${SEL}}`,
        ].map((e) => ({ expr: `max by (job, instance, target) (${e})`, instant: true, table: true })),
        width: 24,
        height: 8,
        hide: ['Time', '__name__'],
        rename: {
          'Value #A': 'Up',
          'Value #B': 'Consecutive failures',
          'Value #C': 'Since last success',
          'Value #D': 'Last duration',
          'Value #E': 'HTTP status',
          'Value #F': 'Tools',
        },
        columnUnits: { 'Since last success': 's', 'Last duration': 's', 'HTTP status': 'none' },
        links: [DRILL_DOWN_LINK],
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Up / down history',
        description: 'Result of the last probe over time, per target: red stretches are outages as a client saw them.',
        unit: 'none',
        queries: [{ expr: `mcp_probe_success{${SEL}}`, legend: '{{target}} ({{instance}})' }],
        width: 24,
        height: 6,
        mappings: boolMapping('UP', 'DOWN'),
        thresholds: greenFrom(1),
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe success ratio',
        description: 'Share of probes that succeeded per target, from mcp_probes_total over the rate interval.',
        unit: 'percentunit',
        queries: [
          {
            expr:
              `sum by (target) (rate(mcp_probes_total{${SEL}, result="success"}[$__rate_interval]))` +
              ` / sum by (target) (rate(mcp_probes_total{${SEL}}[$__rate_interval]))`,
            legend: '{{target}}',
          },
        ],
        width: 12,
        height: 8,
        min: 0,
        max: 1,
        links: [DRILL_DOWN_LINK],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe duration vs baseline',
        description:
          'Total duration of the last probe per target (solid) against its own baseline, the median over the last 24 hours (dashed). MCPProbeLatencyHigh fires when the 5-minute mean stays above 3x a baseline of this kind.',
        unit: 's',
        queries: [
          { expr: `mcp_probe_duration_seconds{${SEL}}`, legend: '{{target}} ({{instance}})' },
          {
            expr: `quantile_over_time(0.5, mcp_probe_duration_seconds{${SEL}}[1d])`,
            legend: '{{target}} ({{instance}}) baseline',
          },
        ],
        width: 12,
        height: 8,
        dashedRegex: '.* baseline$',
        links: [DRILL_DOWN_LINK],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe failures by reason',
        description:
          'Failed probes per second by target and reason (closed set: timeout, dns, connect, tls, http_status, auth, session, unsupported_version, protocol_error, invalid_response, response_too_large, assertion, internal).',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (target, reason) (rate(mcp_probe_failures_total{${SEL}}[$__rate_interval]))`,
            legend: '{{target}}: {{reason}}',
          },
        ],
        width: 12,
        height: 8,
        bars: true,
        stacked: true,
        links: [DRILL_DOWN_LINK],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Consecutive failures',
        description: 'Failed probes in a row per target; back to 0 after a success. MCPProbeFailing fires from 2.',
        unit: 'short',
        queries: [{ expr: `mcp_probe_consecutive_failures{${SEL}}`, legend: '{{target}} ({{instance}})' }],
        width: 12,
        height: 8,
        min: 0,
        decimals: 0,
        thresholds: redFrom(2, 1),
      }),
    )
    .withPanel(
      statPanel({
        title: 'TLS certificate expiry',
        description:
          'Days until the earliest peer certificate of each https target expires. Orange under 14 days, red under 7.',
        unit: 'd',
        queries: [
          {
            expr: `(mcp_probe_tls_cert_expiry_timestamp_seconds{${SEL}} - time()) / 86400`,
            legend: '{{target}}',
            instant: true,
          },
        ],
        width: 12,
        height: 6,
        decimals: 1,
        thresholds: greenFrom(14, 7),
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Tool-list changes',
        description:
          'Times the tool list (names, descriptions, schemas) of each target changed. A change nobody deployed deserves a look: agents see different tools.',
        unit: 'short',
        queries: [
          {
            expr: `sum by (target) (increase(mcp_server_tool_list_changes_total{${SEL}}[$__rate_interval]))`,
            legend: '{{target}}',
          },
        ],
        width: 12,
        height: 6,
        bars: true,
        min: 0,
      }),
    )
    .withRow(
      row('Alerts', true).withPanel(
        tablePanel({
          title: 'Firing alerts',
          description:
            'mcpwatch alerts (MCP*) firing now, from the ALERTS series Prometheus writes; empty when all is well.',
          unit: 'short',
          queries: [{ expr: 'ALERTS{alertstate="firing", alertname=~"MCP.*"}', instant: true, table: true }],
          width: 24,
          height: 8,
          hide: ['Time', '__name__', 'Value', 'alertstate'],
        }),
      ),
    );
  return finish(b);
}
