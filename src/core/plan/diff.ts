import { structuredPatch } from 'diff';
import { dump } from 'js-yaml';
import { sortKeys } from '../canonical.ts';
import { isSecret, maskSecret, normalizeForDiff, secretKeyChanges } from './normalize.ts';
import type { KubeObject } from '../objects.ts';

/** YAML as users read it in Git, keys sorted so the same object always prints the same way. */
export function toYaml(object: unknown): string {
  return dump(sortKeys(object), { lineWidth: -1, noRefs: true });
}

/**
 * The printable, secret-safe form of both sides of a change: normalised (see normalize.ts) and,
 * for Secrets, values masked so only key names and "changed" markers remain.
 */
export function printableSides(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): { before: string; after: string } {
  const a = before ? normalizeForDiff(before) : undefined;
  const b = after ? normalizeForDiff(after) : undefined;
  const secret = (a && isSecret(a)) || (b && isSecret(b));
  const left = a ? (secret ? maskSecret(a, b, 'before') : a) : undefined;
  const right = b ? (secret ? maskSecret(b, a, 'after') : b) : undefined;
  return { before: left ? toYaml(left) : '', after: right ? toYaml(right) : '' };
}

/** A unified diff of two texts with `context` lines around changes; '' when they are equal. */
export function unifiedDiff(before: string, after: string, label: string, context = 3): string {
  if (before === after) return '';
  // A create or a delete: every line is added or removed, and the diff needs no computing.
  if ((!before || !after) && !before.includes('\r') && !after.includes('\r')) {
    const lines = (before || after).split('\n');
    if (lines.at(-1) === '') lines.pop();
    const sign = before ? '-' : '+';
    return [
      `--- ${before ? `live/${label}` : '/dev/null'}`,
      `+++ ${after ? `git/${label}` : '/dev/null'}`,
      before ? `@@ -1,${lines.length} +1,0 @@` : `@@ -1,0 +1,${lines.length} @@`,
      ...lines.map((line) => `${sign}${line}`),
    ].join('\n');
  }
  const patch = structuredPatch(
    before ? `live/${label}` : '/dev/null',
    after ? `git/${label}` : '/dev/null',
    before,
    after,
    undefined,
    undefined,
    { context },
  );
  const lines = [`--- ${patch.oldFileName}`, `+++ ${patch.newFileName}`];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) if (!line.startsWith('\\')) lines.push(line);
  }
  return lines.join('\n');
}

/** One line naming a Secret's changed keys, never its values. */
export function secretSummary(before: KubeObject | undefined, after: KubeObject | undefined): string {
  const changes = secretKeyChanges(before, after);
  const parts: string[] = [];
  if (changes.added.length) parts.push(`added ${changes.added.join(', ')}`);
  if (changes.changed.length) parts.push(`changed ${changes.changed.join(', ')}`);
  if (changes.removed.length) parts.push(`removed ${changes.removed.join(', ')}`);
  if (changes.unchanged.length) parts.push(`unchanged ${changes.unchanged.join(', ')}`);
  return parts.length ? `secret keys: ${parts.join('; ')} (values are never shown)` : 'secret has no keys';
}
