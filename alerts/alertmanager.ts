/**
 * The example Alertmanager configuration shipped as alerts/alertmanager.yml, as plain data: routing
 * by severity (critical -> pager, warning -> ticket, info -> low-priority), grouping by target, and
 * the inhibitions that keep one outage to one page. Pure, no side effects: an end-to-end test can
 * build its own copy pointing at its webhook with short timings.
 */

/** Options of `buildAlertmanagerConfig`; every field has a documented default. */
export interface AlertmanagerOptions {
  /** Base of the placeholder webhook URLs; receivers post to `${webhookBaseUrl}/<receiver>`. Default `http://127.0.0.1:9095`. */
  webhookBaseUrl?: string;
  /** Default 30s: long enough to batch the alerts of one outage into one notification. */
  groupWait?: string;
  /** Default 5m. */
  groupInterval?: string;
  /** Default 4h for pages, 24h for tickets and low-priority. */
  repeatInterval?: { pager: string; ticket: string; lowPriority: string };
}

/** Alertmanager receiver names, one per severity. */
export const RECEIVERS = { critical: 'pager', warning: 'ticket', info: 'low-priority' } as const;

/**
 * Alerts that MCPProbeFailing makes redundant for the same target: a down server is also slow,
 * fails its fan-out rounds and its tool canaries, errs, and holds stale sessions and calls.
 */
export const SILENCED_BY_PROBE_FAILING = [
  'MCPProbeLatencyHigh',
  'MCPLatencySLOBreach',
  'MCPLatencyBudgetBurn',
  'MCPFanoutSlowdown',
  'MCPFanoutFailing',
  'MCPSessionStuck',
  'MCPSessionsNearMax',
  'MCPToolCallsSaturated',
  'MCPServerErrorRateHigh',
  'MCPToolCanaryFailing',
  'MCPBackendMissing',
] as const;

/** The Alertmanager config object (serialise it as YAML). Never throws. */
export function buildAlertmanagerConfig(options: AlertmanagerOptions = {}) {
  const base = options.webhookBaseUrl ?? 'http://127.0.0.1:9095';
  const repeat = options.repeatInterval ?? { pager: '4h', ticket: '24h', lowPriority: '24h' };
  const receiver = (name: string) => ({ name, webhook_configs: [{ url: `${base}/${name}`, send_resolved: true }] });
  // The labels that identify one probed target seen by one mcpwatch (a sidecar per pod).
  const sameTarget = ['job', 'instance', 'target'];
  return {
    route: {
      receiver: RECEIVERS.warning,
      group_by: ['alertname', 'target'],
      group_wait: options.groupWait ?? '30s',
      group_interval: options.groupInterval ?? '5m',
      repeat_interval: repeat.ticket,
      routes: [
        { receiver: RECEIVERS.critical, matchers: ['severity="critical"'], repeat_interval: repeat.pager },
        { receiver: RECEIVERS.warning, matchers: ['severity="warning"'], repeat_interval: repeat.ticket },
        { receiver: RECEIVERS.info, matchers: ['severity="info"'], repeat_interval: repeat.lowPriority },
      ],
    },
    inhibit_rules: [
      {
        // A target that fails its probes is also slow and out of SLO: page once, for the failure.
        source_matchers: ['alertname="MCPProbeFailing"'],
        target_matchers: [`alertname=~"${SILENCED_BY_PROBE_FAILING.join('|')}"`],
        equal: sameTarget,
      },
      {
        // Over 120 % of the expected sessions makes the 90 % warning of the same target redundant.
        source_matchers: ['alertname="MCPSessionsOverrun"'],
        target_matchers: ['alertname="MCPSessionsNearMax"'],
        equal: sameTarget,
      },
      {
        // A missing backend fails its tools' canaries too: the backend is the one ticket.
        source_matchers: ['alertname="MCPBackendMissing"'],
        target_matchers: ['alertname="MCPToolCanaryFailing"'],
        equal: sameTarget,
      },
      {
        // A sidecar that cannot be scraped makes every other alert about it stale.
        source_matchers: ['alertname="MCPWatchDown"'],
        target_matchers: ['alertname!="MCPWatchDown"'],
        equal: ['job', 'instance'],
      },
      {
        // MCPTLSCertExpiringSoon at critical makes the warning of the same certificate redundant.
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ['alertname', ...sameTarget],
      },
    ],
    receivers: [receiver(RECEIVERS.critical), receiver(RECEIVERS.warning), receiver(RECEIVERS.info)],
  };
}
