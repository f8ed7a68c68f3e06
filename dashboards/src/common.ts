/**
 * Shared building blocks for the mcpwatch dashboards: the datasource reference, the
 * job/instance/target variables, and one helper per panel kind. Every helper demands a title,
 * a description and a unit, so a panel cannot be built without them.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel, query and variable query points at the `datasource` variable, never at a uid. */
export const DATASOURCE: { type: string; uid: string } = { type: 'prometheus', uid: '${datasource}' };

/** The stable uids of the three dashboards; links and docs refer to these. */
export const UIDS = { fleet: 'mcpwatch-fleet', target: 'mcpwatch-target', self: 'mcpwatch-self' } as const;

/** Tag shared by every mcpwatch dashboard; the dashboard links dropdown lists dashboards by it. */
export const TAG = 'mcpwatch';

/** Label matchers for the chosen job and instance. */
export const JOB_INSTANCE = 'job=~"$job", instance=~"$instance"';

/** Label matchers for the chosen job, instance and target(s). */
export const SEL = `${JOB_INSTANCE}, target=~"$target"`;

/** One PromQL query of a panel. `instant` for stat/table panels that show "now". */
export interface Query {
  expr: string;
  legend?: string;
  instant?: boolean;
  table?: boolean;
}

/** What every panel must say about itself. */
/** p50, p90 and p99 of a histogram, summed `by` the given labels (and `le`). */
export function quantiles(bucket: string, matchers: string, by: string, legendSuffix: string): Query[] {
  return [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${bucket}{${matchers}}[$__rate_interval])))`,
    legend: `p${Math.round(q * 100)}${legendSuffix}`,
  }));
}

export interface PanelBase {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  width: number;
  height: number;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: dashboard.Threshold[];
  mappings?: dashboard.ValueMapping[];
  links?: DataLink[];
}

/** A link on the values of a panel (a Grafana data link). */
export interface DataLink {
  title: string;
  url: string;
}

const refId = (i: number): string => String.fromCharCode(65 + i);

function queryBuilder(q: Query, i: number): prometheus.DataqueryBuilder {
  const b = new prometheus.DataqueryBuilder()
    .refId(refId(i))
    .datasource(DATASOURCE)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(q.expr)
    .legendFormat(q.legend ?? '__auto');
  if (q.instant) b.instant();
  else b.range();
  if (q.table) b.format(prometheus.PromQueryFormat.Table);
  return b;
}

type AnyPanelBuilder = timeseries.PanelBuilder | stat.PanelBuilder | table.PanelBuilder | statetimeline.PanelBuilder;

function applyBase<T extends AnyPanelBuilder>(b: T, p: PanelBase): T {
  b.title(p.title).description(p.description).unit(p.unit).datasource(DATASOURCE).span(p.width).height(p.height);
  p.queries.forEach((q, i) => b.withTarget(queryBuilder(q, i)));
  if (p.decimals !== undefined) b.decimals(p.decimals);
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.thresholds)
    b.thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(p.thresholds));
  if (p.mappings) b.mappings(p.mappings);
  if (p.links) b.dataLinks(p.links.map((l) => new dashboard.DashboardLinkBuilder(l.title).url(l.url)));
  return b;
}

/** Green below, red from `redFrom` on (e.g. consecutive failures). */
export function redFrom(value: number, orangeFrom?: number): dashboard.Threshold[] {
  const steps: dashboard.Threshold[] = [{ value: null, color: 'green' }];
  if (orangeFrom !== undefined) steps.push({ value: orangeFrom, color: 'orange' });
  steps.push({ value, color: 'red' });
  return steps;
}

/** Red below `greenFrom`, green from it on (e.g. success = 1, days of certificate left). */
export function greenFrom(value: number, orangeFrom?: number): dashboard.Threshold[] {
  const steps: dashboard.Threshold[] = [{ value: null, color: 'red' }];
  if (orangeFrom !== undefined) steps.push({ value: orangeFrom, color: 'orange' });
  steps.push({ value, color: 'green' });
  return steps;
}

/** Maps a 0/1 gauge to two words and colours (UP/DOWN, OK/FAILED). */
export function boolMapping(oneText: string, zeroText: string): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: {
        '1': { text: oneText, color: 'green', index: 0 },
        '0': { text: zeroText, color: 'red', index: 1 },
      },
    },
  ];
}

/** Options of a time series panel beyond the base. */
export interface TimeseriesOptions extends PanelBase {
  bars?: boolean;
  stacked?: boolean;
  /** Series whose display name matches get a dashed line: thresholds, baselines, objectives. */
  dashedRegex?: string;
}

/** A time series panel with a table legend (last, max) and a multi tooltip that hides zeros. */
export function timeseriesPanel(p: TimeseriesOptions): timeseries.PanelBuilder {
  const b = applyBase(new timeseries.PanelBuilder(), p)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending)
        .hideZeros(true),
    )
    .fillOpacity(p.bars || p.stacked ? 60 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false);
  if (p.bars) b.drawStyle(common.GraphDrawStyle.Bars);
  if (p.stacked) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (p.dashedRegex) {
    b.overrideByRegexp(p.dashedRegex, [
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
      { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    ]);
  }
  return b;
}

/** Options of a stat panel beyond the base. */
export interface StatOptions extends PanelBase {
  /** Colour the whole background (status tiles) instead of the value. */
  background?: boolean;
  sparkline?: boolean;
}

/** A stat panel showing the last value of each series, one tile per series. */
export function statPanel(p: StatOptions): stat.PanelBuilder {
  return applyBase(new stat.PanelBuilder(), p)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .colorMode(p.background ? common.BigValueColorMode.Background : common.BigValueColorMode.Value)
    .graphMode(p.sparkline ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Auto);
}

/** A state timeline: one lane per series, coloured by value mappings or thresholds. */
export function stateTimelinePanel(p: PanelBase): statetimeline.PanelBuilder {
  return applyBase(new statetimeline.PanelBuilder(), p)
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(false)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    );
}

/** Options of a table panel beyond the base. */
export interface TableOptions extends PanelBase {
  /** Column renames (after the merge), e.g. { 'Value #A': 'Up' }. */
  rename?: Record<string, string>;
  /** Per-column unit overrides, by final column name. */
  columnUnits?: Record<string, string>;
  /** Columns to hide (Time, __name__, ...). */
  hide?: string[];
}

/** A table of instant query results, merged on their labels when there are several queries. */
export function tablePanel(p: TableOptions): table.PanelBuilder {
  const b = applyBase(new table.PanelBuilder(), p).showHeader(true).filterable(false);
  const excludeByName = Object.fromEntries((p.hide ?? ['Time', '__name__']).map((c) => [c, true]));
  const transformations: dashboard.DataTransformerConfig[] = [];
  if (p.queries.length > 1) transformations.push({ id: 'merge', options: {} });
  transformations.push({ id: 'organize', options: { excludeByName, renameByName: p.rename ?? {} } });
  b.transformations(transformations);
  for (const [column, unit] of Object.entries(p.columnUnits ?? {}))
    b.overrideByName(column, [{ id: 'unit', value: unit }]);
  return b;
}

/** The datasource variable (type prometheus) that every query uses. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

function labelValues(name: string, label: string, query: string, multi: boolean): dashboard.QueryVariableBuilder {
  const b = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(multi);
  // `.+` rather than Grafana's default alternation of every value: short URLs and queries.
  if (multi) b.allValue('.+');
  return b;
}

/**
 * The job, instance and target variables, chained: instance is filtered by job, target by job
 * and instance. `metric` is the series the label values are read from; `multiTarget` allows
 * "All" (fleet and self views) or one target at a time (drill-down).
 */
export function scopeVariables(metric: string, multiTarget: boolean): dashboard.QueryVariableBuilder[] {
  return [
    labelValues('job', 'Job', `label_values(${metric}, job)`, true),
    labelValues('instance', 'Instance', `label_values(${metric}{job=~"$job"}, instance)`, true),
    labelValues('target', 'Target', `label_values(mcp_probe_success{${JOB_INSTANCE}}, target)`, multiTarget),
  ];
}

/** A dashboard with the shared settings: uid, tags, time range, refresh, links to its siblings. */
export function baseDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([TAG])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .link(
      new dashboard.DashboardLinkBuilder('mcpwatch dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

/** A plain (expanded) row; panels added after it belong to it. */
export function row(title: string, collapsed = false): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).collapsed(collapsed);
}

/** The drill-down URL for a target, for data links on fleet panels (labels of the clicked series). */
export const DRILL_DOWN_LINK: DataLink = {
  title: 'Drill down into ${__field.labels.target}',
  url:
    `/d/${UIDS.target}/mcpwatch-target-drill-down?\${__url_time_range}&\${datasource:queryparam}` +
    '&var-job=${__field.labels.job}&var-instance=${__field.labels.instance}&var-target=${__field.labels.target}',
};

/** Grafana's JSON model of a dashboard (what the SDK builds). */
export type DashboardJson = dashboard.Dashboard;

/**
 * Builds the dashboard and gives every panel (rows and panels inside collapsed rows included) a
 * stable id in layout order: Grafana needs unique ids for links to a panel (`viewPanel=`).
 * Returns plain JSON data, exactly what is written to the file (the SDK leaves marker functions
 * on queries, which JSON drops).
 */
export function finish(b: cog.Builder<dashboard.Dashboard>): DashboardJson {
  const d = b.build();
  let id = 1;
  for (const p of d.panels ?? []) {
    p.id = id++;
    if (p.type === 'row') for (const inner of (p as dashboard.RowPanel).panels ?? []) inner.id = id++;
  }
  return JSON.parse(JSON.stringify(d)) as DashboardJson;
}
