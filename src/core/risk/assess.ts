/**
 * The plan's risk summary: what a reviewer should look at first, one line each, in a fixed order.
 * Levels come from the environment's `risks:` (default `warning`; `error` fails the check).
 */
import type { PruneBudget } from '../config/config.ts';
import { describeRef, groupOf, objectKey, type KubeObject, type ObjectRef } from '../objects.ts';
import {
  bindsAllPowerfulRole,
  OBJECT_RULES,
  RISK_RULES,
  type Change,
  type RiskId,
  type RiskLevel,
} from './rules.ts';

export interface Risk {
  readonly id: RiskId;
  readonly level: 'error' | 'warning';
  /** The object the line is about (the comment links to its details); none for plan-wide lines. */
  readonly ref: ObjectRef | undefined;
  readonly message: string;
}

/** What the rules read of a planned row (structurally a PlannedObject). */
export interface RiskInput extends Change {
  readonly ref: ObjectRef;
}

export interface PruneRoom {
  readonly enabled: boolean;
  readonly budget: PruneBudget;
  /** Objects in the inventory before this run (the budget's percentage is of these). */
  readonly inventorySize: number;
}

export function assessRisks(
  rows: readonly RiskInput[],
  levels: Readonly<Partial<Record<RiskId, RiskLevel>>>,
  prune: PruneRoom,
): Risk[] {
  const found: { id: RiskId; ref: ObjectRef | undefined; message: string }[] = [];
  const deletes = rows.filter((row) => row.action === 'delete').length;
  if (deletes > 0)
    found.push({
      id: 'delete',
      ref: undefined,
      message: `deletes ${deletes} object${deletes === 1 ? '' : 's'} no longer in Git`,
    });
  const roles = new Map<string, KubeObject>();
  for (const row of rows)
    if (
      row.desired?.kind === 'ClusterRole' &&
      groupOf(row.desired.apiVersion) === 'rbac.authorization.k8s.io'
    )
      roles.set(row.ref.name, row.desired);
  for (const row of rows) {
    for (const rule of OBJECT_RULES)
      for (const hit of rule(row)) found.push({ id: hit.id, ref: row.ref, message: hit.message });
    const binding = row.desired;
    if (
      binding?.kind.endsWith('RoleBinding') &&
      (row.action === 'create' || row.action === 'update') &&
      bindsAllPowerfulRole(binding, roles)
    )
      found.push({ id: 'rbac-grows', ref: row.ref, message: 'binds a role that grants everything (* on *)' });
  }
  const room = pruneRoom(prune, deletes);
  if (room) found.push({ id: 'prune-budget', ref: undefined, message: room });
  const order = (id: RiskId): number => RISK_RULES.indexOf(id);
  return dedupe(found)
    .filter((risk) => (levels[risk.id] ?? 'warning') !== 'ignore')
    .map((risk) => ({
      ...risk,
      level: levels[risk.id] === 'error' ? ('error' as const) : ('warning' as const),
    }))
    .sort((a, b) => order(a.id) - order(b.id));
}

function dedupe<T extends { id: string; ref: ObjectRef | undefined; message: string }>(risks: T[]): T[] {
  const seen = new Set<string>();
  return risks.filter((risk) => {
    const key = `${risk.id} ${risk.ref ? objectKey(risk.ref) : ''} ${risk.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** How much more this environment may prune in one run: said whenever the plan deletes. */
function pruneRoom(prune: PruneRoom, deletes: number): string | undefined {
  if (!prune.enabled || deletes === 0) return undefined;
  const { maxObjects, maxPercent } = prune.budget;
  const byPercent = Math.floor((maxPercent / 100) * prune.inventorySize);
  const limit = Math.min(maxObjects, byPercent);
  const left = limit - deletes;
  return left >= 0
    ? `prune budget: ${deletes} of at most ${limit} deletions (max-objects ${maxObjects}, max-percent ${maxPercent}% of ${prune.inventorySize}); room for ${left} more`
    : `prune budget exceeded: ${deletes} deletions, at most ${limit} allowed (max-objects ${maxObjects}, max-percent ${maxPercent}% of ${prune.inventorySize})`;
}

export function blockingRisks(risks: readonly Risk[] | undefined): Risk[] {
  return (risks ?? []).filter((risk) => risk.level === 'error');
}

/** One line of plain text: the object, then what the rule found. */
export function describeRisk(risk: Risk): string {
  return risk.ref ? `${describeRef(risk.ref)} ${risk.message}` : risk.message;
}
