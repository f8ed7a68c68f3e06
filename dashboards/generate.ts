/**
 * Writes the committed dashboard JSON from the typed source in dashboards/src/.
 * Run: `node --import tsx dashboards/generate.ts`. test/dashboards fails when the JSON is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, renderDashboard } from './src/index.js';

for (const entry of DASHBOARDS) {
  const path = fileURLToPath(new URL(entry.file, import.meta.url));
  writeFileSync(path, renderDashboard(entry.build()));
  console.log(`wrote dashboards/${entry.file}`);
}
