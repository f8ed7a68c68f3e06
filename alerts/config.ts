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
  /** MCPToolCanaryFailing: one tool's canary failed this many times in a row. */
  toolCanary: { consecutiveFailures: number; for: string };
  /** MCPBackendMissing: a tool group down (under its min, or its canary failing) this long. */
  toolGroup: { for: string };
  watchDown: { for: string };
  probeLatency: {
    /** Fire above this multiple of the target's own baseline. */
    ratio: number;
    /**
     * ...and only above this absolute latency: low enough that a typical 50-200 ms server that
     * triples fires, high enough that millisecond jitter of a loopback server (2 ms -> 7 ms) never does.
     */
    floorSeconds: number;
    /** Window of the mean probe duration that is compared with the baseline. */
    avgWindow: string;
    /** The baseline is the median of the mean over this window... */
    baselineWindow: string;
    /** ...ending this long ago, so an ongoing incident does not raise its own baseline. */
    baselineOffset: string;
    for: string;
  };
  /** `for:` is shared by MCPSessionsOverrun and MCPSessionsNearMax. */
  sessions: { overrunRatio: number; nearMaxRatio: number; for: string };
  /** MCPSessionStuck: oldest open session older than mcp_server_session_max_age_seconds. */
  sessionStuck: { for: string };
  /** MCPServerErrorRateHigh: share of server operations with a non-empty error_type. */
  errorRate: {
    window: string;
    /** Fire above this fraction of operations failing (0.05 = 5 %). */
    ratio: number;
    /**
     * Traffic floor, as an average rate over `window`: fewer operations never page (3 of 3 failing
     * is noise). 6/min over 10m is 60 operations, so at 5 % it takes at least 3 failures to fire.
     */
    minOperationsPerMinute: number;
    for: string;
  };
  /** MCPToolCallsSaturated: mcp_server_tool_calls_active at this fraction of mcp_server_tool_calls_max. */
  toolCalls: { saturationRatio: number; for: string };
  fanout: {
    /** MCPFanoutSlowdown above this p99-at-N / single-session ratio. */
    slowdownRatio: number;
    /**
     * Longer than one fan-out round interval and shorter than two (default interval 5m): the
     * gauges hold a round's result until the next round, so one slow round never fires and
     * two slow rounds in a row do.
     */
    for: string;
  };
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
  toolCanary: { consecutiveFailures: 2, for: '0s' },
  toolGroup: { for: '2m' },
  watchDown: { for: '5m' },
  probeLatency: {
    ratio: 3,
    floorSeconds: 0.05,
    avgWindow: '5m',
    baselineWindow: '1d',
    baselineOffset: '1h',
    for: '10m',
  },
  sessions: { overrunRatio: 1.2, nearMaxRatio: 0.9, for: '10m' },
  sessionStuck: { for: '5m' },
  errorRate: { window: '10m', ratio: 0.05, minOperationsPerMinute: 6, for: '5m' },
  toolCalls: { saturationRatio: 0.9, for: '10m' },
  fanout: { slowdownRatio: 3, for: '7m' },
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
  toolGroup: { for: '2s' },
  watchDown: { for: '5s' },
  probeLatency: {
    ratio: 3,
    floorSeconds: 0.5,
    avgWindow: '10s',
    baselineWindow: '2m',
    baselineOffset: '20s',
    for: '5s',
  },
  sessions: { overrunRatio: 1.2, nearMaxRatio: 0.9, for: '2s' },
  sessionStuck: { for: '2s' },
  errorRate: { window: '30s', ratio: 0.05, minOperationsPerMinute: 6, for: '5s' },
  toolCalls: { saturationRatio: 0.9, for: '2s' },
  fanout: { slowdownRatio: 3, for: '10s' },
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
