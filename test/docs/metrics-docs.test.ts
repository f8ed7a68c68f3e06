import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METRICS } from '../../src/metrics/names.js';

test('docs/metrics.md lists every metric with its type and labels', () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  for (const m of Object.values(METRICS)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
    assert.ok(row, `${m.name} is not in docs/metrics.md`);
    assert.ok(row.includes(`| ${m.type} |`), `${m.name}: type ${m.type} not in its row`);
    for (const l of m.labels) assert.ok(row.includes(`\`${l}\``), `${m.name}: label ${l} not in its row`);
  }
});

test('every metric name follows Prometheus conventions', () => {
  for (const m of Object.values(METRICS)) {
    assert.match(m.name, /^(mcp|mcpwatch)_[a-z0-9_]+$/);
    if (m.type === 'counter') assert.ok(m.name.endsWith('_total'), `${m.name}: counters end in _total`);
    if (m.name.includes('seconds'))
      assert.ok(m.name.endsWith('_seconds') || m.name.endsWith('_seconds_total'), `${m.name}: unit at the end`);
    assert.ok(m.help.endsWith('.'), `${m.name}: help is one sentence`);
    for (const l of m.labels)
      assert.ok(!['url', 'session_id', 'request_id'].includes(l), `${m.name}: high-cardinality label ${l}`);
  }
});
