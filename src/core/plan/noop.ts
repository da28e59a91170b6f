import { FIELD_MANAGER_NAME } from '../constants.ts';
import { isPlainObject, type KubeObject } from '../objects.ts';

/**
 * Whether a server-side apply of `desired` by Slipway would leave `live` as it is, decided from
 * the live object alone, so the plan needs no dry-run for it (the common case of a re-plan: most
 * objects did not change). Conservative: any doubt answers false and the object gets its dry-run.
 *
 * It answers true only when:
 * - every field of `desired` is on `live` with the same value (lists: same length, item by item),
 *   so the apply sets nothing to a new value;
 * - Slipway's own Apply entry in managedFields is for the same apiVersion and every field it owns
 *   is still in `desired`, so the apply removes nothing;
 * - no other manager (status excepted) owns a field of `desired`, so nothing is taken over or
 *   shared (and `takes` of the dry-run would be empty too).
 * Server-side normalisation (defaults, quantities, stringData) makes the first check fail, never
 * pass wrongly: those objects simply get their dry-run.
 */
export function appliesNoChange(desired: KubeObject, live: KubeObject): boolean {
  if (!contains(live, desired)) return false;
  let mine: Record<string, unknown> | undefined;
  for (const entry of live.metadata.managedFields ?? []) {
    if (entry.subresource === 'status') continue;
    if (entry.manager === FIELD_MANAGER_NAME && entry.operation === 'Apply' && !entry.subresource) {
      if (mine || entry.apiVersion !== desired.apiVersion || !isPlainObject(entry.fieldsV1)) return false;
      mine = entry.fieldsV1;
    } else if (overlaps(entry.fieldsV1, desired, live)) return false;
  }
  return mine !== undefined && allPresent(mine, desired, live);
}

/** Whether `whole` has every field of `part` with an equal value (lists item by item). */
function contains(whole: unknown, part: unknown): boolean {
  if (Array.isArray(part)) {
    return (
      Array.isArray(whole) &&
      whole.length === part.length &&
      part.every((item, i) => contains(whole[i], item))
    );
  }
  if (isPlainObject(part)) {
    if (!isPlainObject(whole)) return false;
    for (const key of Object.keys(part)) {
      if (!Object.hasOwn(whole, key) || !contains(whole[key], part[key])) return false;
    }
    return true;
  }
  return whole === part;
}

function equal(a: unknown, b: unknown): boolean {
  return contains(a, b) && contains(b, a);
}

/** The desired and live values under one FieldsV1 key; 'absent' when desired lacks it; 'unknown' when undecidable. */
function child(key: string, desired: unknown, live: unknown): [unknown, unknown] | 'absent' | 'unknown' {
  const type = key.slice(0, 2);
  const rest = key.slice(2);
  if (type === 'f:') {
    if (!isPlainObject(desired)) return 'unknown';
    if (!Object.hasOwn(desired, rest)) return 'absent';
    return [desired[rest], isPlainObject(live) ? live[rest] : undefined];
  }
  // List items: `contains` made desired and live the same length, item i of one matching item i of
  // the other, so the live item a key names is the desired item at the same index.
  if (!Array.isArray(desired) || !Array.isArray(live) || desired.length !== live.length) return 'unknown';
  let index: number;
  if (type === 'i:') index = Number(rest);
  else if (type === 'k:' || type === 'v:') {
    let wanted: unknown;
    try {
      wanted = JSON.parse(rest);
    } catch {
      return 'unknown';
    }
    if (type === 'v:') index = live.findIndex((item) => equal(item, wanted));
    else {
      if (!isPlainObject(wanted)) return 'unknown';
      const fields = Object.entries(wanted);
      index = live.findIndex((item) => isPlainObject(item) && fields.every(([k, v]) => equal(item[k], v)));
    }
    if (index === -1) return 'absent';
  } else return 'unknown';
  if (!Number.isInteger(index) || index < 0 || index >= desired.length) return 'unknown';
  return [desired[index], live[index]];
}

/** Every field of a FieldsV1 set is in `desired`. */
function allPresent(fields: Record<string, unknown>, desired: unknown, live: unknown): boolean {
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    const found = child(key, desired, live);
    if (found === 'absent' || found === 'unknown') return false;
    if (isPlainObject(sub) && !allPresent(sub, found[0], found[1])) return false;
  }
  return true;
}

/** Some field (or list item, or map) of a FieldsV1 set is in `desired`. */
function overlaps(fields: unknown, desired: unknown, live: unknown): boolean {
  if (!isPlainObject(fields)) return false;
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    const found = child(key, desired, live);
    if (found === 'absent') continue;
    if (found === 'unknown') return true;
    const children = isPlainObject(sub) ? Object.keys(sub) : [];
    // A leaf, or a node owned as a whole ('.'), that desired also sets.
    if (children.length === 0 || children.includes('.')) return true;
    if (overlaps(sub, found[0], found[1])) return true;
  }
  return false;
}
