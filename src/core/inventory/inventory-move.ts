/**
 * Where an environment's inventory is when `state-namespace` changes. Losing it would be silent
 * damage: without it, objects removed from Git are never pruned. So the plan reads the inventory
 * where the default (`slipway-system`) kept it, says that it moves, and plans deletions against it;
 * the apply, under the lock, writes it to the new namespace and then deletes the old one. Where no
 * inventory can be found but the live objects say they belong to one elsewhere (their ApplySet id
 * is that of another namespace), the plan refuses rather than start an empty one.
 */
import { DEFAULT_STATE_NAMESPACE, type EnvironmentConfig } from '../config/config.ts';
import { OWNER_LABEL } from '../constants.ts';
import { describeError, UserError } from '../errors.ts';
import {
  APPLYSET_PART_OF_LABEL,
  applySetId,
  inventoryName,
  inventoryRef,
  readInventory,
  writeInventory,
  type Inventory,
} from './inventory.ts';
import type { KubeObject } from '../objects.ts';
import type { KubeApi, Logger } from '../ports.ts';
import type { PlanRefusal } from '../prune/prune-guard.ts';

type StateEnv = Pick<EnvironmentConfig, 'name' | 'stateNamespace'>;

/**
 * The environment's inventory: from its state namespace, or, when there is none there, the one an
 * earlier state namespace holds (marked `movedFrom`). Another repository's inventory at the old
 * place is not taken; an old place this identity may not read (a namespace-scoped identity) is
 * only logged.
 */
export async function locateInventory(
  kube: KubeApi,
  env: StateEnv,
  logger: Logger,
  repository?: string,
): Promise<Inventory> {
  const here = await readInventory(kube, env.name, env.stateNamespace);
  if (here.resourceVersion !== undefined) return here;
  for (const namespace of previousNamespaces(env)) {
    const old = await readOld(kube, env.name, namespace, logger);
    if (!old) continue;
    if (old.repository !== undefined && repository !== undefined && old.repository !== repository) {
      logger.debug(
        `${env.name}: ${namespace}/${inventoryName(env.name)} is repository ${old.repository}'s inventory, not moved`,
      );
      continue;
    }
    return {
      ...old,
      namespace: env.stateNamespace,
      resourceVersion: undefined,
      movedFrom: { namespace, resourceVersion: old.resourceVersion },
    };
  }
  return here;
}

/** Where an inventory may still be after `state-namespace` changed: the default's place. */
function previousNamespaces(env: StateEnv): string[] {
  return env.stateNamespace === DEFAULT_STATE_NAMESPACE ? [] : [DEFAULT_STATE_NAMESPACE];
}

async function readOld(
  kube: KubeApi,
  environment: string,
  namespace: string,
  logger: Logger,
): Promise<Inventory | undefined> {
  try {
    const old = await readInventory(kube, environment, namespace);
    return old.resourceVersion === undefined ? undefined : old;
  } catch (error) {
    if (!(error instanceof UserError && error.kind === 'permission')) throw error;
    // A namespace-scoped identity: nothing there it could have written either.
    logger.debug(
      `${environment}: cannot read ${namespace}/${inventoryName(environment)}: ${describeError(error)}`,
    );
    return undefined;
  }
}

/** The plan's note for an inventory that moves, or undefined. */
export function inventoryMoveNote(inventory: Inventory): string | undefined {
  const from = inventory.movedFrom;
  if (!from) return undefined;
  const name = inventoryName(inventory.environment);
  return `the inventory moves from ${from.namespace}/${name} to ${inventory.namespace}/${name} (state-namespace changed): the apply writes it there, then deletes the old one; its ${inventory.entries.length} objects stay tracked, so pruning keeps working, and their ${APPLYSET_PART_OF_LABEL} label becomes the new ApplySet's`;
}

/**
 * Writes a moved inventory to its new place, then deletes the old one (only the version that was
 * read). The copy is what counts: an old one that cannot be deleted is said, with the command.
 */
export async function moveInventory(kube: KubeApi, inventory: Inventory, logger: Logger): Promise<Inventory> {
  const { movedFrom: from, ...rest } = inventory;
  if (!from) return inventory;
  const written = await writeInventory(kube, rest);
  const name = inventoryName(inventory.environment);
  try {
    await kube.delete(
      inventoryRef(inventory.environment, from.namespace),
      from.resourceVersion ? { resourceVersion: from.resourceVersion } : {},
    );
    logger.info(
      `${inventory.environment}: moved the inventory from ${from.namespace}/${name} to ${inventory.namespace}/${name}`,
    );
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    logger.warn(
      `${inventory.environment}: the inventory is now ${inventory.namespace}/${name}, but the old ${from.namespace}/${name} could not be deleted (${describeError(error)}); delete it (kubectl delete configmap -n ${from.namespace} ${name}) so that going back to that state-namespace cannot read a stale inventory`,
    );
  }
  return written;
}

/**
 * No inventory where the config says, yet live objects of this environment name an ApplySet other
 * than the one there: their inventory is elsewhere (an earlier state-namespace this run could not
 * read). Starting an empty inventory would stop pruning them, so the plan refuses and says where.
 */
export function lostInventoryRefusal(
  env: StateEnv,
  inventory: Inventory,
  live: readonly (KubeObject | undefined)[],
): PlanRefusal | undefined {
  if (inventory.resourceVersion !== undefined || inventory.movedFrom) return undefined;
  const expected = applySetId(env.name, env.stateNamespace);
  const ids = new Set(
    live
      .filter((object) => object?.metadata.labels?.[OWNER_LABEL] === env.name)
      .map((object) => object?.metadata.labels?.[APPLYSET_PART_OF_LABEL])
      .filter((id): id is string => id !== undefined && id !== expected),
  );
  if (ids.size === 0) return undefined;
  const candidates = [
    DEFAULT_STATE_NAMESPACE,
    ...live.map((object) => object?.metadata.namespace).filter((ns): ns is string => ns !== undefined),
  ];
  const found = [...new Set(candidates)].filter((ns) => ids.has(applySetId(env.name, ns)));
  const name = inventoryName(env.name);
  const where = found.length
    ? found.map((ns) => `${ns}/${name}`).join(' or ')
    : `another namespace (ApplySet ${[...ids].join(', ')})`;
  return {
    rule: 'inventory-lost',
    message: `environment "${env.name}" has no inventory in ${env.stateNamespace} (state-namespace), but its live objects belong to the inventory in ${where}, which this run could not find or read: starting an empty one would stop pruning what Git no longer has. Run the apply once with an identity that can read and delete it (it moves the inventory), move the ConfigMap by hand, or set state-namespace back; --force starts a new inventory`,
  };
}
