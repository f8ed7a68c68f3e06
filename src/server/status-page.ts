/**
 * The status page at `GET /`: server-rendered HTML, no build step and no script, readable without
 * Grafana. Down targets come first; each card shows state, reason, the last probe's phases, a bar
 * chart of recent probe durations, the last failures and tool-list changes. It refreshes itself.
 *
 * Every string that came from a server or from config goes through `escapeHtml`; a
 * Content-Security-Policy without `script-src` is a second line of defence, not the first.
 */
import type { Config, TargetConfig } from '../config/schema.js';
import { PHASES, type Phase } from '../probe/types.js';
import { safeUrl } from '../net/redact.js';
import type { History, HistoryEntry } from './history.js';

/** HTML-escapes text (element content and quoted attribute values alike). */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** One target as `/api/v1/targets` returns it and the page renders it. */
export interface TargetStatus {
  name: string;
  transport: string;
  /** The URL without credentials, or `stdio: COMMAND`. */
  endpoint: string;
  /** `pending` until the first probe finishes. */
  state: 'up' | 'down' | 'pending';
  reason?: string;
  message?: string;
  /** Probe interval in seconds; absent for a cron schedule. */
  intervalSeconds?: number;
  schedule?: string;
  lastProbeAt?: string;
  durationSeconds?: number;
  phases?: Record<string, number>;
  /** `expect` and canary checks of the last probe. */
  checks?: Array<{ name: string; ok: boolean; message: string }>;
  server?: { name: string; version: string; protocolVersion: string; transport: string };
  /** Each configured canary's last call, in config order (tools that have not run yet are absent). */
  canaries?: Array<{ tool: string; ok: boolean; reason?: string; durationSeconds: number; at: string }>;
  tools?: number;
  toolListHash?: string;
  /** Oldest first, at most the history capacity (60 by default). */
  history: Array<{ at: string; success: boolean; reason?: string; durationSeconds: number }>;
  /** Newest first, at most 5. */
  recentFailures: Array<{ at: string; reason?: string; message?: string }>;
  /** Newest first, at most 5. */
  toolListChanges: Array<{ at: string; added: string[]; removed: string[]; changed: string[] }>;
}

function endpointOf(t: TargetConfig): string {
  return t.transport === 'stdio' ? `stdio: ${t.command ?? ''}` : safeUrl(t.url ?? '');
}

/** The JSON twin of the status page (`/api/v1/targets`), targets in config order. */
export function targetsJson(config: Config, history: History): { targets: TargetStatus[] } {
  return {
    targets: config.targets.map((t) => {
      const last = history.lastResult(t.name);
      const entries = history.entries(t.name);
      const iso = (e: HistoryEntry) => new Date(e.startedAtMs).toISOString();
      return {
        name: t.name,
        transport: t.transport,
        endpoint: endpointOf(t),
        state: !last ? 'pending' : last.success ? 'up' : 'down',
        reason: last?.reason,
        message: last?.message,
        intervalSeconds: t.intervalMs !== undefined ? t.intervalMs / 1000 : undefined,
        schedule: t.schedule,
        lastProbeAt: last ? new Date(last.startedAtMs).toISOString() : undefined,
        durationSeconds: last?.durationSeconds,
        phases: last?.phases as Record<string, number> | undefined,
        checks: last?.checks.map((c) => ({ name: c.name, ok: c.ok, message: c.message })),
        canaries: history
          .lastCanaries(
            t.name,
            t.canaries.map((c) => c.tool),
          )
          .map((c) => ({
            tool: c.tool,
            ok: c.success,
            reason: c.reason,
            durationSeconds: c.durationSeconds,
            at: new Date(c.atMs).toISOString(),
          })),
        server: last?.server && {
          name: last.server.name,
          version: last.server.version,
          protocolVersion: last.server.protocolVersion,
          transport: last.server.transport,
        },
        tools: last?.tools?.length,
        toolListHash: last?.toolListHash,
        history: entries.map((e) => ({
          at: iso(e),
          success: e.success,
          reason: e.reason,
          durationSeconds: e.durationSeconds,
        })),
        recentFailures: entries
          .filter((e) => !e.success)
          .slice(-5)
          .reverse()
          .map((e) => ({ at: iso(e), reason: e.reason, message: e.message })),
        toolListChanges: entries
          .filter((e) => e.toolListChange)
          .slice(-5)
          .reverse()
          .map((e) => ({ at: iso(e), ...(e.toolListChange as NonNullable<HistoryEntry['toolListChange']>) })),
      };
    }),
  };
}

/** Milliseconds with a precision that suits the size: `0.42 ms`, `12.3 ms`, `1 250 ms`. */
export function formatMs(seconds: number): string {
  const ms = seconds * 1000;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** `5s ago`, `3m ago`, `2h ago`; `just now` for a time ahead of now (clock skew). */
export function formatAgo(atMs: number, nowMs: number): string {
  const s = Math.round((nowMs - atMs) / 1000);
  if (s < 0) return 'just now';
  if (s < 90) return `${s}s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

const PHASE_COLORS: Record<Phase, string> = {
  dns: '#8e99a8',
  connect: '#5c7cfa',
  tls: '#9775fa',
  handshake: '#15aabf',
  tools_list: '#40c057',
  tool_call: '#fab005',
  close: '#adb5bd',
};

/** A horizontal stacked bar of the last probe's phases with a legend; empty without phases. */
export function phaseBar(phases: Record<string, number> | undefined): string {
  if (!phases) return '';
  // A zero phase (no DNS for an IP literal) is noise in the legend.
  const present = PHASES.filter((p) => typeof phases[p] === 'number' && (phases[p] ?? 0) > 0);
  const total = present.reduce((sum, p) => sum + (phases[p] ?? 0), 0);
  if (present.length === 0 || total <= 0) return '';
  const segments = present
    .map((p) => {
      const pct = ((phases[p] ?? 0) / total) * 100;
      return `<span style="width:${pct.toFixed(2)}%;background:${PHASE_COLORS[p]}" title="${p} ${formatMs(phases[p] ?? 0)}"></span>`;
    })
    .join('');
  const legend = present
    .map(
      (p) =>
        `<span class="lg"><i style="background:${PHASE_COLORS[p]}"></i>${p.replace('_', ' ')} <b>${formatMs(phases[p] ?? 0)}</b></span>`,
    )
    .join('');
  return `<div class="phasebar" role="img" aria-label="phase durations of the last probe">${segments}</div><div class="legend">${legend}</div>`;
}

/**
 * A small inline SVG bar chart of recent probe durations, oldest left: one bar per probe, its
 * height the duration against the window's maximum, red when the probe failed (failed bars keep
 * a visible minimum height: a refused connection takes a millisecond). Each bar has a tooltip.
 */
export function sparkline(history: TargetStatus['history'], width = 240, height = 40): string {
  if (history.length === 0)
    return `<svg class="spark" width="${width}" height="${height}" role="img" aria-label="no probes yet"></svg>`;
  const max = Math.max(...history.map((h) => h.durationSeconds), 0.000_001);
  const slots = Math.max(history.length, 30);
  const slot = width / slots;
  const barWidth = Math.max(1, slot - 1);
  const offset = (slots - history.length) * slot; // right-aligned: the newest probe is always at the right edge
  const bars = history
    .map((h, i) => {
      const raw = (h.durationSeconds / max) * (height - 2);
      const barHeight = Math.max(h.success ? 1.5 : 6, raw);
      const x = offset + i * slot;
      const label = `${h.at} ${formatMs(h.durationSeconds)} ${h.success ? 'ok' : escapeHtml(h.reason ?? 'failed')}`;
      return `<rect x="${x.toFixed(1)}" y="${(height - barHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" rx="1" fill="${h.success ? '#4c9a6a' : '#d9480f'}"><title>${label}</title></rect>`;
    })
    .join('');
  return `<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="recent probe durations, max ${formatMs(max)}"><line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" stroke="#d0d5dc"/>${bars}</svg>`;
}

/**
 * Folds runs of the same failure (reason and message) into one line with a count, newest first:
 * a target down for a minute should not print the same line five times.
 */
export function groupFailures(
  failures: TargetStatus['recentFailures'],
): Array<TargetStatus['recentFailures'][number] & { count: number }> {
  const out: Array<TargetStatus['recentFailures'][number] & { count: number }> = [];
  for (const f of failures) {
    const prev = out[out.length - 1];
    if (prev && prev.reason === f.reason && prev.message === f.message) prev.count++;
    else out.push({ ...f, count: 1 });
  }
  return out;
}

const STATE_ORDER: Record<TargetStatus['state'], number> = { down: 0, pending: 1, up: 2 };

function renderCard(t: TargetStatus, nowMs: number): string {
  const ok = t.history.filter((h) => h.success).length;
  const durations = t.history.map((h) => h.durationSeconds).sort((a, b) => a - b);
  const median = durations.length > 0 ? durations[Math.floor((durations.length - 1) / 2)] : undefined;
  const max = durations.length > 0 ? durations[durations.length - 1] : undefined;
  const schedule =
    t.intervalSeconds !== undefined
      ? `every ${t.intervalSeconds}s`
      : t.schedule
        ? `cron ${escapeHtml(t.schedule)}`
        : '';
  const server = t.server
    ? `<span class="srv" title="server name as reported by the server">${escapeHtml(t.server.name)}</span> <span class="mut">${escapeHtml(t.server.version)}</span>`
    : '<span class="mut">no handshake yet</span>';
  const facts = [
    t.server ? `protocol <b>${escapeHtml(t.server.protocolVersion)}</b>` : '',
    t.server ? escapeHtml(t.server.transport) : escapeHtml(t.transport),
    t.tools !== undefined ? `<b>${t.tools}</b> tools` : '',
    t.toolListHash ? `hash <code>${escapeHtml(t.toolListHash.slice(0, 12))}</code>` : '',
    schedule,
  ]
    .filter(Boolean)
    .join('<span class="dot">·</span>');
  const last = t.lastProbeAt
    ? `<div class="kv"><span>Last probe</span><b>${formatMs(t.durationSeconds ?? 0)}</b> <time datetime="${escapeHtml(t.lastProbeAt)}" title="${escapeHtml(t.lastProbeAt)}">${formatAgo(Date.parse(t.lastProbeAt), nowMs)}</time></div>`
    : '<div class="kv"><span>Last probe</span><b>waiting for the first probe</b></div>';
  const reason =
    t.state === 'down'
      ? `<div class="reason"><b>${escapeHtml(t.reason ?? 'failed')}</b>${t.message ? `: ${escapeHtml(t.message)}` : ''}</div>`
      : '';
  // A failed check already quoted by the reason message is not repeated.
  const failedChecks = (t.checks ?? []).filter((c) => !c.ok && !(t.message ?? '').includes(c.message));
  const checks =
    failedChecks.length > 0
      ? `<ul class="checks">${failedChecks.map((c) => `<li>✗ <b>${escapeHtml(c.name)}</b> ${escapeHtml(c.message)}</li>`).join('')}</ul>`
      : '';
  const failures = groupFailures(t.recentFailures)
    .slice(0, 3)
    .map(
      (g) =>
        `<li><time datetime="${escapeHtml(g.at)}" title="${escapeHtml(g.at)}">${formatAgo(Date.parse(g.at), nowMs)}</time> ${g.count > 1 ? `<span class="cnt">${g.count}×</span> ` : ''}<b>${escapeHtml(g.reason ?? 'failed')}</b> <span class="mut">${escapeHtml(g.message)}</span></li>`,
    )
    .join('');
  const diffPart = (label: string, names: string[], cls: string) =>
    names.length > 0 ? `<span class="${cls}">${label} ${names.map(escapeHtml).join(', ')}</span> ` : '';
  const changes = t.toolListChanges
    .map(
      (c) =>
        `<li><time datetime="${escapeHtml(c.at)}" title="${escapeHtml(c.at)}">${formatAgo(Date.parse(c.at), nowMs)}</time> ${diffPart('+', c.added, 'add')}${diffPart('−', c.removed, 'rm')}${diffPart('~', c.changed, 'chg')}</li>`,
    )
    .join('');
  return `<section class="card ${t.state}" data-target="${escapeHtml(t.name)}" data-state="${t.state}">
<header><span class="badge ${t.state}">${t.state.toUpperCase()}</span><h2>${escapeHtml(t.name)}</h2><span class="ep mut">${escapeHtml(t.endpoint)}</span></header>
${reason}${checks}${canaryRows(t.canaries)}
<div class="grid">
<div class="col">
<div class="kv"><span>Server</span>${server}</div>
<div class="facts">${facts}</div>
${last}
${phaseBar(t.phases)}
</div>
<div class="col chart">
<div class="kv"><span>Recent probes</span><b>${ok}/${t.history.length}</b> ok${median !== undefined ? `<div class="facts">median <b>${formatMs(median)}</b><span class="dot">·</span>max <b>${formatMs(max ?? 0)}</b></div>` : ''}</div>
${sparkline(t.history)}
</div>
</div>
${failures || changes ? `<div class="events">${failures ? `<div><h3>Last failures</h3><ul class="failures">${failures}</ul></div>` : ''}${changes ? `<div><h3>Tool-list changes</h3><ul class="changes">${changes}</ul></div>` : ''}</div>` : ''}
</section>`;
}

/** How often the page reloads itself: the fastest probe interval, between 5 s and 30 s. */
export function refreshSeconds(config: Config): number {
  const intervals = config.targets.map((t) => (t.intervalMs ?? 30_000) / 1000);
  return Math.max(5, Math.round(Math.min(30, ...intervals)));
}

const STYLE = `
:root{--bg:#f5f6f8;--card:#fff;--fg:#1d2330;--mut:#6b7382;--line:#e3e6eb;--up:#2b8a3e;--upbg:#e6f4ea;--down:#c92a2a;--downbg:#fdecec;--pend:#5c6b7a;--pendbg:#eceff3}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
.wrap{max-width:1100px;margin:0 auto;padding:20px 24px 40px}
.top{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap}
.top h1{font-size:20px;margin:0}.top .links{margin-left:auto;color:var(--mut);font-size:13px}
a{color:#1c64c8;text-decoration:none}a:hover{text-decoration:underline}
.banner{margin:14px 0 18px;padding:12px 16px;border-radius:8px;font-weight:600;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
.banner.ok{background:var(--upbg);color:var(--up)}.banner.bad{background:var(--downbg);color:var(--down)}.banner.pend{background:var(--pendbg);color:var(--pend)}
.banner .counts{font-weight:400;color:var(--fg)}.banner .counts b{margin-left:2px}
.card{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--pend);border-radius:8px;padding:14px 16px;margin-bottom:12px}
.card.up{border-left-color:var(--up)}.card.down{border-left-color:var(--down)}
.card header{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.card h2{font-size:16px;margin:0}
.ep{font-size:12px;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.badge{padding:2px 9px;border-radius:10px;font-weight:700;font-size:11px;letter-spacing:.04em}
.badge.up{background:var(--upbg);color:var(--up)}.badge.down{background:var(--downbg);color:var(--down)}.badge.pending{background:var(--pendbg);color:var(--pend)}
.reason{margin:10px 0 0;padding:8px 10px;background:var(--downbg);border-radius:6px;color:#862020;overflow-wrap:anywhere}
.checks{margin:6px 0 0;padding-left:18px;color:#862020}
.tools{margin:6px 0 0;border-collapse:collapse;font-size:13px}.tools caption{text-align:left;color:#666}.tools td{padding:1px 8px 1px 0}.tools tr.bad{color:#862020}
.grid{display:grid;grid-template-columns:minmax(0,1fr) 260px;gap:20px;margin-top:10px}
.kv{margin:3px 0}.kv>span:first-child{display:inline-block;min-width:92px;color:var(--mut);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.srv{font-weight:600;overflow-wrap:anywhere}
.facts{color:var(--mut);font-size:13px;margin:2px 0 4px}.facts b{color:var(--fg)}
.dot{margin:0 6px;color:#b3b9c2}
.mut{color:var(--mut)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.phasebar{display:flex;height:10px;border-radius:5px;overflow:hidden;margin:8px 0 4px;background:var(--line)}
.phasebar span{display:block;height:100%;min-width:2px}
.legend{font-size:12px;color:var(--mut);display:flex;flex-wrap:wrap;gap:4px 12px}
.legend i{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.legend b{color:var(--fg);font-weight:600}
.chart .kv>span:first-child{display:block}
.spark{display:block;margin-top:6px}
.events{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:20px;margin-top:10px;border-top:1px solid var(--line);padding-top:8px}
.events h3{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--mut);margin:0 0 4px;font-weight:600}
.events ul{margin:0;padding:0;list-style:none;font-size:13px}.events li{margin:2px 0;overflow-wrap:anywhere}
.events time{display:inline-block;min-width:60px;color:var(--mut)}
.cnt{display:inline-block;padding:0 5px;border-radius:8px;background:var(--downbg);color:var(--down);font-size:11px;font-weight:700}
.add{color:var(--up)}.rm{color:var(--down)}.chg{color:#b35c00}
footer{margin-top:18px;color:var(--mut);font-size:12px}
@media (max-width:720px){.grid{grid-template-columns:1fr}}
`;

/**
 * Renders the whole page. Down targets first, then pending, then up (each group in config order).
 * `meta.nowMs` drives the "ago" texts so a render is deterministic in tests.
 */
export function renderStatusPage(config: Config, history: History, meta: { version: string; nowMs: number }): string {
  const { targets } = targetsJson(config, history);
  const up = targets.filter((t) => t.state === 'up').length;
  const down = targets.filter((t) => t.state === 'down').length;
  const pending = targets.length - up - down;
  const ordered = targets
    .map((t, i) => ({ t, i }))
    .sort((a, b) => STATE_ORDER[a.t.state] - STATE_ORDER[b.t.state] || a.i - b.i);
  const cards = ordered.map(({ t }) => renderCard(t, meta.nowMs)).join('\n');
  const banner =
    targets.length === 0
      ? { cls: 'pend', text: 'No targets configured' }
      : down > 0
        ? { cls: 'bad', text: `${down} of ${targets.length} target${targets.length === 1 ? '' : 's'} down` }
        : pending > 0
          ? { cls: 'pend', text: 'Waiting for the first probes' }
          : { cls: 'ok', text: `All ${targets.length} target${targets.length === 1 ? '' : 's'} up` };
  const refresh = refreshSeconds(config);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta http-equiv="refresh" content="${refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${down > 0 ? `${down} down · ` : ''}mcpwatch</title>
<style>${STYLE}</style></head><body><div class="wrap">
<div class="top"><h1>mcpwatch</h1><span class="mut">MCP server probes</span><span class="links"><a href="/metrics">/metrics</a><span class="dot">·</span><a href="/api/v1/targets">JSON</a></span></div>
<div class="banner ${banner.cls}" id="summary"><span>${banner.text}</span><span class="counts">up <b>${up}</b><span class="dot">·</span>down <b>${down}</b><span class="dot">·</span>pending <b>${pending}</b></span></div>
${cards}
<footer>mcpwatch ${escapeHtml(meta.version)} · rendered <time datetime="${escapeHtml(new Date(meta.nowMs).toISOString())}">${escapeHtml(new Date(meta.nowMs).toISOString().replace('T', ' ').slice(0, 19))} UTC</time> · refreshes every ${refresh}s</footer>
</div></body></html>
`;
}

/** One row per canary tool: its last call's verdict, reason and duration. */
function canaryRows(canaries: TargetStatus['canaries']): string {
  if (!canaries?.length) return '';
  const rows = canaries
    .map(
      (c) =>
        `<tr class="${c.ok ? 'ok' : 'bad'}" data-tool="${escapeHtml(c.tool)}"><td>${c.ok ? '✓' : '✗'}</td><td><code>${escapeHtml(c.tool)}</code></td><td>${c.ok ? 'ok' : escapeHtml(c.reason ?? 'failed')}</td><td>${formatMs(c.durationSeconds)}</td></tr>`,
    )
    .join('');
  return `<table class="tools"><caption>Tool canaries</caption>${rows}</table>`;
}
