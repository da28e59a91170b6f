import {
  constructFromEvents,
  defineScalarTag,
  DUMP_SCHEMA,
  NOT_RESOLVED,
  parseEvents,
  type Event,
} from 'js-yaml';
import { UserError } from '../errors.ts';
import { assertKubectlDocuments, assertKubectlSeparators } from './yaml-cut.ts';
import { constructLikeKubectl, KubectlYamlError, type KubectlYamlNote } from './yaml-kubectl.ts';
import { resolveScalar } from './yaml11.ts';

/** One parsed YAML document, with the line its content starts on and the lines of its keys. */
export interface YamlDocument {
  readonly value: unknown;
  /** 1-based line of the document's content. */
  readonly line: number;
  /** Dotted key path (`metadata.name`, `spec.template`) to the 1-based line of that key. */
  readonly keyLines: ReadonlyMap<string, number>;
  /** Read as kubectl reads it, but worth a warning (an integer JavaScript cannot hold exactly). */
  readonly warnings?: readonly { readonly line: number; readonly message: string }[];
}

// Alias expansion is how a "billion laughs" document explodes; real manifests barely use aliases.
const MAX_ALIASES = 100;
// Deeper than any real manifest, shallow enough that recursion elsewhere stays safe.
const MAX_DEPTH = 64;
// Aliases share one value, so a few dozen can stand for billions of nodes ("billion laughs"), and an
// alias inside its own anchor makes a cycle: a document may expand to at most this many nodes.
const MAX_EXPANDED_NODES = 1_000_000;
// Only shallow keys are worth a line number in messages; deeper ones cost memory on big renders.
const KEY_LINE_DEPTH = 4;

const EVENT = { DOCUMENT: 1, SEQUENCE: 2, MAPPING: 3, SCALAR: 4, ALIAS: 5, POP: 6 } as const;

export interface YamlOptions {
  /**
   * Read values as kubectl, Helm and Flux do (YAML 1.1 by go-yaml v2: `0400` is 256, `yes` is
   * true, `<<` merges): for Kubernetes manifests. Otherwise YAML 1.2 core, for Slipway's own files.
   */
  readonly kubectl?: boolean;
  /** How deep to index key lines (default 4): deeper for files whose fields are traced (patches, values). */
  readonly keyLineDepth?: number;
}

/**
 * For `dump`: quotes every string kubectl or Helm would read back as something else. js-yaml's own
 * dump schema misses a few of go-yaml's forms (`0X1f`, `0b-101`, `.5_5`, `0_x10`).
 */
export const KUBECTL_DUMP_SCHEMA = DUMP_SCHEMA.withTags(
  defineScalarTag('tag:slipway.dev,2026:kubectl-non-string', {
    implicit: true,
    implicitFirstChars: null,
    resolve: (source) => {
      try {
        return resolveScalar(source, '', true).type === 'str' ? NOT_RESOLVED : source;
      } catch {
        return source;
      }
    },
    identify: () => false,
  }),
);

/**
 * Parses a multi-document YAML (or JSON) text. Throws a UserError with the file and line of the
 * first syntax problem; duplicate keys are errors: kubectl would silently keep one of them.
 */
export function parseYamlDocuments(text: string, file: string, options: YamlOptions = {}): YamlDocument[] {
  const lines = lineStarts(text);
  let events: Event[];
  let values: unknown[];
  let notes: (readonly KubectlYamlNote[])[] = [];
  try {
    if (options.kubectl) assertKubectlSeparators(text);
    events = parseEvents(text, { filename: file, maxDepth: MAX_DEPTH });
    if (options.kubectl) assertKubectlDocuments(events);
    if (options.kubectl) {
      const read = constructLikeKubectl(events, text, {
        maxAliases: MAX_ALIASES,
        maxExpandedNodes: MAX_EXPANDED_NODES,
      });
      values = read.map((document) => document.value);
      notes = read.map((document) => document.notes);
    } else {
      values = constructFromEvents(events, { source: text, filename: file, maxAliases: MAX_ALIASES });
    }
  } catch (error) {
    if (error instanceof KubectlYamlError) {
      throw new UserError('yaml', `invalid YAML: ${error.message}`, {
        location: { file, line: lineOf(lines, error.offset) },
        hint: error.hint,
        cause: error,
      });
    }
    throw yamlError(error, file);
  }
  const documents: YamlDocument[] = [];
  const hasAliases = events.some((event) => event.type === EVENT.ALIAS);
  let index = 0;
  let i = 0;
  while (i < events.length) {
    const event = events[i];
    if (event?.type !== EVENT.DOCUMENT) {
      i++;
      continue;
    }
    const { end, keyLines, start } = indexDocument(
      text,
      events,
      i + 1,
      lines,
      options.keyLineDepth ?? KEY_LINE_DEPTH,
    );
    if (hasAliases && !options.kubectl) assertBoundedExpansion(values[index], file, start);
    const warnings = (notes[index] ?? []).map((note) => ({
      line: lineOf(lines, note.offset),
      message: note.message,
    }));
    documents.push({
      value: values[index],
      line: start,
      keyLines,
      ...(warnings.length > 0 ? { warnings } : {}),
    });
    index++;
    i = end;
  }
  return documents;
}

function assertBoundedExpansion(value: unknown, file: string, line: number): void {
  // Nodes below each collection, counted once per collection; a collection still being counted
  // when it is reached again is a cycle, which counts as too many.
  const sizes = new Map<object, number>();
  const size = (node: unknown): number => {
    if (typeof node !== 'object' || node === null) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, Infinity);
    let total = 1;
    for (const child of Object.values(node)) {
      total += size(child);
      if (total > MAX_EXPANDED_NODES) break;
    }
    sizes.set(node, total);
    return total;
  };
  if (size(value) > MAX_EXPANDED_NODES) {
    throw new UserError(
      'yaml',
      `invalid YAML: aliases expand this document to more than ${MAX_EXPANDED_NODES.toLocaleString('en')} values, or into a loop`,
      {
        location: { file, line },
        hint: 'write the values out instead of repeating them through anchors and aliases (`&name` / `*name`)',
      },
    );
  }
}

function indexDocument(
  text: string,
  events: Event[],
  from: number,
  lines: number[],
  keyLineDepth: number,
): { end: number; start: number; keyLines: Map<string, number> } {
  const keyLines = new Map<string, number>();
  // A frame per open collection: for mappings, whether the next scalar is a key, and the key seen.
  const stack: {
    mapping: boolean;
    expectKey: boolean;
    path: string;
    key: string | undefined;
    index: number;
  }[] = [];
  let start = 0;
  let i = from;
  for (; i < events.length; i++) {
    const event = events[i];
    if (!event) break;
    if (event.type === EVENT.POP) {
      if (stack.length === 0) return { end: i + 1, start: start || 1, keyLines };
      stack.pop();
      afterValue(stack);
      continue;
    }
    if (event.type === EVENT.DOCUMENT) break;
    const offset =
      event.type === EVENT.SCALAR
        ? event.valueStart
        : event.type === EVENT.ALIAS
          ? event.anchorStart
          : event.start;
    if (start === 0) start = lineOf(lines, offset);
    const parent = stack[stack.length - 1];
    if (parent?.mapping && parent.expectKey) {
      const key = event.type === EVENT.SCALAR ? text.slice(event.valueStart, event.valueEnd) : '?';
      parent.key = key;
      parent.expectKey = false;
      if (stack.length <= keyLineDepth) {
        const path = parent.path ? `${parent.path}.${key}` : key;
        if (!keyLines.has(path)) keyLines.set(path, lineOf(lines, offset));
      }
      continue;
    }
    const path = childPath(parent);
    if (event.type === EVENT.MAPPING || event.type === EVENT.SEQUENCE) {
      stack.push({ mapping: event.type === EVENT.MAPPING, expectKey: true, path, key: undefined, index: 0 });
    } else {
      afterValue(stack);
    }
  }
  return { end: i, start: start || 1, keyLines };
}

function childPath(
  parent: { mapping: boolean; path: string; key: string | undefined; index: number } | undefined,
): string {
  if (!parent) return '';
  const segment = parent.mapping ? (parent.key ?? '?') : String(parent.index);
  return parent.path ? `${parent.path}.${segment}` : segment;
}

function afterValue(stack: { mapping: boolean; expectKey: boolean; index: number }[]): void {
  const top = stack[stack.length - 1];
  if (!top) return;
  if (top.mapping) top.expectKey = true;
  else top.index++;
}

/** Offsets where each line of `text` starts, for lineOf. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line containing a 0-based offset (binary search over line starts). */
export function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

function yamlError(error: unknown, file: string): UserError {
  const mark = (error as { mark?: { line?: number } } | undefined)?.mark;
  const reason =
    (error as { reason?: string } | undefined)?.reason ??
    (error instanceof Error ? error.message : String(error));
  const line = typeof mark?.line === 'number' ? mark.line + 1 : 0;
  return new UserError('yaml', `invalid YAML: ${reason}`, {
    location: { file, line },
    hint: 'fix the syntax at that line; YAML forbids tabs for indentation and duplicate keys',
    cause: error,
  });
}
