/**
 * The image job's merge requests on GitLab: the branch is one commit on the pipeline's commit,
 * made with the Commits API (`start_sha`, `force`), and one open merge request from it, found by
 * its source branch. The token (SLIPWAY_GITLAB_TOKEN) needs the `api` scope and the Developer role.
 *
 * The commit message ends with a trailer hashing the base commit and the files; a run whose hash
 * equals the branch's pushes nothing, so no pipeline starts for an unchanged proposal.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.ts';
import type { BranchProposal, ProposalPlatform, ProposalResult } from '../core/images/propose.ts';
import { networkMessage, requestGitLab, type GitLabRetryOptions } from './http.ts';

export interface GitLabImageOptions {
  readonly token: string;
  /** `CI_API_V4_URL`. */
  readonly apiUrl: string;
  /** `CI_PROJECT_ID`. */
  readonly projectId: string;
  /** The slipway repository's folder inside the Git repository; '' at the root. */
  readonly pathPrefix?: string;
  /** As the review platform's: 429, 5xx and network failures, 3 attempts in all by default. */
  readonly retry?: GitLabRetryOptions;
}

interface MergeRequest {
  readonly iid: number;
  readonly title: string;
  readonly description: string | null;
  readonly web_url: string;
  readonly target_branch?: string;
}

const TRAILER = 'Slipway-Images-Hash:';

export class GitLabImageMergeRequests implements ProposalPlatform {
  readonly #options: GitLabImageOptions;
  readonly #project: string;
  readonly #prefix: string;

  constructor(options: GitLabImageOptions) {
    this.#options = options;
    this.#project = `${options.apiUrl.replace(/\/+$/, '')}/projects/${encodeURIComponent(options.projectId)}`;
    const prefix = options.pathPrefix ?? '';
    this.#prefix = prefix === '.' ? '' : prefix.replace(/\/+$/, '');
  }

  async #request(
    method: string,
    path: string,
    action: string,
    body?: unknown,
  ): Promise<{ status: number; data: unknown }> {
    const { reply, error } = await requestGitLab(
      { method, url: `${this.#project}${path}`, token: this.#options.token, body },
      this.#options.retry,
    );
    if (reply === undefined)
      throw new UserError('platform', `could not reach GitLab to ${action}: ${networkMessage(error)}`, {
        hint: 'check CI_API_V4_URL and the network from the runner',
      });
    if (reply.status === 429 || reply.status >= 500)
      throw new UserError('platform', `GitLab answered ${reply.status} while trying to ${action}`, {
        hint: 're-run the job later',
      });
    return reply;
  }

  async #expect(
    method: string,
    path: string,
    action: string,
    ok: readonly number[],
    body?: unknown,
  ): Promise<unknown> {
    const reply = await this.#request(method, path, action, body);
    if (!ok.includes(reply.status)) {
      const said = JSON.stringify(reply.data ?? '').slice(0, 300);
      throw new UserError('platform', `GitLab answered ${reply.status} while trying to ${action}: ${said}`, {
        hint:
          reply.status === 401 || reply.status === 403
            ? 'SLIPWAY_GITLAB_TOKEN needs the `api` scope and the Developer role (CI_JOB_TOKEN cannot push or open merge requests)'
            : undefined,
      });
    }
    return reply.data;
  }

  #branchPath(branch: string): string {
    return `/repository/branches/${encodeURIComponent(branch)}`;
  }

  async #branchMessage(branch: string): Promise<string | undefined> {
    const reply = await this.#request('GET', this.#branchPath(branch), `read branch ${branch}`);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200)
      throw new UserError('platform', `GitLab answered ${reply.status} for branch ${branch}`);
    return (reply.data as { commit: { message: string } }).commit.message;
  }

  async #openMergeRequest(branch: string): Promise<MergeRequest | undefined> {
    const query = new URLSearchParams({ source_branch: branch, state: 'opened' });
    const list = (await this.#expect(
      'GET',
      `/merge_requests?${query.toString()}`,
      `find the merge request from ${branch}`,
      [200],
    )) as MergeRequest[];
    return list[0];
  }

  async propose(proposal: BranchProposal): Promise<ProposalResult> {
    const files = [...proposal.files].map(([path, content]) => ({
      file_path: this.#prefix === '' ? path : `${this.#prefix}/${path}`,
      content,
    }));
    const hash = createHash('sha256')
      .update(JSON.stringify([proposal.baseSha, files]))
      .digest('hex');
    const message = `${proposal.message.trimEnd()}\n\n${TRAILER} ${hash}\n`;
    const current = await this.#branchMessage(proposal.branch);
    const pushed = current === undefined || !current.includes(`${TRAILER} ${hash}`);
    if (pushed)
      await this.#expect('POST', '/repository/commits', `push branch ${proposal.branch}`, [201], {
        branch: proposal.branch,
        start_sha: proposal.baseSha,
        force: current !== undefined,
        commit_message: message,
        actions: files.map((f) => ({ action: 'update', ...f })),
      });
    const open = await this.#openMergeRequest(proposal.branch);
    if (open) {
      if (
        open.title !== proposal.title ||
        (open.description ?? '') !== proposal.body ||
        open.target_branch !== proposal.base
      )
        await this.#expect('PUT', `/merge_requests/${open.iid}`, `update merge request !${open.iid}`, [200], {
          title: proposal.title,
          description: proposal.body,
          target_branch: proposal.base,
        });
      return { number: open.iid, url: open.web_url, created: false, pushed };
    }
    const created = (await this.#expect(
      'POST',
      '/merge_requests',
      `open a merge request from ${proposal.branch}`,
      [201],
      {
        source_branch: proposal.branch,
        target_branch: proposal.base,
        title: proposal.title,
        description: proposal.body,
        remove_source_branch: true,
      },
    )) as MergeRequest;
    return { number: created.iid, url: created.web_url, created: true, pushed };
  }

  async withdraw(branch: string, comment: string): Promise<number | undefined> {
    const open = await this.#openMergeRequest(branch);
    if (open) {
      await this.#expect(
        'POST',
        `/merge_requests/${open.iid}/notes`,
        `comment on merge request !${open.iid}`,
        [201],
        { body: comment },
      );
      await this.#expect('PUT', `/merge_requests/${open.iid}`, `close merge request !${open.iid}`, [200], {
        state_event: 'close',
      });
    }
    if ((await this.#branchMessage(branch)) !== undefined)
      await this.#expect('DELETE', this.#branchPath(branch), `delete branch ${branch}`, [204]);
    return open?.iid;
  }
}
