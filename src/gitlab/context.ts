/**
 * What a GitLab CI/CD job is about, from GitLab's predefined variables only (no event payload
 * exists on GitLab): which project, which merge request, which revisions to compare, and which
 * Slipway mode the pipeline source means. Pure: the environment is passed in.
 */
import { UserError } from '../core/errors.ts';

export type GitLabMode = 'plan' | 'apply' | 'resync' | 'drift' | 'skip';

export const GITLAB_MODES: readonly Exclude<GitLabMode, 'skip'>[] = ['plan', 'apply', 'resync', 'drift'];

export interface GitLabRunContext {
  /** `CI_PIPELINE_SOURCE`: merge_request_event, push, web, schedule, api, trigger, … */
  readonly pipelineSource: string;
  /** `CI_API_V4_URL`, e.g. https://gitlab.com/api/v4 */
  readonly apiUrl: string;
  /** `CI_PROJECT_ID` (numeric, as a string). */
  readonly projectId: string;
  /** `CI_PROJECT_URL`, for links to merge request notes. */
  readonly projectUrl: string | undefined;
  readonly mergeRequestIid: number | undefined;
  /** The commit the job runs on (`CI_COMMIT_SHA`). */
  readonly sha: string;
  /**
   * The commit statuses belong to: in a merged-results pipeline `CI_COMMIT_SHA` is a temporary
   * merge commit, and the merge request shows statuses of its source branch head instead.
   */
  readonly statusSha: string;
  /** Revisions to compare for detection; undefined base means "everything changed". */
  readonly base: string | undefined;
  readonly head: string;
  /** `CI_COMMIT_BRANCH` (unset in merge request and tag pipelines). */
  readonly branch: string | undefined;
  /** The branch or tag the job runs for (`CI_COMMIT_REF_NAME`). */
  readonly ref: string;
  readonly defaultBranch: string | undefined;
  readonly pipelineId: number | undefined;
  readonly pipelineUrl: string;
  /** The job's page when known, else the pipeline's: where people go to read the log. */
  readonly runUrl: string;
  readonly jobUrl: string | undefined;
  /** A merge request from a fork: its pipeline normally runs without the parent's variables. */
  readonly fromFork: boolean;
  /** `CI_PROJECT_DIR`: the checkout. */
  readonly projectDir: string | undefined;
}

const ZERO_SHA = /^0+$/;

function positiveInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const number = Number(value);
  return number > 0 ? number : undefined;
}

/** Reads the job's context from GitLab's predefined CI/CD variables. */
export function readGitLabContext(env: Readonly<Record<string, string | undefined>>): GitLabRunContext {
  const need = (name: string): string => {
    const value = env[name];
    if (!value)
      throw new UserError(
        'platform',
        `${name} is not set: \`slipway ci\` reads GitLab's predefined CI/CD variables and runs only inside a GitLab CI/CD job`,
        { hint: 'on a laptop use `slipway diff` and `slipway apply`' },
      );
    return value;
  };
  const sha = need('CI_COMMIT_SHA');
  const apiUrl = need('CI_API_V4_URL').replace(/\/+$/, '');
  const projectId = need('CI_PROJECT_ID');
  const pipelineSource = need('CI_PIPELINE_SOURCE');
  const mergeRequestIid = positiveInteger(env.CI_MERGE_REQUEST_IID);
  const before = env.CI_COMMIT_BEFORE_SHA;
  let base: string | undefined;
  let head = sha;
  if (mergeRequestIid !== undefined) {
    // The merge base with the target branch: what the merge request changes, as GitLab shows it.
    base = env.CI_MERGE_REQUEST_DIFF_BASE_SHA || undefined;
    head = env.CI_MERGE_REQUEST_SOURCE_BRANCH_SHA || sha;
  } else if (pipelineSource === 'push') {
    base = before && !ZERO_SHA.test(before) ? before : undefined;
  }
  const pipelineUrl =
    env.CI_PIPELINE_URL ?? `${env.CI_PROJECT_URL ?? ''}/-/pipelines/${env.CI_PIPELINE_ID ?? ''}`;
  const sourceProject = env.CI_MERGE_REQUEST_SOURCE_PROJECT_ID;
  const targetProject = env.CI_MERGE_REQUEST_PROJECT_ID;
  return {
    pipelineSource,
    apiUrl,
    projectId,
    projectUrl: env.CI_PROJECT_URL,
    mergeRequestIid,
    sha,
    statusSha: env.CI_MERGE_REQUEST_SOURCE_BRANCH_SHA || sha,
    base,
    head,
    branch: env.CI_COMMIT_BRANCH || undefined,
    ref: env.CI_COMMIT_REF_NAME ?? env.CI_COMMIT_BRANCH ?? env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME ?? sha,
    defaultBranch: env.CI_DEFAULT_BRANCH || undefined,
    pipelineId: positiveInteger(env.CI_PIPELINE_ID),
    pipelineUrl,
    runUrl: env.CI_JOB_URL ?? pipelineUrl,
    jobUrl: env.CI_JOB_URL,
    fromFork:
      mergeRequestIid !== undefined &&
      sourceProject !== undefined &&
      targetProject !== undefined &&
      sourceProject !== targetProject,
    projectDir: env.CI_PROJECT_DIR,
  };
}

/**
 * The mode a pipeline source means: a merge request pipeline plans, a push to the default branch
 * applies (a push to any other branch does nothing), a pipeline run from the web UI re-syncs, a
 * scheduled pipeline checks drift. Anything else (api, trigger, parent_pipeline, …) does nothing
 * unless a mode is given explicitly.
 */
export function gitlabMode(context: GitLabRunContext, deployBranch?: string): GitLabMode {
  switch (context.pipelineSource) {
    case 'merge_request_event':
      return 'plan';
    case 'push': {
      const branch = deployBranch ?? context.defaultBranch;
      return branch !== undefined && context.branch === branch ? 'apply' : 'skip';
    }
    case 'web':
      return 'resync';
    case 'schedule':
      return 'drift';
    default:
      return 'skip';
  }
}

/** Why a pipeline is skipped, in words. */
export function skipReason(context: GitLabRunContext, deployBranch?: string): string {
  if (context.pipelineSource === 'push')
    return `a push to ${context.branch ?? context.ref}: Slipway applies pushes to ${deployBranch ?? context.defaultBranch ?? 'the default branch'} only`;
  return `pipeline source "${context.pipelineSource}" has no Slipway mode (merge_request_event plans, a push to the default branch applies, web re-syncs, schedule checks drift; \`--mode\` chooses one)`;
}
