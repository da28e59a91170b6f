import type { KubeObject, ManagedFieldsEntry } from '../objects.ts';
import { isPlainObject } from '../objects.ts';
import { FIELD_MANAGER_NAME } from '../constants.ts';

export interface TakenFields {
  readonly manager: string;
  readonly fields: string[];
}

/**
 * Fields Slipway takes from other managers: what each other manager owned on the live object and
 * no longer owns in the forced dry-run result. Computed from managedFields alone, no extra request.
 */
export function takenFields(live: KubeObject | undefined, result: KubeObject): TakenFields[] {
  if (!live) return [];
  const after = new Map<string, Set<string>>();
  for (const entry of result.metadata.managedFields ?? [])
    after.set(entryKey(entry), new Set(flattenFields(entry.fieldsV1)));
  const taken: TakenFields[] = [];
  for (const entry of live.metadata.managedFields ?? []) {
    if (entry.manager === FIELD_MANAGER_NAME || entry.subresource === 'status') continue;
    const remaining = after.get(entryKey(entry)) ?? new Set<string>();
    const lost = flattenFields(entry.fieldsV1).filter((field) => !remaining.has(field));
    if (lost.length > 0) taken.push({ manager: entry.manager ?? '(unknown)', fields: lost });
  }
  return taken;
}

function entryKey(entry: ManagedFieldsEntry): string {
  return `${entry.manager ?? ''}|${entry.operation ?? ''}|${entry.subresource ?? ''}`;
}

/**
 * Leaf paths of a FieldsV1 set, readable: `f:spec` → `.spec`, `k:{"name":"web"}` → `[name=web]`,
 * `v:"x"` → `[="x"]`, `i:0` → `[0]`. Only leaves: owning `.spec.replicas` implies its parents.
 */
export function flattenFields(fields: unknown, prefix = ''): string[] {
  if (!isPlainObject(fields)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === '.') continue;
    const segment = readableSegment(key);
    const path = `${prefix}${segment}`;
    const children = isPlainObject(value) ? Object.keys(value).filter((k) => k !== '.') : [];
    if (children.length === 0) out.push(path);
    else out.push(...flattenFields(value, path));
  }
  return out;
}

function readableSegment(key: string): string {
  const kind = key.slice(0, 2);
  const rest = key.slice(2);
  switch (kind) {
    case 'f:':
      return `.${rest}`;
    case 'i:':
      return `[${rest}]`;
    case 'v:':
      return `[=${rest}]`;
    case 'k:': {
      try {
        const parsed = JSON.parse(rest) as Record<string, unknown>;
        return `[${Object.entries(parsed)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',')}]`;
      } catch {
        return `[${rest}]`;
      }
    }
    default:
      return `.${key}`;
  }
}
