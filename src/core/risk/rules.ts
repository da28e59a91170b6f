/**
 * The risk rules: pure functions over one planned change (live object, desired object, action),
 * each with a stable id users set to `error` or `ignore` per environment (`risks:` in slipway.yaml).
 */
import { canonicalJson } from '../canonical.ts';
import { groupOf, isPlainObject, type KubeObject } from '../objects.ts';
import { immutableChanges } from '../validate/validate.ts';
import { floatingImages, hostAccess } from './pod.ts';
import { bindingGrowth, grantsEverything, POWERFUL_ROLES, roleGrowth, roleRefName } from './rbac.ts';

export const RISK_RULES = [
  'delete',
  'immutable-field',
  'rbac-grows',
  'scale-to-zero',
  'latest-image',
  'privileged-pod',
  'prune-budget',
] as const;
export type RiskId = (typeof RISK_RULES)[number];
export type RiskLevel = 'error' | 'warning' | 'ignore';

/** One planned change, as the rules see it. */
export interface Change {
  readonly action: 'create' | 'update' | 'unchanged' | 'delete' | 'orphan' | 'error';
  readonly live: KubeObject | undefined;
  readonly desired: KubeObject | undefined;
  /** The server's message on an error row (an immutable field's refusal reads "field is immutable"). */
  readonly note?: string | undefined;
}

/** What a rule found about one object: the text after the object's name. */
export interface RuleHit {
  readonly id: RiskId;
  readonly message: string;
}

/** Kinds whose deletion deletes data or everything inside them: named one by one. */
const DATA_HOLDERS = new Set([
  '/Namespace',
  'apiextensions.k8s.io/CustomResourceDefinition',
  '/PersistentVolumeClaim',
  '/PersistentVolume',
]);

const SCALABLE = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/ReplicaSet']);

function typeOf(object: KubeObject): string {
  return `${groupOf(object.apiVersion)}/${object.kind}`;
}

/** `delete`: a Namespace, CRD, PVC or PV that this plan deletes (the count is plan-wide). */
export function deletedDataHolder(change: Change): RuleHit[] {
  const object = change.live;
  if (change.action !== 'delete' || !object || !DATA_HOLDERS.has(typeOf(object))) return [];
  const what =
    object.kind === 'Namespace'
      ? 'and everything in it'
      : object.kind === 'CustomResourceDefinition'
        ? 'and every object of its kind'
        : 'and its volume data';
  return [{ id: 'delete', message: `is deleted ${what}` }];
}

/** Whether every field `wanted` sets has the same value in `held` (what the server defaults is ignored). */
function contained(wanted: unknown, held: unknown): boolean {
  if (Array.isArray(wanted))
    return (
      Array.isArray(held) && wanted.length === held.length && wanted.every((w, i) => contained(w, held[i]))
    );
  if (isPlainObject(wanted))
    return isPlainObject(held) && Object.entries(wanted).every(([k, v]) => contained(v, held[k]));
  return canonicalJson(wanted) === canonicalJson(held);
}

function at(object: KubeObject, path: readonly string[]): unknown {
  let value: unknown = object;
  for (const key of path) value = isPlainObject(value) ? value[key] : undefined;
  return value;
}

/** `immutable-field`: a selector, Job template, volume claim template, cluster IP or Service type changes. */
export function immutableField(change: Change): RuleHit[] {
  const { live, desired } = change;
  if (!live || !desired || (change.action !== 'update' && change.action !== 'error')) return [];
  const hits = immutableChanges(live, desired, (path) => {
    const wanted = at(desired, path);
    return wanted !== undefined && !contained(wanted, at(live, path));
  })
    // A dry-run that succeeded was not refused: of those only what is allowed (a type change) is
    // left. This also keeps values the server normalises (`cpu: 0.5` is `500m`) from reading as changes.
    .filter((c) => change.action === 'error' || c.severity === 'warning')
    .map((c) => ({ id: 'immutable-field' as const, message: c.message }));
  if (hits.length === 0 && change.action === 'error' && /field is immutable/.test(change.note ?? ''))
    hits.push({ id: 'immutable-field', message: 'changes an immutable field: the server refuses the apply' });
  return hits;
}

/** `rbac-grows`: new verbs, resources or wildcards in a role; new subjects of a binding. */
export function rbacGrows(change: Change): RuleHit[] {
  const { live, desired } = change;
  if (!desired || (change.action !== 'create' && change.action !== 'update')) return [];
  if (groupOf(desired.apiVersion) !== 'rbac.authorization.k8s.io') return [];
  if (desired.kind === 'Role' || desired.kind === 'ClusterRole') {
    const added = roleGrowth(live, desired);
    if (added.length === 0) return [];
    const wildcard = added.some((grant) => grant.includes('*')) ? ' (wildcards)' : '';
    const list =
      added.length > 6 ? `${added.slice(0, 6).join(', ')} and ${added.length - 6} more` : added.join(', ');
    return [{ id: 'rbac-grows', message: `grants${wildcard}: ${list}` }];
  }
  if (desired.kind === 'RoleBinding' || desired.kind === 'ClusterRoleBinding') {
    const subjects = bindingGrowth(live, desired);
    if (subjects.length === 0) return [];
    const role = roleRefName(desired) ?? '?';
    const powerful = POWERFUL_ROLES.has(role)
      ? ` (${role === 'cluster-admin' ? 'full control' : 'broad rights'})`
      : '';
    return [{ id: 'rbac-grows', message: `binds ${subjects.join(', ')} to ${role}${powerful}` }];
  }
  return [];
}

/** A binding's role that the plan itself defines with `*` on `*`: as powerful as cluster-admin. */
export function bindsAllPowerfulRole(desired: KubeObject, roles: ReadonlyMap<string, KubeObject>): boolean {
  const role = roleRefName(desired);
  return role !== undefined && grantsEverything(roles.get(role));
}

/** `scale-to-zero`: a workload that runs pods now and will run none. */
export function scaleToZero(change: Change): RuleHit[] {
  const { live, desired } = change;
  if (change.action !== 'update' || !live || !desired || !SCALABLE.has(typeOf(desired))) return [];
  const current = at(live, ['spec', 'replicas']);
  const before = typeof current === 'number' ? current : 1;
  return at(desired, ['spec', 'replicas']) === 0 && before !== 0
    ? [{ id: 'scale-to-zero', message: `scales to zero (from ${before})` }]
    : [];
}

/** `latest-image`: images new in this change that name no version (untagged or `:latest`). */
export function latestImage(change: Change): RuleHit[] {
  if (change.action !== 'create' && change.action !== 'update') return [];
  const before = new Set(floatingImages(change.live));
  const images = floatingImages(change.desired).filter((image) => !before.has(image));
  return images.length
    ? [{ id: 'latest-image', message: `runs ${images.join(', ')}, not pinned to a version` }]
    : [];
}

/** `privileged-pod`: privileged containers, host namespaces or hostPath volumes this change adds. */
export function privilegedPod(change: Change): RuleHit[] {
  if (change.action !== 'create' && change.action !== 'update') return [];
  const before = new Set(hostAccess(change.live));
  const added = hostAccess(change.desired).filter((what) => !before.has(what));
  return added.length ? [{ id: 'privileged-pod', message: `gets host access: ${added.join(', ')}` }] : [];
}

/** Every per-object rule, in the order their lines are shown. */
export const OBJECT_RULES: readonly ((change: Change) => RuleHit[])[] = [
  deletedDataHolder,
  immutableField,
  rbacGrows,
  scaleToZero,
  latestImage,
  privilegedPod,
];
