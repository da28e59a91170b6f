/** The comment's table of environments, rebuilt from the row data each section carries. */
import type { PlanSummary } from '../plan/plan.ts';
import { escapeInline } from './escape.ts';
import type { CommentOptions, EnvironmentReport } from './environment-report.ts';

export const COMMENT_MARKER = '<!-- slipway:plan -->';
/** The row data each section carries in a hidden comment, read back for the table. */
const ROW = /<!-- slipway:row:([a-z0-9-]+) (\{[^\n]*?\}) -->/g;

export interface Row {
  readonly environment: string;
  readonly summary: PlanSummary | undefined;
  readonly failed: boolean;
  readonly findings: number;
}

export function rowOf(report: EnvironmentReport): Row {
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

export function commentHeader(
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
