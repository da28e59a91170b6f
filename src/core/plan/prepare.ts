import type { EnvironmentConfig } from '../config/config.ts';
import { OWNER_LABEL } from '../constants.ts';
import { APPLYSET_PART_OF_LABEL, applySetId } from '../inventory/inventory.ts';
import type { Manifest } from '../yaml/manifest.ts';
import { formatLocation } from '../errors.ts';
import {
  describeRef,
  objectKey,
  refOf,
  type KubeObject,
  type ObjectRef,
  type ResourceInfo,
} from '../objects.ts';
import type { KubeApi } from '../ports.ts';
import { crdScopes, scopeOf, type Scope } from '../validate/kinds.ts';

export interface DesiredObject {
  readonly object: KubeObject;
  /** What Slipway changed on the rendered object that a reader of the plan should know. */
  readonly notes: readonly string[];
}

export interface PreparedManifest extends DesiredObject {
  readonly manifest: Manifest;
  /**
   * Set when an earlier manifest is the same object once namespaces are settled (two
   * cluster-scoped custom resources that kustomize put in different namespaces): this one is an
   * error rather than a second, silent apply of one object.
   */
  readonly duplicate?: string;
}

/** How the cluster serves the rendered kinds, and each manifest's scope. */
export interface ResolvedKinds {
  /** By `apiVersion/kind`; undefined for a kind the cluster does not serve. */
  readonly kinds: ReadonlyMap<string, ResourceInfo | undefined>;
  /** CRDs in the render, by `group/kind`. */
  readonly renderedCrds: ReadonlyMap<string, Scope>;
  readonly scope: (manifest: Manifest) => Scope;
}

/**
 * Resolves every rendered kind once; a kind the cluster lacks takes its scope from the built-ins or
 * from a CRD in this same render.
 */
export async function resolveKinds(manifests: readonly Manifest[], kube: KubeApi): Promise<ResolvedKinds> {
  const renderedCrds = crdScopes(manifests.map((m) => m.object));
  const kinds = new Map<string, ResourceInfo | undefined>();
  for (const { object } of manifests) {
    const key = `${object.apiVersion}/${object.kind}`;
    if (!kinds.has(key)) kinds.set(key, await kube.resolve(object.apiVersion, object.kind));
  }
  const scope = ({ object }: Manifest): Scope => {
    const resource = kinds.get(`${object.apiVersion}/${object.kind}`);
    if (resource) return resource.namespaced ? 'namespaced' : 'cluster';
    return scopeOf(object.apiVersion, object.kind, renderedCrds);
  };
  return { kinds, renderedCrds, scope };
}

/** Every manifest's desired object, in order, with duplicates named. */
export function desiredObjects(
  manifests: readonly Manifest[],
  env: EnvironmentConfig,
  scope: (manifest: Manifest) => Scope,
): PreparedManifest[] {
  const first = new Map<string, Manifest>();
  return manifests.map((manifest) => {
    const desired = desiredObject(manifest, env, scope(manifest));
    const key = objectKey(refOf(desired.object));
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, manifest);
      return { manifest, ...desired };
    }
    const duplicate = `${describeRef(refOf(desired.object))} is defined twice once its namespace is settled: here and at ${formatLocation(earlier.source)}; keep one`;
    return { manifest, ...desired, duplicate };
  });
}

/**
 * The object Slipway will send for a manifest: the rendered object with a namespace when its kind
 * is namespaced and it names none, without one when its kind is cluster-scoped (kustomize's
 * `namespace:` sets one on every kind it does not know; kubectl and the API server ignore it),
 * and with the labels that mark it as this environment's.
 */
export function desiredObject(manifest: Manifest, env: EnvironmentConfig, scope: Scope): DesiredObject {
  const object = manifest.object;
  const metadata = { ...object.metadata };
  const notes: string[] = [];
  if (scope === 'namespaced' && !metadata.namespace)
    metadata.namespace = manifest.defaultNamespace ?? env.namespace ?? 'default';
  if (scope === 'cluster' && metadata.namespace !== undefined) {
    notes.push(
      `${object.kind} is cluster-scoped: its namespace "${metadata.namespace}" is ignored, as kubectl does`,
    );
    delete metadata.namespace;
  }
  metadata.labels = {
    ...metadata.labels,
    [OWNER_LABEL]: env.name,
    [APPLYSET_PART_OF_LABEL]: applySetId(env.name, env.stateNamespace),
  };
  return { object: { ...object, metadata }, notes };
}

/**
 * Inventory entries keyed as objects are now: cluster-scoped kinds without the namespace an older
 * Slipway recorded for them (so the entry matches the rendered object instead of becoming a
 * deletion of it). Entries whose kind is not served are left as they are.
 */
export async function scopedEntries(
  entries: readonly ObjectRef[],
  kube: Pick<KubeApi, 'resolve'>,
): Promise<ObjectRef[]> {
  const seen = new Set<string>();
  const out: ObjectRef[] = [];
  for (const entry of entries) {
    const scoped =
      entry.namespace === undefined
        ? entry
        : scopedEntry(entry, await kube.resolve(entry.apiVersion, entry.kind));
    if (seen.has(objectKey(scoped))) continue;
    seen.add(objectKey(scoped));
    out.push(scoped);
  }
  return out;
}

/**
 * An inventory entry as the object is now identified: without a namespace when the kind is
 * cluster-scoped. Older inventories recorded cluster-scoped custom resources with the namespace
 * kustomize gave them; keyed that way they would never match the rendered object again.
 */
export function scopedEntry(entry: ObjectRef, resource: ResourceInfo | undefined): ObjectRef {
  if (!resource || resource.namespaced || entry.namespace === undefined) return entry;
  const { namespace: _namespace, ...rest } = entry;
  return rest;
}
