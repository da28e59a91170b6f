import { FIELD_MANAGER_NAME } from '../constants.ts';
import { disownedPaths, memberPaths, unionFields, withoutPaths } from './fieldset.ts';
import { describeError, UserError } from '../errors.ts';
import type { KubeObject, ManagedFieldsEntry, ObjectRef } from '../objects.ts';
import { isPlainObject } from '../objects.ts';
import type { KubeApi } from '../ports.ts';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Managers whose fields Slipway adopts on its first apply of an object, as Flux does: kubectl's
 * client-side apply, the entry the server invents for fields set before managedFields existed, and
 * kubectl's server-side apply (with the manager it uses for the last-applied annotation). Without
 * this, a field those managers set and Git later drops stays on the cluster forever: they still
 * own it (kubernetes/kubernetes#99003).
 */
const KUBECTL_MANAGERS: readonly (readonly [manager: string, operation: string])[] = [
  ['kubectl-client-side-apply', 'Update'],
  ['before-first-apply', 'Update'],
  ['kubectl', 'Apply'],
  ['kubectl-last-applied', 'Apply'],
];

/** One object's adoption: whose fields move to Slipway, and the managedFields that result. */
export interface Adoption {
  /** Manager names adopted, in managedFields order. */
  readonly managers: readonly string[];
  /** Fields (leaf paths) those managers owned. */
  readonly fields: number;
  /** The object's managedFields after the migration (what the JSON patch writes). */
  readonly managedFields: ManagedFieldsEntry[];
}

/**
 * Whether an entry is one Slipway adopts: the kubectl managers above, or, as `kubectl apply
 * --server-side` decides it, any Update manager that owns the last-applied annotation (kubectl's
 * own client-side apply under an older name, `kubectl create --save-config`).
 */
export function isAdoptedEntry(entry: ManagedFieldsEntry): boolean {
  if (entry.subresource) return false;
  if (
    KUBECTL_MANAGERS.some(
      ([manager, operation]) => entry.manager === manager && entry.operation === operation,
    )
  )
    return true;
  if (entry.operation !== 'Update' || entry.manager === FIELD_MANAGER_NAME) return false;
  const metadata = isPlainObject(entry.fieldsV1) ? entry.fieldsV1['f:metadata'] : undefined;
  const annotations = isPlainObject(metadata) ? metadata['f:annotations'] : undefined;
  return isPlainObject(annotations) && `f:${LAST_APPLIED_ANNOTATION}` in annotations;
}

function isMine(entry: ManagedFieldsEntry): boolean {
  return entry.manager === FIELD_MANAGER_NAME && entry.operation === 'Apply' && !entry.subresource;
}

/**
 * The adoption a live object needs, or undefined when no kubectl manager owns any of its fields.
 * The migration is k8s.io/client-go/util/csaupgrade's UpgradeManagedFields, for several managers:
 * Slipway's Apply entry (or, if it has none yet, the most recent adopted entry renamed to it)
 * takes the union of the adopted entries of the same apiVersion, and the adopted entries go.
 */
export function adoptionOf(live: KubeObject | undefined): Adoption | undefined {
  const entries = live?.metadata.managedFields ?? [];
  const adopted = entries.filter(isAdoptedEntry);
  if (adopted.length === 0) return undefined;
  let targetIndex = entries.findIndex(isMine);
  const converted = targetIndex === -1 ? entries.findIndex(isAdoptedEntry) : -1;
  if (targetIndex === -1) targetIndex = converted;
  const target = entries[targetIndex] as ManagedFieldsEntry;
  let fields: Record<string, unknown> = isPlainObject(target.fieldsV1) ? target.fieldsV1 : {};
  for (const [index, entry] of entries.entries()) {
    // Field paths are per apiVersion: entries of another version are dropped, as csaupgrade does.
    if (index !== targetIndex && isAdoptedEntry(entry) && entry.apiVersion === target.apiVersion)
      fields = unionFields(fields, entry.fieldsV1);
  }
  const migrated: ManagedFieldsEntry = {
    ...target,
    manager: FIELD_MANAGER_NAME,
    operation: 'Apply',
    fieldsV1: fields,
  };
  const managedFields = entries.flatMap((entry, index) =>
    index === targetIndex ? [migrated] : isAdoptedEntry(entry) ? [] : [entry],
  );
  return {
    managers: [...new Set(adopted.map((e) => e.manager ?? '(unknown)'))],
    fields: new Set(adopted.flatMap((e) => memberPaths(e.fieldsV1).map((p) => JSON.stringify(p)))).size,
    managedFields,
  };
}

/**
 * The JSON patch that writes an adoption, as kubectl sends it: managedFields replaced, and the
 * resourceVersion "replaced" with the one read, so a concurrent change makes the write fail with
 * 409 Conflict (a `test` op would fail as 422 Invalid, which tells nothing retryable).
 */
export function adoptionPatch(live: KubeObject, adoption: Adoption): unknown[] {
  return [
    { op: 'replace', path: '/metadata/managedFields', value: adoption.managedFields },
    { op: 'replace', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion ?? '' },
  ];
}

/**
 * The object as the apply after the adoption will leave it. A server-side dry-run cannot see the
 * migration (it is written only on apply), so the fields Slipway will own and no longer applies
 * are removed from the dry-run result here, the way the server prunes them; a dry-run update of
 * that object then lets the server default what the removal took (csaupgrade's caveat: adopted
 * defaults are re-defaulted). The plan shows the removal before merge; the apply itself is the
 * server's. Falls back to the plain dry-run result if the server refuses the preview.
 */
export async function previewAdoption(
  kube: KubeApi,
  live: KubeObject,
  result: KubeObject,
): Promise<{ object: KubeObject; problem?: string }> {
  // What Slipway will own after the migration (adopted entries of another apiVersion are dropped,
  // not merged, so their fields stay unowned and the apply leaves them alone).
  const mine = adoptionOf(live)?.managedFields.find(isMine);
  const candidates = memberPaths(mine?.fieldsV1);
  const owners = (result.metadata.managedFields ?? [])
    .filter((entry) => !isAdoptedEntry(entry))
    .map((entry) => secretDataOwned(result, entry.fieldsV1));
  const pruned = withoutPaths(result, disownedPaths(candidates, owners));
  delete pruned.metadata.managedFields;
  try {
    return { object: await kube.replace(pruned, { dryRun: true }) };
  } catch (error) {
    if (!(error instanceof UserError) || error.kind === 'connection') throw error;
    return {
      object: result,
      problem: `the preview of what the adoption removes failed (${describeError(error)})`,
    };
  }
}

/**
 * A Secret's `stringData` is folded into `data` after the apply's prune, so whoever applies
 * `stringData.x` keeps `data.x`: without this the preview would show applied keys as removed.
 */
function secretDataOwned(object: KubeObject, fields: unknown): unknown {
  if (object.kind !== 'Secret' || object.apiVersion !== 'v1' || !isPlainObject(fields)) return fields;
  const stringData = fields['f:stringData'];
  return isPlainObject(stringData) ? unionFields(fields, { 'f:data': stringData }) : fields;
}

/**
 * Writes the adoption before Slipway's apply, so that very apply already removes what Git dropped.
 * A 409 (the object changed since it was read) re-reads and retries, 5 tries as kubectl makes.
 * Returns whether anything was written.
 */
export async function writeAdoption(kube: KubeApi, ref: ObjectRef, live: KubeObject): Promise<boolean> {
  let current: KubeObject | undefined = live;
  for (let attempt = 1; ; attempt++) {
    const adoption = adoptionOf(current);
    if (!current || !adoption) return false;
    try {
      await kube.jsonPatch(ref, adoptionPatch(current, adoption));
      return true;
    } catch (error) {
      if (!(error instanceof UserError && error.kind === 'conflict') || attempt >= 5) throw error;
      current = await kube.get(ref);
    }
  }
}

export function describeAdoption(adoption: Adoption): string {
  return `adopts ${adoption.fields} field${adoption.fields === 1 ? '' : 's'} from ${adoption.managers.join(', ')}: on apply their ownership moves to Slipway (as kubectl's csaupgrade does), so what Git no longer sets is removed`;
}
