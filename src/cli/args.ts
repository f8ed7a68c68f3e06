/**
 * Command-line parsing in the Prometheus ecosystem's flag style: `--config.file=X` or
 * `--config.file X`, booleans as `--flag` / `--no-flag`. Pure; returns errors as data.
 */
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../log/logger.js';
import { TRANSPORTS, type TransportName } from '../probe/types.js';

export interface SidecarFlags {
  configFile?: string;
  listenAddress: string;
  enableLifecycle: boolean;
  configCheck: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  demo: boolean;
  help: boolean;
  version: boolean;
}

export interface ProbeFlags {
  /** URL, or the stdio command and its arguments after `--`. */
  url?: string;
  command?: string[];
  transport: TransportName;
  timeoutMs: number;
  headers: Record<string, string>;
  json: boolean;
  verbose: boolean;
  canaryTool?: string;
  canaryArgs?: string;
  help: boolean;
}

export const SIDECAR_USAGE = `usage: mcpwatch [flags]
       mcpwatch probe [flags] URL
       mcpwatch probe [flags] -- COMMAND [ARGS...]

Observability sidecar and uptime prober for MCP servers.

Flags:
  --config.file=PATH          configuration file (YAML)
  --config.check              validate the configuration, print every problem, exit 0 or 1
  --web.listen-address=ADDR   where to serve /metrics, /probe and the status page (default ":9465")
  --web.enable-lifecycle      enable POST /-/reload
  --log.level=LEVEL           debug, info, warn or error (default "info")
  --log.format=FORMAT         logfmt or json (default "logfmt")
  --demo                      start a built-in MCP server and probe it
  --version                   print the version
  -h, --help                  show this help

Run 'mcpwatch probe --help' for the one-shot probe.
`;

export const PROBE_USAGE = `usage: mcpwatch probe [flags] URL
       mcpwatch probe [flags] -- COMMAND [ARGS...]

Probes one MCP server now, like a real client: handshake, tools/list (every page),
an optional canary tool call, then ends the session. Prints a report.
Exit status: 0 success, 1 probe failed, 2 usage error.

Flags:
  --transport=T        auto, streamable-http, sse or stdio (default auto; stdio after --)
  --timeout=DURATION   probe deadline, e.g. 5s (default 10s)
  -H, --header='K: V'  extra request header (repeatable)
  --canary.tool=NAME   call this tool after tools/list
  --canary.args=JSON   its arguments as a JSON object (default {})
  --json               print the result as JSON
  -v, --verbose        include the step-by-step log
  -h, --help           show this help
`;

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function splitFlag(arg: string, next: string | undefined): { name: string; value?: string; consumed: number } {
  const eq = arg.indexOf('=');
  if (eq > 0) return { name: arg.slice(0, eq), value: arg.slice(eq + 1), consumed: 1 };
  return { name: arg, value: next, consumed: 2 };
}

/** Parses the sidecar's flags. */
export function parseSidecarArgs(argv: readonly string[]): Parsed<SidecarFlags> {
  const f: SidecarFlags = {
    listenAddress: ':9465',
    enableLifecycle: false,
    configCheck: false,
    logLevel: 'info',
    logFormat: 'logfmt',
    demo: false,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const bool: Record<string, keyof SidecarFlags> = {
      '--web.enable-lifecycle': 'enableLifecycle',
      '--config.check': 'configCheck',
      '--demo': 'demo',
      '--help': 'help',
      '-h': 'help',
      '--version': 'version',
    };
    if (arg in bool) {
      (f as unknown as Record<string, boolean>)[bool[arg] as string] = true;
      continue;
    }
    if (arg.startsWith('--no-') && `--${arg.slice(5)}` in bool) {
      (f as unknown as Record<string, boolean>)[bool[`--${arg.slice(5)}`] as string] = false;
      continue;
    }
    const { name, value, consumed } = splitFlag(arg, argv[i + 1]);
    const need = () => {
      if (value === undefined || value === '') throw new Error(`flag ${name} needs a value`);
      return value;
    };
    try {
      switch (name) {
        case '--config.file':
          f.configFile = need();
          break;
        case '--web.listen-address':
          f.listenAddress = need();
          break;
        case '--log.level': {
          const v = need();
          if (!LOG_LEVELS.includes(v as LogLevel))
            return { ok: false, error: `--log.level must be one of ${LOG_LEVELS.join(', ')}, got "${v}"` };
          f.logLevel = v as LogLevel;
          break;
        }
        case '--log.format': {
          const v = need();
          if (v !== 'logfmt' && v !== 'json')
            return { ok: false, error: `--log.format must be logfmt or json, got "${v}"` };
          f.logFormat = v;
          break;
        }
        default:
          return { ok: false, error: `unknown flag ${name}` };
      }
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    i += consumed - 1;
  }
  if (!f.help && !f.version && !f.demo && !f.configFile)
    return { ok: false, error: '--config.file is required (or --demo)' };
  return { ok: true, value: f };
}

/** Parses a listen address (`:9465`, `127.0.0.1:9465`, `[::1]:9465`). */
export function parseListenAddress(addr: string): { host?: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] || undefined);
  return { host, port };
}

/** Parses `mcpwatch probe` arguments. */
export function parseProbeArgs(
  argv: readonly string[],
  parseDuration: (s: string) => number | undefined,
): Parsed<ProbeFlags> {
  const f: ProbeFlags = { transport: 'auto', timeoutMs: 10_000, headers: {}, json: false, verbose: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      const rest = argv.slice(i + 1);
      if (rest.length === 0) return { ok: false, error: 'a command must follow --' };
      f.command = [...rest];
      f.transport = 'stdio';
      break;
    }
    if (arg === '--json') f.json = true;
    else if (arg === '-v' || arg === '--verbose') f.verbose = true;
    else if (arg === '-h' || arg === '--help') f.help = true;
    else if (arg.startsWith('-')) {
      const { name, value, consumed } = splitFlag(arg, argv[i + 1]);
      if (value === undefined) return { ok: false, error: `flag ${name} needs a value` };
      switch (name) {
        case '--transport':
          if (!(TRANSPORTS as readonly string[]).includes(value))
            return { ok: false, error: `--transport must be auto, streamable-http, sse or stdio, got "${value}"` };
          f.transport = value as ProbeFlags['transport'];
          break;
        case '--timeout': {
          const ms = parseDuration(value);
          if (ms === undefined || ms <= 0)
            return { ok: false, error: `--timeout: invalid duration "${value}" (use e.g. 5s)` };
          f.timeoutMs = ms;
          break;
        }
        case '-H':
        case '--header': {
          const c = value.indexOf(':');
          if (c <= 0) return { ok: false, error: `--header must look like "Name: value"` };
          f.headers[value.slice(0, c).trim()] = value.slice(c + 1).trim();
          break;
        }
        case '--canary.tool':
          f.canaryTool = value;
          break;
        case '--canary.args':
          f.canaryArgs = value;
          break;
        default:
          return { ok: false, error: `unknown flag ${name}` };
      }
      i += consumed - 1;
    } else if (!f.url) f.url = arg;
    else return { ok: false, error: `unexpected argument "${arg}" (one URL, or a command after --)` };
  }
  if (!f.help && !f.url && !f.command) return { ok: false, error: 'a URL or -- COMMAND is required' };
  if (f.url && f.command) return { ok: false, error: 'give either a URL or a command after --, not both' };
  if (f.url && !/^https?:\/\//i.test(f.url)) return { ok: false, error: `URL must start with http:// or https://` };
  return { ok: true, value: f };
}
