import type { Provenance } from '../yaml/manifest.ts';
import { isPlainObject, type KubeObject } from '../objects.ts';
import type { YamlDocument } from '../yaml/yaml.ts';
import type { KustomizeOrigin } from './kustomize-origins.ts';
import {
  kustomizationPatches,
  patchedFields,
  scalarText,
  targets,
  valueAt,
  type PatchedField,
} from './kustomize-patches.ts';
import { generatedDataLine, generatorEntry } from './kustomize-generators.ts';
import { lineOfPath, type SourceFiles } from './source-files.ts';

const VIA = 'kustomize';
const MERGE_KEYS = ['name', 'containerPort', 'mountPath', 'devicePath', 'ip', 'topologyKey', 'port'];

export interface TracedObject {
  readonly source: Provenance;
  readonly fieldSource: (field: readonly string[]) => Provenance | undefined;
}

/**
 * Where a kustomize-built object and each of its fields come from: the object at its document in
 * the resource file (or its generator entry); a field at the patch or transformer entry (`images:`,
 * `replicas:`, `labels:`, `namespace:`…) that set it, else at its own line in the resource file, else at the kustomization that transformed
 * it. Every claim is checked against the rendered value, so a trace never points at a line that did
 * not produce what is shown.
 */
export function traceObject(
  files: SourceFiles,
  rootKustomization: string,
  object: KubeObject,
  origin: KustomizeOrigin | undefined,
): TracedObject {
  const fallback: Provenance = {
    file: origin?.kustomizations.at(-1) ?? rootKustomization,
    line: 0,
    via: VIA,
  };
  const resource = origin?.file ? findDocument(files, origin.file, object) : undefined;
  const generator = origin?.generator
    ? generatorEntry(files, origin.generator.kustomization, object)
    : undefined;
  const source: Provenance = resource
    ? { file: resource.file, line: resource.document?.line ?? 0, via: VIA }
    : generator
      ? { file: generator.file, line: generator.line, via: VIA }
      : fallback;
  const names = [object.metadata.name ?? '', ...originalName(resource?.document)];
  let patched: PatchedField[] | undefined;
  const fieldSource = (field: readonly string[]): Provenance | undefined => {
    patched ??= (origin?.kustomizations ?? []).flatMap((k) =>
      kustomizationPatches(files, k)
        .filter((p) => targets(p.target, object, names))
        .flatMap((p) => patchedFields(p, object)),
    );
    const fromPatch = longestMatch(patched, field);
    const transformed = origin ? transformerLine(files, origin, object, field, names) : undefined;
    const found = transformed ?? fromPatch;
    if (found) return { file: found.file, line: found.line, via: VIA };
    if (origin?.generator) {
      const data = generatedDataLine(files, origin, object, field);
      if (data) return { ...data, via: VIA };
    }
    if (resource?.document) {
      const line = resourceLine(resource.document, object, field);
      if (line !== undefined) return { file: resource.file, line, via: VIA };
    }
    // A field gone from the render was removed where the object is written; a generated object's
    // other fields come from its generator entry; anything else from a kustomization's transformers.
    if (valueAt(object, field) === undefined) return source;
    if (origin?.generator && ['data', 'binaryData', 'type', 'immutable'].includes(field[0] ?? ''))
      return source;
    return fallback;
  };
  return { source, fieldSource };
}

function originalName(document: YamlDocument | undefined): string[] {
  const metadata = isPlainObject(document?.value) ? document.value.metadata : undefined;
  return isPlainObject(metadata) && typeof metadata.name === 'string' ? [metadata.name] : [];
}

/** The document of `file` this object was read from: same kind, and the name it had there. */
function findDocument(
  files: SourceFiles,
  file: string,
  object: KubeObject,
): { file: string; document: YamlDocument | undefined } {
  const documents = (files.get(file)?.documents ?? []).filter(
    (d) => isPlainObject(d.value) && d.value.kind === object.kind,
  );
  const name = object.metadata.name ?? '';
  const nameOf = (d: YamlDocument): string => {
    const metadata = isPlainObject(d.value) ? d.value.metadata : undefined;
    return isPlainObject(metadata) && typeof metadata.name === 'string' ? metadata.name : '';
  };
  const exact = documents.filter((d) => nameOf(d) === name);
  // namePrefix/nameSuffix keep the original inside the rendered name; the longest such name wins.
  const contained = documents
    .filter((d) => nameOf(d) !== '' && name.includes(nameOf(d)))
    .sort((a, b) => nameOf(b).length - nameOf(a).length);
  const document = exact.length === 1 ? exact[0] : exact.length === 0 ? contained[0] : undefined;
  return { file, document };
}

function longestMatch(fields: readonly PatchedField[], field: readonly string[]): PatchedField | undefined {
  let best: PatchedField | undefined;
  for (const candidate of fields) {
    const prefix = candidate.field.length <= field.length && candidate.field.every((s, i) => s === field[i]);
    if (prefix && (!best || candidate.field.length >= best.field.length)) best = candidate;
  }
  if (best) return best;
  // A changed item or map (`env.1`) set as a whole by a patch's fields below it: the first of them.
  return fields.find((c) => c.field.length > field.length && field.every((s, i) => s === c.field[i]));
}

/** The last kustomization whose own transformer entry set this field to its rendered value. */
function transformerLine(
  files: SourceFiles,
  origin: KustomizeOrigin,
  object: KubeObject,
  field: readonly string[],
  names: readonly string[],
): { file: string; line: number } | undefined {
  const value = valueAt(object, field);
  let found: { file: string; line: number } | undefined;
  for (const kustomization of origin.kustomizations) {
    const document = files.get(kustomization)?.documents[0];
    if (!document || !isPlainObject(document.value)) continue;
    const line = entryLine(document, document.value, field, value, names);
    if (line) found = { file: kustomization, line };
  }
  return found;
}

/** `namespace:`, `images:`, `replicas:`, `labels:`/`commonLabels:`, `commonAnnotations:` entries. */
function entryLine(
  document: YamlDocument,
  spec: Record<string, unknown>,
  field: readonly string[],
  value: unknown,
  names: readonly string[],
): number | undefined {
  const at = (key: string): number | undefined => document.keyLines.get(key);
  const joined = field.join('.');
  const last = field.at(-1) ?? '';
  const list = (key: string): unknown[] => (Array.isArray(spec[key]) ? (spec[key] as unknown[]) : []);
  let line: number | undefined;
  if (joined === 'metadata.namespace' && spec.namespace === value) line = at('namespace');
  if (last === 'image' && typeof value === 'string')
    list('images').forEach((entry, index) => {
      if (!isPlainObject(entry) || !imageEntryMatches(entry, value)) return;
      const key = ['newTag', 'digest', 'newName', 'name'].find((k) => entry[k] !== undefined) ?? 'name';
      line = at(`images.${index}.${key}`) ?? line;
    });
  if (joined === 'spec.replicas')
    list('replicas').forEach((entry, index) => {
      if (!isPlainObject(entry) || typeof entry.name !== 'string' || !names.includes(entry.name)) return;
      if (scalarText(entry.count) === scalarText(value)) line = at(`replicas.${index}.count`) ?? line;
    });
  const parent = field.at(-2);
  if ((parent === 'labels' || parent === 'matchLabels') && typeof value === 'string') {
    if (isPlainObject(spec.commonLabels) && spec.commonLabels[last] === value)
      line = at(`commonLabels.${last}`);
    list('labels').forEach((entry, index) => {
      if (isPlainObject(entry) && isPlainObject(entry.pairs) && entry.pairs[last] === value)
        line = at(`labels.${index}.pairs.${last}`) ?? line;
    });
  }
  if (
    joined === `metadata.annotations.${last}` &&
    field.length === 3 &&
    isPlainObject(spec.commonAnnotations)
  )
    if (spec.commonAnnotations[last] === value) line = at(`commonAnnotations.${last}`);
  return line;
}

function imageEntryMatches(entry: Record<string, unknown>, image: string): boolean {
  const name = typeof entry.newName === 'string' ? entry.newName : entry.name;
  if (typeof name !== 'string') return false;
  if (entry.newTag === undefined && entry.digest === undefined && entry.newName === undefined) return false;
  const at = image.indexOf('@');
  const repoAndTag = at >= 0 ? image.slice(0, at) : image;
  const colon = repoAndTag.lastIndexOf(':');
  const repo = colon > repoAndTag.lastIndexOf('/') ? repoAndTag.slice(0, colon) : repoAndTag;
  const tag = colon > repoAndTag.lastIndexOf('/') ? repoAndTag.slice(colon + 1) : undefined;
  if (repo !== name) return false;
  if (typeof entry.digest === 'string') return image.endsWith(`@${entry.digest}`);
  return entry.newTag === undefined || scalarText(entry.newTag) === tag;
}

/** The line of a field in its resource document, when that document holds the rendered value. */
function resourceLine(
  document: YamlDocument,
  object: KubeObject,
  field: readonly string[],
): number | undefined {
  const own: string[] = [];
  let rendered: unknown = object;
  let written: unknown = document.value;
  for (const segment of field) {
    if (Array.isArray(rendered) && Array.isArray(written)) {
      // Strategic merge may reorder list items: follow the item by its merge key.
      const item: unknown = rendered[Number(segment)];
      const key = isPlainObject(item) ? MERGE_KEYS.find((k) => k in item) : undefined;
      const at =
        key && isPlainObject(item)
          ? written.findIndex((w) => isPlainObject(w) && w[key] === item[key])
          : Number(segment);
      if (at < 0) return undefined;
      own.push(String(at));
      rendered = item;
      written = written[at];
    } else if (isPlainObject(rendered) && isPlainObject(written)) {
      own.push(segment);
      rendered = rendered[segment];
      written = written[segment];
    } else return undefined;
  }
  if (written === undefined) return undefined;
  const scalar = typeof written !== 'object' || written === null;
  if (scalar && scalarText(written) !== scalarText(rendered)) return undefined;
  return document.keyLines.get(own.join('.')) ?? lineOfPath(document, own);
}
