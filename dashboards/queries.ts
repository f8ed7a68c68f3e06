/**
 * Every query of the mcpwatch dashboards, with Grafana's variables replaced by concrete values,
 * so tests can parse them and run them against a real Prometheus (an empty panel is a failure
 * unless the dashboard source says why it may be empty).
 */
import type { DashboardJson } from './src/common.js';
import { DASHBOARDS } from './src/index.js';

/** Concrete values for the dashboard variables. `rateInterval` is a PromQL duration, e.g. `1m`. */
export interface DashboardVars {
  job: string;
  instance: string;
  target: string;
  rateInterval: string;
}

/** One panel or variable query, ready to send to Prometheus. */
export interface DashboardQuery {
  /** Dashboard uid, e.g. `mcpwatch-fleet`. */
  dashboard: string;
  /** Panel title, or `variable <name>` for a variable query. */
  panel: string;
  /** refId of the query within its panel (A, B...); the variable name for a variable query. */
  refId: string;
  /** PromQL with every Grafana variable expanded. */
  expr: string;
  /** The expression as written in the dashboard JSON, variables and all. */
  rawExpr: string;
  /** Stat and table panels ask for one instant value; time series ask for a range. */
  instant: boolean;
  /** For `label_values(selector, label)` variables: the label whose values the variable lists. */
  label?: string;
  /** True when the panel may rightly have no data; `emptyReason` says why. */
  allowEmpty: boolean;
  emptyReason?: string;
}

/** A Grafana panel as far as queries are concerned (rows carry nested panels). */
export interface PanelJson {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId?: string; instant?: boolean; datasource?: { type?: string; uid?: string } }[];
  fieldConfig?: { defaults?: { unit?: string } };
  panels?: PanelJson[];
}

/** Every panel of a dashboard, rows and the panels inside collapsed rows included, in order. */
export function allPanels(d: DashboardJson): PanelJson[] {
  return ((d.panels ?? []) as PanelJson[]).flatMap((p) => [p, ...(p.panels ?? [])]);
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Inside a PromQL double-quoted string a backslash must itself be escaped.
const escapePromString = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Replaces Grafana variables (`$x`, `${x}`, `${x:format}`) by concrete values: job, instance and
 * target regex-escaped as Grafana does for `=~` matchers, `$__rate_interval`, `$__interval` and
 * `$__range` by `rateInterval`. Throws on any other variable: the dashboards must not use one
 * that tests cannot expand.
 */
export function expandVariables(text: string, vars: DashboardVars): string {
  const values: Record<string, string> = {
    job: escapePromString(escapeRegex(vars.job)),
    instance: escapePromString(escapeRegex(vars.instance)),
    target: escapePromString(escapeRegex(vars.target)),
    __rate_interval: vars.rateInterval,
    __interval: vars.rateInterval,
    __range: vars.rateInterval,
  };
  return text.replace(
    /\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)/g,
    (whole, braced?: string, bare?: string) => {
      const name = braced ?? bare ?? '';
      const value = values[name];
      if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in: ${text}`);
      return value;
    },
  );
}

/** Splits `label_values(selector, label)` into its parts; undefined for any other form. */
export function parseLabelValues(query: string): { selector: string; label: string } | undefined {
  const m = /^\s*label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query);
  return m ? { selector: m[1]!.trim(), label: m[2]! } : undefined;
}

/**
 * The queries of one dashboard: every panel target, then every query variable (as its selector
 * plus the label it lists). Variables are expanded with `vars`; throws on an unknown variable.
 */
export function dashboardQueries(
  d: DashboardJson,
  vars: DashboardVars,
  allowEmpty: Record<string, string> = {},
): DashboardQuery[] {
  const uid = d.uid ?? '';
  const out: DashboardQuery[] = [];
  for (const panel of allPanels(d)) {
    for (const t of panel.targets ?? []) {
      if (!t.expr) continue;
      const reason = allowEmpty[panel.title ?? ''];
      out.push({
        dashboard: uid,
        panel: panel.title ?? '',
        refId: t.refId ?? '',
        expr: expandVariables(t.expr, vars),
        rawExpr: t.expr,
        instant: t.instant === true,
        allowEmpty: reason !== undefined,
        ...(reason !== undefined ? { emptyReason: reason } : {}),
      });
    }
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query' || typeof v.query !== 'string') continue;
    const lv = parseLabelValues(v.query);
    if (!lv) throw new Error(`${uid}: variable ${v.name} is not label_values(selector, label): ${v.query}`);
    out.push({
      dashboard: uid,
      panel: `variable ${v.name}`,
      refId: v.name,
      expr: expandVariables(lv.selector, vars),
      rawExpr: v.query,
      instant: true,
      label: lv.label,
      allowEmpty: false,
    });
  }
  return out;
}

/**
 * Every panel and variable query of every mcpwatch dashboard, built from the typed source (the
 * committed JSON is identical: a test checks it), with variables expanded for `vars`.
 */
export function allDashboardQueries(vars: DashboardVars): DashboardQuery[] {
  return DASHBOARDS.flatMap((entry) => dashboardQueries(entry.build(), vars, entry.allowEmpty));
}
