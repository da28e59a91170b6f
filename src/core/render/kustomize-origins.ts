import path from 'node:path';
import { isPlainObject, type KubeObject } from '../objects.ts';
import { parseYamlDocuments } from '../yaml/yaml.ts';

/** Set by kustomize's `buildMetadata: [originAnnotations]`: the file (or generator) of an object. */
export const ORIGIN_ANNOTATION = 'config.kubernetes.io/origin';
/** Set by `buildMetadata: [transformerAnnotations]`: the kustomizations whose transformers ran. */
export const TRANSFORMATIONS_ANNOTATION = 'alpha.config.kubernetes.io/transformations';

/** Where kustomize says an object came from, with paths made repo-relative. */
export interface KustomizeOrigin {
  /** The resource file it was read from (repo-relative); undefined when generated or remote. */
  readonly file?: string;
  /** The kustomization (repo-relative) of the generator that made it, and the generator's kind. */
  readonly generator?: { readonly kustomization: string; readonly kind: string };
  /** A remote base (`repo` of the annotation): nothing in this repository to point at. */
  readonly remote?: string;
  /** Kustomization files (repo-relative, unique, in the order kustomize ran them) that transformed it. */
  readonly kustomizations: readonly string[];
}

/**
 * Takes kustomize's build annotations off an object (they describe the build, not the object: they
 * must never be applied nor shown in a diff) and returns what they said. `toRepo` maps a path as
 * kustomize printed it to a repo-relative one, or undefined for a path outside the repository.
 */
export function takeOrigin(
  object: KubeObject,
  toRepo: (printed: string) => string | undefined,
): { object: KubeObject; origin: KustomizeOrigin | undefined } {
  const annotations = object.metadata.annotations;
  if (!annotations || !(ORIGIN_ANNOTATION in annotations || TRANSFORMATIONS_ANNOTATION in annotations))
    return { object, origin: undefined };
  const {
    [ORIGIN_ANNOTATION]: originText,
    [TRANSFORMATIONS_ANNOTATION]: transformationsText,
    ...rest
  } = annotations;
  const { annotations: _taken, ...others } = object.metadata;
  const metadata = Object.keys(rest).length === 0 ? others : { ...others, annotations: rest };
  const origin = readYaml(originText);
  const transformations = readYaml(transformationsText);
  const kustomizations: string[] = [];
  for (const step of Array.isArray(transformations) ? transformations : []) {
    const file =
      isPlainObject(step) && typeof step.configuredIn === 'string' ? toRepo(step.configuredIn) : undefined;
    if (file && !kustomizations.includes(file)) kustomizations.push(file);
  }
  return { object: { ...object, metadata }, origin: originOf(origin, kustomizations, toRepo) };
}

function originOf(
  origin: unknown,
  kustomizations: string[],
  toRepo: (printed: string) => string | undefined,
): KustomizeOrigin {
  if (!isPlainObject(origin)) return { kustomizations };
  if (typeof origin.repo === 'string' && origin.repo !== '') return { remote: origin.repo, kustomizations };
  if (typeof origin.path === 'string') {
    const file = toRepo(origin.path);
    return file ? { file, kustomizations } : { kustomizations };
  }
  const by = origin.configuredBy;
  const kustomization = typeof origin.configuredIn === 'string' ? toRepo(origin.configuredIn) : undefined;
  if (kustomization && isPlainObject(by) && typeof by.kind === 'string')
    return { generator: { kustomization, kind: by.kind }, kustomizations };
  return { kustomizations };
}

function readYaml(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return parseYamlDocuments(text, ORIGIN_ANNOTATION)[0]?.value;
  } catch {
    return undefined;
  }
}

/**
 * Maps the paths kustomize prints (relative to the wrapper kustomization's real folder) to
 * repo-relative ones; anything that resolves outside the real repository root maps to undefined.
 */
export function repoPathMapper(
  wrapperDir: string,
  realRoot: string,
): (printed: string) => string | undefined {
  return (printed) => {
    if (path.isAbsolute(printed) || /^[a-z]+:\/\//i.test(printed)) return undefined;
    const relative = path.relative(realRoot, path.resolve(wrapperDir, printed));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
    return relative.split(path.sep).join('/');
  };
}
