/**
 * The seam between the job engine and its three entries (GitHub Action, GitLab CI, laptop CLI):
 * an adapter parses its inputs once into these types and supplies a review platform, a cluster
 * pool and an output sink; the engine decides everything else, the same way for all three.
 */
import type { ApplyResult } from '../apply/apply.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import type { PlanMode } from '../plan/plan-mode.ts';
import type { Detection } from '../detect/detect.ts';
import type { ReviewPlatform } from '../platform.ts';
import type { GitHistory, KubeApi, Logger } from '../ports.ts';
import type { EnvironmentReport } from '../report/markdown.ts';
import type { SecretMasker } from '../secrets.ts';
import type { Workspace } from '../workspace.ts';

export type JobMode = 'detect' | 'validate' | 'plan' | 'apply' | 'resync' | 'drift';

/** Knobs of a run, parsed once by the adapter (inputs, flags, variables); defaults in settings.ts. */
export interface JobSettings {
  readonly concurrency: number;
  /** How long an apply waits for another run's environment lock (`SLIPWAY_LOCK_WAIT_SECONDS`). */
  readonly lockWaitSeconds: number;
  /** apply/resync: plan with a server-side dry-run, write nothing. */
  readonly dryRun: boolean;
  readonly prune: boolean;
  /** Applies an older commit than the last one, prunes over the budget, re-syncs another branch. */
  readonly force: boolean;
  /** drift: apply Git where drift is found. */
  readonly heal: boolean;
  /** Health wait; undefined means the environment's `timeout`. */
  readonly timeoutSeconds: number | undefined;
  /** Post the plan on the pull/merge request. */
  readonly comment: boolean;
  /**
   * Stop an apply whose plan differs from the last plan reviewed on its pull/merge request (or that
   * has none); also per environment in slipway.yaml. Either one turns it on.
   */
  readonly requireReviewedPlan?: boolean;
  /**
   * plan/diff/drift: overrides every environment's `plan-mode` (plan-mode.ts). An apply ignores it:
   * it always dry-runs.
   */
  readonly planMode?: PlanMode | undefined;
}

/** Which environments a run is about. */
export type Targets =
  /** Those the change (base…head) touches, optionally narrowed to one name. */
  | { readonly kind: 'affected'; readonly only: string | undefined }
  /** Exactly these (`all` already expanded by the adapter, or one name). */
  | { readonly kind: 'named'; readonly names: readonly string[] };

/** What this run is about, read by the adapter from its CI variables, event or flags. */
export interface JobContext {
  readonly targets: Targets;
  /** The commit applied and recorded (deployments, commit statuses, inventory). */
  readonly sha: string;
  /** The commit planned: checks and the comment's stamp (a merge request's source head on GitLab). */
  readonly head: string;
  /** Base of the change (merge base); undefined means every environment counts as changed. */
  readonly base: string | undefined;
  /** Pull/merge request number; undefined outside one. */
  readonly changeRequest: number | undefined;
  /**
   * A merge queue's check of its merge commit (GitHub `merge_group`): planned like a change under
   * review (with the danger lint against `base`), reported on `head`, no comment.
   */
  readonly mergeGroup: boolean;
  /**
   * Orders runs by when their event came (GITHUB_RUN_ID, CI_PIPELINE_ID only grow; 0 on a laptop):
   * stamped on comments, so a slower older run never writes over a newer run's result.
   */
  readonly run: number;
  /** Where an environment's deployments are shown, linked from the apply result in the comment. */
  readonly deploymentUrl: ((environment: string) => string) | undefined;
  /** What the change is called in messages: `pull request`, `merge request`, `push`, `branch`. */
  readonly changeNoun: string;
  /** The branch the run is for (undefined for tags and detached runs). */
  readonly branch: string | undefined;
  /** The ref recorded on deployments (branch, else ref name). */
  readonly ref: string;
  /** The branch whose commits may be applied (re-sync refuses any other without `force`). */
  readonly deployBranch: string | undefined;
  /** A change from a fork: no cluster credentials, offline validation only. */
  readonly fromFork: boolean;
  /** Where people read this run's log. */
  readonly runUrl: string;
  /** Holder name written on the environment's lock. */
  readonly lockHolder: string;
}

/** A live connection to one environment's cluster, with who and where it is. */
export interface ClusterHandle {
  readonly kube: KubeApi;
  /** API server URL. */
  readonly server: string;
  /** The kubeconfig context used (or `in-cluster`). */
  readonly context: string;
  /** The user the API server sees (SelfSubjectReview), or why it is unknown. */
  readonly identity: string;
}

/**
 * Connections per environment: an environment's `context` (or the adapter's override) picks the
 * kubeconfig context; connections are shared by environments with the same kubeconfig and
 * context. `close` ends them all.
 */
export interface ClusterPool {
  connect(env: EnvironmentConfig): Promise<ClusterHandle>;
  close(): void;
}

/** Where an entry shows results besides the review platform: job summary, files, stdout, outputs. */
export interface JobOutputs {
  detected(detection: Detection): Promise<void>;
  /** One environment's plan (or offline validation); returns a link to the full plan, if any. */
  planned(report: EnvironmentReport): Promise<string | undefined>;
  applied(env: string, result: ApplyResult | undefined, failure: string | undefined): Promise<void>;
  /** After drift checked every environment. */
  driftChecked(outcomes: readonly DriftOutcome[]): Promise<void>;
  /** The whole run's outcome (e.g. GitHub's `has-changes`). */
  finished(outcome: JobOutcome): Promise<void>;
}

export interface DriftOutcome {
  readonly environment: string;
  readonly state: 'in-sync' | 'drifted' | 'unchecked';
  /** Why it could not be checked. */
  readonly reason?: string;
  readonly issueUrl?: string;
}

export interface JobOutcome {
  readonly mode: JobMode;
  /** 0 success, 1 something failed (a plan, an apply, a drift check); see README "Exit codes". */
  readonly code: 0 | 1;
  /** Some environment has creates, updates or deletes (plan, apply) or drift (drift). */
  readonly changes: boolean;
  readonly reports: readonly EnvironmentReport[];
  readonly drift: readonly DriftOutcome[];
  /** One line per failed environment (`beta: 2 errors in the manifests…`), already masked. */
  readonly failures: readonly string[];
}

/** Sends a finished real apply's notifications (Slack, webhook). */
export type Notifier = (result: ApplyResult) => Promise<void>;

export interface JobDependencies {
  readonly workspace: Workspace;
  readonly git: GitHistory;
  readonly logger: Logger;
  readonly masker: SecretMasker;
  /** Undefined: nothing is posted (no token, a fork, the laptop). */
  readonly platform: ReviewPlatform | undefined;
  readonly clusters: ClusterPool;
  readonly outputs: JobOutputs;
  readonly notify: Notifier | undefined;
  /** Registers a cleanup for SIGINT/SIGTERM (src/tools/interrupt.ts); returns its unregister. */
  readonly onInterrupt: ((cleanup: () => Promise<void>) => () => void) | undefined;
  /** Characters a check's summary may carry. */
  readonly checkSummaryBudget: number;
}
