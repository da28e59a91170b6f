/**
 * The apply and re-sync modes: each environment is rendered, checked, applied under its lock over
 * its own connection, and recorded (one deployment per real apply, a commit status, notifications).
 * A re-sync applies the deploy branch only: anything else is an unmerged commit.
 */
import type { ApplyResult } from '../apply/apply.ts';
import { applyEnvironment } from '../apply/apply.ts';
import { recordedDeploy, renderForApply } from './ci.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { UserError } from '../errors.ts';
import { recordApplyInComment } from './comments.ts';
import { describeCluster, outcome, type Job } from './job.ts';
import {
  findReviewedPlan,
  judgePlan,
  estimatedPlan,
  notReviewedError,
  type ReviewedPlan,
  type ReviewVerdict,
} from './reviewed-plan.ts';
import type { JobOutcome } from './types.ts';
import { hasPinnedOthers } from './siblings.ts';
import { renderedTogether, type Prepared } from './render-together.ts';
import { publishPlanReport } from './ci.ts';
import { describeError } from '../errors.ts';
import type { Finding } from '../yaml/manifest.ts';
import type { Plan } from '../plan/plan.ts';

/** The reviewed plan, or none when the platform cannot say (a warning: the verdict then says so). */
async function reviewedPlanOrNone(job: Job, env: EnvironmentConfig): Promise<ReviewedPlan | undefined> {
  try {
    return await findReviewedPlan(job, env);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    job.deps.logger.warn(
      `${env.name}: cannot read the reviewed plan: ${job.deps.masker.mask(describeError(error))}`,
    );
    return undefined;
  }
}

/** A refused apply posts the plan it would have applied, for review, on the pull request and the commit. */
async function postNewPlan(
  job: Job,
  env: EnvironmentConfig,
  reviewed: ReviewedPlan | undefined,
  rendered: { plan: Plan; findings: readonly Finding[]; notes: readonly string[] },
  verdict: ReviewVerdict,
): Promise<void> {
  const { deps, context } = job;
  if (!deps.platform) return;
  const plan =
    rendered.notes.length > 0
      ? { ...rendered.plan, notes: [...rendered.notes, ...(rendered.plan.notes ?? [])] }
      : rendered.plan;
  await publishPlanReport(
    deps.platform,
    {
      environment: env.name,
      plan,
      findings: rendered.findings,
      failure: `not applied: ${verdict.text}`,
      digest: verdict.digest,
    },
    {
      changeRequest: job.settings.comment ? reviewed?.changeRequest : undefined,
      head: context.sha,
      run: context.run,
      git: deps.git,
      fullDiffUrl: undefined,
      note: 'The plan the merge would apply: it is not the reviewed one, so nothing was applied. Review it and re-run the apply.',
      masker: deps.masker,
      logger: deps.logger,
      checkSummaryBudget: deps.checkSummaryBudget,
    },
  );
}

export async function deployAll(job: Job, envs: readonly EnvironmentConfig[]): Promise<JobOutcome> {
  if (job.mode === 'resync') refuseOtherBranch(job);
  const failures: string[] = [];
  let changes = false;
  const together =
    envs.length > 1 ||
    hasPinnedOthers(
      job,
      envs.map((e) => e.name),
    );
  const prepared = together ? await renderedTogether(job, envs) : new Map<string, Prepared>();
  for (const env of envs) {
    const { result, failure } = await deployOne(job, env, job.settings.dryRun, prepared.get(env.name));
    if (failure) failures.push(`${env.name}: ${failure}`);
    const s = result?.plan.summary;
    changes ||= s !== undefined && s.create + s.update + s.delete > 0;
  }
  return outcome(job, { code: failures.length > 0 ? 1 : 0, changes, failures });
}

/**
 * `workflow_dispatch` (or a web pipeline) runs on whatever ref it was started from; applying a
 * feature branch would deploy an unmerged commit and record it as the last one applied.
 */
function refuseOtherBranch(job: Job): void {
  const { context, settings, deps } = job;
  const deploy = context.deployBranch;
  if (deploy === undefined || context.branch === deploy) return;
  const ran = context.branch ? `branch ${context.branch}` : `ref ${context.ref}`;
  if (settings.force) {
    deps.logger.warn(`re-sync of ${ran}, not the deploy branch ${deploy}: applying it because force is set`);
    return;
  }
  if (settings.dryRun) {
    deps.logger.info(
      `re-sync of ${ran}, not the deploy branch ${deploy}: a dry run only, nothing is applied`,
    );
    return;
  }
  throw new UserError(
    'usage',
    `re-sync applies the deploy branch (${deploy}) only, but this run is for ${ran}: refusing to apply an unmerged commit`,
    { hint: `start the re-sync from ${deploy}, or set force (input \`force: true\`) to apply ${ran} anyway` },
  );
}

/** Applies one environment with its records; every failure is returned (masked), never thrown. */
export async function deployOne(
  job: Job,
  env: EnvironmentConfig,
  dryRun = job.settings.dryRun,
  /** Rendered already, with objects another environment of this run renders too (deployAll). */
  prepared?: Prepared,
): Promise<{ result: ApplyResult | undefined; failure: string | undefined }> {
  const { context, settings, deps } = job;
  const { logger } = deps;
  const notify = deps.notify;
  const started = performance.now();
  // Only an apply after a merge has a reviewed plan to compare with; a re-sync applies on purpose.
  const required = (settings.requireReviewedPlan ?? false) || env.requireReviewedPlan;
  const compare = job.mode === 'apply' && !dryRun && (deps.platform !== undefined || required);
  let verdict: ReviewVerdict | undefined;
  const recorded = await recordedDeploy(env, {
    platform: deps.platform,
    sha: context.sha,
    ref: context.ref,
    runUrl: context.runUrl,
    dryRun,
    masker: deps.masker,
    successDescription: () => verdict?.text,
    apply: async () => {
      const reviewed = compare ? await reviewedPlanOrNone(job, env) : undefined;
      // Connected first: the cluster's version and APIs are helm's `.Capabilities` in the render.
      const cluster = await deps.clusters.connect(env);
      const rendered =
        prepared?.rendered ?? (await renderForApply(deps.workspace, env, logger, cluster.kube));
      if (prepared?.refusal) throw new UserError('apply', prepared.refusal);
      const beforeWrite = async (plan: Plan): Promise<void> => {
        verdict = await judgePlan(job, env, reviewed, rendered.manifests, plan, () =>
          estimatedPlan(job, env, rendered.manifests, plan, cluster.kube),
        );
        if (verdict.same) logger.info(`${env.name}: ${verdict.text}`);
        else logger.warn(`${env.name}: ${verdict.text}`);
        if (verdict.same || !required) return;
        if (settings.force) {
          logger.warn(`${env.name}: require-reviewed-plan is on, but force is set: applying anyway`);
          return;
        }
        await postNewPlan(
          job,
          env,
          reviewed,
          { plan, findings: rendered.findings, notes: rendered.notes },
          verdict,
        );
        throw notReviewedError(env, verdict);
      };
      logger.info(
        `${env.name}: ${dryRun ? 'planning (dry run)' : 'applying'} against ${describeCluster(cluster)}`,
      );
      return applyEnvironment(env, rendered.manifests, {
        kube: cluster.kube,
        logger,
        git: deps.git,
        concurrency: settings.concurrency,
        commit: context.sha || undefined,
        dryRun,
        prune: settings.prune,
        force: settings.force,
        waitSeconds: settings.timeoutSeconds ?? env.timeoutSeconds,
        lockHolder: context.lockHolder,
        lockWaitSeconds: settings.lockWaitSeconds,
        server: cluster.server,
        repository: deps.workspace.repository,
        ...(compare ? { beforeWrite } : {}),
        ...(deps.onInterrupt ? { onInterrupt: deps.onInterrupt } : {}),
      });
    },
    notify: (applied) => (notify ? notify(applied) : Promise.resolve()),
  });
  await deps.outputs.applied(env.name, recorded.result, recorded.failure);
  await recordApplyInComment(job, env.name, recorded, performance.now() - started, verdict);
  if (recorded.failure) logger.error(`${env.name}: ${recorded.failure}`);
  else logger.info(`${env.name}: ${dryRun ? 'planned (dry run)' : 'applied'}`);
  return recorded;
}
