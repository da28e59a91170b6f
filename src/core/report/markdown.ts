/**
 * The plan comment: a table of environments, then one section per environment (section.ts), each
 * replaced only by the job that planned it.
 */
import { shortDigest } from '../plan/plan-digest.ts';
import { escapeInline } from './escape.ts';
import { riskLines } from './risks.ts';
import { describeBuild } from '../version.ts';
import { COMMENT_MARKER, commentHeader } from './comment-table.ts';
import type { CommentOptions, EnvironmentReport } from './environment-report.ts';
import { renderSection } from './section.ts';

// Importers read the comment's parts from here; each lives in the file of its concept.
export type { CommentOptions, EnvironmentReport } from './environment-report.ts';
export { COMMENT_MARKER } from './comment-table.ts';
export { actionOf, estimateMark, headline } from './object-rows.ts';
export { renderSection } from './section.ts';

/** Sections of existing comment bodies by environment, so one job replaces only its own. */
export function extractSections(bodies: readonly string[]): Map<string, string> {
  const sections = new Map<string, string>();
  const text = bodies.join('\n');
  for (const match of text.matchAll(
    /<!-- slipway:section:([a-z0-9-]+):start -->[\s\S]*?<!-- slipway:section:\1:end -->/g,
  )) {
    if (match[1]) sections.set(match[1], match[0]);
  }
  return sections;
}

/**
 * The whole comment: marker, summary table, then each environment's section in name order. Other
 * environments' sections (from other matrix jobs) are kept as they are; ours is replaced. Returns
 * one body normally, several only when the sections cannot share one comment.
 */
export function composeComment(
  existing: readonly string[],
  report: EnvironmentReport,
  options: CommentOptions,
): string[] {
  const sections = extractSections(existing);
  sections.delete(report.environment);
  const others = [...sections.values()].reduce((n, s) => n + s.length, 0);
  const header = commentHeader([...sections.values()], report, options);
  const room = options.limit - header.length - others - 200;
  const share = Math.floor((options.limit - header.length - 200) / (sections.size + 1));
  sections.set(report.environment, renderSection(report, Math.max(room, share), options));
  const ordered = [...sections.keys()].sort().map((env) => sections.get(env) ?? '');
  const table = commentHeader(ordered, undefined, options);
  const bodies: string[] = [];
  let current = table;
  for (const section of ordered) {
    if (current.length + section.length + 2 > options.limit - 100) {
      bodies.push(current);
      current = `${COMMENT_MARKER}\n_(continued)_\n`;
    }
    current += `\n${section}\n`;
  }
  bodies.push(`${current}\n<sub>${escapeInline(describeBuild())}</sub>\n`);
  return bodies;
}

/**
 * One environment's comment: `preamble` (its marker and stamp), a one-row table, then its section
 * at the richest level that fits `options.limit`.
 */
export function environmentComment(
  report: EnvironmentReport,
  options: CommentOptions,
  preamble: readonly string[],
): string {
  const headerWith = (linked: boolean): string =>
    commentHeader([], report, options, [
      ...preamble,
      `### Slipway plan: ${escapeInline(report.environment)}`,
      '',
      ...riskLines(report.environment, report.plan?.risks, linked),
    ]);
  let header = headerWith(true);
  const digest = report.digest ? `Plan digest \`${shortDigest(report.digest)}\` · ` : '';
  const footer = `\n<sub>${digest}${escapeInline(describeBuild())}</sub>\n`;
  const section = renderSection(report, options.limit - header.length - footer.length - 200, {
    ...options,
    risksAbove: true,
  });
  // Risk lines link to objects' details; a section too short for details has no anchors to link to.
  if (!section.includes('<a name="')) header = headerWith(false);
  return `${header}\n${section}\n${footer}`;
}
