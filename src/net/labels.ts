/**
 * Label values that come from outside (a server's name and version, a scraped label) are
 * bounded in length and character set, so a hostile server cannot blow up cardinality or
 * smuggle odd bytes into a scrape.
 */

const MAX_LABEL_LENGTH = 64;

/** A label value from outside, bounded in length and character set ('' stays ''). */
export function boundLabel(value: string | undefined): string {
  if (!value) return '';
  return value.replace(/[^A-Za-z0-9 ._:/@+()-]/g, '_').slice(0, MAX_LABEL_LENGTH);
}

/** Like boundLabel, but never empty: 'unknown' stands for a missing value. */
export function safeLabel(value: string | undefined): string {
  return boundLabel(value).trim() || 'unknown';
}
