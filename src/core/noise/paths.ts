/**
 * Field paths of ignore rules: JSON pointers (`/spec/replicas`), JSONPath-like paths
 * (`.spec.template.spec.containers[*].image`, `.metadata.annotations['example.com/x']`), and the
 * managed-fields paths of named managers (`f:spec`, `k:{"name":"web"}`), all turned into one form.
 */
import { canonicalJson } from '../canonical.ts';
import type { FieldPath } from '../ownership/fieldset.ts';
import { isPlainObject } from '../objects.ts';

/** A map key, a list index, every key or index (`*`), or the list element whose fields match. */
export type Segment =
  string | number | { readonly any: true } | { readonly match: Readonly<Record<string, unknown>> };
export type Path = readonly Segment[];

const ANY = { any: true } as const;

/** RFC 6901: `~1` is `/`, `~0` is `~`; numbers index lists (and are keys in maps). */
export function parsePointer(pointer: string): Path {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^(0|[1-9]\d*)$/.test(part) ? Number(part) : part));
}

/** `.a.b[0]['c.d'][*]`, with an optional leading `$`. */
export function parseJsonPath(text: string): Path {
  const source = text.startsWith('$') ? text.slice(1) : text;
  const path: Segment[] = [];
  const token = /\.([^.[\]]+)|\[(\d+)\]|\[\*\]|\.\*|\['([^']*)'\]|\["([^"]*)"\]/y;
  let at = 0;
  while (at < source.length) {
    token.lastIndex = at;
    const match = token.exec(source);
    if (!match)
      throw new Error(
        `path "${text}" cannot be read at "${source.slice(at)}" (write .key, ['key'], [0] or [*])`,
      );
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else if (match[3] !== undefined) path.push(match[3]);
    else if (match[4] !== undefined) path.push(match[4]);
    else path.push(ANY);
    at = token.lastIndex;
  }
  if (path.length === 0) throw new Error(`path "${text}" names no field`);
  return path;
}

/** A managedFields path (`f:`, `k:`, `v:`, `i:` elements). */
export function fromFieldPath(fields: FieldPath): Path | undefined {
  const out: Segment[] = [];
  for (const key of fields) {
    const rest = key.slice(2);
    if (key.startsWith('f:')) out.push(rest);
    else if (key.startsWith('i:')) out.push(Number(rest));
    else if (key.startsWith('k:')) {
      const parsed = safeJson(rest);
      if (!isPlainObject(parsed)) return undefined;
      out.push({ match: parsed });
    } else return undefined; // a set member (`v:`): whole lists are compared instead
  }
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function describePath(path: Path): string {
  return path
    .map((s) =>
      typeof s === 'number'
        ? `[${s}]`
        : typeof s === 'string'
          ? /^[A-Za-z0-9_-]+$/.test(s)
            ? `.${s}`
            : `['${s}']`
          : 'any' in s
            ? '[*]'
            : `[${canonicalJson(s.match)}]`,
    )
    .join('');
}

/** The key or index `segment` selects in `container`, or every one for `*`. */
function keysOf(container: unknown, segment: Segment): (string | number)[] {
  if (Array.isArray(container)) {
    if (typeof segment === 'number') return segment < container.length ? [segment] : [];
    if (typeof segment === 'string') return [];
    if ('any' in segment) return container.map((_, i) => i);
    const wanted = segment.match;
    const index = container.findIndex(
      (item) =>
        isPlainObject(item) &&
        Object.entries(wanted).every(([k, v]) => canonicalJson(item[k]) === canonicalJson(v)),
    );
    return index < 0 ? [] : [index];
  }
  if (isPlainObject(container)) {
    if (typeof segment === 'string' || typeof segment === 'number')
      return Object.hasOwn(container, String(segment)) ? [String(segment)] : [];
    return 'any' in segment ? Object.keys(container) : [];
  }
  return [];
}

function child(container: unknown, key: string | number): unknown {
  if (Array.isArray(container) && typeof key === 'number') return container[key];
  return isPlainObject(container) ? container[String(key)] : undefined;
}

/**
 * `target` with the fields at `path` made as they are in `source` (removed where `source` lacks
 * them). List elements are found in each object separately (by index, by `*`, by matching fields).
 * Returns a new value; the inputs are not changed.
 */
export function copyFields(source: unknown, target: unknown, path: Path): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return structuredClone(source);
  const keys = keysOf(target, head);
  if (keys.length === 0 && !(isPlainObject(target) && isPlainObject(source))) return target;
  if (Array.isArray(target)) {
    const out: unknown[] = [...(target as unknown[])];
    const removed = new Set<number>();
    for (const key of keys) {
      const index = key as number;
      const sourceKey = keysOf(source, typeof head === 'object' && 'any' in head ? index : head)[0];
      const value = copyFields(
        sourceKey === undefined ? undefined : child(source, sourceKey),
        out[index],
        rest,
      );
      if (value === undefined) removed.add(index);
      else out[index] = value;
    }
    return out.filter((_, i) => !removed.has(i));
  }
  const out = { ...(target as Record<string, unknown>) };
  // A field only the source has is copied too (a map key; list elements need the target's).
  for (const key of keysOf(source, head)) if (!keys.includes(key) && typeof key === 'string') keys.push(key);
  for (const key of keys) {
    const value = copyFields(child(source, key), out[String(key)], rest);
    if (value === undefined) Reflect.deleteProperty(out, String(key));
    else out[String(key)] = value;
  }
  return out;
}

/** Whether `object` has anything at `path`. */
export function hasField(object: unknown, path: Path): boolean {
  const [head, ...rest] = path;
  if (head === undefined) return object !== undefined;
  return keysOf(object, head).some((key) => hasField(child(object, key), rest));
}

/** `object` without the fields at `path`. */
export function removeFields(object: unknown, path: Path): unknown {
  return copyFields(undefined, object, path);
}
