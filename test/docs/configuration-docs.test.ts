import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigSchema } from '../../src/config/schema.js';

/** Every key of every object reachable in a zod (v4) schema. */
function schemaKeys(schema: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  if (!def) return out;
  switch (def.type) {
    case 'object':
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
        out.set(`${path}${k}`, k);
        schemaKeys(v, `${path}${k}.`, out);
      }
      break;
    case 'optional':
    case 'default':
    case 'nullable':
    case 'prefault':
    case 'readonly':
      schemaKeys(def.innerType, path, out);
      break;
    case 'array':
      schemaKeys(def.element, `${path.replace(/\.$/, '')}[].`, out);
      break;
    case 'pipe':
      schemaKeys(def.in, path, out);
      break;
    case 'record':
      schemaKeys(def.valueType, `${path}*.`, out);
      break;
    case 'union':
      for (const o of def.options as unknown[]) schemaKeys(o, path, out);
      break;
  }
  return out;
}

test('docs/configuration.md documents every key of the config schema', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const keys = schemaKeys(ConfigSchema);
  assert.ok(keys.size > 30, `the schema walk found only ${keys.size} keys; the walker is broken`);
  const missing = [...keys].filter(([, key]) => !doc.includes(`| \`${key}\` |`)).map(([p]) => p);
  assert.deepEqual(missing, [], `keys missing from docs/configuration.md tables: ${missing.join(', ')}`);
});

test('docs/configuration.md documents no key the schema does not have', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const known = new Set([...schemaKeys(ConfigSchema).values()]);
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] as string);
  const unknown = documented.filter((k) => !known.has(k));
  assert.deepEqual(unknown, [], `documented keys that the schema does not have: ${unknown.join(', ')}`);
});
