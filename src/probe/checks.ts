/**
 * `expect` and canary conditions: each evaluated and reported on its own (Gatus style).
 * Pure functions of what the probe saw.
 */
import type { CheckResult, ServerIdentity, ToolSummary } from './types.js';
import type { CanaryConfig, TargetConfig } from '../config/schema.js';

/** Evaluates `expect` against the handshake and tool list. */
export function checkExpectations(
  expect: TargetConfig['expect'],
  server: ServerIdentity,
  tools: readonly ToolSummary[],
): CheckResult[] {
  if (!expect) return [];
  const out: CheckResult[] = [];
  if (expect.minTools !== undefined) {
    out.push({
      name: 'min_tools',
      ok: tools.length >= expect.minTools,
      message: `${tools.length} tools listed, at least ${expect.minTools} expected`,
    });
  }
  if (expect.tools && expect.tools.length > 0) {
    const names = new Set(tools.map((t) => t.name));
    const missing = expect.tools.filter((t) => !names.has(t));
    out.push({
      name: 'tools',
      ok: missing.length === 0,
      message:
        missing.length === 0
          ? `all ${expect.tools.length} expected tools present`
          : `missing tools: ${missing.join(', ')}`,
    });
  }
  if (expect.protocolVersions && expect.protocolVersions.length > 0) {
    out.push({
      name: 'protocol_versions',
      ok: expect.protocolVersions.includes(server.protocolVersion),
      message: `negotiated ${server.protocolVersion}, allowed ${expect.protocolVersions.join(', ')}`,
    });
  }
  return out;
}

/** Evaluates a canary tool result. */
export function checkCanary(canary: CanaryConfig, result: { isError?: boolean; content?: unknown[] }): CheckResult[] {
  const out: CheckResult[] = [];
  if (canary.expectSuccess) {
    out.push({
      name: 'canary_success',
      ok: result.isError !== true,
      message: result.isError ? `tool ${canary.tool} returned isError` : `tool ${canary.tool} succeeded`,
    });
  }
  if (canary.expectText !== undefined) {
    const text = (result.content ?? [])
      .map((c) =>
        typeof c === 'object' && c !== null && (c as { type?: string }).type === 'text'
          ? String((c as { text?: unknown }).text ?? '')
          : '',
      )
      .join('\n');
    const ok = text.includes(canary.expectText);
    out.push({
      name: 'canary_text',
      ok,
      message: ok ? 'result text contains the expected text' : 'result text does not contain the expected text',
    });
  }
  return out;
}
