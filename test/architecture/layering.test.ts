/**
 * The layering rules of ARCHITECTURE.md, checked on the source: every relative import in src/
 * goes from one room to a room it may use. A change that makes config/ import the prober, or
 * the scraper reach into probe internals, fails here with the file and the import named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Room -> rooms it may import (besides itself). A room is a folder of src/, or `probe/types`
 * for the probe's public result types (and `probe/report`, their text form), which consumers of
 * results may read. Top-level
 * files (main.ts, sidecar.ts) wire everything and may import anything; `version` and `log`
 * are leaves anyone may use.
 */
export const ALLOWED: Record<string, readonly string[]> = {
  config: [],
  log: [],
  version: [],
  net: ['config'],
  probe: ['config', 'net', 'version', 'log'],
  'probe/types': ['config'],
  'probe/report': ['probe/types'],
  schedule: ['config', 'probe/types', 'log'],
  scrape: ['config', 'net', 'log'],
  metrics: ['config', 'net', 'probe/types', 'scrape'],
  proxy: ['config', 'net', 'log', 'metrics', 'scrape'],
  telemetry: ['config', 'probe/types', 'probe', 'log', 'version'],
  server: ['config', 'net', 'metrics', 'probe/types', 'probe/report', 'log', 'version'],
  cli: ['config', 'net', 'probe', 'probe/types', 'log', 'version', 'instrument'],
  instrument: ['metrics/names'],
};

/** The room of a file under src/ ('' for top-level wiring files such as main.ts). */
export function roomOf(file: string): string {
  const rel = relative(SRC, file)
    .replace(/\\/g, '/')
    .replace(/\.(ts|js)$/, '');
  if (['probe/types', 'probe/report', 'metrics/names'].includes(rel)) return rel;
  if (!rel.includes('/')) return rel === 'version' ? 'version' : '';
  return rel.split('/')[0] as string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a module: static `from '…'`, side-effect `import '…'`, and `import('…')`. */
export function relativeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g)) out.push(m[1] as string);
  return out;
}

/** Whether `from` may import `to`. */
function allowed(from: string, to: string): boolean {
  if (from === '' || from === to) return true;
  const base = (r: string) => r.split('/')[0] as string;
  if (base(from) === base(to) && !from.includes('/') && from !== 'instrument') return true;
  const rules = ALLOWED[from];
  assert.ok(rules, `src room "${from}" has no layering rule: add it to ALLOWED and ARCHITECTURE.md`);
  if (rules.includes(to)) return true;
  // May a room use `metrics/names` (a leaf of metrics)? Only if it may use metrics, or names itself.
  if (to === 'metrics/names' && rules.includes('metrics')) return true;
  return (to === 'probe/types' || to === 'probe/report') && rules.includes('probe');
}

test('every import in src/ follows the layering rules of ARCHITECTURE.md', () => {
  const violations: string[] = [];
  const files = sourceFiles(SRC);
  assert.ok(files.length > 30, 'src/ was read');
  for (const file of files) {
    const from = roomOf(file);
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      const to = roomOf(target);
      if (!allowed(from, to))
        violations.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to || 'top level'})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the rule checker itself sees a forbidden import', () => {
  assert.deepEqual(
    relativeImports("import { x } from '../probe/prober.js';\nconst y = await import('../scrape/scraper.js');"),
    ['../probe/prober.js', '../scrape/scraper.js'],
  );
  assert.equal(roomOf(join(SRC, 'config/schema.ts')), 'config');
  assert.equal(roomOf(join(SRC, 'probe/types.ts')), 'probe/types');
  assert.equal(roomOf(join(SRC, 'main.ts')), '');
  assert.equal(allowed('config', 'probe'), false);
  assert.equal(allowed('scrape', 'probe'), false);
  assert.equal(allowed('scrape', 'probe/types'), false);
  assert.equal(allowed('server', 'probe/types'), true);
  assert.equal(allowed('instrument', 'metrics'), false);
  assert.equal(allowed('instrument', 'metrics/names'), true);
});
