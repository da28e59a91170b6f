import { describeRef } from '../objects.ts';
import { distinctLocations } from '../plan/change-sources.ts';
import { formatLocation } from '../errors.ts';
import type { Plan, PlannedObject } from '../plan/plan.ts';
import { describeGroup, describeShared, groupRows, sharedChanges } from './groups.ts';
import { describeFidelity } from '../plan/plan-mode.ts';
import { actionOf, estimateMark, headline } from './markdown.ts';
import { riskText } from './risks.ts';

const COLOURS = {
  red: '\u001b[31m',
  green: '\u001b[32m',
  cyan: '\u001b[36m',
  bold: '\u001b[1m',
  reset: '\u001b[0m',
};

/** The plan as a terminal reads it: one header per object, then its diff, coloured on a TTY. */
export function planAsText(plan: Plan, colour: boolean): string {
  const paint = painter(colour);
  const out: string[] = [paint(COLOURS.bold, `${plan.environment}: ${headline(plan.summary)}`)];
  for (const refusal of plan.refusals ?? []) out.push(paint(COLOURS.red, `refused: ${refusal.message}`));
  for (const risk of riskText(plan.risks)) out.push(paint(COLOURS.red, risk));
  for (const note of plan.notes ?? []) out.push(`note: ${note}`);
  if (plan.fidelity) out.push(`fidelity: ${describeFidelity(plan.fidelity)}`);
  out.push(
    ...rowsAsText(
      plan.objects.filter((o) => o.action !== 'unchanged'),
      paint,
    ),
  );
  return `${out.join('\n')}\n`;
}

type Paint = (code: string, text: string) => string;

function painter(colour: boolean): Paint {
  return (code, text) => (colour ? `${code}${text}${COLOURS.reset}` : text);
}

function rowsAsText(rows: readonly PlannedObject[], paint: Paint): string[] {
  const out: string[] = [];
  for (const entry of groupRows(rows)) {
    if ('group' in entry) {
      out.push('', paint(COLOURS.bold, describeGroup(entry.group)));
      out.push(`  ${entry.group.rows.map((row) => row.ref.name).join(', ')}`);
      continue;
    }
    out.push(...objectAsText(entry.row, paint));
  }
  return out;
}

function objectAsText(object: PlannedObject, paint: Paint): string[] {
  const where = object.source ? ` (${formatLocation(object.source)})` : '';
  const out = [
    '',
    paint(COLOURS.bold, `${actionOf(object)}${estimateMark(object)} ${describeRef(object.ref)}${where}`),
  ];
  if (object.note) out.push(`  ${object.note}`);
  for (const place of distinctLocations(object.changes ?? []))
    out.push(`  from ${formatLocation(place.location)}: ${place.fields.join(', ')}`);
  for (const taken of object.taken) out.push(`  takes from ${taken.manager}: ${taken.fields.join(', ')}`);
  for (const line of object.diff ? object.diff.split('\n') : []) {
    if (line.startsWith('+++') || line.startsWith('---')) out.push(paint(COLOURS.bold, line));
    else if (line.startsWith('+')) out.push(paint(COLOURS.green, line));
    else if (line.startsWith('-')) out.push(paint(COLOURS.red, line));
    else if (line.startsWith('@@')) out.push(paint(COLOURS.cyan, line));
    else out.push(line);
  }
  return out;
}

/**
 * Several environments' plans read together (`slipway diff` without --env): each environment's
 * headline and risks, changes identical in several environments once ("× N environments"), then
 * what is particular to each.
 */
export function plansAsText(plans: readonly Plan[], colour: boolean): string {
  if (plans.length === 1 && plans[0]) return planAsText(plans[0], colour);
  const paint = painter(colour);
  const { shared, rest } = sharedChanges(plans);
  const out: string[] = [];
  for (const plan of plans) {
    out.push(paint(COLOURS.bold, `${plan.environment}: ${headline(plan.summary)}`));
    for (const refusal of plan.refusals ?? []) out.push(paint(COLOURS.red, `  refused: ${refusal.message}`));
    for (const risk of riskText(plan.risks)) out.push(paint(COLOURS.red, `  ${risk}`));
    for (const note of plan.notes ?? []) out.push(`  note: ${note}`);
    if (plan.fidelity) out.push(`  fidelity: ${describeFidelity(plan.fidelity)}`);
  }
  for (const change of shared) {
    out.push(...objectAsText(change.row, paint));
    out.push(paint(COLOURS.cyan, `  ${describeShared(change)}`));
  }
  for (const plan of plans) {
    const rows = rest.get(plan.environment) ?? [];
    if (rows.length === 0) continue;
    out.push('', paint(COLOURS.bold, `— only in ${plan.environment} —`), ...rowsAsText(rows, paint));
  }
  return `${out.join('\n')}\n`;
}

/** The JSON output: stable field names other tools can rely on. */
export function planAsJson(plan: Plan): unknown {
  return {
    environment: plan.environment,
    summary: plan.summary,
    refusals: plan.refusals ?? [],
    risks: (plan.risks ?? []).map((r) => ({
      id: r.id,
      level: r.level,
      ...(r.ref ? { object: describeRef(r.ref) } : {}),
      message: r.message,
    })),
    notes: plan.notes ?? [],
    ...(plan.fidelity ? { fidelity: plan.fidelity } : {}),
    objects: plan.objects.map((o) => ({
      apiVersion: o.ref.apiVersion,
      kind: o.ref.kind,
      ...(o.ref.namespace ? { namespace: o.ref.namespace } : {}),
      name: o.ref.name,
      action: o.action,
      ...(o.adoptOnly ? { adoptOnly: true } : {}),
      ...(o.fidelity ? { fidelity: o.fidelity } : {}),
      diff: o.diff,
      ...(o.source ? { source: formatLocation(o.source) } : {}),
      ...(o.changes?.length
        ? { changes: o.changes.map((c) => ({ field: c.field, source: formatLocation(c.location) })) }
        : {}),
      ...(o.note ? { note: o.note } : {}),
      ...(o.taken.length ? { takes: o.taken } : {}),
    })),
  };
}
