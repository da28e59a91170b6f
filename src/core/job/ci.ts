/**
 * Steps both CI adapters (GitHub Actions, GitLab CI) take the same way, so the two stay thin and
 * cannot drift apart: publishing a plan to a review platform, rendering before an apply, naming
 * what an apply failed on, and the body of a drift issue. Nothing here knows which platform it
 * talks to; everything platform-specific arrives as a ReviewPlatform or an option.
 */
import { digestLine, shortDigest } from '../plan/plan-digest.ts';
import type { ApplyResult } from '../apply/apply.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, UserError } from '../errors.ts';
import { annotationsOf, capabilitiesOrDefaults, changeAnnotationsOf, reportFailed } from './jobs.ts';
import { describeRef } from '../objects.ts';
import type { ReviewPlatform } from '../platform.ts';
import type { GitHistory, KubeApi, Logger } from '../ports.ts';
import { escapeInline } from '../report/escape.ts';
import { headline, type EnvironmentReport } from '../report/markdown.ts';
import { publishPlanComment } from './review.ts';
import { planSummary } from '../report/summary.ts';
import type { SecretMasker } from '../secrets.ts';
import { hasErrors, type Workspace } from '../workspace.ts';
import { isSettled } from '../health/health.ts';

export interface PublishOptions {
  /** Pull/merge request to keep the sticky comment on; undefined posts no comment. */
  readonly changeRequest: number | undefined;
  /** The commit the plan is for (stamped on the comment, and the check/status's commit). */
  readonly head: string;
  /** The run's place in the event order (see JobContext.run), stamped on the comment. */
  readonly run: number;
  /** Tells whether the comment already shows a newer commit than `head`. */
  readonly git: GitHistory;
  /** Where the full plan is (job summary, artifact), linked when the comment had to shorten it. */
  readonly fullDiffUrl: string | undefined;
  /** Said above the environment's details (e.g. "validated offline"). */
  readonly note: string | undefined;
  readonly masker: SecretMasker;
  readonly logger: Logger;
  /** Characters of the plan summary a check may carry (GitHub: 65,535). */
  readonly checkSummaryBudget: number;
}

/**
 * The environment's own comment (left alone when it already shows a newer commit; see review.ts)
 * and the check or commit status with its annotations. Every text is masked before it leaves.
 */
export async function publishPlanReport(
  platform: ReviewPlatform,
  report: EnvironmentReport,
  options: PublishOptions,
): Promise<void> {
  const { masker } = options;
  if (options.changeRequest !== undefined)
    await publishPlanComment(
      options.note ? { ...report, note: options.note } : report,
      { commit: options.head, run: options.run },
      { fullDiffUrl: options.fullDiffUrl },
      { platform, changeRequest: options.changeRequest, git: options.git, logger: options.logger, masker },
    );
  const title = report.plan ? headline(report.plan.summary) : (report.failure ?? options.note ?? 'validated');
  await platform.reportCheck({
    name: `slipway / ${report.environment}`,
    headSha: options.head,
    conclusion: reportFailed(report) ? 'failure' : 'success',
    title: masker.mask(title).slice(0, 200),
    summary: masker
      .mask(`${digestSummary(report)}${planSummary(report, options.checkSummaryBudget - 5_000)}`)
      .slice(0, options.checkSummaryBudget),
    annotations: [...annotationsOf(report), ...changeAnnotationsOf(report)].map((a) => ({
      ...a,
      message: masker.mask(a.message),
    })),
  });
}

/** The check's record of what the plan showed: the short digest to compare by eye, the full one hidden. */
function digestSummary(report: EnvironmentReport): string {
  return report.digest
    ? `${digestLine(report.digest)}\nPlan digest \`${shortDigest(report.digest)}\`\n\n`
    : '';
}

/**
 * Renders and validates an environment before an apply, logging every finding on its file and
 * line; any error stops the apply before anything is written or pruned.
 */
export async function renderForApply(
  workspace: Workspace,
  env: EnvironmentConfig,
  logger: Logger,
  /** The cluster it is applied to: its version and APIs become helm's `.Capabilities`. */
  kube?: KubeApi,
): Promise<Awaited<ReturnType<Workspace['renderAndValidate']>>> {
  const capabilities = kube ? await capabilitiesOrDefaults(kube, logger) : undefined;
  const rendered = await logger.group(`${env.name}: render and validate`, () =>
    workspace.renderAndValidate(env, capabilities),
  );
  for (const finding of rendered.findings)
    (finding.severity === 'error' ? logger.error.bind(logger) : logger.warn.bind(logger))(
      finding.message,
      finding.location,
    );
  if (hasErrors(rendered.findings)) {
    const errors = rendered.findings.filter((f) => f.severity === 'error').length;
    throw new UserError(
      'apply',
      `${errors} errors in the manifests of ${env.name}; nothing was applied or pruned`,
    );
  }
  return rendered;
}

/** What an apply failed on (up to five objects), or undefined when it succeeded. */
export function applyFailure(result: ApplyResult): string | undefined {
  if (result.ok) return undefined;
  return `${result.outcomes
    .filter((o) => o.error || !isSettled(o.health))
    .map((o) => describeRef(o.ref))
    .slice(0, 5)
    .join(', ')} failed`;
}

/** The body of a drift issue: what differs from Git and which field managers changed it. */
export function driftBody(report: EnvironmentReport, runUrl: string): string {
  const lines = [
    `Slipway found that the live cluster of **${escapeInline(report.environment)}** no longer matches Git.`,
    '',
    '| Object | Drift | Changed by |',
    '|---|---|---|',
  ];
  for (const row of report.plan?.objects ?? []) {
    if (row.action === 'unchanged' || row.action === 'orphan') continue;
    const managers = [...new Set(row.taken.map((t) => t.manager))].join(', ') || '—';
    lines.push(
      `| ${escapeInline(describeRef(row.ref))} | ${row.action === 'create' ? 'missing from the cluster' : row.action === 'delete' ? 'removed from Git, still in the cluster' : row.action} | ${escapeInline(managers)} |`,
    );
  }
  lines.push('', `Run: ${runUrl}. This issue closes by itself when the environment is back in sync.`);
  return lines.join('\n');
}

export interface RecordedDeployOptions {
  readonly platform: ReviewPlatform | undefined;
  readonly sha: string;
  readonly ref: string;
  readonly runUrl: string;
  readonly dryRun: boolean;
  readonly masker: SecretMasker;
  /** Renders, connects and applies: the adapter's own wiring of applyEnvironment. */
  readonly apply: () => Promise<ApplyResult>;
  /** Sends the notifications (Slack, webhook) for a finished real apply. */
  readonly notify: (result: ApplyResult) => Promise<void>;
  /** What a success is recorded as instead of "deployed" (e.g. "applied the reviewed plan …"). */
  readonly successDescription?: () => string | undefined;
}

/**
 * An apply with its records around it, the same on every platform: a deployment marked
 * in_progress, then success or failure; a commit status `slipway/<env>`; notifications. A user
 * error ends as `failure` (already masked), never as a throw, so the records are always closed.
 */
export async function recordedDeploy(
  env: EnvironmentConfig,
  options: RecordedDeployOptions,
): Promise<{ result: ApplyResult | undefined; failure: string | undefined }> {
  const { platform, masker } = options;
  const record = platform && !options.dryRun ? platform : undefined;
  // One deployment per apply: the job's own (GitHub's `environment:` opens one) when it exists.
  const deploymentId = record
    ? ((await record.findJobDeployment?.(env.name, options.sha)) ??
      (await record.createDeployment({
        environment: env.name,
        sha: options.sha,
        ref: options.ref,
        description: `Slipway apply of ${options.sha.slice(0, 12)}`,
      })))
    : undefined;
  if (deploymentId) await record?.setDeploymentState(deploymentId, 'in_progress', 'applying', options.runUrl);
  let result: ApplyResult | undefined;
  let failure: string | undefined;
  try {
    result = await options.apply();
    failure = applyFailure(result);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    failure = describeError(error);
  }
  failure = failure === undefined ? undefined : masker.mask(failure);
  const state = failure ? 'failure' : 'success';
  const success = masker.mask(options.successDescription?.() ?? '');
  if (deploymentId)
    await record?.setDeploymentState(
      deploymentId,
      state,
      (failure ?? (success || 'deployed')).slice(0, 140),
      options.runUrl,
    );
  if (record)
    await record.setCommitStatus(
      options.sha,
      `slipway/${env.name}`,
      state,
      (failure ?? (success || 'applied')).slice(0, 140),
      options.runUrl,
    );
  if (result && !options.dryRun) await options.notify(result);
  return { result, failure };
}
