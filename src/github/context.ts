import { readFileSync } from 'node:fs';
import { pullRequestBase } from '../core/detect/detect.ts';
import { UserError } from '../core/errors.ts';
import { isPlainObject } from '../core/objects.ts';
import type { GitHistory } from '../core/ports.ts';

export type Mode = 'detect' | 'plan' | 'apply' | 'resync' | 'drift' | 'validate' | 'skip';

/** What this workflow run is about, from the runner's environment and the event payload. */
export interface RunContext {
  readonly event: string;
  readonly owner: string;
  readonly repo: string;
  readonly sha: string;
  readonly ref: string;
  /**
   * Revisions to compare for detection; undefined base means "everything changed". For a pull
   * request `readContext` gives the base branch's tip; `withMergeBase` turns it into the merge base.
   */
  readonly base: string | undefined;
  readonly head: string;
  readonly pullRequest: number | undefined;
  /**
   * A merge queue's check (`merge_group`): `base` is the queue's base commit, `head` the merge
   * commit the queue would push, the commit its checks must report on.
   */
  readonly mergeGroup: boolean;
  /** `GITHUB_RUN_ID`: grows with every new workflow run, so it orders runs by when their event came. */
  readonly runId: number;
  /** A pull request from a fork: no secrets, a read-only token. */
  readonly fromFork: boolean;
  readonly defaultBranch: string | undefined;
  readonly branch: string | undefined;
  readonly runUrl: string;
  /** The repository's page, e.g. https://github.com/acme/deploys. */
  readonly repoUrl: string;
  readonly apiUrl: string;
  readonly workspace: string;
  readonly summaryFile: string | undefined;
  readonly outputFile: string | undefined;
  readonly tempDir: string;
  /** workflow_dispatch inputs, as strings. */
  readonly dispatchInputs: Readonly<Record<string, string>>;
}

const ZERO_SHA = /^0+$/;

/** Pure apart from reading the event file named by GITHUB_EVENT_PATH. */
export function readContext(env: Readonly<Record<string, string | undefined>>): RunContext {
  const need = (name: string): string => {
    const value = env[name];
    if (!value)
      throw new UserError(
        'platform',
        `${name} is not set: run Slipway's action inside GitHub Actions, or use the slipway CLI`,
      );
    return value;
  };
  const [owner = '', repo = ''] = need('GITHUB_REPOSITORY').split('/');
  const event = need('GITHUB_EVENT_NAME');
  let payload: Record<string, unknown> = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
      if (isPlainObject(parsed)) payload = parsed;
    } catch (error) {
      throw new UserError(
        'platform',
        `cannot read the event payload ${env.GITHUB_EVENT_PATH}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const repository = isPlainObject(payload.repository) ? payload.repository : {};
  const pr = isPlainObject(payload.pull_request) ? payload.pull_request : undefined;
  const prBase = pr && isPlainObject(pr.base) ? pr.base : {};
  const prHead = pr && isPlainObject(pr.head) ? pr.head : {};
  const headRepo = isPlainObject(prHead.repo) ? prHead.repo : {};
  const group =
    event === 'merge_group' && isPlainObject(payload.merge_group) ? payload.merge_group : undefined;
  const sha = need('GITHUB_SHA');
  const ref = env.GITHUB_REF ?? '';
  let base: string | undefined;
  let head = sha;
  if (pr) {
    base = typeof prBase.sha === 'string' ? prBase.sha : undefined;
    head = typeof prHead.sha === 'string' ? prHead.sha : sha;
  } else if (group) {
    base = typeof group.base_sha === 'string' ? group.base_sha : undefined;
    head = typeof group.head_sha === 'string' ? group.head_sha : sha;
  } else if (event === 'push') {
    const before = typeof payload.before === 'string' ? payload.before : undefined;
    base = before && !ZERO_SHA.test(before) ? before : undefined;
    head = typeof payload.after === 'string' && !ZERO_SHA.test(payload.after) ? payload.after : sha;
  }
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const inputs = isPlainObject(payload.inputs) ? payload.inputs : {};
  return {
    event,
    owner,
    repo,
    sha,
    ref,
    base,
    head,
    pullRequest:
      pr && typeof pr.number === 'number'
        ? pr.number
        : typeof payload.number === 'number'
          ? payload.number
          : undefined,
    mergeGroup: group !== undefined,
    runId: Number(env.GITHUB_RUN_ID ?? 0) || 0,
    // head.repo is null when the fork has been deleted: still a fork, still without secrets.
    fromFork:
      pr !== undefined &&
      (prHead.repo === null ||
        (typeof headRepo.full_name === 'string' && headRepo.full_name !== `${owner}/${repo}`)),
    defaultBranch: typeof repository.default_branch === 'string' ? repository.default_branch : undefined,
    branch: ref.startsWith('refs/heads/')
      ? ref.slice('refs/heads/'.length)
      : (env.GITHUB_HEAD_REF ?? undefined),
    runUrl: `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID ?? '0'}`,
    repoUrl: `${server}/${owner}/${repo}`,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    summaryFile: env.GITHUB_STEP_SUMMARY,
    outputFile: env.GITHUB_OUTPUT,
    tempDir: env.RUNNER_TEMP ?? '/tmp',
    dispatchInputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)])),
  };
}

/** Which job this is: from the explicit command, else from the event. */
export function modeFor(
  command: string,
  context: RunContext,
  environment: string | undefined,
  deployBranch: string | undefined,
): Mode {
  switch (command) {
    case 'detect':
      return 'detect';
    case 'plan':
      return 'plan';
    case 'apply':
      return context.event === 'workflow_dispatch' ? 'resync' : 'apply';
    case 'drift':
      return 'drift';
    case 'validate':
      return 'validate';
    default:
      break;
  }
  switch (context.event) {
    case 'pull_request':
    case 'pull_request_target':
    case 'merge_group':
      return environment ? 'plan' : 'detect';
    case 'push': {
      const branch = deployBranch ?? context.defaultBranch;
      if (context.branch !== branch) return 'skip';
      return environment ? 'apply' : 'detect';
    }
    case 'workflow_dispatch':
      return 'resync';
    case 'schedule':
      return 'drift';
    default:
      return 'skip';
  }
}

/**
 * The context with a pull request's base replaced by its merge base with the head (see
 * pullRequestBase). A merge group's base is already where its merge commit starts.
 */
export async function withMergeBase(context: RunContext, git: GitHistory): Promise<RunContext> {
  if (context.pullRequest === undefined || context.mergeGroup || !context.base) return context;
  return { ...context, base: await pullRequestBase(git, context.base, context.head) };
}
