/** Shared pieces of the proxy tests: a proxy in front of a URL, and reading /metrics text. */
import { Registry } from 'prom-client';
import { Client, StreamableHTTPClientTransport, SSEClientTransport } from '@modelcontextprotocol/client';
import { Recorder } from '../../src/metrics/recorder.js';
import { startProxy, type RunningProxy } from '../../src/proxy/proxy.js';
import { createLogger } from '../../src/log/logger.js';
import { parseExposition } from '../../src/scrape/parse.js';
import { targetOf } from '../fixtures/targets.js';

export interface ProxyUnderTest {
  url: string;
  origin: string;
  proxy: RunningProxy;
  registry: Registry;
  /** The registry's exposition text, as GET /metrics shows it. */
  metrics(): Promise<string>;
  /** Sum of the samples named `name` whose labels include `labels`. */
  value(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/** Starts a proxy (on 127.0.0.1:0) in front of `upstreamUrl`, recording into a fresh registry. */
export async function proxyFor(
  upstreamUrl: string,
  proxy: Record<string, unknown> = {},
  name = 't',
): Promise<ProxyUnderTest> {
  const target = targetOf({ name, url: upstreamUrl, internal: { proxy: { listen: '127.0.0.1:0', ...proxy } } });
  const registry = new Registry();
  const recorder = new Recorder(registry);
  recorder.addTarget(target);
  const logs: string[] = [];
  const running = await startProxy({
    target,
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    sink: {
      sessions: (n) => recorder.recordProxySessions(name, n),
      toolCalls: (n) => recorder.recordProxyToolCalls(name, n),
      operation: (m, e, s) => recorder.recordProxyOperation(name, m, e, s),
      sessionEnded: (s) => recorder.recordProxySessionEnd(name, s),
      unobserved: (reason) => recorder.recordProxyUnobserved(name, reason),
    },
  });
  const up = new URL(upstreamUrl);
  const origin = `http://127.0.0.1:${running.address.port}`;
  const metrics = () => registry.metrics();
  return {
    url: `${origin}${up.pathname}${up.search}`,
    origin,
    proxy: running,
    registry,
    metrics,
    async value(metric, labels = {}) {
      const { samples } = parseExposition(await metrics());
      let total = 0;
      for (const s of samples) {
        if (s.name !== metric) continue;
        if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
      }
      return total;
    },
    close: () => running.close(),
  };
}

/** A connected SDK v2 client over Streamable HTTP (or legacy SSE). */
export async function connectClient(
  url: string,
  kind: 'streamable' | 'sse' = 'streamable',
): Promise<{ client: Client; transport: StreamableHTTPClientTransport | SSEClientTransport }> {
  const client = new Client({ name: 'fanout-agent', version: '1.0.0' });
  const transport =
    kind === 'sse' ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

/** Polls `check` every 20 ms until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** The 2026-07-28 revision: stateless requests, each carrying its protocol version and client. */
export const MODERN_VERSION = '2026-07-28';

/** A 2026-07-28 JSON-RPC request body, shaped as the SDK v2 client sends it. */
export function modernRequest(id: number, method: string, params: Record<string, unknown> = {}): string {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-agent', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } });
}

/** The headers of a 2026-07-28 request POST (`Mcp-Method`, and `Mcp-Name` for named methods). */
export function modernHeaders(method: string, name?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
    ...(name !== undefined ? { 'mcp-name': name } : {}),
  };
}
