import { readFileSync } from 'node:fs';
import type { Provenance } from '../yaml/manifest.ts';
import type { RepoPaths } from '../paths.ts';
import { parseYamlDocuments, type YamlDocument } from '../yaml/yaml.ts';

// Deep enough for a container's field in a patch (`spec.template.spec.containers.0.env.0.value`).
const TRACE_KEY_DEPTH = 16;

/** One repository file read for tracing: its documents with deep key lines, and its raw lines. */
export interface SourceFile {
  readonly file: string;
  readonly documents: readonly YamlDocument[];
  readonly lines: readonly string[];
}

/**
 * Repository files read once per render to trace objects and fields back to their lines. A file
 * that cannot be read or parsed traces to nothing: tracing only adds precision, it never fails a
 * render (kustomize or helm already read these files and would have said what is wrong).
 */
export class SourceFiles {
  readonly #repo: RepoPaths;
  readonly #cache = new Map<string, SourceFile | undefined>();

  constructor(repo: RepoPaths) {
    this.#repo = repo;
  }

  /** A repo-relative file, or undefined when it is missing, outside the repository or not YAML. */
  get(file: string): SourceFile | undefined {
    if (this.#cache.has(file)) return this.#cache.get(file);
    const read = this.#read(file);
    this.#cache.set(file, read);
    return read;
  }

  /** The text of a repo-relative file (for generator files), undefined when unreadable. */
  text(file: string): string | undefined {
    try {
      return readFileSync(this.#repo.resolve(file, 'traced file'), 'utf8');
    } catch {
      return undefined;
    }
  }

  #read(file: string): SourceFile | undefined {
    const text = this.text(file);
    if (text === undefined) return undefined;
    try {
      const documents = parseYamlDocuments(text, file, { kubectl: true, keyLineDepth: TRACE_KEY_DEPTH });
      return { file, documents, lines: text.split('\n') };
    } catch {
      return undefined;
    }
  }
}

/** Line of a key path in a document: the key itself, else the first key below it, else a parent's. */
export function lineOfPath(document: YamlDocument, segments: readonly string[]): number | undefined {
  for (let depth = segments.length; depth > 0; depth--) {
    const key = segments.slice(0, depth).join('.');
    const exact = document.keyLines.get(key);
    if (exact !== undefined) return exact;
    let first: number | undefined;
    for (const [path, line] of document.keyLines)
      if (path.startsWith(`${key}.`) && (first === undefined || line < first)) first = line;
    if (first !== undefined) return first;
  }
  return undefined;
}

/**
 * A plain file's field at its own line, at any depth (the render's own index stops at 4 levels to
 * spare memory): the file is indexed again only when a change asks, for the document at `source`.
 */
export function fieldLineIn(
  files: SourceFiles,
  source: Provenance,
): (field: readonly string[]) => Provenance | undefined {
  return (field) => {
    const document = files.get(source.file)?.documents.find((d) => d.line === source.line);
    const line = document?.keyLines.get(field.join('.'));
    return line === undefined ? undefined : { ...source, line };
  };
}
