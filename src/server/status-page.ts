/**
 * The status page at `GET /`: server-rendered HTML, no build step, readable without Grafana.
 * Every string that came from a server or config is escaped.
 */
import type { Config } from '../config/schema.js';
import { PHASES } from '../probe/types.js';
import { safeUrl } from '../probe/redact.js';
import type { History, HistoryEntry } from './history.js';

/** HTML-escapes text. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export interface TargetStatus {
  name: string;
  transport: string;
  endpoint: string;
  state: 'up' | 'down' | 'pending';
  reason?: string;
  message?: string;
  lastProbeAt?: string;
  durationSeconds?: number;
  phases?: Record<string, number>;
  server?: { name: string; version: string; protocolVersion: string; transport: string };
  tools?: number;
  toolListHash?: string;
  history: Array<{ at: string; success: boolean; reason?: string; durationSeconds: number }>;
  recentFailures: Array<{ at: string; reason?: string; message?: string }>;
  toolListChanges: Array<{ at: string; added: string[]; removed: string[]; changed: string[] }>;
}

/** The JSON twin of the status page (`/api/v1/targets`). */
export function targetsJson(config: Config, history: History): { targets: TargetStatus[] } {
  return {
    targets: config.targets.map((t) => {
      const last = history.lastResult(t.name);
      const entries = history.entries(t.name);
      const iso = (e: HistoryEntry) => new Date(e.startedAtMs).toISOString();
      return {
        name: t.name,
        transport: t.transport,
        endpoint: t.transport === 'stdio' ? `stdio: ${t.command ?? ''}` : safeUrl(t.url ?? ''),
        state: !last ? 'pending' : last.success ? 'up' : 'down',
        reason: last?.reason,
        message: last?.message,
        lastProbeAt: last ? new Date(last.startedAtMs).toISOString() : undefined,
        durationSeconds: last?.durationSeconds,
        phases: last?.phases as Record<string, number> | undefined,
        server: last?.server && { name: last.server.name, version: last.server.version, protocolVersion: last.server.protocolVersion, transport: last.server.transport },
        tools: last?.tools?.length,
        toolListHash: last?.toolListHash,
        history: entries.map((e) => ({ at: iso(e), success: e.success, reason: e.reason, durationSeconds: e.durationSeconds })),
        recentFailures: entries.filter((e) => !e.success).slice(-5).reverse().map((e) => ({ at: iso(e), reason: e.reason, message: e.message })),
        toolListChanges: entries.filter((e) => e.toolListChange).slice(-5).reverse().map((e) => ({ at: iso(e), ...(e.toolListChange as NonNullable<HistoryEntry['toolListChange']>) })),
      };
    }),
  };
}

/** A small inline SVG of recent probe durations; failed probes in red. */
export function sparkline(history: TargetStatus['history'], width = 180, height = 32): string {
  if (history.length === 0) return '<svg width="180" height="32" role="img" aria-label="no probes yet"></svg>';
  const max = Math.max(...history.map((h) => h.durationSeconds), 0.001);
  const step = history.length > 1 ? width / (history.length - 1) : 0;
  const y = (d: number) => (height - 2 - (d / max) * (height - 4)).toFixed(1);
  const points = history.map((h, i) => `${(i * step).toFixed(1)},${y(h.durationSeconds)}`).join(' ');
  const dots = history
    .map((h, i) => (h.success ? '' : `<circle cx="${(i * step).toFixed(1)}" cy="${y(h.durationSeconds)}" r="2.5" fill="#d32f2f"/>`))
    .join('');
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="recent probe durations, max ${(max * 1000).toFixed(0)} ms"><polyline fill="none" stroke="#1976d2" stroke-width="1.5" points="${points}"/>${dots}</svg>`;
}

/** Renders the page. */
export function renderStatusPage(config: Config, history: History, meta: { version: string; nowMs: number }): string {
  const { targets } = targetsJson(config, history);
  const up = targets.filter((t) => t.state === 'up').length;
  const down = targets.filter((t) => t.state === 'down').length;
  const rows = targets
    .map((t) => {
      const phases = t.phases
        ? PHASES.filter((p) => t.phases?.[p] !== undefined)
            .map((p) => `${p} ${((t.phases?.[p] ?? 0) * 1000).toFixed(1)}`)
            .join(' · ')
        : '';
      const failures = t.recentFailures.map((f) => `<li><time>${escapeHtml(f.at)}</time> <b>${escapeHtml(f.reason)}</b> ${escapeHtml(f.message)}</li>`).join('');
      const changes = t.toolListChanges
        .map((c) => `<li><time>${escapeHtml(c.at)}</time> added [${escapeHtml(c.added.join(', '))}] removed [${escapeHtml(c.removed.join(', '))}] changed [${escapeHtml(c.changed.join(', '))}]</li>`)
        .join('');
      return `<tr class="${t.state}" data-target="${escapeHtml(t.name)}">
<td><span class="badge ${t.state}">${t.state.toUpperCase()}</span></td>
<td><b>${escapeHtml(t.name)}</b><br><small>${escapeHtml(t.endpoint)}</small></td>
<td>${t.server ? `${escapeHtml(t.server.name)} ${escapeHtml(t.server.version)}<br><small>${escapeHtml(t.server.protocolVersion)} · ${escapeHtml(t.server.transport)}</small>` : '-'}</td>
<td>${t.state === 'down' ? `<b>${escapeHtml(t.reason)}</b><br><small>${escapeHtml(t.message)}</small>` : t.tools !== undefined ? `${t.tools} tools` : ''}</td>
<td>${t.durationSeconds !== undefined ? `${(t.durationSeconds * 1000).toFixed(1)} ms` : '-'}<br><small>${escapeHtml(phases)}</small></td>
<td>${sparkline(t.history)}</td>
</tr>${failures || changes ? `<tr class="details"><td></td><td colspan="5">${failures ? `<div>Last failures<ul>${failures}</ul></div>` : ''}${changes ? `<div>Tool-list changes<ul>${changes}</ul></div>` : ''}</td></tr>` : ''}`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcpwatch: ${down > 0 ? `${down} down` : 'all up'}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;width:100%}td,th{padding:6px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
small{color:#666}.badge{padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px}
.badge.up{background:#e8f5e9;color:#2e7d32}.badge.down{background:#ffebee;color:#c62828}.badge.pending{background:#eceff1;color:#546e7a}
tr.details td{border-bottom:1px solid #ddd;font-size:12px}ul{margin:2px 0 6px 16px;padding:0}
</style></head><body>
<h1>mcpwatch</h1>
<p>${targets.length} targets · <b>${up} up</b> · <b>${down} down</b> · ${targets.length - up - down} pending · <a href="/metrics">/metrics</a> · <a href="/api/v1/targets">JSON</a> · version ${escapeHtml(meta.version)} · ${escapeHtml(new Date(meta.nowMs).toISOString())}</p>
<table><thead><tr><th>State</th><th>Target</th><th>Server</th><th>Reason / tools</th><th>Last probe</th><th>Recent durations</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
