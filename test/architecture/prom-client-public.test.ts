/**
 * src/ uses prom-client through its public API only: no private field of a metric or registry is
 * read, no method is replaced. A prom-client release may rename its internals at will; if
 * src/ read them, `/metrics` would break silently (it did: exposition.ts read the series maps,
 * recorder.ts patched a histogram's string export). The names below are prom-client internals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** prom-client internals (metric and registry fields, the string-export hook), as words. */
const PRIVATE = [
  'hashMap',
  'upperBounds',
  'bucketValues',
  'bucketExemplars',
  'sortedLabelNames',
  '_defaultLabels',
  '_metrics',
  '_collectors',
  '_contentType',
  'getForPromString',
  'getMetricsAsString',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src/ reads no private prom-client field and replaces no prom-client method', () => {
  const found: string[] = [];
  const files = sourceFiles(SRC);
  assert.ok(files.length > 30, 'src/ was read');
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const word of PRIVATE) {
        if (new RegExp(`\\b${word}\\b`).test(line)) found.push(`${relative(SRC, file)}:${i + 1}: ${word}`);
      }
    });
  }
  assert.deepEqual(found, [], `prom-client internals used in src/:\n${found.join('\n')}`);
});

test('src/ sets no registry default labels (prom-client has no public way to read them back)', () => {
  const found = sourceFiles(SRC).filter((f) => /\.setDefaultLabels\s*\(/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    found.map((f) => relative(SRC, f)),
    [],
    'src/metrics/exposition.ts does not render default labels: set labels on the metrics instead',
  );
});
