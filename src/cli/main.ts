import os from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { applyEnvironment, type ApplyResult } from '../core/apply.ts';
import type { EnvironmentConfig } from '../core/config.ts';
import { detectAll } from '../core/detect.ts';
import { describeError, formatLocation, UserError } from '../core/errors.ts';
import { sortKeys } from '../core/canonical.ts';
import type { Finding } from '../core/manifest.ts';
import { maskSecret, isSecret } from '../core/normalize.ts';
import { readInventory } from '../core/inventory.ts';
import { planEnvironment, type Plan } from '../core/plan.ts';
import { composeComment } from '../core/report/markdown.ts';
import { planAsJson, planAsText } from '../core/report/text.ts';
import { SecretMasker } from '../core/secrets.ts';
import { DEFAULT_CONCURRENCY, type Settings } from '../core/settings.ts';
import { VERSION } from '../core/version.ts';
import { hasErrors, withOfflineNamespaces, Workspace } from '../core/workspace.ts';
import { ProcessRunner } from '../tools/exec.ts';
import { GitCli } from '../tools/git.ts';
import { interruptHandler } from '../tools/interrupt.ts';
import { parseArgs, USAGE, type Command, type CommonOptions } from './args.ts';
import { StderrLogger } from './logger.ts';
import { runInit } from './init.ts';
import { runGitLabCi } from '../gitlab/main.ts';
import type { KubeApi } from '../core/ports.ts';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly isTty: boolean;
}

/** The CLI: parses argv, runs one command, returns the exit code. The only place that catches. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const masker = new SecretMasker();
  const logger = new StderrLogger(io.stderr, io.env.SLIPWAY_DEBUG === '1', (text) => masker.mask(text));
  let command: Command;
  try {
    command = parseArgs(argv);
  } catch (error) {
    io.stderr(`slipway: ${describeError(error)}\n${USAGE.split('\n')[0] ?? ''}\n`);
    return 1;
  }
  try {
    return await dispatch(command, io, logger, masker);
  } catch (error) {
    if (error instanceof UserError) {
      io.stderr(masker.mask(`slipway: ${describeError(error)}\n`));
      return 1;
    }
    io.stderr(
      masker.mask(
        `slipway: internal error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      ),
    );
    return 1;
  }
}

function settingsFrom(common: CommonOptions, io: CliIo): Settings {
  return {
    repo: path.resolve(io.cwd, common.repo),
    configFile: common.config,
    kubeconfig: common.kubeconfig === undefined ? undefined : path.resolve(io.cwd, common.kubeconfig),
    context: common.context,
    concurrency: common.concurrency ?? DEFAULT_CONCURRENCY,
    retrySeconds: Number(io.env.SLIPWAY_RETRY_SECONDS ?? 30),
    tools: {
      kustomize: io.env.SLIPWAY_KUSTOMIZE ?? 'kustomize',
      kubectl: io.env.SLIPWAY_KUBECTL ?? 'kubectl',
      helm: io.env.SLIPWAY_HELM ?? 'helm',
    },
  };
}

async function dispatch(
  command: Command,
  io: CliIo,
  logger: StderrLogger,
  masker: SecretMasker,
): Promise<number> {
  if (command.name === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (command.name === 'version') {
    io.stdout(`slipway ${VERSION}\n`);
    return 0;
  }
  const settings = settingsFrom(command.common, io);
  const runner = new ProcessRunner(io.env);
  if (command.name === 'init') return runInit(settings.repo, command.force, io.stdout);
  const workspace = new Workspace(settings, runner, logger, (value) => masker.add(value));
  const git = new GitCli(runner, settings.repo);
  switch (command.name) {
    case 'ci':
      return runGitLabCi(command, {
        env: io.env,
        stdout: io.stdout,
        settings,
        workspace,
        git,
        logger,
        masker,
      });
    case 'detect': {
      const changed = await git.changedFiles(command.base, command.head);
      io.stdout(`${JSON.stringify(detectAll(workspace.repo, workspace.config, changed))}\n`);
      return 0;
    }
    case 'render': {
      const env = workspace.environment(command.env);
      const result = await workspace.renderAndValidate(env);
      printFindings(result.findings, logger);
      const docs = withOfflineNamespaces(result.manifests, env).map((m) => {
        // Rendered output may land in CI logs: Secret values are masked here too.
        const object = isSecret(m.object) ? maskSecret(m.object, undefined, 'after') : m.object;
        return `# Source: ${formatLocation(m.source)}${m.source.via ? ` (${m.source.via})` : ''}\n${dump(sortKeys(object), { lineWidth: -1, noRefs: true })}`;
      });
      io.stdout(docs.join('---\n'));
      return hasErrors(result.findings) ? 1 : 0;
    }
    case 'validate': {
      const envs = command.env
        ? [workspace.environment(command.env)]
        : [...workspace.config.environments.values()];
      let failed = false;
      for (const env of envs) {
        const result = await workspace.renderAndValidate(env);
        const findings = [...result.findings];
        if (command.base)
          findings.push(
            ...(await workspace.previousRevisionFindings(env, result.manifests, command.base, git)),
          );
        printFindings(findings, logger, io.stdout);
        failed ||= hasErrors(findings);
        logger.info(
          `${env.name}: ${result.manifests.length} objects, ${findings.filter((f) => f.severity === 'error').length} errors, ${findings.filter((f) => f.severity === 'warning').length} warnings`,
        );
      }
      return failed ? 1 : 0;
    }
    case 'diff': {
      const envs = await targetEnvironments(command.env, workspace, git);
      const cluster = await connectCluster(settings, masker);
      try {
        let changes = false;
        let failed = false;
        for (const env of envs) {
          const result = await workspace.renderAndValidate(env);
          printFindings(result.findings, logger);
          if (hasErrors(result.findings)) {
            failed = true;
            continue;
          }
          const inventory = await readInventory(cluster.kube, env.name);
          const plan = await planEnvironment(env, result.manifests, {
            kube: cluster.kube,
            logger,
            concurrency: settings.concurrency,
            inventory,
          });
          changes ||= plan.summary.create + plan.summary.update + plan.summary.delete > 0;
          failed ||= plan.summary.error > 0;
          io.stdout(
            masker.mask(
              formatPlan(plan, command.format, io.isTty && command.format === 'text', result.findings),
            ),
          );
        }
        if (failed) return 1;
        return command.exitCode && changes ? 2 : 0;
      } finally {
        cluster.close();
      }
    }
    case 'apply': {
      const env = workspace.environment(command.env);
      const result = await workspace.renderAndValidate(env);
      printFindings(result.findings, logger);
      if (hasErrors(result.findings)) {
        throw new UserError('apply', `environment "${env.name}" has errors; nothing was applied or pruned`, {
          hint: 'fix the errors above (slipway validate shows them)',
        });
      }
      const cluster = await connectCluster(settings, masker);
      try {
        const commit = command.commit ?? (await git.resolve('HEAD').catch(() => undefined));
        const applied = await applyEnvironment(env, result.manifests, {
          kube: cluster.kube,
          logger,
          git,
          concurrency: settings.concurrency,
          commit,
          dryRun: command.dryRun,
          prune: command.prune,
          force: command.force,
          waitSeconds: command.timeoutSeconds ?? env.timeoutSeconds,
          lockHolder: `${os.hostname()}-${process.pid}`,
          lockWaitSeconds: Number(io.env.SLIPWAY_LOCK_WAIT_SECONDS ?? 120),
          server: cluster.server,
          onInterrupt,
        });
        io.stdout(masker.mask(formatApply(applied)));
        return applied.ok ? 0 : 1;
      } finally {
        cluster.close();
      }
    }
  }
}

async function targetEnvironments(
  name: string | undefined,
  workspace: Workspace,
  git: GitCli,
): Promise<EnvironmentConfig[]> {
  if (name) return [workspace.environment(name)];
  // No --env: what changed since this branch left the main branch, like the pull request will.
  for (const main of ['origin/main', 'origin/master', 'main', 'master']) {
    const base = await git.mergeBase(main, 'HEAD');
    if (!base) continue;
    const changed = await git.changedFiles(base, 'HEAD');
    const detection = detectAll(workspace.repo, workspace.config, changed);
    if (detection.environments.length === 0)
      throw new UserError(
        'usage',
        `no environment changed since ${main}; pass --env NAME to diff one anyway`,
      );
    return detection.environments.map((env) => workspace.environment(env));
  }
  throw new UserError('usage', 'pass --env NAME (no main branch found to compare with)');
}

// ^C during an apply releases the environment's lock before exiting (130/143, as shells expect).
const onInterrupt = interruptHandler((signal) => (signal === 'SIGINT' ? 130 : 143));

interface ClusterHandle {
  readonly kube: KubeApi;
  readonly server: string;
  close(): void;
}

async function connectCluster(settings: Settings, masker: SecretMasker): Promise<ClusterHandle> {
  // Loaded only here: the Kubernetes client is most of the bundle and slows every other command.
  const { connect } = await import('../kube/connect.ts');
  const connected = await connect({
    kubeconfig: settings.kubeconfig,
    context: settings.context,
    concurrency: settings.concurrency,
    retryDeadlineMs: settings.retrySeconds * 1000,
  });
  for (const secret of connected.secrets) masker.add(secret);
  return { kube: connected.client, server: connected.server, close: () => connected.close() };
}

function printFindings(
  findings: readonly Finding[],
  logger: StderrLogger,
  stdout?: (text: string) => void,
): void {
  for (const finding of findings) {
    const line = `${formatLocation(finding.location)}: ${finding.severity}: ${finding.message}`;
    if (stdout) stdout(`${line}\n`);
    else if (finding.severity === 'error') logger.error(finding.message, finding.location);
    else logger.warn(finding.message, finding.location);
  }
}

function formatPlan(
  plan: Plan,
  format: 'text' | 'markdown' | 'json',
  colour: boolean,
  findings: readonly Finding[],
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(planAsJson(plan), null, 2)}\n`;
    case 'markdown':
      return `${composeComment([], { environment: plan.environment, plan, findings, failure: undefined }, { limit: 65_536 }).join('\n\n')}\n`;
    case 'text':
      return planAsText(plan, colour);
  }
}

function formatApply(result: ApplyResult): string {
  const lines = [`${result.environment}: ${result.ok ? 'applied' : 'FAILED'} (${result.writes} writes)`];
  for (const outcome of result.outcomes) {
    if (outcome.action === 'unchanged') continue;
    const health = outcome.health ? ` [${outcome.health.status}: ${outcome.health.message}]` : '';
    lines.push(
      `  ${outcome.action} ${outcome.ref.kind} ${outcome.ref.namespace ? `${outcome.ref.namespace}/` : ''}${outcome.ref.name}${health}${outcome.error ? `: ${outcome.error}` : ''}`,
    );
  }
  if (result.pruneSkipped && result.pruneSkipped !== 'dry run')
    lines.push(`  prune skipped: ${result.pruneSkipped}`);
  return `${lines.join('\n')}\n`;
}
