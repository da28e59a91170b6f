import type { Finding } from '../manifest.ts';
import { shortDigest, type PlanDigest } from '../plan-digest.ts';
import type { Plan, PlannedObject, PlanSummary } from '../plan.ts';
import { describeFidelity } from '../plan-mode.ts';
import { describeRef } from '../objects.ts';
import { distinctLocations } from '../change-sources.ts';
import { formatLocation } from '../errors.ts';
import { codeBlock, codeSpan, escapeInline, htmlCode } from './escape.ts';
import { describeGroup, GROUP_THRESHOLD, groupRows, type RowGroup } from './groups.ts';
import { stageDiagram } from './picture.ts';
import { anchorOf, riskLines } from './risks.ts';
import { trimContext, truncateLines } from './trim.ts';
import { describeBuild } from '../version.ts';

/** One environment's outcome, as the comment and summaries show it. */
export interface EnvironmentReport {
  readonly environment: string;
  readonly plan: Plan | undefined;
  /** Render/validate findings (errors block the merge, warnings are shown). */
  readonly findings: readonly Finding[];
  /** Set when the plan could not be made at all (cluster unreachable, render failed, …). */
  readonly failure: string | undefined;
  /** Said above the details, e.g. "validated offline: pull requests from forks get no cluster access". */
  readonly note?: string;
  /** What the plan showed (plan-digest.ts): recorded in the comment and check, compared on apply. */
  readonly digest?: PlanDigest;
}

export const COMMENT_MARKER = '<!-- slipway:plan -->';
const SECTION_START = (env: string): string => `<!-- slipway:section:${env}:start -->`;
const SECTION_END = (env: string): string => `<!-- slipway:section:${env}:end -->`;
const ROW = /<!-- slipway:row:([a-z0-9-]+) (\{[^\n]*?\}) -->/g;

interface Row {
  readonly environment: string;
  readonly summary: PlanSummary | undefined;
  readonly failed: boolean;
  readonly findings: number;
}

/** How much detail fits: each level drops more, the last keeps only counts. */
const LEVELS = [
  { context: 3, maxDiffLines: 400, bodies: true, maxRows: Infinity },
  { context: 1, maxDiffLines: 60, bodies: true, maxRows: Infinity },
  { context: 0, maxDiffLines: 0, bodies: false, maxRows: Infinity },
  { context: 0, maxDiffLines: 0, bodies: false, maxRows: 50 },
  { context: 0, maxDiffLines: 0, bodies: false, maxRows: 0 },
] as const;

export interface CommentOptions {
  /** Characters one comment may hold (GitHub: 65,536). */
  readonly limit: number;
  /** Where the full diff is (the job summary or a run URL), linked when detail was dropped. */
  readonly fullDiffUrl?: string | undefined;
  readonly commit?: string | undefined;
  /** The risk summary is in the comment's header, above the table (one environment per comment). */
  readonly risksAbove?: boolean;
}

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

function rowOf(report: EnvironmentReport): Row {
  return {
    environment: report.environment,
    summary: report.plan?.summary,
    failed:
      report.failure !== undefined ||
      report.findings.some((f) => f.severity === 'error') ||
      (report.plan?.summary.error ?? 0) > 0,
    findings: report.findings.length,
  };
}

function sectionAt(
  report: EnvironmentReport,
  level: (typeof LEVELS)[number],
  options: CommentOptions,
): string {
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
  const errors = report.findings.filter((f) => f.severity === 'error');
  const warnings = report.findings.filter((f) => f.severity === 'warning');
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
  if (plan) {
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
  out.push('', '</details>', SECTION_END(report.environment));
  return out.join('\n');
}

const ICON: Record<PlannedObject['action'], string> = {
  create: '🟢',
  update: '🟡',
  delete: '🔴',
  orphan: '⚪',
  unchanged: '·',
  error: '❌',
};

/** What a row's action reads as: an update that only adds Slipway's labels is an adoption. */
export function actionOf(object: PlannedObject): string {
  return object.adoptOnly ? 'adopt' : object.action;
}

/** Marks a row estimated from the live object instead of dry-run (plan-mode.ts). */
export function estimateMark(object: PlannedObject): string {
  return object.fidelity === 'read-only-estimate' ? ' (estimate)' : '';
}

/** One row's line; `html` inside a <summary> (raw HTML), `markdown` in a list. */
function objectLine(object: PlannedObject, context: 'html' | 'markdown'): string {
  const code = context === 'html' ? htmlCode : codeSpan;
  const where = object.source ? ` — ${code(formatLocation(object.source))}` : '';
  const note = object.note ? ` — ${escapeInline(object.note)}` : '';
  const taken = object.taken.length
    ? ` — takes ${object.taken.map((t) => `${t.fields.length} field${t.fields.length === 1 ? '' : 's'} from ${escapeInline(t.manager)}`).join(', ')}`
    : '';
  const icon = object.adoptOnly ? '🔵' : ICON[object.action];
  return `${icon} ${actionOf(object)}${estimateMark(object)} ${escapeInline(describeRef(object.ref))}${where}${note}${taken}`;
}

function groupDetails(group: RowGroup, bodies: boolean): string {
  const first = group.rows[0];
  const icon = first?.adoptOnly ? '🔵' : ICON[group.action];
  const title = `${icon} ${escapeInline(describeGroup(group))}`;
  if (!bodies) return `- ${title}`;
  const names = group.rows.map((row) => row.ref.name);
  const list = names.length > 200 ? [...names.slice(0, 200), `… ${names.length - 200} more`] : names;
  return [`<details><summary>${title}</summary>`, '', escapeInline(list.join(', ')), '', '</details>'].join(
    '\n',
  );
}

function objectDetails(environment: string, object: PlannedObject, level: (typeof LEVELS)[number]): string {
  const parts = [
    `<a name="${anchorOf(environment, object.ref)}"></a>`,
    `<details><summary>${objectLine(object, 'html')}</summary>`,
    '',
  ];
  const places = distinctLocations(object.changes ?? []);
  if (places.length > 0) {
    for (const place of places.slice(0, 10))
      parts.push(
        `From ${codeSpan(formatLocation(place.location))}: ${place.fields.slice(0, 10).map(codeSpan).join(', ')}${place.fields.length > 10 ? ' …' : ''}`,
        '',
      );
  }
  if (object.taken.length) {
    for (const taken of object.taken)
      parts.push(
        `Takes from ${codeSpan(taken.manager)}: ${taken.fields
          .slice(0, 20)
          .map((f) => codeSpan(f))
          .join(', ')}${taken.fields.length > 20 ? ' …' : ''}`,
        '',
      );
  }
  if (object.diff) {
    const trimmed = level.context < 3 ? trimContext(object.diff, level.context) : object.diff;
    parts.push(codeBlock(truncateLines(trimmed, level.maxDiffLines, '(see the full diff)'), 'diff'), '');
  }
  parts.push('</details>');
  return parts.join('\n');
}

export function headline(summary: PlanSummary): string {
  const parts: string[] = [];
  if (summary.create) parts.push(`${summary.create} to create`);
  const adopt = summary.adopt ?? 0;
  if (summary.update - adopt) parts.push(`${summary.update - adopt} to update`);
  if (adopt) parts.push(`${adopt} to adopt`);
  if (summary.delete) parts.push(`${summary.delete} to delete`);
  if (summary.orphan) parts.push(`${summary.orphan} kept (not pruned)`);
  if (summary.error) parts.push(`${summary.error} failed`);
  if (parts.length === 0) parts.push('no changes');
  parts.push(`${summary.unchanged} unchanged`);
  return parts.join(', ');
}

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

function commentHeader(
  sections: readonly string[],
  extra: EnvironmentReport | undefined,
  options: CommentOptions,
  heading: readonly string[] = [COMMENT_MARKER, '### Slipway plan', ''],
): string {
  const rows = new Map<string, Row>();
  for (const section of sections) {
    for (const match of section.matchAll(ROW)) {
      try {
        rows.set(match[1] ?? '', JSON.parse(match[2] ?? '{}') as Row);
      } catch {
        // a hand-edited row: leave it out of the table
      }
    }
  }
  if (extra) rows.set(extra.environment, rowOf(extra));
  const lines = [...heading];
  if (options.commit) lines.push(`For commit \`${escapeInline(options.commit.slice(0, 12))}\`.`, '');
  lines.push(
    '| Environment | Create | Update | Delete | Unchanged | Error | Status |',
    '|---|---:|---:|---:|---:|---:|---|',
  );
  for (const env of [...rows.keys()].sort()) {
    const row = rows.get(env);
    if (!row) continue;
    const s = row.summary;
    const status = row.failed
      ? '❌ failed'
      : s && s.create + s.update + s.delete > 0
        ? '🟡 changes'
        : s
          ? '✅ in sync'
          : '⚪ not planned';
    lines.push(
      `| ${escapeInline(env)} | ${s?.create ?? '–'} | ${s ? s.update - (s.adopt ?? 0) : '–'} | ${s?.delete ?? '–'} | ${s?.unchanged ?? '–'} | ${s ? s.error : '–'} | ${status} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
