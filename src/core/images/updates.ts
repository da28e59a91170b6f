// From located tags and what the registries hold, to the edits: pure, so the CLI and the pull-request
// job propose exactly the same bumps.

import type { TagLocation } from './locate.ts';
import type { ImagePolicy } from './policy.ts';
import { canonicalRepository, VALID_DIGEST, VALID_TAG } from './reference.ts';
import { isNewer, type Selection } from './select.ts';

/** What the registry says about a policy's image: the latest allowed tag and its digest. */
export interface PolicyResult {
  readonly policy: ImagePolicy;
  readonly latest: Selection | undefined;
  readonly digest: string | undefined;
}

export interface ImageUpdate {
  readonly file: string;
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly policy: string;
  readonly image: string;
  readonly from: string;
  readonly to: string;
  /** The registry's digest of the new tag (written too when the policy pins digests). */
  readonly digest: string | undefined;
  /** The scalar's new text. */
  readonly text: string;
  /** The scalar was written without quotes. */
  readonly plain: boolean;
}

/** The policy a location belongs to: its marker's, else the one whose image is the location's repository. */
export function policyFor(location: TagLocation, policies: readonly ImagePolicy[]): ImagePolicy | undefined {
  if (location.policy !== undefined) return policies.find((p) => p.name === location.policy);
  if (location.repository === undefined) return undefined;
  const repository = canonicalRepository(location.repository);
  return policies.find((p) => canonicalRepository(p.image) === repository);
}

/** Each location whose policy found a newer, valid tag, with the scalar's new text. */
export function planUpdates(
  locations: readonly TagLocation[],
  results: ReadonlyMap<string, PolicyResult>,
): ImageUpdate[] {
  const updates: ImageUpdate[] = [];
  for (const location of locations) {
    const policyName = location.policy ?? undefined;
    const result = [...results.values()].find((r) =>
      policyName !== undefined ? r.policy.name === policyName : policyFor(location, [r.policy]) !== undefined,
    );
    if (!result?.latest) continue;
    const { policy, latest, digest } = result;
    // Never write what the registry would not accept back, nor a pin we could not read.
    if (!VALID_TAG.test(latest.tag)) continue;
    if (policy.pinDigest && (digest === undefined || !VALID_DIGEST.test(digest))) continue;
    const pinned = policy.pinDigest && digest !== undefined && location.pinnedBeside !== true;
    // Same tag: only a pin to add or refresh (the tag was pushed again) is an update.
    if (location.currentTag !== latest.tag && !isNewer(policy, location.currentTag ?? '', latest)) continue;
    if (location.currentTag === latest.tag && (!pinned || location.currentDigest === digest)) continue;
    const text = newText(
      location,
      latest.tag,
      pinned ? digest : location.currentDigest === undefined ? undefined : digest,
    );
    if (text === undefined || text === location.raw) continue;
    updates.push({
      file: location.file,
      line: location.line,
      start: location.start,
      end: location.end,
      policy: policy.name,
      image: policy.image,
      from: describe(location.currentTag, location.currentDigest),
      to: describe(latest.tag, pinned ? digest : undefined),
      digest,
      text,
      plain: location.plain,
    });
  }
  return updates;
}

function describe(tag: string | undefined, digest: string | undefined): string {
  return `${tag ?? '(none)'}${digest ? `@${digest}` : ''}`;
}

function newText(location: TagLocation, tag: string, digest: string | undefined): string | undefined {
  const pin = digest ? `@${digest}` : '';
  let text: string;
  switch (location.field) {
    case 'reference':
      if (location.repository === undefined) return undefined;
      text = `${location.repository}:${tag}${pin}`;
      break;
    case 'tag':
      text = `${tag}${pin}`;
      break;
    case 'digest':
      if (!digest) return undefined;
      text = digest;
      break;
  }
  return text;
}

/** Needs quotes to stay a string when written plain (`1.10` would read back as the number 1.1). */
export function readsAsNonString(text: string): boolean {
  return (
    /^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$/.test(text) ||
    /^(true|false|yes|no|on|off|y|n|null|~)$/i.test(text)
  );
}

/**
 * Applies the updates to one file's text: only the scalars change, every other byte stays. A plain
 * scalar whose new text would read as a number gets double quotes.
 */
export function applyUpdates(text: string, updates: readonly ImageUpdate[]): string {
  let out = text;
  for (const update of [...updates].sort((a, b) => b.start - a.start)) {
    const replacement = update.plain && readsAsNonString(update.text) ? `"${update.text}"` : update.text;
    out = out.slice(0, update.start) + replacement + out.slice(update.end);
  }
  return out;
}
