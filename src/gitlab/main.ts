/**
 * `slipway ci`: Slipway inside a GitLab CI/CD job. The pipeline source picks the mode (see
 * context.ts): a merge request pipeline plans the affected environments and keeps one sticky note
 * on the merge request; a push to the default branch applies them; a pipeline started from the web
 * UI re-syncs; a scheduled pipeline checks drift. The job itself runs in the engine
 * (src/core/job/run-job.ts), exactly as the GitHub Action's does; this file reads GitLab's
 * variables once and supplies GitLab's platform and the job's outputs (log, report files).
 */
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { parsePlanMode } from '../core/plan/plan-mode.ts';
import { runJob } from '../core/job/run-job.ts';
import { parseFlag, parseLockWait } from '../core/job/settings.ts';
import type { JobContext, JobSettings, Targets } from '../core/job/types.ts';
import type { GitHistory, Logger } from '../core/ports.ts';
import type { SecretMasker } from '../core/secrets.ts';
import type { Settings } from '../core/settings.ts';
import type { Workspace } from '../core/workspace.ts';
import { ConnectionPool, type Credentials } from '../kube/connections.ts';
import { exitForSignal, interruptHandler } from '../tools/interrupt.ts';
import { notificationPayload, notify } from '../tools/notify.ts';
import {
  gitlabMode,
  readGitLabContext,
  skipReason,
  type GitLabMode,
  type GitLabRunContext,
} from './context.ts';
import { gitlabOidcCredentials, wantsGitLabOidc } from './cluster-auth.ts';
import { GitLabOutputs } from './outputs.ts';
import { GitLabPlatform } from './platform.ts';
import { runGitLabImages } from './images.ts';
import { detectBuild } from '../tools/build-info.ts';
import { describeBuild } from '../core/version.ts';

export interface CiOptions {
  /** One environment; undefined means every affected one (plan, apply) or every one (resync, drift). */
  readonly env: string | undefined;
  /** Overrides the mode the pipeline source implies; `images` proposes image updates. */
  readonly mode: Exclude<GitLabMode, 'skip'> | 'images' | undefined;
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

const TOKEN_VARIABLE = 'SLIPWAY_GITLAB_TOKEN';

/** Runs the job; returns the exit code. User errors are thrown to the CLI's one catch. */
export async function runGitLabCi(options: CiOptions, deps: CiDependencies): Promise<number> {
  const { env, logger, masker } = deps;
  logger.info(describeBuild(await detectBuild(env, process.argv[1])));
  if (!env.GITLAB_CI)
    throw new UserError('usage', '`slipway ci` runs inside a GitLab CI/CD job (GITLAB_CI is not set)', {
      hint: 'include the component templates/slipway.yml in .gitlab-ci.yml; on a laptop use `slipway diff` and `slipway apply`',
    });
  const context = readGitLabContext(env);
  const token = env[TOKEN_VARIABLE] || undefined;
  masker.add(token);
  masker.add(env.CI_JOB_TOKEN);
  if (options.mode === 'images')
    return runGitLabImages({
      env,
      context,
      repo: deps.settings.repo,
      configFile: deps.settings.configFile,
      environment: options.env,
      token,
      logger,
      hide: (secret) => masker.add(secret),
      stdout: deps.stdout,
      render: (env) => deps.workspace.renderAndValidate(env),
    });
  const mode = options.mode ?? gitlabMode(context);
  const settings = jobSettings(options, deps);
  const credentials = credentialsOf(deps, context, mode);
  logger.info(
    `slipway ci: ${mode} (pipeline source ${context.pipelineSource}${context.mergeRequestIid === undefined ? '' : `, merge request !${context.mergeRequestIid}`}${options.env ? `, environment ${options.env}` : ''})`,
  );
  if (mode === 'skip') {
    logger.info(`nothing to do: ${skipReason(context)}`);
    return 0;
  }
  const projectDir = context.projectDir ?? deps.settings.repo;
  const outcome = await runJob(mode, jobContext(options, context, mode, deps.workspace), settings, {
    workspace: deps.workspace,
    git: deps.git,
    logger,
    masker,
    platform: platformOf(deps, context, token),
    clusters: new ConnectionPool({
      credentials,
      context: deps.settings.context,
      concurrency: deps.settings.concurrency,
      retryDeadlineMs: deps.settings.retrySeconds * 1000,
      onSecret: (secret) => masker.add(secret),
    }),
    outputs: new GitLabOutputs({
      stdout: deps.stdout,
      logger,
      masker,
      reportDir: path.resolve(projectDir, env.SLIPWAY_REPORT_DIR ?? 'slipway-plan'),
      projectDir: context.projectDir,
      jobUrl: context.jobUrl,
      runUrl: context.runUrl,
    }),
    notify: (applied) =>
      notify(
        {
          slackWebhook: env.SLIPWAY_SLACK_WEBHOOK || undefined,
          webhookUrl: env.SLIPWAY_WEBHOOK_URL || undefined,
        },
        notificationPayload(applied, context.sha, context.runUrl),
        (m) => logger.warn(m),
      ),
    onInterrupt: interruptHandler(exitForSignal, (signal) =>
      logger.warn(`interrupted (${signal}): releasing the environment lock`),
    ),
    checkSummaryBudget: 65_000,
  });
  // Every failure was logged where it happened; the exit code carries it to the pipeline.
  return outcome.code;
}

function jobSettings(options: CiOptions, deps: CiDependencies): JobSettings {
  const { env } = deps;
  return {
    concurrency: deps.settings.concurrency,
    lockWaitSeconds: parseLockWait(env.SLIPWAY_LOCK_WAIT_SECONDS),
    // A pipeline run from the web UI can ask for a plan only with the variable SLIPWAY_DRY_RUN=true.
    dryRun: options.dryRun || parseFlag('SLIPWAY_DRY_RUN', env.SLIPWAY_DRY_RUN, false),
    prune: true,
    force: parseFlag('SLIPWAY_FORCE', env.SLIPWAY_FORCE, false),
    heal: false,
    timeoutSeconds: undefined,
    comment: true,
    requireReviewedPlan: parseFlag('SLIPWAY_REQUIRE_REVIEWED_PLAN', env.SLIPWAY_REQUIRE_REVIEWED_PLAN, false),
    planMode: parsePlanMode('SLIPWAY_PLAN_MODE', env.SLIPWAY_PLAN_MODE),
  };
}

function jobContext(
  options: CiOptions,
  context: GitLabRunContext,
  mode: Exclude<GitLabMode, 'skip'>,
  workspace: Workspace,
): JobContext {
  const only = options.env && options.env !== 'all' ? options.env : undefined;
  // plan and apply: what the change touches; resync and drift: the one named, or every one.
  const targets: Targets =
    mode === 'plan' || mode === 'apply'
      ? { kind: 'affected', only }
      : { kind: 'named', names: only ? [only] : [...workspace.config.environments.keys()] };
  return {
    targets,
    sha: context.sha,
    head: context.statusSha,
    base: context.base,
    changeRequest: context.mergeRequestIid,
    mergeGroup: false,
    run: context.pipelineId ?? 0,
    deploymentUrl: context.projectUrl
      ? () => `${context.projectUrl?.replace(/\/+$/, '') ?? ''}/-/environments`
      : undefined,
    changeNoun: context.mergeRequestIid === undefined ? 'push' : 'merge request',
    branch: context.branch,
    ref: context.branch ?? context.ref,
    deployBranch: context.defaultBranch,
    fromFork: context.fromFork,
    runUrl: context.runUrl,
    lockHolder: `gitlab/${context.projectId}/pipeline-${context.pipelineId ?? 0}`,
  };
}

function platformOf(
  deps: CiDependencies,
  context: GitLabRunContext,
  token: string | undefined,
): GitLabPlatform | undefined {
  const { env, logger } = deps;
  if (token && !context.fromFork)
    return new GitLabPlatform({
      token,
      apiUrl: context.apiUrl,
      projectId: context.projectId,
      projectUrl: context.projectUrl,
      targetUrl: context.runUrl,
      pipelineId: context.pipelineId,
      ref: context.ref,
      // A job whose `environment:` has `action: start` gets a deployment from GitLab for every
      // run, changed or not; otherwise Slipway records one per real apply through the API.
      recordDeployments: parseFlag(
        'SLIPWAY_RECORD_DEPLOYMENTS',
        env.SLIPWAY_RECORD_DEPLOYMENTS,
        env.CI_ENVIRONMENT_ACTION !== 'start',
      ),
      tokenVariable: TOKEN_VARIABLE,
    });
  logger.warn(
    context.fromFork
      ? 'merge request from a fork: Slipway posts no note or status with the parent project’s token'
      : `${TOKEN_VARIABLE} is not set: nothing is posted to GitLab (no merge request note, commit status or drift issue); add a project access token with the \`api\` scope and the Developer role as a masked CI/CD variable ${TOKEN_VARIABLE} (CI_JOB_TOKEN cannot post notes)`,
  );
  return undefined;
}

/**
 * A file-type KUBECONFIG variable (or --kubeconfig) names the cluster; the job pod's service
 * account is used only with SLIPWAY_IN_CLUSTER=true. Nothing else is tried. Plans and drift checks
 * prefer SLIPWAY_PLAN_KUBECONFIG: a read-only identity kept unprotected, because a protected
 * KUBECONFIG (production's) never reaches merge request pipelines of unprotected branches.
 */
function credentialsOf(deps: CiDependencies, context: GitLabRunContext, mode: GitLabMode): Credentials {
  const { env, settings } = deps;
  const projectDir = context.projectDir ?? settings.repo;
  const inCluster = parseFlag('SLIPWAY_IN_CLUSTER', env.SLIPWAY_IN_CLUSTER, false);
  const variable =
    (mode === 'plan' || mode === 'drift') && env.SLIPWAY_PLAN_KUBECONFIG
      ? env.SLIPWAY_PLAN_KUBECONFIG
      : env.KUBECONFIG;
  const file =
    settings.kubeconfig ??
    (variable ? path.resolve(projectDir, variable.split(path.delimiter)[0] ?? '') : undefined);
  if (wantsGitLabOidc(env)) {
    if (inCluster)
      throw new UserError(
        'config',
        'SLIPWAY_AUTH=gitlab-oidc and SLIPWAY_IN_CLUSTER=true exclude each other',
      );
    return gitlabOidcCredentials(env, file, (secret) => deps.masker.add(secret));
  }
  if (file && inCluster)
    throw new UserError('config', 'KUBECONFIG and SLIPWAY_IN_CLUSTER=true exclude each other: choose one');
  if (file) return { kind: 'kubeconfig', file };
  if (inCluster) return { kind: 'in-cluster' };
  return {
    kind: 'missing',
    error: new UserError(
      'cluster',
      'no cluster credentials: KUBECONFIG is not set, and in CI Slipway never falls back to ~/.kube/config or the job pod’s service account',
      {
        hint: 'add a file-type CI/CD variable KUBECONFIG scoped to the environment (a protected one reaches protected branches only: give merge request plans an unprotected, read-only SLIPWAY_PLAN_KUBECONFIG), or set the component input `in-cluster: true` (SLIPWAY_IN_CLUSTER=true) to use the job pod’s service account on purpose',
      },
    ),
  };
}
