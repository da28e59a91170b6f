import { UserError } from '../errors.ts';
import { estimateApply } from './estimate.ts';
import type { KubeObject } from '../objects.ts';
import type { Logger } from '../ports.ts';

/**
 * How a plan learns what the apply would do (`plan-mode:` in slipway.yaml, input `plan-mode`,
 * `--plan-mode`):
 * - `server`: a server-side dry-run per changed object; a plan identity needs patch/create for it;
 * - `read-only`: never a dry-run, every create/update is estimated from the live object
 *   (estimate.ts), so an identity with get/list/watch only can plan;
 * - `auto` (the default): the dry-run, and from the first one the server refuses for permission
 *   (403) on, the estimate, for the rest of that environment.
 * Only plans use it: an apply (and `apply --dry-run`) always dry-runs, so it never writes on the
 * basis of an estimate.
 */
export type PlanMode = 'server' | 'read-only' | 'auto';

export const PLAN_MODES: readonly PlanMode[] = ['server', 'read-only', 'auto'];
export const DEFAULT_PLAN_MODE: PlanMode = 'auto';

/** How a planned object's result was obtained; absent for rows nothing was compared for. */
export type Fidelity = 'server-dry-run' | 'read-only-estimate';

/** What reviewers are told an estimate lacks. */
export const ESTIMATE_CAVEAT = 'defaults and webhooks not applied';

export function isPlanMode(value: string): value is PlanMode {
  return (PLAN_MODES as readonly string[]).includes(value);
}

/** `plan-mode` of an input, flag or CI variable; empty means unset (the environment's setting). */
export function parsePlanMode(name: string, value: string | undefined): PlanMode | undefined {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return undefined;
  if (isPlanMode(trimmed)) return trimmed;
  throw new UserError('config', `${name} must be one of ${PLAN_MODES.join(', ')}, got "${value}"`);
}

/** One object's result: the server's dry-run, or the estimate. */
export interface PlanResult {
  readonly object: KubeObject;
  readonly created: boolean;
  readonly fidelity: Fidelity;
}

/**
 * The mode of one environment's plan, with `auto`'s switch: one 403 on a dry-run is enough to plan
 * the rest read-only (every other dry-run would be refused the same way), said once in the log.
 */
export class PlanFidelity {
  private estimating: boolean;
  private warned = false;

  readonly mode: PlanMode;
  private readonly environment: string;
  private readonly logger: Logger;

  constructor(mode: PlanMode, environment: string, logger: Logger) {
    this.mode = mode;
    this.environment = environment;
    this.logger = logger;
    this.estimating = mode === 'read-only';
  }

  /** The fidelity of a row decided now without a request (an object applying cannot change). */
  get current(): Fidelity {
    return this.estimating ? 'read-only-estimate' : 'server-dry-run';
  }

  async result(
    object: KubeObject,
    live: KubeObject | undefined,
    dryRun: () => Promise<{ object: KubeObject; created: boolean }>,
  ): Promise<PlanResult> {
    if (this.estimating) return estimated(object, live);
    try {
      return { ...(await dryRun()), fidelity: 'server-dry-run' };
    } catch (error) {
      if (this.mode !== 'auto' || !isRbacRefusal(error)) throw error;
      this.estimating = true;
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          `${this.environment}: plan identity may not patch (403 on dry-run): planning read-only from live objects (${ESTIMATE_CAVEAT}); set plan-mode: server to see the refusal instead`,
        );
      }
      return estimated(object, live);
    }
  }
}

/**
 * A dry-run RBAC refuses (`User "…" cannot patch resource "…"`, the authorizer's words), as opposed
 * to one an admission webhook or policy denies with 403 too: that denial is what the apply would
 * meet, and must stay an error row, never turn into an estimate that hides it.
 */
export function isRbacRefusal(error: unknown): boolean {
  return (
    error instanceof UserError &&
    error.kind === 'permission' &&
    /\bcannot (?:patch|create|update) resource\b/.test(error.message) &&
    !/admission webhook|ValidatingAdmissionPolicy/.test(error.message)
  );
}

function estimated(object: KubeObject, live: KubeObject | undefined): PlanResult {
  return { object: estimateApply(object, live), created: !live, fidelity: 'read-only-estimate' };
}

/** A plan's fidelity as a whole: how many of its compared objects were estimated. */
export interface FidelitySummary {
  /** Create/update/unchanged rows, compared by dry-run or estimate. */
  readonly compared: number;
  readonly estimated: number;
}

/** Undefined when nothing was estimated: a server-only plan reads as it always has. */
export function fidelitySummary(
  rows: readonly { readonly fidelity?: Fidelity | undefined }[],
): FidelitySummary | undefined {
  const compared = rows.filter((row) => row.fidelity !== undefined).length;
  const estimated = rows.filter((row) => row.fidelity === 'read-only-estimate').length;
  return estimated > 0 ? { compared, estimated } : undefined;
}

/** The line a reviewer reads above the table, e.g. "read-only estimate for 12 of 14 objects: …". */
export function describeFidelity(summary: FidelitySummary): string {
  const of =
    summary.estimated === summary.compared
      ? `all ${summary.compared}`
      : `${summary.estimated} of ${summary.compared}`;
  return `read-only estimate for ${of} object${summary.compared === 1 ? '' : 's'}: ${ESTIMATE_CAVEAT}`;
}
