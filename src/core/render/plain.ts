import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { RepoPaths } from '../paths.ts';
import { kustomizationFile } from './kustomize-graph.ts';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Larger than any sane manifest file; reading it whole would only hurt. */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

export interface SourceTree {
  /** Repo-relative manifest files, sorted. */
  readonly files: string[];
  /** Repo-relative folders holding a kustomization, rendered with kustomize instead. */
  readonly kustomizations: string[];
}

/**
 * Lists what an environment folder renders from, in a stable order. A folder with a
 * kustomization is handed to kustomize whole; Helm chart folders (Chart.yaml) and files the
 * config names as Helm values are not manifests; nor are hidden files or anything not YAML/JSON.
 */
export function scanTree(repo: RepoPaths, envDir: string, excluded: ReadonlySet<string>): SourceTree {
  const files: string[] = [];
  const kustomizations: string[] = [];
  walk(envDir);
  return { files, kustomizations };

  function walk(dir: string): void {
    repo.assertRealInside(dir, 'folder');
    if (kustomizationFile(dir)) {
      kustomizations.push(repo.relative(dir));
      return;
    }
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (error) {
      throw new UserError('path', `cannot read folder "${repo.relative(dir)}"`, { cause: error });
    }
    if (entries.includes('Chart.yaml')) return;
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const absolute = path.join(dir, name);
      const relative = repo.relative(absolute);
      if (excluded.has(relative)) continue;
      repo.assertRealInside(absolute, repo.isSymlink(absolute) ? 'symlink' : 'file');
      const stat = statSync(absolute);
      if (stat.isDirectory()) walk(absolute);
      else if (stat.isFile() && MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase()))
        files.push(relative);
    }
  }
}

/** Reads a manifest file as UTF-8 text, refusing binary content and oversized files. */
export function readManifestText(repo: RepoPaths, relative: string): string {
  const absolute = repo.resolve(relative, 'manifest');
  const size = statSync(absolute).size;
  if (size > MAX_FILE_BYTES) {
    throw new UserError(
      'manifest',
      `${relative} is ${(size / 1024 / 1024).toFixed(1)} MiB, over Slipway's ${MAX_FILE_BYTES / 1024 / 1024} MiB limit for one file`,
      {
        location: { file: relative, line: 0 },
        hint: 'split it into smaller files; the API server refuses objects over 1.5 MiB anyway',
      },
    );
  }
  const buffer = readFileSync(absolute);
  if (buffer.includes(0)) {
    throw new UserError('manifest', `${relative} is a binary file, not YAML`, {
      location: { file: relative, line: 0 },
      hint: 'remove it from the environment folder or rename it so it does not end in .yaml/.yml/.json',
    });
  }
  return buffer.toString('utf8');
}
