/**
 * `slipway ci`: Slipway inside a GitLab CI/CD job. The pipeline source picks the mode (see
 * context.ts): a merge request pipeline plans the affected environments and keeps one sticky note
 * on the merge request; a push to the default branch applies them; a pipeline started from the web
 * UI re-syncs; a scheduled pipeline checks drift. Results go to GitLab through GitLabPlatform
 * (notes, commit statuses, drift issues) with the token in SLIPWAY_GITLAB_TOKEN; the full plan is
 * written to `slipway-plan/<env>.md` for the job's artifacts.
 *
 * The engine is used exactly as the GitHub action uses it (planReport, composeComment through
 * publishPlanReport, renderForApply, applyEnvironment); only the delivery differs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyEnvironment } from '../core/apply.ts';
import { driftBody, publishPlanReport, recordedDeploy, renderForApply } from '../core/ci.ts';
import type { EnvironmentConfig } from '../core/config.ts';
import { detectAll } from '../core/detect.ts';
import { assertNever, describeError, UserError } from '../core/errors.ts';
import { annotationsOf, planReport, reportFailed, reportHasChanges } from '../core/jobs.ts';
import type { GitHistory, KubeApi, Logger } from '../core/ports.ts';
import type { EnvironmentReport } from '../core/report/markdown.ts';
import { applySummary, planSummary } from '../core/report/summary.ts';
import { planAsText } from '../core/report/text.ts';
import type { SecretMasker } from '../core/secrets.ts';
import type { Settings } from '../core/settings.ts';
import type { Workspace } from '../core/workspace.ts';
import { notificationPayload, notify } from '../tools/notify.ts';
import {
  gitlabMode,
  readGitLabContext,
  skipReason,
  type GitLabMode,
  type GitLabRunContext,
} from './context.ts';
import { GitLabPlatform } from './platform.ts';

export interface CiOptions {
  /** One environment; undefined means every affected one (plan, apply) or every one (resync, drift). */
  readonly env: string | undefined;
  /** Overrides the mode the pipeline source implies. */
  readonly mode: Exclude<GitLabMode, 'skip'> | undefined;
  /** Apply/resync: plan with a server-side dry-run, write nothing. */
  readonly dryRun: boolean;
}

export interface CiDependencies {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly settings: Settings;
  readonly workspace: Workspace;
  readonly git: GitHistory;
  readonly logger: Logger;
  readonly masker: SecretMasker;
}

interface Job extends CiDependencies {
  readonly options: CiOptions;
  readonly context: GitLabRunContext;
  readonly platform: GitLabPlatform | undefined;
  /** Folder for `<env>.md` plan and apply reports (the job's artifacts). */
  readonly reportDir: string;
  readonly kubeconfig: string | undefined;
}

const TOKEN_VARIABLE = 'SLIPWAY_GITLAB_TOKEN';

/** Runs the job; returns the exit code. User errors are thrown to the CLI's one catch. */
export async function runGitLabCi(options: CiOptions, deps: CiDependencies): Promise<number> {
  const { env, logger, masker } = deps;
  if (!env.GITLAB_CI)
    throw new UserError('usage', '`slipway ci` runs inside a GitLab CI/CD job (GITLAB_CI is not set)', {
      hint: 'include the component templates/slipway.yml in .gitlab-ci.yml; on a laptop use `slipway diff` and `slipway apply`',
    });
  const context = readGitLabContext(env);
  const token = env[TOKEN_VARIABLE] || undefined;
  masker.add(token);
  masker.add(env.CI_JOB_TOKEN);
  const mode = options.mode ?? gitlabMode(context);
  // A pipeline run from the web UI can ask for a plan only with the variable SLIPWAY_DRY_RUN=true.
  const dryRun = options.dryRun || env.SLIPWAY_DRY_RUN === 'true';
  let platform: GitLabPlatform | undefined;
  if (token && !context.fromFork) {
    platform = new GitLabPlatform({
      token,
      apiUrl: context.apiUrl,
      projectId: context.projectId,
      projectUrl: context.projectUrl,
      targetUrl: context.runUrl,
      pipelineId: context.pipelineId,
      ref: context.ref,
      recordDeployments: env.SLIPWAY_RECORD_DEPLOYMENTS === 'true',
      tokenVariable: TOKEN_VARIABLE,
    });
  } else if (mode !== 'skip') {
    logger.warn(
      context.fromFork
        ? 'merge request from a fork: Slipway posts no note or status with the parent project’s token'
        : `${TOKEN_VARIABLE} is not set: nothing is posted to GitLab (no merge request note, commit status or drift issue); add a project access token with the \`api\` scope and the Developer role as a masked CI/CD variable ${TOKEN_VARIABLE} (CI_JOB_TOKEN cannot post notes)`,
    );
  }
  const projectDir = context.projectDir ?? deps.settings.repo;
  const job: Job = {
    ...deps,
    options,
    context,
    platform,
    reportDir: path.resolve(projectDir, env.SLIPWAY_REPORT_DIR ?? 'slipway-plan'),
    kubeconfig:
      deps.settings.kubeconfig ??
      (env.KUBECONFIG ? path.resolve(projectDir, env.KUBECONFIG.split(path.delimiter)[0] ?? '') : undefined),
  };
  logger.info(
    `slipway ci: ${mode} (pipeline source ${context.pipelineSource}${context.mergeRequestIid === undefined ? '' : `, merge request !${context.mergeRequestIid}`}${options.env ? `, environment ${options.env}` : ''})`,
  );
  switch (mode) {
    case 'skip':
      logger.info(`nothing to do: ${skipReason(context)}`);
      return 0;
    case 'plan':
      return plan(job, await affected(job));
    case 'apply':
      return deployAll(job, await affected(job), dryRun);
    case 'resync':
      return deployAll(job, chosen(job), dryRun);
    case 'drift':
      return drift(job, chosen(job));
    default:
      return assertNever(mode);
  }
}

/** `--env` or every environment. */
function chosen(job: Job): EnvironmentConfig[] {
  if (job.options.env && job.options.env !== 'all') return [job.workspace.environment(job.options.env)];
  return [...job.workspace.config.environments.values()];
}

/** The environments the change touches (base…head), narrowed to `--env` when given. */
async function affected(job: Job): Promise<EnvironmentConfig[]> {
  const { context, workspace, options, logger } = job;
  const named = options.env && options.env !== 'all' ? workspace.environment(options.env) : undefined;
  if (!context.base) {
    logger.info('no base revision to compare with: every environment counts as changed');
    return named ? [named] : [...workspace.config.environments.values()];
  }
  const detection = detectAll(
    workspace.repo,
    workspace.config,
    await job.git.changedFiles(context.base, context.head),
  );
  logger.info(
    `changed since ${context.base.slice(0, 12)}: ${detection.environments.map((e) => `${e} (${(detection.reasons[e] ?? []).slice(0, 3).join(', ')})`).join('; ') || 'no environment'}`,
  );
  if (named) {
    if (detection.environments.includes(named.name)) return [named];
    logger.info(
      `${named.name} is not changed by this ${context.mergeRequestIid === undefined ? 'push' : 'merge request'}: nothing to do for it`,
    );
    return [];
  }
  return detection.environments.map((name) => workspace.environment(name));
}

interface ClusterHandle {
  readonly kube: KubeApi;
  readonly server: string;
  close(): void;
}

async function connectCluster(job: Job): Promise<ClusterHandle> {
  // Loaded only here, as in the CLI: the Kubernetes client is most of the bundle.
  const { connect } = await import('../kube/connect.ts');
  const connected = await connect({
    kubeconfig: job.kubeconfig,
    context: job.settings.context,
    concurrency: job.settings.concurrency,
    retryDeadlineMs: job.settings.retrySeconds * 1000,
  });
  for (const secret of connected.secrets) job.masker.add(secret);
  return { kube: connected.client, server: connected.server, close: () => connected.close() };
}

function writeReport(job: Job, name: string, text: string): string {
  mkdirSync(job.reportDir, { recursive: true });
  const file = path.join(job.reportDir, name);
  writeFileSync(file, job.masker.mask(text));
  return file;
}

/** Where the job's artifacts serve a report file, when the job URL and the folder allow a link. */
function artifactUrl(job: Job, file: string): string | undefined {
  const { jobUrl, projectDir } = job.context;
  if (!jobUrl || !projectDir) return undefined;
  const relative = path.relative(projectDir, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return `${jobUrl}/artifacts/file/${relative.split(path.sep).map(encodeURIComponent).join('/')}`;
}

async function plan(job: Job, envs: EnvironmentConfig[]): Promise<number> {
  if (envs.length === 0) return 0;
  const { logger, context } = job;
  let cluster: ClusterHandle | UserError | undefined;
  let note: string | undefined;
  if (context.fromFork) {
    note =
      'validated offline: merge requests from forks get no cluster credentials, so there is no live diff';
    logger.warn('merge request from a fork: only offline validation runs');
  } else {
    cluster = await connectCluster(job).catch((error: unknown) => {
      if (error instanceof UserError) return error;
      throw error;
    });
  }
  let failed = false;
  try {
    for (const env of envs) {
      let report: EnvironmentReport;
      if (cluster instanceof UserError)
        report = { environment: env.name, plan: undefined, findings: [], failure: describeError(cluster) };
      else
        report = await planReport(
          job.workspace,
          env,
          cluster?.kube,
          logger,
          job.settings.concurrency,
          job.context.base ? { revision: job.context.base, git: job.git } : undefined,
        );
      await publishPlan(job, report, note);
      failed ||= reportFailed(report);
    }
  } finally {
    if (cluster && !(cluster instanceof UserError)) cluster.close();
  }
  return failed ? 1 : 0;
}

/** The job log, the report file, the merge request note and the commit status of one plan. */
async function publishPlan(job: Job, report: EnvironmentReport, note: string | undefined): Promise<void> {
  const { logger, masker, context, platform } = job;
  for (const annotation of annotationsOf(report)) {
    if (annotation.level === 'failure') logger.error(annotation.message, annotation.location);
    else logger.warn(annotation.message, annotation.location);
  }
  if (report.plan) job.stdout(masker.mask(planAsText(report.plan, true)));
  else if (report.failure) logger.error(`${report.environment}: ${report.failure}`);
  const file = writeReport(job, `${report.environment}.md`, planSummary(report));
  logger.info(`full plan: ${path.relative(context.projectDir ?? process.cwd(), file)}`);
  if (!platform) return;
  await publishPlanReport(platform, report, {
    changeRequest: context.mergeRequestIid,
    head: context.statusSha,
    fullDiffUrl: artifactUrl(job, file) ?? context.runUrl,
    note,
    masker,
    logger,
    checkSummaryBudget: 65_000,
  });
}

async function deployAll(job: Job, envs: EnvironmentConfig[], dryRun: boolean): Promise<number> {
  let failed = false;
  for (const env of envs) failed = (await deploy(job, env, dryRun)) || failed;
  return failed ? 1 : 0;
}

/** Applies one environment; returns whether it failed (every failure is logged and reported). */
async function deploy(job: Job, env: EnvironmentConfig, dryRun: boolean): Promise<boolean> {
  const { context, platform, logger, masker } = job;
  const { result, failure } = await recordedDeploy(env, {
    platform,
    sha: context.sha,
    ref: context.branch ?? context.ref,
    runUrl: context.runUrl,
    dryRun,
    masker,
    apply: async () => {
      const rendered = await renderForApply(job.workspace, env, logger);
      const cluster = await connectCluster(job);
      try {
        return await applyEnvironment(env, rendered.manifests, {
          kube: cluster.kube,
          logger,
          git: job.git,
          concurrency: job.settings.concurrency,
          commit: context.sha,
          dryRun,
          prune: true,
          force: false,
          waitSeconds: env.timeoutSeconds,
          lockHolder: `gitlab/${context.projectId}/pipeline-${context.pipelineId ?? 0}`,
          lockWaitSeconds: Number(job.env.SLIPWAY_LOCK_WAIT_SECONDS ?? 300),
          server: cluster.server,
        });
      } finally {
        cluster.close();
      }
    },
    notify: (applied) =>
      notify(
        {
          slackWebhook: job.env.SLIPWAY_SLACK_WEBHOOK || undefined,
          webhookUrl: job.env.SLIPWAY_WEBHOOK_URL || undefined,
        },
        notificationPayload(applied, context.sha, context.runUrl),
        (m) => logger.warn(m),
      ),
  });
  if (result) {
    writeReport(job, `${env.name}-apply.md`, applySummary(result));
    job.stdout(masker.mask(`${applySummary(result)}\n`));
  }
  if (failure) logger.error(`${env.name}: ${failure}`);
  else logger.info(`${env.name}: ${dryRun ? 'planned (dry run)' : 'applied'}`);
  return failure !== undefined;
}

async function drift(job: Job, envs: EnvironmentConfig[]): Promise<number> {
  const { logger, masker, platform, context } = job;
  const cluster = await connectCluster(job);
  const drifted: string[] = [];
  try {
    for (const env of envs) {
      const report = await planReport(job.workspace, env, cluster.kube, logger, job.settings.concurrency);
      writeReport(job, `${env.name}.md`, planSummary(report));
      const changes = reportHasChanges(report);
      if (changes) drifted.push(env.name);
      const body = changes && report.plan ? masker.mask(driftBody(report, context.runUrl)) : undefined;
      const url = await platform?.syncIssue(
        `<!-- slipway:drift:${env.name} -->`,
        `Drift in ${env.name}`,
        body,
      );
      if (report.failure) logger.error(`${env.name}: ${report.failure}`);
      logger.info(`${env.name}: ${changes ? `drift found${url ? `, see ${url}` : ''}` : 'in sync with Git'}`);
    }
  } finally {
    cluster.close();
  }
  job.stdout(`${JSON.stringify({ drifted })}\n`);
  return 0;
}
