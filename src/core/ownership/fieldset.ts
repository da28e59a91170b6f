import { canonicalJson } from '../canonical.ts';
import { isPlainObject, type KubeObject } from '../objects.ts';

/**
 * Field sets as the API server records them in managedFields (FieldsV1): a trie whose keys are
 * path elements (`f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`) and where `.` marks the node
 * itself as a member. A path is a list of those keys.
 */
export type FieldPath = readonly string[];

/** The union of two FieldsV1 tries (a deep merge: every member of either is a member). */
export function unionFields(a: unknown, b: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = isPlainObject(a) ? { ...a } : {};
  if (!isPlainObject(b)) return out;
  for (const [key, value] of Object.entries(b)) out[key] = unionFields(out[key], value);
  return out;
}

/** Every member path of a FieldsV1 trie: leaves, and nodes marked with `.`. */
export function memberPaths(fields: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isPlainObject(fields)) return [];
  const out: FieldPath[] = [];
  const keys = Object.keys(fields);
  if (prefix.length > 0 && (keys.length === 0 || keys.includes('.'))) out.push(prefix);
  for (const key of keys) if (key !== '.') out.push(...memberPaths(fields[key], [...prefix, key]));
  return out;
}

/**
 * What a server-side apply prunes once `candidates` (fields the applier owned before) are no
 * longer applied: every candidate path that no other owner (the new applied set included) holds,
 * itself or below it. The outermost such paths only: removing a node removes what is under it.
 * This mirrors structured-merge-diff's prune (remove the last applied set, add back what any
 * manager owns) closely enough to preview it; the real apply is the server's.
 */
export function disownedPaths(candidates: readonly FieldPath[], owners: readonly unknown[]): FieldPath[] {
  const held = new Set<string>();
  for (const owner of owners)
    for (const path of memberPaths(owner))
      for (let length = 1; length <= path.length; length++) held.add(JSON.stringify(path.slice(0, length)));
  const removed: FieldPath[] = [];
  const sorted = [...candidates].sort((a, b) => a.length - b.length);
  for (const path of sorted) {
    if (held.has(JSON.stringify(path))) continue;
    if (removed.some((outer) => isPrefix(outer, path))) continue;
    removed.push(path);
  }
  return removed;
}

function isPrefix(outer: FieldPath, path: FieldPath): boolean {
  return outer.length <= path.length && outer.every((key, i) => path[i] === key);
}

/** A copy of `object` without the given paths (paths that are not there are ignored). */
export function withoutPaths(object: KubeObject, paths: readonly FieldPath[]): KubeObject {
  const copy = structuredClone(object);
  for (const path of paths) removePath(copy, path);
  return copy;
}

function removePath(root: unknown, path: FieldPath): void {
  let current: unknown = root;
  for (const [index, key] of path.entries()) {
    const last = index === path.length - 1;
    if (key.startsWith('f:')) {
      if (!isPlainObject(current)) return;
      const name = key.slice(2);
      if (last) {
        Reflect.deleteProperty(current, name);
        return;
      }
      current = current[name];
      continue;
    }
    if (!Array.isArray(current)) return;
    const at = elementIndex(current, key);
    if (at === -1) return;
    if (last) {
      current.splice(at, 1);
      return;
    }
    current = current[at];
  }
}

/** Whether a list item is the one a `k:` path element names by `fields`. */
export type KeyMatch = (item: unknown, fields: Record<string, unknown>) => boolean;

/** The server's reading: every key field of the element equals the item's. */
const allKeysEqual: KeyMatch = (item, fields) =>
  isPlainObject(item) &&
  Object.entries(fields).every(([name, value]) => canonicalJson(item[name]) === canonicalJson(value));

/**
 * The value at a managedFields path in `root`, or undefined when the path is absent. `match`
 * decides which list item a `k:` element names (by default, every key field equal).
 */
export function valueAt(root: unknown, path: FieldPath, match: KeyMatch = allKeysEqual): unknown {
  let current = root;
  for (const key of path) {
    if (key.startsWith('f:')) {
      const name = key.slice(2);
      if (!isPlainObject(current) || !Object.hasOwn(current, name)) return undefined;
      current = current[name];
      continue;
    }
    if (!Array.isArray(current)) return undefined;
    const at = elementIndex(current, key, match);
    if (at === -1) return undefined;
    current = current[at];
  }
  return current;
}

/** Index of the list element a `k:`, `v:` or `i:` path element names; -1 when absent. */
function elementIndex(list: readonly unknown[], key: string, match: KeyMatch = allKeysEqual): number {
  const rest = key.slice(2);
  try {
    if (key.startsWith('i:')) {
      const index = Number(rest);
      return Number.isInteger(index) && index < list.length ? index : -1;
    }
    if (key.startsWith('v:')) {
      const value = canonicalJson(JSON.parse(rest));
      return list.findIndex((item) => canonicalJson(item) === value);
    }
    if (key.startsWith('k:')) {
      const fields = JSON.parse(rest) as unknown;
      if (!isPlainObject(fields)) return -1;
      return list.findIndex((item) => match(item, fields));
    }
  } catch {
    return -1;
  }
  return -1;
}
