import { mapLimit, progressReporter } from './concurrency.ts';
import type { EnvironmentConfig } from './config.ts';
import { describeError, UserError } from './errors.ts';
import { writeAdoption } from './adopt.ts';
import { healthOf, isSettled, type Health } from './health.ts';
import { waitForHealth } from './health-wait.ts';
import { locateInventory, moveInventory } from './inventory-move.ts';
import {
  mergeEntries,
  sameEntries,
  writeInventory,
  type Inventory,
  type InventoryEntry,
} from './inventory.ts';
import { acquireLock } from './lock.ts';
import { describeRef, objectKey, refOf, type KubeObject, type ObjectRef } from './objects.ts';
import { byStage, STAGE_NAMES, stageOf } from './order.ts';
import { planEnvironment, type Plan, type PlannedObject } from './plan.ts';
import { pruneExemption } from './plan-deletion.ts';
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
        lock?.fence(`applying ${STAGE_NAMES[index] ?? 'the next stage'}`);
        logger.info(`${env.name}: applying ${stage.length} ${STAGE_NAMES[index] ?? ''}`);
        if (stage.some((o) => o.deferred)) kube.invalidateDiscovery();
        const results = await mapLimit(stage, options.concurrency, async (row): Promise<ObjectOutcome> => {
          try {
            if (row.adopts && row.live && (await writeAdoption(kube, row.ref, row.live))) {
              writes++;
              logger.info(
                `${env.name}: ${describeRef(row.ref)}: adopted the fields of ${row.adopts.managers.join(', ')}`,
              );
            }
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
  const served: [string, string][] = [];
  for (const ref of crds) {
    for (;;) {
      const live = await kube.get(ref);
      if (live && healthOf(live).status === 'Current') {
        served.push(...servedKinds(live));
        break;
      }
      if (Date.now() > deadline)
        throw new UserError('apply', `${describeRef(ref)} did not become Established within 60 s`, {
          hint: 'check the CRD with kubectl describe',
        });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  // Established comes before the API server's discovery lists the new kinds (seconds under load):
  // wait for discovery too, or the next stage would find its custom resources' kinds unknown.
  for (;;) {
    kube.invalidateDiscovery();
    const missing = [];
    for (const [apiVersion, kind] of served)
      if (!(await kube.resolve(apiVersion, kind))) missing.push(`${kind}.${apiVersion}`);
    if (missing.length === 0) break;
    if (Date.now() > deadline)
      throw new UserError(
        'apply',
        `discovery does not list ${missing.join(', ')} 60 s after its CRD was applied`,
        {
          hint: 'check the API server (kubectl api-resources)',
        },
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  logger.info(`${crds.length} CustomResourceDefinitions established`);
}

/** `[apiVersion, kind]` for each version a live CRD serves. */
function servedKinds(crd: KubeObject): [string, string][] {
  const spec = crd.spec as
    | { group?: string; names?: { kind?: string }; versions?: { name?: string; served?: boolean }[] }
    | undefined;
  const { group, names, versions = [] } = spec ?? {};
  if (!group || !names?.kind) return [];
  const kind = names.kind;
  return versions.filter((v) => v.served && v.name).map((v) => [`${group}/${v.name}`, kind]);
}
