import { mapLimit } from '../concurrency.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { PROTECTED_KINDS } from '../config/config.ts';
import { HELM_KEEP_ANNOTATION, OWNER_LABEL, PRUNE_ANNOTATION } from '../constants.ts';
import { printableSides, secretSummary, unifiedDiff } from './diff.ts';
import { describeError, UserError } from '../errors.ts';
import { isSecret } from './normalize.ts';
import { describeRef, groupOf, type KubeObject, type ObjectRef } from '../objects.ts';
import type { PlannedObject } from './plan.ts';
import type { KubeApi, Logger } from '../ports.ts';

/**
 * Delete rows for the inventory entries Git no longer renders. An entry is forgotten only when
 * its object is gone; one that cannot be read (RBAC, a server error) or whose kind the cluster no
 * longer serves stays in the inventory (`keepInInventory`), as Flux keeps failed deletions.
 */
export async function planDeletions(
  stale: readonly ObjectRef[],
  env: EnvironmentConfig,
  kube: KubeApi,
  logger: Logger,
  concurrency: number,
): Promise<PlannedObject[]> {
  const rows = await mapLimit(stale, concurrency, (entry) => planDeletion(entry, env, kube));
  for (const row of rows)
    if (row?.keepInInventory && row.action !== 'error')
      logger.warn(`${env.name}: ${describeRef(row.ref)} ${row.note ?? ''}`);
  return rows.filter((row): row is PlannedObject => row !== undefined);
}

/** A delete row for one stale entry; undefined when its object is already gone. */
async function planDeletion(
  entry: ObjectRef,
  env: EnvironmentConfig,
  kube: KubeApi,
): Promise<PlannedObject | undefined> {
  const base = { source: undefined, desired: undefined, taken: [], deferred: false, diff: '' };
  let served: ObjectRef;
  let live: KubeObject | undefined;
  try {
    const resolved = await servedRef(entry, kube);
    if (!resolved)
      return {
        ...base,
        ref: entry,
        live: undefined,
        action: 'orphan',
        note: `kept in the inventory: the cluster no longer serves ${entry.kind} in any version of ${groupOf(entry.apiVersion) || 'the core group'}, so it can be neither read nor pruned; it is pruned once the kind is served again (or delete it by hand)`,
        keepInInventory: true,
      };
    served = resolved;
    live = await kube.get(served);
  } catch (error) {
    if (!(error instanceof UserError) || error.kind === 'connection') throw error;
    return {
      ...base,
      ref: entry,
      live: undefined,
      action: 'error',
      note: `cannot read ${describeRef(entry)} to plan its deletion (kept in the inventory): ${describeError(error)}`,
      keepInInventory: true,
    };
  }
  if (!live || live.metadata.deletionTimestamp) return undefined;
  // The row names the served version: the delete uses it, and the inventory then records it.
  const moved =
    served.apiVersion === entry.apiVersion
      ? undefined
      : `recorded as ${entry.apiVersion}, which the cluster no longer serves: read as ${served.apiVersion}`;
  const keep = pruneExemption(live, env);
  if (keep) return { ...base, ref: served, live, action: 'orphan', note: joinNotes(keep, moved) };
  const sides = printableSides(live, undefined);
  const diff = unifiedDiff(sides.before, '', label(served));
  return {
    ...base,
    ref: served,
    live,
    action: 'delete',
    diff: isSecret(live) ? `# ${secretSummary(live, undefined)}\n${diff}` : diff,
    note: moved,
  };
}

/**
 * The entry at a version the cluster serves: its own, else the server's preferred version of the
 * same group and kind (an `autoscaling/v2beta2` entry on a cluster that serves only v2, a custom
 * resource whose CRD dropped the version it was applied with). Undefined when no version is.
 */
async function servedRef(entry: ObjectRef, kube: KubeApi): Promise<ObjectRef | undefined> {
  if (await kube.resolve(entry.apiVersion, entry.kind)) return entry;
  const resource = await kube.resolveGroupKind(groupOf(entry.apiVersion), entry.kind);
  if (!resource) return undefined;
  return {
    ...entry,
    apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version,
  };
}

function joinNotes(first: string, second: string | undefined): string {
  return second ? `${first}; ${second}` : first;
}

function label(ref: ObjectRef): string {
  return `${ref.namespace ? `${ref.namespace}/` : ''}${ref.kind.toLowerCase()}/${ref.name}`;
}

/** Why a stale object will not be deleted, or undefined when prune may delete it. */
export function pruneExemption(live: KubeObject, env: EnvironmentConfig): string | undefined {
  if (live.metadata.labels?.[OWNER_LABEL] !== env.name)
    return `kept: no longer labelled ${OWNER_LABEL}=${env.name} (someone else owns it now)`;
  if (live.metadata.annotations?.[PRUNE_ANNOTATION] === 'disabled')
    return `kept: annotated ${PRUNE_ANNOTATION}: disabled`;
  if (live.metadata.annotations?.[HELM_KEEP_ANNOTATION] === 'keep')
    return `kept: annotated ${HELM_KEEP_ANNOTATION}: keep`;
  if ((PROTECTED_KINDS as readonly string[]).includes(live.kind) && !env.allowDelete.includes(live.kind)) {
    return `orphaned (protected): deleting a ${live.kind} deletes ${live.kind === 'PersistentVolumeClaim' ? 'its data' : 'everything in it'}; list ${live.kind} under allow-delete to let prune remove it`;
  }
  return undefined;
}
