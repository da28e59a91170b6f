import { mapLimit, progressReporter } from './concurrency.ts';
import type { EnvironmentConfig } from './config.ts';
import { describeError, UserError } from './errors.ts';
import { healthOf, type Health } from './health.ts';
import { readInventory, writeInventory, type Inventory, type InventoryEntry } from './inventory.ts';
import { acquireLock } from './lock.ts';
import { describeRef, objectKey, refOf, type KubeObject, type ObjectRef } from './objects.ts';
import { byStage, STAGE_NAMES, stageOf } from './order.ts';
import { planEnvironment, pruneExemption, type Plan, type PlannedObject } from './plan.ts';
import type { GitHistory, KubeApi, Logger } from './ports.ts';
import type { Manifest } from './manifest.ts';

export interface ApplyOptions {
  readonly kube: KubeApi;
  readonly logger: Logger;
  readonly git: GitHistory | undefined;
  readonly concurrency: number;
  /** Commit being applied, recorded in the inventory; refuses commits older than the last one. */
  readonly commit: string | undefined;
  readonly dryRun: boolean;
  readonly prune: boolean;
  /** Overrides the stale-commit refusal and the prune budget. */
  readonly force: boolean;
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
        { holder: options.lockHolder, leaseSeconds: 60, waitSeconds: options.lockWaitSeconds },
        logger,
      );
  const unregister = lock && options.onInterrupt ? options.onInterrupt(() => lock.release()) : undefined;
  try {
    const inventory = await readInventory(kube, env.name);
    await refuseStaleCommit(env, inventory, options);
    const plan = await logger.group(`${env.name}: plan`, () =>
      planEnvironment(env, manifests, { kube, logger, concurrency: options.concurrency, inventory }),
    );
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
        ok: plan.summary.error === 0,
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
    let current = inventory;
    const widened = union(inventory.entries, rendered);
    if (widened.length !== inventory.entries.length) {
      current = await writeInventory(kube, { ...inventory, entries: widened });
      writes++;
    }
    const outcomes: ObjectOutcome[] = [];
    const failed = new Set<string>();
    await logger.group(`${env.name}: apply`, async () => {
      // Deferred rows (their CRD or namespace is created in an earlier stage) are creates too.
      const toApply = plan.objects.filter(
        (o) => o.desired && (o.action === 'create' || o.action === 'update'),
      );
      for (const row of plan.objects) {
        if (row.action === 'unchanged')
          outcomes.push({ ref: row.ref, action: 'unchanged', error: undefined, health: undefined });
        if (row.action === 'error') {
          outcomes.push({ ref: row.ref, action: 'error', error: row.note, health: undefined });
          failed.add(objectKey(row.ref));
        }
      }
      const stages = byStage(toApply, (o) => stageOf(o.ref, o.ref.namespace !== undefined));
      const progress = progressReporter(toApply.length, 5_000, (done, total) =>
        logger.info(`${env.name}: applied ${done}/${total} objects`),
      );
      for (const [index, stage] of stages.entries()) {
        if (stage.length === 0) continue;
        logger.info(`${env.name}: applying ${stage.length} ${STAGE_NAMES[index] ?? ''}`);
        if (stage.some((o) => o.deferred)) kube.invalidateDiscovery();
        const results = await mapLimit(stage, options.concurrency, async (row): Promise<ObjectOutcome> => {
          try {
            await kube.apply(row.desired as KubeObject, { dryRun: false, force: env.forceConflicts });
            writes++;
            return { ref: row.ref, action: row.action, error: undefined, health: undefined };
          } catch (error) {
            // A dead API server ends the run with one message, not one per object.
            if (!(error instanceof UserError) || error.kind === 'connection') throw error;
            failed.add(objectKey(row.ref));
            return { ref: row.ref, action: 'error', error: describeError(error), health: undefined };
          } finally {
            progress.tick();
          }
        });
        outcomes.push(...results);
        if (index === 0)
          await waitForCrds(
            kube,
            stage.map((o) => o.ref),
            logger,
          );
      }
      progress.finish();
    });

    // Prune, guarded: never after a failed apply, never beyond the budget unless forced.
    const stale = plan.objects.filter((o) => o.action === 'delete');
    let pruneSkipped: string | undefined;
    let overBudget = false;
    const failedDeletes: InventoryEntry[] = [];
    if (!options.prune || !env.prune) pruneSkipped = 'prune is disabled for this run';
    else if (failed.size > 0) pruneSkipped = `${failed.size} objects failed to apply, so nothing was pruned`;
    else {
      pruneSkipped = budgetRefusal(env, stale.length, current.entries.length, options.force);
      // A refused prune fails the run: deletions must not be deferred silently forever.
      overBudget = pruneSkipped !== undefined;
    }
    if (pruneSkipped) {
      if (stale.length > 0) logger.warn(`${env.name}: prune skipped: ${pruneSkipped}`);
      failedDeletes.push(...stale.map((o) => o.ref));
    } else if (stale.length > 0) {
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
    for (const row of plan.objects.filter((o) => o.action === 'orphan')) {
      outcomes.push({ ref: row.ref, action: 'kept', error: undefined, health: undefined });
      logger.info(`${env.name}: ${describeRef(row.ref)} ${row.note ?? 'kept'}; dropped from the inventory`);
    }

    // Narrow: what is rendered now, plus deletions that did not happen (tried again next run).
    const narrowed = union(rendered, failedDeletes);
    // Record the commit only when it fully applied: stale-run protection compares against it.
    const commit = failed.size === 0 ? (options.commit ?? current.commit) : current.commit;
    if (!sameEntries(narrowed, current.entries) || commit !== current.commit) {
      await writeInventory(kube, {
        ...current,
        entries: narrowed,
        commit,
        appliedAt: new Date().toISOString(),
      });
    }

    const changed = outcomes.filter((o) => (o.action === 'create' || o.action === 'update') && !o.error);
    const healthy = await waitForHealth(kube, env, changed, options, logger);
    const ok =
      failed.size === 0 &&
      !overBudget &&
      // No health means no wait was asked for (wait: false); anything else must have become Current.
      healthy.every((o) => o.health === undefined || o.health.status === 'Current') &&
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

/**
 * The automated "is this the right kubectl context?": an environment may pin its cluster by API
 * server URL and/or the UID of its kube-system namespace (stable for a cluster's lifetime).
 */
export async function checkClusterPin(env: EnvironmentConfig, kube: KubeApi, server: string): Promise<void> {
  const pin = env.cluster;
  if (!pin) return;
  if (pin.server !== undefined && pin.server.replace(/\/$/, '') !== server.replace(/\/$/, '')) {
    throw new UserError(
      'cluster',
      `environment "${env.name}" is pinned to ${pin.server}, but the kubeconfig points at ${server}; refusing to apply to the wrong cluster`,
      {
        hint: 'use the kubeconfig (or --context) of the right cluster, or fix cluster.server in slipway.yaml',
      },
    );
  }
  if (pin.kubeSystemUid !== undefined) {
    const namespace = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' });
    const uid = namespace?.metadata.uid;
    if (uid !== pin.kubeSystemUid) {
      throw new UserError(
        'cluster',
        `environment "${env.name}" is pinned to the cluster whose kube-system UID is ${pin.kubeSystemUid}, but this cluster's is ${uid ?? 'unknown'}; refusing to apply to the wrong cluster`,
        {
          hint: 'use the kubeconfig (or --context) of the right cluster, or update cluster.kube-system-uid in slipway.yaml',
        },
      );
    }
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

function budgetRefusal(
  env: EnvironmentConfig,
  deletions: number,
  inventorySize: number,
  force: boolean,
): string | undefined {
  if (force || deletions === 0) return undefined;
  const percent = inventorySize === 0 ? 0 : (deletions / inventorySize) * 100;
  if (deletions > env.pruneBudget.maxObjects)
    return `${deletions} deletions exceed the prune budget of ${env.pruneBudget.maxObjects} objects (raise prune-budget.max-objects or run with --force)`;
  if (percent > env.pruneBudget.maxPercent)
    return `${deletions} deletions are ${percent.toFixed(0)}% of the inventory, over the prune budget of ${env.pruneBudget.maxPercent}% (raise prune-budget.max-percent or run with --force)`;
  return undefined;
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

/** After CRDs: wait until each is Established, so custom resources can be applied (Flux: 60 s). */
async function waitForCrds(kube: KubeApi, refs: readonly ObjectRef[], logger: Logger): Promise<void> {
  const crds = refs.filter((r) => r.kind === 'CustomResourceDefinition');
  if (crds.length === 0) return;
  const deadline = Date.now() + 60_000;
  for (const ref of crds) {
    for (;;) {
      const live = await kube.get(ref);
      if (live && healthOf(live).status === 'Current') break;
      if (Date.now() > deadline)
        throw new UserError('apply', `${describeRef(ref)} did not become Established within 60 s`, {
          hint: 'check the CRD with kubectl describe',
        });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  kube.invalidateDiscovery();
  logger.info(`${crds.length} CustomResourceDefinitions established`);
}

async function waitForHealth(
  kube: KubeApi,
  env: EnvironmentConfig,
  applied: readonly ObjectOutcome[],
  options: ApplyOptions,
  logger: Logger,
): Promise<ObjectOutcome[]> {
  if (!env.wait || options.waitSeconds <= 0 || applied.length === 0) return [...applied];
  return logger.group(`${env.name}: health`, async () => {
    const deadline = Date.now() + options.waitSeconds * 1000;
    let pending = [...applied];
    const done: ObjectOutcome[] = [];
    let lastLog = 0;
    while (pending.length > 0) {
      const checked = await mapLimit(pending, options.concurrency, async (o) => {
        const live = await kube.get(o.ref).catch(() => undefined);
        const health: Health = live ? healthOf(live) : { status: 'NotFound', message: 'not found' };
        return { ...o, health };
      });
      pending = [];
      for (const o of checked) {
        if (o.health.status === 'Current' || o.health.status === 'Failed') done.push(o);
        else pending.push(o);
      }
      const failedNow = checked.filter((o) => o.health.status === 'Failed');
      if (failedNow.length > 0) {
        // Fail fast: a terminal failure will not heal by waiting.
        for (const o of failedNow) logger.error(`${describeRef(o.ref)} failed: ${o.health.message}`);
        return [...done, ...pending];
      }
      if (pending.length === 0) break;
      if (Date.now() > deadline) {
        for (const o of pending)
          logger.error(
            `${describeRef(o.ref)} not ready after ${options.waitSeconds} s: ${o.health?.message ?? ''}`,
          );
        return [...done, ...pending];
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        logger.info(
          `${env.name}: waiting for ${pending.length} objects: ${pending
            .slice(0, 3)
            .map((o) => `${describeRef(o.ref)} (${o.health?.message ?? ''})`)
            .join(', ')}${pending.length > 3 ? ', …' : ''}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.healthPollMs ?? 1000));
    }
    logger.info(`${env.name}: ${done.length} objects healthy`);
    return done;
  });
}

function union(a: readonly InventoryEntry[], b: readonly InventoryEntry[]): InventoryEntry[] {
  const map = new Map<string, InventoryEntry>();
  for (const entry of [...a, ...b]) map.set(objectKey(entry), entry);
  return [...map.values()];
}

function sameEntries(a: readonly InventoryEntry[], b: readonly InventoryEntry[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(objectKey));
  return b.every((entry) => keys.has(objectKey(entry)));
}
