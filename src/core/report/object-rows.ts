/** How one planned object, a group of alike objects, or a plan's counts read in the comment. */
import type { PlannedObject, PlanSummary } from '../plan/plan.ts';
import { describeRef } from '../objects.ts';
import { distinctLocations } from '../plan/change-sources.ts';
import { formatLocation } from '../errors.ts';
import { codeBlock, codeSpan, escapeInline, htmlCode } from './escape.ts';
import { describeGroup, type RowGroup } from './groups.ts';
import { anchorOf } from './risks.ts';
import { trimContext, truncateLines } from './trim.ts';

/** How much of an object's diff a detail level keeps (section.ts). */
export interface DiffLevel {
  readonly context: number;
  readonly maxDiffLines: number;
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
export function objectLine(object: PlannedObject, context: 'html' | 'markdown'): string {
  const code = context === 'html' ? htmlCode : codeSpan;
  const where = object.source ? ` — ${code(formatLocation(object.source))}` : '';
  const note = object.note ? ` — ${escapeInline(object.note)}` : '';
  const taken = object.taken.length
    ? ` — takes ${object.taken.map((t) => `${t.fields.length} field${t.fields.length === 1 ? '' : 's'} from ${escapeInline(t.manager)}`).join(', ')}`
    : '';
  const icon = object.adoptOnly ? '🔵' : ICON[object.action];
  return `${icon} ${actionOf(object)}${estimateMark(object)} ${escapeInline(describeRef(object.ref))}${where}${note}${taken}`;
}

export function groupDetails(group: RowGroup, bodies: boolean): string {
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

export function objectDetails(environment: string, object: PlannedObject, level: DiffLevel): string {
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
