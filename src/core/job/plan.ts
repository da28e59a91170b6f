/**
 * The plan and validate modes: each environment is rendered, validated and (with a cluster)
 * diffed against its own cluster, then shown wherever the entry shows things (log annotations,
 * outputs) and posted to the review platform (sticky comment, check or commit status).
 */
import { publishPlanReport } from './ci.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { annotationsOf, planReport, reportFailed, reportHasChanges } from './jobs.ts';
import type { EnvironmentReport } from '../report/markdown.ts';
import { blockingRisks, describeRisk } from '../risk/assess.ts';
import { connectOrReport, describeCluster, outcome, type Job } from './job.ts';
import { sharedObjects, withSharedObjectErrors, type RenderedKeys } from './cross-environment.ts';
import { hasPinnedOthers, pinnedSiblings } from './siblings.ts';
import type { ClusterHandle, JobOutcome } from './types.ts';

/** Offline validation of every environment (and the danger lint against the change's base). */
export async function validateAll(
  job: Job,
  envs: readonly EnvironmentConfig[],
  note = 'validated offline (no cluster access)',
): Promise<JobOutcome> {
  const reports: EnvironmentReport[] = [];
  for (const env of envs) {
    const report = await planReport(
      job.deps.workspace,
      env,
      undefined,
      job.deps.logger,
      job.settings.concurrency,
      baseOf(job),
    );
    reports.push(await publish(job, { ...report, note }));
  }
  return finish(job, reports);
}

/** A live plan of each environment over its own connection; a fork's change is validated offline. */
export async function planAll(job: Job, envs: readonly EnvironmentConfig[]): Promise<JobOutcome> {
  const { logger } = job.deps;
  if (job.context.fromFork) {
    logger.warn(
      `${job.context.changeNoun} from a fork: no cluster credentials are available, so only offline validation runs`,
    );
    return validateAll(
      job,
      envs,
      `validated offline: ${job.context.changeNoun}s from forks get no cluster credentials, so there is no live diff`,
    );
  }
  const planned: Planned[] = [];
  for (const env of envs) planned.push(await planOne(job, env));
  const reports: EnvironmentReport[] = [];
  for (const report of await withSharedObjects(job, planned)) reports.push(await publish(job, report));
  return finish(job, reports);
}

interface Planned {
  readonly report: EnvironmentReport;
  readonly cluster: ClusterHandle | undefined;
}

/**
 * Objects that two environments on one cluster both render become errors in the plans of this run
 * (cross-environment.ts), compared with the other planned environments and with those pinned to
 * the same cluster (siblings.ts): posted only once every environment is planned.
 */
async function withSharedObjects(job: Job, planned: readonly Planned[]): Promise<EnvironmentReport[]> {
  const run = planned.map(({ report }) => report.environment);
  const keys: RenderedKeys[] = planned.flatMap(({ report, cluster }) =>
    report.plan && cluster
      ? [
          {
            environment: report.environment,
            server: cluster.server,
            objects: report.plan.objects
              .filter((row) => row.action !== 'delete' && row.action !== 'orphan')
              .map((row) => row.ref),
          },
        ]
      : [],
  );
  if (hasPinnedOthers(job, run)) {
    const clusters = new Map(planned.flatMap(({ cluster }) => (cluster ? [[cluster.server, cluster]] : [])));
    for (const cluster of clusters.values()) keys.push(...(await pinnedSiblings(job, run, cluster)));
  }
  const shared = sharedObjects(keys);
  return planned.map(({ report }) => {
    const mine = shared.get(report.environment);
    return mine && report.plan ? { ...report, plan: withSharedObjectErrors(report.plan, mine) } : report;
  });
}

async function planOne(job: Job, env: EnvironmentConfig): Promise<Planned> {
  const connected = await connectOrReport(job, env);
  if ('report' in connected) return { report: connected.report, cluster: undefined };
  return { report: await planConnected(job, env, connected.cluster), cluster: connected.cluster };
}

async function planConnected(
  job: Job,
  env: EnvironmentConfig,
  cluster: ClusterHandle,
): Promise<EnvironmentReport> {
  const { logger } = job.deps;
  const where = describeCluster(cluster);
  logger.info(`${env.name}: planning against ${where}`);
  const report = await planReport(
    job.deps.workspace,
    env,
    cluster,
    logger,
    job.settings.concurrency,
    baseOf(job),
    job.settings.planMode ?? env.planMode,
  );
  // Risks the environment sets to `error` (risks: in slipway.yaml) fail the plan's check; only
  // here, so a drift check or an apply is not refused for them.
  const blocking = blockingRisks(report.plan?.risks).map(
    (r) => `risk ${r.id} is an error here: ${describeRisk(r)}`,
  );
  const failure = [report.failure, ...blocking].filter(Boolean).join('; ') || undefined;
  return { ...report, failure, note: `Planned against ${where}.` };
}

/** Log annotations, the entry's outputs, then the comment and the check. Returns the report shown. */
async function publish(job: Job, report: EnvironmentReport): Promise<EnvironmentReport> {
  const { logger, platform, masker } = job.deps;
  for (const annotation of annotationsOf(report)) {
    if (annotation.level === 'failure') logger.error(annotation.message, annotation.location);
    else logger.warn(annotation.message, annotation.location);
  }
  const fullDiffUrl = await job.deps.outputs.planned(report);
  if (platform)
    await publishPlanReport(platform, report, {
      changeRequest: job.settings.comment ? job.context.changeRequest : undefined,
      head: job.context.head,
      run: job.context.run,
      git: job.deps.git,
      fullDiffUrl,
      note: undefined,
      masker,
      logger,
      checkSummaryBudget: job.deps.checkSummaryBudget,
    });
  return report;
}

function finish(job: Job, reports: readonly EnvironmentReport[]): JobOutcome {
  const failed = reports.filter(reportFailed);
  return outcome(job, {
    code: failed.length > 0 ? 1 : 0,
    changes: reports.some(reportHasChanges),
    reports,
    failures: failed.map((r) =>
      job.deps.masker.mask(`${r.environment}: ${r.failure ?? 'the plan has errors (see the annotations)'}`),
    ),
  });
}

/** The change's base, for the danger lint (selector changes, removed PVCs…); none outside a change. */
function baseOf(job: Job): { revision: string; git: Job['deps']['git'] } | undefined {
  const { context } = job;
  return (context.changeRequest !== undefined || context.mergeGroup) && context.base
    ? { revision: context.base, git: job.deps.git }
    : undefined;
}
