/**
 * Golden-file tests of the exposition parser: each golden/*.prom is parsed and compared with
 * its .json (valid) or .error.txt (invalid). MCPWATCH_UPDATE_GOLDEN=1 rewrites them (review the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseExposition, TooManySeriesError } from '../../src/scrape/parse.js';

const dir = fileURLToPath(new URL('./golden/', import.meta.url));
const update = process.env.MCPWATCH_UPDATE_GOLDEN === '1';

function render(text: string): { json?: string; error?: string } {
  try {
    const parsed = parseExposition(text);
    const plain = {
      types: Object.fromEntries(parsed.types),
      samples: parsed.samples.map((s) => ({
        name: s.name,
        labels: s.labels,
        value: Number.isFinite(s.value) ? s.value : String(s.value),
      })),
    };
    return { json: `${JSON.stringify(plain, null, 2)}\n` };
  } catch (err) {
    return { error: `${(err as Error).message}\n` };
  }
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.prom'))) {
  test(`golden ${file}`, () => {
    const got = render(readFileSync(join(dir, file), 'utf8'));
    const base = join(dir, file.replace(/\.prom$/, ''));
    const [path, value] =
      got.json !== undefined ? [`${base}.json`, got.json] : [`${base}.error.txt`, got.error as string];
    if (update) writeFileSync(path, value);
    assert.ok(existsSync(path), `${path} missing: ${got.error ?? 'parsed fine'}`);
    assert.equal(value, readFileSync(path, 'utf8'));
  });
}

test('more series than max_series is refused, not truncated', () => {
  const text = Array.from({ length: 11 }, (_, i) => `m{i="${i}"} ${i}`).join('\n');
  assert.equal(parseExposition(text, 11).samples.length, 11);
  assert.throws(() => parseExposition(text, 10), TooManySeriesError);
});
