import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { isPlainObject } from '../objects.ts';
import type { RepoPaths } from '../paths.ts';
import { parseYamlDocuments } from '../yaml/yaml.ts';
import { isRemoteReference, type RemoteRead } from './remote.ts';

export const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

export function kustomizationFile(dir: string): string | undefined {
  try {
    const entries = new Set(readdirSync(dir));
    return KUSTOMIZATION_NAMES.map((name) => path.join(dir, name)).find((file) =>
      entries.has(path.basename(file)),
    );
  } catch {
    return undefined;
  }
}

/** Fields of a kustomization that name local files or folders. */
const PATH_LISTS = [
  'resources',
  'bases',
  'components',
  'crds',
  'patchesStrategicMerge',
  'configurations',
  'transformers',
  'generators',
  'validators',
];
const GENERATORS = ['configMapGenerator', 'secretGenerator'];

/**
 * Everything a kustomization reads, transitively, as repo-relative paths (files and folders).
 * Each path is confined to the repository: a reference that leaves it is a UserError naming the
 * kustomization file and line, before kustomize itself ever runs. Remote references (which
 * kustomize would fetch) are collected in `remotes` with their file and line.
 */
export function kustomizeDependencies(
  repo: RepoPaths,
  dir: string,
  seen = new Set<string>(),
  remotes: RemoteRead[] = [],
): Set<string> {
  const result = new Set<string>();
  visit(dir);
  return result;

  function visit(folder: string): void {
    const file = kustomizationFile(folder);
    if (!file || seen.has(file)) return;
    seen.add(file);
    repo.assertRealInside(folder, 'kustomization folder');
    repo.assertRealInside(file, 'kustomization');
    result.add(repo.relative(folder));
    result.add(repo.relative(file));
    const relFile = repo.relative(file);
    const documents = parseYamlDocuments(readFileSync(file, 'utf8'), relFile);
    const document = documents[0];
    const spec = document?.value;
    if (!isPlainObject(spec)) return;
    const lineOf = (key: string): number => document?.keyLines.get(key) ?? 0;
    const refer = (reference: string, key: string): void => {
      if (isRemoteReference(reference)) {
        // Nothing local to follow; the render decides whether kustomize may fetch it.
        remotes.push({ reference, location: { file: relFile, line: lineOf(key) }, what: `kustomize ${key}` });
        return;
      }
      let absolute: string;
      try {
        absolute = repo.resolve(
          path.relative(repo.root, path.resolve(folder, reference)) || '.',
          `path "${reference}"`,
        );
      } catch (error) {
        if (error instanceof UserError) {
          throw new UserError(
            'path',
            `${relFile} refers to "${reference}", which is outside the repository`,
            {
              location: { file: relFile, line: lineOf(key) },
              hint: 'kustomizations may only use files inside the repository',
            },
          );
        }
        throw error;
      }
      if (!repo.exists(absolute)) {
        throw new UserError('render', `${relFile} refers to "${reference}", which does not exist`, {
          location: { file: relFile, line: lineOf(key) },
          hint: 'fix the path or add the missing file',
        });
      }
      result.add(repo.relative(absolute));
      if (kustomizationFile(absolute)) visit(absolute);
    };
    for (const key of PATH_LISTS) {
      const list = spec[key];
      if (Array.isArray(list)) for (const item of list) if (typeof item === 'string') refer(item, key);
    }
    for (const key of ['patches', 'patchesJson6902', 'replacements']) {
      const list = spec[key];
      if (Array.isArray(list))
        for (const item of list)
          if (isPlainObject(item) && typeof item.path === 'string') refer(item.path, key);
    }
    for (const key of GENERATORS) {
      const list = spec[key];
      if (!Array.isArray(list)) continue;
      for (const generator of list) {
        if (!isPlainObject(generator)) continue;
        for (const field of ['files', 'envs']) {
          const files = generator[field];
          if (Array.isArray(files))
            for (const entry of files)
              if (typeof entry === 'string')
                refer(entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : entry, key);
        }
        if (typeof generator.env === 'string') refer(generator.env, key);
      }
    }
    const helmGlobals = spec.helmGlobals;
    if (isPlainObject(helmGlobals) && typeof helmGlobals.chartHome === 'string')
      refer(helmGlobals.chartHome, 'helmGlobals');
    const openapi = spec.openapi;
    if (isPlainObject(openapi) && typeof openapi.path === 'string') refer(openapi.path, 'openapi');
  }
}
