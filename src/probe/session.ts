/**
 * The MCP session script of one attempt: open the transport, handshake (initialize or
 * server/discover), tools/list (every page), expect checks, the optional canary call, then end
 * the session and close. Every step is timed and recorded as an operation; a failure is
 * classified from the step it happened in and what the wire saw.
 *
 * The envelope around it (deadline, credentials, transport fallback, the result) is ./prober.ts.
 */
import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/client';
import type { CanaryConfig, TargetConfig } from '../config/schema.js';
import { errorChain, hasCode, McpwatchError } from '../net/errors.js';
import { checkAuthChallenge } from './auth-challenge.js';
import { checkCanary, checkExpectations } from './checks.js';
import { classifyError } from './classify.js';
import {
  callTool,
  createClient,
  describeServer,
  endSession,
  injectTraceContext,
  listAllTools,
  sessionIdOf,
  type McpConnection,
} from './mcp-client.js';
import type { OperationTrace, ProbeTrace } from './trace-hooks.js';
import { openTransport, type OpenedTransport } from './transports/index.js';
import type {
  CanaryResult,
  FailureReason,
  OperationRecord,
  Phase,
  ProbeMemory,
  ProbeResult,
  ResolvedTransport,
  ServerIdentity,
  ToolSummary,
} from './types.js';
import { assertUniqueToolNames } from './validate.js';

/** How long ending the session and closing the transport may take, on top of the timeout. */
export const CLOSE_DEADLINE_MS = 1500;
/** Unparsable messages named in the log; the rest are only counted. */
const LOGGED_NOISE = 3;

/** What one session script needs. */
export interface SessionPlan {
  target: TargetConfig;
  kind: ResolvedTransport;
  /** Request headers, credentials included. */
  headers: Record<string, string>;
  /** What earlier probes learned (era, protocol version); read only here. */
  memory: ProbeMemory;
  /** The probe's deadline and shutdown. */
  signal: AbortSignal;
  say: (line: string) => void;
  /** The canaries to call in this session (the due ones), in order. */
  canaries: CanaryConfig[];
  trace: ProbeTrace;
}

/** What one attempt (one transport) produced. */
export interface Attempt {
  reason?: FailureReason;
  message?: string;
  phases: Partial<Record<Phase, number>>;
  operations: ProbeResult['operations'];
  checks: ProbeResult['checks'];
  httpStatus: number;
  certExpirySeconds?: number;
  server?: ServerIdentity;
  tools?: ToolSummary[];
  /** The canaries called, in order. */
  canaries?: CanaryResult[];
}

type Step = 'setup' | 'handshake' | 'tools_list' | 'tool_call';

/** Runs the session script once over `plan.kind`. Never rejects. */
export async function runSession(plan: SessionPlan): Promise<Attempt> {
  const run = new SessionRun(plan);
  try {
    await run.script();
  } catch (err) {
    await run.failed(err);
  } finally {
    await run.close();
  }
  return run.attempt;
}

class SessionRun {
  readonly attempt: Attempt = { phases: {}, operations: [], checks: [], httpStatus: 0 };
  private step: Step = 'setup';
  private opened: OpenedTransport | undefined;
  private conn: McpConnection | undefined;
  private noise = 0;
  /** The span of the operation in flight: its context goes into each request's params._meta. */
  private currentOp: OperationTrace | undefined;
  private readonly aborted: { promise: Promise<never>; dispose: () => void };
  private readonly reqOpts: { timeout: number; signal: AbortSignal };

  constructor(private readonly plan: SessionPlan) {
    this.aborted = untilAborted(plan.signal);
    // The SDK's own request timeout is set to the probe timeout only to override its 60 s
    // default; what bounds the probe is `signal`, aborted by the probe's outer deadline.
    this.reqOpts = { timeout: plan.target.timeoutMs, signal: plan.signal };
  }

  /** Aborted -> rejects with the signal's reason, so a hung SDK call cannot hold the probe. */
  private race<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.aborted.promise]);
  }

  private noted(what: string): void {
    this.noise++;
    if (this.noise <= LOGGED_NOISE) this.plan.say(what);
  }

  private get handshakeMethod(): string {
    return this.plan.memory.era === 'modern' ? 'server/discover' : 'initialize';
  }

  async script(): Promise<void> {
    const client = this.open();
    const server = await this.handshake(client.connectOptions);
    const tools = await this.listTools();
    this.check(server, tools);
    for (const canary of this.plan.canaries) await this.canary(canary);
  }

  private open(): ReturnType<typeof createClient> {
    const { target, kind, headers, signal, memory } = this.plan;
    const built = createClient(memory, target.maxToolPages);
    this.opened = openTransport(kind, { target, headers, signal, onNoise: (what) => this.noted(what) });
    this.conn = { client: built.client, transport: this.opened.transport };
    injectTraceContext(this.conn.transport, {
      meta: () => this.currentOp?.meta,
      onRequest: (id) => this.currentOp?.request(id),
    });
    // Malformed or unexpected messages are reported through onerror without failing the request.
    built.client.onerror = (err: Error) => this.noted(`transport error: ${err.message.slice(0, 200)}`);
    return built;
  }

  private async handshake(connectOptions: object): Promise<ServerIdentity> {
    const { memory, kind, say, trace } = this.plan;
    const conn = this.conn as McpConnection;
    this.step = 'handshake';
    this.currentOp = trace.startOperation(this.handshakeMethod);
    const t = performance.now();
    say(`${kind}: handshake (${memory.era === undefined ? 'negotiating era' : this.handshakeMethod})`);
    try {
      await this.race(conn.client.connect(conn.transport, { ...this.reqOpts, ...connectOptions } as never));
    } finally {
      this.splitConnectPhases((performance.now() - t) / 1000);
    }
    const server = describeServer(conn.client, kind);
    this.attempt.server = server;
    this.finishOp({
      method: server.era === 'modern' ? 'server/discover' : 'initialize',
      durationSeconds: this.attempt.phases.handshake ?? 0,
    });
    say(`handshake ok: ${server.name} ${server.version}, protocol ${server.protocolVersion} (${server.era})`);
    return server;
  }

  /** The handshake's wall time, less the connection phases the wire timed inside it. */
  private splitConnectPhases(handshakeSeconds: number): void {
    const obs = this.opened?.wire?.observations;
    const phases = this.attempt.phases;
    let connection = 0;
    for (const [phase, seconds] of [
      ['dns', obs?.dnsSeconds],
      ['connect', obs?.connectSeconds],
      ['tls', obs?.tlsSeconds],
    ] as const) {
      if (seconds === undefined) continue;
      phases[phase] = seconds;
      connection += seconds;
      this.currentOp?.phase(phase, seconds);
    }
    phases.handshake = Math.max(0, handshakeSeconds - connection);
  }

  private async listTools(): Promise<ToolSummary[]> {
    const conn = this.conn as McpConnection;
    this.step = 'tools_list';
    this.currentOp = this.plan.trace.startOperation('tools/list');
    const t = performance.now();
    let tools: ToolSummary[];
    try {
      tools = await this.race(listAllTools(conn.client, this.reqOpts));
    } finally {
      this.attempt.phases.tools_list = (performance.now() - t) / 1000;
    }
    assertUniqueToolNames(tools);
    this.attempt.tools = tools;
    this.finishOp({ method: 'tools/list', durationSeconds: this.attempt.phases.tools_list });
    const names = tools.slice(0, 20).map((x) => x.name);
    this.plan.say(
      `tools/list ok: ${tools.length} tools${names.length ? `: ${names.join(', ')}${tools.length > 20 ? ', …' : ''}` : ''}`,
    );
    return tools;
  }

  private check(server: ServerIdentity, tools: ToolSummary[]): void {
    const { target } = this.plan;
    this.attempt.checks.push(...checkExpectations(target.expect, server, tools));
    if (target.expect?.authChallenge) {
      // Expected a wall and got in without credentials: someone opened the server.
      this.attempt.checks.push({
        name: 'auth_challenge',
        ok: false,
        message: 'the server answered without asking for credentials',
      });
    }
    const failed = this.attempt.checks.find((c) => !c.ok);
    if (failed) throw new McpwatchError('assertion', `expect.${failed.name}: ${failed.message}`);
  }

  /**
   * One canary call: timed, checked, recorded as a CanaryResult. A failure of a `required`
   * canary fails the attempt (as before); another canary's failure is its own signal and the
   * script goes on, unless the deadline ended the session.
   */
  private async canary(canary: CanaryConfig): Promise<void> {
    const conn = this.conn as McpConnection;
    this.step = 'tool_call';
    this.currentOp = this.plan.trace.startOperation('tools/call');
    const t = performance.now();
    const record = (errorType: string | undefined): number => {
      const seconds = (performance.now() - t) / 1000;
      this.attempt.phases.tool_call = (this.attempt.phases.tool_call ?? 0) + seconds;
      this.finishOp({ method: 'tools/call', toolName: canary.tool, durationSeconds: seconds, errorType });
      return seconds;
    };
    const results = (this.attempt.canaries ??= []);
    let result: CallToolResult;
    try {
      result = await this.race(callTool(conn.client, canary.tool, canary.arguments, this.reqOpts));
    } catch (err) {
      const durationSeconds = record(jsonRpcCode(err) ?? 'error');
      if (canary.required || this.plan.signal.aborted) throw err;
      const reason = this.classify(err);
      results.push({ tool: canary.tool, success: false, reason, message: (err as Error).message, durationSeconds });
      this.plan.say(`tools/call ${canary.tool}: ${reason}`);
      return;
    }
    const durationSeconds = record(result.isError ? 'tool_error' : undefined);
    const checks = checkCanary(canary, result);
    this.attempt.checks.push(...checks);
    this.plan.say(`tools/call ${canary.tool}: ${result.isError ? 'isError' : 'ok'}`);
    const failed = checks.find((c) => !c.ok);
    results.push({
      tool: canary.tool,
      success: !failed,
      durationSeconds,
      ...(failed && { reason: 'assertion' as const, message: `canary.${failed.name}: ${failed.message}` }),
    });
    if (failed && canary.required) throw new McpwatchError('assertion', `canary.${failed.name}: ${failed.message}`);
  }

  private finishOp(record: OperationRecord): void {
    const op = this.currentOp;
    this.currentOp = undefined;
    if (op) {
      op.end({
        method: record.method,
        errorType: record.errorType,
        toolName: record.toolName,
        protocolVersion: this.attempt.server?.protocolVersion,
        sessionId: this.conn ? sessionIdOf(this.conn) : undefined,
      });
      if (op.traceId) {
        record.traceId = op.traceId;
        record.spanId = op.spanId;
      }
    }
    this.attempt.operations.push(record);
  }

  /** The failure reason of `err` in the current step, from what the wire saw. */
  private classify(err: unknown): FailureReason {
    const { signal, kind } = this.plan;
    const obs = this.opened?.wire?.observations;
    return classifyError({
      error: err,
      timedOut: signal.aborted && hasCode(signal.reason, 'deadline'),
      phase: this.step,
      transport: kind,
      lastStatus: obs?.lastStatus ?? 0,
      tooLarge: obs?.tooLarge ?? false,
      connectError: obs?.connectError ? { code: obs.connectError.code, phase: obs.connectErrorPhase } : undefined,
      sawMalformedMessages: this.noise > 0,
      hadSession: this.attempt.server !== undefined,
    });
  }

  /** Classifies the failure, names it, and records the operation it cut short. */
  async failed(err: unknown): Promise<void> {
    const { say } = this.plan;
    const obs = this.opened?.wire?.observations;
    const attempt = this.attempt;
    attempt.reason = this.classify(err);
    attempt.message = describeFailure(err, this.step, obs?.lastStatus ?? 0, this.opened?.stderr() ?? '');
    if (this.noise > 0) attempt.message += ` [${this.noise} unparsable or unexpected messages from the server]`;
    const ce = obs?.connectError;
    if (ce && !attempt.message.includes(ce.message))
      attempt.message += ` [${obs?.connectErrorPhase ?? 'connect'}: ${ce.code ?? ''} ${ce.message}]`;
    if (this.step === 'handshake' || this.step === 'tools_list') {
      const method = this.step === 'handshake' ? this.handshakeMethod : 'tools/list';
      if (!attempt.operations.some((o) => o.method === method)) {
        this.finishOp({
          method,
          durationSeconds: attempt.phases[this.step] ?? 0,
          errorType: jsonRpcCode(err) ?? attempt.reason,
        });
      }
    }
    // A required canary that failed is recorded as its tool's result too.
    const canary = this.step === 'tool_call' ? this.plan.canaries[attempt.canaries?.length ?? 0] : undefined;
    const last = attempt.operations.at(-1);
    if (canary && last?.toolName === canary.tool)
      (attempt.canaries ??= []).push({
        tool: canary.tool,
        success: false,
        reason: attempt.reason,
        message: attempt.message,
        durationSeconds: last.durationSeconds,
      });
    say(`${this.step} failed: ${attempt.reason}`);
    if (attempt.reason === 'auth' && this.plan.target.expect?.authChallenge) await this.authChallenge();
  }

  /** Monitored without credentials: a well-formed 401 challenge is the healthy answer. */
  private async authChallenge(): Promise<void> {
    const wire = this.opened?.wire;
    const obs = wire?.observations;
    if (!wire || obs?.lastStatus !== 401) return;
    const check = await checkAuthChallenge(
      obs.lastErrorHeaders?.['www-authenticate'],
      this.plan.target.url ?? '',
      wire.fetch as never,
    );
    // The endpoint's 401 is the status to report, not the metadata document's.
    obs.lastStatus = 401;
    this.attempt.checks.push(check);
    this.plan.say(`auth_challenge: ${check.message}`);
    if (check.ok) {
      delete this.attempt.reason;
      delete this.attempt.message;
    } else {
      this.attempt.message = `${this.attempt.message} [auth_challenge: ${check.message}]`;
    }
  }

  /** Ends the session and frees the transport; records the close phase and the wire's summary. */
  async close(): Promise<void> {
    const { say } = this.plan;
    // An operation that ended without a record (setup failed, or a bug) still ends its span.
    this.currentOp?.end({ errorType: this.attempt.reason ?? 'internal' });
    this.currentOp = undefined;
    this.aborted.dispose();
    const opened = this.opened;
    if (!opened) return;
    if (this.conn) {
      const tc = performance.now();
      await closeWithDeadline(this.conn, opened, say);
      this.attempt.phases.close = (performance.now() - tc) / 1000;
    }
    await opened.release(say);
    const obs = opened.wire?.observations;
    if (obs) {
      this.attempt.httpStatus = obs.lastStatus;
      this.attempt.certExpirySeconds = obs.certExpirySeconds;
      const more = obs.requestCount - obs.requests.length;
      const list = obs.requests.map((r) => `${r.method} ${r.status}`).join(', ');
      say(`http: ${list || 'no answer'}${more > 0 ? ` and ${more} more` : ''}`);
    }
  }
}

/**
 * A deadline of `timeoutMs` (its reason a `deadline` McpwatchError, which classify reads as
 * `timeout`), or the caller's abort, whichever comes first. `dispose()` clears the timer.
 */
export function deadlineSignal(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  what: string,
): { signal: AbortSignal; dispose(): void } {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new McpwatchError('deadline', `${what} deadline of ${timeoutMs}ms exceeded`)),
    timeoutMs,
  );
  const onOuterAbort = () => deadline.abort(outer?.reason ?? new Error(`${what} aborted`));
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: deadline.signal,
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** Aborted -> rejects with the signal's reason, so a hung SDK call cannot hold the probe. */
export function untilAborted(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

function jsonRpcCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? String(code) : undefined;
}

function describeFailure(err: unknown, phase: string, status: number, stderr: string): string {
  const e = err as { message?: string };
  let msg = `${phase}: ${e?.message ?? String(err)}`;
  // fetch hides the real cause behind TypeError('fetch failed'): name the deepest one.
  const root = errorChain(err).at(-1) as { code?: unknown; message?: string } | undefined;
  if (root && root !== err && root.message && !msg.includes(root.message)) {
    msg += ` (cause: ${typeof root.code === 'string' ? `${root.code} ` : ''}${root.message})`;
  }
  if (status && !msg.includes(String(status))) msg += ` [last HTTP status ${status}]`;
  if (stderr.trim()) msg += ` [stderr: ${stderr.trim().slice(-200)}]`;
  return msg;
}

/** Ends the session and closes the transport within CLOSE_DEADLINE_MS. Never throws. */
async function closeWithDeadline(
  conn: McpConnection,
  opened: OpenedTransport,
  say: (line: string) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), CLOSE_DEADLINE_MS);
  });
  const cancel = opened.onClosing();
  const outcome = await Promise.race([endSession(conn, (m) => say(m)).then(() => 'done' as const), deadline]);
  clearTimeout(timer);
  cancel();
  if (outcome === 'late') say(`close did not finish within ${CLOSE_DEADLINE_MS}ms; dropping the connection`);
}
