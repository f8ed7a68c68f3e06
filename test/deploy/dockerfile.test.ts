/**
 * The Dockerfile, checked without a Docker engine (none runs on these machines): the Node major
 * against package.json engines, the build steps, the non-root user, the entrypoint against the
 * build output, .dockerignore against what is copied, and the runtime stage's file layout
 * assembled in a temp dir and run with the image's entrypoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parse } from 'yaml';
import { kustomize, ROOT } from './k8s-helpers.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  image: string;
  name?: string;
  body: Instruction[];
}

/** Parses a Dockerfile into stages (line continuations joined, comments dropped, ARGs substituted). */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const ins = {
      op: op.toUpperCase(),
      args: rest.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => args.get(a ?? b) ?? m),
    };
    if (ins.op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split('=');
      args.set(k!, v);
    } else if (ins.op === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      stages.push({ image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else {
      assert.ok(stages.length > 0, `${ins.op} before FROM`);
      stages.at(-1)!.body.push(ins);
    }
  }
  return stages;
}

/** Does Node major `major` satisfy an engines range made of `^X.Y.Z` and `>=X.Y.Z` alternatives? */
function majorSatisfies(major: number, range: string): boolean {
  return range.split('||').some((alt) => {
    const m = /^\s*(\^|>=)(\d+)\.\d+\.\d+\s*$/.exec(alt);
    assert.ok(m, `engines alternative "${alt}" is not ^X.Y.Z or >=X.Y.Z: extend this test`);
    return m[1] === '^' ? Number(m[2]) === major : major >= Number(m[2]);
  });
}

/** Docker's .dockerignore rule: the last matching pattern wins; a pattern on a directory covers its contents. */
function dockerIgnored(path: string, patterns: string[]): boolean {
  const toRe = (glob: string) =>
    new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '\0')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\0/g, '.*')}$`,
    );
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = toRe(posix.normalize(negate ? raw.slice(1) : raw).replace(/\/$/, ''));
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}

const dockerfile = () => parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = () =>
  readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
const pkg = () => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const sidecar = () =>
  kustomize('deploy/kubernetes/base')
    .find((o) => o.kind === 'Deployment')!
    .spec.template.spec.initContainers.find((c: any) => c.name === 'mcpwatch');
const final = () => dockerfile().at(-1)!;
const copies = (stage: Stage) =>
  stage.body
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
    });

test('every stage is node:<major>-slim with the same major, and that major satisfies engines', () => {
  const stages = dockerfile();
  assert.ok(stages.length >= 2, 'multi-stage');
  const majors = stages.map((s) => {
    const m = /^node:(\d+)-slim$/.exec(s.image);
    assert.ok(m, `FROM ${s.image} is node:<major>-slim`);
    return Number(m[1]);
  });
  assert.equal(new Set(majors).size, 1, 'build and runtime use the same Node major');
  assert.ok(
    majorSatisfies(majors[0]!, pkg().engines.node),
    `Node ${majors[0]} satisfies engines ${pkg().engines.node}`,
  );
  // The helper itself can say no.
  assert.equal(majorSatisfies(21, pkg().engines.node), false);
});

test('the build stage installs from the lockfile, builds, and prunes dev dependencies', () => {
  const runs = dockerfile()[0]!
    .body.filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join(' && ');
  const at = (s: string) => runs.indexOf(s);
  assert.ok(at('npm ci') >= 0, 'npm ci');
  assert.ok(at('npm run build') > at('npm ci'), 'npm run build after npm ci');
  assert.ok(at('npm prune --omit=dev') > at('npm run build'), 'npm prune --omit=dev after the build');
});

test('the runtime stage runs as a fixed non-root user, the one the Kubernetes manifests use', () => {
  const user = final()
    .body.filter((i) => i.op === 'USER')
    .at(-1)?.args;
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  assert.ok(m, `USER ${user} is numeric (runAsNonRoot cannot verify a name)`);
  assert.ok(Number(m[1]) > 0 && Number(m[2] ?? 1) > 0, 'not root');
  assert.equal(sidecar().securityContext.runAsUser, Number(m[1]));
});

test("the entrypoint is the README's, exists, and EXPOSE matches the listen port", () => {
  const entry = final()
    .body.filter((i) => i.op === 'ENTRYPOINT')
    .at(-1)?.args;
  assert.deepEqual(JSON.parse(entry ?? 'null'), ['node', 'bin/mcpwatch.js']);
  assert.ok(existsSync(join(ROOT, 'bin/mcpwatch.js')));
  // bin/mcpwatch.js loads dist/main.js, which tsc emits from src/main.ts (rootDir src, outDir dist).
  assert.match(readFileSync(join(ROOT, 'bin/mcpwatch.js'), 'utf8'), /\.\.\/dist\/main\.js/);
  assert.ok(existsSync(join(ROOT, 'src/main.ts')), 'src/main.ts exists');
  const expose = final()
    .body.filter((i) => i.op === 'EXPOSE')
    .map((i) => i.args);
  assert.deepEqual(expose, [String(sidecar().ports[0].containerPort)]);
  assert.ok(sidecar().args.includes('--web.listen-address=:9465'));
});

test('.dockerignore lets through exactly what COPY needs and keeps node_modules, dist and .git out', () => {
  const patterns = dockerignore();
  for (const stage of dockerfile()) {
    for (const c of copies(stage).filter((c) => !c.from)) {
      for (const src of c.sources) {
        assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: exists`);
        assert.equal(dockerIgnored(src, patterns), false, `COPY ${src}: not ignored`);
        if (statSync(join(ROOT, src)).isDirectory()) {
          const inside = readdirSync(join(ROOT, src))[0];
          if (inside) assert.equal(dockerIgnored(`${src}/${inside}`, patterns), false, `${src}/${inside}: not ignored`);
        }
      }
    }
  }
  for (const p of [
    'node_modules/yaml/package.json',
    'dist/main.js',
    '.git/HEAD',
    'test/deploy/dockerfile.test.ts',
    '.env',
  ]) {
    assert.equal(dockerIgnored(p, patterns), true, `${p} is ignored`);
  }
});

test('dist/ imports only production dependencies (what survives npm prune --omit=dev)', () => {
  const dist = join(ROOT, 'dist');
  assert.ok(existsSync(join(dist, 'main.js')), 'dist/main.js is built (npm run build)');
  const deps = new Set(Object.keys(pkg().dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) =>
      statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.js') ? [join(dir, n)] : [],
    );
  const missing = new Set<string>();
  for (const file of walk(dist)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec.split('/')[0]!)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!deps.has(name)) missing.add(`${name} (${file.slice(ROOT.length)})`);
    }
  }
  assert.deepEqual([...missing], [], 'imported by dist/ but not in package.json dependencies');
});

test("the runtime stage's files, laid out as in the image, start with the image's entrypoint", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-image-'));
  try {
    const app = join(dir, 'app');
    for (const c of copies(final())) {
      for (const src of c.sources) {
        // --from=build paths are /app/<x> in the build stage, i.e. <x> in this working tree after
        // `npm run build`. node_modules is linked, not pruned: pruning needs the registry.
        const local = c.from ? posix.relative('/app', src) : src;
        const dest = join(
          app,
          c.dest.endsWith('/') || c.sources.length > 1 ? join(c.dest, posix.basename(src)) : c.dest,
        );
        assert.ok(existsSync(join(ROOT, local)), `${c.from ? `--from=${c.from} ` : ''}${src} exists`);
        if (local === 'node_modules') symlinkSync(join(ROOT, local), dest);
        else cpSync(join(ROOT, local), dest, { recursive: true });
      }
    }
    assert.ok(existsSync(dirname(join(app, 'bin/mcpwatch.js'))));
    const config = kustomize('deploy/kubernetes/base').find((o) => o.metadata.name.startsWith('mcpwatch-config'))!.data[
      'mcpwatch.yaml'
    ];
    assert.ok(parse(config).targets.length > 0);
    writeFileSync(join(dir, 'mcpwatch.yaml'), config);
    const entry = JSON.parse(
      final()
        .body.filter((i) => i.op === 'ENTRYPOINT')
        .at(-1)!.args,
    ) as string[];
    const r = spawnSync(
      process.execPath,
      [...entry.slice(1), '--config.check', `--config.file=${join(dir, 'mcpwatch.yaml')}`],
      {
        cwd: app,
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', POD_NAME: 'mcp-server-abc12' },
      },
    );
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
