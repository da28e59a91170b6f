/**
 * A local stand-in for the GitHub REST API endpoints Slipway uses, strict where GitHub is strict.
 *
 * Every request is checked against GitHub's published OpenAPI description (see
 * openapi-validator.ts): the method and path must name an operation, path and query parameters
 * must be declared and well-typed, and the JSON body must satisfy the operation's request schema.
 * On top of the schema it enforces GitHub's documented limits (comment and issue bodies ≤ 65,536
 * characters, descriptions ≤ 140, a conclusion for completed check runs, commit SHAs of 40 hex
 * digits...). A request breaking either gets a 422 (404 for an unknown route) and is recorded in
 * `violations`; so is an endpoint the fake does not implement (501) and any response of the fake
 * that does not satisfy the published response schema (a bug in the fake).
 *
 * State lives in memory for one repository and is inspectable through `state`. Writes are
 * attributed to `botLogin` (`github-actions[bot]` by default), like the Actions GITHUB_TOKEN.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { OpenApiValidator, overlay, type OperationMatch } from './openapi-validator.ts';
import { closeServer, listenLocal } from './local-server.ts';
import { FakeGitData } from './github-git.ts';

export const COMMENT_BODY_LIMIT = 65536;
export const DESCRIPTION_LIMIT = 140;

export interface FakeGitHubOptions {
  readonly token?: string;
  readonly owner?: string;
  readonly repo?: string;
  /** Author of everything created with the token. */
  readonly botLogin?: string;
  /** Pull requests that exist from the start (comments need an existing issue or PR). */
  readonly pullRequests?: readonly number[];
}

export type ViolationKind = 'schema' | 'limit' | 'unimplemented' | 'response';

export interface Violation {
  readonly kind: ViolationKind;
  readonly method: string;
  readonly path: string;
  readonly operationId: string | undefined;
  readonly reasons: readonly string[];
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  operationId: string | undefined;
  body: unknown;
  status: number;
}

export interface CommentRecord {
  readonly id: number;
  readonly issueNumber: number;
  body: string;
  readonly login: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface AnnotationRecord {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly annotation_level: 'notice' | 'warning' | 'failure';
  readonly message: string;
  readonly title?: string;
}

export interface CheckRunRecord {
  readonly id: number;
  name: string;
  readonly headSha: string;
  status: string;
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  /** Accumulated across the create and every update, as GitHub does. */
  readonly annotations: AnnotationRecord[];
  readonly startedAt: string;
  completedAt: string | null;
}

export interface DeploymentStatusRecord {
  readonly id: number;
  readonly state: string;
  readonly description: string;
  readonly logUrl: string;
  readonly environmentUrl: string;
  readonly createdAt: string;
}

export interface DeploymentRecordState {
  readonly id: number;
  readonly ref: string;
  readonly sha: string;
  readonly task: string;
  readonly environment: string;
  readonly description: string | null;
  readonly payload: unknown;
  readonly autoMerge: boolean;
  readonly requiredContexts: readonly string[] | undefined;
  readonly transientEnvironment: boolean;
  readonly productionEnvironment: boolean;
  readonly createdAt: string;
  readonly statuses: DeploymentStatusRecord[];
}

export interface CommitStatusRecord {
  readonly id: number;
  readonly sha: string;
  readonly state: string;
  readonly context: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  readonly createdAt: string;
}

export interface IssueRecord {
  readonly number: number;
  readonly id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  readonly login: string;
  readonly isPullRequest: boolean;
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface FakeState {
  readonly comments: CommentRecord[];
  readonly checkRuns: CheckRunRecord[];
  readonly deployments: DeploymentRecordState[];
  readonly commitStatuses: CommitStatusRecord[];
  /** Issues and pull requests (they share numbers, as on GitHub). */
  readonly issues: IssueRecord[];
}

export interface Fault {
  readonly status: number;
  /** How many matching requests fail; default 1. */
  readonly times?: number;
  /** Only requests of this operation (e.g. `checks/create`); default any. */
  readonly operationId?: string;
  /** Seconds, sent as the `retry-after` header. */
  readonly retryAfter?: number;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A rejection by GitHub's own rules (beyond the schema): answered 422 and recorded. */
class LimitError extends Error {
  readonly resource: string;
  readonly field: string;
  constructor(resource: string, field: string, message: string) {
    super(message);
    this.resource = resource;
    this.field = field;
  }
}

class NotFound extends Error {}

type Body = Record<string, unknown>;
type Handler = (match: OperationMatch, body: Body, url: URL) => Reply;

const SHA = /^[0-9a-f]{40}$/;
const PERMISSION_FOR: Record<string, string> = {
  issues: 'issues=write; pull_requests=write',
  checks: 'checks=write',
  repos: 'deployments=write; statuses=write',
};

let validator: OpenApiValidator | undefined;

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Characters as GitHub and JSON Schema count them (code points). */
function length(value: string): number {
  return Array.from(value).length;
}

/** An issue title: a string or, per the schema, an integer. */
function titleOf(value: unknown): string | undefined {
  return typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
}

export class FakeGitHub {
  readonly state: FakeState = {
    comments: [],
    checkRuns: [],
    deployments: [],
    commitStatuses: [],
    issues: [],
  };
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  readonly botLogin: string;
  /** Refs, commits, trees and pull requests made through the Git data and pulls endpoints. */
  readonly git: FakeGitData;
  url = '';

  readonly #server: Server;
  readonly #validator: OpenApiValidator;
  readonly #faults: { fault: Fault; remaining: number }[] = [];
  readonly #denied = new Set<string>();
  readonly #handlers: Record<string, Handler>;
  readonly #merged = new Map<number, { mergeCommitSha: string; mergedAt: string }>();
  readonly #pullsByCommit = new Map<string, number[]>();
  #nextId = 1000;

  constructor(options: FakeGitHubOptions = {}) {
    this.token = options.token ?? 'test-token';
    this.owner = options.owner ?? 'acme';
    this.repo = options.repo ?? 'deploys';
    this.botLogin = options.botLogin ?? 'github-actions[bot]';
    validator ??= new OpenApiValidator();
    this.#validator = validator;
    for (const number of options.pullRequests ?? [1]) this.addPullRequest(number);
    this.git = new FakeGitData({
      sample: (component, top) => overlay(this.#validator.sampleComponent(component), top),
      user: (login) => this.#user(login),
      nextNumber: () => {
        // Pull requests share their numbers with issues, and take comments as issues do.
        const number = Math.max(0, ...this.state.issues.map((i) => i.number)) + 1;
        this.addPullRequest(number);
        return number;
      },
      botLogin: this.botLogin,
      owner: this.owner,
      repoUrl: () => this.#repoUrl,
      htmlUrl: () => this.#htmlUrl,
      notFound: () => new NotFound(),
      invalid: (field, message) => new LimitError('PullRequest', field, message),
    });
    this.#server = createServer((request, response) => {
      this.#serve(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `fake crashed: ${String(error)}` }));
      });
    });
    this.#handlers = {
      'issues/list-comments': (m, _b, url) => this.#listComments(m, url),
      'issues/create-comment': (m, b) => this.#createComment(m, b),
      'issues/update-comment': (m, b) => this.#updateComment(m, b),
      'issues/delete-comment': (m) => this.#deleteComment(m),
      'issues/list-for-repo': (m, _b, url) => this.#listIssues(m, url),
      'issues/get': (m) => ({ status: 200, body: this.#issueJson(this.#issue(m)) }),
      'issues/create': (_m, b) => this.#createIssue(b),
      'issues/update': (m, b) => this.#updateIssue(m, b),
      'checks/create': (_m, b) => this.#createCheckRun(b),
      'checks/update': (m, b) => this.#updateCheckRun(m, b),
      'checks/get': (m) => ({ status: 200, body: this.#checkRunJson(this.#checkRun(m)) }),
      'repos/create-deployment': (_m, b) => this.#createDeployment(b),
      'repos/create-deployment-status': (m, b) => this.#createDeploymentStatus(m, b),
      'repos/list-deployments': (m, _b, url) => this.#listDeployments(m, url),
      'repos/list-deployment-statuses': (m, _b, url) => this.#listDeploymentStatuses(m, url),
      'repos/create-commit-status': (m, b) => this.#createCommitStatus(m, b),
      'repos/list-pull-requests-associated-with-commit': (m, _b, url) => this.#pullsOfCommit(m, url),
      ...this.git.handlers(),
    };
  }

  /** Starts listening on 127.0.0.1 with a free port; `url` is then the API base URL. */
  async listen(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.#server);
  }

  /** Returns the violations recorded so far and forgets them (for tests provoking them). */
  takeViolations(): Violation[] {
    return this.violations.splice(0);
  }

  /** The next `times` requests (of `operationId`, if given) get `status` instead of an answer. */
  failNext(fault: Fault): void {
    this.#faults.push({ fault, remaining: fault.times ?? 1 });
  }

  /** Answers an operation with 403 "Resource not accessible by integration" from now on. */
  deny(operationId: string): void {
    this.#denied.add(operationId);
  }

  /**
   * What GitHub does when a job with `environment:` starts: a deployment of the run's commit to
   * that environment, created by github-actions, already in progress.
   */
  startJobDeployment(environment: string, sha: string, ref = 'refs/heads/main'): DeploymentRecordState {
    const deployment: DeploymentRecordState = {
      id: this.#id(),
      ref,
      sha,
      task: 'deploy',
      environment,
      description: null,
      payload: {},
      autoMerge: false,
      requiredContexts: undefined,
      transientEnvironment: false,
      productionEnvironment: environment === 'production',
      createdAt: now(),
      statuses: [],
    };
    deployment.statuses.push({
      id: this.#id(),
      state: 'in_progress',
      description: '',
      logUrl: '',
      environmentUrl: '',
      createdAt: now(),
    });
    this.state.deployments.push(deployment);
    return deployment;
  }

  addPullRequest(number: number): void {
    this.state.issues.push({
      number,
      id: this.#id(),
      title: `Pull request ${number}`,
      body: null,
      state: 'open',
      stateReason: null,
      labels: [],
      login: 'octocat',
      isPullRequest: true,
      createdAt: now(),
      updatedAt: now(),
      closedAt: null,
    });
  }

  /**
   * Marks pull request `number` merged by `mergeCommitSha`: GitHub then associates the merge
   * commit (and the branch's `commits`) with it, as GET …/commits/{sha}/pulls shows.
   */
  mergePullRequest(number: number, mergeCommitSha: string, commits: readonly string[] = []): void {
    this.#merged.set(number, { mergeCommitSha, mergedAt: now() });
    for (const sha of [mergeCommitSha, ...commits]) this.associateCommit(sha, number);
  }

  /** A commit that is part of pull request `number` (e.g. pushed to its open branch). */
  associateCommit(sha: string, number: number): void {
    this.#issueByNumber(number);
    const numbers = this.#pullsByCommit.get(sha) ?? [];
    if (!numbers.includes(number)) numbers.push(number);
    this.#pullsByCommit.set(sha, numbers);
  }

  /** Adds comments as if written by someone (by default another user, not the bot). */
  seedComments(issueNumber: number, bodies: readonly string[], login = 'octocat'): CommentRecord[] {
    this.#issueByNumber(issueNumber);
    return bodies.map((body) => {
      const comment: CommentRecord = {
        id: this.#id(),
        issueNumber,
        body,
        login,
        createdAt: now(),
        updatedAt: now(),
      };
      this.state.comments.push(comment);
      return comment;
    });
  }

  seedIssue(issue: {
    title: string;
    body: string;
    labels?: string[];
    state?: 'open' | 'closed';
    login?: string;
  }): IssueRecord {
    const record = this.#newIssue(issue.title, issue.body, issue.labels ?? [], issue.login ?? 'octocat');
    if (issue.state === 'closed') {
      record.state = 'closed';
      record.closedAt = now();
    }
    return record;
  }

  /** Comments of one issue or pull request, in order. */
  commentsOn(issueNumber: number): CommentRecord[] {
    return this.state.comments.filter((c) => c.issueNumber === issueNumber);
  }

  #id(): number {
    return this.#nextId++;
  }

  get #repoUrl(): string {
    return `${this.url}/repos/${this.owner}/${this.repo}`;
  }

  get #htmlUrl(): string {
    return `https://github.com/${this.owner}/${this.repo}`;
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.url);
    const path = `${url.pathname}${url.search}`;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = { method, path, operationId: undefined, body: undefined, status: 0 };
    const send = (reply: Reply): void => {
      recorded.status = reply.status;
      const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
      response.writeHead(reply.status, {
        ...(payload ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...reply.headers,
      });
      response.end(payload);
    };
    this.requests.push(recorded);

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.#violate('schema', method, path, undefined, ['request body is not JSON']);
        send({ status: 400, body: { message: 'Problems parsing JSON' } });
        return;
      }
    }
    recorded.body = body;

    const authorization = request.headers.authorization ?? '';
    const presented = /^(?:token|bearer)\s+(.+)$/i.exec(authorization)?.[1];
    if (presented !== this.token) {
      send({
        status: 401,
        body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
      });
      return;
    }

    const check = this.#validator.checkRequest(method, url, body, raw.length > 0);
    const match = check.match;
    recorded.operationId = match?.operationId;
    if (!match) {
      this.#violate('schema', method, path, undefined, check.reasons);
      send({ status: 404, body: { message: 'Not Found', reasons: check.reasons } });
      return;
    }

    const fault = this.#faults.find(
      (f) =>
        f.remaining > 0 && (f.fault.operationId === undefined || f.fault.operationId === match.operationId),
    );
    if (fault) {
      fault.remaining--;
      const headers: Record<string, string> =
        fault.fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.fault.retryAfter) };
      send({
        status: fault.fault.status,
        body: { message: fault.fault.status === 429 ? 'Too Many Requests' : 'Service Unavailable' },
        headers,
      });
      return;
    }

    if (this.#denied.has(match.operationId)) {
      const category = match.operationId.split('/')[0] ?? '';
      send({
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest',
        },
        headers: { 'x-accepted-github-permissions': PERMISSION_FOR[category] ?? '' },
      });
      return;
    }

    if (check.reasons.length > 0) {
      this.#violate('schema', method, path, match.operationId, check.reasons);
      send({
        status: 422,
        body: {
          message: 'Invalid request.',
          errors: check.reasons,
          documentation_url: 'https://docs.github.com/rest',
        },
      });
      return;
    }

    if (match.pathParams.owner !== this.owner || match.pathParams.repo !== this.repo) {
      send({
        status: 404,
        body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
      });
      return;
    }

    const handler = this.#handlers[match.operationId];
    if (!handler) {
      this.#violate('unimplemented', method, path, match.operationId, [
        `the fake does not implement ${match.operationId}`,
      ]);
      send({ status: 501, body: { message: `not implemented by the fake: ${match.operationId}` } });
      return;
    }

    let reply: Reply;
    try {
      reply = handler(match, (body ?? {}) as Body, url);
    } catch (error) {
      if (error instanceof NotFound) {
        send({
          status: 404,
          body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
        });
        return;
      }
      if (!(error instanceof LimitError)) throw error;
      this.#violate('limit', method, path, match.operationId, [`${error.field}: ${error.message}`]);
      send({
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [{ resource: error.resource, code: 'custom', field: error.field, message: error.message }],
          documentation_url: 'https://docs.github.com/rest',
        },
      });
      return;
    }

    const schema = this.#validator.responseSchema(match.operation, reply.status);
    if (schema && reply.body !== undefined) {
      const problems = this.#validator.validate(schema, reply.body, 'response');
      if (problems.length > 0) this.#violate('response', method, path, match.operationId, problems);
    }
    send(reply);
  }

  #violate(
    kind: ViolationKind,
    method: string,
    path: string,
    operationId: string | undefined,
    reasons: readonly string[],
  ): void {
    this.violations.push({ kind, method, path, operationId, reasons });
  }

  /** Pages `items` like GitHub: `per_page` (default 30, at most 100), `page`, and a Link header. */
  #page<T>(
    items: readonly T[],
    match: OperationMatch,
    url: URL,
  ): { items: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number(match.query.per_page ?? 30)));
    const page = Math.max(1, Number(match.query.page ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string): string => {
      const target = new URL(url.pathname, this.url);
      for (const [key, value] of url.searchParams) target.searchParams.set(key, value);
      target.searchParams.set('per_page', String(perPage));
      target.searchParams.set('page', String(n));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    return {
      items: items.slice((page - 1) * perPage, page * perPage),
      headers: links.length > 0 ? { link: links.join(', ') } : {},
    };
  }

  #user(login: string): Record<string, unknown> {
    const id = Number.parseInt(createHash('sha1').update(login).digest('hex').slice(0, 8), 16);
    return overlay(this.#validator.sampleComponent('simple-user'), {
      login,
      id,
      node_id: nodeId('User', id),
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      url: `${this.url}/users/${encodeURIComponent(login)}`,
      html_url: `https://github.com/${encodeURIComponent(login)}`,
    }) as Record<string, unknown>;
  }

  #issueByNumber(number: number): IssueRecord {
    const issue = this.state.issues.find((i) => i.number === number);
    if (!issue) throw new NotFound();
    return issue;
  }

  #issue(match: OperationMatch): IssueRecord {
    return this.#issueByNumber(Number(match.pathParams.issue_number));
  }

  // ---- issue and pull-request comments ----

  #commentJson(comment: CommentRecord): unknown {
    return overlay(this.#validator.sampleComponent('issue-comment'), {
      id: comment.id,
      node_id: nodeId('IssueComment', comment.id),
      url: `${this.#repoUrl}/issues/comments/${comment.id}`,
      html_url: `${this.#htmlUrl}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${this.#repoUrl}/issues/${comment.issueNumber}`,
      body: comment.body,
      user: this.#user(comment.login),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: comment.login === this.botLogin ? 'NONE' : 'MEMBER',
    });
  }

  #checkCommentBody(body: string): void {
    if (length(body) > COMMENT_BODY_LIMIT) {
      throw new LimitError(
        'IssueComment',
        'body',
        `Body is too long (maximum is ${COMMENT_BODY_LIMIT} characters)`,
      );
    }
    if (body.trim() === '') throw new LimitError('IssueComment', 'body', "Body can't be blank");
  }

  #comment(match: OperationMatch): CommentRecord {
    const comment = this.state.comments.find((c) => c.id === match.pathParams.comment_id);
    if (!comment) throw new NotFound();
    return comment;
  }

  #listComments(match: OperationMatch, url: URL): Reply {
    const issue = this.#issue(match);
    const page = this.#page(this.commentsOn(issue.number), match, url);
    return { status: 200, body: page.items.map((c) => this.#commentJson(c)), headers: page.headers };
  }

  // ---- pull requests of a commit ----

  #pullsOfCommit(match: OperationMatch, url: URL): Reply {
    const sha = String(match.pathParams.commit_sha);
    const pulls = (this.#pullsByCommit.get(sha) ?? []).map((number) =>
      this.#pullJson(this.#issueByNumber(number)),
    );
    const page = this.#page(pulls, match, url);
    return { status: 200, body: page.items, headers: page.headers };
  }

  #pullJson(pull: IssueRecord): unknown {
    const merged = this.#merged.get(pull.number);
    return overlay(this.#validator.sampleComponent('pull-request-simple'), {
      id: pull.id,
      node_id: nodeId('PullRequest', pull.id),
      number: pull.number,
      url: `${this.#repoUrl}/pulls/${pull.number}`,
      html_url: `${this.#htmlUrl}/pull/${pull.number}`,
      state: merged ? 'closed' : pull.state,
      title: pull.title,
      user: this.#user(pull.login),
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: merged?.mergedAt ?? null,
      merged_at: merged?.mergedAt ?? null,
      merge_commit_sha: merged?.mergeCommitSha ?? null,
    });
  }

  #createComment(match: OperationMatch, body: Body): Reply {
    const issue = this.#issue(match);
    this.#checkCommentBody(text(body.body));
    const comment: CommentRecord = {
      id: this.#id(),
      issueNumber: issue.number,
      body: text(body.body),
      login: this.botLogin,
      createdAt: now(),
      updatedAt: now(),
    };
    this.state.comments.push(comment);
    const json = this.#commentJson(comment);
    return {
      status: 201,
      body: json,
      headers: { location: `${this.#repoUrl}/issues/comments/${comment.id}` },
    };
  }

  #updateComment(match: OperationMatch, body: Body): Reply {
    const comment = this.#comment(match);
    this.#checkCommentBody(text(body.body));
    if (comment.login !== this.botLogin) throw new NotFound();
    comment.body = text(body.body);
    comment.updatedAt = now();
    return { status: 200, body: this.#commentJson(comment) };
  }

  #deleteComment(match: OperationMatch): Reply {
    const comment = this.#comment(match);
    if (comment.login !== this.botLogin) throw new NotFound();
    this.state.comments.splice(this.state.comments.indexOf(comment), 1);
    return { status: 204 };
  }

  // ---- issues ----

  #issueJson(issue: IssueRecord): unknown {
    return overlay(this.#validator.sampleComponent('issue'), {
      id: issue.id,
      node_id: nodeId('Issue', issue.id),
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      state_reason: issue.stateReason,
      labels: issue.labels.map((name) => ({ name, color: 'ededed', default: false })),
      user: this.#user(issue.login),
      comments: this.commentsOn(issue.number).length,
      url: `${this.#repoUrl}/issues/${issue.number}`,
      repository_url: this.#repoUrl,
      labels_url: `${this.#repoUrl}/issues/${issue.number}/labels{/name}`,
      comments_url: `${this.#repoUrl}/issues/${issue.number}/comments`,
      events_url: `${this.#repoUrl}/issues/${issue.number}/events`,
      html_url: `${this.#htmlUrl}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      ...(issue.isPullRequest
        ? {
            pull_request: {
              url: `${this.#repoUrl}/pulls/${issue.number}`,
              html_url: `${this.#htmlUrl}/pull/${issue.number}`,
              diff_url: `${this.#htmlUrl}/pull/${issue.number}.diff`,
              patch_url: `${this.#htmlUrl}/pull/${issue.number}.patch`,
              merged_at: null,
            },
          }
        : {}),
    });
  }

  #checkIssueText(title: string | undefined, body: string | undefined): void {
    if (title !== undefined && title.trim() === '')
      throw new LimitError('Issue', 'title', "Title can't be blank");
    if (title !== undefined && length(title) > 256)
      throw new LimitError('Issue', 'title', 'Title is too long (maximum is 256 characters)');
    if (body !== undefined && length(body) > COMMENT_BODY_LIMIT) {
      throw new LimitError('Issue', 'body', `Body is too long (maximum is ${COMMENT_BODY_LIMIT} characters)`);
    }
  }

  #newIssue(title: string, body: string, labels: string[], login: string): IssueRecord {
    const number = Math.max(0, ...this.state.issues.map((i) => i.number)) + 1;
    const issue: IssueRecord = {
      number,
      id: this.#id(),
      title,
      body,
      state: 'open',
      stateReason: null,
      labels,
      login,
      isPullRequest: false,
      createdAt: now(),
      updatedAt: now(),
      closedAt: null,
    };
    this.state.issues.push(issue);
    return issue;
  }

  #listIssues(match: OperationMatch, url: URL): Reply {
    const state = String(match.query.state ?? 'open');
    const labels =
      match.query.labels === undefined ? [] : String(match.query.labels).split(',').filter(Boolean);
    const sort = String(match.query.sort ?? 'created');
    const direction = String(match.query.direction ?? 'desc');
    const selected = this.state.issues
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => labels.every((label) => i.labels.includes(label)))
      .sort((a, b) => {
        const key = sort === 'updated' ? 'updatedAt' : 'createdAt';
        const order = a[key].localeCompare(b[key]) || a.number - b.number;
        return direction === 'asc' ? order : -order;
      });
    const page = this.#page(selected, match, url);
    return { status: 200, body: page.items.map((i) => this.#issueJson(i)), headers: page.headers };
  }

  #labelNames(labels: unknown): string[] {
    if (!Array.isArray(labels)) return [];
    return labels
      .map((label: unknown) => (typeof label === 'string' ? label : text((label as Body).name)))
      .filter(Boolean);
  }

  #createIssue(body: Body): Reply {
    const title = titleOf(body.title) ?? '';
    const issueBody = body.body === undefined ? '' : text(body.body);
    this.#checkIssueText(title, issueBody);
    const issue = this.#newIssue(title, issueBody, this.#labelNames(body.labels), this.botLogin);
    return {
      status: 201,
      body: this.#issueJson(issue),
      headers: { location: `${this.#repoUrl}/issues/${issue.number}` },
    };
  }

  #updateIssue(match: OperationMatch, body: Body): Reply {
    const issue = this.#issue(match);
    const title = titleOf(body.title);
    const issueBody = typeof body.body === 'string' ? body.body : undefined;
    this.#checkIssueText(title, issueBody);
    if (title !== undefined) issue.title = title;
    if (body.body !== undefined) issue.body = issueBody ?? null;
    if (body.labels !== undefined) issue.labels = this.#labelNames(body.labels);
    if (body.state === 'closed' && issue.state === 'open') {
      issue.state = 'closed';
      issue.closedAt = now();
      issue.stateReason = typeof body.state_reason === 'string' ? body.state_reason : 'completed';
    } else if (body.state === 'open' && issue.state === 'closed') {
      issue.state = 'open';
      issue.closedAt = null;
      issue.stateReason = 'reopened';
    }
    issue.updatedAt = now();
    return { status: 200, body: this.#issueJson(issue) };
  }

  // ---- check runs ----

  #checkRunJson(run: CheckRunRecord): unknown {
    return overlay(this.#validator.sampleComponent('check-run'), {
      id: run.id,
      node_id: nodeId('CheckRun', run.id),
      head_sha: run.headSha,
      name: run.name,
      url: `${this.#repoUrl}/check-runs/${run.id}`,
      html_url: `${this.#htmlUrl}/runs/${run.id}`,
      details_url: `${this.#htmlUrl}/runs/${run.id}`,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      check_suite: { id: 1 },
      output: {
        title: run.title,
        summary: run.summary,
        text: run.text,
        annotations_count: run.annotations.length,
        annotations_url: `${this.#repoUrl}/check-runs/${run.id}/annotations`,
      },
    });
  }

  #checkRun(match: OperationMatch): CheckRunRecord {
    const run = this.state.checkRuns.find((r) => r.id === match.pathParams.check_run_id);
    if (!run) throw new NotFound();
    return run;
  }

  /** GitHub's rules for a check run request beyond the schema. */
  #checkRunRules(body: Body, creating: boolean): void {
    const completing = body.status === 'completed' || body.completed_at !== undefined;
    if (completing && body.conclusion === undefined) {
      throw new LimitError(
        'CheckRun',
        'conclusion',
        'conclusion is required when status is completed or completed_at is given',
      );
    }
    if (body.conclusion === 'stale')
      throw new LimitError('CheckRun', 'conclusion', 'only GitHub can set the conclusion stale');
    const output = body.output as Body | undefined;
    if (output === undefined) return;
    if (!creating && typeof output.title !== 'string')
      throw new LimitError('CheckRun', 'output.title', 'output.title is required');
    const annotations = (output.annotations ?? []) as AnnotationRecord[];
    annotations.forEach((annotation, index) => {
      if (annotation.start_line < 1 || annotation.end_line < annotation.start_line) {
        throw new LimitError(
          'CheckRun',
          `output.annotations[${index}]`,
          'start_line must be at least 1 and end_line at least start_line',
        );
      }
    });
  }

  #applyCheckRun(run: CheckRunRecord, body: Body): void {
    if (typeof body.name === 'string') run.name = body.name;
    if (typeof body.status === 'string') run.status = body.status;
    if (typeof body.conclusion === 'string') {
      run.conclusion = body.conclusion;
      run.status = 'completed';
      run.completedAt = typeof body.completed_at === 'string' ? body.completed_at : now();
    }
    const output = body.output as Body | undefined;
    if (output) {
      if (typeof output.title === 'string') run.title = output.title;
      if (typeof output.summary === 'string') run.summary = output.summary;
      if (typeof output.text === 'string') run.text = output.text;
      for (const annotation of (output.annotations ?? []) as AnnotationRecord[])
        run.annotations.push({ ...annotation });
    }
  }

  #createCheckRun(body: Body): Reply {
    const headSha = text(body.head_sha);
    if (!SHA.test(headSha))
      throw new LimitError('CheckRun', 'head_sha', `No commit found for SHA: ${headSha}`);
    this.#checkRunRules(body, true);
    const run: CheckRunRecord = {
      id: this.#id(),
      name: text(body.name),
      headSha,
      status: 'queued',
      conclusion: null,
      title: null,
      summary: null,
      text: null,
      annotations: [],
      startedAt: typeof body.started_at === 'string' ? body.started_at : now(),
      completedAt: null,
    };
    this.#applyCheckRun(run, body);
    this.state.checkRuns.push(run);
    return { status: 201, body: this.#checkRunJson(run) };
  }

  #updateCheckRun(match: OperationMatch, body: Body): Reply {
    const run = this.#checkRun(match);
    this.#checkRunRules(body, false);
    this.#applyCheckRun(run, body);
    return { status: 200, body: this.#checkRunJson(run) };
  }

  // ---- deployments and commit statuses ----

  #checkDescription(resource: string, description: unknown): void {
    if (typeof description === 'string' && length(description) > DESCRIPTION_LIMIT) {
      throw new LimitError(
        resource,
        'description',
        `description is too long (maximum is ${DESCRIPTION_LIMIT} characters)`,
      );
    }
  }

  #deploymentJson(deployment: DeploymentRecordState): unknown {
    return overlay(this.#validator.sampleComponent('deployment'), {
      id: deployment.id,
      node_id: nodeId('Deployment', deployment.id),
      sha: deployment.sha,
      ref: deployment.ref,
      task: deployment.task,
      payload: deployment.payload,
      environment: deployment.environment,
      original_environment: deployment.environment,
      description: deployment.description,
      creator: this.#user(this.botLogin),
      created_at: deployment.createdAt,
      updated_at: deployment.createdAt,
      url: `${this.#repoUrl}/deployments/${deployment.id}`,
      statuses_url: `${this.#repoUrl}/deployments/${deployment.id}/statuses`,
      repository_url: this.#repoUrl,
      transient_environment: deployment.transientEnvironment,
      production_environment: deployment.productionEnvironment,
    });
  }

  #createDeployment(body: Body): Reply {
    const ref = text(body.ref);
    if (ref === '') throw new LimitError('Deployment', 'ref', 'ref is empty');
    this.#checkDescription('Deployment', body.description);
    const sha = SHA.test(ref) ? ref : createHash('sha1').update(ref).digest('hex');
    const requiredContexts = body.required_contexts as string[] | undefined;
    // Without required_contexts GitHub demands every commit status context of the ref be green.
    const latest = new Map<string, string>();
    for (const status of this.state.commitStatuses.filter((s) => s.sha === sha))
      latest.set(status.context, status.state);
    const pending = [...latest].filter(
      ([context, state]) => (requiredContexts ?? [...latest.keys()]).includes(context) && state !== 'success',
    );
    if (pending.length > 0) {
      return {
        status: 409,
        body: {
          message: `Conflict: Commit status checks failed for ${ref}.`,
          documentation_url: 'https://docs.github.com/rest',
        },
      };
    }
    const environment = typeof body.environment === 'string' ? body.environment : 'production';
    const deployment: DeploymentRecordState = {
      id: this.#id(),
      ref,
      sha,
      task: typeof body.task === 'string' ? body.task : 'deploy',
      environment,
      description: typeof body.description === 'string' ? body.description : null,
      payload: body.payload ?? {},
      autoMerge: body.auto_merge !== false,
      requiredContexts,
      transientEnvironment: body.transient_environment === true,
      productionEnvironment:
        typeof body.production_environment === 'boolean'
          ? body.production_environment
          : environment === 'production',
      createdAt: now(),
      statuses: [],
    };
    this.state.deployments.push(deployment);
    return { status: 201, body: this.#deploymentJson(deployment) };
  }

  /** Newest first, filtered by sha, ref, task and environment as GitHub filters them. */
  #listDeployments(match: OperationMatch, url: URL): Reply {
    const q = match.query;
    const selected = this.state.deployments
      .filter(
        (d) =>
          (q.sha === undefined || d.sha === q.sha) &&
          (q.ref === undefined || d.ref === q.ref) &&
          (q.task === undefined || d.task === q.task) &&
          (q.environment === undefined || d.environment === q.environment),
      )
      .sort((a, b) => b.id - a.id);
    const page = this.#page(selected, match, url);
    return { status: 200, body: page.items.map((d) => this.#deploymentJson(d)), headers: page.headers };
  }

  #listDeploymentStatuses(match: OperationMatch, url: URL): Reply {
    const deployment = this.state.deployments.find((d) => d.id === match.pathParams.deployment_id);
    if (!deployment) throw new NotFound();
    const newestFirst = [...deployment.statuses].reverse();
    const page = this.#page(newestFirst, match, url);
    return {
      status: 200,
      body: page.items.map((s) => this.#deploymentStatusJson(deployment, s)),
      headers: page.headers,
    };
  }

  #deploymentStatusJson(deployment: DeploymentRecordState, status: DeploymentStatusRecord): unknown {
    return overlay(this.#validator.sampleComponent('deployment-status'), {
      id: status.id,
      node_id: nodeId('DeploymentStatus', status.id),
      state: status.state,
      description: status.description,
      environment: deployment.environment,
      log_url: status.logUrl,
      target_url: status.logUrl,
      environment_url: status.environmentUrl,
      creator: this.#user(this.botLogin),
      url: `${this.#repoUrl}/deployments/${deployment.id}/statuses/${status.id}`,
      deployment_url: `${this.#repoUrl}/deployments/${deployment.id}`,
      repository_url: this.#repoUrl,
      created_at: status.createdAt,
      updated_at: status.createdAt,
    });
  }

  #createDeploymentStatus(match: OperationMatch, body: Body): Reply {
    const deployment = this.state.deployments.find((d) => d.id === match.pathParams.deployment_id);
    if (!deployment) throw new NotFound();
    this.#checkDescription('DeploymentStatus', body.description);
    const status: DeploymentStatusRecord = {
      id: this.#id(),
      state: text(body.state),
      description: text(body.description),
      logUrl: text(body.log_url ?? body.target_url),
      environmentUrl: text(body.environment_url),
      createdAt: now(),
    };
    deployment.statuses.push(status);
    if (status.state === 'success' && body.auto_inactive !== false) {
      // GitHub marks earlier successful deployments of a non-transient, non-production environment inactive.
      for (const other of this.state.deployments) {
        const last = other.statuses.at(-1);
        if (
          other === deployment ||
          other.environment !== deployment.environment ||
          other.transientEnvironment
        )
          continue;
        if (other.productionEnvironment || last?.state !== 'success') continue;
        other.statuses.push({ ...last, id: this.#id(), state: 'inactive', createdAt: now() });
      }
    }
    return { status: 201, body: this.#deploymentStatusJson(deployment, status) };
  }

  #createCommitStatus(match: OperationMatch, body: Body): Reply {
    const sha = String(match.pathParams.sha);
    if (!SHA.test(sha)) throw new LimitError('Status', 'sha', `No commit found for SHA: ${sha}`);
    this.#checkDescription('Status', body.description);
    const status: CommitStatusRecord = {
      id: this.#id(),
      sha,
      state: text(body.state),
      context: typeof body.context === 'string' ? body.context : 'default',
      description: typeof body.description === 'string' ? body.description : null,
      targetUrl: typeof body.target_url === 'string' ? body.target_url : null,
      createdAt: now(),
    };
    this.state.commitStatuses.push(status);
    const json = overlay(this.#validator.sampleComponent('status'), {
      id: status.id,
      node_id: nodeId('StatusContext', status.id),
      url: `${this.#repoUrl}/statuses/${sha}`,
      state: status.state,
      context: status.context,
      description: status.description,
      target_url: status.targetUrl,
      creator: this.#user(this.botLogin),
      created_at: status.createdAt,
      updated_at: status.createdAt,
    });
    return { status: 201, body: json };
  }
}

/** Starts a fake on a free local port. */
export async function startGitHubServer(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  return new FakeGitHub(options).listen();
}
