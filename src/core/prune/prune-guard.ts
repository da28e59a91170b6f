import type { PruneBudget } from '../config/config.ts';
import { inventoryName, type Inventory } from '../inventory/inventory.ts';

/**
 * Why a plan may not be applied as it stands. Both are decided in the plan, so the pull request's
 * check fails before merge instead of the apply after it; `--force` lets an apply through.
 */
export interface PlanRefusal {
  /**
   * `prune-budget`: too many deletions; `inventory-owner`: another repository's inventory;
   * `inventory-lost`: the inventory is in a namespace this run cannot read (inventory-move.ts).
   */
  readonly rule: 'prune-budget' | 'inventory-owner' | 'inventory-lost';
  readonly message: string;
}

/**
 * The prune budget, over the inventory as it was before this run: renaming every object deletes
 * 100 % of it, however many new objects the rename adds.
 */
export function pruneBudgetRefusal(
  budget: PruneBudget,
  deletions: number,
  previousInventorySize: number,
): PlanRefusal | undefined {
  if (deletions === 0) return undefined;
  const { maxObjects, maxPercent } = budget;
  if (deletions > maxObjects)
    return {
      rule: 'prune-budget',
      message: `prunes ${deletions} objects, budget ${maxObjects} (prune-budget.max-objects); raise it in slipway.yaml or apply with --force`,
    };
  const percent = previousInventorySize === 0 ? 100 : (deletions / previousInventorySize) * 100;
  if (percent > maxPercent)
    return {
      rule: 'prune-budget',
      message: `prunes ${deletions} of the ${previousInventorySize} objects in the inventory (${formatPercent(percent)}), budget ${maxPercent}% (prune-budget.max-percent); raise it in slipway.yaml or apply with --force`,
    };
  return undefined;
}

/** Never rounds up to the limit: 50.4 % over a 50 % budget reads "50.4%", not "50%". */
function formatPercent(percent: number): string {
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}

/**
 * Whose inventory this is. Another repository's (same environment name, same cluster) is refused:
 * pruning from it would delete that repository's objects. One written before Slipway recorded the
 * repository is adopted, and says so.
 */
export function inventoryOwnerCheck(
  inventory: Inventory,
  repository: string | undefined,
): { readonly refusal?: PlanRefusal; readonly note?: string } {
  const where = `${inventory.namespace}/${inventoryName(inventory.environment)}`;
  const recorded = inventory.repository;
  if (recorded === undefined) {
    if (inventory.entries.length === 0 || repository === undefined) return {};
    return {
      note: `the inventory ${where} records no repository (written by an older Slipway): adopted as ${repository}'s`,
    };
  }
  if (recorded === repository) return {};
  const who =
    repository === undefined
      ? 'this run does not know its repository (no git remote "origin", no SLIPWAY_REPOSITORY)'
      : `this is ${repository}`;
  return {
    refusal: {
      rule: 'inventory-owner',
      message: `environment "${inventory.environment}" on this cluster belongs to repository ${recorded} (inventory ${where}), and ${who}: refusing to prune or apply over another repository's inventory; rename the environment, or apply with --force to take it over`,
    },
  };
}
