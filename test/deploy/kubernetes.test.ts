/**
 * The Kubernetes manifests under deploy/kubernetes, rendered by the real `kubectl kustomize`,
 * checked against the Kubernetes / Prometheus Operator models, the restricted Pod Security
 * Standard, the shipped alerts and dashboards, promtool and mcpwatch's own --config.check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  kustomize,
  mountedFiles,
  podContainers,
  ROOT,
  unknownFieldChecker,
  validateModel,
  type K8sObject,
} from './k8s-helpers.js';
import { readRuleGroups, renderGenerated, staleFiles, RULES_FILE } from '../../deploy/kubernetes/generate.js';

const BASE = 'deploy/kubernetes/base';
const OVERLAY = 'deploy/kubernetes/overlays/pre-1.29';
const MONITORING = 'deploy/kubernetes/monitoring';
const SIDECAR = 'mcpwatch';

// Rendered once; a render failure fails every test that needs it (never a skip).
const rendered = new Map<string, K8sObject[] | Error>();
function render(dir: string): K8sObject[] {
  if (!rendered.has(dir)) {
    try {
      rendered.set(dir, kustomize(dir));
    } catch (err) {
      rendered.set(dir, err as Error);
    }
  }
  const r = rendered.get(dir)!;
  if (r instanceof Error) throw r;
  return r;
}
const one = (objs: K8sObject[], kind: string, namePrefix = ''): K8sObject => {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name.startsWith(namePrefix));
  assert.equal(found.length, 1, `expected exactly one ${kind} ${namePrefix}`);
  return found[0]!;
};
const podSpecOf = (objs: K8sObject[]) => one(objs, 'Deployment').spec.template.spec;
const sidecarOf = (objs: K8sObject[]) => podContainers(podSpecOf(objs)).find((x) => x.c.name === SIDECAR);

/** Spawns a command with a deadline; returns its exit status and output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, cwd: ROOT, env });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-deploy-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('kubectl kustomize renders the base, the pre-1.29 overlay and the monitoring kustomization', () => {
  for (const dir of [BASE, OVERLAY]) {
    const kinds = render(dir)
      .map((o) => o.kind)
      .sort();
    assert.deepEqual(
      kinds,
      ['ConfigMap', 'ConfigMap', 'Deployment', 'PodMonitor', 'PrometheusRule', 'Secret', 'Service'],
      dir,
    );
  }
  // The part users apply next to their own workload: no example Deployment in it.
  assert.deepEqual(
    render(MONITORING)
      .map((o) => o.kind)
      .sort(),
    ['ConfigMap', 'PodMonitor', 'PrometheusRule'],
  );
});

test('generated files are up to date with alerts/ and dashboards/', () => {
  // Throws when alerts/mcpwatch.rules.yml or dashboards/*.json is missing: a failure, not a skip.
  const stale = staleFiles(renderGenerated());
  assert.deepEqual(stale, [], 'run `node --import tsx deploy/kubernetes/generate.ts` and commit the result');
});

test('every rendered object validates against its kubernetes-models class', async () => {
  for (const dir of [BASE, OVERLAY, MONITORING]) {
    for (const obj of render(dir)) {
      await assert.doesNotReject(validateModel(obj), `${dir}: ${obj.kind}/${obj.metadata.name}`);
    }
  }
});

test('no rendered object has a field its Kubernetes / Prometheus Operator type does not declare', () => {
  const all = [...render(BASE), ...render(OVERLAY)];
  const unknown = unknownFieldChecker(all);
  for (const obj of all) assert.deepEqual(unknown(obj), [], `${obj.kind}/${obj.metadata.name}`);
  // The check itself must be able to fail: a misspelt field is reported with its path.
  const broken = structuredClone(one(render(BASE), 'Deployment'));
  broken.spec.template.spec.initContainers[0].securityContext.readOnlyRootFileSystem = true;
  assert.deepEqual(unknown(broken), ['spec.template.spec.initContainers[0].securityContext.readOnlyRootFileSystem']);
});

test('every container and init container meets the restricted Pod Security Standard and has probes', () => {
  for (const dir of [BASE, OVERLAY]) {
    const pod = podSpecOf(render(dir));
    assert.equal(pod.automountServiceAccountToken, false, `${dir}: automountServiceAccountToken`);
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) assert.ok(!pod[key], `${dir}: ${key}`);
    assert.ok(!(pod.volumes ?? []).some((v: any) => v.hostPath), `${dir}: hostPath volume`);
    const containers = podContainers(pod);
    assert.ok(containers.length >= 2);
    for (const { c } of containers) {
      const at = `${dir}: container ${c.name}`;
      const sc = c.securityContext ?? {};
      const podSc = pod.securityContext ?? {};
      assert.equal(sc.runAsNonRoot ?? podSc.runAsNonRoot, true, `${at}: runAsNonRoot`);
      const uid = sc.runAsUser ?? podSc.runAsUser;
      assert.ok(Number.isInteger(uid) && uid > 0, `${at}: a fixed non-root runAsUser`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
      assert.ok(!sc.privileged, `${at}: privileged`);
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${at}: capabilities.drop`);
      assert.equal(sc.capabilities?.add, undefined, `${at}: capabilities.add`);
      assert.equal((sc.seccompProfile ?? podSc.seccompProfile)?.type, 'RuntimeDefault', `${at}: seccompProfile`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
      for (const kind of ['requests', 'limits']) {
        for (const res of ['cpu', 'memory']) assert.ok(c.resources?.[kind]?.[res], `${at}: resources.${kind}.${res}`);
      }
      assert.ok(c.livenessProbe, `${at}: livenessProbe`);
      assert.ok(c.readinessProbe, `${at}: readinessProbe`);
      // Secrets are files, never environment variables.
      for (const e of c.env ?? [])
        assert.equal(e.valueFrom?.secretKeyRef, undefined, `${at}: env ${e.name} from a Secret`);
      assert.ok(!(c.envFrom ?? []).some((e: any) => e.secretRef), `${at}: envFrom a Secret`);
      for (const m of c.volumeMounts ?? []) {
        const v = pod.volumes.find((x: any) => x.name === m.name);
        if (v.secret || v.configMap || v.projected) assert.equal(m.readOnly, true, `${at}: mount ${m.name} read-only`);
      }
    }
  }
});

test('the sidecar: native (restartPolicy Always) in the base, an ordinary container in the overlay', () => {
  const base = sidecarOf(render(BASE));
  assert.equal(base?.list, 'initContainers');
  assert.equal(base.c.restartPolicy, 'Always');
  const overlayPod = podSpecOf(render(OVERLAY));
  const overlay = sidecarOf(render(OVERLAY));
  assert.equal(overlay?.list, 'containers');
  assert.equal(overlay.c.restartPolicy, undefined);
  assert.equal(overlayPod.initContainers, undefined);
  // Apart from where it sits, the overlay's sidecar is the base's.
  const { restartPolicy: _drop, ...rest } = base.c;
  assert.deepEqual(overlay.c, rest);
});

test("the sidecar's probes check mcpwatch's own endpoints on its own port", () => {
  for (const dir of [BASE, OVERLAY]) {
    const { c } = sidecarOf(render(dir))!;
    const port = c.ports.find((p: any) => p.name === 'http-metrics');
    assert.equal(port?.containerPort, 9465);
    assert.ok(c.args.includes(`--web.listen-address=:${port.containerPort}`));
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/-/healthy', port: 'http-metrics' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/-/ready', port: 'http-metrics' });
    if (c.startupProbe) assert.equal(c.startupProbe.httpGet.path, '/-/healthy');
  }
});

test('the sidecar sees its config and token files where the config says', () => {
  const objs = render(BASE);
  const pod = podSpecOf(objs);
  const { c } = sidecarOf(objs)!;
  const files = mountedFiles(pod, c, objs);
  const configPath = c.args.find((a: string) => a.startsWith('--config.file='))?.slice('--config.file='.length);
  assert.equal(configPath, '/etc/mcpwatch/mcpwatch.yaml');
  const source = files.get(configPath);
  assert.equal(source?.kind, 'ConfigMap', `${configPath} comes from a ConfigMap`);
  const cm = one(objs, 'ConfigMap', source.name);
  const config = parse(cm.data[source.key]);
  for (const t of config.targets) {
    const tokenFile = t.authorization?.credentials_file;
    if (tokenFile) {
      const from = files.get(tokenFile);
      assert.equal(from?.kind, 'Secret', `${tokenFile} comes from a Secret`);
      const secret = one(objs, 'Secret', from.name);
      assert.ok(from.key in { ...secret.data, ...secret.stringData }, `Secret ${from.name} has key ${from.key}`);
    }
  }
  assert.ok(
    config.targets.some((t: any) => t.authorization?.credentials_file),
    'the example uses a token file',
  );
});

test('the PodMonitor selects the pod, scrapes the sidecar port, and sets job="mcpwatch"', () => {
  for (const dir of [BASE, OVERLAY]) {
    const objs = render(dir);
    const pm = one(objs, 'PodMonitor');
    const podLabels = one(objs, 'Deployment').spec.template.metadata.labels;
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) assert.equal(podLabels[k], v, `pod label ${k}`);
    const ports = podContainers(podSpecOf(objs)).flatMap(({ c }) => (c.ports ?? []).map((p: any) => p.name));
    for (const ep of pm.spec.podMetricsEndpoints) {
      assert.ok(ports.includes(ep.port), `port ${ep.port} exists on a container`);
      const job = (ep.relabelings ?? []).find((r: any) => r.targetLabel === 'job');
      assert.equal(job?.replacement, 'mcpwatch');
      assert.equal(job?.action ?? 'replace', 'replace');
    }
  }
  // The alerts select that job; if they stop doing so, this wiring is pointless.
  assert.match(readFileSync(join(ROOT, RULES_FILE), 'utf8'), /job="mcpwatch"/);
});

test("the Service selects the pod and targets the MCP server's port", () => {
  const objs = render(BASE);
  const svc = one(objs, 'Service');
  const podLabels = one(objs, 'Deployment').spec.template.metadata.labels;
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v);
  const server = podContainers(podSpecOf(objs)).find(({ c }) => c.name === 'mcp-server')!.c;
  for (const p of svc.spec.ports)
    assert.ok(
      server.ports.some((x: any) => x.name === p.targetPort),
      `targetPort ${p.targetPort}`,
    );
});

test("the PrometheusRule's groups equal alerts/mcpwatch.rules.yml and pass promtool check rules", () => {
  const rule = one(render(BASE), 'PrometheusRule');
  const groups = readRuleGroups(readFileSync(join(ROOT, RULES_FILE), 'utf8'));
  assert.deepEqual(rule.spec.groups, groups);
  withTempDir((dir) => {
    const file = join(dir, 'rules.yml');
    writeFileSync(file, stringify({ groups: rule.spec.groups }));
    const r = run('promtool', ['check', 'rules', file]);
    assert.equal(r.status, 0, r.out);
  });
});

test('the mcpwatch config in the ConfigMap passes mcpwatch --config.check', () => {
  const cm = one(render(BASE), 'ConfigMap', 'mcpwatch-config');
  withTempDir((dir) => {
    const good = join(dir, 'mcpwatch.yaml');
    writeFileSync(good, cm.data['mcpwatch.yaml']);
    // POD_NAME is what the Downward API gives the sidecar.
    const env = { ...process.env, POD_NAME: 'mcp-server-abc12' };
    const ok = run(process.execPath, ['bin/mcpwatch.js', '--config.check', `--config.file=${good}`], env);
    assert.equal(ok.status, 0, ok.out);
    // And the check can fail: the same config with an unknown key is rejected.
    const bad = join(dir, 'bad.yaml');
    const doc = parse(cm.data['mcpwatch.yaml']);
    doc.targets[0].no_such_key = true;
    writeFileSync(bad, stringify(doc));
    const ko = run(process.execPath, ['bin/mcpwatch.js', '--config.check', `--config.file=${bad}`], env);
    assert.equal(ko.status, 1, ko.out);
  });
});

test('the dashboards ConfigMap holds dashboards/*.json verbatim, labelled for the Grafana sidecar', () => {
  const cm = one(render(BASE), 'ConfigMap', 'mcpwatch-dashboards');
  assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
  const dir = join(ROOT, 'dashboards');
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort();
  assert.ok(names.length > 0, 'dashboards/*.json exist');
  assert.deepEqual(Object.keys(cm.data).sort(), names);
  for (const n of names) assert.equal(cm.data[n], readFileSync(join(dir, n), 'utf8'), n);
  // A ConfigMap holds at most 1 MiB; past 256 KiB client-side `kubectl apply` fails on its
  // last-applied annotation (docs/kubernetes.md says to use --server-side then).
  const bytes = Buffer.byteLength(JSON.stringify(cm));
  assert.ok(bytes < 1024 * 1024, `dashboards ConfigMap is ${bytes} bytes`);
});

test('the mcpwatch image tag is the package version', () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const dir of [BASE, OVERLAY])
    assert.equal(sidecarOf(render(dir))!.c.image, `ghcr.io/mcpwatch/mcpwatch:${version}`);
});
