/**
 * Settings of the mcpwatch alert rules, the way a monitoring mixin keeps its `config.libsonnet`:
 * selectors, thresholds, windows and `for:` durations live here and nowhere else. Per-target
 * thresholds (expected max sessions, latency objective) are NOT here: mcpwatch exports them as
 * gauges, so the rules stay generic.
 */

/** `production` is what ships; `fast` shrinks windows and `for:` for end-to-end tests with 1 s probes. */
export type Profile = 'production' | 'fast';

/** Alertmanager routes on this label; the allowed set is closed. */
export type Severity = 'critical' | 'warning' | 'info';

/** The allowed `severity` values, in routing order. */
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** One multi-window burn-rate alert (Google SRE workbook, "Alerting on SLOs", method 6). */
export interface BurnWindow {
  /** Long window: the burn must have lasted this long. */
  long: string;
  /** Short window: the burn is still going on (resets the alert quickly after recovery). */
  short: string;
  /** Burn rate: how many times faster than "exactly use up the budget over the SLO period". */
  factor: number;
  for: string;
  severity: Severity;
}

export interface AlertsConfig {
  profile: Profile;
  /** Label matchers (without braces) that select mcpwatch's scrape job in every rule. */
  selector: string;
  /** Runbook link; `{anchor}` becomes the lower-case alert name, an anchor in docs/runbook.md. */
  runbookUrlPattern: string;
  /** Rule group `interval`; undefined leaves Prometheus' global evaluation_interval in charge. */
  evaluationInterval: string | undefined;
  probeFailing: { consecutiveFailures: number; for: string };
  watchDown: { for: string };
  probeLatency: {
    /** Fire above this multiple of the target's own baseline. */
    ratio: number;
    /** ...and only above this absolute latency, so 10 ms -> 40 ms on loopback never alerts. */
    floorSeconds: number;
    /** Window of the mean probe duration that is compared with the baseline. */
    avgWindow: string;
    /** The baseline is the median of the mean over this window... */
    baselineWindow: string;
    /** ...ending this long ago, so an ongoing incident does not raise its own baseline. */
    baselineOffset: string;
    for: string;
  };
  sessions: { overrunRatio: number; for: string };
  slo: {
    /** Fraction of operations that must finish within mcp_server_latency_slo_seconds. */
    objective: number;
    /** Window of the p99 compared with the objective (MCPLatencySLOBreach). */
    window: string;
    /** Traffic floor: fewer operations than this in `window` never breach (p99 of 3 calls is noise). */
    minOperations: number;
    for: string;
    burnWindows: BurnWindow[];
  };
  tls: { warningDays: number; criticalDays: number; for: string };
  toolList: { window: string };
  internalScrape: { for: string };
}

const production: AlertsConfig = {
  profile: 'production',
  selector: 'job="mcpwatch"',
  runbookUrlPattern: 'https://github.com/mcpwatch/mcpwatch/blob/main/docs/runbook.md#{anchor}',
  evaluationInterval: undefined,
  probeFailing: { consecutiveFailures: 2, for: '0s' },
  watchDown: { for: '5m' },
  probeLatency: {
    ratio: 3,
    floorSeconds: 0.5,
    avgWindow: '5m',
    baselineWindow: '1d',
    baselineOffset: '1h',
    for: '10m',
  },
  sessions: { overrunRatio: 1.2, for: '10m' },
  slo: {
    objective: 0.99,
    window: '5m',
    minOperations: 100,
    for: '10m',
    burnWindows: [
      { long: '1h', short: '5m', factor: 14.4, for: '2m', severity: 'critical' },
      { long: '6h', short: '30m', factor: 6, for: '15m', severity: 'critical' },
    ],
  },
  tls: { warningDays: 14, criticalDays: 3, for: '15m' },
  toolList: { window: '10m' },
  internalScrape: { for: '10m' },
};

/**
 * For an end-to-end test where mcpwatch probes every 1 s and Prometheus scrapes and evaluates every
 * 1 s: MCPProbeFailing fires about 2 probe intervals after the server stops, MCPSessionsOverrun
 * within a few seconds. Windows keep at least 4-5 samples at a 1 s scrape interval.
 */
const fast: AlertsConfig = {
  ...production,
  profile: 'fast',
  evaluationInterval: '1s',
  probeFailing: { consecutiveFailures: 2, for: '0s' },
  watchDown: { for: '5s' },
  probeLatency: {
    ratio: 3,
    floorSeconds: 0.5,
    avgWindow: '10s',
    baselineWindow: '2m',
    baselineOffset: '20s',
    for: '5s',
  },
  sessions: { overrunRatio: 1.2, for: '2s' },
  slo: {
    objective: 0.99,
    window: '10s',
    minOperations: 10,
    for: '3s',
    burnWindows: [
      { long: '1m', short: '10s', factor: 14.4, for: '2s', severity: 'critical' },
      { long: '3m', short: '30s', factor: 6, for: '5s', severity: 'critical' },
    ],
  },
  tls: { warningDays: 14, criticalDays: 3, for: '2s' },
  toolList: { window: '30s' },
  internalScrape: { for: '5s' },
};

/** Deep-enough partial: each section may be overridden field by field. */
export type AlertsConfigOverrides = {
  [K in keyof AlertsConfig]?: AlertsConfig[K] extends object ? Partial<AlertsConfig[K]> : AlertsConfig[K];
};

/**
 * The config of a profile with optional overrides merged section by section. Returns a fresh
 * object each call; never throws (validation happens in `buildRuleGroups`).
 */
export function alertsConfig(profile: Profile = 'production', overrides: AlertsConfigOverrides = {}): AlertsConfig {
  const base = structuredClone(profile === 'fast' ? fast : production);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = (base as unknown as Record<string, unknown>)[key];
    merged[key] =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current !== null
        ? { ...current, ...value }
        : value;
  }
  return merged as unknown as AlertsConfig;
}

/** Runbook link of an alert: the pattern with `{anchor}` replaced by the lower-case alert name. */
export function runbookUrl(config: AlertsConfig, alertName: string): string {
  return config.runbookUrlPattern.replace('{anchor}', alertName.toLowerCase());
}
