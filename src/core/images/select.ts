// Which tag a policy picks: filter by pattern, compare the extracted part by the policy's order.

import type { ImagePolicy } from './policy.ts';
import { compareSemVer, parseSemVer, satisfies } from './semver.ts';

/** The part of `tag` the policy compares, or undefined when the tag is not a candidate. */
export function extractValue(policy: ImagePolicy, tag: string): string | undefined {
  return comparable(policy, tag, true);
}

function comparable(policy: ImagePolicy, tag: string, inRange: boolean): string | undefined {
  let value = tag;
  if (policy.pattern) {
    const match = policy.pattern.exec(tag);
    if (!match) return undefined;
    if (policy.extract !== undefined) value = expand(policy.extract, match);
  }
  if (value === '') return undefined;
  switch (policy.order.kind) {
    case 'semver': {
      const version = parseSemVer(value);
      return version && (!inRange || satisfies(version, policy.order.parsed)) ? value : undefined;
    }
    case 'numerical':
      return /^-?\d+(\.\d+)?$/.test(value) ? value : undefined;
    case 'alphabetical':
      return value;
  }
}

/** Go's regexp Expand as Flux uses it: `$name`, `${name}`, `$1`; an unknown group is empty. */
function expand(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_all, braced?: string, bare?: string) => {
    const key = braced ?? bare ?? '';
    const value = /^\d+$/.test(key) ? match[Number(key)] : match.groups?.[key];
    return value ?? '';
  });
}

/** Negative when `a` comes before `b` in the policy's order (so the latest is the greatest). */
export function compareValues(policy: ImagePolicy, a: string, b: string): number {
  switch (policy.order.kind) {
    case 'semver': {
      const x = parseSemVer(a);
      const y = parseSemVer(b);
      return x && y ? compareSemVer(x, y) : 0;
    }
    case 'numerical': {
      const c = Math.sign(Number(a) - Number(b));
      return policy.order.order === 'asc' ? c : -c;
    }
    case 'alphabetical': {
      // Byte order, as Go's sort.Strings compares.
      const c = a < b ? -1 : a > b ? 1 : 0;
      return policy.order.order === 'asc' ? c : -c;
    }
  }
}

export interface Selection {
  readonly tag: string;
  readonly value: string;
}

/** The latest tag the policy allows among `tags`; ties (`v1.0.0` and `1.0.0`) go to the greater text. */
export function selectLatest(policy: ImagePolicy, tags: readonly string[]): Selection | undefined {
  let best: Selection | undefined;
  for (const tag of tags) {
    const value = extractValue(policy, tag);
    if (value === undefined) continue;
    if (!best) {
      best = { tag, value };
      continue;
    }
    const c = compareValues(policy, value, best.value);
    if (c > 0 || (c === 0 && tag > best.tag)) best = { tag, value };
  }
  return best;
}

/**
 * Whether moving from `current` to `candidate` is an update: only forwards, even from a version
 * outside the range (never a silent downgrade). A current tag that cannot be compared at all
 * (`latest`) is replaced, as Flux does.
 */
export function isNewer(policy: ImagePolicy, current: string, candidate: Selection): boolean {
  if (current === candidate.tag) return false;
  const value = comparable(policy, current, false);
  if (value === undefined) return true;
  return compareValues(policy, candidate.value, value) > 0;
}
