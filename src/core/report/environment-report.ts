import type { Finding } from '../yaml/manifest.ts';
import type { PlanDigest } from '../plan/plan-digest.ts';
import type { Plan } from '../plan/plan.ts';

/** One environment's outcome, as the comment and summaries show it. */
export interface EnvironmentReport {
  readonly environment: string;
  readonly plan: Plan | undefined;
  /** Render/validate findings (errors block the merge, warnings are shown). */
  readonly findings: readonly Finding[];
  /** Set when the plan could not be made at all (cluster unreachable, render failed, …). */
  readonly failure: string | undefined;
  /** Said above the details, e.g. "validated offline: pull requests from forks get no cluster access". */
  readonly note?: string;
  /** What the plan showed (plan-digest.ts): recorded in the comment and check, compared on apply. */
  readonly digest?: PlanDigest;
}

export interface CommentOptions {
  /** Characters one comment may hold (GitHub: 65,536). */
  readonly limit: number;
  /** Where the full diff is (the job summary or a run URL), linked when detail was dropped. */
  readonly fullDiffUrl?: string | undefined;
  readonly commit?: string | undefined;
  /** The risk summary is in the comment's header, above the table (one environment per comment). */
  readonly risksAbove?: boolean;
}
