import type { Provenance } from '../yaml/manifest.ts';
import { isPlainObject } from '../objects.ts';
import { valueAt } from './kustomize-patches.ts';
import type { SourceFiles } from './source-files.ts';

interface ValueLine {
  readonly file: string;
  readonly line: number;
}

// Too common to say where they came from: `true`, `80`, `web`, `1.0`…
const MIN_LENGTH = 4;
const COMMON = new Set(['true', 'false', 'yes', 'no', 'on', 'off', 'null', 'none', 'default']);

/**
 * The values-file line a changed field of a Helm release comes from, only when certain: the field's
 * new value holds (as a whole, or as a `:`/`/`/`@`-separated part, like an image tag) a scalar that
 * is written exactly once in the release's values files, long and unusual enough not to be there by
 * chance, and that its previous value did not hold.
 */
export function valuesTracer(
  files: SourceFiles,
  valuesFiles: readonly string[],
  via: string,
): (rendered: unknown) => (field: readonly string[], previous?: unknown) => Provenance | undefined {
  let index: Map<string, ValueLine[]> | undefined;
  return (rendered) => (field, previous) => {
    // A Secret's values are not matched at all: not even a line may hint at what they are.
    if (isPlainObject(rendered) && rendered.kind === 'Secret') return undefined;
    const value = valueAt(rendered, field);
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    index ??= indexValues(files, valuesFiles);
    const before = typeof previous === 'string' || typeof previous === 'number' ? String(previous) : '';
    const found = partsOf(String(value))
      .filter((part) => !partsOf(before).includes(part))
      .flatMap((part) => index?.get(part) ?? []);
    const only = found.length === 1 ? found[0] : undefined;
    return only ? { file: only.file, line: only.line, via: `${via} values` } : undefined;
  };
}

/** The value itself and its `:`, `/`, `@` and `=`-separated parts, each only if distinctive. */
function partsOf(value: string): string[] {
  if (value === '') return [];
  const parts = new Set([value, ...value.split(/[:/@=]/)]);
  return [...parts].filter((part) => part.length >= MIN_LENGTH && !COMMON.has(part.toLowerCase()));
}

/** Every scalar of the values files, by its text, with the line of its key; once per occurrence. */
function indexValues(files: SourceFiles, valuesFiles: readonly string[]): Map<string, ValueLine[]> {
  const index = new Map<string, ValueLine[]>();
  for (const file of valuesFiles) {
    const document = files.get(file)?.documents[0];
    if (!document) continue;
    const walk = (value: unknown, at: string[]): void => {
      if (isPlainObject(value)) for (const [key, child] of Object.entries(value)) walk(child, [...at, key]);
      else if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...at, String(i)]));
      else if (typeof value === 'string' || typeof value === 'number') {
        const line = document.keyLines.get(at.join('.')) ?? document.keyLines.get(at.slice(0, -1).join('.'));
        const text = String(value);
        if (line === undefined || text.length < MIN_LENGTH || COMMON.has(text.toLowerCase())) return;
        index.set(text, [...(index.get(text) ?? []), { file, line }]);
      }
    };
    walk(document.value, []);
  }
  return index;
}
