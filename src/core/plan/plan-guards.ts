import type { EnvironmentConfig } from '../config/config.ts';
import { inventoryMoveNote, lostInventoryRefusal } from '../inventory/inventory-move.ts';
import type { KubeObject } from '../objects.ts';
import type { PlanContext } from './plan.ts';
import { inventoryOwnerCheck, pruneBudgetRefusal, type PlanRefusal } from '../prune/prune-guard.ts';

/**
 * The plan-wide guards, decided here so the pull request's check fails before merge: the prune
 * budget over the inventory as it was before this run, and whose inventory it is.
 */
export function planGuards(
  env: EnvironmentConfig,
  context: PlanContext,
  deletions: number,
  live: readonly (KubeObject | undefined)[],
): { refusals: PlanRefusal[]; notes: string[] } {
  const refusals: PlanRefusal[] = [];
  const notes: string[] = [];
  const moved = inventoryMoveNote(context.inventory);
  if (moved) notes.push(moved);
  const lost = lostInventoryRefusal(env, context.inventory, live);
  if (lost) refusals.push(lost);
  const owner = inventoryOwnerCheck(context.inventory, context.repository);
  if (owner.note) notes.push(owner.note);
  if (owner.refusal) refusals.push(owner.refusal);
  const budget = env.prune
    ? pruneBudgetRefusal(env.pruneBudget, deletions, context.inventory.entries.length)
    : undefined;
  if (budget) refusals.push(budget);
  if (!context.force) return { refusals, notes };
  return { refusals: [], notes: [...notes, ...refusals.map((r) => `--force overrides: ${r.message}`)] };
}
