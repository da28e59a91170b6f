/**
 * `slipway diff` and `slipway apply` on a laptop: the same engine as CI (src/core/job/run-job.ts),
 * with the terminal as the only output and no review platform. Credentials are the laptop's:
 * --kubeconfig, else $KUBECONFIG / ~/.kube/config; each environment's `context` is honoured.
 */
import os from 'node:os';
import type { ApplyResult } from '../core/apply/apply.ts';
import type { EnvironmentConfig } from '../core/config/config.ts';
import { detectAll } from '../core/detect/detect.ts';
import { UserError } from '../core/errors.ts';
import { runJob } from '../core/job/run-job.ts';
import { DEFAULT_JOB_SETTINGS, parseLockWait } from '../core/job/settings.ts';
import type { JobContext, JobMode, JobOutcome, JobOutputs, JobSettings } from '../core/job/types.ts';
import type { Finding } from '../core/yaml/manifest.ts';
import type { Plan } from '../core/plan/plan.ts';
import type { PlanMode } from '../core/plan/plan-mode.ts';
import { composeComment } from '../core/report/markdown.ts';
import { planAsJson, planAsText, plansAsText } from '../core/report/text.ts';
import type { SecretMasker } from '../core/secrets.ts';
import type { Settings } from '../core/settings.ts';
import type { Workspace } from '../core/workspace.ts';
import { ConnectionPool } from '../kube/connections.ts';
import type { GitCli } from '../tools/git.ts';
import { exitForSignal, interruptHandler } from '../tools/interrupt.ts';
import type { CliIo } from './main.ts';
import type { StderrLogger } from './logger.ts';

export interface LaptopJob {
  readonly io: CliIo;
  readonly settings: Settings;
  readonly workspace: Workspace;
  readonly git: GitCli;
  readonly logger: StderrLogger;
  readonly masker: SecretMasker;
}

export type PlanFormat = 'text' | 'markdown' | 'json';

/** `slipway diff`: 0 no failure, 1 a failure, 2 (with --exit-code) changes exist. */
export async function runDiff(
  job: LaptopJob,
  options: { env: string | undefined; format: PlanFormat; exitCode: boolean; planMode?: PlanMode },
): Promise<number> {
  const envs = await targetEnvironments(options.env, job.workspace, job.git);
  const colour = job.io.isTty && options.format === 'text';
  // Several environments in text are read together: identical changes once, "× N environments".
  const together: Plan[] | undefined = options.format === 'text' && envs.length > 1 ? [] : undefined;
  const outcome = await run(job, 'plan', envs, options.planMode ? { planMode: options.planMode } : {}, {
    planned: (report) => {
      if (report.plan && together) together.push(report.plan);
      else if (report.plan)
        job.io.stdout(job.masker.mask(formatPlan(report.plan, options.format, colour, report.findings)));
      else if (report.failure) job.logger.error(`${report.environment}: ${report.failure}`);
      return Promise.resolve(undefined);
    },
  });
  if (together?.length) job.io.stdout(job.masker.mask(plansAsText(together, colour)));
  if (outcome.code !== 0) return 1;
  return options.exitCode && outcome.changes ? 2 : 0;
}

/** `slipway apply --env NAME`. */
export async function runApply(
  job: LaptopJob,
  options: {
    env: string;
    dryRun: boolean;
    prune: boolean;
    force: boolean;
    timeoutSeconds: number | undefined;
    commit: string | undefined;
  },
): Promise<number> {
  const env = job.workspace.environment(options.env);
  const commit = options.commit ?? (await job.git.resolve('HEAD').catch(() => undefined));
  const knobs = {
    dryRun: options.dryRun,
    prune: options.prune,
    force: options.force,
    timeoutSeconds: options.timeoutSeconds,
  };
  const outcome = await run(
    job,
    'apply',
    [env],
    { ...knobs, commit },
    {
      applied: (_env, result) => {
        if (result) job.io.stdout(job.masker.mask(formatApply(result)));
        return Promise.resolve();
      },
    },
  );
  return outcome.code;
}

async function run(
  job: LaptopJob,
  mode: JobMode,
  envs: readonly EnvironmentConfig[],
  overrides: Partial<JobSettings> & { commit?: string | undefined },
  outputs: Partial<JobOutputs>,
): Promise<JobOutcome> {
  const { io, settings, logger, masker } = job;
  const { commit, ...knobs } = overrides;
  const jobSettings: JobSettings = {
    ...DEFAULT_JOB_SETTINGS,
    concurrency: settings.concurrency,
    lockWaitSeconds: parseLockWait(io.env.SLIPWAY_LOCK_WAIT_SECONDS),
    ...knobs,
  };
  const context: JobContext = {
    targets: { kind: 'named', names: envs.map((e) => e.name) },
    sha: commit ?? '',
    head: commit ?? '',
    base: undefined,
    changeRequest: undefined,
    mergeGroup: false,
    run: 0,
    deploymentUrl: undefined,
    changeNoun: 'branch',
    branch: undefined,
    ref: commit ?? 'HEAD',
    deployBranch: undefined,
    fromFork: false,
    runUrl: '',
    lockHolder: `${os.hostname()}-${process.pid}`,
  };
  const none = (): Promise<void> => Promise.resolve();
  const outcome = await runJob(mode, context, jobSettings, {
    workspace: job.workspace,
    git: job.git,
    logger,
    masker,
    platform: undefined,
    clusters: new ConnectionPool({
      credentials: settings.kubeconfig
        ? { kind: 'kubeconfig', file: settings.kubeconfig }
        : { kind: 'default' },
      context: settings.context,
      concurrency: settings.concurrency,
      retryDeadlineMs: settings.retrySeconds * 1000,
      onSecret: (secret) => masker.add(secret),
    }),
    outputs: {
      detected: none,
      planned: () => Promise.resolve(undefined),
      applied: none,
      driftChecked: none,
      finished: none,
      ...outputs,
    },
    notify: undefined,
    // ^C during an apply releases the environment's lock before exiting (130/143, as shells expect).
    onInterrupt: interruptHandler(exitForSignal),
    checkSummaryBudget: 65_000,
  });
  return outcome;
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

function formatPlan(plan: Plan, format: PlanFormat, colour: boolean, findings: readonly Finding[]): string {
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
