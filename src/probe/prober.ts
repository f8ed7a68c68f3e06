/**
 * One probe of one target: handshake (initialize or server/discover), tools/list (every page),
 * expect checks, optional canary tool call, then end the session and close the transport.
 *
 * Contract: `probe()` resolves to a ProbeResult and never rejects; it honours `signal`; it ends
 * within the target's timeout plus the close deadline, even when the SDK would hang (the legacy
 * SSE start has no timeout of its own); it never leaks a socket, session or child process.
 */
import { performance } from 'node:perf_hooks';
import type { TargetConfig } from '../config/schema.js';
import { classifyError } from './classify.js';
import { checkCanary, checkExpectations } from './checks.js';
import { createProbeWire, type ProbeWire } from './http-wire.js';
import {
  callTool,
  createClient,
  createTransport,
  describeServer,
  endSession,
  injectTraceContext,
  listAllTools,
  sessionIdOf,
  type McpConnection,
} from './mcp-client.js';
import { resolveHeaders } from '../net/credentials.js';
import { errorChain, hasCode, McpwatchError } from '../net/errors.js';
import { mergeSecrets, redact, safeUrl, targetSecrets } from '../net/redact.js';
import { hashToolList, trackToolList } from './tool-hash.js';
import { assertUniqueToolNames } from './validate.js';
import { currentClientSecret, dropToken, getAccessToken } from './oauth.js';
import { checkAuthChallenge } from './auth-challenge.js';
import {
  NOOP_TRACE_HOOKS,
  type OperationTrace,
  type ProbeTrace,
  type ProbeTraceStart,
  type TraceHooks,
} from './trace-hooks.js';
import type {
  FailureReason,
  OperationRecord,
  Phase,
  ProbeMemory,
  ProbeResult,
  ResolvedTransport,
  ServerIdentity,
  ToolSummary,
} from './types.js';

/** How long ending the session and closing the transport may take, on top of the timeout. */
export const CLOSE_DEADLINE_MS = 1500;
const MAX_STDERR_BYTES = 8192;
const MAX_MESSAGE_LENGTH = 500;

export interface ProbeOptions {
  /** What earlier probes of this target learned; updated in place after the probe. */
  memory?: ProbeMemory;
  /** Aborts the probe (shutdown, reload). */
  signal?: AbortSignal;
  /** Run the canary tool call in this probe; by default when `canary.interval` says it is due (see canaryDue). */
  canary?: boolean;
  /** Receives the probe's spans (src/telemetry/); default: no tracing, no `_meta` injection. */
  tracer?: TraceHooks;
}

/** Runs one probe of `target`. Never rejects. */
export async function probe(target: TargetConfig, options: ProbeOptions = {}): Promise<ProbeResult> {
  const memory = options.memory ?? {};
  const startedAtMs = Date.now();
  const t0 = performance.now();
  const log: string[] = [];
  const ms = () => (performance.now() - t0).toFixed(1).padStart(7);
  let secrets: string[] = targetSecrets(target);
  const say = (line: string) => log.push(`+${ms()}ms ${redact(line, secrets)}`);

  const result: ProbeResult = {
    target: target.name,
    success: false,
    startedAtMs,
    durationSeconds: 0,
    phases: {},
    httpStatus: 0,
    operations: [],
    checks: [],
    log,
  };
  const trace = startTrace(options.tracer, target);
  if (trace.traceId) say(`trace id ${trace.traceId}`);

  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new McpwatchError('deadline', `probe deadline of ${target.timeoutMs}ms exceeded`)),
    target.timeoutMs,
  );
  const onOuterAbort = () => deadline.abort(options.signal?.reason ?? new Error('probe aborted'));
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = deadline.signal;

  const kinds: ResolvedTransport[] =
    target.transport === 'auto'
      ? memory.transport
        ? [memory.transport]
        : ['streamable-http', 'sse']
      : [target.transport];

  say(
    `probe ${target.name}: ${target.transport === 'stdio' ? `stdio ${target.command}` : safeUrl(target.url ?? '')} (timeout ${target.timeoutMs}ms)`,
  );
  try {
    let headers: Record<string, string> = {};
    try {
      const resolved = resolveHeaders(target);
      headers = resolved.headers;
      secrets = resolved.secrets;
    } catch (err) {
      fail(result, 'internal', (err as Error).message);
      return result;
    }
    if (target.oauth2) {
      const oauth = await oauthHeader(target, memory, signal);
      secrets = mergeSecrets(secrets, oauth.secrets);
      if (oauth.error) {
        fail(result, oauth.error.reason, oauth.error.message);
        return result;
      }
      headers.Authorization = oauth.header as string;
      say(`oauth2: ${oauth.fromCache ? 'cached access token' : 'new access token from the token endpoint'}`);
    }
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[i] as ResolvedTransport;
      const isLastTry = i === kinds.length - 1;
      const runCanary = options.canary ?? canaryDue(target, memory, startedAtMs);
      const attempt = await attemptProbe(target, kind, headers, memory, signal, say, runCanary, trace);
      if (attempt.operations.some((o) => o.method === 'tools/call')) memory.lastCanaryAtMs = startedAtMs;
      Object.assign(result.phases, attempt.phases);
      result.operations.push(...attempt.operations);
      result.httpStatus = attempt.httpStatus;
      if (attempt.certExpirySeconds !== undefined) result.tlsCertExpirySeconds = attempt.certExpirySeconds;
      if (attempt.server) result.server = attempt.server;
      if (attempt.tools) {
        result.tools = attempt.tools;
        result.toolListHash = hashToolList(attempt.tools);
      }
      result.checks = attempt.checks;
      if (!attempt.reason) {
        result.success = true;
        memory.transport = target.transport === 'auto' ? kind : undefined;
        memory.era = attempt.server?.era;
        memory.protocolVersion = attempt.server?.protocolVersion;
        trackToolList(result, memory);
        break;
      }
      // transport: auto falls back to legacy SSE when the Streamable HTTP endpoint refuses the POST.
      const fallBack =
        !isLastTry &&
        attempt.reason === 'http_status' &&
        [400, 404, 405].includes(attempt.httpStatus) &&
        !signal.aborted;
      if (fallBack) {
        say(`streamable-http answered HTTP ${attempt.httpStatus}; trying legacy sse`);
        continue;
      }
      fail(result, attempt.reason, attempt.message ?? attempt.reason);
      // A rejected token may have been revoked before its expiry: fetch a new one next time.
      if (attempt.reason === 'auth') dropToken(memory);
      // Re-learn the era and transport on the next probe.
      delete memory.era;
      delete memory.protocolVersion;
      delete memory.transport;
      break;
    }
  } catch (err) {
    // Only a bug in mcpwatch gets here; it is still data.
    fail(result, 'internal', `internal error: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
    result.durationSeconds = (performance.now() - t0) / 1000;
    if (result.message) result.message = redact(result.message, secrets).slice(0, MAX_MESSAGE_LENGTH);
    say(
      result.success
        ? `success in ${(result.durationSeconds * 1000).toFixed(1)}ms`
        : `failure: ${result.reason}: ${result.message}`,
    );
    if (trace.traceId) result.traceId = trace.traceId;
    trace.end(result);
  }
  return result;
}

/** Starts the probe's trace; a tracer that throws is replaced by none (tracing never fails a probe). */
function startTrace(tracer: TraceHooks | undefined, target: TargetConfig): ProbeTrace {
  const start: ProbeTraceStart = {
    target: target.name,
    networkTransport: target.transport === 'stdio' ? 'pipe' : 'tcp',
  };
  if (target.transport !== 'stdio' && target.url) {
    try {
      // Host and port only: the URL's path, query and userinfo may hold secrets.
      const u = new URL(target.url);
      start.serverAddress = u.hostname.replace(/^\[|\]$/g, '');
      start.serverPort = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    } catch {
      /* an invalid URL fails the probe later, with a reason */
    }
  }
  try {
    return (tracer ?? NOOP_TRACE_HOOKS).startProbe(start);
  } catch {
    return NOOP_TRACE_HOOKS.startProbe(start);
  }
}

/**
 * Whether the canary call falls due on a probe starting at `nowMs`: always without
 * `canary.interval`; else when the interval has passed since the last call, less half a probe
 * interval, so schedule lag never pushes the call to the probe after.
 */
export function canaryDue(target: TargetConfig, memory: ProbeMemory, nowMs: number): boolean {
  const every = target.canary?.intervalMs;
  if (!every || memory.lastCanaryAtMs === undefined) return true;
  return nowMs - memory.lastCanaryAtMs >= every - (target.intervalMs ?? 0) / 2;
}

/** The OAuth 2 Authorization header of a target, or why there is none. Never throws. */
async function oauthHeader(
  target: TargetConfig,
  memory: ProbeMemory,
  signal: AbortSignal,
): Promise<{
  header?: string;
  fromCache?: boolean;
  secrets: string[];
  error?: { reason: FailureReason; message: string };
}> {
  const cfg = target.oauth2 as NonNullable<TargetConfig['oauth2']>;
  const secrets = [currentClientSecret(cfg)].filter((s) => s.length > 0);
  try {
    const { accessToken, fromCache } = await getAccessToken(cfg, memory, {
      signal,
      tls: target.tls,
      timeoutMs: target.timeoutMs,
    });
    secrets.push(accessToken);
    return { header: `Bearer ${accessToken}`, fromCache, secrets };
  } catch (err) {
    const reason: FailureReason = signal.aborted ? 'timeout' : hasCode(err, 'auth') ? 'auth' : 'internal';
    return {
      secrets,
      error: {
        reason,
        message: signal.aborted ? 'oauth2: token endpoint did not answer before the deadline' : (err as Error).message,
      },
    };
  }
}

function fail(result: ProbeResult, reason: FailureReason, message: string): void {
  result.success = false;
  result.reason = reason;
  result.message = message;
}

interface Attempt {
  reason?: FailureReason;
  message?: string;
  phases: Partial<Record<Phase, number>>;
  operations: ProbeResult['operations'];
  checks: ProbeResult['checks'];
  httpStatus: number;
  certExpirySeconds?: number;
  server?: ServerIdentity;
  tools?: ToolSummary[];
}

/** Aborted -> rejects with the signal's reason, so a hung SDK call cannot hold the probe. */
function untilAborted(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

async function attemptProbe(
  target: TargetConfig,
  kind: ResolvedTransport,
  headers: Record<string, string>,
  memory: ProbeMemory,
  signal: AbortSignal,
  say: (line: string) => void,
  runCanary: boolean,
  trace: ProbeTrace,
): Promise<Attempt> {
  const attempt: Attempt = { phases: {}, operations: [], checks: [], httpStatus: 0 };
  let wire: ProbeWire | undefined;
  let conn: McpConnection | undefined;
  let phase: 'setup' | 'handshake' | 'tools_list' | 'tool_call' = 'setup';
  let malformed = 0;
  let stderr = '';
  const aborted = untilAborted(signal);
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, aborted.promise]);
  // The span of the operation in flight: its context goes into each request's params._meta.
  let currentOp: OperationTrace | undefined;
  const finishOp = (record: OperationRecord) => {
    const op = currentOp;
    currentOp = undefined;
    if (op) {
      op.end({
        method: record.method,
        errorType: record.errorType,
        toolName: record.toolName,
        protocolVersion: attempt.server?.protocolVersion,
        sessionId: conn ? sessionIdOf(conn) : undefined,
      });
      if (op.traceId) {
        record.traceId = op.traceId;
        record.spanId = op.spanId;
      }
    }
    attempt.operations.push(record);
  };

  try {
    const { client, connectOptions } = createClient(memory, target.maxToolPages);
    if (kind === 'stdio') {
      const built = createTransport('stdio', {
        command: target.command ?? '',
        args: target.args,
        env: target.env,
        cwd: target.cwd,
        onStderr: (chunk) => {
          if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.slice(0, MAX_STDERR_BYTES - stderr.length);
        },
        onStdoutNoise: () => {
          malformed++;
          if (malformed <= 3) say('stdio: a stdout line that is not JSON-RPC');
        },
      });
      conn = { client, transport: built.transport, kind };
    } else {
      wire = createProbeWire(target, signal, { localGetStream: kind === 'streamable-http' });
      const built = createTransport(kind, { url: target.url ?? '', headers, fetch: wire.fetch });
      conn = { client, transport: built.transport, kind };
    }
    injectTraceContext(conn.transport, { meta: () => currentOp?.meta, onRequest: (id) => currentOp?.request(id) });
    // Malformed or unexpected messages are reported through onerror without failing the request.
    client.onerror = (err: Error) => {
      malformed++;
      if (malformed <= 3) say(`transport error: ${err.message.slice(0, 200)}`);
    };

    phase = 'handshake';
    // The SDK's own request timeout is set to the probe timeout only to override its 60 s default;
    // what bounds the probe is `signal`, aborted by the probe's outer deadline.
    const reqOpts = { timeout: target.timeoutMs, signal };
    currentOp = trace.startOperation(memory.era === 'modern' ? 'server/discover' : 'initialize');
    let t = performance.now();
    say(
      `${kind}: handshake (${memory.era === 'legacy' ? 'initialize' : memory.era === 'modern' ? 'server/discover' : 'negotiating era'})`,
    );
    try {
      await race(client.connect(conn.transport, { ...reqOpts, ...connectOptions } as never));
    } finally {
      const handshakeSeconds = (performance.now() - t) / 1000;
      const obs = wire?.observations;
      const dns = obs?.dnsSeconds ?? 0;
      const tcp = obs?.connectSeconds ?? 0;
      const tls = obs?.tlsSeconds ?? 0;
      if (obs?.dnsSeconds !== undefined) attempt.phases.dns = dns;
      if (obs?.connectSeconds !== undefined) attempt.phases.connect = tcp;
      if (obs?.tlsSeconds !== undefined) attempt.phases.tls = tls;
      attempt.phases.handshake = Math.max(0, handshakeSeconds - dns - tcp - tls);
      if (obs?.dnsSeconds !== undefined) currentOp?.phase('dns', dns);
      if (obs?.connectSeconds !== undefined) currentOp?.phase('connect', tcp);
      if (obs?.tlsSeconds !== undefined) currentOp?.phase('tls', tls);
    }
    const server = describeServer(client, kind);
    attempt.server = server;
    if (kind === 'stdio') conn.pid = (conn.transport as { pid?: number | null }).pid ?? undefined;
    finishOp({
      method: server.era === 'modern' ? 'server/discover' : 'initialize',
      durationSeconds: attempt.phases.handshake ?? 0,
    });
    say(`handshake ok: ${server.name} ${server.version}, protocol ${server.protocolVersion} (${server.era})`);

    phase = 'tools_list';
    currentOp = trace.startOperation('tools/list');
    t = performance.now();
    let tools: ToolSummary[];
    try {
      tools = await race(listAllTools(client, reqOpts));
    } finally {
      attempt.phases.tools_list = (performance.now() - t) / 1000;
    }
    assertUniqueToolNames(tools);
    attempt.tools = tools;
    finishOp({ method: 'tools/list', durationSeconds: attempt.phases.tools_list });
    say(
      `tools/list ok: ${tools.length} tools${
        tools.length > 0
          ? `: ${tools
              .slice(0, 20)
              .map((x) => x.name)
              .join(', ')}${tools.length > 20 ? ', …' : ''}`
          : ''
      }`,
    );

    attempt.checks.push(...checkExpectations(target.expect, server, tools));
    if (target.expect?.authChallenge) {
      // Expected a wall and got in without credentials: someone opened the server.
      attempt.checks.push({
        name: 'auth_challenge',
        ok: false,
        message: 'the server answered without asking for credentials',
      });
    }
    const failedExpect = attempt.checks.find((c) => !c.ok);
    if (failedExpect) throw new McpwatchError('assertion', `expect.${failedExpect.name}: ${failedExpect.message}`);

    if (target.canary && runCanary) {
      phase = 'tool_call';
      const canary = target.canary;
      currentOp = trace.startOperation('tools/call');
      t = performance.now();
      let callResult;
      try {
        callResult = await race(callTool(client, canary.tool, canary.arguments, reqOpts));
      } catch (err) {
        attempt.phases.tool_call = (performance.now() - t) / 1000;
        finishOp({
          method: 'tools/call',
          toolName: canary.tool,
          durationSeconds: attempt.phases.tool_call,
          errorType: jsonRpcCode(err) ?? 'error',
        });
        throw err;
      }
      attempt.phases.tool_call = (performance.now() - t) / 1000;
      finishOp({
        method: 'tools/call',
        toolName: canary.tool,
        durationSeconds: attempt.phases.tool_call,
        errorType: callResult.isError ? 'tool_error' : undefined,
      });
      const canaryChecks = checkCanary(canary, callResult);
      attempt.checks.push(...canaryChecks);
      say(`tools/call ${canary.tool}: ${callResult.isError ? 'isError' : 'ok'}`);
      const failedCanary = canaryChecks.find((c) => !c.ok);
      if (failedCanary) throw new McpwatchError('assertion', `canary.${failedCanary.name}: ${failedCanary.message}`);
    }
  } catch (err) {
    const obs = wire?.observations;
    const timedOut = signal.aborted && hasCode(signal.reason, 'deadline');
    attempt.reason = classifyError({
      error: err,
      timedOut,
      phase,
      transport: kind,
      lastStatus: obs?.lastStatus ?? 0,
      tooLarge: obs?.tooLarge ?? false,
      connectError: obs?.connectError ? { code: obs.connectError.code, phase: obs.connectErrorPhase } : undefined,
      sawMalformedMessages: malformed > 0,
      hadSession: attempt.server !== undefined,
    });
    attempt.message = describeFailure(err, phase, obs?.lastStatus ?? 0, stderr);
    if (malformed > 0) attempt.message += ` [${malformed} unparsable or unexpected messages from the server]`;
    const ce = obs?.connectError;
    if (ce && !attempt.message.includes(ce.message))
      attempt.message += ` [${obs?.connectErrorPhase ?? 'connect'}: ${ce.code ?? ''} ${ce.message}]`;
    if (phase !== 'tool_call' && phase !== 'setup') {
      const method =
        phase === 'handshake' ? (memory.era === 'modern' ? 'server/discover' : 'initialize') : 'tools/list';
      if (!attempt.operations.some((o) => o.method === method)) {
        finishOp({
          method,
          durationSeconds: attempt.phases[phase] ?? 0,
          errorType: jsonRpcCode(err) ?? attempt.reason,
        });
      }
    }
    say(`${phase} failed: ${attempt.reason}`);
    if (attempt.reason === 'auth' && target.expect?.authChallenge && wire && obs?.lastStatus === 401) {
      const check = await checkAuthChallenge(
        obs.lastErrorHeaders?.['www-authenticate'],
        target.url ?? '',
        wire.fetch as never,
      );
      // The endpoint's 401 is the status to report, not the metadata document's.
      obs.lastStatus = 401;
      attempt.checks.push(check);
      say(`auth_challenge: ${check.message}`);
      if (check.ok) {
        // Monitored without credentials: the wall itself is the healthy answer.
        delete attempt.reason;
        delete attempt.message;
      } else {
        attempt.message = `${attempt.message} [auth_challenge: ${check.message}]`;
      }
    }
  } finally {
    // An operation that ended without a record (setup failed, or a bug) still ends its span.
    currentOp?.end({ errorType: attempt.reason ?? 'internal' });
    currentOp = undefined;
    aborted.dispose();
    if (conn) {
      const tc = performance.now();
      await closeWithDeadline(conn, say);
      attempt.phases.close = (performance.now() - tc) / 1000;
    }
    await wire?.close();
    const obs = wire?.observations;
    if (obs) {
      attempt.httpStatus = obs.lastStatus;
      attempt.certExpirySeconds = obs.certExpirySeconds;
      const more = obs.requestCount - obs.requests.length;
      say(
        `http: ${obs.requests.map((r) => `${r.method} ${r.status}`).join(', ') || 'no answer'}${more > 0 ? ` and ${more} more` : ''}`,
      );
    }
  }
  return attempt;
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

const STDIO_TERM_AFTER_MS = 300;
const STDIO_KILL_AFTER_MS = 800;

function signalChild(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Ends the session and closes the transport within CLOSE_DEADLINE_MS; kills a stdio child that lingers. */
async function closeWithDeadline(conn: McpConnection, say: (line: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), CLOSE_DEADLINE_MS);
  });
  const pid = conn.pid ?? (conn.transport as { pid?: number | null }).pid ?? undefined;
  // A probe need not wait the SDK's 2 s + 2 s for a child to leave after stdin closes: SIGTERM
  // soon, SIGKILL if it ignores that (test/hostile "stdio ignores SIGTERM").
  const escalation: NodeJS.Timeout[] = [];
  if (conn.kind === 'stdio' && pid) {
    escalation.push(setTimeout(() => signalChild(pid, 'SIGTERM'), STDIO_TERM_AFTER_MS));
    escalation.push(setTimeout(() => signalChild(pid, 'SIGKILL'), STDIO_KILL_AFTER_MS));
  }
  const outcome = await Promise.race([endSession(conn, (m) => say(m)).then(() => 'done' as const), deadline]);
  clearTimeout(timer);
  for (const t of escalation) clearTimeout(t);
  if (outcome === 'late') say(`close did not finish within ${CLOSE_DEADLINE_MS}ms; dropping the connection`);
  if (conn.kind === 'stdio' && pid) {
    try {
      process.kill(pid, 0);
      process.kill(pid, 'SIGKILL');
      say(`stdio child ${pid} killed`);
    } catch {
      /* already gone */
    }
  }
}
