/**
 * Helpers for the deploy tests: render kustomizations with the real kubectl, validate objects
 * with kubernetes-models, and find fields the Kubernetes API does not know.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A rendered Kubernetes object (loosely typed: tests look into it). */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: any;
};

/**
 * Runs `kubectl kustomize <dir>` (dir relative to the repo root) and parses every document.
 * Throws with kubectl's stderr when rendering fails.
 */
export function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} exited ${r.status}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`kustomize output: ${doc.errors[0]!.message}`);
    return doc.toJS() as K8sObject;
  });
}

/** Module and type-declaration locations of the model for an apiVersion. */
function modelModule(apiVersion: string): string {
  if (apiVersion === 'monitoring.coreos.com/v1')
    return '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
  return `kubernetes-models/${apiVersion}`;
}

/**
 * Validates an object against its kubernetes-models class (types, enums, required fields).
 * Throws when the kind has no model or the object is invalid. Does not see unknown fields:
 * see `unknownFields`.
 */
export async function validateModel(obj: K8sObject): Promise<void> {
  const mod = (await import(modelModule(obj.apiVersion))) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = mod[obj.kind];
  if (typeof Model !== 'function') throw new Error(`no model for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

/**
 * Builds a function that lists every field of an object that its kind's TypeScript interface in
 * kubernetes-models does not declare, as paths like `spec.template.spec.containers[0].foo`.
 * kubernetes-models' validators allow unknown fields (the API server would reject or silently
 * drop them), so this walks the value alongside the declared type with the TypeScript checker.
 */
export function unknownFieldChecker(kinds: Array<{ apiVersion: string; kind: string }>): (obj: K8sObject) => string[] {
  const unique = [...new Map(kinds.map((k) => [`${k.apiVersion}/${k.kind}`, k])).values()];
  const virtualPath = join(ROOT, 'test/deploy/__unknown-fields__.ts');
  const source = unique
    .map(
      (k, i) =>
        `import type { I${k.kind} as T${i} } from '${modelModule(k.apiVersion)}/${k.kind}';\nexport declare const v${i}: T${i};`,
    )
    .join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) =>
    file === virtualPath ? ts.createSourceFile(file, source, lang) : getSourceFile(file, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === virtualPath || fileExists(file);
  const program = ts.createProgram([virtualPath], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(virtualPath));
  if (diagnostics.length > 0) {
    throw new Error(
      `model types did not resolve: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n')}`,
    );
  }
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(virtualPath)!;
  const types = new Map<string, ts.Type>();
  let i = 0;
  file.forEachChild((node) => {
    if (ts.isVariableStatement(node)) {
      const k = unique[i++]!;
      types.set(`${k.apiVersion}/${k.kind}`, checker.getTypeAtLocation(node.declarationList.declarations[0]!.name));
    }
  });

  const walk = (type: ts.Type, value: unknown, path: string, out: string[]): void => {
    if (value === null || typeof value !== 'object') return;
    const t = checker.getNonNullableType(type);
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    const members = t.isUnion() ? t.types : [t];
    if (Array.isArray(value)) {
      const element = members
        .map((m) => checker.getIndexTypeOfType(m, ts.IndexKind.Number))
        .find((x) => x !== undefined);
      if (!element) {
        out.push(`${path} (a list where none is allowed)`);
        return;
      }
      value.forEach((v, n) => walk(element, v, `${path}[${n}]`, out));
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      let child: ts.Type | undefined;
      for (const m of members) {
        const prop = checker.getPropertyOfType(m, key);
        child = prop ? checker.getTypeOfSymbol(prop) : checker.getIndexTypeOfType(m, ts.IndexKind.String);
        if (child) break;
      }
      const at = path === '' ? key : `${path}.${key}`;
      if (child) walk(child, v, at, out);
      else out.push(at);
    }
  };

  return (obj) => {
    const type = types.get(`${obj.apiVersion}/${obj.kind}`);
    if (!type) throw new Error(`unknownFieldChecker was not built for ${obj.apiVersion} ${obj.kind}`);
    const out: string[] = [];
    walk(type, obj, '', out);
    return out;
  };
}

/** Every container of a pod spec, init containers first, tagged with the list it came from. */
export function podContainers(podSpec: any): Array<{ list: 'initContainers' | 'containers'; c: any }> {
  return [
    ...(podSpec.initContainers ?? []).map((c: any) => ({ list: 'initContainers' as const, c })),
    ...(podSpec.containers ?? []).map((c: any) => ({ list: 'containers' as const, c })),
  ];
}

/**
 * The files a container sees from ConfigMap and Secret volumes: absolute path -> where it
 * comes from. Covers `configMap`, `secret` and `projected` volumes (with or without `items`).
 * Without `items` every key of the referenced object becomes a file, so `objects` is consulted.
 */
export function mountedFiles(
  podSpec: any,
  container: any,
  objects: K8sObject[],
): Map<string, { kind: 'ConfigMap' | 'Secret'; name: string; key: string }> {
  const files = new Map<string, { kind: 'ConfigMap' | 'Secret'; name: string; key: string }>();
  const keysOf = (kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    return o ? Object.keys({ ...(o.data ?? {}), ...(o.stringData ?? {}) }) : [];
  };
  const add = (
    dir: string,
    kind: 'ConfigMap' | 'Secret',
    name: string,
    items: Array<{ key: string; path: string }> | undefined,
  ) => {
    const list = items ?? keysOf(kind, name).map((key) => ({ key, path: key }));
    for (const it of list) files.set(`${dir.replace(/\/$/, '')}/${it.path}`, { kind, name, key: it.key });
  };
  for (const m of container.volumeMounts ?? []) {
    const v = (podSpec.volumes ?? []).find((x: any) => x.name === m.name);
    if (!v) continue;
    if (v.configMap) add(m.mountPath, 'ConfigMap', v.configMap.name, v.configMap.items);
    if (v.secret) add(m.mountPath, 'Secret', v.secret.secretName, v.secret.items);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) add(m.mountPath, 'ConfigMap', s.configMap.name, s.configMap.items);
      if (s.secret) add(m.mountPath, 'Secret', s.secret.name, s.secret.items);
    }
  }
  return files;
}
