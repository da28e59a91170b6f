/**
 * The drift mode: each environment is planned against its own cluster; drift keeps one open issue
 * per environment, closed when Git and the cluster agree again. A check that could not be made
 * (render error, RBAC 403, conflict, no connection) is a failure, never "in sync": the run fails
 * and the issue stays open, saying why the check could not be made.
 */
import { driftBody } from './ci.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { planReport, reportFailed, reportHasChanges } from './jobs.ts';
import { escapeInline } from '../report/escape.ts';
import type { EnvironmentReport } from '../report/markdown.ts';
import { deployOne } from './deploy.ts';
import { connectOrReport, describeCluster, outcome, type Job } from './job.ts';
import type { DriftOutcome, JobOutcome } from './types.ts';

export const driftMarker = (env: string): string => `<!-- slipway:drift:${env} -->`;

export async function checkDrift(job: Job, envs: readonly EnvironmentConfig[]): Promise<JobOutcome> {
  const outcomes: DriftOutcome[] = [];
  const failures: string[] = [];
  const reports: EnvironmentReport[] = [];
  for (const env of envs) {
    const report = await planLive(job, env);
    reports.push(report);
    await job.deps.outputs.planned(report);
    const result = await record(job, env, report);
    outcomes.push(result);
    if (result.state === 'unchecked') failures.push(`${env.name}: could not check: ${result.reason ?? ''}`);
    if (result.state === 'drifted' && job.settings.heal) {
      const healed = await deployOne(job, env, false);
      if (healed.failure) failures.push(`${env.name}: heal failed: ${healed.failure}`);
    }
  }
  await job.deps.outputs.driftChecked(outcomes);
  return outcome(job, {
    code: failures.length > 0 ? 1 : 0,
    changes: outcomes.some((o) => o.state === 'drifted'),
    reports,
    drift: outcomes,
    failures,
  });
}

async function planLive(job: Job, env: EnvironmentConfig): Promise<EnvironmentReport> {
  const connected = await connectOrReport(job, env);
  if ('report' in connected) return connected.report;
  const { cluster } = connected;
  job.deps.logger.info(`${env.name}: checking drift against ${describeCluster(cluster)}`);
  return planReport(
    job.deps.workspace,
    env,
    cluster,
    job.deps.logger,
    job.settings.concurrency,
    undefined,
    job.settings.planMode ?? env.planMode,
  );
}

/** Why a failed report could not be checked, in one line. */
function reasonOf(report: EnvironmentReport): string {
  if (report.failure) return report.failure;
  const errors = report.plan?.objects.filter((o) => o.action === 'error') ?? [];
  if (errors.length > 0)
    return `${errors.length} object${errors.length === 1 ? '' : 's'} could not be compared (${errors[0]?.note ?? 'refused by the server'})`;
  const findings = report.findings.filter((f) => f.severity === 'error').length;
  return `${findings} error${findings === 1 ? '' : 's'} in the manifests`;
}

async function record(job: Job, env: EnvironmentConfig, report: EnvironmentReport): Promise<DriftOutcome> {
  const { platform, masker, logger } = job.deps;
  const title = `Drift in ${env.name}`;
  if (reportFailed(report)) {
    const reason = masker.mask(reasonOf(report));
    const body = masker.mask(
      `Slipway **could not check** whether the live cluster of **${escapeInline(env.name)}** matches Git: ${escapeInline(reason)}\n\nRun: ${job.context.runUrl}. A failed check is not "in sync": this issue stays open until a check succeeds.`,
    );
    const issueUrl = await platform?.syncIssue(driftMarker(env.name), title, body);
    logger.error(`${env.name}: could not check drift: ${reason}${issueUrl ? ` (see ${issueUrl})` : ''}`);
    return { environment: env.name, state: 'unchecked', reason, ...(issueUrl ? { issueUrl } : {}) };
  }
  const drifted = reportHasChanges(report);
  const body = drifted ? masker.mask(driftBody(report, job.context.runUrl)) : undefined;
  const issueUrl = await platform?.syncIssue(driftMarker(env.name), title, body);
  logger.info(
    `${env.name}: ${drifted ? `drift found${issueUrl ? `, see ${issueUrl}` : ''}` : 'in sync with Git'}`,
  );
  return { environment: env.name, state: drifted ? 'drifted' : 'in-sync', ...(issueUrl ? { issueUrl } : {}) };
}
