import { printableSides, secretSummary, unifiedDiff } from './diff.ts';
import { withoutOwnMetadata } from '../noise/builtin.ts';
import { isSecret } from './normalize.ts';
import type { KubeObject, ObjectRef } from '../objects.ts';

/** One object's unified diff, secret-safe; a new object's is written without Slipway's labels. */
export function sideDiff(before: KubeObject | undefined, after: KubeObject, ref: ObjectRef): string {
  // A new object's diff leaves Slipway's labels out: the same object reads the same in every environment.
  const sides = printableSides(before, before ? after : withoutOwnMetadata(after));
  const text = unifiedDiff(sides.before, sides.after, label(ref));
  return isSecret(after) ? `# ${secretSummary(before, after)}\n${text}` : text;
}

function label(ref: ObjectRef): string {
  return `${ref.namespace ? `${ref.namespace}/` : ''}${ref.kind.toLowerCase()}/${ref.name}`;
}
