import { applyStages } from './apply-stages.ts';
import { checkClusterPin } from './cluster-pin.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { UserError } from '../errors.ts';
import { isSettled, type Health } from '../health/health.ts';
import { waitForHealth } from '../health/health-wait.ts';
import { locateInventory, moveInventory } from '../inventory/inventory-move.ts';
import {
  mergeEntries,
  sameEntries,
  writeInventory,
  type Inventory,
  type InventoryEntry,
} from '../inventory/inventory.ts';
import { acquireLock } from './lock.ts';
import { describeRef, objectKey, refOf, type KubeObject, type ObjectRef } from '../objects.ts';
import { planEnvironment, type Plan, type PlannedObject } from '../plan/plan.ts';
import type { GitHistory, KubeApi, Logger } from '../ports.ts';
import { pruneStale } from '../prune/prune.ts';
import type { Manifest } from '../yaml/manifest.ts';

export interface ApplyOptions {
  readonly kube: KubeApi;
  readonly logger: Logger;
  readonly git: GitHistory | undefined;
  readonly concurrency: number;
  /** Commit being applied, recorded in the inventory; refuses commits older than the last one. */
  readonly commit: string | undefined;
  readonly dryRun: boolean;
  readonly prune: boolean;
  /** Overrides the stale-commit refusal, the prune budget and another repository's inventory. */
  readonly force: boolean;
  /**
   * This run's repository (repository-identity.ts), recorded in the inventory; an inventory
   * recorded by another repository is refused without `force`.
   */
  readonly repository?: string | undefined;
  readonly waitSeconds: number;
  readonly lockHolder: string;
  readonly lockWaitSeconds: number;
  readonly healthPollMs?: number;
  /** The API server URL in use, checked against the environment's cluster pin. */
  readonly server: string;
  /**
   * Lets the adapter run `cleanup` if the process is interrupted (SIGINT/SIGTERM): the lock is
   * then released at once instead of blocking the environment until its lease expires.
   * Returns a function that unregisters it.
   */
  readonly onInterrupt?: (cleanup: () => Promise<void>) => () => void;
  /**
   * Sees the plan of a real apply before anything is written (under the lock, so it is the plan
   * that will be applied); throwing stops the apply (require-reviewed-plan).
   */
  readonly beforeWrite?: (plan: Plan) => Promise<void>;
}

export interface ObjectOutcome {
  readonly ref: ObjectRef;
  readonly action: PlannedObject['action'] | 'pruned' | 'kept';
  readonly error: string | undefined;
  readonly health: Health | undefined;
}

export interface ApplyResult {
  readonly environment: string;
  readonly plan: Plan;
  readonly outcomes: ObjectOutcome[];
  readonly pruneSkipped: string | undefined;
  readonly ok: boolean;
  readonly writes: number;
}

/**
 * Applies an environment: plan with dry-run, apply what changed stage by stage, prune what Git no
 * longer has, record the inventory, wait for health. Holds the environment's lock throughout.
 */
export async function applyEnvironment(
  env: EnvironmentConfig,
  manifests: readonly Manifest[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  const { kube, logger } = options;
  await checkClusterPin(env, kube, options.server);
  const lock = options.dryRun
    ? undefined
    : await acquireLock(
        kube,
        env.name,
        {
          namespace: env.stateNamespace,
          holder: options.lockHolder,
          leaseSeconds: 60,
          waitSeconds: options.lockWaitSeconds,
        },
        logger,
      );
  const unregister = lock && options.onInterrupt ? options.onInterrupt(() => lock.release()) : undefined;
  try {
    const inventory = await locateInventory(kube, env, logger, options.repository);
    await refuseStaleCommit(env, inventory, options);
    const plan = await logger.group(`${env.name}: plan`, () =>
      planEnvironment(env, manifests, {
        kube,
        logger,
        concurrency: options.concurrency,
        inventory,
        repository: options.repository,
        force: options.force,
      }),
    );
    refuseForeignInventory(plan);
    if (!options.dryRun) await options.beforeWrite?.(plan);
    if (options.dryRun) {
      return {
        environment: env.name,
        plan,
        outcomes: plan.objects.map((o) => ({
          ref: o.ref,
          action: o.action,
          error: o.action === 'error' ? o.note : undefined,
          health: undefined,
        })),
        pruneSkipped: 'dry run',
        ok: plan.summary.error === 0 && (plan.refusals?.length ?? 0) === 0,
        writes: 0,
      };
    }
    let writes = 0;
    // Tracked: what Git renders, except objects the server refused that were never ours before
    // (recording those would write an inventory for an apply that changed nothing).
    const known = new Set(inventory.entries.map(objectKey));
    const rendered: InventoryEntry[] = plan.objects
      .filter((o) => o.desired && (o.action !== 'error' || known.has(objectKey(o.ref))))
      .map((o) => refOf(o.desired as KubeObject));
    // Widen first: an apply cut short still leaves every object it may have created tracked.
    // Record this run's repository from the first write on (adopting an inventory without one).
    const repository = options.repository ?? inventory.repository;
    let current = inventory;
    if (inventory.movedFrom) {
      // Before any object is written: from here on the new place is the inventory.
      lock?.fence('moving the inventory');
      current = await moveInventory(kube, { ...inventory, repository }, logger);
      writes++;
    }
    const widened = mergeEntries(current.entries, rendered);
    if (widened.length !== current.entries.length) {
      lock?.fence('recording the inventory');
      current = await writeInventory(kube, { ...current, entries: widened, repository });
      writes++;
    }
    const applied = await applyStages(env, plan, options, lock);
    writes += applied.writes;
    const { outcomes, failed } = applied;

    // Prune, guarded: never after a failed apply, never beyond the budget unless forced.
    const pruned = await pruneStale(env, plan, options, lock, failed);
    writes += pruned.writes;
    outcomes.push(...pruned.outcomes);
    const { pruneSkipped, overBudget, failedDeletes } = pruned;
    for (const row of plan.objects.filter((o) => o.action === 'orphan')) {
      outcomes.push({ ref: row.ref, action: 'kept', error: undefined, health: undefined });
      if (!row.keepInInventory)
        logger.info(`${env.name}: ${describeRef(row.ref)} ${row.note ?? 'kept'}; dropped from the inventory`);
    }

    // Narrow: what is rendered now, plus deletions that did not happen (tried again next run),
    // and stale entries that could not be read or whose kind is not served (never forgotten).
    const retained = plan.objects.filter((o) => o.keepInInventory).map((o) => o.ref);
    const narrowed = mergeEntries(rendered, failedDeletes, retained);
    // Record the commit only when it fully applied: stale-run protection compares against it.
    const commit = failed.size === 0 ? (options.commit ?? current.commit) : current.commit;
    if (
      !sameEntries(narrowed, current.entries) ||
      commit !== current.commit ||
      repository !== current.repository
    ) {
      lock?.fence('recording the inventory');
      await writeInventory(kube, {
        ...current,
        entries: narrowed,
        repository,
        commit,
        appliedAt: new Date().toISOString(),
      });
    }

    const changed = outcomes.filter((o) => (o.action === 'create' || o.action === 'update') && !o.error);
    const desired = new Map(plan.objects.flatMap((o) => (o.desired ? [[objectKey(o.ref), o.desired]] : [])));
    const healthy = await waitForHealth(kube, env, changed, desired, options, logger);
    const ok =
      failed.size === 0 &&
      !overBudget &&
      // No health means no wait was asked for (wait: false); else Current, or opted out by annotation.
      healthy.every((o) => isSettled(o.health)) &&
      !outcomes.some((o) => o.error);
    const healthByKey = new Map(healthy.map((o) => [objectKey(o.ref), o]));
    return {
      environment: env.name,
      plan,
      outcomes: outcomes.map((o) => healthByKey.get(objectKey(o.ref)) ?? o),
      pruneSkipped,
      ok,
      writes,
    };
  } finally {
    unregister?.();
    await lock?.release();
  }
}

async function refuseStaleCommit(
  env: EnvironmentConfig,
  inventory: Inventory,
  options: ApplyOptions,
): Promise<void> {
  if (
    !options.commit ||
    !inventory.commit ||
    options.commit === inventory.commit ||
    options.force ||
    !options.git
  )
    return;
  if (await options.git.isAncestor(options.commit, inventory.commit)) {
    throw new UserError(
      'apply',
      `commit ${options.commit.slice(0, 12)} is older than ${inventory.commit.slice(0, 12)}, which was already applied to "${env.name}"; refusing to roll the environment back`,
      {
        hint: 'a newer run got there first; re-run with the latest commit, or pass --force to roll back on purpose',
      },
    );
  }
}

/** Another repository's inventory (decided by the plan, lifted by --force): nothing is written. */
function refuseForeignInventory(plan: Plan): void {
  const foreign = plan.refusals?.find((r) => r.rule === 'inventory-owner');
  if (foreign)
    throw new UserError('prune', foreign.message, {
      hint: 'each repository needs its own environment names on a shared cluster',
    });
  const lost = plan.refusals?.find((r) => r.rule === 'inventory-lost');
  if (lost)
    throw new UserError('prune', lost.message, {
      hint: 'see "state-namespace" in the README: moving it moves the inventory when the old one can be read',
    });
}
