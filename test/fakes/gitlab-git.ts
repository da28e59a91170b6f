/**
 * Branches, commits and merge requests of the GitLab fake, for the image job: a commit is a whole
 * file map, made by `POST …/repository/commits` (actions on a start commit, `force` to overwrite
 * the branch). Wired into FakeGitLab's handlers, so its OpenAPI checks apply.
 */
import { createHash } from 'node:crypto';
import type { OperationMatch } from './openapi-validator.ts';

export interface GitLabCommitRecord {
  readonly id: string;
  readonly message: string;
  readonly parents: readonly string[];
  readonly files: ReadonlyMap<string, string>;
}

export interface GitLabMergeRequestRecord {
  readonly iid: number;
  readonly sourceBranch: string;
  targetBranch: string;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  /** The source branch's commit at each push seen while open. */
  readonly heads: string[];
}

export interface GitLabGitHost {
  readonly projectId: number;
  readonly projectPath: string;
  nextIid(): number;
  reject(status: number, message: string): Error;
}

type Body = Record<string, unknown>;
interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

export class FakeGitLabGit {
  readonly branches = new Map<string, string>();
  readonly commits = new Map<string, GitLabCommitRecord>();
  readonly mergeRequests: GitLabMergeRequestRecord[] = [];
  readonly #host: GitLabGitHost;

  constructor(host: GitLabGitHost) {
    this.#host = host;
  }

  /** A branch whose one commit holds `files`; returns the commit id. */
  seedBranch(branch: string, files: Readonly<Record<string, string>>): string {
    const id = this.#store(`seed ${branch}`, [], new Map(Object.entries(files)));
    this.branches.set(branch, id);
    return id;
  }

  filesOf(branch: string): ReadonlyMap<string, string> | undefined {
    const id = this.branches.get(branch);
    return id === undefined ? undefined : this.commits.get(id)?.files;
  }

  handlers(): Record<string, (match: OperationMatch, body: Body) => Reply> {
    return {
      getApiV4ProjectsIdRepositoryBranchesBranch: (m) => {
        const name = String(m.pathParams.branch);
        return { status: 200, body: { name, commit: this.#commitJson(this.#branch(name)) } };
      },
      deleteApiV4ProjectsIdRepositoryBranchesBranch: (m) => {
        const name = String(m.pathParams.branch);
        this.#branch(name);
        this.branches.delete(name);
        return { status: 204 };
      },
      postApiV4ProjectsIdRepositoryCommits: (_m, b) => this.#createCommit(b),
      getApiV4ProjectsIdMergeRequests: (m) => this.#list(m),
      postApiV4ProjectsIdMergeRequests: (_m, b) => this.#create(b),
      putApiV4ProjectsIdMergeRequestsMergeRequestIid: (m, b) => this.#update(m, b),
    };
  }

  #branch(name: string): GitLabCommitRecord {
    const id = this.branches.get(name);
    const commit = id === undefined ? undefined : this.commits.get(id);
    if (!commit) throw this.#host.reject(404, '404 Branch Not Found');
    return commit;
  }

  #store(message: string, parents: readonly string[], files: ReadonlyMap<string, string>): string {
    const id = createHash('sha1')
      .update(JSON.stringify({ message, parents, files: [...files], n: this.commits.size }))
      .digest('hex');
    this.commits.set(id, { id, message, parents, files });
    return id;
  }

  #commitJson(commit: GitLabCommitRecord): unknown {
    return { id: commit.id, message: commit.message, parent_ids: commit.parents };
  }

  #createCommit(body: Body): Reply {
    const branch = String(body.branch);
    const startSha = typeof body.start_sha === 'string' ? body.start_sha : undefined;
    const exists = this.branches.has(branch);
    // As GitLab: a new branch needs a start; an existing one takes a start only with force.
    if (!exists && startSha === undefined)
      throw this.#host.reject(400, 'You can only create or edit files when you are on a branch');
    if (exists && startSha !== undefined && body.force !== true)
      throw this.#host.reject(
        400,
        `A branch called '${branch}' already exists. Switch to that branch in order to make changes`,
      );
    const parentId = startSha ?? this.branches.get(branch) ?? '';
    const parent = this.commits.get(parentId);
    if (!parent) throw this.#host.reject(400, 'Invalid start sha');
    const files = new Map(parent.files);
    for (const action of body.actions as Body[]) {
      const path = String(action.file_path);
      if (action.action === 'update' && !files.has(path))
        throw this.#host.reject(400, `A file with this name doesn't exist`);
      if (action.action !== 'update' && action.action !== 'create')
        throw this.#host.reject(400, 'the fake takes create and update');
      files.set(path, typeof action.content === 'string' ? action.content : '');
    }
    const id = this.#store(String(body.commit_message), [parent.id], files);
    this.branches.set(branch, id);
    for (const mr of this.mergeRequests)
      if (mr.sourceBranch === branch && mr.state === 'opened') mr.heads.push(id);
    return { status: 201, body: this.#commitJson(this.#branch(branch)) };
  }

  #json(mr: GitLabMergeRequestRecord): unknown {
    return {
      id: 70_000 + mr.iid,
      iid: mr.iid,
      project_id: this.#host.projectId,
      title: mr.title,
      description: mr.description,
      state: mr.state,
      sha: mr.heads.at(-1) ?? '',
      merge_commit_sha: null,
      squash_commit_sha: null,
      merged_at: null,
      web_url: `https://gitlab.example.com/${this.#host.projectPath}/-/merge_requests/${mr.iid}`,
      source_branch: mr.sourceBranch,
      target_branch: mr.targetBranch,
    };
  }

  #list(match: OperationMatch): Reply {
    const state = String(match.query.state ?? 'all');
    const found = this.mergeRequests.filter(
      (mr) =>
        (state === 'all' || mr.state === state) &&
        (match.query.source_branch === undefined || String(match.query.source_branch) === mr.sourceBranch) &&
        (match.query.target_branch === undefined || String(match.query.target_branch) === mr.targetBranch),
    );
    return { status: 200, body: found.map((mr) => this.#json(mr)) };
  }

  #create(body: Body): Reply {
    const source = String(body.source_branch);
    const target = String(body.target_branch);
    const head = this.branches.get(source);
    if (head === undefined || !this.branches.has(target))
      throw this.#host.reject(400, 'Invalid source or target branch');
    if (
      this.mergeRequests.some(
        (mr) => mr.sourceBranch === source && mr.targetBranch === target && mr.state === 'opened',
      )
    )
      throw this.#host.reject(409, `Another open merge request already exists for this source branch`);
    const mr: GitLabMergeRequestRecord = {
      iid: this.#host.nextIid(),
      sourceBranch: source,
      targetBranch: target,
      title: String(body.title),
      description: typeof body.description === 'string' ? body.description : null,
      state: 'opened',
      heads: [head],
    };
    this.mergeRequests.push(mr);
    return { status: 201, body: this.#json(mr) };
  }

  #update(match: OperationMatch, body: Body): Reply {
    const mr = this.mergeRequests.find((m) => m.iid === Number(match.pathParams.merge_request_iid));
    if (!mr) throw this.#host.reject(404, '404 Not found');
    if (typeof body.title === 'string') mr.title = body.title;
    if (typeof body.description === 'string') mr.description = body.description;
    if (typeof body.target_branch === 'string') mr.targetBranch = body.target_branch;
    if (body.state_event === 'close') mr.state = 'closed';
    if (body.state_event === 'reopen') mr.state = 'opened';
    return { status: 200, body: this.#json(mr) };
  }
}
