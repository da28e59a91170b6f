import type { Finding, Manifest } from '../yaml/manifest.ts';
import { crdScopes, scopeOf, type Scope } from './kinds.ts';
import { canonicalJson } from '../canonical.ts';
import { describeRef, groupOf, isPlainObject, objectKey, refOf, type KubeObject } from '../objects.ts';

/** The API server refuses objects whose stored form exceeds this (etcd's request limit). */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kinds whose names must be DNS labels (63 chars, no dots). */
const LABEL_NAMED = new Set(['/Namespace', '/Service']);
/** RBAC names are path segments: anything but '/', '%' and '..'. */
const PATH_SEGMENT_NAMED = new Set([
  'rbac.authorization.k8s.io/Role',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/RoleBinding',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
]);

/**
 * Offline checks of rendered objects: names, scope, duplicates, size. Pure: returns findings and
 * never throws for a user's mistake.
 */
export function validateManifests(manifests: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const crds = crdScopes(manifests.map((m) => m.object));
  const seen = new Map<string, Manifest>();
  for (const manifest of manifests) {
    const { object, source } = manifest;
    const at = (key: string): Finding['location'] => ({
      ...source,
      line: manifest.keyLine?.(key) ?? source.line,
    });
    const name = object.metadata.name ?? '';
    const typeKey = `${groupOf(object.apiVersion)}/${object.kind}`;
    const nameProblem = invalidName(typeKey, name);
    if (nameProblem)
      findings.push({
        severity: 'error',
        rule: 'invalid-name',
        location: at('metadata.name'),
        message: nameProblem,
      });
    const namespace = object.metadata.namespace;
    if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
      findings.push({
        severity: 'error',
        rule: 'invalid-namespace',
        location: at('metadata.namespace'),
        message: `namespace "${namespace}" is not a valid name (lowercase letters, digits and '-', at most 63)`,
      });
    }
    const scope: Scope = scopeOf(object.apiVersion, object.kind, crds);
    // kubectl and the API server ignore a namespace on a cluster-scoped object, and kustomize's
    // `namespace:` sets one on every kind it does not know: Slipway drops it too (and says so).
    // Offline only built-in kinds and CRDs in the render are known; the plan uses discovery.
    if (scope === 'cluster' && namespace !== undefined) {
      findings.push({
        severity: 'warning',
        rule: 'namespace-on-cluster-scoped',
        location: at('metadata.namespace'),
        message: `${object.kind} is cluster-scoped: its metadata.namespace "${namespace}" is ignored (as kubectl does) and the object is applied without one`,
      });
    }
    const ref = refOf(object);
    const key = objectKey(scope === 'cluster' ? { ...ref, namespace: undefined } : ref);
    const earlier = seen.get(key);
    if (earlier) {
      findings.push({
        severity: 'error',
        rule: 'duplicate-object',
        location: source,
        message: `${describeRef(refOf(object))} is defined twice: here and at ${earlier.source.file}:${earlier.source.line}; keep one`,
      });
    } else {
      seen.set(key, manifest);
    }
    const size = Buffer.byteLength(JSON.stringify(object));
    if (size > MAX_OBJECT_BYTES) {
      findings.push({
        severity: 'error',
        rule: 'object-too-large',
        location: source,
        message: `${describeRef(refOf(object))} is ${(size / 1024 / 1024).toFixed(2)} MiB; the API server refuses objects over 1.5 MiB (move large data to a volume or split it)`,
      });
    }
    if (object.kind === 'Secret' && object.apiVersion === 'v1')
      findings.push(...secretProblems(object, source));
  }
  return findings;
}

function invalidName(typeKey: string, name: string): string | undefined {
  if (PATH_SEGMENT_NAMED.has(typeKey)) {
    return name === '.' || name === '..' || /[/%]/.test(name)
      ? `name "${name}" may not be "." or ".." or contain '/' or '%'`
      : undefined;
  }
  if (LABEL_NAMED.has(typeKey)) {
    return DNS_LABEL.test(name) && name.length <= 63
      ? undefined
      : `name "${name}" must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`;
  }
  return DNS_SUBDOMAIN.test(name) && name.length <= 253
    ? undefined
    : `name "${name}" must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`;
}

function secretProblems(object: KubeObject, source: Finding['location']): Finding[] {
  const data = object.data;
  if (!isPlainObject(data)) return [];
  const findings: Finding[] = [];
  for (const [key, value] of Object.entries(data)) {
    // Never echo the value: only the key is safe to name.
    // As the API server decodes it: standard alphabet, padded, line breaks ignored, nothing else.
    if (
      typeof value !== 'string' ||
      !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value.replace(/[\r\n]/g, ''))
    ) {
      findings.push({
        severity: 'error',
        rule: 'secret-data-not-base64',
        location: source,
        message: `Secret ${object.metadata.name ?? ''} data key "${key}" is not base64; put plain text under stringData instead`,
      });
    }
  }
  return findings;
}

/** Changes the API server refuses or that destroy data, compared with the previous revision. */
export function dangerLint(previous: readonly Manifest[], current: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const before = new Map(previous.map((m) => [objectKey(refOf(m.object)), m]));
  const now = new Set<string>();
  for (const manifest of current) {
    const key = objectKey(refOf(manifest.object));
    now.add(key);
    const old = before.get(key);
    if (!old) continue;
    const at = (path: string): Finding['location'] => ({
      ...manifest.source,
      line: manifest.keyLine?.(path) ?? manifest.source.line,
    });
    const label = describeRef(refOf(manifest.object));
    for (const change of immutableChanges(old.object, manifest.object, (path) =>
      changed(old.object, manifest.object, path),
    ))
      findings.push({
        severity: change.severity,
        rule: change.rule,
        location: at(change.path.join('.')),
        message: `${label}: ${change.message}`,
      });
  }
  for (const [key, old] of before) {
    if (now.has(key)) continue;
    const kind = `${groupOf(old.object.apiVersion)}/${old.object.kind}`;
    const label = describeRef(refOf(old.object));
    if (kind === '/PersistentVolumeClaim' || kind === '/Namespace') {
      findings.push({
        severity: 'warning',
        rule: 'removed-data-holder',
        location: { file: old.source.file, line: 0 },
        message: `${label} was removed from Git: deleting it deletes ${kind === '/Namespace' ? 'everything inside it' : 'its volume data'} (it is protected from prune unless allow-delete lists ${old.object.kind})`,
      });
    }
    if (kind === 'apiextensions.k8s.io/CustomResourceDefinition') {
      findings.push({
        severity: 'warning',
        rule: 'removed-crd',
        location: { file: old.source.file, line: 0 },
        message: `${label} was removed from Git: deleting a CRD deletes every object of its kind (protected from prune unless allow-delete lists CustomResourceDefinition)`,
      });
    }
  }
  return findings;
}

/** A change to a field the API server will not change in place (or that changes who can reach it). */
export interface ImmutableChange {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly path: readonly string[];
  readonly message: string;
}

/**
 * The immutable fields `after` changes from `before`; `differs(path)` says whether a field changed
 * (between two revisions: any difference; between live and desired: what Git sets that live lacks).
 * Shared by the danger lint and the plan's risk summary.
 */
export function immutableChanges(
  before: KubeObject,
  after: KubeObject,
  differs: (path: readonly string[]) => boolean,
): ImmutableChange[] {
  const out: ImmutableChange[] = [];
  const kind = `${groupOf(after.apiVersion)}/${after.kind}`;
  if (
    ['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet'].includes(kind) &&
    differs(['spec', 'selector'])
  )
    out.push({
      rule: 'immutable-selector',
      severity: 'error',
      path: ['spec', 'selector'],
      message:
        'spec.selector is immutable; the apply will be refused. Delete and re-create the object deliberately, or keep the old selector',
    });
  if (kind === 'apps/StatefulSet' && differs(['spec', 'volumeClaimTemplates']))
    out.push({
      rule: 'immutable-volume-claim-templates',
      severity: 'error',
      path: ['spec', 'volumeClaimTemplates'],
      message: 'spec.volumeClaimTemplates cannot be changed on a StatefulSet; the apply will be refused',
    });
  if (kind === 'batch/Job' && differs(['spec', 'template']))
    out.push({
      rule: 'immutable-job-template',
      severity: 'error',
      path: ['spec', 'template'],
      message: "a Job's spec.template is immutable; give the changed Job a new name",
    });
  if (kind === '/Service') {
    const ip = (o: KubeObject): unknown => dig(o, ['spec', 'clusterIP']);
    if (ip(before) !== undefined && ip(after) !== undefined && differs(['spec', 'clusterIP']))
      out.push({
        rule: 'immutable-cluster-ip',
        severity: 'error',
        path: ['spec', 'clusterIP'],
        message: `spec.clusterIP is immutable (${String(ip(before))} → ${String(ip(after))}); the apply will be refused`,
      });
    const type = (o: KubeObject): string => {
      const value = dig(o, ['spec', 'type']);
      return typeof value === 'string' ? value : 'ClusterIP';
    };
    if (dig(after, ['spec', 'type']) !== undefined && type(before) !== type(after))
      out.push({
        rule: 'service-type-change',
        severity: 'warning',
        path: ['spec', 'type'],
        message: `spec.type changes from ${type(before)} to ${type(after)}: how clients reach the Service changes (a load balancer or node port appears or goes; to or from ExternalName the cluster IP is released)`,
      });
  }
  return out;
}

function changed(a: unknown, b: unknown, path: readonly string[]): boolean {
  return canonicalJson(dig(a, path)) !== canonicalJson(dig(b, path));
}

function dig(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) current = isPlainObject(current) ? current[segment] : undefined;
  return current;
}
