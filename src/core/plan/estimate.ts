import { adoptionOf, isAdoptedEntry, LAST_APPLIED_ANNOTATION } from '../ownership/adopt.ts';
import { canonicalJson } from '../canonical.ts';
import { FIELD_MANAGER_NAME } from '../constants.ts';
import {
  disownedPaths,
  memberPaths,
  unionFields,
  withoutPaths,
  valueAt,
  type FieldPath,
} from '../ownership/fieldset.ts';
import { isPlainObject, type KubeObject, type ManagedFieldsEntry } from '../objects.ts';
import { asStoredByServer, withNamespaceLabel } from './stored-form.ts';

/**
 * What a server-side apply of `rendered` by Slipway would leave, estimated from the live object
 * alone, for a plan whose identity may not send the dry-run (a read-only plan). No request: no
 * defaulting, no admission webhooks, no validation, no conversion; the server's result of the real
 * apply can differ by exactly those (a defaulted `protocol: TCP` or `clusterIP`, a mutating
 * webhook's sidecar). What it does do, the way the apply does it:
 * - a create is the rendered object itself;
 * - an update merges the rendered fields over live: maps key by key, lists that the live object's
 *   managedFields record by key (`k:{"name":…}`) item by item, sets (`v:`) as a union, any other
 *   list replaced whole (atomic, as for a CRD list without `x-kubernetes-list-type`);
 * - fields Slipway's Apply entry owns on live (after the kubectl adoption, see adopt.ts) that the
 *   rendered object no longer sets are removed unless another manager still holds them.
 * And what the server always does before it stores an object (stored-form.ts: Secret data,
 * quantities, a Namespace's name label), so that an unchanged object reads unchanged.
 */
export function estimateApply(rendered: KubeObject, live: KubeObject | undefined): KubeObject {
  return withNamespaceLabel(merged(asStoredByServer(rendered), live));
}

function merged(applied: KubeObject, live: KubeObject | undefined): KubeObject {
  if (!live) return structuredClone(applied);
  const entries = adoptionOf(live)?.managedFields ?? live.metadata.managedFields ?? [];
  const shapes = listShapes(entries);
  const result = mergeValue(live, applied, '', shapes) as KubeObject;
  const mine = entries.find(isMine);
  if (!mine || mine.apiVersion !== applied.apiVersion) return result;
  const removable = wasApplied(live);
  const dropped = memberPaths(mine.fieldsV1).filter((path) => !present(applied, path) && removable(path));
  const holders = entries.filter((entry) => !isMine(entry)).map((entry) => entry.fieldsV1);
  const removed = disownedPaths(dropped, holders).filter(notKeyField);
  return withoutEmptied(withoutPaths(result, removed), removed);
}

/**
 * Whether a field Slipway owns (after the adoption) was applied by someone, so the apply removes
 * it for good: an applied set (Slipway's, `kubectl apply --server-side`'s) holds only what was
 * applied, but client-side apply's Update entry also owns the defaults the server filled in at
 * creation. Of those, only what its last-applied annotation lists was applied; the server would
 * default the others again (csaupgrade's caveat), so they are not shown as removed.
 */
function wasApplied(live: KubeObject): (path: FieldPath) => boolean {
  const entries = live.metadata.managedFields ?? [];
  const appliedSets = entries.filter((e) => e.operation === 'Apply' && (isMine(e) || isAdoptedEntry(e)));
  const paths = new Set(appliedSets.flatMap((e) => memberPaths(e.fieldsV1)).map((p) => JSON.stringify(p)));
  const lastApplied = parseJson(live.metadata.annotations?.[LAST_APPLIED_ANNOTATION]);
  return (path) =>
    paths.has(JSON.stringify(path)) || (lastApplied !== undefined && present(lastApplied, path));
}

/** A map or list the removal emptied goes too, as the server leaves no empty `env: []` behind. */
function withoutEmptied(object: KubeObject, removed: readonly FieldPath[]): KubeObject {
  let result = object;
  for (const path of removed) {
    for (let length = path.length - 1; length > 0; length--) {
      const parent = path.slice(0, length);
      const node = valueAt(result, parent);
      const empty = Array.isArray(node)
        ? node.length === 0
        : isPlainObject(node) && Object.keys(node).length === 0;
      if (!empty) break;
      result = withoutPaths(result, [parent]);
    }
  }
  return result;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A list item's key field goes only with the item: another owner may keep the item itself. */
function notKeyField(path: FieldPath): boolean {
  const item = path.at(-2);
  const field = path.at(-1);
  if (!item?.startsWith('k:') || !field?.startsWith('f:')) return true;
  return !(field.slice(2) in (parseKey(item) ?? {}));
}

function isMine(entry: ManagedFieldsEntry): boolean {
  return entry.manager === FIELD_MANAGER_NAME && entry.operation === 'Apply' && !entry.subresource;
}

/**
 * Paths of field names (list items as `[]`) joined by a character no field name holds: label keys
 * and quota resource names (`requests.cpu`, `example.com/gpu`) have dots and slashes.
 */
const SEP = '\u0001';

/** How a list merges: by these key fields, as a set of values, or (absent) replaced whole. */
type ListShape = { readonly keys: readonly string[] } | 'set';

/**
 * Lists whose kind is not in managedFields yet (a list no manager has set) merge as the Kubernetes
 * types declare them (`+listType=map`); elsewhere atomic. Only the lists of a pod template that
 * Git commonly sets: the rest is learnt from live.
 */
const KNOWN_LISTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['containers', ['name']],
  ['initContainers', ['name']],
  ['ephemeralContainers', ['name']],
  ['env', ['name']],
  ['volumes', ['name']],
  ['volumeMounts', ['mountPath']],
]);

/**
 * List shapes by path of field names (`.spec.template.spec.containers[].env`), learnt from every
 * managedFields entry: a list element recorded as `k:{…}` names the list's keys, `v:` makes a set.
 */
function listShapes(entries: readonly ManagedFieldsEntry[]): Map<string, ListShape> {
  const shapes = new Map<string, ListShape>();
  let union: Record<string, unknown> = {};
  for (const entry of entries) union = unionFields(union, entry.fieldsV1);
  const walk = (node: unknown, shape: string): void => {
    if (!isPlainObject(node)) return;
    for (const [key, child] of Object.entries(node)) {
      if (key.startsWith('f:')) walk(child, `${shape}${SEP}${key.slice(2)}`);
      else if (key.startsWith('k:')) {
        const fields = parseKey(key);
        if (fields) shapes.set(shape, { keys: Object.keys(fields) });
        walk(child, `${shape}[]`);
      } else if (key.startsWith('v:')) shapes.set(shape, 'set');
    }
  };
  walk(union, '');
  return shapes;
}

function shapeOf(shapes: ReadonlyMap<string, ListShape>, shape: string): ListShape | undefined {
  const learnt = shapes.get(shape);
  if (learnt) return learnt;
  const known = KNOWN_LISTS.get(shape.slice(shape.lastIndexOf(SEP) + 1));
  return known ? { keys: known } : undefined;
}

function mergeValue(
  live: unknown,
  applied: unknown,
  shape: string,
  shapes: ReadonlyMap<string, ListShape>,
): unknown {
  if (isPlainObject(applied) && isPlainObject(live)) {
    const out: Record<string, unknown> = { ...live };
    for (const [key, value] of Object.entries(applied))
      out[key] = mergeValue(live[key], value, `${shape}${SEP}${key}`, shapes);
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const list = shapeOf(shapes, shape);
    const before: readonly unknown[] = live;
    const wanted: readonly unknown[] = applied;
    if (list === 'set') {
      const seen = new Set(before.map((item) => canonicalJson(item)));
      return [...before, ...wanted.filter((item) => !seen.has(canonicalJson(item)))];
    }
    if (list) {
      const out: unknown[] = [...before];
      for (const item of wanted) {
        const at = out.findIndex((candidate) => sameKey(candidate, item, list.keys));
        if (at === -1) out.push(structuredClone(item));
        else out[at] = mergeValue(out[at], item, `${shape}[]`, shapes);
      }
      return out;
    }
  }
  return structuredClone(applied);
}

/**
 * Whether a list item is the one `wanted` names by its keys. A key field `wanted` leaves out
 * matches anything: the server defaults it (a port's `protocol`) before it keys the item.
 */
function sameKey(item: unknown, wanted: unknown, keys: readonly string[]): boolean {
  if (!isPlainObject(item) || !isPlainObject(wanted)) return false;
  const given = keys.filter((key) => wanted[key] !== undefined);
  return given.length > 0 && given.every((key) => canonicalJson(item[key]) === canonicalJson(wanted[key]));
}

function parseKey(key: string): Record<string, unknown> | undefined {
  try {
    const fields = JSON.parse(key.slice(2)) as unknown;
    return isPlainObject(fields) ? fields : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the applied object sets a managedFields path. A list item matches leniently: a key field
 * the applied item leaves out matches anything, as the server defaults it before keying the item.
 */
function present(applied: unknown, path: FieldPath): boolean {
  return valueAt(applied, path, (item, fields) => sameKey(fields, item, Object.keys(fields))) !== undefined;
}
