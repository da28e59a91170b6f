import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.ts';

/**
 * Every file Slipway reads comes through here: a path relative to the repository root that may
 * not leave it, neither by `..`, by being absolute, nor through a symlink that resolves outside.
 */
export class RepoPaths {
  readonly root: string;
  private readonly realRoot: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.realRoot = realpathSync(this.root);
  }

  /**
   * Resolves `relative` (from the repository root, or from `from`, a repo-relative folder) to an
   * absolute path inside the repository, or throws a UserError naming `what`.
   */
  resolve(relative: string, what: string, from = '.'): string {
    if (path.isAbsolute(relative)) {
      throw new UserError('path', `${what} "${relative}" is an absolute path`, {
        hint: 'use a path relative to the repository root; Slipway reads nothing outside the repository',
      });
    }
    const absolute = path.resolve(this.root, from, relative);
    if (!isInside(this.root, absolute)) {
      throw new UserError('path', `${what} "${relative}" points outside the repository`, {
        hint: 'keep every path inside the repository; ".." may not climb above its root',
      });
    }
    this.assertRealInside(absolute, what, relative);
    return absolute;
  }

  /** Repo-relative form with forward slashes, for messages and provenance. */
  relative(absolute: string): string {
    return path.relative(this.root, absolute).split(path.sep).join('/') || '.';
  }

  /** Throws when an existing path resolves (through symlinks) outside the repository. */
  assertRealInside(absolute: string, what: string, shown = this.relative(absolute)): void {
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch {
      return; // does not exist: the caller reports that in its own words
    }
    if (!isInside(this.realRoot, real)) {
      throw new UserError('path', `${what} "${shown}" is a symlink that resolves outside the repository`, {
        hint: 'replace the symlink with the file itself; Slipway reads nothing outside the repository',
      });
    }
  }

  exists(absolute: string): boolean {
    try {
      statSync(absolute);
      return true;
    } catch {
      return false;
    }
  }

  isSymlink(absolute: string): boolean {
    try {
      return lstatSync(absolute).isSymbolicLink();
    } catch {
      return false;
    }
  }
}

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
