// The scheduled image job: one pull request per environment on a stable branch, opened or
// updated with the bumps the policies allow, closed when nothing is left to bump. The pull request
// is the only write; the normal plan job then shows what the new tags change in the cluster.

import type { Logger } from '../ports.ts';
import type { ImageScan } from './find.ts';
import { applyUpdates, type ImageUpdate } from './updates.ts';

export interface BranchProposal {
  /** `slipway/images/<env>`. */
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
  readonly environment: string;
  readonly branch: string;
  readonly updates: number;
  readonly url: string | undefined;
  readonly closed: number | undefined;
}

export const IMAGE_BRANCH_PREFIX = 'slipway/images/';

/** Markdown listing each bump with the registry's digest of the new tag. */
export function proposalBody(environment: string, updates: readonly ImageUpdate[]): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const rows = updates.map(
    (u) =>
      `| \`${cell(u.file)}:${u.line}\` | \`${cell(u.image)}\` | \`${cell(u.from)}\` | \`${cell(u.to)}\` | ${u.digest ? `\`${u.digest}\`` : '—'} | ${cell(u.policy)} |`,
  );
  return [
    `Image updates for **${environment}** allowed by the \`image-policies\` in slipway.yaml.`,
    '',
    '| Where | Image | From | To | Digest | Policy |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Slipway plans this pull request against the live cluster like any other; merging applies it.',
    'This branch is rewritten by the next scheduled run: commit fixes elsewhere.',
  ].join('\n');
}

/**
 * Opens or updates one pull request per environment with updates, and closes the one of an
 * environment that has none left. After a registry failure nothing is closed: an update that could
 * not be checked is not an update that went away.
 */
export async function proposeImageUpdates(
  scan: ImageScan,
  readFile: (file: string) => string,
  platform: ProposalPlatform,
  base: { readonly branch: string; readonly sha: string },
  logger: Logger,
): Promise<ProposalOutcome[]> {
  const outcomes: ProposalOutcome[] = [];
  for (const { environment, updates } of scan.environments) {
    const branch = `${IMAGE_BRANCH_PREFIX}${environment}`;
    if (updates.length === 0) {
      const closed =
        scan.problems.length === 0
          ? await platform.withdraw(branch, 'No image updates left for this environment: closing.')
          : undefined;
      if (closed !== undefined) logger.info(`${environment}: no image updates left, closed #${closed}`);
      outcomes.push({ environment, branch, updates: 0, url: undefined, closed });
      continue;
    }
    const files = new Map<string, string>();
    for (const file of [...new Set(updates.map((u) => u.file))].sort())
      files.set(
        file,
        applyUpdates(
          readFile(file),
          updates.filter((u) => u.file === file),
        ),
      );
    const summary = [
      ...new Set(updates.map((u) => `${u.image.split('/').pop() ?? u.image} ${u.to.split('@')[0] ?? ''}`)),
    ];
    const result = await platform.propose({
      branch,
      base: base.branch,
      baseSha: base.sha,
      title: `Update images in ${environment}: ${summary.join(', ')}`.slice(0, 250),
      body: proposalBody(environment, updates),
      message: `Update images in ${environment}\n\n${updates.map((u) => `${u.file}:${u.line} ${u.image} ${u.from} -> ${u.to}`).join('\n')}\n`,
      files,
    });
    logger.info(
      `${environment}: ${updates.length} image update${updates.length === 1 ? '' : 's'}, ${result.created ? 'opened' : 'updated'} ${result.url}${result.pushed ? '' : ' (branch unchanged)'}`,
    );
    outcomes.push({ environment, branch, updates: updates.length, url: result.url, closed: undefined });
  }
  return outcomes;
}
