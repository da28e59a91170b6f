import type { ApplyResult } from '../apply/apply.ts';
import { describeRef } from '../objects.ts';
import { formatLocation } from '../errors.ts';
import { codeBlock, codeSpan, escapeInline } from './escape.ts';
import { describeGroup, describeShared, groupRows, sharedChanges } from './groups.ts';
import { describeFidelity } from '../plan/plan-mode.ts';
import { actionOf, estimateMark, headline, type EnvironmentReport } from './markdown.ts';
import { actionBar, stageDiagram } from './picture.ts';
import { anchorOf, riskLines } from './risks.ts';
import { truncateLines } from './trim.ts';

/** GitHub refuses a step summary over 1 MiB; stay well under so other steps can add theirs. */
export const SUMMARY_BUDGET = 900 * 1024;

/** The full plan for the job summary: every diff, within the summary budget. */
export function planSummary(report: EnvironmentReport, budget = SUMMARY_BUDGET): string {
  const out: string[] = [`## Slipway plan: ${escapeInline(report.environment)}`, ''];
  if (report.note) out.push(`_${escapeInline(report.note)}_`, '');
  if (report.failure) out.push(`**Failed:** ${escapeInline(report.failure)}`, '');
  for (const finding of report.findings)
    out.push(
      `- ${finding.severity}: ${codeSpan(formatLocation(finding.location))} ${escapeInline(finding.message)}`,
    );
  if (report.plan) {
    out.push(
      '',
      `**${escapeInline(headline(report.plan.summary))}** (${report.plan.objects.length} objects, ${report.plan.requests} API requests, ${(report.plan.durationMs / 1000).toFixed(1)} s)`,
      '',
    );
    if (report.plan.fidelity)
      out.push(`**Fidelity:** ${escapeInline(describeFidelity(report.plan.fidelity))}`, '');
    const bar = actionBar(report.plan.summary);
    if (bar) out.push(bar, '');
    out.push(...riskLines(report.environment, report.plan.risks, true));
    const diagram = stageDiagram(report.plan);
    if (diagram) out.push('**Apply order**', '', diagram, '');
    const changed = report.plan.objects.filter((o) => o.action !== 'unchanged');
    // A long plan starts with its groups, so the shape of the change reads before the diffs.
    const groups = groupRows(changed).flatMap((e) => ('group' in e ? [e.group] : []));
    if (groups.length) out.push(...groups.map((g) => `- ${escapeInline(describeGroup(g))}`), '');
    let used = out.join('\n').length;
    for (const [index, object] of changed.entries()) {
      const block = [
        `<a name="${anchorOf(report.environment, object.ref)}"></a>`,
        '',
        `### ${actionOf(object)}${estimateMark(object)} ${escapeInline(describeRef(object.ref))}`,
        object.note ? escapeInline(object.note) : '',
        object.diff ? codeBlock(truncateLines(object.diff, 2000, '(object too large to show)'), 'diff') : '',
        '',
      ].join('\n');
      if (used + block.length > budget - 500) {
        out.push(
          `_${changed.length - index} more changed objects not shown: the summary is limited to 1 MiB._`,
        );
        break;
      }
      out.push(block);
      used += block.length + 1; // and the newline that joins it
    }
  }
  return out.join('\n');
}

export function applySummary(result: ApplyResult): string {
  const out = [
    `## Slipway apply: ${escapeInline(result.environment)} — ${result.ok ? 'succeeded' : 'failed'}`,
    '',
    '| Object | Action | Health | Error |',
    '|---|---|---|---|',
  ];
  for (const outcome of result.outcomes) {
    if (outcome.action === 'unchanged') continue;
    out.push(
      `| ${escapeInline(describeRef(outcome.ref))} | ${outcome.action} | ${outcome.health ? escapeInline(`${outcome.health.status}: ${outcome.health.message}`) : ''} | ${outcome.error ? escapeInline(outcome.error) : ''} |`,
    );
  }
  const unchanged = result.outcomes.filter((o) => o.action === 'unchanged').length;
  out.push('', `${unchanged} objects unchanged; ${result.writes} writes.`);
  if (result.pruneSkipped && result.pruneSkipped !== 'dry run')
    out.push('', `**Prune skipped:** ${escapeInline(result.pruneSkipped)}`);
  return out.join('\n');
}

/**
 * Several environments planned in one job, read together: a bar per environment, and the changes
 * identical in several of them once, "× N environments". Empty for one environment.
 */
export function environmentsSummary(reports: readonly EnvironmentReport[]): string {
  const plans = reports.flatMap((r) => (r.plan ? [r.plan] : []));
  if (reports.length < 2) return '';
  const out = ['## Slipway plan: all environments', '', '| Environment | Plan |', '|---|---|'];
  for (const report of reports) {
    const bar = report.plan ? actionBar(report.plan.summary) : '';
    const what = report.plan ? bar || 'no objects' : `not planned${report.failure ? ': failed' : ''}`;
    out.push(`| ${escapeInline(report.environment)} | ${escapeInline(what)} |`);
  }
  const { shared } = sharedChanges(plans);
  if (shared.length) {
    out.push('', '**The same change in several environments**', '');
    const shown = shared.slice(0, 500);
    for (const change of shown) out.push(`- ${escapeInline(describeShared(change))}`);
    if (shown.length < shared.length) out.push(`- … and ${shared.length - shown.length} more`);
  }
  return `${out.join('\n')}\n`;
}
