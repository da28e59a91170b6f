/**
 * The comment hooks of the engine's modes: a change's environments that a later push no longer
 * touches are marked so (detect, or a plan of the affected environments), and after a merge the
 * apply adds its result to the comment of the pull/merge request the commit came from. Both are
 * reports about work already done: a failure to post is a warning, never a failed job.
 */
import type { ApplyResult } from '../apply/apply.ts';
import { describeError, UserError } from '../errors.ts';
import { isSettled } from '../health/health.ts';
import { describeRef } from '../objects.ts';
import type { ApplyNote } from '../report/comment.ts';
import { markUnaffected, recordApplyComment } from './review.ts';
import type { Job } from './job.ts';

/**
 * Marks the comments of environments outside `affected` as "no longer affected". `scope` limits
 * which environments' comments this job may touch (a GitLab job of one environment); undefined:
 * every one (GitHub's detect job).
 */
export async function markUnaffectedComments(
  job: Job,
  affected: readonly string[],
  scope?: readonly string[],
): Promise<void> {
  const { context, deps, settings } = job;
  const { platform } = deps;
  const changeRequest = context.changeRequest;
  if (!platform || !settings.comment || changeRequest === undefined || !context.base) return;
  const keep = scope
    ? [...deps.workspace.config.environments.keys()].filter((e) => affected.includes(e) || !scope.includes(e))
    : affected;
  await warnOnFailure(job, 'mark the comments of environments no longer affected', () =>
    markUnaffected(
      keep,
      { commit: context.head, run: context.run },
      {
        platform,
        changeRequest,
        git: deps.git,
        logger: deps.logger,
        masker: deps.masker,
      },
    ),
  );
}

/** After a real apply of a push: the result in the merged pull/merge request's comment. */
export async function recordApplyInComment(
  job: Job,
  environment: string,
  recorded: { result: ApplyResult | undefined; failure: string | undefined },
  durationMs: number,
  review?: ApplyNote['review'],
): Promise<void> {
  const { context, deps, settings } = job;
  const platform = deps.platform;
  if (!platform || !settings.comment || job.mode !== 'apply' || settings.dryRun) return;
  await warnOnFailure(job, 'add the apply result to the pull request comment', async () => {
    const changeRequest = await platform.changeRequestOf(context.sha);
    if (changeRequest === undefined) {
      deps.logger.info(
        `${environment}: commit ${context.sha.slice(0, 12)} came from no merged ${context.changeNoun === 'merge request' ? 'merge' : 'pull'} request: no comment to update`,
      );
      return;
    }
    await recordApplyComment(
      { ...applyNote(job, environment, recorded, durationMs), review },
      {
        platform,
        changeRequest,
        logger: deps.logger,
        masker: deps.masker,
      },
    );
  });
}

function applyNote(
  job: Job,
  environment: string,
  { result, failure }: { result: ApplyResult | undefined; failure: string | undefined },
  durationMs: number,
): ApplyNote {
  const waited = result?.outcomes.filter((o) => o.health !== undefined) ?? [];
  return {
    environment,
    commit: job.context.sha,
    failure,
    durationMs,
    summary: result?.plan.summary,
    health: result
      ? {
          checked: waited.length,
          unhealthy: waited
            .filter((o) => !isSettled(o.health))
            .slice(0, 5)
            .map((o) => `${describeRef(o.ref)} (${o.health?.status ?? ''})`),
        }
      : undefined,
    deploymentUrl: job.context.deploymentUrl?.(environment),
    runUrl: job.context.runUrl,
  };
}

async function warnOnFailure(job: Job, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    job.deps.logger.warn(`could not ${what}: ${job.deps.masker.mask(describeError(error))}`);
  }
}
