import type { EnvironmentConfig } from '../config/config.ts';
import { OWNER_LABEL, PRUNE_ANNOTATION } from '../constants.ts';
import { describeError, UserError } from '../errors.ts';
import { APPLYSET_PART_OF_LABEL, applySetId } from '../inventory/inventory.ts';
import { locateInventory } from '../inventory/inventory-move.ts';
import { describeRef, groupOf, refOf, type KubeObject, type ObjectRef } from '../objects.ts';
import type { KubeApi, Logger } from '../ports.ts';

export interface OwnerCheck {
  /** The object belongs to another environment: planning it here is an error. */
  readonly error?: string;
  /** Said on the row when the object changes hands without a conflict. */
  readonly note?: string;
}

/**
 * Whether a live object belongs to another Slipway environment. Every environment applies with
 * the same field manager, so two environments rendering one object would silently overwrite each
 * other's fields and flip its `slipway.dev/environment` label on every apply. The label names the
 * owner; the owner's inventory says whether it still renders the object (a moved object, removed
 * from there first, may be taken over). Each other environment's inventory is read once.
 */
export class ForeignOwners {
  private readonly kube: KubeApi;
  private readonly env: EnvironmentConfig;
  private readonly logger: Logger;
  private readonly inventories = new Map<string, Promise<readonly ObjectRef[]>>();

  constructor(kube: KubeApi, env: EnvironmentConfig, logger: Logger) {
    this.kube = kube;
    this.env = env;
    this.logger = logger;
  }

  async check(live: KubeObject): Promise<OwnerCheck> {
    const labels = live.metadata.labels ?? {};
    const owner = labels[OWNER_LABEL];
    const ref = refOf(live);
    if (owner === undefined) {
      const partOf = labels[APPLYSET_PART_OF_LABEL];
      return partOf && partOf !== applySetId(this.env.name, this.env.stateNamespace)
        ? {
            note: `leaves ApplySet ${partOf} (its ${APPLYSET_PART_OF_LABEL} label becomes this environment's)`,
          }
        : {};
    }
    if (owner === this.env.name) return {};
    let entries: readonly ObjectRef[];
    try {
      entries = await this.inventoryOf(owner);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return {
        error: `${describeRef(ref)} is labelled ${OWNER_LABEL}=${owner}, and that environment's inventory cannot be read to tell whether it still owns it: ${describeError(error)}`,
      };
    }
    if (!entries.some((entry) => sameObject(entry, ref)))
      return { note: `takes over from environment "${owner}", whose inventory no longer lists it` };
    return {
      error: `${describeRef(ref)} belongs to environment "${owner}" (labelled ${OWNER_LABEL}=${owner} and in its inventory), and environment "${this.env.name}" renders it too: both apply with one field manager, so each apply would take the other's fields and flip the label. Render it in one environment only; to move it here, remove it from "${owner}" first (annotated ${PRUNE_ANNOTATION}: disabled there, the object is kept rather than deleted)`,
    };
  }

  private inventoryOf(environment: string): Promise<readonly ObjectRef[]> {
    let entries = this.inventories.get(environment);
    if (!entries) {
      // Environments of one repository usually share a state namespace; else the default's.
      entries = locateInventory(
        this.kube,
        { name: environment, stateNamespace: this.env.stateNamespace },
        this.logger,
      ).then((inventory) => inventory.entries);
      this.inventories.set(environment, entries);
    }
    return entries;
  }
}

/** Same group, kind and name, and the same namespace unless the live object has none (cluster-scoped). */
function sameObject(entry: ObjectRef, live: ObjectRef): boolean {
  return (
    groupOf(entry.apiVersion) === groupOf(live.apiVersion) &&
    entry.kind === live.kind &&
    entry.name === live.name &&
    (live.namespace === undefined || entry.namespace === live.namespace)
  );
}
