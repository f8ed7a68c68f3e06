/**
 * How a server's own metric names map onto ours (the `internal.mapping` block, resolved). The
 * config owns these shapes because users write them; the scraper applies them (scrape/map.ts).
 */

/** A gauge of ours from the server's metric: series that match `match`, summed when `sum`. */
export interface GaugeMapping {
  metric: string;
  match: Record<string, string>;
  sum: boolean;
}

/** A histogram of ours from the server's histogram `metric` (base name, without `_bucket`). */
export interface HistogramMapping {
  metric: string;
  match: Record<string, string>;
  /** The server's label holding the MCP method (operation duration only). */
  methodLabel?: string;
  /** The server's label holding the error type (operation duration only). */
  errorLabel?: string;
}

export interface InternalMapping {
  sessionsActive?: GaugeMapping;
  toolCallsActive?: GaugeMapping;
  /** Series are combined with max (the oldest of them); `sum` is ignored. */
  sessionOldestAge?: GaugeMapping;
  operationDuration?: HistogramMapping;
  sessionDuration?: HistogramMapping;
}
