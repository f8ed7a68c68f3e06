/**
 * Scrapes a server's own metrics endpoint on its own interval and maps what it finds onto the
 * standard metrics. Bounded: a deadline, a body-size limit (checked while reading, not after),
 * a series limit. A failure is a ScrapeResult with a reason, never an exception, and never
 * touches probing (separate timers, separate connections).
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { TargetConfig } from '../config/schema.js';
import { readBounded, declaredOverLimit } from '../net/body.js';
import { resolveHeaders } from '../net/credentials.js';
import { firstErrorCode, hasCode } from '../net/errors.js';
import { redact, targetSecrets } from '../net/redact.js';
import { tlsConnectOptions } from '../net/tls.js';
import { mapExposition } from './map.js';
import { ExpositionParseError, parseExposition, TooManySeriesError } from './parse.js';
import type { ScrapeFailure, ScrapeResult } from './types.js';

/** What Prometheus itself asks for: OpenMetrics first, then the classic text format. */
const ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Builds the connection pool of one scraper (TLS options of the target). Throws on unreadable TLS files. */
export function createScrapeAgent(target: TargetConfig, timeoutMs: number): Agent {
  return new Agent({
    connect: tlsConnectOptions(target.tls, timeoutMs),
    connections: 1,
    keepAliveTimeout: 30_000,
  });
}

/** Scrapes `target.internal.metricsUrl` once. Never rejects; honours `signal`. */
export async function scrapeOnce(target: TargetConfig, agent: Agent, signal?: AbortSignal): Promise<ScrapeResult> {
  const t0 = performance.now();
  const internal = target.internal;
  const done = (r: Omit<ScrapeResult, 'target' | 'durationSeconds'>): ScrapeResult => ({
    target: target.name,
    durationSeconds: (performance.now() - t0) / 1000,
    ...r,
  });
  // Secrets of the target, plus a credentials_file token once read (resolveHeaders below).
  let secrets = targetSecrets(target);
  const fail = (reason: ScrapeFailure, message: string) =>
    done({ success: false, reason, message: redact(message, secrets) });
  if (!internal?.metricsUrl) return fail('config', 'no metrics_url');
  const timeout = AbortSignal.timeout(internal.timeoutMs);
  const aborted = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let text: string;
  try {
    const resolved = resolveHeaders(target);
    const headers = resolved.headers;
    secrets = resolved.secrets;
    const res = await request(internal.metricsUrl, {
      method: 'GET',
      headers: { accept: ACCEPT, ...headers },
      dispatcher: agent,
      signal: aborted,
    });
    res.body.on('error', () => {}); // destroying an unread body emits an abort error: expected here
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump().catch(() => {});
      return fail('http_status', `HTTP ${res.statusCode}`);
    }
    const limit = internal.maxResponseBytes;
    const declared = declaredOverLimit(res.headers, limit);
    if (declared !== undefined) {
      res.body.destroy();
      return fail('too_large', `declared body of ${declared} bytes exceeds max_response_bytes ${limit}`);
    }
    text = (await readBounded(res.body, limit)).toString('utf8');
  } catch (err) {
    if (hasCode(err, 'response_too_large'))
      return fail('too_large', `body exceeds max_response_bytes ${internal.maxResponseBytes}`);
    if (hasCode(err, 'config')) return fail('config', (err as Error).message);
    if (timeout.aborted) return fail('timeout', `no complete answer within ${internal.timeoutMs}ms`);
    return fail('connect', `${firstErrorCode(err) ?? 'error'}: ${(err as Error).message}`);
  }
  try {
    const parsed = parseExposition(text, internal.maxSeries);
    return done({ success: true, ...mapExposition(parsed, internal.mapping) });
  } catch (err) {
    if (err instanceof TooManySeriesError) return fail('too_many_series', `${err.message} (max_series)`);
    if (err instanceof ExpositionParseError) return fail('parse', `malformed exposition at ${err.message}`);
    return fail('parse', (err as Error).message);
  }
}

/**
 * Scrapes one target on its own interval: the first scrape at once, then every interval after
 * the previous one started; a scrape still running when the next is due delays it (no overlap).
 * Timers are unref'd; `onResult` is caught at this boundary.
 */
export class Scraper {
  private timer?: NodeJS.Timeout;
  private controller = new AbortController();
  private running?: Promise<void>;
  private readonly agent: Agent;
  private stopped = false;

  constructor(
    readonly target: TargetConfig,
    private readonly onResult: (r: ScrapeResult) => void,
  ) {
    this.agent = createScrapeAgent(target, target.internal?.timeoutMs ?? 5000);
  }

  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    const started = performance.now();
    this.running = scrapeOnce(this.target, this.agent, this.controller.signal)
      .then((r) => {
        if (this.stopped) return;
        try {
          this.onResult(r);
        } catch {
          /* the recorder's own problem; scraping goes on */
        }
      })
      .finally(() => {
        if (this.stopped) return;
        const wait = Math.max(0, (this.target.internal?.intervalMs ?? 30_000) - (performance.now() - started));
        this.timer = setTimeout(() => this.tick(), wait);
        this.timer.unref();
      });
  }

  /** Stops scraping, aborts a scrape in flight, closes connections. Never throws. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller.abort();
    await this.running?.catch(() => {});
    await this.agent.destroy().catch(() => {});
  }
}
