/**
 * mcpwatch itself, by the USE method: utilisation (CPU, memory), saturation (event-loop lag,
 * schedule lag, skipped probes, file descriptors) and errors (internal errors, failed reloads,
 * failed scrapes), plus the work it does (probe durations, scrape durations).
 */
import {
  JOB_INSTANCE,
  SEL,
  UIDS,
  baseDashboard,
  boolMapping,
  datasourceVariable,
  finish,
  quantiles,
  greenFrom,
  row,
  scopeVariables,
  statPanel,
  stateTimelinePanel,
  timeseriesPanel,
  type DashboardJson,
} from './common.js';

/** Panels of this dashboard that may rightly show no data, with the reason (for the data test). */
export const SELF_ALLOW_EMPTY: Record<string, string> = {
  'Internal errors': 'the counter has a series per component only once that component caught an error',
  'Probes skipped': 'a probe is skipped only when the previous one of the same target overran its interval',
};

/** Builds the mcpwatch self-monitoring dashboard (uid `mcpwatch-self`). */
export function selfDashboard(): DashboardJson {
  const b = baseDashboard(
    UIDS.self,
    'mcpwatch / mcpwatch itself',
    'The mcpwatch sidecar itself, by the USE method: CPU, memory, event-loop and schedule lag, skipped probes, internal errors, config reloads, and the probes and scrapes it runs.',
  )
    .variables([datasourceVariable(), ...scopeVariables('mcpwatch_config_last_reload_successful', true)])
    .withRow(row('Health'))
    .withPanel(
      statPanel({
        title: 'Scraped by Prometheus',
        description: 'Whether Prometheus could scrape each mcpwatch instance (up); MCPWatchDown fires when it cannot.',
        unit: 'none',
        queries: [{ expr: `up{${JOB_INSTANCE}}`, legend: '{{instance}}', instant: true }],
        width: 6,
        height: 4,
        mappings: boolMapping('UP', 'DOWN'),
        thresholds: greenFrom(1),
        background: true,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Last config reload',
        description:
          'Whether the last configuration reload worked. A failed reload keeps the previous configuration running; fix the file and reload again.',
        unit: 'none',
        queries: [
          { expr: `mcpwatch_config_last_reload_successful{${JOB_INSTANCE}}`, legend: '{{instance}}', instant: true },
        ],
        width: 6,
        height: 4,
        mappings: boolMapping('OK', 'FAILED'),
        thresholds: greenFrom(1),
        background: true,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Last successful reload',
        description: 'When the running configuration was loaded.',
        unit: 'dateTimeAsIso',
        queries: [
          {
            expr: `mcpwatch_config_last_reload_success_timestamp_seconds{${JOB_INSTANCE}} * 1000`,
            legend: '{{instance}}',
            instant: true,
          },
        ],
        width: 6,
        height: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Targets configured',
        description: 'Targets in the running configuration of each instance.',
        unit: 'short',
        queries: [{ expr: `mcpwatch_targets{${JOB_INSTANCE}}`, legend: '{{instance}}', instant: true }],
        width: 6,
        height: 4,
      }),
    )
    .withRow(row('Utilisation and saturation'))
    .withPanel(
      timeseriesPanel({
        title: 'CPU',
        description: 'CPU time used per second of wall time (1 = one full core), user and system together.',
        unit: 'percentunit',
        queries: [
          { expr: `rate(process_cpu_seconds_total{${JOB_INSTANCE}}[$__rate_interval])`, legend: '{{instance}}' },
        ],
        width: 8,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Memory',
        description:
          'Resident set size of the process, and the V8 heap used and allocated. A heap that only grows is a leak.',
        unit: 'bytes',
        queries: [
          { expr: `process_resident_memory_bytes{${JOB_INSTANCE}}`, legend: 'resident ({{instance}})' },
          { expr: `nodejs_heap_size_used_bytes{${JOB_INSTANCE}}`, legend: 'heap used ({{instance}})' },
          { expr: `nodejs_heap_size_total_bytes{${JOB_INSTANCE}}`, legend: 'heap total ({{instance}})' },
        ],
        width: 8,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Event-loop lag',
        description:
          'p50 and p99 of the Node.js event-loop delay. High lag delays every probe and makes its timings too long.',
        unit: 's',
        queries: [
          { expr: `nodejs_eventloop_lag_p50_seconds{${JOB_INSTANCE}}`, legend: 'p50 ({{instance}})' },
          { expr: `nodejs_eventloop_lag_p99_seconds{${JOB_INSTANCE}}`, legend: 'p99 ({{instance}})' },
        ],
        width: 8,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Schedule lag',
        description:
          'p50, p90 and p99 of how late probes started against their scheduled slot (mcpwatch_probe_schedule_lag_seconds). Growing lag means mcpwatch is saturated.',
        unit: 's',
        queries: quantiles('mcpwatch_probe_schedule_lag_seconds_bucket', JOB_INSTANCE, 'instance', ' ({{instance}})'),
        width: 8,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probes skipped',
        description:
          'Scheduled probes skipped per second because the previous probe of the same target was still running: the interval is too short for the timeout.',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (target) (rate(mcpwatch_probes_skipped_total{${SEL}}[$__rate_interval]))`,
            legend: '{{target}}',
          },
        ],
        width: 8,
        height: 8,
        bars: true,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Open file descriptors',
        description:
          'File descriptors the process holds against its limit (dashed): sockets to targets and clients count here.',
        unit: 'short',
        queries: [
          { expr: `process_open_fds{${JOB_INSTANCE}}`, legend: 'open ({{instance}})' },
          { expr: `process_max_fds{${JOB_INSTANCE}}`, legend: 'limit ({{instance}})' },
        ],
        width: 8,
        height: 8,
        min: 0,
        dashedRegex: '^limit .*',
      }),
    )
    .withRow(row('Errors and work'))
    .withPanel(
      timeseriesPanel({
        title: 'Internal errors',
        description:
          'Unexpected errors caught at a loop boundary per second, by component. Anything above zero is a bug worth reporting.',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (component) (rate(mcpwatch_internal_errors_total{${JOB_INSTANCE}}[$__rate_interval]))`,
            legend: '{{component}}',
          },
        ],
        width: 8,
        height: 8,
        bars: true,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probe durations',
        description: 'Total duration of the last probe of each target: the work each probe costs mcpwatch.',
        unit: 's',
        queries: [{ expr: `mcp_probe_duration_seconds{${SEL}}`, legend: '{{target}} ({{instance}})' }],
        width: 8,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Probes run',
        description: 'Probes run per second, by result, over all selected targets.',
        unit: 'ops',
        queries: [{ expr: `sum by (result) (rate(mcp_probes_total{${SEL}}[$__rate_interval]))`, legend: '{{result}}' }],
        width: 8,
        height: 8,
        stacked: true,
        min: 0,
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Internal metrics scrapes',
        description:
          "Whether each scrape of a server's own metrics endpoint worked, per target (targets without internal metrics have no lane).",
        unit: 'none',
        queries: [{ expr: `mcp_internal_scrape_success{${SEL}}`, legend: '{{target}} ({{instance}})' }],
        width: 12,
        height: 8,
        mappings: boolMapping('OK', 'FAILED'),
        thresholds: greenFrom(1),
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Prometheus scrape duration',
        description:
          'How long Prometheus took to scrape /metrics of each instance; grows with the number of targets and histogram series.',
        unit: 's',
        queries: [{ expr: `scrape_duration_seconds{${JOB_INSTANCE}}`, legend: '{{instance}}' }],
        width: 12,
        height: 8,
        min: 0,
      }),
    );
  return finish(b);
}
