/**
 * One job engine for every entry: the GitHub Action, `slipway ci` on GitLab and the laptop CLI
 * all call `runJob(mode, …)`, so plan, apply, re-sync, drift, validate and detect behave the same
 * everywhere (lock wait, interrupt handling, exit codes, defaults). Adapters supply the context,
 * the review platform, the cluster pool and the outputs; they decide nothing here.
 *
 * A new mode is a case in `runMode` plus a file next to this one; a hook after a mode (e.g.
 * updating the pull request's comment after an apply) belongs in that mode's file.
 */
import type { EnvironmentConfig } from '../config/config.ts';
import { detectAll, type Detection } from '../detect/detect.ts';
import { assertNever } from '../errors.ts';
import { deployAll } from './deploy.ts';
import { checkDrift } from './drift.ts';
import { outcome, type Job } from './job.ts';
import { planAll, validateAll } from './plan.ts';
import type { JobContext, JobDependencies, JobMode, JobOutcome, JobSettings } from './types.ts';
import { reportUnaffected } from './unaffected.ts';

/**
 * Runs one mode to the end and returns its outcome; the exit code is `outcome.code`. User errors
 * that stop the whole run (an unknown environment, a refused re-sync) are thrown to the adapter's
 * one catch; a failure of one environment is reported and the others still run.
 */
export async function runJob(
  mode: JobMode,
  context: JobContext,
  settings: JobSettings,
  deps: JobDependencies,
): Promise<JobOutcome> {
  const job: Job = { mode, context, settings, deps };
  try {
    const outcome = await runMode(job);
    await deps.outputs.finished(outcome);
    return outcome;
  } finally {
    deps.clusters.close();
  }
}

async function runMode(job: Job): Promise<JobOutcome> {
  const { mode } = job;
  switch (mode) {
    case 'detect': {
      const detection = await detect(job);
      job.deps.logger.info(`affected environments: ${detection.environments.join(', ') || 'none'}`);
      await job.deps.outputs.detected(detection);
      await reportUnaffected(job, detection.environments);
      return outcome(job, { code: 0 });
    }
    case 'validate':
      return validateAll(job, await environments(job));
    case 'plan':
      return planAll(job, await environments(job));
    case 'apply':
    case 'resync':
      return deployAll(job, await environments(job));
    case 'drift':
      return checkDrift(job, await environments(job));
    default:
      return assertNever(mode);
  }
}

/** What changed between base and head; without a base, every environment. */
async function detect(job: Job): Promise<Detection> {
  const { context, deps } = job;
  const { workspace } = deps;
  if (!context.base) {
    const all = [...workspace.config.environments.keys()].sort();
    return {
      environments: all,
      reasons: Object.fromEntries(all.map((e) => [e, ['(no previous revision: every environment)']])),
    };
  }
  return detectAll(workspace.repo, workspace.config, await deps.git.changedFiles(context.base, context.head));
}

/** The environments of this run: named ones, or those the change touches (narrowed to `only`). */
async function environments(job: Job): Promise<EnvironmentConfig[]> {
  const { context, deps } = job;
  const { workspace, logger } = deps;
  const targets = context.targets;
  if (targets.kind === 'named') return targets.names.map((name) => workspace.environment(name));
  const only = targets.only === undefined ? undefined : workspace.environment(targets.only);
  if (!context.base) {
    logger.info('no base revision to compare with: every environment counts as changed');
    return only ? [only] : [...workspace.config.environments.values()];
  }
  const detection = await detect(job);
  logger.info(
    `changed since ${context.base.slice(0, 12)}: ${detection.environments.map((e) => `${e} (${(detection.reasons[e] ?? []).slice(0, 3).join(', ')})`).join('; ') || 'no environment'}`,
  );
  if (job.mode === 'plan')
    await reportUnaffected(job, detection.environments, only ? [only.name] : undefined);
  if (only) {
    if (detection.environments.includes(only.name)) return [only];
    logger.info(`${only.name} is not changed by this ${context.changeNoun}: nothing to do for it`);
    return [];
  }
  return detection.environments.map((name) => workspace.environment(name));
}
