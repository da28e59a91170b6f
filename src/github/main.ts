/**
 * The GitHub Action: reads the inputs and the event once, then hands the job to the engine
 * (src/core/job/run-job.ts) with GitHub's platform, the cluster pool and the action's outputs.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { describeError, UserError } from '../core/errors.ts';
import { runJob } from '../core/job/run-job.ts';
import { parseLockWait } from '../core/job/settings.ts';
import type { JobContext, JobSettings, Targets } from '../core/job/types.ts';
import type { Logger } from '../core/ports.ts';
import { repositoryIdentity } from '../core/inventory/repository-identity.ts';
import { SecretMasker } from '../core/secrets.ts';
import type { Settings } from '../core/settings.ts';
import { Workspace } from '../core/workspace.ts';
import { ConnectionPool, type Credentials } from '../kube/connections.ts';
import { ProcessRunner } from '../tools/exec.ts';
import { GitCli } from '../tools/git.ts';
import { exitForSignal, interruptHandler } from '../tools/interrupt.ts';
import { notificationPayload, notify } from '../tools/notify.ts';
import { detectBuild } from '../tools/build-info.ts';
import { describeBuild } from '../core/version.ts';
import { githubOidcCredentials } from './cluster-auth.ts';
import { modeFor, readContext, withMergeBase, type Mode, type RunContext } from './context.ts';
import { parseInputs, type ActionInputs } from './inputs.ts';
import { ActionsLogger } from './logger.ts';
import { ActionOutputs } from './outputs.ts';
import { GitHubPlatform } from './platform.ts';
import { runImagesJob } from './images.ts';
import { parseAgeKeys } from '../core/render/decrypt.ts';

/** The action's one exit path: everything below throws, only this catches and fails the step. */
export async function run(): Promise<void> {
  const masker = new SecretMasker();
  try {
    await main(masker);
  } catch (error) {
    if (error instanceof UserError) core.setFailed(masker.mask(describeError(error)));
    else
      core.setFailed(
        masker.mask(
          `internal error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        ),
      );
  }
}

async function main(masker: SecretMasker): Promise<void> {
  core.info(describeBuild(await detectBuild(process.env, process.argv[1])));
  const inputs = parseInputs((name) => core.getInput(name));
  const hide = (value: string): void => {
    masker.add(value);
    // Also tell the runner, so its own log masking covers anything printed outside Slipway's masker.
    core.setSecret(value);
  };
  for (const secret of [
    inputs.token,
    inputs.kubeconfig,
    inputs.slackWebhook,
    inputs.webhookUrl,
    inputs.registryConfig,
  ])
    if (secret) hide(secret);
  // Every input is read: no child process started with this environment (a kubeconfig exec plugin,
  // a credential helper) may see the token, the kubeconfig or the age key the inputs hold.
  for (const name of Object.keys(process.env))
    if (name.startsWith('INPUT_')) Reflect.deleteProperty(process.env, name);
  const event = readContext(process.env);
  // What a pull request changes is measured from its merge base, not the base branch's tip.
  const context = await withMergeBase(
    event,
    new GitCli(new ProcessRunner(process.env), path.resolve(event.workspace, inputs.workingDirectory)),
  );
  const lockWaitSeconds = parseLockWait(process.env.SLIPWAY_LOCK_WAIT_SECONDS);
  const logger = new ActionsLogger((text) => masker.mask(text));
  const repo = path.resolve(context.workspace, inputs.workingDirectory);
  const environment = inputs.environment ?? context.dispatchInputs.environment;
  if (inputs.command === 'images') return imagesCommand(inputs, context, repo, environment, logger, hide);
  const mode = modeFor(inputs.command, context, environment, inputs.deployBranch);
  logger.info(
    `slipway: ${mode} (event ${context.event}${environment ? `, environment ${environment}` : ''})`,
  );
  if (mode === 'skip') {
    logger.info(
      `nothing to do for ${context.event} on ${context.branch ?? context.ref} (deploys happen on pushes to ${inputs.deployBranch ?? context.defaultBranch ?? 'the default branch'})`,
    );
    core.setOutput('environments', '[]');
    return;
  }
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
      // GITHUB_REPOSITORY on GITHUB_SERVER_URL, the same identity the CLI derives from a clone.
      repository: repositoryIdentity(process.env, undefined),
      sopsAgeKeys: parseAgeKeys(inputs.sopsAgeKey ?? process.env.SOPS_AGE_KEY),
    };
    for (const key of settings.sopsAgeKeys ?? []) hide(key);
    const runner = new ProcessRunner(process.env);
    const workspace = new Workspace(settings, runner, logger, hide);
    const outcome = await runJob(
      mode,
      jobContext(inputs, context, mode, environment, workspace, logger),
      jobSettings(inputs, context, lockWaitSeconds),
      {
        workspace,
        git: new GitCli(runner, repo),
        logger,
        masker,
        platform:
          inputs.token && !context.fromFork
            ? new GitHubPlatform({
                token: inputs.token,
                apiUrl: context.apiUrl,
                owner: context.owner,
                repo: context.repo,
                commentAuthor: inputs.commentAuthor,
              })
            : undefined,
        clusters: new ConnectionPool({
          credentials: credentials(inputs, kubeconfigFile, hide),
          context: inputs.context,
          concurrency: inputs.concurrency,
          retryDeadlineMs: settings.retrySeconds * 1000,
          onSecret: hide,
        }),
        outputs: new ActionOutputs({
          masker,
          tempDir: context.tempDir,
          runUrl: context.runUrl,
          summaryFile: context.summaryFile,
        }),
        notify: (applied) =>
          notify(
            { slackWebhook: inputs.slackWebhook, webhookUrl: inputs.webhookUrl },
            notificationPayload(applied, context.sha, context.runUrl),
            (m) => logger.warn(m),
          ),
        onInterrupt: interruptHandler(exitForSignal, (signal) =>
          core.warning(`interrupted (${signal}): releasing the environment lock`),
        ),
        checkSummaryBudget: 65_000,
      },
    );
    if (outcome.code !== 0) core.setFailed(outcome.failures.join('\n') || `slipway ${mode} failed`);
  } finally {
    if (kubeconfigFile) rmSync(path.dirname(kubeconfigFile), { recursive: true, force: true });
  }
}

/** `command: images`: no cluster, no job engine; the pull requests are the only write. */
async function imagesCommand(
  inputs: ActionInputs,
  context: RunContext,
  repo: string,
  environment: string | undefined,
  logger: Logger,
  hide: (secret: string) => void,
): Promise<void> {
  // Rendered offline, without cluster credentials: images are traced to the lines that set them.
  const sopsAgeKeys = parseAgeKeys(inputs.sopsAgeKey ?? process.env.SOPS_AGE_KEY);
  for (const key of sopsAgeKeys) hide(key);
  const workspace = new Workspace(
    {
      repo,
      configFile: inputs.config,
      kubeconfig: undefined,
      context: undefined,
      concurrency: inputs.concurrency,
      retrySeconds: 60,
      tools: { kustomize: 'kustomize', kubectl: 'kubectl', helm: 'helm' },
      sopsAgeKeys,
    },
    new ProcessRunner(process.env),
    logger,
    hide,
  );
  const { outcomes, problems } = await runImagesJob({
    render: (env) => workspace.renderAndValidate(env),
    repo,
    repoPrefix: path.relative(context.workspace, repo).split(path.sep).join('/'),
    configFile: inputs.config,
    environment,
    token: inputs.token,
    apiUrl: context.apiUrl,
    owner: context.owner,
    repoName: context.repo,
    baseBranch: context.branch ?? context.defaultBranch ?? 'main',
    baseSha: context.sha,
    registryConfig: inputs.registryConfig,
    logger,
    hide,
  });
  core.setOutput('image-updates', JSON.stringify(outcomes));
  if (problems.length > 0) core.setFailed(problems.join('\n'));
}

function jobSettings(inputs: ActionInputs, context: RunContext, lockWaitSeconds: number): JobSettings {
  return {
    concurrency: inputs.concurrency,
    lockWaitSeconds,
    dryRun: inputs.dryRun || context.dispatchInputs['dry-run'] === 'true',
    prune: inputs.prune,
    force: inputs.force,
    heal: inputs.heal,
    timeoutSeconds: inputs.timeoutSeconds,
    comment: inputs.comment,
    requireReviewedPlan: inputs.requireReviewedPlan,
    planMode: inputs.planMode,
  };
}

function jobContext(
  inputs: ActionInputs,
  context: RunContext,
  mode: Exclude<Mode, 'skip'>,
  environment: string | undefined,
  workspace: Workspace,
  logger: Logger,
): JobContext {
  return {
    targets: targets(mode, environment, workspace, logger),
    sha: context.sha,
    head: context.head,
    base: context.base,
    changeRequest: context.pullRequest,
    mergeGroup: context.mergeGroup,
    run: context.runId,
    deploymentUrl: (env) => `${context.repoUrl}/deployments/${encodeURIComponent(env)}`,
    changeNoun: context.mergeGroup
      ? 'merge group'
      : context.pullRequest === undefined
        ? 'push'
        : 'pull request',
    branch: context.branch,
    ref: context.branch ?? context.ref,
    deployBranch: inputs.deployBranch ?? context.defaultBranch,
    fromFork: context.fromFork,
    runUrl: context.runUrl,
    lockHolder: `${context.owner}/${context.repo}/run-${context.runUrl.split('/').pop() ?? ''}`,
  };
}

/** The detect job decides what a change touches: every later job names its environment. */
function targets(
  mode: Exclude<Mode, 'skip'>,
  environment: string | undefined,
  workspace: Workspace,
  logger: Logger,
): Targets {
  const all = !environment || environment === 'all';
  if ((mode === 'apply' || mode === 'resync') && all && workspace.config.environments.size > 1)
    logger.warn(
      'applying every environment in one job: they all get this job’s kubeconfig, secrets and protection rules; fan out through a matrix instead (see examples/workflows/slipway-resync.yml)',
    );
  if (mode === 'plan' && all)
    throw new UserError('config', 'this job needs the `environment` input (one environment name)', {
      hint: "run it in a matrix over the detect job's `environments` output",
    });
  if (mode === 'detect') return { kind: 'affected', only: undefined };
  return { kind: 'named', names: all ? [...workspace.config.environments.keys()] : [environment] };
}

/**
 * In CI a missing secret must not mean "whatever cluster the runner can reach": credentials come
 * from the `kubeconfig` input or, when asked for explicitly, the runner pod's service account.
 */
function credentials(
  inputs: ActionInputs,
  kubeconfigFile: string | undefined,
  hide: (secret: string) => void,
): Credentials {
  if (inputs.auth.kind === 'github-oidc')
    return githubOidcCredentials(inputs.auth, kubeconfigFile, process.env, hide);
  if (kubeconfigFile) return { kind: 'kubeconfig', file: kubeconfigFile };
  if (inputs.inCluster) return { kind: 'in-cluster' };
  return {
    kind: 'missing',
    error: new UserError(
      'cluster',
      'no cluster credentials: the `kubeconfig` input is empty, and in CI Slipway never falls back to ~/.kube/config or the runner pod’s service account',
      {
        hint: 'pass `kubeconfig: ${{ secrets.KUBECONFIG }}` (an environment secret; check its name and that the job has `environment:`), or set `in-cluster: true` to use the runner pod’s service account on purpose',
      },
    ),
  };
}

function writeKubeconfig(tempDir: string, content: string): string {
  const dir = path.join(tempDir, `slipway-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}
