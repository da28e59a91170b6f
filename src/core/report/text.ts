import { describeRef } from '../objects.ts';
import { formatLocation } from '../errors.ts';
import type { Plan } from '../plan.ts';
import { headline } from './markdown.ts';

const COLOURS = {
  red: '\u001b[31m',
  green: '\u001b[32m',
  cyan: '\u001b[36m',
  bold: '\u001b[1m',
  reset: '\u001b[0m',
};

/** The plan as a terminal reads it: one header per object, then its diff, coloured on a TTY. */
export function planAsText(plan: Plan, colour: boolean): string {
  const paint = (code: string, text: string): string => (colour ? `${code}${text}${COLOURS.reset}` : text);
  const out: string[] = [paint(COLOURS.bold, `${plan.environment}: ${headline(plan.summary)}`)];
  for (const refusal of plan.refusals ?? []) out.push(paint(COLOURS.red, `refused: ${refusal.message}`));
  for (const note of plan.notes ?? []) out.push(`note: ${note}`);
  for (const object of plan.objects) {
    if (object.action === 'unchanged') continue;
    const where = object.source ? ` (${formatLocation(object.source)})` : '';
    out.push('', paint(COLOURS.bold, `${object.action} ${describeRef(object.ref)}${where}`));
    if (object.note) out.push(`  ${object.note}`);
    for (const taken of object.taken) out.push(`  takes from ${taken.manager}: ${taken.fields.join(', ')}`);
    for (const line of object.diff ? object.diff.split('\n') : []) {
      if (line.startsWith('+++') || line.startsWith('---')) out.push(paint(COLOURS.bold, line));
      else if (line.startsWith('+')) out.push(paint(COLOURS.green, line));
      else if (line.startsWith('-')) out.push(paint(COLOURS.red, line));
      else if (line.startsWith('@@')) out.push(paint(COLOURS.cyan, line));
      else out.push(line);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The JSON output: stable field names other tools can rely on. */
export function planAsJson(plan: Plan): unknown {
  return {
    environment: plan.environment,
    summary: plan.summary,
    refusals: plan.refusals ?? [],
    notes: plan.notes ?? [],
    objects: plan.objects.map((o) => ({
      apiVersion: o.ref.apiVersion,
      kind: o.ref.kind,
      ...(o.ref.namespace ? { namespace: o.ref.namespace } : {}),
      name: o.ref.name,
      action: o.action,
      diff: o.diff,
      ...(o.source ? { source: formatLocation(o.source) } : {}),
      ...(o.note ? { note: o.note } : {}),
      ...(o.taken.length ? { takes: o.taken } : {}),
    })),
  };
}
