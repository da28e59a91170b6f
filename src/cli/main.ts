import path from 'node:path';
import { dump } from 'js-yaml';
import { detectAll } from '../core/detect/detect.ts';
import { describeError, formatLocation, UserError } from '../core/errors.ts';
import { sortKeys } from '../core/canonical.ts';
import type { Finding } from '../core/yaml/manifest.ts';
import { maskSecret, isSecret } from '../core/plan/normalize.ts';
import { repositoryIdentity } from '../core/inventory/repository-identity.ts';
import { SecretMasker } from '../core/secrets.ts';
import { DEFAULT_CONCURRENCY, type Settings } from '../core/settings.ts';
import { describeBuild } from '../core/version.ts';
import { detectBuild } from '../tools/build-info.ts';
import { hasErrors, withOfflineNamespaces, Workspace } from '../core/workspace.ts';
import { KUBECTL_DUMP_SCHEMA } from '../core/yaml/yaml.ts';
import { ProcessRunner } from '../tools/exec.ts';
import { GitCli } from '../tools/git.ts';
import { parseArgs, USAGE, type Command, type CommonOptions } from './args.ts';
import { StderrLogger } from './logger.ts';
import { runInit } from './init.ts';
import { runRbac } from './rbac.ts';
import { runImages } from './images.ts';
import { runApply, runDiff } from './job.ts';
import { runGitLabCi } from '../gitlab/main.ts';
import { DEFAULT_CAPABILITIES_NOTE } from '../core/render/capabilities.ts';
import { parseAgeKeys } from '../core/render/decrypt.ts';

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
    sopsAgeKeys: parseAgeKeys(io.env.SOPS_AGE_KEY),
  };
}

/** Names the repository for inventories: CI variables, else the checkout's `origin` remote. */
async function withRepositoryIdentity(
  settings: Settings,
  env: CliIo['env'],
  runner: ProcessRunner,
): Promise<Settings> {
  const origin = await new GitCli(runner, settings.repo).remoteUrl('origin').catch(() => undefined);
  return { ...settings, repository: repositoryIdentity(env, origin) };
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
    io.stdout(`${describeBuild(await detectBuild(io.env, process.argv[1]))}\n`);
    return 0;
  }
  const runner = new ProcessRunner(io.env);
  if (command.name === 'init')
    return runInit(settingsFrom(command.common, io).repo, command.force, io.stdout);
  const settings = await withRepositoryIdentity(settingsFrom(command.common, io), io.env, runner);
  for (const key of settings.sopsAgeKeys ?? []) masker.add(key);
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
        return `# Source: ${formatLocation(m.source)}${m.source.via ? ` (${m.source.via})` : ''}\n${dump(sortKeys(object), { lineWidth: -1, noRefs: true, schema: KUBECTL_DUMP_SCHEMA })}`;
      });
      // Rendered without a cluster: say so where the output is read, not only in the log.
      if (env.helm.length > 0) io.stdout(`# ${DEFAULT_CAPABILITIES_NOTE}\n`);
      for (const note of result.notes) io.stdout(`# ${note}\n`);
      // Anything else holding a Secret's value (a ConfigMap copying a password) is masked too.
      io.stdout(masker.mask(docs.join('---\n')));
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
    case 'diff':
      return runDiff({ io, settings, workspace, git, logger, masker }, command);
    case 'apply':
      return runApply({ io, settings, workspace, git, logger, masker }, command);
    case 'rbac':
      return runRbac(command, workspace, io.stdout);
    case 'images':
      return runImages(command, { workspace, env: io.env, cwd: io.cwd, stdout: io.stdout, logger, masker });
  }
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
