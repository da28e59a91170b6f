import { isPlainObject, type KubeObject } from '../objects.ts';

/**
 * The one place that says what a diff ignores. Both sides of every comparison (live object and
 * dry-run result) pass through here, so a field is either compared on both or on neither.
 *
 * Dropped, because the server writes them and Git never holds them:
 * - metadata: managedFields, resourceVersion, uid, generation, creationTimestamp, selfLink,
 *   deletionTimestamp, deletionGracePeriodSeconds;
 * - the whole `status`;
 * - annotation `kubectl.kubernetes.io/last-applied-configuration`, dropped for every kind because
 *   client-side apply copies whole objects into it, Secret data included;
 * - annotation `deployment.kubernetes.io/revision`, a controller's counter.
 * Secret values are not dropped here but masked by maskSecret before anything is printed.
 */
export const DROPPED_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;
export const DROPPED_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
] as const;

export function normalizeForDiff(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object;
  const metadata = Object.fromEntries(
    Object.entries(object.metadata).filter(([key]) => !(DROPPED_METADATA as readonly string[]).includes(key)),
  );
  const copy: KubeObject = { ...rest, metadata };
  const annotations = copy.metadata.annotations;
  if (annotations) {
    const kept = Object.fromEntries(
      Object.entries(annotations).filter(
        ([key]) => !(DROPPED_ANNOTATIONS as readonly string[]).includes(key),
      ),
    );
    if (Object.keys(kept).length === 0) delete copy.metadata.annotations;
    else copy.metadata.annotations = kept;
  }
  if (copy.metadata.labels && Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  return copy;
}

export function isSecret(object: { apiVersion: string; kind: string }): boolean {
  return object.kind === 'Secret' && object.apiVersion === 'v1';
}

/** Secret keys of an object: from `data`, and from `stringData` (which the server folds into data). */
export function secretEntries(object: KubeObject): Map<string, string> {
  const entries = new Map<string, string>();
  if (isPlainObject(object.data)) {
    for (const [key, value] of Object.entries(object.data))
      entries.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  if (isPlainObject(object.stringData)) {
    for (const [key, value] of Object.entries(object.stringData)) {
      entries.set(
        key,
        Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64'),
      );
    }
  }
  return entries;
}

/**
 * A Secret with every value replaced by a marker that says only whether it changed. The values
 * themselves never leave this function.
 */
export function maskSecret(
  object: KubeObject,
  other: KubeObject | undefined,
  side: 'before' | 'after',
): KubeObject {
  const mine = secretEntries(object);
  const theirs = other ? secretEntries(other) : new Map<string, string>();
  const data: Record<string, string> = {};
  for (const [key, value] of [...mine].sort(([a], [b]) => a.localeCompare(b))) {
    const before = theirs.get(key);
    data[key] = before === undefined || before === value ? '***' : `*** (${side})`;
  }
  const masked: KubeObject = { ...object };
  delete masked.stringData;
  if (mine.size > 0) masked.data = data;
  else delete masked.data;
  const annotations = object.metadata.annotations;
  if (annotations) {
    const values = [...mine.values(), ...theirs.values()];
    const otherAnnotations = other?.metadata.annotations ?? {};
    masked.metadata = {
      ...object.metadata,
      annotations: Object.fromEntries(
        Object.entries(annotations).map(([key, value]) => [
          key,
          mayHoldSecret(value, values)
            ? otherAnnotations[key] === value || !other
              ? '***'
              : `*** (${side})`
            : value,
        ]),
      ),
    };
  }
  return masked;
}

/** Longer than any label-like annotation: a copied object or a certificate, not a setting. */
const MAX_PLAIN_ANNOTATION = 256;

/**
 * Whether a Secret's annotation may carry its data: tools copy whole objects into annotations
 * (kubectl's last-applied, some operators' "original" copies), so a long value, one that holds a
 * `data`/`stringData` map, or one containing any of the Secret's values (raw or base64) is masked.
 */
function mayHoldSecret(annotation: string, encodedValues: readonly string[]): boolean {
  if (annotation.length > MAX_PLAIN_ANNOTATION) return true;
  if (/["']?(string)?[dD]ata["']?\s*:/.test(annotation)) return true;
  return encodedValues.some((encoded) => {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    return (
      (encoded.length >= 4 && annotation.includes(encoded)) ||
      (decoded.length >= 4 && annotation.includes(decoded))
    );
  });
}

export interface SecretKeyChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
}

/** Which keys of a Secret change, by name only. */
export function secretKeyChanges(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): SecretKeyChanges {
  const old = before ? secretEntries(before) : new Map<string, string>();
  const now = after ? secretEntries(after) : new Map<string, string>();
  const result = {
    added: [] as string[],
    removed: [] as string[],
    changed: [] as string[],
    unchanged: [] as string[],
  };
  for (const [key, value] of now) {
    const previous = old.get(key);
    if (previous === undefined) result.added.push(key);
    else if (previous === value) result.unchanged.push(key);
    else result.changed.push(key);
  }
  for (const key of old.keys()) if (!now.has(key)) result.removed.push(key);
  for (const list of Object.values(result)) list.sort();
  return result;
}
