/**
 * The mcpwatch Prometheus rules as plain data, built from an `AlertsConfig`. alerts/generate.ts
 * renders them to the YAML rule file, and deploy/kubernetes/generate.ts wraps that file's groups
 * in the Kubernetes PrometheusRule. No side effects; imports only the config and the duration parser.
 *
 * Only PromQL that Prometheus 2.42 accepts and Prometheus 3 evaluates the same way: no
 * `holt_winters`, and no matching on integer `le` values (Prometheus 3 writes `le="1.0"`); the
 * latency objective is applied with histogram_quantile instead (see `sloRules`).
 */
import { runbookUrl, SEVERITIES, type AlertsConfig, type Severity } from './config.js';
import { parseDurationMs } from '../src/config/duration.js';

/** A Prometheus recording rule. */
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

/** A Prometheus alerting rule; `severity` is always set, and the three annotations always present. */
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

/** A rule group as it appears under `groups:` of a rule file (and `spec.groups` of a PrometheusRule). */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<RecordingRule | AlertingRule>;
}

/** Recording rule names, `level:metric:operations`, derived from the configured windows. */
export function recordingNames(config: AlertsConfig) {
  const lat = config.probeLatency;
  const op = 'mcp_server_operation_duration_seconds';
  return {
    probeAvg: `target:mcp_probe_duration_seconds:avg${lat.avgWindow}`,
    probeBaseline: `target:mcp_probe_duration_seconds:avg${lat.avgWindow}_median${lat.baselineWindow}`,
    bucketRate: (w: string) => `target:${op}_bucket:rate${w}`,
    countRate: (w: string) => `target:${op}_count:rate${w}`,
    quantile: `target:${op}:${quantileName(config.slo.objective)}_${config.slo.window}`,
    errorRatio: `target:${op}_count:error_ratio_rate${config.errorRate.window}`,
  };
}

/** Seconds in a Prometheus duration (`1h30m`, units largest first, as promtool requires); throws on anything else. */
export function durationSeconds(d: string): number {
  const ms = parseDurationMs(d);
  if (ms === undefined) throw new Error(`invalid Prometheus duration: ${JSON.stringify(d)}`);
  return ms / 1000;
}

/** `p99` for 0.99, `p99_9` for 0.999: a quantile as a metric-name-safe word. */
function quantileName(q: number): string {
  return `p${num(q * 100).replace('.', '_')}`;
}

/** A number as PromQL and templates print it, without float noise (0.856, not 0.8559999999999999). */
function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}

function validate(c: AlertsConfig): void {
  const problems: string[] = [];
  const durations: Array<[string, string]> = [
    ['probeFailing.for', c.probeFailing.for],
    ['watchDown.for', c.watchDown.for],
    ['probeLatency.avgWindow', c.probeLatency.avgWindow],
    ['probeLatency.baselineWindow', c.probeLatency.baselineWindow],
    ['probeLatency.baselineOffset', c.probeLatency.baselineOffset],
    ['probeLatency.for', c.probeLatency.for],
    ['sessions.for', c.sessions.for],
    ['sessionStuck.for', c.sessionStuck.for],
    ['errorRate.window', c.errorRate.window],
    ['errorRate.for', c.errorRate.for],
    ['toolCalls.for', c.toolCalls.for],
    ['fanout.for', c.fanout.for],
    ['slo.window', c.slo.window],
    ['slo.for', c.slo.for],
    ['tls.for', c.tls.for],
    ['toolList.window', c.toolList.window],
    ['internalScrape.for', c.internalScrape.for],
    ...c.slo.burnWindows.flatMap((b, i): Array<[string, string]> => [
      [`slo.burnWindows[${i}].long`, b.long],
      [`slo.burnWindows[${i}].short`, b.short],
      [`slo.burnWindows[${i}].for`, b.for],
    ]),
  ];
  if (c.evaluationInterval !== undefined) durations.push(['evaluationInterval', c.evaluationInterval]);
  for (const [path, d] of durations)
    if (parseDurationMs(d) === undefined) problems.push(`${path}: invalid duration ${JSON.stringify(d)}`);
  if (!Number.isInteger(c.probeFailing.consecutiveFailures) || c.probeFailing.consecutiveFailures < 1) {
    problems.push('probeFailing.consecutiveFailures: must be an integer >= 1');
  }
  if (!(c.probeLatency.ratio > 1)) problems.push('probeLatency.ratio: must be > 1');
  if (!(c.probeLatency.floorSeconds >= 0)) problems.push('probeLatency.floorSeconds: must be >= 0');
  if (!(c.sessions.overrunRatio > 0)) problems.push('sessions.overrunRatio: must be > 0');
  if (!(c.sessions.nearMaxRatio > 0 && c.sessions.nearMaxRatio < c.sessions.overrunRatio))
    problems.push('sessions.nearMaxRatio: must be > 0 and below sessions.overrunRatio');
  if (!(c.errorRate.ratio > 0 && c.errorRate.ratio < 1)) problems.push('errorRate.ratio: must be between 0 and 1');
  if (!(c.errorRate.minOperationsPerMinute >= 0)) problems.push('errorRate.minOperationsPerMinute: must be >= 0');
  if (!(c.toolCalls.saturationRatio > 0)) problems.push('toolCalls.saturationRatio: must be > 0');
  if (!(c.fanout.slowdownRatio > 1)) problems.push('fanout.slowdownRatio: must be > 1');
  if (!(c.slo.objective > 0 && c.slo.objective < 1)) problems.push('slo.objective: must be between 0 and 1');
  if (!(c.slo.minOperations >= 0)) problems.push('slo.minOperations: must be >= 0');
  c.slo.burnWindows.forEach((b, i) => {
    if (!(b.factor * (1 - c.slo.objective) < 1))
      problems.push(`slo.burnWindows[${i}].factor: factor x error budget must be < 1`);
    if (!SEVERITIES.includes(b.severity))
      problems.push(`slo.burnWindows[${i}].severity: must be one of ${SEVERITIES.join(', ')}`);
  });
  if (!(c.tls.criticalDays < c.tls.warningDays)) problems.push('tls.criticalDays: must be below tls.warningDays');
  if (!c.runbookUrlPattern.includes('{anchor}')) problems.push('runbookUrlPattern: must contain {anchor}');
  if (problems.length > 0) throw new Error(`invalid alerts config:\n${problems.join('\n')}`);
}

/**
 * The rule groups for a config: recording rules first, then alerts. Pure: same config, same
 * output, no I/O. Throws an Error listing every problem if the config is invalid.
 */
export function buildRuleGroups(config: AlertsConfig): RuleGroup[] {
  validate(config);
  const interval = config.evaluationInterval === undefined ? {} : { interval: config.evaluationInterval };
  return [
    { name: 'mcpwatch.rules', ...interval, rules: [...probeRecordingRules(config), ...sloRecordingRules(config)] },
    { name: 'mcpwatch.alerts', ...interval, rules: alertRules(config) },
  ];
}

/** Every window the SLO rules read bucket rates over, in first-use order without repeats. */
function sloWindows(c: AlertsConfig): string[] {
  return [...new Set([c.slo.window, ...c.slo.burnWindows.flatMap((b) => [b.short, b.long])])];
}

/** Every window a count rate is recorded for: the SLO windows and the error-rate window. */
function countWindows(c: AlertsConfig): string[] {
  return [...new Set([...sloWindows(c), c.errorRate.window])];
}

function probeRecordingRules(c: AlertsConfig): RecordingRule[] {
  const n = recordingNames(c);
  const lat = c.probeLatency;
  return [
    {
      record: n.probeAvg,
      expr: `avg_over_time(mcp_probe_duration_seconds{${c.selector}}[${lat.avgWindow}])`,
    },
    {
      // The median ignores an incident shorter than half the window; the offset keeps the
      // current hour out entirely. The `and` leaves no baseline (so no alert) until the target
      // has data reaching back to the start of the window.
      record: n.probeBaseline,
      expr: [
        `quantile_over_time(0.5, ${n.probeAvg}[${lat.baselineWindow}] offset ${lat.baselineOffset})`,
        `and`,
        `present_over_time(${n.probeAvg}[${lat.baselineOffset}] offset ${lat.baselineWindow})`,
      ].join('\n'),
    },
  ];
}

function sloRecordingRules(c: AlertsConfig): RecordingRule[] {
  const n = recordingNames(c);
  const op = 'mcp_server_operation_duration_seconds';
  // `without` keeps whatever target labels the scrape adds (namespace, pod, instance).
  // gen_ai_tool_name is dropped too: it is added with the issue 14 producers (absent until then).
  const drop = 'without (mcp_method_name, error_type, gen_ai_tool_name)';
  const windows = sloWindows(c);
  const w = c.errorRate.window;
  return [
    ...windows.map((w) => ({ record: n.bucketRate(w), expr: `sum ${drop} (rate(${op}_bucket{${c.selector}}[${w}]))` })),
    ...countWindows(c).map((w) => ({
      record: n.countRate(w),
      expr: `sum ${drop} (rate(${op}_count{${c.selector}}[${w}]))`,
    })),
    { record: n.quantile, expr: `histogram_quantile(${num(c.slo.objective)}, ${n.bucketRate(c.slo.window)})` },
    {
      // Empty (no series) while nothing fails: the alert then has nothing to compare, as it should.
      record: n.errorRatio,
      expr: `sum ${drop} (rate(${op}_count{${c.selector},error_type!=""}[${w}]))\n/\n${n.countRate(w)}`,
    },
  ];
}

function alertRules(c: AlertsConfig): AlertingRule[] {
  const n = recordingNames(c);
  const sel = c.selector;
  const slo = `mcp_server_latency_slo_seconds{${sel}}`;
  const withFor = (d: string) => (durationSeconds(d) > 0 ? { for: d } : {});
  const annotations = (alert: string, summary: string, description: string) => ({
    summary,
    description,
    runbook_url: runbookUrl(c, alert),
  });
  const lat = c.probeLatency;
  const overrunPercent = num((c.sessions.overrunRatio - 1) * 100);
  const budget = 1 - c.slo.objective;

  const rules: AlertingRule[] = [
    {
      alert: 'MCPProbeFailing',
      expr: `mcp_probe_consecutive_failures{${sel}} >= ${c.probeFailing.consecutiveFailures}`,
      ...withFor(c.probeFailing.for),
      labels: { severity: 'critical' },
      annotations: annotations(
        'MCPProbeFailing',
        'MCP server {{ $labels.target }} fails its probes.',
        'Target {{ $labels.target }} failed its last {{ $value }} probes in a row (mcpwatch {{ $labels.instance }}).',
      ),
    },
    {
      alert: 'MCPBackendMissing',
      expr: `mcp_probe_tool_group_up{${sel}} == 0`,
      ...withFor(c.toolGroup.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPBackendMissing',
        'Backend {{ $labels.group }} behind MCP gateway {{ $labels.target }} is missing.',
        'Tool group {{ $labels.group }} of {{ $labels.target }} lists fewer tools than its minimum, or its canary fails, ' +
          `while the gateway itself answers (mcp_probe_tool_group_up = {{ $value }} for ${c.toolGroup.for}).`,
      ),
    },
    {
      alert: 'MCPToolCanaryFailing',
      expr: `mcp_probe_tool_consecutive_failures{${sel}} >= ${c.toolCanary.consecutiveFailures}`,
      ...withFor(c.toolCanary.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPToolCanaryFailing',
        'Tool {{ $labels.gen_ai_tool_name }} of MCP server {{ $labels.target }} fails its canary.',
        'The canary call of tool {{ $labels.gen_ai_tool_name }} on {{ $labels.target }} failed {{ $value }} times in a row ' +
          'while the server itself answers (mcp_probe_tool_failures_total says why).',
      ),
    },
    {
      // One rule (the linter rejects two with the same name and labels): `up == 0` names the
      // sidecar that cannot be scraped, `absent` covers the one that vanished from discovery.
      alert: 'MCPWatchDown',
      expr: `up{${sel}} == 0\nor\nabsent(up{${sel}})`,
      ...withFor(c.watchDown.for),
      labels: { severity: 'critical' },
      annotations: annotations(
        'MCPWatchDown',
        'mcpwatch is down{{ if $labels.instance }} at {{ $labels.instance }}{{ end }}.',
        '{{ if $labels.instance }}Prometheus cannot scrape mcpwatch at {{ $labels.instance }} (up = {{ $value }})' +
          `{{ else }}Prometheus has no up series for ${sel.replaceAll('"', "'")} (absent = {{ $value }}){{ end }}: ` +
          'the MCP servers it watches are not probed.',
      ),
    },
    {
      alert: 'MCPProbeLatencyHigh',
      expr: [
        `${n.probeAvg} > ${num(lat.ratio)} * ${n.probeBaseline}`,
        `and`,
        `${n.probeAvg} > ${num(lat.floorSeconds)}`,
      ].join('\n'),
      ...withFor(lat.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPProbeLatencyHigh',
        'Probes of MCP server {{ $labels.target }} are slow.',
        `Probes of {{ $labels.target }} took {{ $value | humanizeDuration }} on average over ${lat.avgWindow}, ` +
          `over ${num(lat.ratio)}x the target's own baseline (median over ${lat.baselineWindow}, ${lat.baselineOffset} ago).`,
      ),
    },
    {
      alert: 'MCPSessionsOverrun',
      expr: `mcp_server_sessions_active{${sel}} > ${num(c.sessions.overrunRatio)} * (mcp_server_sessions_expected_max{${sel}} > 0)`,
      ...withFor(c.sessions.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPSessionsOverrun',
        'MCP server {{ $labels.target }} has more sessions than expected.',
        `{{ $labels.target }} has {{ $value }} open MCP sessions, over ${overrunPercent} % above its expected maximum (mcp_server_sessions_expected_max).`,
      ),
    },
    {
      alert: 'MCPSessionsNearMax',
      expr: `mcp_server_sessions_active{${sel}} >= ${num(c.sessions.nearMaxRatio)} * (mcp_server_sessions_expected_max{${sel}} > 0)`,
      ...withFor(c.sessions.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPSessionsNearMax',
        'MCP server {{ $labels.target }} is close to its expected maximum of sessions.',
        `{{ $labels.target }} has {{ $value }} open MCP sessions, at least ${num(c.sessions.nearMaxRatio * 100)} % of its expected maximum (mcp_server_sessions_expected_max).`,
      ),
    },
    {
      alert: 'MCPSessionStuck',
      expr: `mcp_server_session_oldest_age_seconds{${sel}} > on (job, instance, target) mcp_server_session_max_age_seconds{${sel}}`,
      ...withFor(c.sessionStuck.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPSessionStuck',
        'MCP server {{ $labels.target }} has a session older than its maximum age.',
        'The oldest open MCP session of {{ $labels.target }} is {{ $value | humanizeDuration }} old, ' +
          'older than its maximum (mcp_server_session_max_age_seconds, config session_max_age).',
      ),
    },
    {
      alert: 'MCPServerErrorRateHigh',
      expr: [
        `${n.errorRatio} > ${num(c.errorRate.ratio)}`,
        `and`,
        `${n.countRate(c.errorRate.window)} * 60 >= ${num(c.errorRate.minOperationsPerMinute)}`,
      ].join('\n'),
      ...withFor(c.errorRate.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPServerErrorRateHigh',
        'MCP server {{ $labels.target }} answers many operations with errors.',
        `{{ $value | humanizePercentage }} of the operations of {{ $labels.target }} over the last ${c.errorRate.window} ` +
          `failed (JSON-RPC error or tool_error), above ${num(c.errorRate.ratio * 100)} %.`,
      ),
    },
    {
      alert: 'MCPToolCallsSaturated',
      // `> 0` and the gauge's absence: a target without tool_calls_max never alerts.
      expr: `mcp_server_tool_calls_active{${sel}} >= ${num(c.toolCalls.saturationRatio)} * (mcp_server_tool_calls_max{${sel}} > 0)`,
      ...withFor(c.toolCalls.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPToolCallsSaturated',
        'MCP server {{ $labels.target }} runs nearly as many tool calls as it can.',
        `{{ $labels.target }} runs {{ $value }} tool calls at once, at least ${num(c.toolCalls.saturationRatio * 100)} % of its maximum (mcp_server_tool_calls_max).`,
      ),
    },
    {
      // The value is always the slowdown ratio; the second branch fires on the objective even
      // when the server was already slow in a single session.
      alert: 'MCPFanoutSlowdown',
      expr: [
        `mcp_probe_fanout_slowdown_ratio{${sel}} > ${num(c.fanout.slowdownRatio)}`,
        `or`,
        `mcp_probe_fanout_slowdown_ratio{${sel}}`,
        `  and on (job, instance, target)`,
        `max without (quantile) (mcp_probe_fanout_duration_seconds{${sel},quantile="0.99"}) > on (job, instance, target) ${slo}`,
      ].join('\n'),
      ...withFor(c.fanout.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPFanoutSlowdown',
        'MCP server {{ $labels.target }} slows down under concurrent sessions.',
        `With concurrent sessions the p99 call latency of {{ $labels.target }} is {{ $value }}x its single-session latency ` +
          `(alert above ${num(c.fanout.slowdownRatio)}x, or p99 over mcp_server_latency_slo_seconds), for ${c.fanout.for}.`,
      ),
    },
    {
      alert: 'MCPFanoutFailing',
      expr: `mcp_probe_fanout_success{${sel}} == 0`,
      ...withFor(c.fanout.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPFanoutFailing',
        'Concurrent sessions to MCP server {{ $labels.target }} fail.',
        'Not every session of the fan-out rounds of {{ $labels.target }} completed its call ' +
          `(mcp_probe_fanout_success = {{ $value }}) for ${c.fanout.for}: the server fails under concurrency.`,
      ),
    },
    {
      alert: 'MCPLatencySLOBreach',
      expr: [
        `${n.quantile} > ${slo}`,
        `and`,
        `${n.countRate(c.slo.window)} * ${num(durationSeconds(c.slo.window))} >= ${num(c.slo.minOperations)}`,
      ].join('\n'),
      ...withFor(c.slo.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPLatencySLOBreach',
        'MCP server {{ $labels.target }} is slower than its latency objective.',
        `The ${quantileName(c.slo.objective)} latency of {{ $labels.target }} operations over ${c.slo.window} is ` +
          '{{ $value | humanizeDuration }}, above its objective (mcp_server_latency_slo_seconds).',
      ),
    },
    ...c.slo.burnWindows.map((b): AlertingRule => {
      // Burning faster than `factor` means more than factor x budget of the operations were slower
      // than the objective, i.e. the (1 - factor x budget) quantile is above the objective. Exact
      // when the objective is a bucket bound, linear interpolation inside the bucket otherwise.
      const q = num(1 - b.factor * budget);
      const over = (w: string) => `histogram_quantile(${q}, ${n.bucketRate(w)}) > ${slo}`;
      const badPercent = num(b.factor * budget * 100);
      return {
        alert: 'MCPLatencyBudgetBurn',
        expr: [
          over(b.long),
          'and',
          over(b.short),
          'and',
          `${n.countRate(b.long)} * ${num(durationSeconds(b.long))} >= ${num(c.slo.minOperations)}`,
        ].join('\n'),
        ...withFor(b.for),
        labels: { severity: b.severity, long_window: b.long, short_window: b.short },
        annotations: annotations(
          'MCPLatencyBudgetBurn',
          'MCP server {{ $labels.target }} burns its latency error budget fast.',
          `{{ $labels.target }} burns its latency error budget ${num(b.factor)}x too fast: over ${badPercent} % of operations ` +
            `in the last ${b.long} and ${b.short} were slower than the objective (the ${num(Number(q) * 100)}th percentile over ${b.long} is {{ $value | humanizeDuration }}).`,
        ),
      };
    }),
    ...(['warning', 'critical'] as const).map((severity): AlertingRule => {
      const days = severity === 'critical' ? c.tls.criticalDays : c.tls.warningDays;
      return {
        alert: 'MCPTLSCertExpiringSoon',
        // `> 0`: targets without TLS export no expiry, or 0; neither may alert.
        expr: `(mcp_probe_tls_cert_expiry_timestamp_seconds{${sel}} > 0) - time() < ${num(days * 86400)}`,
        ...withFor(c.tls.for),
        labels: { severity },
        annotations: annotations(
          'MCPTLSCertExpiringSoon',
          'The TLS certificate of MCP server {{ $labels.target }} expires soon.',
          `The TLS certificate of {{ $labels.target }} expires in {{ $value | humanizeDuration }} (alert below ${num(days)} days).`,
        ),
      };
    }),
    {
      alert: 'MCPToolListChanged',
      expr: `increase(mcp_server_tool_list_changes_total{${sel}}[${c.toolList.window}]) > 0`,
      labels: { severity: 'info' },
      annotations: annotations(
        'MCPToolListChanged',
        'The tool list of MCP server {{ $labels.target }} changed.',
        `The tool list of {{ $labels.target }} changed (about {{ printf "%.0f" $value }} time(s) in the last ${c.toolList.window}): agents now see different tools.`,
      ),
    },
    {
      alert: 'MCPInternalScrapeFailing',
      expr: `mcp_internal_scrape_success{${sel}} == 0`,
      ...withFor(c.internalScrape.for),
      labels: { severity: 'warning' },
      annotations: annotations(
        'MCPInternalScrapeFailing',
        'mcpwatch cannot read the metrics of MCP server {{ $labels.target }}.',
        'mcpwatch cannot scrape the own metrics of {{ $labels.target }} (mcp_internal_scrape_success = {{ $value }}): ' +
          'its sessions and server latency are unknown, so their alerts cannot fire.',
      ),
    },
  ];
  return rules;
}
