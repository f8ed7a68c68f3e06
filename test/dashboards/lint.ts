/**
 * Lint for the mcpwatch dashboards: Grafana conventions (datasource variable, chained
 * job/instance/target variables, title/description/unit on every panel, unique ids,
 * `$__rate_interval` in every rate) and PromQL checks (parses with @prometheus-io/lezer-promql,
 * names only metrics that mcpwatch, prom-client or Prometheus expose). Each check returns a list
 * of problems as readable strings; an empty list means clean.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import client from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { METRICS } from '../../src/metrics/names.js';
import type { DashboardJson } from '../../dashboards/src/common.js';
import { allPanels, dashboardQueries, type DashboardVars } from '../../dashboards/queries.js';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** A duration no panel would write by hand: where it shows up, `$__rate_interval` was used. */
export const RATE_INTERVAL_SENTINEL = '7777s';

/** Sample values used to expand variables before parsing; the rate interval is the sentinel. */
export const LINT_VARS: DashboardVars = {
  job: 'mcpwatch',
  instance: '127.0.0.1:9465',
  target: 'demo',
  rateInterval: RATE_INTERVAL_SENTINEL,
};

/** Functions whose range must be `$__rate_interval` (Grafana's at-least-four-scrapes window). */
const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

/** Metrics Prometheus writes itself, next to what it scrapes. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'ALERTS']);

/** Labels every scraped series carries (set by Prometheus from the scrape config). */
const TARGET_LABELS = ['job', 'instance'];

/** Known metric names -> their labels (undefined: labels not checked). */
export function knownMetrics(): Map<string, readonly string[] | undefined> {
  const known = new Map<string, readonly string[] | undefined>();
  for (const m of Object.values(METRICS)) {
    const labels = [...m.labels, ...TARGET_LABELS];
    if (m.type === 'histogram') {
      known.set(`${m.name}_bucket`, [...labels, 'le']);
      known.set(`${m.name}_sum`, labels);
      known.set(`${m.name}_count`, labels);
    } else {
      known.set(m.name, labels);
    }
  }
  // prom-client's default process and Node.js metrics, read from prom-client itself.
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  for (const m of registry.getMetricsAsArray()) {
    const names = m instanceof client.Histogram ? ['_bucket', '_sum', '_count'].map((s) => `${m.name}${s}`) : [m.name];
    for (const name of names) known.set(name, undefined);
  }
  for (const name of PROMETHEUS_SERIES) known.set(name, undefined);
  for (const name of recordingRules()) known.set(name, undefined);
  return known;
}

/** Names of the recording rules shipped in alerts/*.yml (empty when there are none yet). */
export function recordingRules(): string[] {
  const dir = new URL('../../alerts/', import.meta.url);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const f of files) {
    const doc = parseYaml(readFileSync(new URL(f, dir), 'utf8')) as {
      groups?: { rules?: { record?: string }[] }[];
    } | null;
    for (const g of doc?.groups ?? []) for (const r of g.rules ?? []) if (r.record) names.push(r.record);
  }
  return names;
}

const text = (expr: string, n: SyntaxNode): string => expr.slice(n.from, n.to);

/** Parse errors of a PromQL expression (lezer-promql error nodes), with their position. */
export function promqlSyntaxProblems(expr: string): string[] {
  const problems: string[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError)
        problems.push(
          `syntax error at ${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 10), n.from + 10))}`,
        );
    },
  });
  return problems;
}

/** Metric names a PromQL expression selects, with the label names its matchers use. */
export function selectedMetrics(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      let metric = '';
      const labels: string[] = [];
      const id = node.getChild('Identifier');
      if (id) metric = text(expr, id);
      for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const name = text(expr, m.getChild('LabelName')!);
        const value = m.getChild('StringLiteral');
        if (name === '__name__' && value && m.getChild('MatchOp')?.getChild('EqlSingle'))
          metric = JSON.parse(text(expr, value)) as string;
        else labels.push(name);
      }
      out.push({ metric, labels });
    },
  });
  return out;
}

/** rate/irate/increase calls whose range is not the expanded `$__rate_interval`. */
export function rateIntervalProblems(expr: string): string[] {
  const problems: string[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'FunctionCall') return;
      const fn = text(expr, ref.node.getChild('FunctionIdentifier')!);
      if (!RATE_FUNCTIONS.has(fn)) return;
      const range = ref.node.getChild('FunctionCallBody')?.getChild('MatrixSelector')?.getChild('DurationExpr');
      if (!range || text(expr, range) !== RATE_INTERVAL_SENTINEL) {
        problems.push(
          `${fn}() must use [$__rate_interval], got ${range ? `[${text(expr, range)}]` : 'no range selector'}`,
        );
      }
    },
  });
  return problems;
}

/** Unknown metrics and unknown matcher labels in an expression. */
export function metricProblems(expr: string, known = knownMetrics()): string[] {
  const problems: string[] = [];
  for (const { metric, labels } of selectedMetrics(expr)) {
    if (!metric) {
      problems.push('selector without a metric name');
      continue;
    }
    if (!known.has(metric)) {
      problems.push(
        `unknown metric ${metric} (not in src/metrics/names.ts, prom-client defaults, Prometheus series or recording rules)`,
      );
      continue;
    }
    const allowed = known.get(metric);
    for (const l of labels) if (allowed && !allowed.includes(l)) problems.push(`${metric} has no label ${l}`);
  }
  return problems;
}

const isPromDatasource = (ds: { type?: string; uid?: string } | undefined): boolean =>
  ds?.type === 'prometheus' && ds?.uid === '${datasource}';

/** Grafana convention problems of one dashboard (see the module comment). */
export function lintDashboard(d: DashboardJson): string[] {
  const problems: string[] = [];
  const where = (p: { title?: string; id?: number }): string => `panel ${p.id ?? '?'} "${p.title ?? ''}"`;

  if ((d.schemaVersion ?? 0) < 41) problems.push(`schemaVersion ${d.schemaVersion} is not current (>= 41)`);
  if (!d.uid) problems.push('no uid');
  if (!d.tags?.includes('mcpwatch')) problems.push('not tagged mcpwatch');
  if (!d.description) problems.push('no dashboard description');

  const vars = d.templating?.list ?? [];
  const dsVars = vars.filter((v) => v.type === 'datasource');
  if (dsVars.length !== 1 || dsVars[0]?.name !== 'datasource' || dsVars[0]?.query !== 'prometheus') {
    problems.push('needs exactly one datasource variable, named "datasource", of type prometheus');
  }
  const byName = new Map(vars.map((v) => [v.name, v]));
  for (const name of ['job', 'instance', 'target']) {
    const v = byName.get(name);
    if (!v || v.type !== 'query') problems.push(`no query variable ${name}`);
    else if (!isPromDatasource(v.datasource as { type?: string; uid?: string }))
      problems.push(`variable ${name}: datasource must be \${datasource}`);
  }
  const q = (name: string): string => String(byName.get(name)?.query ?? '');
  if (!q('instance').includes('$job')) problems.push('variable instance must be filtered by $job');
  if (!q('target').includes('$job') || !q('target').includes('$instance'))
    problems.push('variable target must be filtered by $job and $instance');

  const seenIds = new Map<number, string>();
  for (const p of allPanels(d)) {
    if (typeof p.id !== 'number') problems.push(`${where(p)}: no id`);
    else if (seenIds.has(p.id)) problems.push(`${where(p)}: duplicate id ${p.id} (also ${seenIds.get(p.id)})`);
    else seenIds.set(p.id, where(p));
    if (p.type === 'row') {
      if (!p.title) problems.push(`${where(p)}: row without a title`);
      continue;
    }
    if (!p.title) problems.push(`${where(p)}: no title`);
    if (!p.description) problems.push(`${where(p)}: no description`);
    if (!p.fieldConfig?.defaults?.unit) problems.push(`${where(p)}: no unit`);
    if (!isPromDatasource(p.datasource)) problems.push(`${where(p)}: datasource must be \${datasource}`);
    if (!p.targets?.length) problems.push(`${where(p)}: no queries`);
    const refIds = new Set<string>();
    for (const t of p.targets ?? []) {
      if (!isPromDatasource(t.datasource))
        problems.push(`${where(p)} query ${t.refId}: datasource must be \${datasource}`);
      if (!t.refId || refIds.has(t.refId)) problems.push(`${where(p)}: missing or duplicate refId ${t.refId}`);
      refIds.add(t.refId ?? '');
    }
    const gp = (p as { gridPos?: { x: number; w: number; h: number } }).gridPos;
    if (!gp || gp.x + gp.w > 24 || gp.h <= 0)
      problems.push(`${where(p)}: gridPos missing or wider than the 24-column grid`);
  }
  return problems;
}

/** PromQL problems of every query of a dashboard: syntax, rate interval, unknown metrics. */
export function lintQueries(d: DashboardJson, known = knownMetrics()): string[] {
  const problems: string[] = [];
  let queries;
  try {
    queries = dashboardQueries(d, LINT_VARS);
  } catch (err) {
    return [(err as Error).message];
  }
  for (const query of queries) {
    const at = `${query.dashboard} / ${query.panel} / ${query.refId}`;
    for (const p of [
      ...promqlSyntaxProblems(query.expr),
      ...rateIntervalProblems(query.expr),
      ...metricProblems(query.expr, known),
    ]) {
      problems.push(`${at}: ${p} in ${query.rawExpr}`);
    }
  }
  return problems;
}
