// Finds where image tags are written in one YAML file, as byte ranges of the scalars that hold them,
// so an update is a one-token text edit that keeps formatting and comments.

import { getScalarValue, parseEvents, type Event, type ScalarEvent } from 'js-yaml';
import { lineOf, lineStarts } from '../yaml/yaml.ts';
import { parseImageReference } from './reference.ts';

/** What a located scalar holds. */
export type TagField = 'reference' | 'tag' | 'digest';

export interface TagLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** Offsets of the scalar's text (inside its quotes, if any). */
  readonly start: number;
  readonly end: number;
  readonly plain: boolean;
  /** The scalar's text as written. */
  readonly raw: string;
  readonly field: TagField;
  /** The repository as written (for `reference`, and for fields found beside a repository). */
  readonly repository: string | undefined;
  /** Set when a `{"$imagepolicy": "ns:name"}` marker chose this scalar. */
  readonly policy: string | undefined;
  readonly currentTag: string | undefined;
  readonly currentDigest: string | undefined;
  /** How it was found, for the report: `image:`, `newTag`, `tag`, `digest`, `marker`. */
  readonly via: string;
  /** A `digest:` beside this tag holds the pin: the tag itself gets none. */
  readonly pinnedBeside?: boolean;
  /** A Kustomize `images:` entry's `name:`: the images it sets, wherever they are written. */
  readonly entryName?: string;
}

type Node =
  | { readonly kind: 'scalar'; readonly event: ScalarEvent; readonly value: string }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [Node, Node])[] }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alias' };

const SCALAR = 4;
const SEQUENCE = 2;
const ALIAS = 5;
const DOCUMENT = 1;
const PLAIN = 1;
const SINGLE_QUOTED = 2;
const DOUBLE_QUOTED = 3;
const MARKER = /#\s*\{\s*"\$imagepolicy"\s*:\s*"([^"]+)"\s*\}/;

/** Parses `text` (throws js-yaml's error on invalid YAML) and lists every tag location in it. */
export function locateTags(text: string, file: string): TagLocation[] {
  const events = parseEvents(text, { filename: file });
  const starts = lineStarts(text);
  const roots: Node[] = [];
  let i = 0;
  const read = (): Node => {
    const event = events[i++] as Event;
    if (event.type === SCALAR) return { kind: 'scalar', event, value: getScalarValue(text, event) };
    if (event.type === ALIAS) return { kind: 'alias' };
    const children: Node[] = [];
    while (events[i] && events[i]?.type !== 6) children.push(read());
    i++; // the POP
    if (event.type === SEQUENCE) return { kind: 'seq', items: children };
    const entries: [Node, Node][] = [];
    for (let k = 0; k + 1 < children.length; k += 2)
      entries.push([children[k] as Node, children[k + 1] as Node]);
    return { kind: 'map', entries };
  };
  while (i < events.length) {
    const event = events[i];
    if (event?.type === DOCUMENT) {
      i++;
      while (events[i] && events[i]?.type !== 6) roots.push(read());
    }
    i++;
  }
  const found: TagLocation[] = [];
  const markers = markerLines(text);
  const visit = (node: Node): void => {
    if (node.kind === 'seq') node.items.forEach(visit);
    if (node.kind !== 'map') return;
    const fields = new Map<string, ScalarNode>();
    for (const [key, value] of node.entries) {
      if (key.kind === 'scalar' && value.kind === 'scalar') fields.set(key.value, value);
      const marker =
        value.kind === 'scalar' ? markers.get(lineOf(starts, value.event.valueStart)) : undefined;
      if (marker && value.kind === 'scalar') {
        const location = markerLocation(marker, value, file, starts);
        if (location) found.push(location);
      }
      visit(value);
    }
    found.push(...fieldLocations(fields, file, starts));
  };
  roots.forEach(visit);
  // A marker names its policy outright; the same scalar found by its key is the same location.
  const byStart = new Map<number, TagLocation>();
  for (const location of found) {
    const seen = byStart.get(location.start);
    if (!seen || (seen.policy === undefined && location.policy !== undefined))
      byStart.set(location.start, location);
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

type ScalarNode = Extract<Node, { kind: 'scalar' }>;

function markerLines(text: string): Map<number, string> {
  const lines = new Map<number, string>();
  text.split('\n').forEach((line, index) => {
    const match = MARKER.exec(line);
    if (match?.[1]) lines.set(index + 1, match[1]);
  });
  return lines;
}

function editable(node: ScalarNode): boolean {
  const style = node.event.style;
  return style === PLAIN || style === SINGLE_QUOTED || style === DOUBLE_QUOTED;
}

function base(
  node: ScalarNode,
  file: string,
  starts: number[],
): Pick<TagLocation, 'file' | 'line' | 'start' | 'end' | 'plain' | 'raw'> {
  return {
    raw: node.value,
    file,
    line: lineOf(starts, node.event.valueStart),
    start: node.event.valueStart,
    end: node.event.valueEnd,
    plain: node.event.style === PLAIN,
  };
}

function splitTag(value: string): { tag: string | undefined; digest: string | undefined } {
  const at = value.indexOf('@');
  return at < 0
    ? { tag: value || undefined, digest: undefined }
    : { tag: value.slice(0, at) || undefined, digest: value.slice(at + 1) };
}

/** `ns:name` (full reference), `ns:name:tag`, `ns:name:digest`; `:name` setters rename, which we never do. */
function markerLocation(
  marker: string,
  node: ScalarNode,
  file: string,
  starts: number[],
): TagLocation | undefined {
  if (!editable(node)) return undefined;
  const parts = marker.split(':');
  const last = parts.at(-1);
  const field = last === 'tag' || last === 'digest' || last === 'name' ? last : undefined;
  const names = field ? parts.slice(0, -1) : parts;
  const policy = names.at(-1);
  if (!policy || field === 'name') return undefined;
  if (field === undefined) {
    const ref = parseImageReference(node.value);
    return {
      ...base(node, file, starts),
      field: 'reference',
      repository: ref.name,
      policy,
      currentTag: ref.tag,
      currentDigest: ref.digest,
      via: 'marker',
    };
  }
  const { tag, digest } = field === 'digest' ? { tag: undefined, digest: node.value } : splitTag(node.value);
  return {
    ...base(node, file, starts),
    field,
    repository: undefined,
    policy,
    currentTag: tag,
    currentDigest: digest,
    via: 'marker',
  };
}

/** A Kustomize `images:` entry's `name:` (never a Helm-style map's). */
function entryOf(fields: ReadonlyMap<string, ScalarNode>): { entryName?: string } {
  const name = fields.get('name')?.value;
  return name === undefined ? {} : { entryName: name };
}

/** `image: repo:tag`; Kustomize `images:` entries (name/newName + newTag); Helm's repository + tag. */
function fieldLocations(
  fields: ReadonlyMap<string, ScalarNode>,
  file: string,
  starts: number[],
): TagLocation[] {
  const found: TagLocation[] = [];
  const image = fields.get('image');
  if (image && editable(image) && image.value !== '' && !/\s/.test(image.value)) {
    const ref = parseImageReference(image.value);
    if (!(ref.tag === undefined && ref.digest !== undefined))
      found.push({
        ...base(image, file, starts),
        field: 'reference',
        repository: ref.name,
        policy: undefined,
        currentTag: ref.tag,
        currentDigest: ref.digest,
        via: 'image:',
      });
  }
  const kustomizeTag = fields.get('newTag');
  const kustomizeName = fields.get('newName') ?? fields.get('name');
  if (kustomizeTag && kustomizeName && editable(kustomizeTag)) {
    const { tag, digest } = splitTag(kustomizeTag.value);
    found.push({
      ...base(kustomizeTag, file, starts),
      field: 'tag',
      repository: kustomizeName.value,
      policy: undefined,
      currentTag: tag,
      currentDigest: digest,
      via: 'newTag',
      pinnedBeside: fields.has('digest'),
      ...entryOf(fields),
    });
  }
  // A digest beside the tag (Kustomize's `digest:`, many charts' `image.digest`) wins over the tag
  // where the image is built: it moves with the tag, or the bump would change nothing.
  const digestField = fields.get('digest');
  const digestOwner = fields.get('newName') ?? fields.get('name') ?? fields.get('repository');
  if (digestField && digestOwner && editable(digestField) && digestField.value.startsWith('sha256:')) {
    const registry = fields.has('repository') ? fields.get('registry')?.value : undefined;
    found.push({
      ...base(digestField, file, starts),
      field: 'digest',
      repository: registry ? `${registry}/${digestOwner.value}` : digestOwner.value,
      policy: undefined,
      currentTag: splitTag((fields.get('newTag') ?? fields.get('tag'))?.value ?? '').tag,
      currentDigest: digestField.value,
      via: 'digest',
      ...(fields.has('repository') ? {} : entryOf(fields)),
    });
  }
  const helmTag = fields.get('tag');
  const helmRepository = fields.get('repository');
  if (helmTag && helmRepository && editable(helmTag)) {
    const registry = fields.get('registry')?.value;
    const { tag, digest } = splitTag(helmTag.value);
    found.push({
      ...base(helmTag, file, starts),
      field: 'tag',
      repository: registry ? `${registry}/${helmRepository.value}` : helmRepository.value,
      policy: undefined,
      currentTag: tag,
      currentDigest: digest,
      via: 'tag',
      pinnedBeside: fields.has('digest'),
    });
  }
  return found;
}
