/**
 * The Git data and pull-request endpoints of the GitHub fake: refs, commits and trees held in
 * memory as whole file maps (a tree entry's `content` becomes the file), and pull requests that
 * share their numbers with issues. Wired into FakeGitHub's handlers; its request and response
 * checks against the OpenAPI description apply here too.
 */
import { createHash } from 'node:crypto';
import type { OperationMatch } from './openapi-validator.ts';

export interface GitCommitRecord {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
}

export interface PullRecord {
  readonly number: number;
  head: string;
  base: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  /** The head's commit, at each push seen by the fake (first is the opening commit). */
  readonly heads: string[];
}

export interface GitReply {
  readonly status: number;
  readonly body?: unknown;
}

/** What the fake lends: JSON samples, users, and the next issue/PR number. */
export interface GitHost {
  sample(component: string, top: Record<string, unknown>): unknown;
  user(login: string): unknown;
  nextNumber(): number;
  readonly botLogin: string;
  readonly owner: string;
  /** The API URL of the repository (known once the fake listens). */
  repoUrl(): string;
  htmlUrl(): string;
  notFound(): Error;
  invalid(field: string, message: string): Error;
}

type Body = Record<string, unknown>;

const hash = (value: unknown): string => createHash('sha1').update(JSON.stringify(value)).digest('hex');

export class FakeGitData {
  readonly refs = new Map<string, string>();
  readonly commits = new Map<string, GitCommitRecord>();
  readonly trees = new Map<string, ReadonlyMap<string, string>>();
  readonly pulls: PullRecord[] = [];
  readonly #host: GitHost;

  constructor(host: GitHost) {
    this.#host = host;
  }

  /** A branch whose one commit holds `files`; returns the commit. */
  seedBranch(branch: string, files: Readonly<Record<string, string>>, message = 'initial'): string {
    const tree = this.#storeTree(new Map(Object.entries(files)));
    const sha = this.#storeCommit(tree, [], message);
    this.refs.set(`heads/${branch}`, sha);
    return sha;
  }

  /** The files of a branch's commit. */
  filesOf(branch: string): ReadonlyMap<string, string> | undefined {
    const sha = this.refs.get(`heads/${branch}`);
    const commit = sha === undefined ? undefined : this.commits.get(sha);
    return commit ? this.trees.get(commit.tree) : undefined;
  }

  handlers(): Record<string, (match: OperationMatch, body: Body) => GitReply> {
    return {
      'git/get-ref': (m) => ({ status: 200, body: this.#refJson(this.#ref(String(m.pathParams.ref))) }),
      'git/create-ref': (_m, b) => this.#createRef(b),
      'git/update-ref': (m, b) => this.#updateRef(m, b),
      'git/delete-ref': (m) => {
        this.#ref(String(m.pathParams.ref));
        this.refs.delete(String(m.pathParams.ref));
        return { status: 204 };
      },
      'git/get-commit': (m) => ({
        status: 200,
        body: this.#commitJson(this.#commit(String(m.pathParams.commit_sha))),
      }),
      'git/create-tree': (_m, b) => this.#createTree(b),
      'git/create-commit': (_m, b) => this.#createCommit(b),
      'pulls/list': (m) => this.#listPulls(m),
      'pulls/create': (_m, b) => this.#createPull(b),
      'pulls/update': (m, b) => this.#updatePull(m, b),
    };
  }

  #ref(ref: string): string {
    const sha = this.refs.get(ref);
    if (sha === undefined) throw this.#host.notFound();
    return ref;
  }

  #commit(sha: string): GitCommitRecord {
    const commit = this.commits.get(sha);
    if (!commit) throw this.#host.notFound();
    return commit;
  }

  #storeTree(files: ReadonlyMap<string, string>): string {
    const sha = hash([...files].sort());
    this.trees.set(sha, files);
    return sha;
  }

  #storeCommit(tree: string, parents: readonly string[], message: string): string {
    const sha = hash({ tree, parents, message, n: this.commits.size });
    this.commits.set(sha, { sha, tree, parents, message });
    return sha;
  }

  #refJson(ref: string): unknown {
    const sha = this.refs.get(ref) ?? '';
    return this.#host.sample('git-ref', {
      ref: `refs/${ref}`,
      url: `${this.#host.repoUrl()}/git/refs/${ref}`,
      object: { type: 'commit', sha, url: `${this.#host.repoUrl()}/git/commits/${sha}` },
    });
  }

  #commitJson(commit: GitCommitRecord): unknown {
    return this.#host.sample('git-commit', {
      sha: commit.sha,
      url: `${this.#host.repoUrl()}/git/commits/${commit.sha}`,
      html_url: `${this.#host.htmlUrl()}/commit/${commit.sha}`,
      message: commit.message,
      tree: { sha: commit.tree, url: `${this.#host.repoUrl()}/git/trees/${commit.tree}` },
      parents: commit.parents.map((sha) => ({
        sha,
        url: `${this.#host.repoUrl()}/git/commits/${sha}`,
        html_url: `${this.#host.htmlUrl()}/commit/${sha}`,
      })),
    });
  }

  #createRef(body: Body): GitReply {
    const ref = String(body.ref);
    if (!ref.startsWith('refs/')) throw this.#host.invalid('ref', 'Reference name must start with refs/');
    const name = ref.slice('refs/'.length);
    if (this.refs.has(name)) throw this.#host.invalid('ref', 'Reference already exists');
    this.#commit(String(body.sha));
    this.refs.set(name, String(body.sha));
    this.#notePush(name);
    return { status: 201, body: this.#refJson(name) };
  }

  #updateRef(match: OperationMatch, body: Body): GitReply {
    const name = this.#ref(String(match.pathParams.ref));
    const sha = String(body.sha);
    const next = this.#commit(sha);
    const current = this.refs.get(name) ?? '';
    // Without force only a fast-forward is allowed, as on GitHub.
    if (body.force !== true && !next.parents.includes(current))
      throw this.#host.invalid('sha', 'Update is not a fast forward');
    this.refs.set(name, sha);
    this.#notePush(name);
    return { status: 200, body: this.#refJson(name) };
  }

  #notePush(ref: string): void {
    const sha = this.refs.get(ref) ?? '';
    for (const pull of this.pulls)
      if (`heads/${pull.head}` === ref && pull.state === 'open' && pull.heads.at(-1) !== sha)
        pull.heads.push(sha);
  }

  #createTree(body: Body): GitReply {
    const baseTree = typeof body.base_tree === 'string' ? body.base_tree : undefined;
    const base = baseTree === undefined ? new Map<string, string>() : this.trees.get(baseTree);
    if (!base) throw this.#host.invalid('base_tree', 'Invalid tree info');
    const files = new Map(base);
    for (const entry of body.tree as Body[]) {
      if (typeof entry.content !== 'string')
        throw this.#host.invalid('tree', 'the fake only takes content entries');
      files.set(String(entry.path), entry.content);
    }
    const sha = this.#storeTree(files);
    return {
      status: 201,
      body: this.#host.sample('git-tree', {
        sha,
        url: `${this.#host.repoUrl()}/git/trees/${sha}`,
        truncated: false,
        tree: [...files.keys()].map((path) => ({
          path,
          mode: '100644',
          type: 'blob',
          sha: hash(files.get(path)),
        })),
      }),
    };
  }

  #createCommit(body: Body): GitReply {
    const tree = String(body.tree);
    if (!this.trees.has(tree)) throw this.#host.invalid('tree', 'Tree SHA does not exist');
    const parents = (body.parents as unknown[] | undefined)?.map(String) ?? [];
    for (const parent of parents) this.#commit(parent);
    const sha = this.#storeCommit(tree, parents, String(body.message));
    return { status: 201, body: this.#commitJson(this.#commit(sha)) };
  }

  #pullJson(pull: PullRecord, component: 'pull-request' | 'pull-request-simple'): unknown {
    const branch = (ref: string): Record<string, unknown> => ({
      ref,
      label: `${this.#host.owner}:${ref}`,
      sha: this.refs.get(`heads/${ref}`) ?? pull.heads.at(-1) ?? '',
    });
    return this.#host.sample(component, {
      number: pull.number,
      url: `${this.#host.repoUrl()}/pulls/${pull.number}`,
      html_url: `${this.#host.htmlUrl()}/pull/${pull.number}`,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      user: this.#host.user(this.#host.botLogin),
      head: branch(pull.head),
      base: branch(pull.base),
      merged_at: null,
      merge_commit_sha: null,
    });
  }

  #pullByNumber(number: number): PullRecord {
    const pull = this.pulls.find((p) => p.number === number);
    if (!pull) throw this.#host.notFound();
    return pull;
  }

  #listPulls(match: OperationMatch): GitReply {
    const state = String(match.query.state ?? 'open');
    const head = match.query.head === undefined ? undefined : String(match.query.head);
    const found = this.pulls.filter(
      (p) =>
        (state === 'all' || p.state === state) &&
        (head === undefined || head === `${this.#host.owner}:${p.head}` || head === p.head) &&
        (match.query.base === undefined || String(match.query.base) === p.base),
    );
    return { status: 200, body: found.map((p) => this.#pullJson(p, 'pull-request-simple')) };
  }

  #createPull(body: Body): GitReply {
    const head = String(body.head);
    const base = String(body.base);
    const sha = this.refs.get(`heads/${head}`);
    if (sha === undefined) throw this.#host.invalid('head', `head branch ${head} does not exist`);
    if (!this.refs.has(`heads/${base}`))
      throw this.#host.invalid('base', `base branch ${base} does not exist`);
    if (this.pulls.some((p) => p.head === head && p.base === base && p.state === 'open'))
      throw this.#host.invalid('head', `A pull request already exists for ${this.#host.owner}:${head}.`);
    const pull: PullRecord = {
      number: this.#host.nextNumber(),
      head,
      base,
      title: String(body.title),
      body: typeof body.body === 'string' ? body.body : null,
      state: 'open',
      heads: [sha],
    };
    this.pulls.push(pull);
    return { status: 201, body: this.#pullJson(pull, 'pull-request') };
  }

  #updatePull(match: OperationMatch, body: Body): GitReply {
    const pull = this.#pullByNumber(Number(match.pathParams.pull_number));
    if (typeof body.title === 'string') pull.title = body.title;
    if (typeof body.body === 'string') pull.body = body.body;
    if (typeof body.base === 'string') pull.base = body.base;
    if (body.state === 'open' || body.state === 'closed') pull.state = body.state;
    return { status: 200, body: this.#pullJson(pull, 'pull-request') };
  }
}
