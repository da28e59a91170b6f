import { groupOf, isPlainObject, type KubeObject } from '../objects.ts';
import { canonicalQuantity } from './quantity.ts';

/**
 * What the API server always does to an object before it stores it, done client-side for the
 * read-only estimate (estimate.ts), so that an object the apply would not change reads unchanged:
 * Secret `data` in canonical base64 with `stringData` folded in, resource quantities of built-in
 * kinds in canonical form, a Namespace's name label. Defaults that depend on the schema are not.
 */
export function asStoredByServer(object: KubeObject): KubeObject {
  const stored = asStored(object);
  return builtIn(stored) ? canonicalQuantities(stored, '') : stored;
}

/** Paths of field names joined by a character no field name holds (quota names have dots). */
const SEP = '\u0001';

/**
 * A kind the API server itself defines: only those hold typed quantities. A custom resource's
 * `requests.cpu` is whatever string was sent.
 */
function builtIn(object: KubeObject): boolean {
  const group = groupOf(object.apiVersion);
  return !group.includes('.') || group.endsWith('.k8s.io');
}

/** Quantities in the form the server stores them (quantity.ts): `0.25` as `250m`, `2` as `"2"`. */
function canonicalQuantities<T>(value: T, shape: string): T {
  if (Array.isArray(value)) return value.map((item: unknown) => canonicalQuantities(item, `${shape}[]`)) as T;
  if (isPlainObject(value))
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, canonicalQuantities(child, `${shape}${SEP}${key}`)]),
    ) as T;
  const field = quantityField(shape);
  if (!field) return value;
  return (canonicalQuantity(value, field === 'resource-list') ?? value) as T;
}

/**
 * Fields holding resource quantities: a ResourceList (container resources, quotas, overhead, a
 * LimitRange's bounds), which core v1 rounds up to a milli, or an emptyDir's `sizeLimit`.
 */
function quantityField(shape: string): 'resource-list' | 'quantity' | undefined {
  const parts = shape.split(SEP);
  const parent = parts.at(-2) ?? '';
  if (['requests', 'limits', 'hard', 'overhead', 'podFixed'].includes(parent)) return 'resource-list';
  const bounds = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'];
  if (shape.includes(`${SEP}limits[]${SEP}`) && bounds.includes(parent)) return 'resource-list';
  return parts.at(-1) === 'sizeLimit' ? 'quantity' : undefined;
}

/** The API server labels every Namespace with its name. */
export function withNamespaceLabel(object: KubeObject): KubeObject {
  if (object.kind !== 'Namespace' || object.apiVersion !== 'v1' || !object.metadata.name) return object;
  const labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name };
  return { ...object, metadata: { ...object.metadata, labels } };
}

/**
 * A v1 Secret as the server stores it: `data` in canonical base64 (Go decodes past line breaks and
 * encodes without them), `stringData` folded into it (stringData wins).
 */
function asStored(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || object.apiVersion !== 'v1') return object;
  const { stringData, ...rest } = object;
  const data: Record<string, unknown> = isPlainObject(object.data) ? { ...object.data } : {};
  for (const [key, value] of Object.entries(data))
    if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('base64');
  if (!isPlainObject(stringData)) return isPlainObject(object.data) ? { ...rest, data } : object;
  for (const [key, value] of Object.entries(stringData))
    data[key] = Buffer.from(typeof value === 'string' ? value : String(value), 'utf8').toString('base64');
  return { ...rest, data };
}
