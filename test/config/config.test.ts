/**
 * The config loader as users meet it: every rule has an invalid file in ./invalid/ paired with the
 * exact `path: message` lines it must produce (NAME.yml -> NAME.expected); `${VAR}` expansion,
 * defaults, and the example configs shipped in the docs and deploy/ must parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { expandEnv, formatIssues, loadConfigFile, parseConfig } from '../../src/config/load.js';
import type { ConfigIssue } from '../../src/config/schema.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const invalidDir = fileURLToPath(new URL('./invalid/', import.meta.url));

/** The rules each invalid file stands for; a missing file fails the suite. */
const RULES = [
  'unknown-key-top',
  'unknown-key-target',
  'duplicate-names',
  'bad-name',
  'timeout-not-below-interval',
  'missing-url',
  'url-with-stdio',
  'command-without-stdio',
  'bad-duration',
  'bad-cron',
  'interval-and-schedule',
  'missing-env-var',
  'missing-env-var-default-empty',
  'credentials-and-file',
  'cert-without-key',
  'yaml-syntax',
  'yaml-duplicate-key',
  'multiple-problems',
  'multiple-schema-problems',
];

test('every rule has an invalid file and an expected file, and nothing is left unpaired', () => {
  const files = readdirSync(invalidDir);
  const yml = files
    .filter((f) => f.endsWith('.yml'))
    .map((f) => f.slice(0, -4))
    .sort();
  const expected = files
    .filter((f) => f.endsWith('.expected'))
    .map((f) => f.slice(0, -9))
    .sort();
  assert.deepEqual(yml, [...RULES].sort());
  assert.deepEqual(expected, [...RULES].sort());
});

for (const name of RULES) {
  test(`invalid/${name}.yml reports exactly its problems`, () => {
    const text = readFileSync(join(invalidDir, `${name}.yml`), 'utf8');
    const want = readFileSync(join(invalidDir, `${name}.expected`), 'utf8').trimEnd();
    const { config, issues } = parseConfig(text, {}, `${name}.yml`);
    assert.equal(config, undefined, 'an invalid config yields no config');
    assert.equal(formatIssues(issues), want);
  });
}

test('several problems are all reported at once', () => {
  const text = readFileSync(join(invalidDir, 'multiple-problems.yml'), 'utf8');
  const { issues } = parseConfig(text, {}, 'multiple-problems.yml');
  assert.ok(issues.length >= 5, formatIssues(issues));
  assert.equal(new Set(issues.map((i) => i.path)).size >= 4, true, 'problems in different places');
});

test('loadConfigFile: reads a file, names the file in YAML errors, reports an unreadable file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-config-'));
  try {
    const good = join(dir, 'good.yml');
    writeFileSync(good, 'targets:\n  - name: a\n    url: http://127.0.0.1:3000/mcp\n');
    assert.equal(loadConfigFile(good, {}).config?.targets[0]?.name, 'a');

    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, readFileSync(join(invalidDir, 'yaml-syntax.yml')));
    assert.deepEqual(loadConfigFile(bad, {}).issues, [
      { path: bad, message: 'YAML: Sequence item without - indicator (line 4, column 1)' },
    ]);

    const missing = join(dir, 'missing.yml');
    assert.deepEqual(loadConfigFile(missing, {}).issues, [{ path: missing, message: 'cannot read: ENOENT' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('${VAR} and ${VAR:-default} are expanded from the given environment; $$ is a literal $', () => {
  const text = [
    'targets:',
    '  - name: "${NAME}"',
    '    url: "http://${HOST:-127.0.0.1}:${PORT}/mcp"',
    '    headers:',
    '      Authorization: "Bearer ${TOKEN}"',
    '      X-Empty-Default: "${UNSET:-}"',
    '      X-Empty-Uses-Default: "${EMPTY:-fallback}"',
    '      X-Price: "$$5"',
    '    args: ["${PORT}"]',
  ].join('\n');
  const { config, issues } = parseConfig(text, { NAME: 'search', PORT: '3000', TOKEN: 's3cr3t', EMPTY: '' }, 't');
  assert.deepEqual(issues, []);
  const t = config?.targets[0];
  assert.equal(t?.name, 'search');
  assert.equal(t?.url, 'http://127.0.0.1:3000/mcp');
  assert.deepEqual(t?.headers, {
    Authorization: 'Bearer s3cr3t',
    'X-Empty-Default': '',
    'X-Empty-Uses-Default': 'fallback',
    'X-Price': '$5',
  });
  assert.deepEqual(t?.args, ['3000']);
});

test('a missing variable is reported by path and name, never with a value', () => {
  const issues: ConfigIssue[] = [];
  const out = expandEnv({ targets: [{ headers: { A: 'x-${NOPE}-y' } }] }, { OTHER: 'secret-value' }, [], issues);
  assert.deepEqual(out, { targets: [{ headers: { A: 'x--y' } }] });
  assert.deepEqual(issues, [{ path: 'targets[0].headers.A', message: 'environment variable NOPE is not set' }]);
});

test('expansion happens in values only: keys and non-strings are left alone', () => {
  const issues: ConfigIssue[] = [];
  const out = expandEnv({ '${K}': 1, n: 5, b: true, z: null }, { K: 'k' }, [], issues);
  assert.deepEqual(out, { '${K}': 1, n: 5, b: true, z: null });
  assert.deepEqual(issues, []);
});

test('defaults are applied, per-target values override them', () => {
  const text = [
    'targets:',
    '  - name: plain',
    '    url: http://127.0.0.1:3000/mcp',
    '  - name: tuned',
    '    url: https://mcp.example.com/mcp',
    '    transport: sse',
    '    interval: 1m',
    '    timeout: 2500ms',
    '    max_response_bytes: 2048',
    '    max_tool_pages: 5',
    '    latency_slo: 500ms',
    '    sessions_expected_max: 20',
    '    authorization: { credentials_file: /etc/token }',
    '    tls: { ca_file: /etc/ca.pem }',
    '    canary: { tool: echo }',
    '  - name: cron',
    '    url: http://127.0.0.1:3000/mcp',
    '    schedule: "*/15 * * * * *"',
    '  - name: local',
    '    command: node',
    '    args: [server.js]',
  ].join('\n');
  const { config, issues } = parseConfig(text, {}, 't');
  assert.deepEqual(issues, []);
  const [plain, tuned, cron, local] = config?.targets ?? [];
  // Keys added to TargetConfig later (optional, undefined here) do not break this comparison.
  const defined = Object.fromEntries(Object.entries(plain ?? {}).filter(([, v]) => v !== undefined));
  assert.deepEqual(defined, {
    name: 'plain',
    transport: 'auto',
    url: 'http://127.0.0.1:3000/mcp',
    args: [],
    env: {},
    intervalMs: 30_000,
    timeoutMs: 10_000,
    headers: {},
    maxResponseBytes: 4 * 1024 * 1024,
    maxToolPages: 100,
    latencySloSeconds: 2,
    sessionMaxAgeSeconds: 3600,
    canaries: [],
    toolGroups: [],
  });
  assert.equal(tuned?.transport, 'sse');
  assert.equal(tuned?.intervalMs, 60_000);
  assert.equal(tuned?.timeoutMs, 2500);
  assert.equal(tuned?.maxResponseBytes, 2048);
  assert.equal(tuned?.maxToolPages, 5);
  assert.equal(tuned?.latencySloSeconds, 0.5);
  assert.equal(tuned?.sessionsExpectedMax, 20);
  // Blocks are the schema's output, camel-cased: keys the user left out are absent.
  assert.deepEqual(tuned?.authorization, { type: 'Bearer', credentialsFile: '/etc/token' });
  assert.deepEqual(tuned?.tls, { caFile: '/etc/ca.pem', insecureSkipVerify: false });
  assert.deepEqual(tuned?.canaries[0], { tool: 'echo', arguments: {}, expectSuccess: true, required: true });
  assert.equal(cron?.intervalMs, undefined);
  assert.equal(cron?.schedule, '*/15 * * * * *');
  assert.equal(local?.transport, 'stdio', 'a command without a transport means stdio');
  assert.deepEqual(local?.args, ['server.js']);
});

test('the defaults block changes every target that does not override it', () => {
  const text =
    'defaults: { interval: 2m, timeout: 30s, transport: streamable-http, max_tool_pages: 7, latency_slo: 1s }\ntargets:\n  - name: a\n    url: http://127.0.0.1:1/mcp\n';
  const t = parseConfig(text, {}, 't').config?.targets[0];
  assert.deepEqual(
    [t?.intervalMs, t?.timeoutMs, t?.transport, t?.maxToolPages, t?.latencySloSeconds],
    [120_000, 30_000, 'streamable-http', 7, 1],
  );
});

test('an empty file is a valid config with no targets', () => {
  assert.deepEqual(parseConfig('', {}, 't'), { config: { targets: [] }, issues: [] });
  assert.deepEqual(parseConfig('# only a comment\n', {}, 't').config, { targets: [] });
});

test('a config that is not a mapping is reported', () => {
  assert.deepEqual(parseConfig('- a\n- b\n', {}, 't').issues, [
    { path: '(root)', message: 'must be a mapping with defaults and targets' },
  ]);
});

/** `yaml` blocks of a markdown file that are mcpwatch configs (a mapping with `targets`). */
function configBlocks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const blocks = [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.filter((b) => {
    try {
      const v = parseYaml(b);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && 'targets' in v;
    } catch {
      return false;
    }
  });
}

test('the example configs in README.md and docs/*.md parse', () => {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  let seen = 0;
  for (const file of files) {
    configBlocks(file).forEach((block, i) => {
      seen++;
      const { issues } = parseConfig(block, { POD_NAME: 'pod-0', SEARCH_TOKEN: 't' }, `${file} block ${i + 1}`);
      assert.deepEqual(issues, [], `${file}, config block ${i + 1}:\n${formatIssues(issues)}\n${block}`);
    });
  }
  assert.ok(seen >= 1, 'at least one example config was found');
});

test('the Kubernetes example config parses with the Downward API variable set, and fails without it', () => {
  const file = join(root, 'deploy/kubernetes/base/mcpwatch.yaml');
  const ok = loadConfigFile(file, { POD_NAME: 'mcp-server-0' });
  assert.deepEqual(ok.issues, []);
  assert.equal(ok.config?.targets[0]?.headers['X-Mcpwatch-Pod'], 'mcp-server-0');
  assert.deepEqual(
    loadConfigFile(file, {}).issues.map((i) => `${i.path}: ${i.message}`),
    ['targets[0].headers.X-Mcpwatch-Pod: environment variable POD_NAME is not set'],
  );
});

test('fanout, session_max_age and tool_calls_max: defaults, bounds and cross-field rules name the field', () => {
  const base = 'targets:\n  - name: t\n    url: http://127.0.0.1:1/mcp\n    interval: 30s\n';
  const ok = parseConfig(
    `${base}    fanout: { sessions: 16 }\n    session_max_age: 10m\n    tool_calls_max: 4\n`,
    {},
    'x',
  );
  const t = ok.config?.targets[0];
  assert.deepEqual(t?.fanout, { sessions: 16, intervalMs: 300_000, call: 'tools/list' });
  assert.equal(t?.sessionMaxAgeSeconds, 600);
  assert.equal(t?.toolCallsMax, 4);
  const paths = (yaml: string) => (parseConfig(yaml, {}, 'x').issues ?? []).map((i) => i.path);
  assert.ok(paths(`${base}    fanout: { sessions: 65 }\n`).includes('targets[0].fanout.sessions'), 'at most 64');
  assert.ok(paths(`${base}    fanout: { sessions: 1 }\n`).includes('targets[0].fanout.sessions'), 'at least 2');
  assert.deepEqual(paths(`${base}    fanout: { call: canary }\n`), ['targets[0].fanout.call']);
  assert.deepEqual(paths(`${base}    fanout: { interval: 10s }\n`), ['targets[0].fanout.interval']);
  assert.ok(paths(`${base}    tool_calls_max: 0\n`).includes('targets[0].tool_calls_max'));
});

test('canaries: canary first and required, list entries not, a tool twice names the field', () => {
  const base = 'targets:\n  - name: t\n    url: http://127.0.0.1:1/mcp\n';
  const ok = parseConfig(
    `${base}    canary: { tool: echo }\n    canaries:\n      - { tool: add, arguments: { a: 1 } }\n      - { tool: slow, interval: 5m, required: true }\n`,
    {},
    'x',
  );
  assert.deepEqual(
    ok.config?.targets[0]?.canaries.map((c) => [c.tool, c.required, c.intervalMs]),
    [
      ['echo', true, undefined],
      ['add', false, undefined],
      ['slow', true, 300_000],
    ],
  );
  const dup = parseConfig(`${base}    canary: { tool: echo }\n    canaries: [{ tool: echo }]\n`, {}, 'x');
  assert.deepEqual(
    dup.issues.map((i) => `${i.path}: ${i.message}`),
    ['targets[0].canaries[0].tool: tool "echo" already has a canary (canary)'],
  );
  const many = Array.from({ length: 21 }, (_, i) => `{ tool: t${i} }`).join(', ');
  assert.ok(
    parseConfig(`${base}    canaries: [${many}]\n`, {}, 'x').issues.some((i) => i.path === 'targets[0].canaries'),
  );
});
