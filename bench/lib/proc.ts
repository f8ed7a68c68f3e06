/**
 * Child processes for the benchmarks: start a process, wait for its `listening <port>` line,
 * read its CPU time and RSS from /proc, and stop it (by pid, never by name).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks.

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function procRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** What the child printed after `listening ` (usually a port), if it printed that. */
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `command args` and resolves when a stdout line matches `ready` (default `listening <port>`).
 * Rejects if it exits first or takes longer than `timeoutMs`.
 */
export function startProcess(
  command: string,
  args: string[],
  opts: { ready?: RegExp; timeoutMs?: number; env?: NodeJS.ProcessEnv; stderr?: boolean; readyOnStderr?: boolean } = {},
): Promise<Started> {
  const ready = opts.ready ?? /listening (\d+)/;
  const child = spawn(command, args, {
    cwd: ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', opts.stderr ? 'inherit' : 'pipe'],
  });
  let errText = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (errText.length < 4000) errText += c.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(
        new Error(`${command} ${args.join(' ')}: not ready after ${opts.timeoutMs ?? 15000}ms\n${out}\n${errText}`),
      );
    }, opts.timeoutMs ?? 15000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, pid: child.pid as number, port: Number(m[1] ?? 0), stop });
      }
    };
    child.stdout?.on('data', onData);
    if (opts.readyOnStderr) child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before ready\n${out}\n${errText}`));
    });
  });
}

/** Starts the fast hand-written MCP fixture server in its own process. */
export function startFastServer(): Promise<Started> {
  return startProcess(process.execPath, ['bench/fixtures/fast-mcp-server.mjs']);
}

/** Starts the official-SDK MCP server (bench/fixtures/sdk-mcp-server.mjs, needs dist/). */
export function startSdkServer(): Promise<Started> {
  return startProcess(process.execPath, ['bench/fixtures/sdk-mcp-server.mjs']);
}

/** Runs a process to completion and returns its stdout; rejects on a non-zero exit. */
export function runToEnd(command: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${err.slice(-2000)}`));
    });
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
