/**
 * The apply and re-sync modes: each environment is rendered, checked, applied under its lock over
 * its own connection, and recorded (one deployment per real apply, a commit status, notifications).
 * A re-sync applies the deploy branch only: anything else is an unmerged commit.
 */
import type { ApplyResult } from '../apply.ts';
import { applyEnvironment } from '../apply.ts';
import { recordedDeploy, renderForApply } from '../ci.ts';
import type { EnvironmentConfig } from '../config.ts';
import { UserError } from '../errors.ts';
import { recordApplyInComment } from './comments.ts';
import { describeCluster, outcome, type Job } from './job.ts';
import type { JobOutcome } from './types.ts';

export async function deployAll(job: Job, envs: readonly EnvironmentConfig[]): Promise<JobOutcome> {
  if (job.mode === 'resync') refuseOtherBranch(job);
  const failures: string[] = [];
  let changes = false;
  for (const env of envs) {
    const { result, failure } = await deployOne(job, env);
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
): Promise<{ result: ApplyResult | undefined; failure: string | undefined }> {
  const { context, settings, deps } = job;
  const { logger } = deps;
  const notify = deps.notify;
  const started = performance.now();
  const recorded = await recordedDeploy(env, {
    platform: deps.platform,
    sha: context.sha,
    ref: context.ref,
    runUrl: context.runUrl,
    dryRun,
    masker: deps.masker,
    apply: async () => {
      // Connected first: the cluster's version and APIs are helm's `.Capabilities` in the render.
      const cluster = await deps.clusters.connect(env);
      const rendered = await renderForApply(deps.workspace, env, logger, cluster.kube);
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
        ...(deps.onInterrupt ? { onInterrupt: deps.onInterrupt } : {}),
      });
    },
    notify: (applied) => (notify ? notify(applied) : Promise.resolve()),
  });
  await deps.outputs.applied(env.name, recorded.result, recorded.failure);
  await recordApplyInComment(job, env.name, recorded, performance.now() - started);
  if (recorded.failure) logger.error(`${env.name}: ${recorded.failure}`);
  else logger.info(`${env.name}: ${dryRun ? 'planned (dry run)' : 'applied'}`);
  return recorded;
}
