/**
 * Loads a config file: YAML -> `${VAR}` expansion -> zod schema -> cross-field rules.
 * Every problem is reported at once as `path: message`. Never throws; secrets never appear in
 * messages (values are not echoed, only paths and variable names).
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import cron from 'node-cron';
import { ConfigSchema, formatPath, resolveConfig, type Config, type ConfigIssue } from './schema.js';

export interface LoadResult {
  config?: Config;
  issues: ConfigIssue[];
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;

/** Replaces `${VAR}` (and `${VAR:-default}`) in every string of `value`; `$$` is a literal `$`. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[], issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_RE, (whole, name: string | undefined, fallback: string | undefined) => {
      if (whole === '$$') return '$';
      const v = env[name as string];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, [...path, i], issues));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, [...path, k], issues)]));
  }
  return value;
}

/** Parses config text. `source` names the file in YAML syntax errors. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv, source = 'config'): LoadResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true }); // prettyErrors fills linePos
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => ({
        path: source,
        message: `YAML: ${e.message.split(' at line ')[0]}${e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ''}`,
      })),
    };
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { issues: [{ path: '(root)', message: 'must be a mapping with defaults and targets' }] };
  const issues: ConfigIssue[] = [];
  const expanded = expandEnv(raw, env, [], issues);
  const parsed = ConfigSchema.safeParse(expanded);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      let message = i.message;
      if (i.code === 'unrecognized_keys') {
        message = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      issues.push({ path: formatPath(i.path), message });
    }
    return { issues: dedupe(issues) };
  }
  const resolved = resolveConfig(parsed.data);
  issues.push(...resolved.issues);
  parsed.data.targets.forEach((t, i) => {
    if (t.schedule !== undefined) {
      const v = cron.validateDetailed(t.schedule);
      if (!v.valid)
        issues.push({
          path: `targets[${i}].schedule`,
          message: `invalid cron expression: ${v.errors.map((e) => e.message).join('; ')}`,
        });
    }
  });
  return issues.length > 0 ? { issues: dedupe(issues) } : { config: resolved.config, issues: [] };
}

/** Reads and parses a config file. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      issues: [
        { path: file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` },
      ],
    };
  }
  return parseConfig(text, env, file);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}: ${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `path: message`, one per line. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}
