/**
 * Environments a change does not touch still get their check. Plans run only for the affected
 * environments, so a team that makes `slipway / prod` a required check in branch protection would
 * otherwise see every pull request that leaves prod alone wait forever for a check that never
 * comes. The check is posted completed, `success` ("not affected by this change"): GitHub counts
 * success, neutral and skipped as passing, and success passes on every platform (GitLab commit
 * statuses have no neutral). It is cheap: no render, no cluster.
 *
 * Posted on the commit the change is planned at, so a push that stops touching an environment
 * gives its check a passing result on the new head instead of leaving the last failure in force.
 */
import { describeError, UserError } from '../errors.ts';
import { markUnaffectedComments } from './comments.ts';
import type { Job } from './job.ts';

export const NOT_AFFECTED_TITLE = 'not affected by this change';

/**
 * The comments and checks of the environments outside `affected`. `scope` limits which
 * environments this job speaks for (a GitLab job of one environment); undefined: every configured
 * one (GitHub's detect job, which posts them once so parallel matrix jobs never race on them).
 */
export async function reportUnaffected(
  job: Job,
  affected: readonly string[],
  scope?: readonly string[],
): Promise<void> {
  await markUnaffectedComments(job, affected, scope);
  await postUnaffectedChecks(job, affected, scope);
}

async function postUnaffectedChecks(
  job: Job,
  affected: readonly string[],
  scope: readonly string[] | undefined,
): Promise<void> {
  const { context, deps } = job;
  const { platform, logger, masker } = deps;
  // Only a change under review has required checks; without a base nothing is unaffected.
  if (!platform || !context.base || (context.changeRequest === undefined && !context.mergeGroup)) return;
  const unaffected = [...deps.workspace.config.environments.keys()]
    .filter((env) => !affected.includes(env) && (scope === undefined || scope.includes(env)))
    .sort();
  for (const env of unaffected) {
    try {
      await platform.reportCheck({
        name: `slipway / ${env}`,
        headSha: context.head,
        conclusion: 'success',
        title: NOT_AFFECTED_TITLE,
        summary: masker.mask(
          `This ${context.changeNoun} changes nothing that \`${env}\` renders (compared with ${context.base.slice(0, 12)}), so there is nothing to plan for it. Slipway reports the check anyway, so that a required \`slipway / ${env}\` check does not wait for a plan that never runs.`,
        ),
        annotations: [],
      });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // A warning, not a failed job: the plans of the affected environments still matter most.
      logger.warn(
        `could not report the check "slipway / ${env}" as not affected (a required check on it would wait): ${masker.mask(describeError(error))}`,
      );
      return;
    }
  }
  if (unaffected.length > 0)
    logger.info(`not affected by this ${context.changeNoun}: ${unaffected.join(', ')} (their checks pass)`);
}
