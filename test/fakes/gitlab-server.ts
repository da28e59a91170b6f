/**
 * A local stand-in for the GitLab REST API v4 endpoints Slipway uses, strict where GitLab is.
 *
 * Every request is checked against GitLab's published OpenAPI description (the subset vendored in
 * gitlab-openapi/, see its README for what is verbatim and what is hand-written) with the shared
 * OpenApiValidator: method and path must name an operation, path and query parameters must be
 * declared and well-typed, the JSON body must satisfy the operation's request schema. On top of
 * the description it enforces GitLab's documented rules: note bodies of at most 1,000,000
 * characters and not blank, notes editable only by their author, commit statuses that cannot
 * "transition" to the state they already have while pending or running, a CI_JOB_TOKEN refused
 * on these endpoints (401). A request breaking them gets GitLab's answer (400/404) and is recorded
 * in `violations`; so is an endpoint the fake does not implement (501) and any answer of the fake
 * that breaks its response schema (a bug in the fake).
 *
 * State lives in memory for one project and is inspectable through `state`. Writes are attributed
 * to the user the token belongs to (a project access token's bot user by default).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { load } from 'js-yaml';
import { OpenApiValidator, type OperationMatch, type Schema } from './openapi-validator.ts';
import { closeServer, listenLocal } from './local-server.ts';
import { FakeGitLabGit } from './gitlab-git.ts';

export const NOTE_BODY_LIMIT = 1_000_000;

export interface GitLabUser {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly bot: boolean;
}

export interface FakeGitLabOptions {
  /** A project access token; requests with it act as `bot`. */
  readonly token?: string;
  readonly bot?: GitLabUser;
  /** Presented by a job that uses CI_JOB_TOKEN: answered 401 as GitLab does on these endpoints. */
  readonly jobToken?: string;
  readonly projectId?: number;
  readonly projectPath?: string;
  /** Merge requests that exist from the start (notes need one). */
  readonly mergeRequests?: readonly number[];
}

export type ViolationKind = 'schema' | 'limit' | 'unimplemented' | 'response' | 'auth';

export interface Violation {
  readonly kind: ViolationKind;
  readonly method: string;
  readonly path: string;
  readonly operationId: string | undefined;
  readonly reasons: readonly string[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  operationId: string | undefined;
  body: unknown;
  status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface NoteRecord {
  readonly id: number;
  readonly noteableType: 'MergeRequest' | 'Issue';
  readonly noteableIid: number;
  body: string;
  readonly authorId: number;
  readonly system: boolean;
  readonly createdAt: string;
  updatedAt: string;
}

export interface StatusRecord {
  readonly id: number;
  readonly sha: string;
  readonly name: string;
  readonly state: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  readonly ref: string | null;
  readonly pipelineId: number | null;
  readonly createdAt: string;
}

export interface DeploymentRecord {
  readonly id: number;
  readonly iid: number;
  readonly environment: string;
  readonly sha: string;
  readonly ref: string;
  readonly tag: boolean;
  /** Every status the deployment went through, in order. */
  readonly statuses: string[];
  readonly createdAt: string;
  updatedAt: string;
}

export interface IssueRecord {
  readonly id: number;
  readonly iid: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  labels: string[];
  readonly authorId: number;
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface FakeGitLabState {
  readonly notes: NoteRecord[];
  readonly statuses: StatusRecord[];
  readonly deployments: DeploymentRecord[];
  readonly issues: IssueRecord[];
}

export interface Fault {
  readonly status: number;
  /** How many matching requests fail; default 1. */
  readonly times?: number;
  /** Only requests of this operation; default any. */
  readonly operationId?: string;
  /** Seconds, sent as `retry-after`. */
  readonly retryAfter?: number;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A rule of GitLab's beyond the description: answered with GitLab's status and message. */
class Rejection extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly recorded: boolean;
  constructor(status: number, body: unknown, recorded = true) {
    super(JSON.stringify(body));
    this.status = status;
    this.body = body;
    this.recorded = recorded;
  }
}

type Body = Record<string, unknown>;
type Handler = (match: OperationMatch, body: Body, user: GitLabUser) => Reply;

const SHA = /^[0-9a-f]{40}$/;
const DESCRIPTION_FILE = new URL('./gitlab-openapi/openapi-subset.yaml', import.meta.url);

let validator: OpenApiValidator | undefined;

function gitlabValidator(): OpenApiValidator {
  if (!validator) {
    const document = load(readFileSync(DESCRIPTION_FILE, 'utf8')) as ConstructorParameters<
      typeof OpenApiValidator
    >[0];
    validator = new OpenApiValidator(document);
  }
  return validator;
}

function now(): string {
  return new Date().toISOString();
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function length(value: string): number {
  return Array.from(value).length;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class FakeGitLab {
  readonly state: FakeGitLabState = { notes: [], statuses: [], deployments: [], issues: [] };
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  readonly token: string;
  readonly jobToken: string;
  readonly bot: GitLabUser;
  readonly projectId: number;
  readonly projectPath: string;
  /** The server's root; `apiUrl` is what CI_API_V4_URL would be. */
  url = '';
  /** Branches, commits and merge requests made through the repository and merge request endpoints. */
  readonly git: FakeGitLabGit;

  readonly #server: Server;
  readonly #validator: OpenApiValidator;
  readonly #mergeRequests = new Set<number>();
  readonly #merged = new Map<number, { mergeCommitSha: string; mergedAt: string }>();
  readonly #mergeRequestsByCommit = new Map<string, number[]>();
  readonly #users = new Map<number, GitLabUser>();
  readonly #faults: { fault: Fault; remaining: number }[] = [];
  readonly #handlers: Record<string, Handler>;
  #nextId = 5000;

  constructor(options: FakeGitLabOptions = {}) {
    this.token = options.token ?? 'glpat-fake-token';
    this.jobToken = options.jobToken ?? 'glcbt-fake-job-token';
    this.bot = options.bot ?? { id: 77, username: 'project_42_bot_slipway', name: 'slipway', bot: true };
    this.projectId = options.projectId ?? 42;
    this.projectPath = options.projectPath ?? 'acme/deploys';
    this.#users.set(this.bot.id, this.bot);
    this.#users.set(1, { id: 1, username: 'alice', name: 'Alice', bot: false });
    for (const iid of options.mergeRequests ?? [1]) this.#mergeRequests.add(iid);
    this.git = new FakeGitLabGit({
      projectId: this.projectId,
      projectPath: this.projectPath,
      nextIid: () => {
        // Created merge requests take notes like the seeded ones.
        const iid = Math.max(0, ...this.#mergeRequests) + 1;
        this.#mergeRequests.add(iid);
        return iid;
      },
      reject: (status, message) => new Rejection(status, { message }, false),
    });
    this.#validator = validator ?? gitlabValidator();
    this.#server = createServer((request, response) => {
      this.#serve(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `fake crashed: ${String(error)}` }));
      });
    });
    this.#handlers = {
      getApiV4User: (_m, _b, user) => ({ status: 200, body: this.#userJson(user) }),
      getApiV4ProjectsIdMergeRequestsNoteableIdNotes: (m) => this.#listNotes(m),
      postApiV4ProjectsIdMergeRequestsNoteableIdNotes: (m, b, u) => this.#createNote(m, b, u, 'MergeRequest'),
      getApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId: (m) => ({
        status: 200,
        body: this.#noteJson(this.#note(m)),
      }),
      putApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId: (m, b, u) => this.#updateNote(m, b, u),
      deleteApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId: (m, _b, u) => this.#deleteNote(m, u),
      postApiV4ProjectsIdIssuesNoteableIdNotes: (m, b, u) => this.#createNote(m, b, u, 'Issue'),
      postApiV4ProjectsIdStatusesSha: (m, b, u) => this.#createStatus(m, b, u),
      postApiV4ProjectsIdDeployments: (_m, b, u) => this.#createDeployment(b, u),
      putApiV4ProjectsIdDeploymentsDeploymentId: (m, b, u) => this.#updateDeployment(m, b, u),
      getApiV4ProjectsIdIssues: (m) => this.#listIssues(m),
      postApiV4ProjectsIdIssues: (_m, b, u) => this.#createIssue(b, u),
      putApiV4ProjectsIdIssuesIssueIid: (m, b) => this.#updateIssue(m, b),
      getApiV4ProjectsIdRepositoryCommitsShaMergeRequests: (m) => this.#mergeRequestsOfCommit(m),
      ...this.git.handlers(),
    };
  }

  get apiUrl(): string {
    return `${this.url}/api/v4`;
  }

  async listen(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.#server);
  }

  takeViolations(): Violation[] {
    return this.violations.splice(0);
  }

  failNext(fault: Fault): void {
    this.#faults.push({ fault, remaining: fault.times ?? 1 });
  }

  addMergeRequest(iid: number): void {
    this.#mergeRequests.add(iid);
  }

  /**
   * Marks merge request `iid` merged by `mergeCommitSha` (and, with `squash`, squashed into it):
   * GitLab then lists it among the merge requests of that commit and of its branch's `commits`.
   */
  mergeMergeRequest(iid: number, mergeCommitSha: string, commits: readonly string[] = []): void {
    this.#merged.set(iid, { mergeCommitSha, mergedAt: new Date().toISOString() });
    for (const sha of [mergeCommitSha, ...commits]) this.associateCommit(sha, iid);
  }

  /** A commit that is part of merge request `iid` (e.g. pushed to its open source branch). */
  associateCommit(sha: string, iid: number): void {
    this.#mergeRequests.add(iid);
    const iids = this.#mergeRequestsByCommit.get(sha) ?? [];
    if (!iids.includes(iid)) iids.push(iid);
    this.#mergeRequestsByCommit.set(sha, iids);
  }

  /** Notes written by someone else (alice by default), e.g. a human quoting the marker. */
  seedNotes(mergeRequestIid: number, bodies: readonly string[], authorId = 1): NoteRecord[] {
    return bodies.map((body) => this.#newNote('MergeRequest', mergeRequestIid, body, authorId));
  }

  notesOn(mergeRequestIid: number): NoteRecord[] {
    return this.state.notes.filter(
      (n) => n.noteableType === 'MergeRequest' && n.noteableIid === mergeRequestIid,
    );
  }

  #id(): number {
    return this.#nextId++;
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.url);
    const path = `${url.pathname}${url.search}`;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method,
      path,
      operationId: undefined,
      body: undefined,
      status: 0,
      headers: request.headers,
    };
    this.requests.push(recorded);
    const send = (reply: Reply): void => {
      recorded.status = reply.status;
      const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
      response.writeHead(reply.status, {
        ...(payload ? { 'content-type': 'application/json' } : {}),
        ...reply.headers,
      });
      response.end(payload);
    };

    let body: unknown;
    if (raw.length > 0) {
      if (!/application\/json/.test(request.headers['content-type'] ?? '')) {
        this.#violate('schema', method, path, undefined, [
          'a request body without content-type application/json',
        ]);
      }
      try {
        body = JSON.parse(raw);
      } catch {
        this.#violate('schema', method, path, undefined, ['request body is not JSON']);
        send({ status: 400, body: { error: 'The request body is not valid JSON' } });
        return;
      }
    }
    recorded.body = body;

    const presented =
      (request.headers['private-token'] as string | undefined) ??
      /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ??
      (request.headers['job-token'] as string | undefined);
    if (presented === this.jobToken) {
      this.#violate('auth', method, path, undefined, [
        'CI_JOB_TOKEN presented: job tokens cannot use this endpoint',
      ]);
      send({ status: 401, body: { message: '401 Unauthorized' } });
      return;
    }
    if (presented !== this.token) {
      send({ status: 401, body: { message: '401 Unauthorized' } });
      return;
    }
    const user = this.bot;

    const check = this.#validator.checkRequest(method, url, body, raw.length > 0);
    const match = check.match;
    recorded.operationId = match?.operationId;
    if (!match) {
      this.#violate('schema', method, path, undefined, check.reasons);
      send({ status: 404, body: { error: '404 Not Found' } });
      return;
    }

    const fault = this.#faults.find(
      (f) =>
        f.remaining > 0 && (f.fault.operationId === undefined || f.fault.operationId === match.operationId),
    );
    if (fault) {
      fault.remaining--;
      send({
        status: fault.fault.status,
        body: { message: fault.fault.status === 429 ? 'Retry later' : '502 Bad Gateway' },
        headers:
          fault.fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.fault.retryAfter) },
      });
      return;
    }

    if (check.reasons.length > 0) {
      this.#violate('schema', method, path, match.operationId, check.reasons);
      send({ status: 400, body: { error: check.reasons.join(', ') } });
      return;
    }

    const project = match.pathParams.id;
    if (project !== undefined && String(project) !== String(this.projectId) && project !== this.projectPath) {
      send({ status: 404, body: { message: '404 Project Not Found' } });
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
      reply = handler(match, isObject(body) ? body : {}, user);
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      if (error.recorded)
        this.#violate(error.status === 404 ? 'schema' : 'limit', method, path, match.operationId, [
          error.message,
        ]);
      send({ status: error.status, body: error.body });
      return;
    }

    const schema = this.#validator.responseSchema(match.operation, reply.status);
    if (schema && reply.body !== undefined) {
      // The description declares lists as one entity (see its README): check each element.
      const resolved = this.#validator.resolve<Schema>(schema);
      const items = Array.isArray(reply.body) && resolved.type !== 'array' ? reply.body : [reply.body];
      const problems = items.flatMap((item, index) =>
        this.#validator.validate(schema, item, items.length > 1 ? `response[${index}]` : 'response'),
      );
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

  /** GitLab's offset pagination: `page`, `per_page` (default 20, at most 100), x-* headers, Link. */
  #page<T>(items: readonly T[], match: OperationMatch): { items: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number(match.query.per_page ?? 20)));
    const page = Math.max(1, Number(match.query.page ?? 1));
    const totalPages = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-total': String(items.length),
      'x-total-pages': String(totalPages),
      'x-next-page': page < totalPages ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(page - 1) : '',
    };
    return { items: items.slice((page - 1) * perPage, page * perPage), headers };
  }

  #userJson(user: GitLabUser): Record<string, unknown> {
    return {
      id: user.id,
      username: user.username,
      name: user.name,
      state: 'active',
      bot: user.bot,
      avatar_url: null,
      web_url: `https://gitlab.example.com/${user.username}`,
    };
  }

  // ---- notes ----

  #newNote(type: NoteRecord['noteableType'], iid: number, body: string, authorId: number): NoteRecord {
    const note: NoteRecord = {
      id: this.#id(),
      noteableType: type,
      noteableIid: iid,
      body,
      authorId,
      system: false,
      createdAt: now(),
      updatedAt: now(),
    };
    this.state.notes.push(note);
    return note;
  }

  #noteJson(note: NoteRecord): Record<string, unknown> {
    return {
      id: note.id,
      type: null,
      body: note.body,
      author: this.#userJson(this.#users.get(note.authorId) ?? this.bot),
      created_at: note.createdAt,
      updated_at: note.updatedAt,
      system: note.system,
      noteable_id: 100_000 + note.noteableIid,
      noteable_type: note.noteableType,
      noteable_iid: note.noteableIid,
      project_id: this.projectId,
      resolvable: false,
      confidential: false,
      internal: false,
    };
  }

  #checkNoteBody(body: unknown): string {
    if (typeof body !== 'string' || body.trim() === '')
      throw new Rejection(400, { message: { note: ["can't be blank"] } });
    if (length(body) > NOTE_BODY_LIMIT)
      throw new Rejection(400, {
        message: { note: [`is too long (maximum is ${NOTE_BODY_LIMIT} characters)`] },
      });
    return body;
  }

  #mergeRequest(match: OperationMatch): number {
    const iid = Number(match.pathParams.noteable_id);
    if (!this.#mergeRequests.has(iid))
      throw new Rejection(404, { message: '404 Merge Request Not Found' }, false);
    return iid;
  }

  #note(match: OperationMatch): NoteRecord {
    const iid = this.#mergeRequest(match);
    const note = this.notesOn(iid).find((n) => n.id === match.pathParams.note_id);
    if (!note) throw new Rejection(404, { message: '404 Note Not Found' }, false);
    return note;
  }

  #mergeRequestsOfCommit(match: OperationMatch): Reply {
    const sha = String(match.pathParams.sha);
    const list = (this.#mergeRequestsByCommit.get(sha) ?? []).map((iid) => {
      const merged = this.#merged.get(iid);
      return {
        id: 90_000 + iid,
        iid,
        project_id: this.projectId,
        title: `Merge request ${iid}`,
        state: merged ? 'merged' : 'opened',
        sha: merged?.mergeCommitSha ?? sha,
        merge_commit_sha: merged?.mergeCommitSha ?? null,
        squash_commit_sha: null,
        merged_at: merged?.mergedAt ?? null,
        web_url: `https://gitlab.example.com/${this.projectPath}/-/merge_requests/${iid}`,
      };
    });
    const page = this.#page(list, match);
    return { status: 200, body: page.items, headers: page.headers };
  }

  #listNotes(match: OperationMatch): Reply {
    const iid = this.#mergeRequest(match);
    const key = match.query.order_by === 'updated_at' ? 'updatedAt' : 'createdAt';
    const direction = match.query.sort === 'asc' ? 1 : -1; // GitLab's default is desc
    const sorted = [...this.notesOn(iid)].sort(
      (a, b) => (a[key].localeCompare(b[key]) || a.id - b.id) * direction,
    );
    const page = this.#page(sorted, match);
    return { status: 200, body: page.items.map((n) => this.#noteJson(n)), headers: page.headers };
  }

  #createNote(match: OperationMatch, body: Body, user: GitLabUser, type: NoteRecord['noteableType']): Reply {
    const iid =
      type === 'MergeRequest'
        ? this.#mergeRequest(match)
        : this.#issue(Number(match.pathParams.noteable_id)).iid;
    const note = this.#newNote(type, iid, this.#checkNoteBody(body.body), user.id);
    return { status: 201, body: this.#noteJson(note) };
  }

  #updateNote(match: OperationMatch, body: Body, user: GitLabUser): Reply {
    const note = this.#note(match);
    if (note.authorId !== user.id) throw new Rejection(403, { message: '403 Forbidden' });
    note.body = this.#checkNoteBody(body.body);
    note.updatedAt = now();
    return { status: 200, body: this.#noteJson(note) };
  }

  #deleteNote(match: OperationMatch, user: GitLabUser): Reply {
    const note = this.#note(match);
    if (note.authorId !== user.id) throw new Rejection(403, { message: '403 Forbidden' });
    this.state.notes.splice(this.state.notes.indexOf(note), 1);
    return { status: 200, body: this.#noteJson(note) };
  }

  // ---- commit statuses ----

  #createStatus(match: OperationMatch, body: Body, user: GitLabUser): Reply {
    const sha = String(match.pathParams.sha);
    if (!SHA.test(sha)) throw new Rejection(404, { message: `404 Commit Not Found` });
    const name = text(body.name) || text(body.context) || 'default';
    const ref = typeof body.ref === 'string' ? body.ref : null;
    const pipelineId = typeof body.pipeline_id === 'number' ? body.pipeline_id : null;
    const previous = this.state.statuses.findLast(
      (s) => s.sha === sha && s.name === name && s.ref === ref && s.pipelineId === pipelineId,
    );
    // GitLab reuses a pending or running status and moves it through its state machine.
    if (
      previous &&
      (previous.state === 'pending' || previous.state === 'running') &&
      previous.state === body.state
    )
      throw new Rejection(
        400,
        {
          message: `Cannot transition status via :${body.state === 'running' ? 'run' : 'enqueue'} from :${previous.state}`,
        },
        false,
      );
    const status: StatusRecord = {
      id: this.#id(),
      sha,
      name,
      state: text(body.state),
      description: typeof body.description === 'string' ? body.description : null,
      targetUrl: typeof body.target_url === 'string' ? body.target_url : null,
      ref,
      pipelineId,
      createdAt: now(),
    };
    if (status.description !== null && length(status.description) > 255)
      throw new Rejection(400, { message: { description: ['is too long (maximum is 255 characters)'] } });
    this.state.statuses.push(status);
    return {
      status: 200,
      body: {
        id: status.id,
        sha,
        ref,
        status: status.state,
        name,
        target_url: status.targetUrl,
        description: status.description,
        created_at: status.createdAt,
        started_at: null,
        finished_at: null,
        allow_failure: false,
        coverage: null,
        pipeline_id: pipelineId ?? 900,
        author: this.#userJson(user),
      },
    };
  }

  // ---- deployments ----

  #deploymentJson(deployment: DeploymentRecord, user: GitLabUser): Record<string, unknown> {
    return {
      id: deployment.id,
      iid: deployment.iid,
      ref: deployment.ref,
      sha: deployment.sha,
      status: deployment.statuses.at(-1),
      created_at: deployment.createdAt,
      updated_at: deployment.updatedAt,
      user: this.#userJson(user),
      environment: { id: 300 + deployment.iid, name: deployment.environment },
    };
  }

  #createDeployment(body: Body, user: GitLabUser): Reply {
    const deployment: DeploymentRecord = {
      id: this.#id(),
      iid: this.state.deployments.length + 1,
      environment: text(body.environment),
      sha: text(body.sha),
      ref: text(body.ref),
      tag: body.tag === true,
      statuses: [text(body.status)],
      createdAt: now(),
      updatedAt: now(),
    };
    if (!SHA.test(deployment.sha)) throw new Rejection(400, { message: { sha: ['is invalid'] } });
    this.state.deployments.push(deployment);
    return { status: 201, body: this.#deploymentJson(deployment, user) };
  }

  #updateDeployment(match: OperationMatch, body: Body, user: GitLabUser): Reply {
    const deployment = this.state.deployments.find((d) => d.id === match.pathParams.deployment_id);
    if (!deployment) throw new Rejection(404, { message: '404 Not found' }, false);
    const last = deployment.statuses.at(-1);
    if (last !== 'running' && last !== 'created')
      throw new Rejection(400, {
        message: `Cannot transition status via :${text(body.status)} from :${last ?? ''}`,
      });
    deployment.statuses.push(text(body.status));
    deployment.updatedAt = now();
    return { status: 200, body: this.#deploymentJson(deployment, user) };
  }

  // ---- issues ----

  #issue(iid: number): IssueRecord {
    const issue = this.state.issues.find((i) => i.iid === iid);
    if (!issue) throw new Rejection(404, { message: '404 Issue Not Found' }, false);
    return issue;
  }

  #issueJson(issue: IssueRecord): Record<string, unknown> {
    return {
      id: issue.id,
      iid: issue.iid,
      project_id: this.projectId,
      title: issue.title,
      description: issue.description,
      state: issue.state,
      labels: issue.labels,
      web_url: `https://gitlab.example.com/${this.projectPath}/-/issues/${issue.iid}`,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author: this.#userJson(this.#users.get(issue.authorId) ?? this.bot),
    };
  }

  #listIssues(match: OperationMatch): Reply {
    const state = String(match.query.state ?? 'all');
    const labels = Array.isArray(match.query.labels)
      ? (match.query.labels as unknown[]).map(String)
      : match.query.labels === undefined
        ? []
        : String(match.query.labels).split(',');
    const selected = this.state.issues
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => labels.every((label) => i.labels.includes(label)));
    if (match.query.sort !== 'asc') selected.reverse();
    const page = this.#page(selected, match);
    return { status: 200, body: page.items.map((i) => this.#issueJson(i)), headers: page.headers };
  }

  #labels(value: unknown): string[] {
    if (Array.isArray(value)) return value.map(String);
    return typeof value === 'string' ? value.split(',').filter(Boolean) : [];
  }

  #createIssue(body: Body, user: GitLabUser): Reply {
    const title = text(body.title);
    if (title.trim() === '') throw new Rejection(400, { message: { title: ["can't be blank"] } });
    const issue: IssueRecord = {
      id: this.#id(),
      iid: this.state.issues.length + 1,
      title,
      description: typeof body.description === 'string' ? body.description : null,
      state: 'opened',
      labels: this.#labels(body.labels),
      authorId: user.id,
      createdAt: now(),
      updatedAt: now(),
      closedAt: null,
    };
    this.state.issues.push(issue);
    return { status: 201, body: this.#issueJson(issue) };
  }

  #updateIssue(match: OperationMatch, body: Body): Reply {
    const issue = this.#issue(Number(match.pathParams.issue_iid));
    if (Object.keys(body).length === 0)
      throw new Rejection(400, { error: 'at least one parameter must be provided' });
    if (typeof body.title === 'string') issue.title = body.title;
    if (typeof body.description === 'string') issue.description = body.description;
    if (body.labels !== undefined) issue.labels = this.#labels(body.labels);
    if (body.state_event === 'close' && issue.state === 'opened') {
      issue.state = 'closed';
      issue.closedAt = now();
    } else if (body.state_event === 'reopen' && issue.state === 'closed') {
      issue.state = 'opened';
      issue.closedAt = null;
    }
    issue.updatedAt = now();
    return { status: 200, body: this.#issueJson(issue) };
  }
}

export async function startGitLabServer(options: FakeGitLabOptions = {}): Promise<FakeGitLab> {
  return new FakeGitLab(options).listen();
}
