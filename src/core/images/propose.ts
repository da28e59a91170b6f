// The scheduled image job: pull requests on stable branches (one per environment, or one for all,
// as requests.ts decides), opened or updated with the bumps the policies allow, closed when nothing
// is left to bump. The pull request is the only write; the normal plan job then shows what the new
// tags change in the cluster.

import type { Logger } from '../ports.ts';
import type { ImageScan } from './find.ts';
import {
  commitMessage,
  emptyComment,
  planImageRequests,
  replacedComment,
  requestBody,
  requestTitle,
  type ImageRequestMode,
} from './requests.ts';
import { applyUpdates } from './updates.ts';

export interface BranchProposal {
  /** `slipway/images/<env>`, or `slipway/images/all`. */
  readonly branch: string;
  /** The branch the pull request merges into. */
  readonly base: string;
  /** The commit the edits were made on: the new commit's one parent. */
  readonly baseSha: string;
  readonly title: string;
  readonly body: string;
  readonly message: string;
  /** Repo-relative path → the file's whole new content. */
  readonly files: ReadonlyMap<string, string>;
}

export interface ProposalResult {
  readonly number: number;
  readonly url: string;
  readonly created: boolean;
  /** False when the branch already held exactly these edits on this base. */
  readonly pushed: boolean;
}

/** A forge that can hold a branch with one commit and one open pull/merge request from it. */
export interface ProposalPlatform {
  propose(proposal: BranchProposal): Promise<ProposalResult>;
  /** Closes the open request from `branch` with `comment` and deletes the branch; its number, if any. */
  withdraw(branch: string, comment: string): Promise<number | undefined>;
}

export interface ProposalOutcome {
  /** The request's environment, or `all` for the grouped one. */
  readonly environment: string;
  readonly branch: string;
  readonly updates: number;
  readonly url: string | undefined;
  readonly closed: number | undefined;
}

export interface ProposalSettings {
  readonly mode: ImageRequestMode;
  /** Every environment in slipway.yaml: whose per-environment branches a grouped run replaces. */
  readonly configured: readonly string[];
}

/**
 * Opens or updates each request the mode wants that has updates, closes those with none left, then
 * closes the other mode's requests, pointing at this run's. After a registry failure nothing is
 * closed: an update that could not be checked is not an update that went away.
 */
export async function proposeImageUpdates(
  scan: ImageScan,
  readFile: (file: string) => string,
  platform: ProposalPlatform,
  base: { readonly branch: string; readonly sha: string },
  settings: ProposalSettings,
  logger: Logger,
): Promise<ProposalOutcome[]> {
  const plan = planImageRequests(scan.environments, settings.mode, settings.configured);
  for (const conflict of plan.conflicts) logger.warn(conflict);
  const mayClose = scan.problems.length === 0;
  const outcomes: ProposalOutcome[] = [];
  for (const request of plan.requests) {
    const { branch, name } = request;
    if (request.updates === 0) {
      const closed = mayClose ? await platform.withdraw(branch, emptyComment(request)) : undefined;
      if (closed !== undefined) logger.info(`${name}: no image updates left, closed #${closed}`);
      outcomes.push({ environment: name, branch, updates: 0, url: undefined, closed });
      continue;
    }
    const files = new Map<string, string>();
    for (const [file, edits] of [...request.edits].sort(([a], [b]) => (a < b ? -1 : 1)))
      files.set(file, applyUpdates(readFile(file), edits));
    const result = await platform.propose({
      branch,
      base: base.branch,
      baseSha: base.sha,
      title: requestTitle(request),
      body: requestBody(request, plan.mode),
      message: commitMessage(request),
      files,
    });
    logger.info(
      `${name}: ${request.updates} image update${request.updates === 1 ? '' : 's'}, ${result.created ? 'opened' : 'updated'} ${result.url}${result.pushed ? '' : ' (branch unchanged)'}`,
    );
    outcomes.push({
      environment: name,
      branch,
      updates: request.updates,
      url: result.url,
      closed: undefined,
    });
  }
  if (!mayClose) return outcomes;
  const urls = outcomes.flatMap((o) => (o.url === undefined ? [] : [o.url]));
  for (const { branch, name } of plan.stale) {
    const closed = await platform.withdraw(branch, replacedComment(plan.mode, urls));
    if (closed === undefined) continue;
    logger.info(`${branch}: replaced (image-pull-requests: ${plan.mode}), closed #${closed}`);
    outcomes.push({ environment: name, branch, updates: 0, url: undefined, closed });
  }
  return outcomes;
}
