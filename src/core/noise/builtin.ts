/**
 * Noise every plan hides without configuration:
 * - Slipway's own bookkeeping (the environment label, ApplySet labels and annotations) is left
 *   out of diffs, except when it is the object's only change: then the row is an adoption;
 * - Helm's `checksum/*` pod-template annotations (bumped when a ConfigMap or Secret changes) are
 *   one line, "restarts pods (config changed)", instead of a diff of hashes.
 */
import { canonicalJson } from '../canonical.ts';
import { OWNER_LABEL } from '../constants.ts';
import { normalizeForDiff } from '../plan/normalize.ts';
import { isPlainObject, type KubeObject } from '../objects.ts';

const OWN_PREFIX = 'applyset.kubernetes.io/';

function isOwnKey(key: string): boolean {
  return key === OWNER_LABEL || key.startsWith(OWN_PREFIX);
}

function filterMap(
  map: Record<string, string> | undefined,
  drop: (key: string) => boolean,
): Record<string, string> | undefined {
  if (!map) return undefined;
  const kept = Object.fromEntries(Object.entries(map).filter(([key]) => !drop(key)));
  return Object.keys(kept).length ? kept : undefined;
}

/** `object` without Slipway's labels and annotations (a new object's diff needs none of them). */
export function withoutOwnMetadata(object: KubeObject): KubeObject {
  const metadata = { ...object.metadata };
  const labels = filterMap(metadata.labels, isOwnKey);
  const annotations = filterMap(metadata.annotations, isOwnKey);
  if (labels) metadata.labels = labels;
  else delete metadata.labels;
  if (annotations) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...object, metadata };
}

/** The pod template's metadata of a workload (a CronJob's is one level deeper). */
function templateMetadata(object: KubeObject): Record<string, unknown> | undefined {
  const spec = object.spec;
  if (!isPlainObject(spec)) return undefined;
  const template =
    object.kind === 'CronJob' && isPlainObject(spec.jobTemplate) && isPlainObject(spec.jobTemplate.spec)
      ? spec.jobTemplate.spec.template
      : spec.template;
  return isPlainObject(template) && isPlainObject(template.metadata) ? template.metadata : undefined;
}

function checksums(object: KubeObject): Record<string, unknown> {
  const annotations = templateMetadata(object)?.annotations;
  if (!isPlainObject(annotations)) return {};
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => key.startsWith('checksum/')));
}

function withoutChecksums(object: KubeObject): KubeObject {
  if (Object.keys(checksums(object)).length === 0) return object;
  const copy = structuredClone(object);
  const metadata = templateMetadata(copy);
  const annotations = metadata?.annotations;
  if (metadata && isPlainObject(annotations)) {
    for (const key of Object.keys(annotations))
      if (key.startsWith('checksum/')) Reflect.deleteProperty(annotations, key);
    if (Object.keys(annotations).length === 0) Reflect.deleteProperty(metadata, 'annotations');
  }
  return copy;
}

export interface QuietSides {
  readonly live: KubeObject;
  readonly result: KubeObject;
  /** Only Slipway's own labels change: the object is adopted, not updated. */
  readonly adoptOnly: boolean;
  /** Said instead of a checksum diff. */
  readonly note: string | undefined;
}

const same = (a: KubeObject, b: KubeObject): boolean =>
  canonicalJson(normalizeForDiff(a)) === canonicalJson(normalizeForDiff(b));

/** Both sides of an update, as the diff shows them (`live` and `result` differ). */
export function quietSides(live: KubeObject, result: KubeObject): QuietSides {
  const a = withoutOwnMetadata(live);
  const b = withoutOwnMetadata(result);
  if (same(a, b)) return { live, result, adoptOnly: true, note: undefined };
  const before = checksums(live);
  const after = checksums(result);
  const bumped = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => canonicalJson(before[key]) !== canonicalJson(after[key]))
    .sort();
  const note = bumped.length ? `restarts pods (config changed: ${bumped.join(', ')})` : undefined;
  return { live: withoutChecksums(a), result: withoutChecksums(b), adoptOnly: false, note };
}
