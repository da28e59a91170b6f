// Builds JSON values from js-yaml's event stream the way kubectl does (sigs.k8s.io/yaml over
// go-yaml v2), rather than with js-yaml's YAML 1.2 constructor: scalars resolve by yaml11.ts, `<<`
// merges follow go-yaml (a merge overrides keys written before it, earlier maps in a merge list
// win), keys become strings, and every alias is copied, never shared, so later edits to one place
// (labels Slipway adds) cannot leak into another.
import { getScalarValue, type DocumentEvent, type Event } from 'js-yaml';
import { jsonValue, keyString, resolveScalar, ScalarError, TAG_PREFIX, type Scalar } from './yaml11.ts';

type Node =
  | { kind: 'scalar'; text: string; tag: string; plain: boolean; offset: number }
  | { kind: 'map'; children: Node[]; offset: number }
  | { kind: 'seq'; children: Node[]; offset: number }
  | { kind: 'alias'; target: Node; name: string; offset: number };

/** A document kubectl would refuse; `offset` is where in the text. */
export class KubectlYamlError extends Error {
  readonly offset: number;
  readonly hint: string;
  constructor(message: string, offset: number, hint = SCALAR_HINT) {
    super(message);
    this.offset = offset;
    this.hint = hint;
  }
}

const SCALAR_HINT =
  'Slipway reads manifests as kubectl does (YAML 1.1): quote a key or value to keep it as text';

export interface Limits {
  readonly maxAliases: number;
  readonly maxExpandedNodes: number;
}

export const EVENT = { DOCUMENT: 1, SEQUENCE: 2, MAPPING: 3, SCALAR: 4, ALIAS: 5, POP: 6 } as const;
const STYLE_PLAIN = 1;
const MERGE_TAG = `${TAG_PREFIX}merge`;

/** Something kubectl does too, but that the user should hear of; `offset` is where. */
export interface KubectlYamlNote {
  readonly offset: number;
  readonly message: string;
}

interface DecodeState {
  readonly expanding: Set<Node>;
  /** By offset: a value behind an alias used twice is noted once. */
  readonly notes: Map<number, string>;
}

/** One value per document of the event stream, as kubectl's YAML-to-JSON step makes it. */
export function constructLikeKubectl(
  events: Event[],
  text: string,
  limits: Limits,
): { value: unknown; notes: KubectlYamlNote[] }[] {
  const values: { value: unknown; notes: KubectlYamlNote[] }[] = [];
  let i = 0;
  while (i < events.length) {
    const event = events[i];
    if (event?.type !== EVENT.DOCUMENT) {
      i++;
      continue;
    }
    const builder = new TreeBuilder(text, event);
    i = builder.read(events, i + 1);
    const root = builder.root;
    if (builder.aliases > limits.maxAliases) {
      throw new KubectlYamlError(
        `more than ${limits.maxAliases} aliases in one document`,
        builder.firstAliasOffset,
      );
    }
    if (root && builder.aliases > 0 && expandedSize(root, new Map()) > limits.maxExpandedNodes) {
      throw new KubectlYamlError(
        `aliases expand this document to more than ${limits.maxExpandedNodes.toLocaleString('en')} values, or into a loop`,
        root.offset,
      );
    }
    const state: DecodeState = { expanding: new Set(), notes: new Map() };
    const value = root ? decode(root, state) : null;
    values.push({ value, notes: [...state.notes].map(([offset, message]) => ({ offset, message })) });
  }
  return values;
}

class TreeBuilder {
  root: Node | undefined;
  aliases = 0;
  firstAliasOffset = 0;
  private readonly anchors = new Map<string, Node>();
  private readonly stack: Node[] = [];
  private readonly text: string;
  private readonly document: DocumentEvent;

  constructor(text: string, document: DocumentEvent) {
    this.text = text;
    this.document = document;
  }

  /** Reads the document's events from `from`; returns the index after its closing event. */
  read(events: Event[], from: number): number {
    for (let i = from; i < events.length; i++) {
      const event = events[i];
      if (!event || event.type === EVENT.DOCUMENT) return i;
      if (event.type === EVENT.POP) {
        if (this.stack.length === 0) return i + 1;
        this.stack.pop();
        continue;
      }
      this.add(event);
    }
    return events.length;
  }

  private add(event: Exclude<Event, DocumentEvent | { type: 6 }>): void {
    let node: Node;
    if (event.type === EVENT.ALIAS) {
      const name = this.text.slice(event.anchorStart, event.anchorEnd);
      const target = this.anchors.get(name);
      if (!target) throw new KubectlYamlError(`unknown anchor '${name}' referenced`, event.anchorStart);
      if (this.aliases === 0) this.firstAliasOffset = event.anchorStart;
      this.aliases++;
      node = { kind: 'alias', target, name, offset: event.anchorStart };
    } else if (event.type === EVENT.SCALAR) {
      node = {
        kind: 'scalar',
        text: getScalarValue(this.text, event),
        tag: this.tag(event.tagStart, event.tagEnd),
        plain: event.style === STYLE_PLAIN,
        offset: event.valueStart,
      };
    } else {
      node = { kind: event.type === EVENT.MAPPING ? 'map' : 'seq', children: [], offset: event.start };
    }
    if (event.type !== EVENT.ALIAS && event.anchorStart >= 0) {
      this.anchors.set(this.text.slice(event.anchorStart, event.anchorEnd), node);
    }
    const parent = this.stack[this.stack.length - 1];
    if (parent && parent.kind !== 'scalar' && parent.kind !== 'alias') parent.children.push(node);
    else this.root ??= node;
    if (node.kind === 'map' || node.kind === 'seq') this.stack.push(node);
  }

  /** The full tag, with `!!` and `%TAG` handles expanded as the YAML parser in kubectl does. */
  private tag(start: number, end: number): string {
    if (start < 0) return '';
    const written = this.text.slice(start, end);
    if (written.startsWith('!<') && written.endsWith('>')) return decodeURIComponent(written.slice(2, -1));
    for (const directive of this.document.directives) {
      if (directive.kind === 'tag' && written.startsWith(directive.handle) && written !== directive.handle) {
        return directive.prefix + decodeURIComponent(written.slice(directive.handle.length));
      }
    }
    if (written.startsWith('!!')) return TAG_PREFIX + decodeURIComponent(written.slice(2));
    return written;
  }
}

/** Values the document stands for once aliases are expanded; a loop counts as infinitely many. */
function expandedSize(node: Node, sizes: Map<Node, number>): number {
  if (node.kind === 'scalar') return 1;
  if (node.kind === 'alias') return expandedSize(node.target, sizes);
  const known = sizes.get(node);
  if (known !== undefined) return known;
  sizes.set(node, Infinity);
  let total = 1;
  for (const child of node.children) {
    total += expandedSize(child, sizes);
    if (!Number.isFinite(total)) break;
  }
  sizes.set(node, total);
  return total;
}

function decode(node: Node, state: DecodeState): unknown {
  switch (node.kind) {
    case 'scalar': {
      const scalar = attempt(node.offset, () => scalarOf(node));
      const value = attempt(node.offset, () => jsonValue(scalar, node.text));
      if ((scalar.type === 'int' || scalar.type === 'uint') && String(value) !== scalar.value.toString()) {
        // kubectl sends the exact 64-bit integer; JSON from a JavaScript number has other digits.
        state.notes.set(
          node.offset,
          `the integer ${node.text} is above 2^53 and is sent rounded, as ${String(value)}: quote it if it is text`,
        );
      }
      return value;
    }
    case 'alias':
      return followAlias(node, state, (target) => decode(target, state));
    case 'seq':
      return node.children.map((child) => decode(child, state));
    case 'map': {
      const object: Record<string, unknown> = {};
      decodeMapInto(node, object, state);
      return object;
    }
  }
}

function followAlias<T>(node: Node & { kind: 'alias' }, state: DecodeState, use: (target: Node) => T): T {
  if (state.expanding.has(node)) {
    throw new KubectlYamlError(`anchor '${node.name}' value contains itself (an alias loop)`, node.offset);
  }
  state.expanding.add(node);
  try {
    return use(node.target);
  } finally {
    state.expanding.delete(node);
  }
}

function decodeMapInto(
  node: Node & { kind: 'map' },
  object: Record<string, unknown>,
  state: DecodeState,
): void {
  const written = new Map<string, number>();
  for (let i = 0; i + 1 < node.children.length; i += 2) {
    const keyNode = node.children[i] as Node;
    const valueNode = node.children[i + 1] as Node;
    if (isMerge(keyNode)) {
      merge(valueNode, object, state);
      continue;
    }
    const key = decodeKey(keyNode, state);
    const first = written.get(key);
    if (first !== undefined) {
      throw new KubectlYamlError(
        `duplicated mapping key "${key}" (kubectl would silently keep one of the two)`,
        keyNode.offset,
      );
    }
    written.set(key, keyNode.offset);
    setKey(object, key, decode(valueNode, state));
  }
}

/** go-yaml: a `<<` value is a map, or a list of maps where the earlier ones win. */
function merge(node: Node, object: Record<string, unknown>, state: DecodeState): void {
  const sources = node.kind === 'seq' ? [...node.children].reverse() : [node];
  for (const source of sources) {
    const target = source.kind === 'alias' ? source.target : source;
    if (target.kind !== 'map') {
      throw new KubectlYamlError('map merge requires map or sequence of maps as the value', source.offset);
    }
    if (source.kind === 'alias') followAlias(source, state, () => decodeMapInto(target, object, state));
    else decodeMapInto(target, object, state);
  }
}

function isMerge(node: Node): boolean {
  return (
    node.kind === 'scalar' &&
    node.text === '<<' &&
    ((node.plain && node.tag === '') || node.tag === MERGE_TAG)
  );
}

function decodeKey(node: Node, state: DecodeState): string {
  if (node.kind === 'alias') return followAlias(node, state, (target) => decodeKey(target, state));
  if (node.kind !== 'scalar') {
    throw new KubectlYamlError('invalid map key: a key that is a map or a list', node.offset);
  }
  return attempt(node.offset, () => keyString(scalarOf(node), node.text));
}

function scalarOf(node: Node & { kind: 'scalar' }): Scalar {
  return resolveScalar(node.text, node.tag, node.plain);
}

function attempt<T>(offset: number, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ScalarError) throw new KubectlYamlError(error.message, offset);
    throw error;
  }
}

// A key named __proto__ is data in a manifest, never the object's prototype.
function setKey(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}
