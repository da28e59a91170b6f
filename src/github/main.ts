import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { applyEnvironment } from '../core/apply.ts';
import type { EnvironmentConfig } from '../core/config.ts';
import { detectAll } from '../core/detect.ts';
import { describeError, UserError } from '../core/errors.ts';
import { annotationsOf, planReport, reportFailed, reportHasChanges } from '../core/jobs.ts';
import type { ReviewPlatform } from '../core/platform.ts';
import type { KubeApi, Logger } from '../core/ports.ts';
import type { EnvironmentReport } from '../core/report/markdown.ts';
import { escapeInline } from '../core/report/escape.ts';
import { applySummary, planSummary } from '../core/report/summary.ts';
import { driftBody, publishPlanReport, recordedDeploy, renderForApply } from '../core/ci.ts';
import { SecretMasker } from '../core/secrets.ts';
import type { Settings } from '../core/settings.ts';
import { Workspace } from '../core/workspace.ts';
import { ProcessRunner } from '../tools/exec.ts';
import { GitCli } from '../tools/git.ts';
import { interruptHandler } from '../tools/interrupt.ts';
import { notificationPayload, notify } from '../tools/notify.ts';
import { modeFor, readContext, type RunContext } from './context.ts';
import { parseInputs, type ActionInputs } from './inputs.ts';
import { ActionsLogger } from './logger.ts';
import { GitHubPlatform } from './platform.ts';

/** The action's one exit path: everything below throws, only this catches and fails the step. */
export async function run(): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof UserError) core.setFailed(describeError(error));
    else
      core.setFailed(
        `internal error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
  }
}

interface Job {
  readonly inputs: ActionInputs;
  readonly context: RunContext;
  readonly workspace: Workspace;
  readonly logger: Logger;
  readonly platform: ReviewPlatform | undefined;
  readonly settings: Settings;
  readonly masker: SecretMasker;
  readonly git: GitCli;
}

async function main(): Promise<void> {
  const inputs = parseInputs((name) => core.getInput(name));
  for (const secret of [inputs.token, inputs.kubeconfig, inputs.slackWebhook, inputs.webhookUrl])
    if (secret) core.setSecret(secret);
  const context = readContext(process.env);
  const logger = new ActionsLogger();
  const masker = new SecretMasker();
  const repo = path.resolve(context.workspace, inputs.workingDirectory);
  const kubeconfigFile = inputs.kubeconfig ? writeKubeconfig(context.tempDir, inputs.kubeconfig) : undefined;
  try {
    const settings: Settings = {
      repo,
      configFile: inputs.config,
      kubeconfig: kubeconfigFile,
      context: inputs.context,
      concurrency: inputs.concurrency,
      retrySeconds: 60,
      tools: { kustomize: 'kustomize', kubectl: 'kubectl', helm: 'helm' },
    };
    const runner = new ProcessRunner(process.env);
    const workspace = new Workspace(settings, runner, logger, (value) => {
      masker.add(value);
      // Also tell the runner, so its own log masking covers anything printed outside Slipway's masker.
      core.setSecret(value);
    });
    const platform =
      inputs.token && !context.fromFork
        ? new GitHubPlatform({
            token: inputs.token,
            apiUrl: context.apiUrl,
            owner: context.owner,
            repo: context.repo,
            commentAuthor: inputs.commentAuthor,
          })
        : undefined;
    const job: Job = {
      inputs,
      context,
      workspace,
      logger,
      platform,
      settings,
      masker,
      git: new GitCli(runner, repo),
    };
    const environment = inputs.environment ?? context.dispatchInputs.environment;
    const mode = modeFor(inputs.command, context, environment, inputs.deployBranch);
    logger.info(
      `slipway: ${mode} (event ${context.event}${environment ? `, environment ${environment}` : ''})`,
    );
    switch (mode) {
      case 'skip':
        logger.info(
          `nothing to do for ${context.event} on ${context.branch ?? context.ref} (deploys happen on pushes to ${inputs.deployBranch ?? context.defaultBranch ?? 'the default branch'})`,
        );
        core.setOutput('environments', '[]');
        return;
      case 'detect':
        await detect(job);
        return;
      case 'validate':
        await validateOnly(job, environmentsOf(job, environment));
        return;
      case 'plan':
        await plan(job, requireOne(job, environment));
        return;
      case 'apply':
      case 'resync': {
        const dryRun = inputs.dryRun || context.dispatchInputs['dry-run'] === 'true';
        for (const env of environmentsOf(job, environment)) await deploy(job, env, dryRun);
        return;
      }
      case 'drift':
        await drift(job, environmentsOf(job, environment));
        return;
    }
  } finally {
    if (kubeconfigFile) rmSync(path.dirname(kubeconfigFile), { recursive: true, force: true });
  }
}

/** A cancelled workflow run sends SIGINT, then SIGTERM: release the lock before going. */
const onInterrupt = interruptHandler(
  () => 1,
  (signal) => core.warning(`interrupted (${signal}): releasing the environment lock`),
);

/** Appends to the job summary; runners without one (old GHES, local runs) just skip it. */
async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('no GITHUB_STEP_SUMMARY: the job summary is skipped');
    return;
  }
  await core.summary.addRaw(markdown).write();
}

function writeKubeconfig(tempDir: string, content: string): string {
  const dir = path.join(tempDir, `slipway-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** The pull request's base, for the danger lint; none outside pull requests. */
function baseOf(job: Job): { revision: string; git: GitCli } | undefined {
  return job.context.pullRequest !== undefined && job.context.base
    ? { revision: job.context.base, git: job.git }
    : undefined;
}

function requireOne(job: Job, environment: string | undefined): EnvironmentConfig {
  if (!environment || environment === 'all')
    throw new UserError('config', 'this job needs the `environment` input (one environment name)', {
      hint: "run it in a matrix over the detect job's `environments` output",
    });
  return job.workspace.environment(environment);
}

function environmentsOf(job: Job, environment: string | undefined): EnvironmentConfig[] {
  if (!environment || environment === 'all') return [...job.workspace.config.environments.values()];
  return [job.workspace.environment(environment)];
}

async function detect(job: Job): Promise<void> {
  const { context, workspace } = job;
  let detection;
  if (!context.base) {
    const all = [...workspace.config.environments.keys()].sort();
    detection = {
      environments: all,
      reasons: Object.fromEntries(all.map((e) => [e, ['(no previous revision: every environment)']])),
    };
  } else {
    detection = detectAll(
      workspace.repo,
      workspace.config,
      await job.git.changedFiles(context.base, context.head),
    );
  }
  job.logger.info(`affected environments: ${detection.environments.join(', ') || 'none'}`);
  core.setOutput('environments', JSON.stringify(detection.environments));
  core.setOutput('matrix', JSON.stringify({ environment: detection.environments }));
  core.setOutput('detection', JSON.stringify(detection));
  await writeSummary(
    `## Slipway: affected environments\n\n${detection.environments.map((e) => `- **${escapeInline(e)}**: ${(detection.reasons[e] ?? []).map((f) => `\`${escapeInline(f)}\``).join(', ')}`).join('\n') || 'None.'}\n`,
  );
}

async function connectKube(job: Job): Promise<{ kube: KubeApi; server: string; close(): void }> {
  const { connect } = await import('../kube/connect.ts');
  const connected = await connect({
    kubeconfig: job.settings.kubeconfig,
    context: job.settings.context,
    concurrency: job.settings.concurrency,
    retryDeadlineMs: job.settings.retrySeconds * 1000,
  });
  for (const secret of connected.secrets) {
    core.setSecret(secret);
    job.masker.add(secret);
  }
  return { kube: connected.client, server: connected.server, close: () => connected.close() };
}

async function validateOnly(job: Job, envs: EnvironmentConfig[]): Promise<void> {
  let failed = false;
  for (const env of envs) {
    const report = await planReport(
      job.workspace,
      env,
      undefined,
      job.logger,
      job.settings.concurrency,
      baseOf(job),
    );
    await publishPlan(
      job,
      report,
      job.context.fromFork
        ? 'validated offline: pull requests from forks get no cluster credentials, so there is no live diff'
        : 'validated offline (no cluster access)',
    );
    failed ||= reportFailed(report);
  }
  if (failed) throw new UserError('manifest', 'validation found errors (see the annotations)');
}

async function plan(job: Job, env: EnvironmentConfig): Promise<void> {
  if (job.context.fromFork) {
    job.logger.warn(
      'pull request from a fork: no cluster credentials are available, so only offline validation runs',
    );
    return validateOnly(job, [env]);
  }
  const cluster = await connectKube(job).catch((error: unknown) => {
    if (error instanceof UserError) return error;
    throw error;
  });
  let report: EnvironmentReport;
  if (cluster instanceof UserError) {
    report = { environment: env.name, plan: undefined, findings: [], failure: describeError(cluster) };
  } else {
    try {
      report = await planReport(
        job.workspace,
        env,
        cluster.kube,
        job.logger,
        job.settings.concurrency,
        baseOf(job),
      );
    } finally {
      cluster.close();
    }
  }
  await publishPlan(job, report, undefined);
  if (reportFailed(report))
    throw new UserError(
      'manifest',
      `the plan for ${env.name} failed: ${report.failure ?? 'see the annotations'}`,
    );
}

/** Everything a plan shows people: log annotations, job summary, diff file, outputs, comment, check. */
async function publishPlan(job: Job, report: EnvironmentReport, note: string | undefined): Promise<void> {
  const { context, platform, masker } = job;
  for (const annotation of annotationsOf(report)) {
    if (annotation.level === 'failure') job.logger.error(annotation.message, annotation.location);
    else job.logger.warn(annotation.message, annotation.location);
  }
  const summary = masker.mask(planSummary(report));
  await writeSummary(`${summary}\n`);
  const diffFile = path.join(context.tempDir, `slipway-plan-${report.environment}.md`);
  writeFileSync(diffFile, summary);
  core.setOutput('diff-file', diffFile);
  core.setOutput('has-changes', String(reportHasChanges(report)));
  core.setOutput(
    'summary',
    JSON.stringify({
      environment: report.environment,
      ...(report.plan?.summary ?? {}),
      failed: reportFailed(report),
    }),
  );
  if (!platform) return;
  await publishPlanReport(platform, report, {
    changeRequest: job.inputs.comment ? context.pullRequest : undefined,
    head: context.head,
    fullDiffUrl: `${context.runUrl}#summary`,
    note,
    masker,
    logger: job.logger,
    checkSummaryBudget: 65_000,
  });
}

async function deploy(job: Job, env: EnvironmentConfig, dryRun: boolean): Promise<void> {
  const { context, platform, logger, masker, inputs } = job;
  const { result, failure } = await recordedDeploy(env, {
    platform,
    sha: context.sha,
    ref: context.branch ?? context.ref,
    runUrl: context.runUrl,
    dryRun,
    masker,
    apply: async () => {
      const rendered = await renderForApply(job.workspace, env, logger);
      const cluster = await connectKube(job);
      try {
        return await applyEnvironment(env, rendered.manifests, {
          kube: cluster.kube,
          logger,
          git: job.git,
          concurrency: inputs.concurrency,
          commit: context.sha,
          dryRun,
          prune: inputs.prune,
          force: inputs.force,
          waitSeconds: inputs.timeoutSeconds ?? env.timeoutSeconds,
          lockHolder: `${context.owner}/${context.repo}/run-${context.runUrl.split('/').pop() ?? ''}`,
          lockWaitSeconds: 300,
          server: cluster.server,
          onInterrupt,
        });
      } finally {
        cluster.close();
      }
    },
    notify: (applied) =>
      notify(
        { slackWebhook: inputs.slackWebhook, webhookUrl: inputs.webhookUrl },
        notificationPayload(applied, context.sha, context.runUrl),
        (m) => logger.warn(m),
      ),
  });
  if (result) {
    await writeSummary(`${masker.mask(applySummary(result))}\n`);
    const summary = result.plan.summary;
    core.setOutput(
      'summary',
      JSON.stringify({ environment: env.name, ok: result.ok, writes: result.writes, ...summary }),
    );
    core.setOutput('has-changes', String(summary.create + summary.update + summary.delete > 0));
  }
  if (failure) throw new UserError('apply', `${env.name}: ${failure}`);
}

async function drift(job: Job, envs: EnvironmentConfig[]): Promise<void> {
  const cluster = await connectKube(job);
  const drifted: string[] = [];
  try {
    for (const env of envs) {
      const report = await planReport(job.workspace, env, cluster.kube, job.logger, job.settings.concurrency);
      await writeSummary(`${job.masker.mask(planSummary(report))}\n`);
      const changes = reportHasChanges(report);
      if (changes) drifted.push(env.name);
      const marker = `<!-- slipway:drift:${env.name} -->`;
      const body =
        changes && report.plan ? job.masker.mask(driftBody(report, job.context.runUrl)) : undefined;
      const url = await job.platform?.syncIssue(marker, `Drift in ${env.name}`, body);
      job.logger.info(
        `${env.name}: ${changes ? `drift found${url ? `, see ${url}` : ''}` : 'in sync with Git'}`,
      );
      if (changes && job.inputs.heal) await deploy(job, env, false);
    }
  } finally {
    cluster.close();
  }
  core.setOutput('drifted', JSON.stringify(drifted));
  core.setOutput('has-changes', String(drifted.length > 0));
}
