/**
 * Prometheus-style durations: `500ms`, `30s`, `5m`, `1h30m`, `1d`, `1w`, `1y`.
 * Units must appear largest first, each at most once, as Prometheus' model.ParseDuration requires.
 */
const UNITS: ReadonlyArray<[string, number]> = [
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
];
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses a duration into milliseconds; returns undefined when the text is not a valid duration. Never throws. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let total = 0;
  UNITS.forEach(([, factor], i) => {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * factor;
  });
  return total;
}
