// What a plan is, shared by the planner (plan.ts), the apply, the reports and the job engine.
import type { Adoption } from '../ownership/adopt.ts';
import type { ChangeSource } from './change-sources.ts';
import type { Inventory } from '../inventory/inventory.ts';
import type { Provenance } from '../yaml/manifest.ts';
import type { KubeObject, ObjectRef } from '../objects.ts';
import type { TakenFields } from '../ownership/ownership.ts';
import type { Fidelity, FidelitySummary, PlanMode } from './plan-mode.ts';
import type { KubeApi, Logger } from '../ports.ts';
import type { PlanRefusal } from '../prune/prune-guard.ts';
import type { Risk } from '../risk/assess.ts';
export type PlanAction = 'create' | 'update' | 'unchanged' | 'delete' | 'orphan' | 'error';

export interface PlannedObject {
  readonly ref: ObjectRef;
  readonly action: PlanAction;
  /** Unified diff of the secret-safe, normalised YAML; '' for unchanged. */
  readonly diff: string;
  readonly source: Provenance | undefined;
  /** Why a row is special: "validated after its CRD exists", "protected", a server error. */
  readonly note: string | undefined;
  readonly taken: readonly TakenFields[];
  /** What to send on apply (undefined for deletes and errors). */
  readonly desired: KubeObject | undefined;
  /** The live object as read (for prune preconditions and health). */
  readonly live: KubeObject | undefined;
  /** Applied only once its CRD or namespace exists, so the dry-run could not check it. */
  readonly deferred: boolean;
  /** For an update: each changed field and the repository line it comes from (change-sources.ts). */
  readonly changes?: readonly ChangeSource[];
  /** Fields kubectl owns that move to Slipway before the apply (see adopt.ts). */
  readonly adopts?: Adoption | undefined;
  /**
   * A stale inventory entry neither deleted nor forgotten this run (it could not be read, or its
   * kind is no longer served): the inventory keeps it, to try again next run.
   */
  readonly keepInInventory?: boolean;
  /** An update whose only change is Slipway's own labels (noise/builtin.ts): shown as "adopt". */
  readonly adoptOnly?: boolean;
  /** How the result was obtained (plan-mode.ts); absent for deletes, errors and deferred rows. */
  readonly fidelity?: Fidelity;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  error: number;
  orphan: number;
  /** Of `update`, the rows that only add Slipway's labels (adoptions). */
  adopt?: number;
}

export interface Plan {
  readonly environment: string;
  readonly objects: PlannedObject[];
  readonly summary: PlanSummary;
  readonly requests: number;
  readonly durationMs: number;
  /** Why this plan may not be applied as it stands (prune budget, another repository's inventory): it fails. */
  readonly refusals?: readonly PlanRefusal[];
  /** Said about the plan as a whole, e.g. an inventory adopted from an older Slipway. */
  readonly notes?: readonly string[];
  /** The risk summary (risk/assess.ts): what a reviewer should read first. */
  readonly risks?: readonly Risk[];
  /** Present when some objects were estimated, not dry-run (a read-only plan). */
  readonly fidelity?: FidelitySummary;
}

export interface PlanContext {
  readonly kube: KubeApi;
  readonly logger: Logger;
  readonly concurrency: number;
  /** Previous inventory: what it lists and Git no longer renders becomes a delete row. */
  readonly inventory: Inventory;
  /** This run's repository (repository-identity.ts), checked against the inventory's. */
  readonly repository?: string | undefined;
  /** `--force`: refusals become notes, the apply goes ahead. */
  readonly force?: boolean;
  /** plan-mode.ts; absent means `server`: an apply never works from an estimate. */
  readonly planMode?: PlanMode;
}
