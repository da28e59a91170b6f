/**
 * One object, two environments: when two environments applied to the same cluster render the same
 * object (group, kind, namespace, name), the second apply silently takes it over from the first
 * (field ownership, `slipway.dev/environment`, inventories that each prune it). The foreign-owner
 * check sees this only once the object is live; here it is caught before either apply, from what
 * the environments render, whenever one job plans or applies several of them.
 */
import { serverKey } from '../apply/cluster-pin.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import type { Manifest } from '../yaml/manifest.ts';
import { objectKey, refOf, type ObjectRef } from '../objects.ts';
import type { Plan, PlanSummary } from '../plan/plan.ts';
import type { KubeApi } from '../ports.ts';
import { desiredObjects, resolveKinds } from '../plan/prepare.ts';

/** What one environment renders, and the cluster it goes to. */
export interface RenderedKeys {
  readonly environment: string;
  /** The API server URL the environment's connection points at. */
  readonly server: string;
  readonly objects: readonly ObjectRef[];
}

/** An object an environment renders that other environments on its cluster render too. */
export interface SharedObject {
  readonly ref: ObjectRef;
  /** The other environments, sorted. */
  readonly others: readonly string[];
}

/**
 * For each environment, the objects it shares with others on the same cluster, by object key.
 * Environments with nothing shared are absent. Pure.
 */
export function sharedObjects(rendered: readonly RenderedKeys[]): Map<string, Map<string, SharedObject>> {
  const owners = new Map<string, Set<string>>();
  const keyOf = (server: string, ref: ObjectRef): string => `${serverKey(server)} ${objectKey(ref)}`;
  for (const { environment, server, objects } of rendered)
    for (const ref of objects)
      owners.set(keyOf(server, ref), (owners.get(keyOf(server, ref)) ?? new Set()).add(environment));
  const shared = new Map<string, Map<string, SharedObject>>();
  for (const { environment, server, objects } of rendered)
    for (const ref of objects) {
      const all = owners.get(keyOf(server, ref));
      if (!all || all.size < 2) continue;
      const mine = shared.get(environment) ?? new Map<string, SharedObject>();
      mine.set(objectKey(ref), { ref, others: [...all].filter((e) => e !== environment).sort() });
      shared.set(environment, mine);
    }
  return shared;
}

/** What is wrong with an object other environments render too (the plan row names the object). */
export function sharedObjectError(others: readonly string[]): string {
  const named = `environment${others.length === 1 ? '' : 's'} ${others.join(', ')}`;
  return `also rendered by ${named} on the same cluster: one object can have only one owner; remove it from one of them`;
}

/** The plan with each object shared with another environment turned into an error row. Pure. */
export function withSharedObjectErrors(plan: Plan, shared: ReadonlyMap<string, SharedObject>): Plan {
  if (shared.size === 0) return plan;
  const objects = plan.objects.map((row) => {
    const found =
      row.action === 'delete' || row.action === 'orphan' ? undefined : shared.get(objectKey(row.ref));
    if (!found) return row;
    const note = [sharedObjectError(found.others), row.action === 'error' ? row.note : undefined]
      .filter(Boolean)
      .join('; ');
    const { adoptOnly: _adoptOnly, ...rest } = row;
    return { ...rest, action: 'error' as const, diff: '', desired: undefined, note };
  });
  const summary: PlanSummary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 };
  for (const row of objects) summary[row.action]++;
  const adopt = objects.filter((row) => row.adoptOnly).length;
  if (adopt > 0) summary.adopt = adopt;
  return { ...plan, objects, summary };
}

/**
 * The objects an environment's render becomes once namespaces are settled, as the plan keys them:
 * a kind's scope from the cluster, else from built-ins and CRDs in the render.
 */
export async function renderedRefs(
  env: EnvironmentConfig,
  manifests: readonly Manifest[],
  kube: KubeApi,
): Promise<ObjectRef[]> {
  const { scope } = await resolveKinds(manifests, kube);
  return desiredObjects(manifests, env, scope).map((d) => refOf(d.object));
}
