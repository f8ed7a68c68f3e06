/**
 * A small structured logger: logfmt or JSON lines, four levels. Passed in, never global.
 * Callers must pass already-redacted values; the logger adds nothing secret on its own.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export type LogFormat = 'logfmt' | 'json';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function logfmtValue(v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Error ? v.message : (JSON.stringify(v) ?? 'null');
  return /^[A-Za-z0-9_.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

/** Creates a logger writing lines to `write` (stderr by default). */
export function createLogger(
  opts: { level?: LogLevel; format?: LogFormat; write?: (line: string) => void; now?: () => Date } = {},
): Logger {
  const min = LOG_LEVELS.indexOf(opts.level ?? 'info');
  const format = opts.format ?? 'logfmt';
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const record = { ts: now().toISOString(), level, msg, ...fields };
    try {
      write(
        format === 'json'
          ? JSON.stringify(record, (_k, v) => (v instanceof Error ? v.message : v))
          : Object.entries(record)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => `${k}=${logfmtValue(v)}`)
              .join(' '),
      );
    } catch {
      /* logging never throws */
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that drops everything (tests, one-shot CLI). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
