/**
 * stdio: the server is a child process speaking newline-delimited JSON-RPC on stdin/stdout.
 * The child gets a minimal environment (never mcpwatch's own secrets), its stderr is kept
 * (bounded) for the failure message, and a child that outlives the close is killed.
 */
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { looksLikeJsonRpcLine } from '../validate.js';
import type { TransportOpener } from './types.js';

/** Environment variables a stdio child inherits when the target sets none of its own. */
const STDIO_INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SYSTEMROOT'];
const MAX_STDERR_BYTES = 8192;
/**
 * A probe need not wait the SDK's 2 s + 2 s for a child to leave after stdin closes: SIGTERM
 * soon, SIGKILL if it ignores that (test/hostile "stdio ignores SIGTERM").
 */
const TERM_AFTER_MS = 300;
const KILL_AFTER_MS = 800;

export const openStdio: TransportOpener = ({ target, onNoise }) => {
  const env: Record<string, string> = {};
  for (const key of STDIO_INHERITED_ENV) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  Object.assign(env, target.env);
  const stdio = new StdioClientTransport({
    command: target.command ?? '',
    args: target.args,
    env,
    cwd: target.cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  stdio.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.toString('utf8').slice(0, MAX_STDERR_BYTES - stderr.length);
  });
  tapStdoutNoise(stdio, () => onNoise('stdio: a stdout line that is not JSON-RPC'));
  // Read as closing starts: once closed, the SDK forgets the child.
  let pid: number | undefined;
  return {
    kind: 'stdio',
    transport: stdio,
    stderr: () => stderr,
    onClosing() {
      pid = stdio.pid ?? undefined;
      if (!pid) return () => {};
      const child = pid;
      const timers = [
        setTimeout(() => signalChild(child, 'SIGTERM'), TERM_AFTER_MS),
        setTimeout(() => signalChild(child, 'SIGKILL'), KILL_AFTER_MS),
      ];
      return () => timers.forEach(clearTimeout);
    },
    async release(say) {
      if (!pid) return;
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
        say(`stdio child ${pid} killed`);
      } catch {
        /* already gone */
      }
    },
  };
};

function signalChild(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * The SDK's stdio reader drops stdout lines that are not JSON (servers that log to stdout), so a
 * server printing only garbage looks like a silent one. Counting those lines lets the prober say
 * `invalid_response` instead of `timeout` (test/hostile). Reads the child's stdout beside the SDK.
 */
function tapStdoutNoise(stdio: StdioClientTransport, onNoise: () => void): void {
  // Era negotiation runs `server/discover` on a disposable sibling built with
  // `transport.constructor(params)`: hand it a factory so the sibling is tapped too. The
  // instance keeps the SDK's prototype, so the SDK still takes its sibling path.
  const sibling = function (params: ConstructorParameters<typeof StdioClientTransport>[0]) {
    const t = new StdioClientTransport(params);
    tapStdoutNoise(t, onNoise);
    return t;
  };
  Object.defineProperty(stdio, 'constructor', { value: sibling, configurable: true, writable: true });
  const start = stdio.start.bind(stdio);
  stdio.start = async () => {
    await start();
    const out = (stdio as unknown as { _process?: { stdout?: NodeJS.ReadableStream | null } })._process?.stdout;
    // Only the start of each line matters: memory stays bounded whatever the line length.
    let lineStart = '';
    out?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      for (let from = 0; ;) {
        const nl = text.indexOf('\n', from);
        lineStart = (lineStart + text.slice(from, Math.min(from + 64, nl < 0 ? text.length : nl)))
          .trimStart()
          .slice(0, 16);
        if (nl < 0) break;
        if (!looksLikeJsonRpcLine(lineStart)) onNoise();
        lineStart = '';
        from = nl + 1;
      }
    });
  };
}
