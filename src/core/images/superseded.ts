// A resource's `image:` line whose tag kustomize sets elsewhere (an `images:` entry, a patch) is
// not where the tag lives: editing it too would leave two places claiming one tag, and the next
// reader would not know which one wins. Such lines are dropped from the file search, with a note.

import path from 'node:path';
import { formatLocation } from '../errors.ts';
import type { TagLocation } from './locate.ts';
import { canonicalRepository } from './reference.ts';
import { locationKey } from './trace.ts';

/** A rendered object's own document, whose image of `policy` the render took from `from`. */
export interface OverriddenDocument {
  readonly file: string;
  /** The document's first and past-the-last lines. */
  readonly start: number;
  readonly end: number;
  readonly policy: string;
  readonly from: { readonly file: string; readonly line: number };
}

export interface Superseded {
  readonly kept: TagLocation[];
  readonly notes: string[];
}

/**
 * With a render: an unmarked location of the policy inside an overridden document is dropped,
 * unless the render traced some image to it too.
 */
export function supersededInRender(
  searched: readonly TagLocation[],
  overridden: readonly OverriddenDocument[],
  traced: readonly TagLocation[],
  policyOf: (location: TagLocation) => string | undefined,
): Superseded {
  const live = new Set(traced.map(locationKey));
  const notes: string[] = [];
  const kept = searched.filter((location) => {
    if (location.policy !== undefined || live.has(locationKey(location))) return true;
    const policy = policyOf(location);
    const by = overridden.find(
      (d) =>
        d.policy === policy && d.file === location.file && location.line >= d.start && location.line < d.end,
    );
    if (by)
      notes.push(
        `${formatLocation(location)}: not edited: the render takes its tag from ${formatLocation(by.from)}`,
      );
    return by === undefined;
  });
  return { kept, notes };
}

/**
 * Without a render (kustomize missing, the render failed) which kustomization includes which file
 * is unknown: an unmarked `image:` whose repository a kustomize `images:` entry names, in a file
 * in that kustomization's folder or below, is taken to be set by the entry, as it almost always is.
 */
export function supersededByEntries(searched: readonly TagLocation[]): Superseded {
  const entries = searched.filter((l) => l.entryName !== undefined);
  const notes: string[] = [];
  const kept = searched.filter((location) => {
    if (location.policy !== undefined || location.via !== 'image:' || location.repository === undefined)
      return true;
    const repository = canonicalRepository(location.repository);
    const entry = entries.find(
      (e) =>
        canonicalRepository(e.entryName ?? '') === repository &&
        e.file !== location.file &&
        within(path.posix.dirname(e.file), location.file),
    );
    if (entry)
      notes.push(
        `${formatLocation(location)}: not edited: the kustomize \`images:\` entry at ${formatLocation(entry)} sets its tag (not checked by a render)`,
      );
    return entry === undefined;
  });
  return { kept, notes };
}

function within(folder: string, file: string): boolean {
  return folder === '.' || !path.posix.relative(folder, file).startsWith('..');
}
