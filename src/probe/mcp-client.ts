/**
 * The one place that touches the MCP SDK's Client: builds a client that negotiates the right
 * era, lists tools, calls a tool, and ends the session. The SDK's transports are built in
 * ./transports/, one file each. A protocol change in the SDK touches these files only.
 *
 * Built on `@modelcontextprotocol/client` (v2): the v1 package cannot speak 2026-07-28.
 */
import {
  Client,
  StreamableHTTPClientTransport,
  TRACEPARENT_META_KEY,
  TRACESTATE_META_KEY,
} from '@modelcontextprotocol/client';
import type { Transport, CallToolResult } from '@modelcontextprotocol/client';
import { VERSION } from '../version.js';
import type { ProbeMemory, ProtocolEra, ResolvedTransport, ServerIdentity, ToolSummary } from './types.js';

export const CLIENT_INFO = { name: 'mcpwatch', version: VERSION } as const;

export interface McpConnection {
  client: Client;
  transport: Transport;
}

/** Hooks of `injectTraceContext`: the current operation's context, and who hears of each request id. */
export interface TraceContextSource {
  /** The W3C context to put in `params._meta`; undefined sends the message unchanged. */
  meta(): { traceparent: string; tracestate?: string } | undefined;
  onRequest?(id: string | number, method: string): void;
}

/**
 * Makes every JSON-RPC request sent on `transport` carry `params._meta.traceparent` (and
 * `tracestate`) of the current operation, so a server that honours it joins the probe's trace
 * (MCP semantic conventions: context travels in `params._meta`). Works for every transport,
 * stdio included, because it wraps `send` rather than the HTTP body. Existing `_meta` keys are
 * kept; the SDK's message object is copied, never mutated. Returns the same transport.
 */
export function injectTraceContext(transport: Transport, source: TraceContextSource): Transport {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const m = message as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    if (typeof m.method !== 'string' || m.id === undefined) return send(message, options);
    const ctx = source.meta();
    try {
      source.onRequest?.(m.id as string | number, m.method);
    } catch {
      /* tracing never changes a probe */
    }
    if (!ctx) return send(message, options);
    const meta: Record<string, unknown> = { ...((m.params?._meta as Record<string, unknown> | undefined) ?? {}) };
    meta[TRACEPARENT_META_KEY] = ctx.traceparent;
    if (ctx.tracestate) meta[TRACESTATE_META_KEY] = ctx.tracestate;
    return send({ ...message, params: { ...(m.params ?? {}), _meta: meta } } as typeof message, options);
  };
  return transport;
}

/** The session id of a stateful Streamable HTTP connection (span attribute `mcp.session.id`). */
export function sessionIdOf(conn: McpConnection): string | undefined {
  return conn.transport instanceof StreamableHTTPClientTransport ? conn.transport.sessionId : undefined;
}

/** Builds a client whose negotiation follows what the previous success taught. */
export function createClient(
  memory: ProbeMemory,
  maxToolPages: number,
): { client: Client; connectOptions: { prior?: { kind: 'legacy' } } } {
  let versionNegotiation: { mode: 'auto' | 'legacy' | { pin: string } } = { mode: 'auto' };
  let prior: { kind: 'legacy' } | undefined;
  if (memory.era === 'legacy') {
    // Known handshake-era server: skip the server/discover round trip (re-learned after a failure).
    prior = { kind: 'legacy' };
  } else if (memory.era === 'modern' && memory.protocolVersion) {
    versionNegotiation = { mode: { pin: memory.protocolVersion } };
  }
  const client = new Client(CLIENT_INFO, {
    // Always the same (empty) capabilities: some servers list different tools per capability set.
    capabilities: {},
    versionNegotiation,
    listMaxPages: maxToolPages,
  } as ConstructorParameters<typeof Client>[1]);
  return { client, connectOptions: prior ? { prior } : {} };
}

/** Reads what answered after a successful connect. */
export function describeServer(client: Client, kind: ResolvedTransport): ServerIdentity {
  const info = client.getServerVersion();
  const protocolVersion = client.getNegotiatedProtocolVersion() ?? 'unknown';
  const era: ProtocolEra = protocolVersion >= '2026-07-28' ? 'modern' : 'legacy';
  return {
    name: info?.name ?? 'unknown',
    version: info?.version ?? 'unknown',
    protocolVersion,
    transport: kind,
    era,
  };
}

/**
 * Lists every tool (all pages, bounded by the client's listMaxPages). `refresh` always asks the
 * server and stores the answer in the client: the client learns each tool's `x-mcp-header`
 * declarations (SEP-2243) and mirrors them into `Mcp-Param-*` headers on the canary's first
 * `tools/call`. (`bypass` kept them from it: a conforming server refused the first call with
 * 400 / -32020, and the SDK re-listed and retried.)
 */
export async function listAllTools(
  client: Client,
  options: { timeout: number; signal: AbortSignal },
): Promise<ToolSummary[]> {
  const result = await client.listTools(undefined, { ...options, cacheMode: 'refresh' } as never);
  return result.tools.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
    annotations: t.annotations,
  }));
}

/** Calls one tool. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options: { timeout: number; signal: AbortSignal },
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, options)) as CallToolResult;
}

/**
 * Ends the session (DELETE on stateful Streamable HTTP; a 405 is fine) and closes the transport.
 * Never throws; reports what went wrong to `onProblem`.
 */
export async function endSession(conn: McpConnection, onProblem: (message: string) => void): Promise<void> {
  if (conn.transport instanceof StreamableHTTPClientTransport && conn.transport.sessionId) {
    try {
      await conn.transport.terminateSession();
    } catch (err) {
      onProblem(`session termination: ${(err as Error).message}`);
    }
  }
  try {
    await conn.client.close();
  } catch (err) {
    onProblem(`close: ${(err as Error).message}`);
  }
  // A handshake cut short by the deadline has not attached the transport to the client yet, so
  // client.close() does not reach it: close it directly (idempotent). On stdio this also aborts
  // the SDK's era negotiation, whose sibling child would otherwise outlive the probe.
  try {
    await conn.transport.close();
  } catch (err) {
    onProblem(`transport close: ${(err as Error).message}`);
  }
}
