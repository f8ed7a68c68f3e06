/**
 * A small, careful parser for the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0
 * text, enough to read what an MCP server exposes: samples with labels and values. HELP lines,
 * timestamps, exemplars and `_created` samples are read and dropped; `# TYPE` is kept.
 *
 * Why our own: there is no maintained JS parser; this one is bounded (series count) and
 * tested against golden files in test/scrape/golden/.
 */

/** One sample line: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedExposition {
  samples: Sample[];
  /** `# TYPE` declarations: family name -> type as written (`counter`, `histogram`, ...). */
  types: Map<string, string>;
}

/** A parse failure naming the 1-based line and what was wrong (never the line's content). */
export class ExpositionParseError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** More samples than allowed: the scrape is refused rather than truncated. */
export class TooManySeriesError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} series`);
  }
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;

function parseValue(text: string): number | undefined {
  switch (text) {
    case '+Inf':
    case 'Inf':
    case '+inf':
    case 'inf':
      return Infinity;
    case '-Inf':
    case '-inf':
      return -Infinity;
    case 'NaN':
    case 'nan':
      return NaN;
  }
  // Number() accepts '' and hex and whitespace; the exposition format does not.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Reads a double-quoted string starting at `s[i] === '"'`; returns the unescaped text and the index after the closing quote. */
function readQuoted(s: string, i: number, lineNo: number): [string, number] {
  let out = '';
  let j = i + 1;
  while (j < s.length) {
    const c = s[j];
    if (c === '"') return [out, j + 1];
    if (c === '\\') {
      const n = s[j + 1];
      if (n === 'n') out += '\n';
      else if (n === '\\' || n === '"') out += n;
      else throw new ExpositionParseError(lineNo, 'invalid escape in a quoted string');
      j += 2;
      continue;
    }
    out += c;
    j++;
  }
  throw new ExpositionParseError(lineNo, 'unterminated quoted string');
}

function readName(s: string, i: number): number {
  if (i >= s.length || !NAME_START.test(s.charAt(i))) return i;
  let j = i + 1;
  while (j < s.length && NAME_CHAR.test(s.charAt(j))) j++;
  return j;
}

/**
 * Parses one sample line. Supports Prometheus 3 quoted (UTF-8) names: `{"my.metric",le="1"} 3`.
 */
function parseSampleLine(line: string, lineNo: number): Sample {
  let i = 0;
  let name = '';
  const end = readName(line, 0);
  if (end > 0) {
    name = line.slice(0, end);
    i = end;
  } else if (line[0] !== '{') {
    throw new ExpositionParseError(lineNo, 'expected a metric name');
  }
  const labels: Record<string, string> = {};
  // Blanks may separate the name from its labels (as the Go parser allows).
  let k = i;
  while (line[k] === ' ' || line[k] === '\t') k++;
  if (line[k] === '{') i = k;
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      let key: string;
      if (line[i] === '"') {
        [key, i] = readQuoted(line, i, lineNo);
      } else {
        const e = readName(line, i);
        if (e === i) throw new ExpositionParseError(lineNo, 'expected a label name');
        key = line.slice(i, e);
        i = e;
      }
      while (line[i] === ' ') i++;
      if (line[i] === '=') {
        i++;
        while (line[i] === ' ') i++;
        if (line[i] !== '"') throw new ExpositionParseError(lineNo, 'expected a quoted label value');
        let value: string;
        [value, i] = readQuoted(line, i, lineNo);
        if (key in labels) throw new ExpositionParseError(lineNo, `duplicate label "${key}"`);
        labels[key] = value;
      } else if (name === '' && (line[i] === ',' || line[i] === '}')) {
        // A quoted string without "=" is the metric name (Prometheus 3 UTF-8 names).
        name = key;
      } else {
        throw new ExpositionParseError(lineNo, 'expected "=" after a label name');
      }
      while (line[i] === ' ') i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new ExpositionParseError(lineNo, 'expected "," or "}" in labels');
    }
  }
  if (name === '') throw new ExpositionParseError(lineNo, 'missing metric name');
  if (line[i] !== ' ' && line[i] !== '\t') throw new ExpositionParseError(lineNo, 'expected a space before the value');
  // Value, optional timestamp, optional OpenMetrics exemplar (`# {...} v [ts]`): only the value matters.
  const rest = line.slice(i).trim();
  const hash = rest.indexOf(' # ');
  const fields = (hash >= 0 ? rest.slice(0, hash) : rest).split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2)
    throw new ExpositionParseError(lineNo, 'expected a value and an optional timestamp');
  const value = parseValue(fields[0] ?? '');
  if (value === undefined) throw new ExpositionParseError(lineNo, 'invalid sample value');
  if (fields.length === 2 && parseValue(fields[1] ?? '') === undefined)
    throw new ExpositionParseError(lineNo, 'invalid timestamp');
  return { name, labels, value };
}

/**
 * Parses an exposition body. Throws ExpositionParseError on the first malformed line and
 * TooManySeriesError past `maxSeries` samples; otherwise returns every sample in order.
 */
export function parseExposition(text: string, maxSeries = Infinity): ParsedExposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  let lineNo = 0;
  let start = 0;
  let sawEof = false;
  while (start <= text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    let line = text.slice(start, nl);
    start = nl + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (sawEof) {
      if (line.trim() !== '') throw new ExpositionParseError(lineNo, 'content after # EOF');
      continue;
    }
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed[0] === '#') {
      const m = /^#\s+(TYPE|HELP|UNIT|EOF)(?:\s+(\S+)(?:\s+(.*))?)?$/.exec(trimmed);
      if (m?.[1] === 'EOF') sawEof = true;
      else if (m?.[1] === 'TYPE' && m[2] && m[3]) types.set(m[2].replace(/^"|"$/g, ''), m[3].trim().toLowerCase());
      continue; // other comments are allowed in the Prometheus format
    }
    const sample = parseSampleLine(trimmed, lineNo);
    if (sample.name.endsWith('_created')) continue; // OpenMetrics creation times are not samples we map
    if (samples.length >= maxSeries) throw new TooManySeriesError(maxSeries);
    samples.push(sample);
  }
  return { samples, types };
}
