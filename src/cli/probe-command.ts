/**
 * `mcpwatch probe URL` / `mcpwatch probe -- CMD ARGS…`: one probe now, a readable report or
 * JSON. Returns the exit code: 0 success, 1 probe failed, 2 usage.
 */
import { parseDurationMs } from '../config/duration.js';
import { parseConfig, formatIssues } from '../config/load.js';
import { probe } from '../probe/prober.js';
import { formatReport } from '../probe/report.js';
import { parseProbeArgs, PROBE_USAGE } from './args.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Runs the probe command. Never throws. */
export async function runProbeCommand(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseProbeArgs(argv, parseDurationMs);
  if (!parsed.ok) {
    io.err(`mcpwatch probe: ${parsed.error}\n\n${PROBE_USAGE}`);
    return 2;
  }
  const f = parsed.value;
  if (f.help) {
    io.out(PROBE_USAGE);
    return 0;
  }
  let canaryArgs: unknown = {};
  if (f.canaryArgs !== undefined) {
    try {
      canaryArgs = JSON.parse(f.canaryArgs);
    } catch {
      io.err('mcpwatch probe: --canary.args must be a JSON object\n');
      return 2;
    }
  }
  // Build the target through the real config path, so the CLI and the sidecar agree.
  const target = {
    name: 'cli',
    transport: f.transport,
    ...(f.command ? { command: f.command[0], args: f.command.slice(1) } : { url: f.url }),
    timeout: `${f.timeoutMs}ms`,
    interval: `${f.timeoutMs + 1}ms`,
    headers: f.headers,
    ...(f.canaryTool ? { canary: { tool: f.canaryTool, arguments: canaryArgs } } : {}),
  };
  const { config, issues } = parseConfig(JSON.stringify({ targets: [target] }), {}, 'command line');
  if (!config) {
    io.err(`mcpwatch probe: ${formatIssues(issues).replace(/targets\[0\]\./g, '')}\n`);
    return 2;
  }
  const result = await probe(config.targets[0] as (typeof config.targets)[0]);
  if (f.json) {
    const { log: _log, ...rest } = result;
    io.out(`${JSON.stringify(f.verbose ? result : rest, null, 2)}\n`);
  } else {
    io.out(formatReport(result, { withLog: f.verbose }));
  }
  return result.success ? 0 : 1;
}
