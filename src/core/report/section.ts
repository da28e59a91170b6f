/** One environment's collapsible section of the comment, at the richest detail level that fits. */
import type { Finding } from '../yaml/manifest.ts';
import type { Plan } from '../plan/plan.ts';
import { describeFidelity } from '../plan/plan-mode.ts';
import { formatLocation } from '../errors.ts';
import { codeSpan, escapeInline } from './escape.ts';
import { GROUP_THRESHOLD, groupRows } from './groups.ts';
import { stageDiagram } from './picture.ts';
import { riskLines } from './risks.ts';
import { rowOf } from './comment-table.ts';
import type { CommentOptions, EnvironmentReport } from './environment-report.ts';
import { groupDetails, headline, objectDetails, objectLine } from './object-rows.ts';

const SECTION_START = (env: string): string => `<!-- slipway:section:${env}:start -->`;
const SECTION_END = (env: string): string => `<!-- slipway:section:${env}:end -->`;

/** How much detail fits: each level drops more, the last keeps only counts. */
const LEVELS = [
  { context: 3, maxDiffLines: 400, bodies: true, maxRows: Infinity },
  { context: 1, maxDiffLines: 60, bodies: true, maxRows: Infinity },
  { context: 0, maxDiffLines: 0, bodies: false, maxRows: Infinity },
  { context: 0, maxDiffLines: 0, bodies: false, maxRows: 50 },
  { context: 0, maxDiffLines: 0, bodies: false, maxRows: 0 },
] as const;

type Level = (typeof LEVELS)[number];

/** An environment's section at the richest level that fits `budget` characters. */
export function renderSection(report: EnvironmentReport, budget: number, options: CommentOptions): string {
  let section = '';
  for (const level of LEVELS) {
    section = sectionAt(report, level, options);
    if (section.length <= budget) return section;
  }
  return (
    section.slice(0, Math.max(0, budget - 200)) +
    `\n\n_(truncated)_\n\n</details>\n${SECTION_END(report.environment)}`
  );
}

function sectionAt(report: EnvironmentReport, level: Level, options: CommentOptions): string {
  const out: string[] = [
    SECTION_START(report.environment),
    `<!-- slipway:row:${report.environment} ${JSON.stringify(rowOf(report))} -->`,
  ];
  const plan = report.plan;
  const title = plan ? headline(plan.summary) : report.failure ? 'plan failed' : 'not planned';
  out.push(
    `<details${rowOf(report).failed ? ' open' : ''}><summary><b>${escapeInline(report.environment)}</b>: ${escapeInline(title)}</summary>`,
    '',
  );
  if (report.note) out.push(`_${escapeInline(report.note)}_`, '');
  if (report.failure) out.push(`**The plan failed:** ${escapeInline(report.failure)}`, '');
  for (const note of report.plan?.notes ?? []) out.push(`_Note: ${escapeInline(note)}_`, '');
  if (report.plan?.fidelity)
    out.push(`**Fidelity:** ${escapeInline(describeFidelity(report.plan.fidelity))}`, '');
  pushFindings(out, report.findings, level);
  if (plan) pushPlan(out, report, plan, level, options);
  out.push('', '</details>', SECTION_END(report.environment));
  return out.join('\n');
}

function pushFindings(out: string[], findings: readonly Finding[], level: Level): void {
  const errors = findings.filter((f) => f.severity === 'error');
  const warnings = findings.filter((f) => f.severity === 'warning');
  for (const [label, list] of [
    ['Errors', errors],
    ['Warnings', warnings],
  ] as const) {
    if (list.length === 0) continue;
    out.push(`**${label}**`, '');
    const shown = Number.isFinite(level.maxRows) ? list.slice(0, Math.max(level.maxRows, 10)) : list;
    for (const finding of shown)
      out.push(`- ${codeSpan(formatLocation(finding.location))} ${escapeInline(finding.message)}`);
    if (shown.length < list.length) out.push(`- … and ${list.length - shown.length} more`);
    out.push('');
  }
}

function pushPlan(
  out: string[],
  report: EnvironmentReport,
  plan: Plan,
  level: Level,
  options: CommentOptions,
): void {
  if (!options.risksAbove) out.push(...riskLines(report.environment, plan.risks, level.bodies));
  const diagram = level === LEVELS[0] ? stageDiagram(plan) : '';
  if (diagram) out.push(`<details><summary>Apply order</summary>`, '', diagram, '', '</details>', '');
  const changed = plan.objects.filter((o) => o.action !== 'unchanged');
  if (changed.length === 0 && !report.failure) out.push('No changes: the cluster already matches Git.', '');
  // A row a risk names stays a row, so the risk's link finds it.
  const risky = new Set((plan.risks ?? []).flatMap((r) => (r.ref ? [r.ref] : [])));
  const entries = groupRows(changed, GROUP_THRESHOLD, (row) => risky.has(row.ref));
  const rows = Number.isFinite(level.maxRows) ? entries.slice(0, level.maxRows) : entries;
  for (const entry of rows) {
    if ('group' in entry) out.push(groupDetails(entry.group, level.bodies));
    else
      out.push(
        level.bodies
          ? objectDetails(report.environment, entry.row, level)
          : `- ${objectLine(entry.row, 'markdown')}`,
      );
  }
  const shownRows = rows.reduce((n, e) => n + ('group' in e ? e.group.rows.length : 1), 0);
  if (shownRows < changed.length)
    out.push(
      `- … and ${changed.length - shownRows} more changed objects${options.fullDiffUrl ? ` ([full plan](${options.fullDiffUrl}))` : ''}`,
    );
  if (level !== LEVELS[0] && changed.length > 0) {
    out.push(
      '',
      `_Diffs shortened to fit the comment.${options.fullDiffUrl ? ` [Full diff](${options.fullDiffUrl}).` : ' The full diff is in the job summary.'}_`,
    );
  }
}
