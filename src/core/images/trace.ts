// Tags found from the render: each container image of the rendered objects whose repository a
// policy names is traced back to the line that set it (the kustomize `images:` entry that
// transformed it, the resource line in its origin file — a base outside the environment's folder
// too — or a Helm values line when certain), and located there as a one-token edit.

import type { EnvironmentConfig } from '../config/config.ts';
import { fieldProvenance, type Finding, type Manifest } from '../yaml/manifest.ts';
import { isPlainObject } from '../objects.ts';
import { parseYamlDocuments } from '../yaml/yaml.ts';
import type { TagLocation } from './locate.ts';
import type { ImagePolicy } from './policy.ts';
import { canonicalRepository, parseImageReference, type ImageReference } from './reference.ts';
import type { OverriddenDocument } from './superseded.ts';
import { referenceNear, scalarOnLine } from './trace-text.ts';

/** What tracing needs of a render: its objects (with provenance) and its findings. */
export interface RenderedEnvironment {
  readonly manifests: readonly Manifest[];
  readonly findings: readonly Finding[];
}

/** Renders one environment offline (no cluster): the normal render pipeline. */
export type RenderEnvironment = (env: EnvironmentConfig) => Promise<RenderedEnvironment>;

/** The files tracing may edit: located tags and text, undefined when unreadable or outside the repo. */
export interface TraceFiles {
  located(file: string): readonly TagLocation[] | undefined;
  text(file: string): string | undefined;
}

export interface TracedImages {
  readonly locations: TagLocation[];
  /** Images a policy names whose tag could not be tied to an editable line. */
  readonly untraced: {
    readonly policy: string;
    readonly tag: string | undefined;
    readonly message: string;
  }[];
  /** Objects' own documents whose policy image the render took from another file (`images:`, a patch). */
  readonly overridden: OverriddenDocument[];
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Every container and init container image of an object, with its field path. */
export function containerImages(
  value: unknown,
  at: readonly string[] = [],
): { field: string[]; image: string }[] {
  const found: { field: string[]; image: string }[] = [];
  if (Array.isArray(value))
    value.forEach((item, i) => found.push(...containerImages(item, [...at, String(i)])));
  if (!isPlainObject(value)) return found;
  for (const [key, child] of Object.entries(value)) {
    if (CONTAINER_LISTS.has(key) && Array.isArray(child)) {
      child.forEach((container, i) => {
        if (isPlainObject(container) && typeof container.image === 'string' && container.image !== '')
          found.push({ field: [...at, key, String(i), 'image'], image: container.image });
      });
    } else if (typeof child === 'object' && child !== null)
      found.push(...containerImages(child, [...at, key]));
  }
  return found;
}

/**
 * The tag locations of every policy-named image of the render. A location is kept only when what is
 * written there is what was rendered: a trace never edits a line that did not produce the tag.
 */
export function traceImages(
  manifests: readonly Manifest[],
  policies: readonly ImagePolicy[],
  files: TraceFiles,
): TracedImages {
  const locations: TagLocation[] = [];
  const untraced: TracedImages['untraced'] = [];
  const overridden: OverriddenDocument[] = [];
  for (const manifest of manifests) {
    // A Secret's values are never read for anything.
    if (manifest.object.kind === 'Secret') continue;
    for (const { field, image } of containerImages(manifest.object)) {
      const ref = parseImageReference(image);
      const policy = policies.find((p) => canonicalRepository(p.image) === canonicalRepository(ref.name));
      if (!policy) continue;
      const from = fieldProvenance(manifest, field);
      // A Helm object's own source is a template (Go, not YAML): only a values line is editable.
      const helm = manifest.source.via?.startsWith('helm') === true;
      const editable = from.line > 0 && (!helm || from.via?.endsWith(' values') === true);
      const at = editable ? locationsAt(files, from.file, from.line, ref, policy) : [];
      const found =
        at.length > 0 || !editable ? at : renamedAt(files, from.file, from.line, manifest, ref, policy);
      if (found.length > 0) {
        locations.push(...found);
        const document = helm ? undefined : overriddenDocument(files, manifest, found, policy);
        if (document) overridden.push(document);
      } else
        untraced.push({
          policy: policy.name,
          tag: ref.tag,
          message: `${manifest.object.kind}/${manifest.object.metadata.name ?? ''} ${field.join('.')}: ${image} comes from ${from.line > 0 ? `${from.file}:${from.line}` : from.file}, where no tag of it is written: not updated (write the tag in a values file or an \`images:\` entry, or mark it with a setter marker)`,
        });
    }
  }
  return { locations, untraced, overridden };
}

/** The object's own document, when none of the lines its image traced to is in it. */
function overriddenDocument(
  files: TraceFiles,
  manifest: Manifest,
  found: readonly TagLocation[],
  policy: ImagePolicy,
): OverriddenDocument | undefined {
  const { file, line } = manifest.source;
  const text = line > 0 ? files.text(file) : undefined;
  if (text === undefined) return undefined;
  const end = documentEnd(text, line);
  const from = found[0];
  if (!from || found.some((l) => l.file === file && l.line >= line && l.line < end)) return undefined;
  return { file, start: line, end, policy: policy.name, from: { file: from.file, line: from.line } };
}

/** Located tags first (with a digest beside a Kustomize tag), else a scalar holding exactly the tag. */
function locationsAt(
  files: TraceFiles,
  file: string,
  line: number,
  ref: ImageReference,
  policy: ImagePolicy,
): TagLocation[] {
  const all = files.located(file);
  if (all === undefined) return [];
  const same = (l: TagLocation): boolean =>
    l.repository !== undefined && canonicalRepository(l.repository) === canonicalRepository(policy.image);
  const holds = (l: TagLocation): boolean =>
    l.field === 'digest' ? l.currentDigest === ref.digest : l.currentTag === ref.tag;
  // A setter marker names its own policy: it is the user's word on where the tag lives.
  const atLine = all.filter((l) => l.line === line && (l.policy !== undefined || same(l)) && holds(l));
  if (atLine.length > 0) {
    const pins = atLine.filter((l) => l.pinnedBeside === true && l.field === 'tag');
    const digests = all.filter(
      (l) => l.field === 'digest' && same(l) && pins.some((p) => p.currentTag === l.currentTag),
    );
    return [...atLine, ...digests.filter((d) => !atLine.includes(d))];
  }
  const text = files.text(file);
  const written =
    text === undefined
      ? undefined
      : (scalarOnLine(text, file, line, ref) ?? referenceNear(text, file, line, ref));
  return written ? [written] : [];
}

/**
 * A kustomize `images:` entry that only renames (`name: api`, `newName: …/api`, no `newTag` nor
 * `digest`) leaves the tag where the resource writes it: `image: api:1.0.0` in the object's document.
 * That location keeps its own name on edit, so it carries the policy's name, as a marker would.
 */
function renamedAt(
  files: TraceFiles,
  file: string,
  line: number,
  manifest: Manifest,
  ref: ImageReference,
  policy: ImagePolicy,
): TagLocation[] {
  const source = manifest.source;
  const text = files.text(file);
  if (text === undefined || source.file === file || source.line <= 0) return [];
  let spec: unknown;
  try {
    spec = parseYamlDocuments(text, file)[0]?.value;
  } catch {
    return [];
  }
  const entries = isPlainObject(spec) && Array.isArray(spec.images) ? spec.images : [];
  const names = entries.flatMap((entry) =>
    isPlainObject(entry) &&
    typeof entry.name === 'string' &&
    entry.newName === ref.name &&
    entry.newTag === undefined &&
    entry.digest === undefined
      ? [canonicalRepository(entry.name)]
      : [],
  );
  if (names.length === 0 || !sameLineEntry(text, line, ref.name)) return [];
  const resource = files.text(source.file);
  const end = resource === undefined ? source.line : documentEnd(resource, source.line);
  const candidates = (files.located(source.file) ?? []).filter(
    (l) =>
      l.field === 'reference' &&
      l.policy === undefined &&
      l.line >= source.line &&
      l.line < end &&
      l.repository !== undefined &&
      names.includes(canonicalRepository(l.repository)) &&
      l.currentTag === ref.tag &&
      l.currentDigest === ref.digest,
  );
  const only = candidates.length === 1 ? candidates[0] : undefined;
  return only ? [{ ...only, policy: policy.name, via: 'traced' }] : [];
}

/** The traced line is the `newName:` naming this repository (not another entry's line). */
function sameLineEntry(text: string, line: number, name: string): boolean {
  return (text.split('\n')[line - 1] ?? '').includes(name);
}

/** The first line after the document that starts at `line` (a `---` line, or past the end). */
function documentEnd(text: string, line: number): number {
  const lines = text.split('\n');
  for (let i = line; i < lines.length; i++) if (/^---(\s|$)/.test(lines[i] ?? '')) return i + 1;
  return lines.length + 1;
}

/**
 * The environment's file-search locations with the traced ones added: setter markers win (a policy
 * with a marker in the environment's files is not traced), and no location is listed twice.
 */
export function mergeLocations(
  searched: readonly TagLocation[],
  traced: readonly TagLocation[],
  policyOf: (location: TagLocation) => string | undefined,
): TagLocation[] {
  const marked = new Set(searched.flatMap((l) => (l.policy === undefined ? [] : [l.policy])));
  const merged = new Map<string, TagLocation>();
  for (const location of searched) merged.set(locationKey(location), location);
  for (const location of traced) {
    const policy = policyOf(location);
    if (policy !== undefined && marked.has(policy) && location.policy === undefined) continue;
    const key = locationKey(location);
    // A renamed image's tag is found by its file only under the old name: the trace knows its policy.
    const seen = merged.get(key);
    if (!seen || (seen.policy === undefined && location.policy !== undefined)) merged.set(key, location);
  }
  return [...merged.values()];
}

export function locationKey(location: { readonly file: string; readonly start: number }): string {
  return `${location.file}\0${location.start}`;
}
