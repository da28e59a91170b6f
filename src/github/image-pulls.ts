/**
 * The image job's pull requests on GitHub: the branch is one commit on the run's commit, made with
 * the Git data API (tree with the edited files' contents, commit, ref), and one open pull request
 * from it, found by its head branch. Needs `contents: write` and `pull-requests: write`.
 *
 * A run whose edits equal the branch's (same tree, same parent) pushes nothing, so reviewers and
 * the plan job see no new commit; a changed base or new tag force-moves the branch.
 */
import { UserError } from '../core/errors.ts';
import type { BranchProposal, ProposalPlatform, ProposalResult } from '../core/images/propose.ts';
import { isHttpFailure, retryingOctokit, type Octokit, type RetryOptions } from './octokit.ts';

export interface ImagePullsOptions {
  readonly token: string;
  readonly apiUrl: string;
  readonly owner: string;
  readonly repo: string;
  /** The slipway repository's folder inside the Git repository (`working-directory`); '' at the root. */
  readonly pathPrefix?: string;
  /** For 429/5xx answers; 3 attempts by default. */
  readonly retry?: RetryOptions;
}

function status(error: unknown): number | undefined {
  return isHttpFailure(error) ? error.status : undefined;
}

export class GitHubImagePulls implements ProposalPlatform {
  readonly #octokit: Octokit;
  readonly #owner: string;
  readonly #repo: string;
  readonly #prefix: string;

  constructor(options: ImagePullsOptions) {
    this.#owner = options.owner;
    const prefix = options.pathPrefix ?? '';
    this.#prefix = prefix === '.' ? '' : prefix.replace(/\/+$/, '');
    this.#repo = options.repo;
    this.#octokit = retryingOctokit(options.token, options.apiUrl, options.retry);
  }

  get #params(): { owner: string; repo: string } {
    return { owner: this.#owner, repo: this.#repo };
  }

  async #call<T>(action: string, permission: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const code = status(error);
      const message = (error as { message?: unknown } | null)?.message;
      throw new UserError(
        'platform',
        `cannot ${action}: GitHub answered ${code ?? 'no answer'}${typeof message === 'string' ? ` (${message})` : ''}`,
        {
          hint: code === 403 || code === 404 ? `give the workflow's token \`${permission}\`` : undefined,
          cause: error,
        },
      );
    }
  }

  /** The branch's commit, or undefined when the branch does not exist. */
  async #branchSha(branch: string): Promise<string | undefined> {
    try {
      const { data } = await this.#octokit.rest.git.getRef({ ...this.#params, ref: `heads/${branch}` });
      return data.object.sha;
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async propose(proposal: BranchProposal): Promise<ProposalResult> {
    const contents = 'contents: write';
    const action = `push branch ${proposal.branch}`;
    const pushed = await this.#call(action, contents, async () => {
      const { data: parent } = await this.#octokit.rest.git.getCommit({
        ...this.#params,
        commit_sha: proposal.baseSha,
      });
      const { data: tree } = await this.#octokit.rest.git.createTree({
        ...this.#params,
        base_tree: parent.tree.sha,
        tree: [...proposal.files].map(([path, content]) => ({
          path: this.#prefix === '' ? path : `${this.#prefix}/${path}`,
          mode: '100644' as const,
          type: 'blob' as const,
          content,
        })),
      });
      const current = await this.#branchSha(proposal.branch);
      if (current !== undefined) {
        const { data: head } = await this.#octokit.rest.git.getCommit({
          ...this.#params,
          commit_sha: current,
        });
        if (
          head.tree.sha === tree.sha &&
          head.parents.length === 1 &&
          head.parents[0]?.sha === proposal.baseSha
        )
          return false;
      }
      const { data: commit } = await this.#octokit.rest.git.createCommit({
        ...this.#params,
        message: proposal.message,
        tree: tree.sha,
        parents: [proposal.baseSha],
      });
      if (current === undefined)
        await this.#octokit.rest.git.createRef({
          ...this.#params,
          ref: `refs/heads/${proposal.branch}`,
          sha: commit.sha,
        });
      else
        await this.#octokit.rest.git.updateRef({
          ...this.#params,
          ref: `heads/${proposal.branch}`,
          sha: commit.sha,
          force: true,
        });
      return true;
    });
    const pulls = 'pull-requests: write';
    const open = await this.#openPull(proposal.branch);
    if (open) {
      if (
        open.title !== proposal.title ||
        (open.body ?? '') !== proposal.body ||
        open.base.ref !== proposal.base
      )
        await this.#call(`update pull request #${open.number}`, pulls, () =>
          this.#octokit.rest.pulls.update({
            ...this.#params,
            pull_number: open.number,
            title: proposal.title,
            body: proposal.body,
            base: proposal.base,
          }),
        );
      return { number: open.number, url: open.html_url, created: false, pushed };
    }
    const { data } = await this.#call(`open a pull request from ${proposal.branch}`, pulls, () =>
      this.#octokit.rest.pulls.create({
        ...this.#params,
        head: proposal.branch,
        base: proposal.base,
        title: proposal.title,
        body: proposal.body,
      }),
    );
    return { number: data.number, url: data.html_url, created: true, pushed };
  }

  async #openPull(branch: string) {
    const pulls = await this.#call(`find the pull request from ${branch}`, 'pull-requests: read', () =>
      this.#octokit.rest.pulls.list({
        ...this.#params,
        head: `${this.#owner}:${branch}`,
        state: 'open',
        per_page: 10,
      }),
    );
    return pulls.data[0];
  }

  async withdraw(branch: string, comment: string): Promise<number | undefined> {
    const open = await this.#openPull(branch);
    if (open) {
      await this.#call(`close pull request #${open.number}`, 'pull-requests: write', async () => {
        await this.#octokit.rest.issues.createComment({
          ...this.#params,
          issue_number: open.number,
          body: comment,
        });
        await this.#octokit.rest.pulls.update({ ...this.#params, pull_number: open.number, state: 'closed' });
      });
    }
    if ((await this.#branchSha(branch)) !== undefined)
      await this.#call(`delete branch ${branch}`, 'contents: write', () =>
        this.#octokit.rest.git.deleteRef({ ...this.#params, ref: `heads/${branch}` }),
      );
    return open?.number;
  }
}
