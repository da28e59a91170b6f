/**
 * The ReviewPlatform on GitLab, through the REST API v4 with `fetch`: one sticky merge request
 * note per marker, commit statuses instead of check runs, deployments, and one tracking issue per
 * marker.
 *
 * Authentication: a project or group access token (or a personal one) in `PRIVATE-TOKEN`, from the
 * CI/CD variable SLIPWAY_GITLAB_TOKEN, with the `api` scope and at least the Developer role.
 * CI_JOB_TOKEN cannot be used: GitLab does not let job tokens post notes, set commit statuses or
 * open issues. The token never appears in an error message.
 *
 * Ownership: a note is ours when it carries the marker AND its author is the token's user
 * (`GET /user`, asked once). Notes are read through every page (`x-next-page`), oldest first.
 *
 * Deployments: when the CI job declares `environment:` (as `templates/slipway.yml` does), GitLab
 * records the deployment itself, so createDeployment returns '' and setDeploymentState does
 * nothing; `recordDeployments: true` uses the deployments API instead (for jobs without it).
 *
 * Requests failing with 429 or 5xx, or not reaching GitLab at all, are retried, 3 attempts in all,
 * with exponential backoff or the server's `retry-after` (a longer one than `maxRetryAfterMs` is
 * reported instead); other 4xx are never retried.
 */
import { InternalError, UserError } from '../core/errors.ts';
import type {
  Annotation,
  CheckReport,
  DeploymentRecord,
  DeploymentState,
  ReviewPlatform,
} from '../core/platform.ts';
import { formatLocation } from '../core/errors.ts';
import { networkMessage, requestGitLab, type GitLabReply, type GitLabRetryOptions } from './http.ts';

/** GitLab's documented limits, in characters. */
export const GITLAB_LIMITS = {
  /** doc/api/notes.md: a note body of at most 1,000,000 characters. */
  noteBody: 1_000_000,
  /** Issue descriptions: 1,048,576 characters. */
  issueDescription: 1_048_576,
  /** Commit status descriptions and names are stored as strings of 255 characters. */
  statusDescription: 255,
  statusName: 255,
} as const;

export type { GitLabRetryOptions };

export interface GitLabPlatformOptions {
  readonly token: string;
  /** `CI_API_V4_URL`, e.g. https://gitlab.com/api/v4 */
  readonly apiUrl: string;
  /** `CI_PROJECT_ID` or the URL-encoded path `group/project`. */
  readonly projectId: string;
  /** `CI_PROJECT_URL`, for links to notes. */
  readonly projectUrl?: string | undefined;
  /** Job URL for commit statuses (`CI_JOB_URL`). */
  readonly targetUrl?: string | undefined;
  /** Attach statuses to this pipeline (`CI_PIPELINE_ID`) instead of creating an external one. */
  readonly pipelineId?: number | undefined;
  /** The ref of statuses (`CI_COMMIT_REF_NAME`). */
  readonly ref?: string | undefined;
  /** Use the deployments API; false (default) when the job's `environment:` records deployments. */
  readonly recordDeployments?: boolean;
  /** Label of the issues `syncIssue` keeps; default `slipway-drift`. */
  readonly issueLabel?: string;
  /** Name of the variable the token came from, for error messages; default SLIPWAY_GITLAB_TOKEN. */
  readonly tokenVariable?: string;
  readonly retry?: GitLabRetryOptions;
  /** Replaceable for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
}

interface Note {
  readonly id: number;
  readonly body: string;
  readonly system: boolean;
  readonly author: { readonly id: number };
}

interface Issue {
  readonly iid: number;
  readonly title: string;
  readonly description: string | null;
  readonly web_url: string;
}

type Reply = GitLabReply;

/** An HTTP answer GitLab gave that is not a success. */
class HttpFailure extends Error {
  readonly status: number;
  readonly data: unknown;
  readonly headers: Headers;
  constructor(reply: Reply) {
    super(`HTTP ${reply.status}`);
    this.status = reply.status;
    this.data = reply.data;
    this.headers = reply.headers;
  }
}

/** Characters as GitLab counts them (code points). */
function charLength(text: string): number {
  return Array.from(text).length;
}

function clip(text: string, limit: number): string {
  const chars = Array.from(text);
  return chars.length <= limit ? text : `${chars.slice(0, limit - 1).join('')}…`;
}

/** GitLab's error bodies: `{message: "..."}`, `{message: {field: ["..."]}}` or `{error: "..."}`. */
function gitlabMessage(data: unknown): string {
  if (typeof data === 'string') return data.slice(0, 300);
  if (typeof data !== 'object' || data === null) return '';
  const body = data as { message?: unknown; error?: unknown; error_description?: unknown };
  const parts: string[] = [];
  if (typeof body.message === 'string') parts.push(body.message);
  else if (typeof body.message === 'object' && body.message !== null) {
    for (const [field, problems] of Object.entries(body.message as Record<string, unknown>))
      parts.push(`${field} ${Array.isArray(problems) ? problems.map(String).join(', ') : String(problems)}`);
  }
  if (typeof body.error === 'string') parts.push(body.error);
  if (typeof body.error_description === 'string') parts.push(body.error_description);
  return parts.join('; ').slice(0, 500);
}

/** A commit status description: the title, then the findings in brief. */
export function statusDescription(report: CheckReport): string {
  const findings = report.annotations.filter((a) => a.level !== 'notice');
  if (findings.length === 0) return clip(report.title, GITLAB_LIMITS.statusDescription);
  const first = findings[0] as Annotation;
  const text = `${report.title} — ${findings.length} finding${findings.length === 1 ? '' : 's'}: ${formatLocation(first.location)} ${first.message}${findings.length > 1 ? ' …' : ''}`;
  return clip(text.replace(/\s+/g, ' '), GITLAB_LIMITS.statusDescription);
}

const STATUS_STATE: Record<'pending' | 'success' | 'failure' | 'error', string> = {
  pending: 'pending',
  success: 'success',
  failure: 'failed',
  error: 'failed',
};

const DEPLOYMENT_STATUS: Record<DeploymentState, 'running' | 'success' | 'failed' | 'canceled'> = {
  queued: 'running',
  pending: 'running',
  in_progress: 'running',
  success: 'success',
  failure: 'failed',
  error: 'failed',
  inactive: 'canceled',
};

export class GitLabPlatform implements ReviewPlatform {
  readonly commentLimit = GITLAB_LIMITS.noteBody;
  readonly #token: string;
  readonly #api: string;
  readonly #project: string;
  readonly #options: GitLabPlatformOptions;
  readonly #fetch: typeof fetch;
  readonly #issueLabel: string;
  #me: Promise<number> | undefined;

  constructor(options: GitLabPlatformOptions) {
    this.#token = options.token;
    this.#api = options.apiUrl.replace(/\/+$/, '');
    this.#project = encodeURIComponent(options.projectId);
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#issueLabel = options.issueLabel ?? 'slipway-drift';
  }

  get #tokenVariable(): string {
    return this.#options.tokenVariable ?? 'SLIPWAY_GITLAB_TOKEN';
  }

  // ---- merge request notes ----

  async upsertComments(
    changeRequest: number,
    marker: string,
    bodies: readonly string[],
  ): Promise<{ urls: string[] }> {
    const wanted = bodies.map((body) => this.#withMarker(body, marker, GITLAB_LIMITS.noteBody, 'note'));
    const action = `update the notes on merge request !${changeRequest}`;
    const ours = await this.#ourNotes(changeRequest, marker, action);
    const notesPath = `/projects/${this.#project}/merge_requests/${changeRequest}/notes`;
    const urls: string[] = [];
    for (const [index, body] of wanted.entries()) {
      const existing = ours[index];
      if (existing && existing.body === body) {
        urls.push(this.#noteUrl(changeRequest, existing.id));
      } else if (existing) {
        await this.#request('PUT', `${notesPath}/${existing.id}`, action, { body: { body } });
        urls.push(this.#noteUrl(changeRequest, existing.id));
      } else {
        const created = (await this.#request('POST', notesPath, action, { body: { body } })).data as Note;
        urls.push(this.#noteUrl(changeRequest, created.id));
      }
    }
    for (const extra of ours.slice(wanted.length))
      await this.#request('DELETE', `${notesPath}/${extra.id}`, action);
    return { urls };
  }

  async readComments(changeRequest: number, marker: string): Promise<string[]> {
    const ours = await this.#ourNotes(
      changeRequest,
      marker,
      `read the notes on merge request !${changeRequest}`,
    );
    return ours.map((note) => note.body);
  }

  /** Our marked notes, oldest first, from every page. */
  async #ourNotes(changeRequest: number, marker: string, action: string): Promise<Note[]> {
    const me = await this.#whoAmI(action);
    const notes = await this.#all<Note>(
      `/projects/${this.#project}/merge_requests/${changeRequest}/notes`,
      { sort: 'asc', order_by: 'created_at' },
      action,
    );
    return notes
      .filter((n) => !n.system && n.author.id === me && n.body.includes(marker))
      .sort((a, b) => a.id - b.id);
  }

  #whoAmI(action: string): Promise<number> {
    this.#me ??= this.#request('GET', '/user', action).then((reply) => {
      const id = (reply.data as { id?: unknown }).id;
      if (typeof id !== 'number') throw new InternalError('GET /user answered without a numeric id');
      return id;
    });
    // A failed look-up is not cached: the next call asks again.
    void this.#me.catch(() => {
      this.#me = undefined;
    });
    return this.#me;
  }

  #noteUrl(changeRequest: number, id: number): string {
    const project = this.#options.projectUrl?.replace(/\/+$/, '');
    return project ? `${project}/-/merge_requests/${changeRequest}#note_${id}` : `note ${id}`;
  }

  // ---- the merge request of a commit ----

  async changeRequestOf(sha: string): Promise<number | undefined> {
    const list = await this.#all<{
      iid: number;
      state: string;
      merge_commit_sha?: string | null;
      squash_commit_sha?: string | null;
    }>(
      `/projects/${this.#project}/repository/commits/${encodeURIComponent(sha)}/merge_requests`,
      {},
      `find the merge request of commit ${sha.slice(0, 12)}`,
    );
    // Open merge requests that merely contain the commit are not where it came from.
    const merged = list.filter((mr) => mr.state === 'merged');
    return (merged.find((mr) => mr.merge_commit_sha === sha || mr.squash_commit_sha === sha) ?? merged[0])
      ?.iid;
  }

  // ---- commit statuses ----

  async reportCheck(report: CheckReport): Promise<void> {
    await this.#postStatus(
      report.headSha,
      report.name,
      report.conclusion === 'failure' ? 'failed' : 'success',
      statusDescription(report),
      this.#options.targetUrl,
    );
  }

  async setCommitStatus(
    sha: string,
    context: string,
    state: 'pending' | 'success' | 'failure' | 'error',
    description: string,
    targetUrl?: string,
  ): Promise<void> {
    await this.#postStatus(
      sha,
      context,
      STATUS_STATE[state],
      description,
      targetUrl ?? this.#options.targetUrl,
    );
  }

  async #postStatus(
    sha: string,
    name: string,
    state: string,
    description: string,
    targetUrl: string | undefined,
  ): Promise<void> {
    const action = `set the commit status "${name}"`;
    try {
      await this.#request('POST', `/projects/${this.#project}/statuses/${encodeURIComponent(sha)}`, action, {
        body: {
          state,
          name: clip(name, GITLAB_LIMITS.statusName),
          description: clip(description, GITLAB_LIMITS.statusDescription),
          ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
          ...(this.#options.ref === undefined ? {} : { ref: this.#options.ref }),
          ...(this.#options.pipelineId === undefined ? {} : { pipeline_id: this.#options.pipelineId }),
        },
      });
    } catch (error) {
      // GitLab answers 400 "Cannot transition status via :run from :running" when a pending or
      // running status is set to the state it already has: nothing to change.
      if (error instanceof UserError && /Cannot transition status/i.test(error.message)) return;
      throw error;
    }
  }

  // ---- deployments ----

  async createDeployment(record: DeploymentRecord): Promise<string> {
    if (this.#options.recordDeployments !== true) return '';
    const reply = await this.#request(
      'POST',
      `/projects/${this.#project}/deployments`,
      `create a deployment to ${record.environment}`,
      {
        body: {
          environment: record.environment,
          sha: record.sha,
          ref: record.ref,
          tag: false,
          status: 'running',
        },
      },
    );
    const id = (reply.data as { id?: unknown }).id;
    if (typeof id !== 'number')
      throw new UserError('platform', `GitLab did not create a deployment to ${record.environment}`);
    return String(id);
  }

  async setDeploymentState(
    id: string,
    state: DeploymentState,
    _description?: string,
    _logUrl?: string,
  ): Promise<void> {
    if (id === '') return; // recorded by the job's `environment:` keyword
    if (!/^\d+$/.test(id)) throw new InternalError(`not a GitLab deployment id: ${JSON.stringify(id)}`);
    await this.#request(
      'PUT',
      `/projects/${this.#project}/deployments/${id}`,
      `set the status of deployment ${id} to ${DEPLOYMENT_STATUS[state]}`,
      { body: { status: DEPLOYMENT_STATUS[state] } },
    );
  }

  // ---- drift issues ----

  async syncIssue(marker: string, title: string, body: string | undefined): Promise<string | undefined> {
    const action = `update the issue labelled ${this.#issueLabel}`;
    const issuesPath = `/projects/${this.#project}/issues`;
    const open = await this.#all<Issue>(
      issuesPath,
      { state: 'opened', labels: this.#issueLabel, order_by: 'created_at', sort: 'asc' },
      action,
    );
    const existing = open
      .filter((issue) => (issue.description ?? '').includes(marker))
      .sort((a, b) => a.iid - b.iid)[0];
    if (body === undefined) {
      if (!existing) return undefined;
      await this.#request('POST', `${issuesPath}/${existing.iid}/notes`, action, {
        body: { body: 'Slipway no longer finds anything to report here; closing.' },
      });
      await this.#request('PUT', `${issuesPath}/${existing.iid}`, action, { body: { state_event: 'close' } });
      return undefined;
    }
    const description = this.#withMarker(body, marker, GITLAB_LIMITS.issueDescription, 'issue description');
    if (!existing) {
      const created = await this.#request('POST', issuesPath, action, {
        body: { title, description, labels: [this.#issueLabel] },
      });
      return (created.data as Issue).web_url;
    }
    if (existing.title !== title || existing.description !== description)
      await this.#request('PUT', `${issuesPath}/${existing.iid}`, action, { body: { title, description } });
    return existing.web_url;
  }

  // ---- HTTP ----

  /** Bodies normally carry the marker already; when one does not, it is put first. */
  #withMarker(body: string, marker: string, limit: number, what: string): string {
    const full = body.includes(marker) ? body : `${marker}\n${body}`;
    const length = charLength(full);
    if (length > limit)
      throw new InternalError(`${what} of ${length} characters exceeds GitLab's limit of ${limit}`);
    return full;
  }

  /** Every page of a list, following `x-next-page` (100 per page, at most 1,000 pages). */
  async #all<T>(path: string, query: Record<string, string>, action: string): Promise<T[]> {
    const items: T[] = [];
    let page = '1';
    for (let pages = 0; pages < 1000; pages++) {
      const reply = await this.#request('GET', path, action, { query: { ...query, per_page: '100', page } });
      if (!Array.isArray(reply.data))
        throw new InternalError(`GitLab answered ${path} with something not a list`);
      items.push(...(reply.data as T[]));
      const next = reply.headers.get('x-next-page');
      if (!next) return items;
      page = next;
    }
    throw new UserError('platform', `GitLab kept paging ${path} past 1,000 pages while trying to ${action}`);
  }

  async #request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    action: string,
    options: { body?: unknown; query?: Record<string, string> } = {},
  ): Promise<Reply> {
    const url = new URL(`${this.#api}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const { reply, error } = await requestGitLab(
      {
        method,
        url,
        token: this.#token,
        body: options.body,
        fetch: this.#fetch,
        ...(this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs }),
      },
      this.#options.retry,
    );
    if (reply && reply.status < 400) return reply;
    if (reply) throw this.#describeFailure(new HttpFailure(reply), action);
    throw new UserError(
      'platform',
      this.#redact(
        `could not reach GitLab at ${this.#api} while trying to ${action}: ${networkMessage(error)}`,
      ),
      { hint: 'check CI_API_V4_URL and the network from the runner' },
    );
  }

  #describeFailure(failure: HttpFailure, action: string): UserError {
    const text = gitlabMessage(failure.data);
    const said = text.startsWith(String(failure.status))
      ? text
      : `${failure.status}${text ? ` ${text}` : ''}`;
    const jobToken = `CI_JOB_TOKEN cannot be used: GitLab does not let job tokens post notes, set commit statuses or open issues`;
    let message: string;
    let hint: string | undefined;
    if (failure.status === 401) {
      message = `GitLab rejected the token in ${this.#tokenVariable} while trying to ${action} (${said})`;
      hint = `the token is invalid, expired or revoked; use a project or group access token with the \`api\` scope (${jobToken})`;
    } else if (failure.status === 403) {
      message = `GitLab refused to ${action} (${said}): the token in ${this.#tokenVariable} needs the \`api\` scope and at least the Developer role in the project`;
      hint = `create a project access token with the \`api\` scope and the Developer role, and store it as a masked CI/CD variable ${this.#tokenVariable} (${jobToken})`;
    } else if (failure.status === 404) {
      message = `GitLab answered 404 while trying to ${action}: project ${decodeURIComponent(this.#project)} or the object does not exist, or the token in ${this.#tokenVariable} cannot see it (${said})`;
    } else if (failure.status === 429 || failure.status >= 500) {
      message = `GitLab is unavailable: could not ${action} after retrying (${said})`;
      hint = 're-run the job later';
    } else {
      message = `GitLab rejected the request to ${action} (${said})`;
    }
    return new UserError(
      'platform',
      this.#redact(message),
      hint === undefined ? {} : { hint: this.#redact(hint) },
    );
  }

  #redact(text: string): string {
    if (this.#token === '') return text;
    return text.replaceAll(this.#token, '***').replaceAll(encodeURIComponent(this.#token), '***');
  }
}
