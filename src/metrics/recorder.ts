/**
 * The one place that turns results into Prometheus metrics. Probers never touch prom-client.
 * Every metric lives in the registry passed in (never the global one); series for closed sets
 * (phases, reasons, results) are created up front so `rate()` and alerts see zeros, not gaps.
 */
import type { Registry } from 'prom-client';
import { SeriesCounter, SeriesGauge, SeriesHistogram } from './series.js';
import { METRICS, PROXY_UNOBSERVED_REASONS, type MetricDef, type ProxyUnobservedReason } from './names.js';
import { FAILURE_REASONS, PHASES, type FanoutResult, type ProbeResult } from '../probe/types.js';
import type { TargetConfig, ToolGroupConfig } from '../config/schema.js';
import { globRegExp } from '../config/glob.js';
import { safeLabel } from '../net/labels.js';
import type { HistogramSeries, ScrapeResult } from '../scrape/types.js';

type AnyMetric = SeriesGauge | SeriesCounter | SeriesHistogram;

/** Histograms whose observations carry the trace id of a recent probe (docs/tracing.md). */
const EXEMPLAR_METRICS: ReadonlySet<string> = new Set([METRICS.clientOperationDuration.name]);

function build(def: MetricDef, registry: Registry): AnyMetric {
  // Our own metric classes (series.ts), registered through prom-client's public registerMetric().
  const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
  if (def.type === 'gauge') return new SeriesGauge(common);
  if (def.type === 'counter') return new SeriesCounter(common);
  // Exemplars appear only in OpenMetrics scrapes (server/app.ts switches on the Accept header);
  // the text format omits them.
  return new SeriesHistogram({
    ...common,
    buckets: [...(def.buckets ?? [])],
    enableExemplars: EXEMPLAR_METRICS.has(def.name),
  });
}

type Metrics = {
  [K in keyof typeof METRICS]: (typeof METRICS)[K]['type'] extends 'gauge'
    ? SeriesGauge
    : (typeof METRICS)[K]['type'] extends 'counter'
      ? SeriesCounter
      : SeriesHistogram;
};

/** Builds every metric of the contract in `registry`. */
export function createMetrics(registry: Registry): Metrics {
  const out: Record<string, AnyMetric> = {};
  for (const [key, def] of Object.entries(METRICS)) out[key] = build(def, registry);
  return out as Metrics;
}

/** Which standard metric a scrape supplied for a target: the scrape wins over the proxy for it. */
type InternalPart = 'sessions' | 'toolCalls' | 'oldestSession';

interface TargetMemo {
  consecutiveFailures: number;
  serverInfo?: Record<string, string>;
  toolHash?: string;
  /** `gen_ai_tool_name` values allowed for this target: its last tool list's names. */
  toolNames?: Set<string>;
  /** Configured canary tools, and each one's failures in a row. */
  canaries?: Map<string, number>;
  /** Configured tool groups, their name patterns compiled. */
  groups?: Array<ToolGroupConfig & { pattern: RegExp }>;
}

/** Most tool names a target's `gen_ai_tool_name` label takes; the rest are `_other`. */
export const MAX_TOOL_LABELS = 100;
const OTHER_TOOL = '_other';

/** One operation the proxy saw. */
export interface ProxyOperation {
  method: string;
  /** '' on success. */
  errorType: string;
  /** The tool of a `tools/call`, as the client named it. */
  tool?: string;
}

/** Turns probe results (and, through `metrics`, scrape/proxy observations) into metrics. */
export class Recorder {
  readonly metrics: Metrics;
  private readonly memo = new Map<string, TargetMemo>();
  /** Per target: what its last successful scrape supplied. */
  private readonly scrapeOwns = new Map<string, Set<InternalPart>>();
  private readonly scrapedOperations = new Map<string, HistogramSeries[]>();
  private readonly scrapedSessions = new Map<string, HistogramSeries[]>();

  constructor(readonly registry: Registry) {
    this.metrics = createMetrics(registry);
    // The histograms also expose scraped series (the server's own cumulative buckets, copied, not
    // re-observed), which replace their observed series for targets whose scrape supplies them,
    // so one target never has two series sets under one name. Read at scrape time.
    this.metrics.serverOperationDuration.external = () => this.scrapedOperations;
    this.metrics.serverSessionDuration.external = () => this.scrapedSessions;
  }

  /**
   * Records one scrape of a server's own metrics: `mcp_internal_scrape_success`, and on success
   * the standard metrics it supplied (gauges set, histograms copied). A failed scrape keeps the
   * previous values, like Prometheus keeps the last sample until staleness. Never throws.
   */
  recordScrape(r: ScrapeResult): void {
    const m = this.metrics;
    const target = r.target;
    m.internalScrapeSuccess.set({ target }, r.success ? 1 : 0);
    if (!r.success) return;
    const owns = new Set<InternalPart>();
    if (r.sessionsActive !== undefined) {
      owns.add('sessions');
      m.serverSessionsActive.set({ target }, r.sessionsActive);
    }
    if (r.toolCallsActive !== undefined) {
      owns.add('toolCalls');
      m.serverToolCallsActive.set({ target }, r.toolCallsActive);
    }
    if (r.sessionOldestAge !== undefined) {
      owns.add('oldestSession');
      m.serverSessionOldestAge.set({ target }, r.sessionOldestAge);
    }
    if (r.operationDuration) {
      this.scrapedOperations.set(target, r.operationDuration);
    } else this.scrapedOperations.delete(target);
    if (r.sessionDuration) {
      this.scrapedSessions.set(target, r.sessionDuration);
    } else this.scrapedSessions.delete(target);
    this.scrapeOwns.set(target, owns);
  }

  /** Forgets a target's scrape (its scrape was removed from config). */
  clearScrape(target: string): void {
    this.scrapeOwns.delete(target);
    this.scrapedOperations.delete(target);
    this.scrapedSessions.delete(target);
    this.metrics.internalScrapeSuccess.remove({ target });
  }

  private scraped(target: string, part: InternalPart): boolean {
    return this.scrapeOwns.get(target)?.has(part) ?? false;
  }

  /** Proxy: open sessions now. Skipped when the target's scrape supplies this gauge. */
  recordProxySessions(target: string, active: number): void {
    if (!this.scraped(target, 'sessions')) this.metrics.serverSessionsActive.set({ target }, active);
  }

  /** Proxy: tool calls awaiting their answer now. */
  recordProxyToolCalls(target: string, active: number): void {
    if (!this.scraped(target, 'toolCalls')) this.metrics.serverToolCallsActive.set({ target }, active);
  }

  /**
   * Proxy: one request answered (`errorType` '' on success), duration in seconds. A `tools/call`
   * carries its tool as `gen_ai_tool_name`, bounded to the names of the target's last tool list
   * (at most MAX_TOOL_LABELS; anything else is `_other`); other methods carry ''.
   */
  recordProxyOperation(target: string, op: ProxyOperation, seconds: number): void {
    const tool = op.method === 'tools/call' ? this.toolLabel(target, op.tool) : '';
    this.metrics.serverOperationDuration.observe(
      { target, mcp_method_name: op.method, error_type: op.errorType, gen_ai_tool_name: tool },
      seconds,
    );
  }

  private toolLabel(target: string, tool: string | undefined): string {
    return tool !== undefined && this.memo.get(target)?.toolNames?.has(tool) ? safeLabel(tool) : OTHER_TOOL;
  }

  /** Proxy: the oldest open session's age, seconds. */
  recordProxyOldestSession(target: string, seconds: number): void {
    if (!this.scraped(target, 'oldestSession')) this.metrics.serverSessionOldestAge.set({ target }, seconds);
  }

  /** Proxy: a session counted as ended after its idle timeout. */
  recordProxyIdleClosed(target: string): void {
    this.metrics.proxySessionsIdleClosedTotal.inc({ target });
  }

  /** Proxy: one session ended after `seconds`. */
  recordProxySessionEnd(target: string, seconds: number): void {
    this.metrics.serverSessionDuration.observe({ target }, seconds);
  }

  /**
   * Forgets what a stopped proxy measured now (its gauges), unless the target's scrape supplies
   * them. Its histograms and counters stay while the target does.
   */
  clearProxy(target: string): void {
    if (!this.scraped(target, 'sessions')) this.metrics.serverSessionsActive.remove({ target });
    if (!this.scraped(target, 'toolCalls')) this.metrics.serverToolCallsActive.remove({ target });
    if (!this.scraped(target, 'oldestSession')) this.metrics.serverSessionOldestAge.remove({ target });
  }

  /** Proxy: something passed through untouched without being observed. */
  recordProxyUnobserved(target: string, reason: ProxyUnobservedReason): void {
    this.metrics.proxyUnobservedTotal.inc({ target, reason });
  }

  /** Creates the target's series up front and sets its config gauges. Idempotent. */
  addTarget(t: TargetConfig): void {
    const m = this.metrics;
    const target = t.name;
    if (!this.memo.has(target)) {
      this.memo.set(target, { consecutiveFailures: 0 });
      m.probeSuccess.set({ target }, 0);
    }
    for (const result of ['success', 'failure']) m.probesTotal.inc({ target, result }, 0);
    for (const reason of FAILURE_REASONS) m.probeFailuresTotal.inc({ target, reason }, 0);
    m.probeConsecutiveFailures.set({ target }, this.memo.get(target)?.consecutiveFailures ?? 0);
    this.addCanaries(
      target,
      t.canaries.map((c) => c.tool),
    );
    this.addGroups(target, t.toolGroups);
    m.serverToolListChanges.inc({ target }, 0);
    m.serverLatencySlo.set({ target }, t.latencySloSeconds);
    if (t.sessionsExpectedMax !== undefined) m.serverSessionsExpectedMax.set({ target }, t.sessionsExpectedMax);
    else m.serverSessionsExpectedMax.remove({ target });
    if (t.toolCallsMax !== undefined) m.serverToolCallsMax.set({ target }, t.toolCallsMax);
    else m.serverToolCallsMax.remove({ target });
    m.serverSessionMaxAge.set({ target }, t.sessionMaxAgeSeconds);
    if (t.fanout) m.probeFanoutSessions.set({ target }, t.fanout.sessions);
    else this.clearFanout(target);
    m.probesSkippedTotal.inc({ target }, 0);
    // Only targets with a proxy have these series; a reload that removes the proxy removes them.
    for (const reason of PROXY_UNOBSERVED_REASONS) {
      if (t.internal?.proxy) m.proxyUnobservedTotal.inc({ target, reason }, 0);
      else m.proxyUnobservedTotal.remove({ target, reason });
    }
    if (t.internal?.proxy) m.proxySessionsIdleClosedTotal.inc({ target }, 0);
    else m.proxySessionsIdleClosedTotal.remove({ target });
  }

  /**
   * Per-tool canary series for the configured tools: failure counters at 0 up front; the series
   * of a tool no longer configured are removed. Labels are config-bounded (at most 20 tools).
   */
  private addCanaries(target: string, tools: string[]): void {
    const m = this.metrics;
    const memo = this.memo.get(target) as TargetMemo;
    const before = memo.canaries ?? new Map<string, number>();
    const next = new Map(tools.map((tool) => [tool, before.get(tool) ?? 0]));
    for (const tool of before.keys()) {
      if (next.has(tool)) continue;
      const labels = { target, gen_ai_tool_name: safeLabel(tool) };
      for (const g of [m.probeToolSuccess, m.probeToolDuration, m.probeToolConsecutiveFailures]) g.remove(labels);
      for (const reason of FAILURE_REASONS) m.probeToolFailuresTotal.remove({ ...labels, reason });
    }
    for (const [tool, failures] of next) {
      const labels = { target, gen_ai_tool_name: safeLabel(tool) };
      m.probeToolConsecutiveFailures.set(labels, failures);
      for (const reason of FAILURE_REASONS) m.probeToolFailuresTotal.inc({ ...labels, reason }, 0);
    }
    memo.canaries = next;
  }

  /** The min gauge of each configured group; the series of groups no longer configured go. */
  private addGroups(target: string, groups: ToolGroupConfig[]): void {
    const m = this.metrics;
    const memo = this.memo.get(target) as TargetMemo;
    const names = new Set(groups.map((g) => g.name));
    for (const old of memo.groups ?? []) {
      if (names.has(old.name)) continue;
      for (const g of [m.serverToolGroupTools, m.serverToolGroupMin, m.probeToolGroupUp])
        g.remove({ target, group: old.name });
    }
    memo.groups = groups.map((g) => ({ ...g, pattern: globRegExp(g.match) }));
    for (const g of groups) m.serverToolGroupMin.set({ target, group: g.name }, g.min);
  }

  /**
   * Each group after a successful listing: its tools counted, and up when it lists its minimum
   * and its canary (if any) did not fail last. A failed probe keeps the last values: the
   * target's own alert covers a server that does not answer.
   */
  private recordGroups(r: ProbeResult, memo: TargetMemo): void {
    if (!r.success || !r.tools || !memo.groups?.length) return;
    const m = this.metrics;
    for (const g of memo.groups) {
      const count = r.tools.filter((t) => g.pattern.test(t.name)).length;
      const canaryFailing = g.canaryTool !== undefined && (memo.canaries?.get(g.canaryTool) ?? 0) > 0;
      const labels = { target: r.target, group: g.name };
      m.serverToolGroupTools.set(labels, count);
      m.probeToolGroupUp.set(labels, count >= g.min && !canaryFailing ? 1 : 0);
    }
  }

  /** The canaries of one probe, for the tools still configured. */
  private recordCanaries(r: ProbeResult, memo: TargetMemo): void {
    const m = this.metrics;
    for (const c of r.canaries ?? []) {
      if (!memo.canaries?.has(c.tool)) continue;
      const labels = { target: r.target, gen_ai_tool_name: safeLabel(c.tool) };
      const failures = c.success ? 0 : (memo.canaries.get(c.tool) ?? 0) + 1;
      memo.canaries.set(c.tool, failures);
      m.probeToolSuccess.set(labels, c.success ? 1 : 0);
      m.probeToolDuration.set(labels, c.durationSeconds);
      m.probeToolConsecutiveFailures.set(labels, failures);
      if (!c.success) m.probeToolFailuresTotal.inc({ ...labels, reason: c.reason ?? 'internal' });
    }
  }

  /** Removes every series of a target that left the config. */
  async removeTarget(target: string): Promise<void> {
    this.memo.delete(target);
    this.clearScrape(target);
    for (const metric of Object.values(this.metrics) as AnyMetric[]) {
      const { values } = await metric.get();
      const seen = new Set<string>();
      for (const v of values) {
        if (v.labels.target !== target) continue;
        const labels = Object.fromEntries(Object.entries(v.labels).filter(([k]) => k !== 'le' && k !== 'quantile'));
        const key = JSON.stringify(labels);
        if (seen.has(key)) continue;
        seen.add(key);
        metric.remove(labels as Record<string, string>);
      }
    }
  }

  /** Records one probe. `changed` says whether the tool list differs from the previous probe's. Never throws. */
  recordProbe(r: ProbeResult, changed: boolean): void {
    const m = this.metrics;
    const target = r.target;
    const memo = this.memo.get(target) ?? { consecutiveFailures: 0 };
    this.memo.set(target, memo);

    m.probeSuccess.set({ target }, r.success ? 1 : 0);
    m.probeDuration.set({ target }, r.durationSeconds);
    for (const phase of PHASES) m.probePhaseDuration.set({ target, phase }, r.phases[phase] ?? 0);
    m.probesTotal.inc({ target, result: r.success ? 'success' : 'failure' });
    if (!r.success) m.probeFailuresTotal.inc({ target, reason: r.reason ?? 'internal' });
    memo.consecutiveFailures = r.success ? 0 : memo.consecutiveFailures + 1;
    m.probeConsecutiveFailures.set({ target }, memo.consecutiveFailures);
    if (r.success) m.probeLastSuccess.set({ target }, Math.floor((r.startedAtMs + r.durationSeconds * 1000) / 1000));
    m.probeHttpStatus.set({ target }, r.httpStatus);
    this.recordCanaries(r, memo);
    this.recordGroups(r, memo);
    if (r.tlsCertExpirySeconds !== undefined) m.probeTlsExpiry.set({ target }, Math.floor(r.tlsCertExpirySeconds));

    const protocolVersion = safeLabel(r.server?.protocolVersion);
    const transport = r.server?.transport ?? 'unknown';
    const networkTransport = transport === 'stdio' ? 'pipe' : transport === 'unknown' ? 'unknown' : 'tcp';
    for (const op of r.operations) {
      // Exemplar-enabled histograms take the object form of observe().
      m.clientOperationDuration.observe({
        labels: {
          target,
          mcp_method_name: op.method,
          error_type: op.errorType ?? '',
          mcp_protocol_version: protocolVersion,
          network_transport: networkTransport,
        },
        value: op.durationSeconds,
        ...(op.traceId && op.spanId ? { exemplarLabels: { trace_id: op.traceId, span_id: op.spanId } } : {}),
      });
    }

    if (r.success && r.server) {
      const info = {
        target,
        server_name: safeLabel(r.server.name),
        server_version: safeLabel(r.server.version),
        protocol_version: protocolVersion,
        transport: r.server.transport,
      };
      if (memo.serverInfo && JSON.stringify(memo.serverInfo) !== JSON.stringify(info))
        m.serverInfo.remove(memo.serverInfo);
      memo.serverInfo = info;
      m.serverInfo.set(info, 1);
    }
    if (r.success && r.tools && r.toolListHash) {
      m.serverTools.set({ target }, r.tools.length);
      if (memo.toolHash && memo.toolHash !== r.toolListHash)
        m.serverToolListInfo.remove({ target, hash: memo.toolHash });
      memo.toolHash = r.toolListHash;
      memo.toolNames = new Set(r.tools.slice(0, MAX_TOOL_LABELS).map((t) => t.name));
      m.serverToolListInfo.set({ target, hash: r.toolListHash }, 1);
      if (changed) m.serverToolListChanges.inc({ target });
    }
  }

  /**
   * Records one fan-out round. Latency gauges the round could not measure (no session, or no
   * baseline, completed) are removed rather than left at the previous round's value.
   */
  recordFanout(r: FanoutResult): void {
    const m = this.metrics;
    const target = r.target;
    m.probeFanoutSuccess.set({ target }, r.success ? 1 : 0);
    m.probeFanoutSessions.set({ target }, r.sessions);
    m.probeFanoutSessionsCompleted.set({ target }, r.completed);
    const gauges: Array<[SeriesGauge, Record<string, string>, number | undefined]> = [
      [m.probeFanoutDuration, { target, quantile: '0.5' }, r.p50Seconds],
      [m.probeFanoutDuration, { target, quantile: '0.99' }, r.p99Seconds],
      [m.probeFanoutBaselineDuration, { target }, r.baselineSeconds],
      [m.probeFanoutSlowdownRatio, { target }, r.slowdownRatio],
    ];
    for (const [gauge, labels, value] of gauges) {
      if (value === undefined) gauge.remove(labels);
      else gauge.set(labels, value);
    }
  }

  /** Removes a target's fan-out series (its `fanout` block was removed). */
  private clearFanout(target: string): void {
    const m = this.metrics;
    for (const g of [m.probeFanoutSuccess, m.probeFanoutSessions, m.probeFanoutSessionsCompleted]) g.remove({ target });
    for (const quantile of ['0.5', '0.99']) m.probeFanoutDuration.remove({ target, quantile });
    m.probeFanoutBaselineDuration.remove({ target });
    m.probeFanoutSlowdownRatio.remove({ target });
  }

  /** Counts a run skipped because the previous probe of the target was still going. */
  recordSkip(target: string): void {
    this.metrics.probesSkippedTotal.inc({ target });
  }

  recordScheduleLag(seconds: number): void {
    this.metrics.scheduleLag.observe(Math.max(0, seconds));
  }

  recordInternalError(component: string): void {
    this.metrics.internalErrorsTotal.inc({ component });
  }

  recordReload(ok: boolean, nowMs: number, targets: number): void {
    this.metrics.configLastReloadSuccessful.set(ok ? 1 : 0);
    if (ok) {
      this.metrics.configLastReloadSuccessTimestamp.set(Math.floor(nowMs / 1000));
      this.metrics.targetsConfigured.set(targets);
    }
  }
}
