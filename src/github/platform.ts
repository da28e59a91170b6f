/**
 * The ReviewPlatform on GitHub: sticky pull-request comments, check runs with annotations,
 * deployments, commit statuses and one tracking issue per marker, through the REST API.
 *
 * Comment ownership: a comment is ours when it carries the marker AND its author's login equals
 * `commentAuthor` (default `github-actions[bot]`, the author of everything the Actions
 * GITHUB_TOKEN writes; set it to the account of a PAT or to `<app-slug>[bot]` for an app token).
 * `GET /user` is not used: app installation tokens may not call it.
 *
 * Requests failing with 5xx or 429 (network failures surface as 500) are retried, 3 attempts in
 * all, with exponential backoff or the server's `retry-after`; other 4xx are never retried.
 * Failures become UserError kind 'platform' naming what to fix (e.g. the missing permission);
 * messages are built from GitHub's answer and never contain the token.
 */
import { InternalError, UserError } from '../core/errors.ts';
import { header, isHttpFailure, retryingOctokit, type Octokit, type RetryOptions } from './octokit.ts';
import type {
  Annotation,
  CheckReport,
  DeploymentRecord,
  DeploymentState,
  ReviewPlatform,
} from '../core/platform.ts';

/** GitHub's documented limits, in characters. */
export const GITHUB_LIMITS = {
  commentBody: 65536,
  issueBody: 65536,
  checkSummary: 65535,
  checkText: 65535,
  annotationsPerRequest: 50,
  description: 140,
} as const;

export interface GitHubPlatformOptions {
  readonly token: string;
  /** e.g. `https://api.github.com`, or `GITHUB_API_URL` on GitHub Enterprise Server. */
  readonly apiUrl: string;
  readonly owner: string;
  readonly repo: string;
  /** Login whose marked comments are ours; default `github-actions[bot]`. */
  readonly commentAuthor?: string;
  /** Label of the issues `syncIssue` keeps; default `slipway-drift`. */
  readonly issueLabel?: string;
  readonly retry?: RetryOptions;
}

const PERMISSION = {
  comments: 'pull-requests: write',
  readPulls: 'pull-requests: read',
  checks: 'checks: write',
  deployments: 'deployments: write',
  statuses: 'statuses: write',
  issues: 'issues: write',
} as const;

type Permission = (typeof PERMISSION)[keyof typeof PERMISSION];

function clip(text: string, limit: number): string {
  const chars = Array.from(text);
  return chars.length <= limit ? text : `${chars.slice(0, limit - 1).join('')}…`;
}

/** Characters as GitHub counts them (code points). */
function charLength(text: string): number {
  return Array.from(text).length;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** `prod`, `production` or `live` as a word of the environment name. */
export function isProductionEnvironment(name: string): boolean {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((word) => word === 'prod' || word === 'production' || word === 'live');
}

function toGitHubAnnotation(annotation: Annotation): {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
} {
  const line = Math.max(1, annotation.location.line);
  return {
    path: annotation.location.file,
    start_line: line,
    end_line: line,
    annotation_level: annotation.level,
    message: annotation.message,
    ...(annotation.title === undefined ? {} : { title: annotation.title }),
  };
}

export class GitHubPlatform implements ReviewPlatform {
  readonly commentLimit = GITHUB_LIMITS.commentBody;
  readonly #octokit: Octokit;
  readonly #token: string;
  readonly #owner: string;
  readonly #repo: string;
  readonly #commentAuthor: string;
  readonly #issueLabel: string;

  constructor(options: GitHubPlatformOptions) {
    this.#token = options.token;
    this.#owner = options.owner;
    this.#repo = options.repo;
    this.#commentAuthor = options.commentAuthor ?? 'github-actions[bot]';
    this.#issueLabel = options.issueLabel ?? 'slipway-drift';
    this.#octokit = retryingOctokit(options.token, options.apiUrl, options.retry);
  }

  get #repoParams(): { owner: string; repo: string } {
    return { owner: this.#owner, repo: this.#repo };
  }

  async upsertComments(
    changeRequest: number,
    marker: string,
    bodies: readonly string[],
  ): Promise<{ urls: string[] }> {
    const wanted = bodies.map((body) => this.#withMarker(body, marker, GITHUB_LIMITS.commentBody, 'comment'));
    const action = `update the comments on pull request #${changeRequest}`;
    const ours = await this.#ourComments(changeRequest, marker, action);

    const urls: string[] = [];
    for (const [index, body] of wanted.entries()) {
      const existing = ours[index];
      if (existing && existing.body === body) {
        urls.push(existing.html_url);
      } else if (existing) {
        const { data } = await this.#call(action, PERMISSION.comments, () =>
          this.#octokit.rest.issues.updateComment({ ...this.#repoParams, comment_id: existing.id, body }),
        );
        urls.push(data.html_url);
      } else {
        const { data } = await this.#call(action, PERMISSION.comments, () =>
          this.#octokit.rest.issues.createComment({ ...this.#repoParams, issue_number: changeRequest, body }),
        );
        urls.push(data.html_url);
      }
    }
    for (const extra of ours.slice(wanted.length)) {
      await this.#call(action, PERMISSION.comments, () =>
        this.#octokit.rest.issues.deleteComment({ ...this.#repoParams, comment_id: extra.id }),
      );
    }
    return { urls };
  }

  async readComments(changeRequest: number, marker: string): Promise<string[]> {
    const ours = await this.#ourComments(
      changeRequest,
      marker,
      `read the comments on pull request #${changeRequest}`,
    );
    return ours.map((comment) => comment.body ?? '');
  }

  /** Our marked comments, oldest first, from every page of the pull request's comments. */
  async #ourComments(changeRequest: number, marker: string, action: string) {
    const all = await this.#call(action, PERMISSION.comments, () =>
      this.#octokit.paginate(this.#octokit.rest.issues.listComments, {
        ...this.#repoParams,
        issue_number: changeRequest,
        per_page: 100,
      }),
    );
    return all
      .filter((c) => c.user?.login === this.#commentAuthor && (c.body ?? '').includes(marker))
      .sort((a, b) => a.id - b.id);
  }

  async changeRequestOf(sha: string): Promise<number | undefined> {
    const pulls = await this.#call(
      `find the pull request of commit ${sha.slice(0, 12)}`,
      PERMISSION.readPulls,
      () =>
        this.#octokit.paginate(this.#octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
          ...this.#repoParams,
          commit_sha: sha,
          per_page: 100,
        }),
    );
    // Open pull requests that merely contain the commit are not where it came from.
    const merged = pulls.filter((pull) => pull.merged_at !== null);
    return (merged.find((pull) => pull.merge_commit_sha === sha) ?? merged[0])?.number;
  }

  async reportCheck(report: CheckReport): Promise<void> {
    this.#assertWithin('check summary', report.summary, GITHUB_LIMITS.checkSummary);
    if (report.text !== undefined) this.#assertWithin('check text', report.text, GITHUB_LIMITS.checkText);
    const output = {
      title: report.title,
      summary: report.summary,
      ...(report.text === undefined ? {} : { text: report.text }),
    };
    const [first = [], ...rest] = chunk(
      report.annotations.map(toGitHubAnnotation),
      GITHUB_LIMITS.annotationsPerRequest,
    );
    const action = `report the check run "${report.name}"`;
    const { data: run } = await this.#call(action, PERMISSION.checks, () =>
      this.#octokit.rest.checks.create({
        ...this.#repoParams,
        name: report.name,
        head_sha: report.headSha,
        status: 'completed',
        conclusion: report.conclusion,
        completed_at: new Date().toISOString(),
        output: { ...output, annotations: first },
      }),
    );
    // GitHub takes 50 annotations per request; further updates append to the same run.
    for (const annotations of rest) {
      await this.#call(action, PERMISSION.checks, () =>
        this.#octokit.rest.checks.update({
          ...this.#repoParams,
          check_run_id: run.id,
          output: { ...output, annotations },
        }),
      );
    }
  }

  /**
   * A job with `environment:` gets a deployment from GitHub itself: the newest deployment of this
   * commit to this environment whose last status is not final is that job's, and gets Slipway's
   * statuses instead of a second deployment.
   */
  async findJobDeployment(environment: string, sha: string): Promise<string | undefined> {
    const action = `find the job's deployment to ${environment}`;
    const { data: deployments } = await this.#call(action, PERMISSION.deployments, () =>
      this.#octokit.rest.repos.listDeployments({ ...this.#repoParams, sha, environment, per_page: 10 }),
    );
    const newest = [...deployments].sort((a, b) => b.id - a.id)[0];
    if (!newest) return undefined;
    const { data: statuses } = await this.#call(action, PERMISSION.deployments, () =>
      this.#octokit.rest.repos.listDeploymentStatuses({
        ...this.#repoParams,
        deployment_id: newest.id,
        per_page: 1,
      }),
    );
    const state = statuses[0]?.state;
    const open = state === undefined || ['queued', 'pending', 'in_progress'].includes(state);
    return open ? String(newest.id) : undefined;
  }

  async createDeployment(record: DeploymentRecord): Promise<string> {
    const { data } = await this.#call(
      `create a deployment to ${record.environment}`,
      PERMISSION.deployments,
      () =>
        this.#octokit.rest.repos.createDeployment({
          ...this.#repoParams,
          // The exact commit; the branch goes in the payload. auto_merge and required_contexts
          // default to merging the default branch in and waiting for every status: both off.
          ref: record.sha,
          task: 'deploy',
          auto_merge: false,
          required_contexts: [],
          environment: record.environment,
          description: clip(record.description, GITHUB_LIMITS.description),
          transient_environment: false,
          production_environment: isProductionEnvironment(record.environment),
          payload: { ref: record.ref },
        }),
    );
    if (!('id' in data)) {
      throw new UserError(
        'platform',
        `GitHub did not create a deployment to ${record.environment}: ${data.message ?? 'no deployment returned'}`,
      );
    }
    return String(data.id);
  }

  async setDeploymentState(
    id: string,
    state: DeploymentState,
    description: string,
    logUrl?: string,
  ): Promise<void> {
    if (!/^\d+$/.test(id)) throw new InternalError(`not a GitHub deployment id: ${JSON.stringify(id)}`);
    await this.#call(`set the state of deployment ${id} to ${state}`, PERMISSION.deployments, () =>
      this.#octokit.rest.repos.createDeploymentStatus({
        ...this.#repoParams,
        deployment_id: Number(id),
        state,
        description: clip(description, GITHUB_LIMITS.description),
        ...(logUrl === undefined ? {} : { log_url: logUrl }),
      }),
    );
  }

  async setCommitStatus(
    sha: string,
    context: string,
    state: 'pending' | 'success' | 'failure' | 'error',
    description: string,
    targetUrl?: string,
  ): Promise<void> {
    await this.#call(`set the commit status "${context}"`, PERMISSION.statuses, () =>
      this.#octokit.rest.repos.createCommitStatus({
        ...this.#repoParams,
        sha,
        state,
        context,
        description: clip(description, GITHUB_LIMITS.description),
        ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
      }),
    );
  }

  async syncIssue(marker: string, title: string, body: string | undefined): Promise<string | undefined> {
    const action = `update the issue labelled ${this.#issueLabel}`;
    const open = await this.#call(action, PERMISSION.issues, () =>
      this.#octokit.paginate(this.#octokit.rest.issues.listForRepo, {
        ...this.#repoParams,
        state: 'open',
        labels: this.#issueLabel,
        per_page: 100,
      }),
    );
    const existing = open
      .filter((issue) => issue.pull_request === undefined && (issue.body ?? '').includes(marker))
      .sort((a, b) => a.number - b.number)[0];

    if (body === undefined) {
      if (!existing) return undefined;
      await this.#call(action, PERMISSION.issues, () =>
        this.#octokit.rest.issues.createComment({
          ...this.#repoParams,
          issue_number: existing.number,
          body: 'Slipway no longer finds anything to report here; closing.',
        }),
      );
      await this.#call(action, PERMISSION.issues, () =>
        this.#octokit.rest.issues.update({
          ...this.#repoParams,
          issue_number: existing.number,
          state: 'closed',
          state_reason: 'completed',
        }),
      );
      return undefined;
    }

    const full = this.#withMarker(body, marker, GITHUB_LIMITS.issueBody, 'issue body');
    if (!existing) {
      const { data } = await this.#call(action, PERMISSION.issues, () =>
        this.#octokit.rest.issues.create({
          ...this.#repoParams,
          title,
          body: full,
          labels: [this.#issueLabel],
        }),
      );
      return data.html_url;
    }
    if (existing.title !== title || existing.body !== full) {
      await this.#call(action, PERMISSION.issues, () =>
        this.#octokit.rest.issues.update({
          ...this.#repoParams,
          issue_number: existing.number,
          title,
          body: full,
        }),
      );
    }
    return existing.html_url;
  }

  /** Bodies normally carry the marker already; when one does not, it is put first. */
  #withMarker(body: string, marker: string, limit: number, what: string): string {
    const full = body.includes(marker) ? body : `${marker}\n${body}`;
    this.#assertWithin(what, full, limit);
    return full;
  }

  #assertWithin(what: string, text: string, limit: number): void {
    const length = charLength(text);
    if (length > limit)
      throw new InternalError(`${what} of ${length} characters exceeds GitHub's limit of ${limit}`);
  }

  /** Runs one API call, turning an HTTP failure into a UserError a user can act on. */
  async #call<T>(action: string, permission: Permission, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#describeFailure(error, action, permission);
    }
  }

  #describeFailure(error: unknown, action: string, permission: Permission): Error {
    if (!isHttpFailure(error)) {
      const text = error instanceof Error ? error.message : String(error);
      return new UserError(
        'platform',
        this.#redact(`GitHub API request failed while trying to ${action}: ${text}`),
      );
    }
    const data = (error.response?.data ?? {}) as { message?: unknown; errors?: unknown };
    const details = [typeof data.message === 'string' ? data.message : '', ...this.#errorDetails(data.errors)]
      .filter(Boolean)
      .join('; ');
    const requestId = header(error, 'x-github-request-id');
    const said = `${error.status}${details ? ` ${details}` : ''}${requestId ? `, request ${requestId}` : ''}`;
    let message: string;
    let hint: string | undefined;
    if (error.status === 401) {
      message = `GitHub rejected the token while trying to ${action} (${said})`;
      hint = 'the token is invalid, expired or revoked';
    } else if (
      (error.status === 403 || error.status === 429) &&
      header(error, 'x-ratelimit-remaining') === '0'
    ) {
      message = `GitHub's API rate limit is exhausted; could not ${action} (${said})`;
      hint = 'wait for the limit to reset or use a token with a higher limit';
    } else if (error.status === 403) {
      message = `GitHub refused to ${action} (${said}): the token needs the \`${permission}\` permission`;
      hint = `grant it in the workflow with \`permissions:\` → \`${permission}\`; pull requests from forks only get read access`;
    } else if (error.status === 404) {
      message = `GitHub answered 404 while trying to ${action}: ${this.#owner}/${this.#repo} does not exist or the token cannot see it (${said})`;
    } else if (error.status === 429 || error.status >= 500) {
      message = `GitHub is unavailable: could not ${action} after retrying (${said})`;
      hint = 're-run the job later';
    } else {
      message = `GitHub rejected the request to ${action} (${said})`;
    }
    return new UserError('platform', this.#redact(message), hint === undefined ? {} : { hint });
  }

  #errorDetails(errors: unknown): string[] {
    if (!Array.isArray(errors)) return [];
    return errors.map((entry: unknown) => {
      if (typeof entry === 'string') return entry;
      const e = entry as { message?: unknown; field?: unknown; code?: unknown };
      if (typeof e.message === 'string') return e.message;
      return [e.field, e.code].filter((part) => typeof part === 'string').join(' ');
    });
  }

  #redact(text: string): string {
    return this.#token === '' ? text : text.replaceAll(this.#token, '***');
  }
}
