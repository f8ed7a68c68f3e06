/**
 * What the proxy knows about the traffic of one target: open sessions, requests awaiting their
 * answer (matched by JSON-RPC id within a session), tool calls in flight. Pure bookkeeping with
 * bounds; it reports through a ProxySink and never sees a body it was not handed.
 */
import { performance } from 'node:perf_hooks';
import type { ProxyUnobservedReason } from '../metrics/names.js';

/** Where observations go (the recorder, bound to one target). Implementations must not throw. */
export interface ProxySink {
  sessions(active: number): void;
  toolCalls(active: number): void;
  /** One request answered; `toolName` is the `tools/call` params.name as the client sent it (unbounded: the sink bounds it). */
  operation(method: string, errorType: string, seconds: number, toolName?: string): void;
  sessionEnded(seconds: number): void;
  /** Age of the oldest open session, seconds (0 when none); refreshed on every change and sweep. */
  oldestSessionAge(seconds: number): void;
  /** A session counted as ended because it stayed idle past `idle_timeout`. */
  sessionIdleClosed(): void;
  /** Something passed through untouched without being observed (`mcpwatch_proxy_unobserved_total`). */
  unobserved(reason: ProxyUnobservedReason): void;
}

/** Methods that become `mcp_method_name` values; anything else is `other` (clients choose these). */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tasks/cancel',
  'subscriptions/listen',
]);

/** A bounded label value for a client-chosen method name. */
export function methodLabel(method: unknown): string {
  return typeof method === 'string' && KNOWN_METHODS.has(method) ? method : 'other';
}

/** A bounded label value for a JSON-RPC error code from the server. */
export function errorCodeLabel(code: unknown): string {
  return typeof code === 'number' && Number.isInteger(code) && Math.abs(code) < 1_000_000 ? String(code) : 'other';
}

interface Pending {
  method: string;
  t0: number;
  tool: boolean;
  /** The tool a `tools/call` names (client-chosen; bounded by the sink). */
  toolName?: string;
  /** Session key of the pending (to drop a session's pendings when it ends). */
  session: string;
  /** Its HTTP exchange is still open: that exchange settles it, not the session's end. */
  inFlight: boolean;
}

interface Session {
  openedAt: number;
  lastSeen: number;
  /** Open long-lived streams (GET): a session with one is not idle. */
  streams: number;
}

const SILENT: ProxySink = {
  sessions() {},
  toolCalls() {},
  operation() {},
  sessionEnded() {},
  oldestSessionAge() {},
  sessionIdleClosed() {},
  unobserved() {},
};

/** JSON-RPC id as a map key: 1 and "1" are different ids. */
function idKey(id: unknown): string | undefined {
  if (typeof id === 'string') return `s${id}`;
  if (typeof id === 'number') return `n${id}`;
  return undefined;
}

/** The proxy's bookkeeping for one target. */
export class TrafficObserver {
  private readonly pending = new Map<string, Pending>();
  private readonly sessions = new Map<string, Session>();
  private toolCalls = 0;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private sink: ProxySink,
    private readonly opts: { maxPending: number; idleTimeoutMs: number },
  ) {
    sink.sessions(0);
    sink.toolCalls(0);
    sink.oldestSessionAge(0);
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(opts.idleTimeoutMs / 4, 15_000)));
    this.sweeper.unref();
  }

  /** Counts something passed through unobserved (through the sink). */
  count(reason: ProxyUnobservedReason): void {
    this.sink.unobserved(reason);
  }

  /**
   * A client message sent on `session` (a request, notification or response). Returns the
   * pending key when it is a request now awaiting its answer.
   */
  clientMessage(session: string, msg: unknown, t0: number): string | undefined {
    if (!msg || typeof msg !== 'object') return undefined;
    const m = msg as { id?: unknown; method?: unknown; params?: { requestId?: unknown; name?: unknown } };
    if (typeof m.method !== 'string') return undefined; // a response to a server request
    const id = idKey(m.id);
    if (id === undefined) {
      // A cancelled request will get no answer: stop waiting, do not time it.
      if (m.method === 'notifications/cancelled') this.drop(`${session}\0${idKey(m.params?.requestId)}`);
      return undefined;
    }
    if (this.pending.size >= this.opts.maxPending) {
      this.count('pending_limit');
      return undefined;
    }
    const key = `${session}\0${id}`;
    const tool = m.method === 'tools/call';
    this.drop(key); // a reused id replaces the old wait
    const toolName = tool && typeof m.params?.name === 'string' ? m.params.name : undefined;
    this.pending.set(key, { method: methodLabel(m.method), t0, tool, toolName, session, inFlight: true });
    if (tool) this.sink.toolCalls(++this.toolCalls);
    return key;
  }

  /** A server message seen on a stream of `session`: completes the request it answers. */
  serverMessage(session: string, msg: unknown): void {
    if (!msg || typeof msg !== 'object') return;
    const m = msg as { id?: unknown; method?: unknown; error?: { code?: unknown }; result?: { isError?: unknown } };
    if (m.method !== undefined) return; // a server request or notification
    const id = idKey(m.id);
    if (id === undefined) return;
    const key = `${session}\0${id}`;
    const p = this.pending.get(key);
    if (!p) return;
    let errorType = '';
    if (m.error) errorType = errorCodeLabel(m.error.code);
    else if (p.tool && m.result?.isError === true) errorType = 'tool_error';
    this.complete(key, p, errorType);
  }

  /** Completes a still-pending request with an HTTP-level error (`http_502`, ...). */
  fail(key: string, errorType: string): void {
    const p = this.pending.get(key);
    if (p) this.complete(key, p, errorType);
  }

  /** Stops waiting for a request without timing it (its answer can no longer be seen). */
  drop(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (p.tool) this.sink.toolCalls(--this.toolCalls);
  }

  /**
   * The HTTP exchange of a request ended without its answer: keep waiting for it on the
   * session's other streams, or stop waiting if the session is gone.
   */
  detach(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    if (this.sessions.has(p.session)) p.inFlight = false;
    else this.drop(key);
  }

  private complete(key: string, p: Pending, errorType: string): void {
    this.pending.delete(key);
    if (p.tool) this.sink.toolCalls(--this.toolCalls);
    this.sink.operation(p.method, errorType, (performance.now() - p.t0) / 1000, p.toolName);
  }

  /** Records an operation timed at the HTTP level (stateless request whose body was not parsed). */
  operation(method: string, errorType: string, t0: number, toolName?: string): void {
    const label = methodLabel(method);
    this.sink.operation(
      label,
      errorType,
      (performance.now() - t0) / 1000,
      label === 'tools/call' ? toolName : undefined,
    );
  }

  /** Marks traffic on a session; opens it if unknown and `open` (an initialize answer, or adoption). */
  touch(session: string, open: boolean): void {
    const s = this.sessions.get(session);
    const now = performance.now();
    if (s) s.lastSeen = now;
    else if (open) {
      this.sessions.set(session, { openedAt: now, lastSeen: now, streams: 0 });
      this.sink.sessions(this.sessions.size);
      this.reportOldest(now);
    }
  }

  /** A long-lived stream of the session opened (+1) or closed (-1). */
  stream(session: string, delta: 1 | -1): void {
    const s = this.sessions.get(session);
    if (!s) return;
    s.streams = Math.max(0, s.streams + delta);
    s.lastSeen = performance.now();
  }

  /** Ends a session (DELETE, 404, closed legacy stream, idle): records its duration, drops its pendings. */
  endSession(session: string): void {
    const s = this.sessions.get(session);
    if (!s) return;
    this.sessions.delete(session);
    this.sink.sessions(this.sessions.size);
    this.reportOldest(performance.now());
    this.sink.sessionEnded((performance.now() - s.openedAt) / 1000);
    for (const [key, p] of this.pending) if (p.session === session && !p.inFlight) this.drop(key);
  }

  private sweep(): void {
    const now = performance.now();
    const idle = this.opts.idleTimeoutMs;
    for (const [id, s] of this.sessions) {
      if (s.streams > 0 || now - s.lastSeen <= idle) continue;
      this.sink.sessionIdleClosed();
      this.endSession(id);
    }
    this.reportOldest(now);
    // Answers that never came (lost streams) stop counting as in flight after the idle timeout.
    for (const [key, p] of this.pending) if (!p.inFlight && now - p.t0 > idle) this.drop(key);
  }

  /**
   * Reports the oldest open session's age. Sessions enter the map as they open (adopted ones
   * with the time they were first seen), so the first entry is the oldest: O(1).
   */
  private reportOldest(now: number): void {
    const first = this.sessions.values().next();
    this.sink.oldestSessionAge(first.done ? 0 : (now - first.value.openedAt) / 1000);
  }

  /** Open sessions and pending requests, for tests and the debug log. */
  snapshot(): { sessions: number; pending: number; toolCalls: number } {
    return { sessions: this.sessions.size, pending: this.pending.size, toolCalls: this.toolCalls };
  }

  /**
   * Stops the sweeper, forgets everything and reports nothing more: sessions cut by a shutdown are
   * not timed (they did not end), and exchanges still settling must not bring back the series of
   * a target that left the config. Whoever stopped the proxy clears its gauges.
   */
  close(): void {
    clearInterval(this.sweeper);
    this.sink = SILENT;
    this.sessions.clear();
    this.pending.clear();
    this.toolCalls = 0;
  }
}
