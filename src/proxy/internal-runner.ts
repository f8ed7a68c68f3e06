/**
 * Runs the "inside the server" half of each target: a Scraper when `internal.metrics_url` is
 * set, a proxy when `internal.proxy` is. Reload-aware: unchanged targets keep running (the
 * proxy keeps its sessions and connections), changed ones restart, removed ones stop.
 */
import type { TargetConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Recorder } from '../metrics/recorder.js';
import { Scraper } from '../scrape/scraper.js';
import type { ScrapeResult } from '../scrape/types.js';
import type { ProxySink } from './observer.js';
import { startProxy, type RunningProxy } from './proxy.js';

interface Running {
  fingerprint: string;
  scraper?: Scraper;
  proxy?: RunningProxy;
}

/** What a change of which restarts a target's scraper or proxy. */
function fingerprint(t: TargetConfig): string {
  return JSON.stringify([t.url, t.headers, t.authorization, t.tls, t.internal]);
}

/** The recorder, bound to one target, as the proxy's sink. */
export function proxySink(recorder: Recorder, target: string): ProxySink {
  return {
    sessions: (n) => recorder.recordProxySessions(target, n),
    toolCalls: (n) => recorder.recordProxyToolCalls(target, n),
    operation: (method, errorType, seconds, tool) =>
      recorder.recordProxyOperation(target, { method, errorType, tool }, seconds),
    sessionEnded: (s) => recorder.recordProxySessionEnd(target, s),
    oldestSessionAge: (s) => recorder.recordProxyOldestSession(target, s),
    sessionIdleClosed: () => recorder.recordProxyIdleClosed(target),
    unobserved: (reason) => recorder.recordProxyUnobserved(target, reason),
  };
}

export class InternalRunner {
  private readonly running = new Map<string, Running>();
  private readonly lastReason = new Map<string, string>();

  constructor(
    private readonly recorder: Recorder,
    private readonly logger: Logger,
  ) {}

  private onScrape(r: ScrapeResult): void {
    this.recorder.recordScrape(r);
    const previous = this.lastReason.get(r.target);
    if (r.success) {
      if (previous && previous !== 'ok') this.logger.info('internal scrape recovered', { target: r.target });
      this.lastReason.set(r.target, 'ok');
      return;
    }
    // Say why on every change of reason; repeats of the same failure go to debug.
    const log = previous === r.reason ? this.logger.debug : this.logger.warn;
    log('internal scrape failed', { target: r.target, reason: r.reason, message: r.message });
    this.lastReason.set(r.target, r.reason ?? 'failed');
  }

  private async stopOne(name: string, r: Running): Promise<void> {
    await r.scraper?.stop();
    if (r.proxy) {
      await r.proxy.close();
      this.recorder.clearProxy(name);
    }
    this.recorder.clearScrape(name);
    this.lastReason.delete(name);
  }

  private async startOne(t: TargetConfig): Promise<Running> {
    const r: Running = { fingerprint: fingerprint(t) };
    const internal = t.internal;
    if (!internal) return r;
    if (internal.metricsUrl) {
      try {
        r.scraper = new Scraper(t, (res) => this.onScrape(res));
        r.scraper.start();
      } catch (err) {
        this.logger.error('internal scrape not started', { target: t.name, err: (err as Error).message });
        this.recorder.recordScrape({ target: t.name, success: false, reason: 'config', durationSeconds: 0 });
      }
    }
    if (internal.proxy) {
      const target = t.name;
      try {
        r.proxy = await startProxy({
          target: t,
          logger: this.logger,
          sink: proxySink(this.recorder, target),
        });
      } catch (err) {
        this.recorder.recordInternalError('proxy');
        this.logger.error('proxy not started', { target, err: (err as Error).message });
      }
    }
    return r;
  }

  /** Brings scrapers and proxies in line with `targets`. Never throws. */
  async setTargets(targets: TargetConfig[]): Promise<void> {
    const next = new Map(targets.map((t) => [t.name, t]));
    for (const [name, r] of [...this.running]) {
      const t = next.get(name);
      if (!t || fingerprint(t) !== r.fingerprint) {
        this.running.delete(name);
        await this.stopOne(name, r);
      }
    }
    for (const t of targets) {
      if (this.running.has(t.name) || !t.internal) continue;
      this.running.set(t.name, await this.startOne(t));
    }
  }

  /** Stops everything. Never throws. */
  async stop(): Promise<void> {
    const all = [...this.running];
    this.running.clear();
    await Promise.all(all.map(([name, r]) => this.stopOne(name, r)));
  }
}
