import { canonicalJson } from '../canonical.ts';
import { fieldProvenance, type Manifest, type Provenance } from '../yaml/manifest.ts';
import { normalizeForDiff } from './normalize.ts';
import { isPlainObject, type KubeObject } from '../objects.ts';
import { valueAt } from '../render/kustomize-patches.ts';

/** One changed field of an update and the most specific place in the repository it comes from. */
export interface ChangeSource {
  /** Dotted path of the field (`spec.template.spec.containers.0.image`). */
  readonly field: string;
  readonly location: Provenance;
}

// A reviewer reads a handful of sources per object; past this the object's own location says enough.
const MAX_FIELDS = 50;

/**
 * Where each changed field of an update comes from (patch line > resource line > kustomization,
 * values line > template), in the order the diff shows them. Only field names and locations: never
 * a value, so a Secret's change can be traced without being shown.
 */
export function changeSources(manifest: Manifest, live: KubeObject, result: KubeObject): ChangeSource[] {
  const before = normalizeForDiff(live);
  return changedFields(before, normalizeForDiff(result)).map((field) => ({
    field: field.join('.'),
    location: fieldProvenance(manifest, field, valueAt(before, field)),
  }));
}

/** Leaf paths where two JSON values differ, in sorted key order; at most MAX_FIELDS of them. */
export function changedFields(before: unknown, after: unknown): string[][] {
  const fields: string[][] = [];
  const walk = (a: unknown, b: unknown, at: string[]): void => {
    if (fields.length >= MAX_FIELDS) return;
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
        walk(a[key], b[key], [...at, key]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      // An item added or removed is a change of that item (`env.2`), as a reviewer reads it.
      for (let index = 0; index < Math.max(a.length, b.length); index++)
        walk(a[index], b[index], [...at, String(index)]);
      return;
    }
    // A value that changed, changed type, appeared or went: the field as a whole.
    if (canonicalJson(a) !== canonicalJson(b)) fields.push(at);
  };
  walk(before, after, []);
  return fields;
}

/** The distinct locations of an update's changes, most specific first as found, for one line each. */
export function distinctLocations(
  changes: readonly ChangeSource[],
): { location: Provenance; fields: string[] }[] {
  const byPlace = new Map<string, { location: Provenance; fields: string[] }>();
  for (const change of changes) {
    const key = `${change.location.file}:${change.location.line}`;
    const entry = byPlace.get(key) ?? { location: change.location, fields: [] };
    entry.fields.push(change.field);
    byPlace.set(key, entry);
  }
  return [...byPlace.values()];
}
