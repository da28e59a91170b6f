import path from 'node:path';
import { canonicalJson } from '../canonical.ts';
import { groupOf, isPlainObject, versionOf, type KubeObject } from '../objects.ts';
import { parseYamlDocuments, type YamlDocument } from '../yaml/yaml.ts';
import { lineOfPath, type SourceFiles } from './source-files.ts';

/** A patch's selector: `target:` of the kustomization entry, or a strategic merge patch's own header. */
interface Target {
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly annotationSelector?: string;
}

/** One patch document of a kustomization, where it is written (file, and line offset when inline). */
export interface PatchDocument {
  readonly file: string;
  readonly type: 'strategic' | 'json6902';
  readonly target: Target;
  readonly document: YamlDocument;
  /** Added to the document's lines: an inline patch's lines count from its block scalar's key. */
  readonly lineOffset: number;
}

/** A field of the rendered object set by a patch, and the patch line that set it. */
export interface PatchedField {
  readonly field: readonly string[];
  readonly file: string;
  readonly line: number;
}

const TRACE_DEPTH = 16;
// Keys strategic merge uses to match list items, as in the Kubernetes types' patchMergeKey.
const MERGE_KEYS = ['name', 'containerPort', 'mountPath', 'devicePath', 'ip', 'topologyKey', 'port'];

const parsed = new WeakMap<SourceFiles, Map<string, PatchDocument[]>>();

/** Every patch a kustomization file declares (patches, patchesStrategicMerge, patchesJson6902). */
export function kustomizationPatches(files: SourceFiles, kustomization: string): PatchDocument[] {
  const known = parsed.get(files) ?? new Map<string, PatchDocument[]>();
  parsed.set(files, known);
  const found = known.get(kustomization) ?? readPatches(files, kustomization);
  known.set(kustomization, found);
  return found;
}

function readPatches(files: SourceFiles, kustomization: string): PatchDocument[] {
  const source = files.get(kustomization);
  const document = source?.documents[0];
  const spec = document?.value;
  if (!source || !document || !isPlainObject(spec)) return [];
  const folder = path.posix.dirname(kustomization);
  const result: PatchDocument[] = [];
  const add = (entry: unknown, key: string, index: number, defaultType?: 'json6902'): void => {
    const item = isPlainObject(entry) ? entry : { path: entry };
    const target = isPlainObject(item.target) ? (item.target as Target) : undefined;
    let documents: { document: YamlDocument; file: string; offset: number }[];
    if (typeof item.path === 'string' && !item.path.includes('\n')) {
      const file = path.posix.normalize(path.posix.join(folder, item.path));
      documents = (files.get(file)?.documents ?? []).map((d) => ({ document: d, file, offset: 0 }));
    } else {
      const text =
        typeof item.patch === 'string' ? item.patch : typeof item.path === 'string' ? item.path : '';
      const field = typeof item.patch === 'string' ? `${key}.${index}.patch` : `${key}.${index}`;
      documents = inlineDocuments(text, kustomization, document, source.lines, field);
    }
    for (const { document: patch, file, offset } of documents) {
      const type = Array.isArray(patch.value) || defaultType ? 'json6902' : 'strategic';
      const header = isPlainObject(patch.value) ? headerTarget(patch.value) : undefined;
      const chosen = target ?? header;
      if (chosen) result.push({ file, type, target: chosen, document: patch, lineOffset: offset });
    }
  };
  for (const key of ['patches', 'patchesStrategicMerge', 'patchesJson6902'] as const) {
    const list = spec[key];
    if (Array.isArray(list))
      list.forEach((entry, index) =>
        add(entry, key, index, key === 'patchesJson6902' ? 'json6902' : undefined),
      );
  }
  return result;
}

/** An inline patch's documents; lines count from the block scalar's key when it is one (`patch: |`). */
function inlineDocuments(
  text: string,
  file: string,
  kustomization: YamlDocument,
  lines: readonly string[],
  field: string,
): { document: YamlDocument; file: string; offset: number }[] {
  const keyLine = kustomization.keyLines.get(field) ?? lineOfPath(kustomization, field.split('.')) ?? 0;
  const block = /:\s*[|>][-+0-9]*\s*(#.*)?$/.test(lines[keyLine - 1] ?? '');
  try {
    return parseYamlDocuments(text, file, { kubectl: true, keyLineDepth: TRACE_DEPTH }).map((document) =>
      block
        ? { document, file, offset: keyLine }
        : { document: { ...document, keyLines: new Map(), line: keyLine }, file, offset: 0 },
    );
  } catch {
    return [];
  }
}

function headerTarget(value: Record<string, unknown>): Target | undefined {
  const metadata = value.metadata;
  if (typeof value.kind !== 'string' || !isPlainObject(metadata) || typeof metadata.name !== 'string')
    return undefined;
  return {
    kind: value.kind,
    name: metadata.name,
    ...(typeof value.apiVersion === 'string' ? { group: groupOf(value.apiVersion) } : {}),
  };
}

/**
 * Whether a patch selects this object: kind, group, version, name (a regular expression, as in
 * kustomize) against the rendered or the original name, and simple `key=value` selectors. A selector
 * this cannot read selects nothing: a trace must never point at a patch that did not apply.
 */
export function targets(target: Target, object: KubeObject, names: readonly string[]): boolean {
  if (target.kind !== undefined && target.kind !== object.kind) return false;
  if (target.group !== undefined && target.group !== groupOf(object.apiVersion)) return false;
  if (target.version !== undefined && target.version !== versionOf(object.apiVersion)) return false;
  if (target.name !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${target.name})$`);
    } catch {
      return false;
    }
    if (!names.some((name) => pattern.test(name))) return false;
  }
  return (
    selects(target.labelSelector, object.metadata.labels) &&
    selects(target.annotationSelector, object.metadata.annotations)
  );
}

function selects(selector: string | undefined, map: Record<string, string> | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  return selector.split(',').every((term) => {
    const match = /^\s*([^=!\s]+)\s*==?\s*([^=!\s]*)\s*$/.exec(term);
    return match?.[1] !== undefined && map?.[match[1]] === match[2];
  });
}

/** The fields of `object` this patch set, each with the patch line, only where the values agree. */
export function patchedFields(patch: PatchDocument, object: KubeObject): PatchedField[] {
  const fields: PatchedField[] = [];
  const record = (field: readonly string[], patchPath: readonly string[]): void => {
    const line = lineOfPath(patch.document, patchPath) ?? patch.document.line;
    fields.push({ field, file: patch.file, line: line + patch.lineOffset });
  };
  if (patch.type === 'json6902') {
    const ops = patch.document.value;
    if (!Array.isArray(ops)) return fields;
    ops.forEach((op, index) => {
      if (!isPlainObject(op) || typeof op.path !== 'string' || op.op === 'test') return;
      const field = pointerSegments(op.path, object);
      const value = valueAt(object, field);
      const agrees =
        op.op === 'remove' ||
        (op.op === 'add' || op.op === 'replace' ? sameValue(op.value, value) : value !== undefined);
      if (agrees) record(field, [String(index), 'path']);
    });
    return fields;
  }
  const value = patch.document.value;
  if (!isPlainObject(value)) return fields;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    walkStrategic(child, object[key], [key], [key], record);
  }
  return fields.filter((f) => !isIdentity(f.field));
}

function walkStrategic(
  patch: unknown,
  live: unknown,
  patchPath: readonly string[],
  field: readonly string[],
  record: (field: readonly string[], patchPath: readonly string[]) => void,
): void {
  if (isPlainObject(patch)) {
    if (!isPlainObject(live)) return;
    for (const [key, child] of Object.entries(patch)) {
      if (key.startsWith('$')) continue; // directives ($patch, $setElementOrder/…, $retainKeys)
      walkStrategic(child, live[key], [...patchPath, key], [...field, key], record);
    }
    return;
  }
  if (Array.isArray(patch) && Array.isArray(live) && patch.every(isPlainObject)) {
    patch.forEach((item, index) => {
      const key = MERGE_KEYS.find((k) => k in item);
      const at = key === undefined ? -1 : live.findIndex((l) => isPlainObject(l) && l[key] === item[key]);
      if (at >= 0)
        walkStrategic(item, live[at], [...patchPath, String(index)], [...field, String(at)], record);
    });
    return;
  }
  if (sameValue(patch, live)) record(field, patchPath);
}

/** JSON pointer → path segments; `-` (append) is the list's last item in the rendered object. */
function pointerSegments(pointer: string, object: KubeObject): string[] {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = segments.length - 1;
  if (segments[last] === '-') {
    const list = valueAt(object, segments.slice(0, last));
    segments[last] = String(Array.isArray(list) ? list.length - 1 : 0);
  }
  return segments;
}

export function valueAt(value: unknown, field: readonly string[]): unknown {
  let current = value;
  for (const segment of field) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isPlainObject(current)) current = current[segment];
    else return undefined;
  }
  return current;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  // YAML may read `9090` where the object holds 9090 or "9090" (kustomize keeps the patch's type).
  const text = scalarText(a);
  return canonicalJson(a) === canonicalJson(b) || (text !== undefined && text === scalarText(b));
}

/** A scalar as text (`9090` and "9090" alike); undefined for maps, lists and null. */
export function scalarText(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

/** A patch header names its target; those fields are not changes the patch makes. */
function isIdentity(field: readonly string[]): boolean {
  return field[0] === 'metadata' && (field[1] === 'name' || field[1] === 'namespace') && field.length === 2;
}
