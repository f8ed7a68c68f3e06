/**
 * What one scrape of a server's own metrics produced, in our standard shapes. The scraper
 * builds it; only the recorder turns it into metrics.
 */

/** Why a scrape failed; a closed set, logged (not a label). */
export type ScrapeFailure =
  'connect' | 'timeout' | 'http_status' | 'too_large' | 'parse' | 'too_many_series' | 'config';

/** One histogram series as the server exposed it: cumulative buckets, sum and count. */
export interface HistogramSeries {
  /** Our label names (`mcp_method_name`, `error_type`), without `target` and `le`. */
  labels: Record<string, string>;
  /** Cumulative counts by upper bound, ascending, ending with +Inf. */
  buckets: Array<[le: number, count: number]>;
  sum: number;
  count: number;
}

export interface ScrapeResult {
  target: string;
  success: boolean;
  reason?: ScrapeFailure;
  /** Free text for logs: never a body, never a secret. */
  message?: string;
  durationSeconds: number;
  /** Each field is set only when the server exposed the mapped metric. */
  sessionsActive?: number;
  toolCallsActive?: number;
  sessionOldestAge?: number;
  operationDuration?: HistogramSeries[];
  sessionDuration?: HistogramSeries[];
}

export type { GaugeMapping, HistogramMapping, InternalMapping } from '../config/mapping.js';
