/**
 * Writing the per-environment comments of a pull/merge request (see report/comment.ts) without
 * locks: each job writes only its own environment's comment, and never over a newer one.
 *
 * "Newer" is decided from the stamps: git ancestry first (the comment's commit a descendant of
 * ours means ours is older; ours a descendant of it means ours is newer); when git cannot tell (the
 * commit is not in this checkout, or a force-push made the two unrelated) the run number decides,
 * because CI run and pipeline ids only grow with each new event.
 */
import type { ReviewPlatform } from '../platform.ts';
import type { GitHistory, Logger } from '../ports.ts';
import {
  environmentOf,
  isUnaffected,
  planComment,
  planMarker,
  PLAN_MARKER_PREFIX,
  readStamp,
  unaffectedComment,
  withApplyResult,
  type ApplyNote,
  type Stamp,
} from '../report/comment.ts';
import { COMMENT_MARKER, type EnvironmentReport } from '../report/markdown.ts';
import type { SecretMasker } from '../secrets.ts';

/** What an older Slipway's one comment for every environment becomes. */
const LEGACY_NOTE = `${COMMENT_MARKER}\n_Outdated: Slipway now keeps one comment per environment._\n`;

export interface CommentContext {
  readonly platform: ReviewPlatform;
  readonly changeRequest: number;
  readonly git: GitHistory;
  readonly logger: Logger;
  readonly masker: SecretMasker;
}

/**
 * Why `existing` must not be replaced by a result for `ours`, or undefined when it may. A comment
 * without a stamp (hand-made, or from an older Slipway) never blocks.
 */
export async function newerThanOurs(
  existing: Stamp | undefined,
  ours: Stamp,
  git: GitHistory,
): Promise<string | undefined> {
  if (!existing || existing.commit === ours.commit) return undefined;
  const short = existing.commit.slice(0, 12);
  if (await git.isAncestor(existing.commit, ours.commit)) return undefined;
  if (await git.isAncestor(ours.commit, existing.commit))
    return `commit ${short}, which comes after ${ours.commit.slice(0, 12)}`;
  return existing.run > ours.run ? `commit ${short} from a later run (${existing.run})` : undefined;
}

async function blockedBy(
  bodies: readonly string[],
  ours: Stamp,
  git: GitHistory,
): Promise<string | undefined> {
  for (const body of bodies) {
    const reason = await newerThanOurs(readStamp(body), ours, git);
    if (reason) return reason;
  }
  return undefined;
}

/**
 * The plan comment of one environment, unless the comment already shows a newer commit. Returns
 * its URL, or undefined when it was left alone (and says why in the log).
 */
export async function publishPlanComment(
  report: EnvironmentReport,
  stamp: Stamp,
  options: { readonly fullDiffUrl: string | undefined },
  context: CommentContext,
): Promise<string | undefined> {
  const { platform, changeRequest, logger } = context;
  const marker = planMarker(report.environment);
  const existing = await platform.readComments(changeRequest, marker);
  const newer = await blockedBy(existing, stamp, context.git);
  if (newer) {
    logger.warn(
      `${report.environment}: the comment already shows the plan of ${newer}; this run planned ${stamp.commit.slice(0, 12)} and leaves it as it is`,
    );
    return undefined;
  }
  const body = context.masker.mask(
    planComment(report, stamp, { limit: platform.commentLimit, fullDiffUrl: options.fullDiffUrl }),
  );
  // One body: a duplicate a race may have created is deleted here.
  const { urls } = await platform.upsertComments(changeRequest, marker, [body]);
  logger.info(`${report.environment}: plan comment ${urls.join(', ')}`);
  return urls[0];
}

/**
 * Marks the comments of environments the change no longer touches ("no longer affected"), so an
 * earlier push's plan does not stay behind as if it were still what the merge would apply.
 * Returns the environments marked.
 */
export async function markUnaffected(
  affected: readonly string[],
  stamp: Stamp,
  context: CommentContext,
): Promise<string[]> {
  const { platform, changeRequest } = context;
  const marked: string[] = [];
  const bodies = await platform.readComments(changeRequest, '<!-- slipway:plan');
  if (bodies.some((body) => body.includes(COMMENT_MARKER) && body !== LEGACY_NOTE))
    await platform.upsertComments(changeRequest, COMMENT_MARKER, [LEGACY_NOTE]);
  for (const body of bodies.filter((b) => b.includes(PLAN_MARKER_PREFIX))) {
    const environment = environmentOf(body);
    if (!environment || affected.includes(environment) || isUnaffected(body)) continue;
    if (await newerThanOurs(readStamp(body), stamp, context.git)) continue;
    const text = context.masker.mask(unaffectedComment(body, environment, stamp, platform.commentLimit));
    await platform.upsertComments(changeRequest, planMarker(environment), [text]);
    marked.push(environment);
  }
  if (marked.length > 0)
    context.logger.info(`no longer affected by this change: ${marked.join(', ')} (their comments say so)`);
  return marked.sort();
}

/** Adds an apply's result to the environment's comment on the change request it came from. */
export async function recordApplyComment(
  note: ApplyNote,
  context: Omit<CommentContext, 'git'>,
): Promise<string | undefined> {
  const { platform, changeRequest } = context;
  const marker = planMarker(note.environment);
  const [previous] = await platform.readComments(changeRequest, marker);
  const body = context.masker.mask(withApplyResult(previous, note, platform.commentLimit));
  const { urls } = await platform.upsertComments(changeRequest, marker, [body]);
  context.logger.info(`${note.environment}: apply result added to ${urls.join(', ')}`);
  return urls[0];
}
