import { adoptionOf } from './adopt.ts';
import { canonicalJson } from './canonical.ts';
import { FIELD_MANAGER_NAME } from './constants.ts';
import { disownedPaths, memberPaths, unionFields, withoutPaths, type FieldPath } from './fieldset.ts';
import { isPlainObject, type KubeObject, type ManagedFieldsEntry } from './objects.ts';

/**
 * What a server-side apply of `rendered` by Slipway would leave, estimated from the live object
 * alone, for a plan whose identity may not send the dry-run (a read-only plan). No request: no
 * defaulting, no admission webhooks, no validation, no conversion; the server's result of the real
 * apply can differ by exactly those (a defaulted `protocol: TCP`, a quantity written `1000m` that the
 * server stores as `1`, a mutating webhook's sidecar). What it does do, the way the apply does it:
 * - a create is the rendered object itself;
 * - an update merges the rendered fields over live: maps key by key, lists that the live object's
 *   managedFields record by key (`k:{"name":…}`) item by item, sets (`v:`) as a union, any other
 *   list replaced whole (atomic, as for a CRD list without `x-kubernetes-list-type`);
 * - fields Slipway's Apply entry owns on live (after the kubectl adoption, see adopt.ts) that the
 *   rendered object no longer sets are removed unless another manager still holds them.
 */
export function estimateApply(rendered: KubeObject, live: KubeObject | undefined): KubeObject {
  const applied = foldStringData(rendered);
  if (!live) return structuredClone(applied);
  const entries = adoptionOf(live)?.managedFields ?? live.metadata.managedFields ?? [];
  const shapes = listShapes(entries);
  const merged = mergeValue(live, applied, '', shapes) as KubeObject;
  const mine = entries.find(isMine);
  if (!mine || mine.apiVersion !== rendered.apiVersion) return merged;
  const dropped = memberPaths(mine.fieldsV1).filter((path) => !present(applied, path));
  const holders = entries.filter((entry) => !isMine(entry)).map((entry) => entry.fieldsV1);
  return withoutPaths(merged, disownedPaths(dropped, holders).filter(notKeyField));
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
      if (key.startsWith('f:')) walk(child, `${shape}.${key.slice(2)}`);
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
  const known = KNOWN_LISTS.get(shape.slice(shape.lastIndexOf('.') + 1));
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
      out[key] = mergeValue(live[key], value, `${shape}.${key}`, shapes);
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

/** Whether the applied object sets a managedFields path (a list item by its keys, leniently). */
function present(applied: unknown, path: FieldPath): boolean {
  let current = applied;
  for (const key of path) {
    const rest = key.slice(2);
    if (key.startsWith('f:')) {
      if (!isPlainObject(current) || !Object.hasOwn(current, rest)) return false;
      current = current[rest];
      continue;
    }
    if (!Array.isArray(current)) return false;
    let at = -1;
    if (key.startsWith('k:')) {
      const fields = parseKey(key);
      if (fields) at = current.findIndex((item) => sameKey(fields, item, Object.keys(fields)));
    } else if (key.startsWith('v:')) {
      const value = canonicalJson(safeParse(rest));
      at = current.findIndex((item) => canonicalJson(item) === value);
    } else if (key.startsWith('i:')) at = Number(rest) < current.length ? Number(rest) : -1;
    if (at === -1) return false;
    current = current[at];
  }
  return true;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A v1 Secret's `stringData` as the server stores it: base64 in `data` (stringData wins). */
function foldStringData(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || object.apiVersion !== 'v1' || !isPlainObject(object.stringData))
    return object;
  const { stringData, ...rest } = object;
  const data: Record<string, unknown> = isPlainObject(object.data) ? { ...object.data } : {};
  for (const [key, value] of Object.entries(stringData))
    data[key] = Buffer.from(typeof value === 'string' ? value : String(value), 'utf8').toString('base64');
  return { ...rest, data };
}
