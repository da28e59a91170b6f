/**
 * Large plans read in groups: past a threshold, rows of one action, kind and folder become one
 * line ("400 ConfigMaps in `bulk/` (create)"); and changes identical in several environments are
 * shown once, "× N environments".
 */
import { describeRef, objectKey } from '../objects.ts';
import type { Plan, PlannedObject } from '../plan/plan.ts';

/** Changed rows past which like rows are grouped. */
export const GROUP_THRESHOLD = 50;
/** The fewest rows a group holds; smaller sets stay as rows. */
export const GROUP_MIN = 5;

export interface RowGroup {
  readonly action: PlannedObject['action'];
  readonly kind: string;
  /** The folder of the rows' source files ('' when they have none). */
  readonly folder: string;
  readonly rows: readonly PlannedObject[];
}

export type Entry = { readonly row: PlannedObject } | { readonly group: RowGroup };

function folderOf(row: PlannedObject): string {
  const file = row.source?.file ?? '';
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '' : `${file.slice(0, slash)}/`;
}

/** Rows in plan order, with like rows gathered into groups once there are many changes. */
export function groupRows(
  rows: readonly PlannedObject[],
  threshold = GROUP_THRESHOLD,
  /** Rows that must stay rows (a risk links to them). */
  single: (row: PlannedObject) => boolean = () => false,
): Entry[] {
  if (rows.length <= threshold) return rows.map((row) => ({ row }));
  const buckets = new Map<string, PlannedObject[]>();
  for (const row of rows) {
    // Rows with something to say of their own (an error, a note, taken fields) stay rows.
    if (row.action === 'error' || row.note || row.taken.length || single(row)) continue;
    const key = `${row.action} ${row.ref.kind} ${folderOf(row)}`;
    buckets.set(key, [...(buckets.get(key) ?? []), row]);
  }
  const entries: Entry[] = [];
  const placed = new Set<string>();
  for (const row of rows) {
    const key = `${row.action} ${row.ref.kind} ${folderOf(row)}`;
    const bucket = buckets.get(key);
    if (!bucket || bucket.length < GROUP_MIN || !bucket.includes(row)) {
      entries.push({ row });
    } else if (!placed.has(key)) {
      placed.add(key);
      entries.push({
        group: { action: row.action, kind: row.ref.kind, folder: folderOf(row), rows: bucket },
      });
    }
  }
  return entries;
}

/** "400 ConfigMaps in live-cluster/bulk/ (create)" without markup. */
export function describeGroup(group: RowGroup): string {
  const kinds = group.kind.endsWith('s') ? `${group.kind}es` : `${group.kind}s`;
  return `${group.rows.length} ${kinds}${group.folder ? ` in ${group.folder}` : ''} (${group.action})`;
}

export interface SharedChange {
  readonly row: PlannedObject;
  readonly environments: readonly string[];
}

/**
 * Changes identical (same object, action and diff) in two or more of `plans`, each once with the
 * environments it is in; `rest` keeps every plan's other rows.
 */
export function sharedChanges(plans: readonly Plan[]): {
  shared: SharedChange[];
  rest: Map<string, PlannedObject[]>;
} {
  const byChange = new Map<string, SharedChange>();
  for (const plan of plans)
    for (const row of plan.objects) {
      if (row.action === 'unchanged') continue;
      const key = `${objectKey(row.ref)}\n${row.action}\n${row.diff}\n${row.note ?? ''}`;
      const seen = byChange.get(key);
      byChange.set(key, {
        row: seen?.row ?? row,
        environments: [...(seen?.environments ?? []), plan.environment],
      });
    }
  const shared = [...byChange.values()].filter((c) => c.environments.length > 1);
  const sharedKeys = new Set(
    shared.flatMap((c) => c.environments.map((env) => `${env} ${objectKey(c.row.ref)}`)),
  );
  const rest = new Map(
    plans.map((plan) => [
      plan.environment,
      plan.objects.filter(
        (row) => row.action !== 'unchanged' && !sharedKeys.has(`${plan.environment} ${objectKey(row.ref)}`),
      ),
    ]),
  );
  return { shared, rest };
}

export function describeShared(change: SharedChange): string {
  return `${change.row.adoptOnly ? 'adopt' : change.row.action} ${describeRef(change.row.ref)} × ${change.environments.length} environments (${change.environments.join(', ')})`;
}
