/**
 * The tool-list hash changes exactly when what a client sees changes: not for tool order or JSON
 * key order, always for a name, description or schema change. The diff names tools by change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, describeDiff, diffToolLists, hashToolList } from '../../src/probe/tool-hash.js';
import type { ToolSummary } from '../../src/probe/types.js';

const search: ToolSummary = {
  name: 'search',
  description: 'Search records',
  inputSchema: {
    type: 'object',
    properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1 } },
    required: ['query'],
  },
};
const fetchTool: ToolSummary = {
  name: 'fetch',
  description: 'Fetch one record',
  inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
};
const echo: ToolSummary = { name: 'echo', inputSchema: { type: 'object' } };

test('the hash is 16 hex characters and deterministic', () => {
  const h = hashToolList([search, fetchTool, echo]);
  assert.match(h, /^[0-9a-f]{16}$/);
  assert.equal(hashToolList([search, fetchTool, echo]), h);
});

test('tool order does not change the hash', () => {
  assert.equal(hashToolList([search, fetchTool, echo]), hashToolList([echo, search, fetchTool]));
});

test('object key order (at every depth) does not change the hash', () => {
  const reordered: ToolSummary = {
    inputSchema: {
      required: ['query'],
      properties: { limit: { minimum: 1, type: 'integer' }, query: { type: 'string' } },
      type: 'object',
    },
    description: 'Search records',
    name: 'search',
  };
  assert.equal(hashToolList([search]), hashToolList([reordered]));
  assert.equal(canonicalJson(search), canonicalJson(reordered));
});

test('undefined fields are the same as absent ones', () => {
  assert.equal(hashToolList([{ ...echo, description: undefined, outputSchema: undefined }]), hashToolList([echo]));
});

test('a schema, description, name or annotation change changes the hash', () => {
  const h = hashToolList([search, fetchTool]);
  const changedSchema = { ...search, inputSchema: { ...(search.inputSchema as object), required: ['query', 'limit'] } };
  const variants: ToolSummary[][] = [
    [changedSchema, fetchTool],
    [{ ...search, description: 'Search all records' }, fetchTool],
    [{ ...search, name: 'search2' }, fetchTool],
    [{ ...search, annotations: { readOnlyHint: true } }, fetchTool],
    [{ ...search, outputSchema: { type: 'object' } }, fetchTool],
    [search],
    [search, fetchTool, echo],
  ];
  const hashes = variants.map(hashToolList);
  for (const v of hashes) assert.notEqual(v, h);
  assert.equal(new Set(hashes).size, hashes.length, 'every variant hashes differently');
});

test('array order inside a schema matters (it is content, e.g. an enum)', () => {
  const a = { name: 'pick', inputSchema: { type: 'string', enum: ['a', 'b'] } };
  const b = { name: 'pick', inputSchema: { type: 'string', enum: ['b', 'a'] } };
  assert.notEqual(hashToolList([a]), hashToolList([b]));
});

test('the empty list has a stable hash of its own', () => {
  assert.equal(hashToolList([]), hashToolList([]));
  assert.notEqual(hashToolList([]), hashToolList([echo]));
});

test('diff: added, removed and changed tools, by name, sorted', () => {
  const before = [search, fetchTool, echo];
  const after = [
    { ...search, inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
    echo,
    { name: 'delete', description: 'Delete a record' },
    { name: 'archive' },
  ];
  const d = diffToolLists(before, after);
  assert.deepEqual(d, { added: ['archive', 'delete'], removed: ['fetch'], changed: ['search'] });
  assert.equal(describeDiff(d), '+archive +delete -fetch ~search');
});

test('diff: reordering and key reordering is no change', () => {
  const reordered = [
    echo,
    { description: fetchTool.description, inputSchema: fetchTool.inputSchema, name: 'fetch' },
    search,
  ];
  const d = diffToolLists([search, fetchTool, echo], reordered);
  assert.deepEqual(d, { added: [], removed: [], changed: [] });
  assert.equal(describeDiff(d), 'no change');
});
