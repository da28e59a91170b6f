/**
 * The life of one environment's comment on a pull/merge request: the plan, "no longer affected"
 * when a later push stops touching the environment, and the apply result after the merge.
 *
 * Each environment has a comment of its own, found by its own marker, so parallel matrix jobs never
 * read-modify-write the same comment (comments have no compare-and-swap). Every body carries a
 * stamp, the commit it describes and the run that wrote it, so a run can tell whether the comment
 * already shows something newer than its own result.
 */
import type { PlanSummary } from '../plan/plan.ts';
import { digestLine } from '../plan/plan-digest.ts';
import { escapeInline } from './escape.ts';
import {
  environmentComment,
  extractSections,
  type CommentOptions,
  type EnvironmentReport,
} from './markdown.ts';

/** What every environment's marker starts with: finds all of them on one change request. */
export const PLAN_MARKER_PREFIX = '<!-- slipway:plan:';

export function planMarker(environment: string): string {
  return `${PLAN_MARKER_PREFIX}${environment} -->`;
}

/** The environment a comment belongs to, from its marker. */
export function environmentOf(body: string): string | undefined {
  return /^<!-- slipway:plan:([a-z0-9-]+) -->/m.exec(body)?.[1];
}

/** What a comment body describes: the commit, and the run that wrote it (runs only grow). */
export interface Stamp {
  readonly commit: string;
  readonly run: number;
}

const STAMP = /^<!-- slipway:stamp (\{[^\n]*?\}) -->$/m;
const UNAFFECTED = '<!-- slipway:unaffected -->';
const APPLY_BLOCK = /<!-- slipway:apply:start -->[\s\S]*?<!-- slipway:apply:end -->\n?/;

function stampLine(stamp: Stamp): string {
  return `<!-- slipway:stamp ${JSON.stringify({ commit: stamp.commit, run: stamp.run })} -->`;
}

export function readStamp(body: string): Stamp | undefined {
  const json = STAMP.exec(body)?.[1];
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as { commit?: unknown; run?: unknown };
    if (typeof value.commit !== 'string' || !/^[0-9a-f]{7,64}$/.test(value.commit)) return undefined;
    return { commit: value.commit, run: typeof value.run === 'number' ? value.run : 0 };
  } catch {
    return undefined;
  }
}

export function isUnaffected(body: string): boolean {
  return body.includes(UNAFFECTED);
}

/** The plan comment of one environment, stamped with the commit it planned. */
export function planComment(report: EnvironmentReport, stamp: Stamp, options: CommentOptions): string {
  return environmentComment(report, { ...options, commit: stamp.commit }, [
    planMarker(report.environment),
    stampLine(stamp),
    ...(report.digest ? [digestLine(report.digest)] : []),
  ]);
}

/**
 * The comment of an environment the change no longer touches: says so first, and keeps the earlier
 * plan folded below (dropped when the note would not fit `limit`).
 */
export function unaffectedComment(
  previous: string,
  environment: string,
  stamp: Stamp,
  limit: number,
): string {
  const earlier = readStamp(previous);
  const head = [
    planMarker(environment),
    stampLine(stamp),
    UNAFFECTED,
    `### Slipway plan: ${escapeInline(environment)}`,
    '',
    `⚪ **No longer affected**: as of commit \`${stamp.commit.slice(0, 12)}\` this change no longer touches **${escapeInline(environment)}**, so merging it applies nothing there.`,
    '',
  ].join('\n');
  const section = extractSections([previous]).get(environment);
  if (!section) return head;
  const kept = [
    `<details><summary>Earlier plan${earlier ? ` (commit ${escapeInline(earlier.commit.slice(0, 12))})` : ''}, outdated</summary>`,
    '',
    section.replace(/<details open>/, '<details>'),
    '',
    '</details>',
    '',
  ].join('\n');
  return head.length + kept.length + 1 <= limit ? `${head}\n${kept}` : head;
}

/** What an apply did, for the comment of the pull request it came from. */
export interface ApplyNote {
  readonly environment: string;
  readonly commit: string;
  /** undefined when it succeeded. */
  readonly failure: string | undefined;
  readonly durationMs: number;
  /** undefined when the apply failed before planning. */
  readonly summary: PlanSummary | undefined;
  /** Objects whose health was checked, and those not Current at the end (up to a few, named). */
  readonly health: { readonly checked: number; readonly unhealthy: readonly string[] } | undefined;
  readonly deploymentUrl: string | undefined;
  readonly runUrl: string;
  /** Whether the applied plan was the reviewed one, and if not what differs and why (reviewed-plan.ts). */
  readonly review?: { readonly same: boolean; readonly text: string } | undefined;
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function applyBlock(note: ApplyNote): string {
  const s = note.summary;
  const counts = s
    ? `${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged`
    : '';
  const health =
    !note.health || note.health.checked === 0
      ? ''
      : note.health.unhealthy.length === 0
        ? `health: all ${note.health.checked} checked objects Current`
        : `health: not Current: ${note.health.unhealthy.map(escapeInline).join(', ')}`;
  const links = [
    note.deploymentUrl ? `[deployment](${note.deploymentUrl})` : '',
    `[log](${note.runUrl})`,
  ].filter(Boolean);
  return [
    '<!-- slipway:apply:start -->',
    note.failure
      ? `❌ **Apply failed** for commit \`${note.commit.slice(0, 12)}\` after ${seconds(note.durationMs)}: ${escapeInline(note.failure)}`
      : `✅ **Applied** commit \`${note.commit.slice(0, 12)}\` in ${seconds(note.durationMs)}`,
    '',
    [counts, health, links.join(' · ')].filter(Boolean).join(' · '),
    ...(note.review ? ['', `${note.review.same ? '🔏' : '⚠️'} ${escapeInline(note.review.text)}`] : []),
    '<!-- slipway:apply:end -->',
    '',
  ].join('\n');
}

/**
 * The environment's comment with the apply result at its top (replacing an earlier one); a comment
 * of its own when the pull request never had one for this environment.
 */
export function withApplyResult(previous: string | undefined, note: ApplyNote, limit: number): string {
  const block = applyBlock(note);
  const alone = [planMarker(note.environment), ...(previous ? [stampOf(previous)] : [])]
    .filter((line) => line !== '')
    .concat([`### Slipway: ${escapeInline(note.environment)}`, '', block])
    .join('\n');
  if (!previous) return alone;
  const without = previous.replace(APPLY_BLOCK, '');
  const title = without.indexOf('\n### ');
  const end = title < 0 ? -1 : without.indexOf('\n', title + 1);
  const merged =
    end < 0 ? `${without}\n${block}` : `${without.slice(0, end + 1)}\n${block}${without.slice(end + 1)}`;
  // When the plan already filled the comment, the apply result matters more now.
  return merged.length <= limit ? merged : alone;
}

function stampOf(body: string): string {
  return STAMP.exec(body)?.[0] ?? '';
}
