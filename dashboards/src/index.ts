/**
 * The list of mcpwatch dashboards: where each is written, how it is built, and which of its
 * panels may rightly be empty. generate.ts, queries.ts and the tests all walk this list.
 */
import type { DashboardJson } from './common.js';
import { FLEET_ALLOW_EMPTY, fleetDashboard } from './fleet.js';
import { SELF_ALLOW_EMPTY, selfDashboard } from './self.js';
import { TARGET_ALLOW_EMPTY, targetDashboard } from './target.js';

/** One generated dashboard. `file` is relative to dashboards/. */
export interface DashboardEntry {
  file: string;
  uid: string;
  build: () => DashboardJson;
  /** Panel title -> why that panel may have no data in a healthy setup. */
  allowEmpty: Record<string, string>;
}

/** Every dashboard mcpwatch ships, in the order the docs describe them. */
export const DASHBOARDS: readonly DashboardEntry[] = [
  { file: 'mcpwatch-fleet.json', uid: 'mcpwatch-fleet', build: fleetDashboard, allowEmpty: FLEET_ALLOW_EMPTY },
  { file: 'mcpwatch-target.json', uid: 'mcpwatch-target', build: targetDashboard, allowEmpty: TARGET_ALLOW_EMPTY },
  { file: 'mcpwatch-self.json', uid: 'mcpwatch-self', build: selfDashboard, allowEmpty: SELF_ALLOW_EMPTY },
];

/** The exact text written for a dashboard: 2-space JSON and a final newline (stable diffs). */
export function renderDashboard(d: DashboardJson): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
