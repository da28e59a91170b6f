/**
 * `ignore-differences`, modelled on Argo CD's ignoreDifferences: fields a plan does not count as
 * changes, chosen by path or by the manager that owns them.
 *
 * How an ignored field meets the apply (Argo CD's RespectIgnoreDifferences, always on):
 * - fields owned by a named manager (`managers:`) are left out of what Slipway applies, so
 *   server-side apply leaves them to that manager, and Slipway gives up any claim it had on them;
 * - fields named by path (`json-pointers:`, `paths:`) that the live object has are applied with
 *   the live value, so the apply never changes them (leaving them out could delete a field only
 *   Slipway owned); on a create, Git's value is applied.
 */
import { FIELD_MANAGER_NAME } from '../constants.ts';
import { memberPaths } from '../ownership/fieldset.ts';
import { groupOf, type KubeObject, type ObjectRef } from '../objects.ts';
import { copyFields, fromFieldPath, hasField, removeFields, type Path } from './paths.ts';

export interface IgnoreRule {
  /** API group ('' for the core group); undefined matches every group. */
  readonly group: string | undefined;
  readonly kind: string;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** From `json-pointers:` and `paths:`. */
  readonly paths: readonly Path[];
  /** Managers (managedFields) whose fields are ignored. */
  readonly managers: readonly string[];
}

export function rulesFor(rules: readonly IgnoreRule[], ref: ObjectRef): IgnoreRule[] {
  return rules.filter(
    (rule) =>
      rule.kind === ref.kind &&
      (rule.group === undefined || rule.group === groupOf(ref.apiVersion)) &&
      (rule.name === undefined || rule.name === ref.name) &&
      (rule.namespace === undefined || rule.namespace === ref.namespace),
  );
}

/** Top-level fields no ignore rule may touch: they name the object. */
const IDENTITY = new Set(['apiVersion', 'kind']);

function managedPaths(live: KubeObject, managers: readonly string[]): Path[] {
  const paths: Path[] = [];
  for (const entry of live.metadata.managedFields ?? []) {
    if (!entry.manager || !managers.includes(entry.manager) || entry.manager === FIELD_MANAGER_NAME) continue;
    for (const fieldPath of memberPaths(entry.fieldsV1)) {
      const path = fromFieldPath(fieldPath);
      if (!path || path.length === 0 || (typeof path[0] === 'string' && IDENTITY.has(path[0]))) continue;
      if (path[0] === 'metadata' && (path[1] === 'name' || path[1] === 'namespace')) continue;
      paths.push(path);
    }
  }
  return paths;
}

/** Every ignored path of `live` under `rules`: named ones, and those the named managers own. */
export function ignoredPaths(rules: readonly IgnoreRule[], live: KubeObject | undefined): Path[] {
  const paths = rules.flatMap((rule) => rule.paths);
  if (live) paths.push(...rules.flatMap((rule) => managedPaths(live, rule.managers)));
  return paths;
}

/** What Slipway applies: `desired` with ignored fields left to their owner or kept as live has them. */
export function respectIgnored(
  desired: KubeObject,
  live: KubeObject | undefined,
  rules: readonly IgnoreRule[],
): KubeObject {
  if (!live || rules.length === 0) return desired;
  let out: unknown = desired;
  for (const rule of rules) {
    for (const path of managedPaths(live, rule.managers)) out = removeFields(out, path);
    for (const path of rule.paths) if (hasField(live, path)) out = copyFields(live, out, path);
  }
  return out as KubeObject;
}

/** `result` with every ignored field as `live` has it, so the diff and the action leave them out. */
export function maskIgnored(live: KubeObject, result: KubeObject, paths: readonly Path[]): KubeObject {
  let out: unknown = result;
  for (const path of paths) out = copyFields(live, out, path);
  return out as KubeObject;
}
