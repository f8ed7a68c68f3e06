/**
 * A readable report of one probe: what the `probe` command prints and `/probe?debug=true`
 * returns. Pure; the result's texts are already free of secrets.
 */
import { PHASES, type ProbeResult } from './types.js';

function ms(seconds: number | undefined): string {
  return seconds === undefined ? '-' : `${(seconds * 1000).toFixed(1)} ms`;
}

/** Formats a probe result for people. `withLog` appends the step-by-step log. */
export function formatReport(r: ProbeResult, opts: { withLog?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`Target:    ${r.target}`);
  lines.push(`Verdict:   ${r.success ? 'SUCCESS' : `FAILURE (${r.reason})`}`);
  if (!r.success && r.message) lines.push(`Reason:    ${r.message}`);
  lines.push(`Duration:  ${ms(r.durationSeconds)}`);
  if (r.server) {
    lines.push(`Server:    ${r.server.name} ${r.server.version}`);
    lines.push(
      `Protocol:  ${r.server.protocolVersion} (${r.server.era === 'modern' ? 'stateless, server/discover' : 'initialize handshake'})`,
    );
    lines.push(`Transport: ${r.server.transport}`);
  }
  if (r.httpStatus) lines.push(`HTTP:      last status ${r.httpStatus}`);
  if (r.tlsCertExpirySeconds)
    lines.push(`TLS:       certificate expires ${new Date(r.tlsCertExpirySeconds * 1000).toISOString()}`);
  lines.push('Phases:');
  for (const p of PHASES)
    if (r.phases[p] !== undefined) lines.push(`  ${p.padEnd(11)} ${ms(r.phases[p]).padStart(10)}`);
  if (r.tools) {
    lines.push(`Tools:     ${r.tools.length}${r.toolListHash ? ` (hash ${r.toolListHash})` : ''}`);
    for (const t of r.tools.slice(0, 50)) lines.push(`  - ${t.name}`);
    if (r.tools.length > 50) lines.push(`  … ${r.tools.length - 50} more`);
  }
  if (r.toolListChange) {
    const c = r.toolListChange;
    lines.push(
      `Tool list changed: added [${c.added.join(', ')}] removed [${c.removed.join(', ')}] changed [${c.changed.join(', ')}]`,
    );
  }
  if (r.checks.length > 0) {
    lines.push('Checks:');
    for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.message}`);
  }
  if (opts.withLog) {
    lines.push('Log:');
    for (const l of r.log) lines.push(`  ${l}`);
  }
  return `${lines.join('\n')}\n`;
}
