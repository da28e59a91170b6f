import type { ApplyOptions, ObjectOutcome } from '../apply/apply.ts';
import { mapLimit } from '../concurrency.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, UserError } from '../errors.ts';
import type { InventoryEntry } from '../inventory/inventory.ts';
import type { HeldLock } from '../apply/lock.ts';
import { describeRef, type ObjectRef } from '../objects.ts';
import { byStage, stageOf } from '../apply/order.ts';
import { pruneExemption } from '../plan/plan-deletion.ts';
import type { Plan } from '../plan/plan.ts';
import type { KubeApi } from '../ports.ts';

export interface PruneResult {
  readonly outcomes: ObjectOutcome[];
  /** Why nothing was pruned (disabled, a failed apply, over the budget), or undefined. */
  readonly pruneSkipped: string | undefined;
  /** The prune budget refused the deletions: the run fails rather than defer them silently. */
  readonly overBudget: boolean;
  /** Deletions that did not happen: they stay in the inventory, to be tried again next run. */
  readonly failedDeletes: InventoryEntry[];
  readonly writes: number;
}

/**
 * Deletes what the plan marked for deletion, in reverse stage order: never after a failed apply
 * (`failed` not empty), never beyond the budget unless forced.
 */
export async function pruneStale(
  env: EnvironmentConfig,
  plan: Plan,
  options: Pick<ApplyOptions, 'kube' | 'logger' | 'concurrency' | 'prune'>,
  lock: HeldLock | undefined,
  failed: ReadonlySet<string>,
): Promise<PruneResult> {
  const { kube, logger } = options;
  const outcomes: ObjectOutcome[] = [];
  let writes = 0;
  const stale = plan.objects.filter((o) => o.action === 'delete');
  let pruneSkipped: string | undefined;
  let overBudget = false;
  const failedDeletes: InventoryEntry[] = [];
  if (!options.prune || !env.prune) pruneSkipped = 'prune is disabled for this run';
  else if (failed.size > 0)
    pruneSkipped = `${failed.size} objects failed to apply or could not be read, so nothing was pruned`;
  else {
    // Decided by the plan (over the inventory before this run), where --force already lifted it.
    pruneSkipped = plan.refusals?.find((r) => r.rule === 'prune-budget')?.message;
    // A refused prune fails the run: deletions must not be deferred silently forever.
    overBudget = pruneSkipped !== undefined;
  }
  if (pruneSkipped) {
    if (stale.length > 0) logger.warn(`${env.name}: prune skipped: ${pruneSkipped}`);
    failedDeletes.push(...stale.map((o) => o.ref));
  } else if (stale.length > 0) {
    lock?.fence('pruning');
    await logger.group(`${env.name}: prune`, async () => {
      for (const stage of byStage(stale, (o) => stageOf(o.ref, o.ref.namespace !== undefined), true)) {
        await mapLimit(stage, options.concurrency, async (row) => {
          const outcome = await pruneOne(kube, env, row.ref);
          if (outcome.action === 'pruned') writes++;
          if (outcome.error) failedDeletes.push(row.ref);
          outcomes.push(outcome);
          logger.info(
            `${env.name}: ${outcome.action === 'pruned' ? 'deleted' : outcome.action} ${describeRef(row.ref)}${outcome.error ? `: ${outcome.error}` : ''}`,
          );
        });
      }
    });
  }
  return { outcomes, pruneSkipped, overBudget, failedDeletes, writes };
}

async function pruneOne(kube: KubeApi, env: EnvironmentConfig, ref: ObjectRef): Promise<ObjectOutcome> {
  try {
    // Re-read right before deleting: ownership may have changed since the plan.
    const live = await kube.get(ref);
    if (!live) return { ref, action: 'pruned', error: undefined, health: undefined };
    const exemption = pruneExemption(live, env);
    if (exemption) return { ref, action: 'kept', error: undefined, health: undefined };
    await kube.delete(ref, { ...(live.metadata.uid ? { uid: live.metadata.uid } : {}) });
    return { ref, action: 'pruned', error: undefined, health: undefined };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { ref, action: 'delete', error: describeError(error), health: undefined };
  }
}
