import { createHash } from 'node:crypto';
import { describeError, UserError } from '../errors.ts';
import { groupOf, isPlainObject, objectKey, type KubeObject, type ObjectRef } from '../objects.ts';
import type { KubeApi } from '../ports.ts';

/**
 * What Slipway applied to an environment, kept in the cluster as a kubectl ApplySet parent
 * (KEP-3659): a ConfigMap labelled `applyset.kubernetes.io/id`, whose members carry
 * `applyset.kubernetes.io/part-of`. Unlike kubectl, the full member list is also stored in the
 * ConfigMap's data (about 1 MiB of room, against 256 KiB for annotations), so a prune preview needs
 * one GET instead of a LIST of every kind in every namespace, and a member that lost its label is
 * still known. It lives in the environment's `state-namespace` (config.ts), next to its lock.
 */
export const APPLYSET_ID_LABEL = 'applyset.kubernetes.io/id';
export const APPLYSET_PART_OF_LABEL = 'applyset.kubernetes.io/part-of';
export const APPLYSET_TOOLING = 'applyset.kubernetes.io/tooling';
export const APPLYSET_KINDS = 'applyset.kubernetes.io/contains-group-kinds';
export const APPLYSET_NAMESPACES = 'applyset.kubernetes.io/additional-namespaces';
export const TOOLING = 'slipway/v1';

export type InventoryEntry = ObjectRef;

/** Already says which state-namespace request failed and what to change. */
class StateError extends UserError {}

export interface Inventory {
  readonly environment: string;
  /** The namespace the ConfigMap is (or will be) in: the environment's state namespace. */
  readonly namespace: string;
  readonly entries: InventoryEntry[];
  readonly commit: string | undefined;
  readonly appliedAt: string | undefined;
  /**
   * The repository whose applies wrote it (`host/path`, see repository-identity.ts); undefined
   * for an inventory written by a Slipway that did not record it, or by a run that did not know it.
   */
  readonly repository?: string | undefined;
  /** The ConfigMap as read, for optimistic concurrency on update. */
  readonly resourceVersion: string | undefined;
  /**
   * Read from where an earlier `state-namespace` kept it (inventory-move.ts): the apply writes it
   * to `namespace`, then deletes this one (guarded by its resourceVersion).
   */
  readonly movedFrom?: { readonly namespace: string; readonly resourceVersion: string | undefined };
}

export function inventoryName(environment: string): string {
  return `slipway-${environment}`;
}

/** kubectl's ApplySet id: `applyset-` + unpadded URL-safe base64 of sha256(name.namespace.Kind.group) + `-v1`. */
export function applySetId(environment: string, namespace: string): string {
  const digest = createHash('sha256')
    .update(`${inventoryName(environment)}.${namespace}.ConfigMap.`)
    .digest('base64url');
  return `applyset-${digest}-v1`;
}

export function emptyInventory(environment: string, namespace: string): Inventory {
  return {
    environment,
    namespace,
    entries: [],
    commit: undefined,
    appliedAt: undefined,
    resourceVersion: undefined,
  };
}

export function decodeInventory(environment: string, configMap: KubeObject): Inventory {
  const namespace = configMap.metadata.namespace ?? '';
  const tooling = configMap.metadata.annotations?.[APPLYSET_TOOLING];
  if (tooling !== undefined && !tooling.startsWith('slipway/')) {
    throw new UserError(
      'prune',
      `ConfigMap ${namespace}/${inventoryName(environment)} is an ApplySet of "${tooling}", not Slipway's`,
      {
        hint: 'another tool manages this inventory; rename the environment or remove that ApplySet',
      },
    );
  }
  const data = isPlainObject(configMap.data) ? configMap.data : {};
  let entries: InventoryEntry[] = [];
  if (typeof data.objects === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.objects);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed)) {
      // Someone edited the inventory by hand: refuse rather than prune from a guess.
      throw new UserError(
        'prune',
        `the inventory ${namespace}/${inventoryName(environment)} is damaged (data.objects is not a JSON list)`,
        {
          hint: 'restore it from a backup, or delete the ConfigMap: the next apply records a new inventory (objects no longer in Git are then not pruned)',
        },
      );
    }
    entries = parsed.filter(isPlainObject).map((entry) => ({
      apiVersion: String(entry.apiVersion),
      kind: String(entry.kind),
      name: String(entry.name),
      ...(typeof entry.namespace === 'string' ? { namespace: entry.namespace } : {}),
    }));
  }
  return {
    environment,
    namespace,
    entries,
    commit: typeof data.commit === 'string' && data.commit ? data.commit : undefined,
    appliedAt: typeof data.appliedAt === 'string' ? data.appliedAt : undefined,
    repository: typeof data.repository === 'string' && data.repository ? data.repository : undefined,
    resourceVersion: configMap.metadata.resourceVersion,
  };
}

export function encodeInventory(inventory: Inventory): KubeObject {
  const entries = [...inventory.entries].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  const kinds = [
    ...new Set(entries.map((e) => (groupOf(e.apiVersion) ? `${e.kind}.${groupOf(e.apiVersion)}` : e.kind))),
  ].sort();
  const namespaces = [
    ...new Set(
      entries
        .map((e) => e.namespace)
        .filter((ns): ns is string => ns !== undefined && ns !== inventory.namespace),
    ),
  ].sort();
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: inventoryName(inventory.environment),
      namespace: inventory.namespace,
      labels: {
        [APPLYSET_ID_LABEL]: applySetId(inventory.environment, inventory.namespace),
        'app.kubernetes.io/managed-by': 'slipway',
      },
      annotations: {
        [APPLYSET_TOOLING]: TOOLING,
        [APPLYSET_KINDS]: kinds.join(','),
        [APPLYSET_NAMESPACES]: namespaces.join(','),
      },
      ...(inventory.resourceVersion ? { resourceVersion: inventory.resourceVersion } : {}),
    },
    data: {
      environment: inventory.environment,
      commit: inventory.commit ?? '',
      appliedAt: inventory.appliedAt ?? '',
      repository: inventory.repository ?? '',
      objects: JSON.stringify(
        entries.map((e) => ({
          apiVersion: e.apiVersion,
          kind: e.kind,
          ...(e.namespace ? { namespace: e.namespace } : {}),
          name: e.name,
        })),
      ),
    },
  };
}

/** Entries of several lists, one per object (by group, kind, namespace, name); a later list's version wins. */
export function mergeEntries(...lists: readonly (readonly InventoryEntry[])[]): InventoryEntry[] {
  const map = new Map<string, InventoryEntry>();
  for (const entry of lists.flat()) map.set(objectKey(entry), entry);
  return [...map.values()];
}

/** The same entries at the same versions: an entry now read at a newer served version is re-recorded. */
export function sameEntries(a: readonly InventoryEntry[], b: readonly InventoryEntry[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map((entry) => `${entry.apiVersion} ${objectKey(entry)}`));
  return b.every((entry) => keys.has(`${entry.apiVersion} ${objectKey(entry)}`));
}

export function inventoryRef(environment: string, namespace: string): ObjectRef {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: inventoryName(environment) };
}

export async function readInventory(
  kube: KubeApi,
  environment: string,
  namespace: string,
): Promise<Inventory> {
  const ref = inventoryRef(environment, namespace);
  const configMap = await kube.get(ref).catch((error: unknown) => {
    throw stateAccessError(error, `read the inventory of "${environment}"`, ref);
  });
  return configMap ? decodeInventory(environment, configMap) : emptyInventory(environment, namespace);
}

/** Writes the inventory, creating its namespace and ConfigMap on first use. */
export async function writeInventory(kube: KubeApi, inventory: Inventory): Promise<Inventory> {
  const object = encodeInventory(inventory);
  const ref = inventoryRef(inventory.environment, inventory.namespace);
  let written: KubeObject;
  try {
    if (inventory.resourceVersion) {
      written = await kube.replace(object);
    } else {
      await ensureNamespace(kube, inventory.namespace);
      written = await kube.create(object);
    }
  } catch (error) {
    throw stateAccessError(error, `record the inventory of "${inventory.environment}"`, ref);
  }
  return { ...inventory, resourceVersion: written.metadata.resourceVersion };
}

/**
 * Makes sure a namespace Slipway keeps its state in exists. An identity bound only inside the
 * namespace (a Role) may not read Namespace objects: then the namespace is taken to exist and the
 * ConfigMap or Lease is used directly; if it does not, that request fails and says why.
 */
export async function ensureNamespace(kube: KubeApi, name: string): Promise<void> {
  const ref = { apiVersion: 'v1', kind: 'Namespace', name };
  try {
    if (await kube.get(ref)) return;
  } catch (error) {
    if (error instanceof UserError && error.kind === 'permission') return;
    throw error;
  }
  try {
    await kube.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
    });
  } catch (error) {
    if (error instanceof UserError && error.kind === 'conflict') return; // created meanwhile
    if (!(error instanceof UserError && error.kind === 'permission')) throw error;
    throw new StateError(
      'permission',
      `the namespace "${name}" (state-namespace: where Slipway keeps inventories and locks) does not exist, and this identity cannot create namespaces: ${describeError(error)}`,
      {
        hint: `create the namespace "${name}" once as a cluster admin (kubectl create namespace ${name}), or set state-namespace in slipway.yaml to a namespace that exists`,
      },
    );
  }
}

/**
 * A refused request on Slipway's own records (inventory ConfigMap, lock Lease), said with what to
 * change: the server's message names the verb, resource and namespace; this adds the config key.
 */
export function stateAccessError(error: unknown, doing: string, ref: ObjectRef): unknown {
  if (!(error instanceof UserError) || error instanceof StateError) return error;
  const where = `${ref.kind} ${ref.namespace ?? ''}/${ref.name}`;
  if (error.kind === 'permission' && !error.message.includes('ValidatingAdmissionPolicy'))
    return new StateError('permission', `cannot ${doing} (${where}): ${error.message}`, {
      cause: error,
      hint: `grant this identity that verb on ${ref.kind === 'Lease' ? 'leases' : 'configmaps'} in the namespace "${ref.namespace ?? ''}" (slipway rbac prints the Role), or set state-namespace in slipway.yaml to a namespace where it has it`,
    });
  if (error.kind === 'cluster' && /namespaces? "?[^ "]*"? not found/i.test(error.message))
    return new StateError(
      'cluster',
      `cannot ${doing} (${where}): the namespace "${ref.namespace ?? ''}" does not exist`,
      {
        cause: error,
        hint: `create it once as a cluster admin (kubectl create namespace ${ref.namespace ?? ''}), or set state-namespace in slipway.yaml to a namespace that exists`,
      },
    );
  return error;
}
