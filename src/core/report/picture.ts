/**
 * Pictures of a plan where they beat words: a bar of its actions, and the apply stages as a
 * Mermaid flowchart (GitHub and GitLab draw ```mermaid blocks natively).
 */
import type { Plan, PlanSummary } from '../plan/plan.ts';
import { stageOf, STAGE_NAMES } from '../apply/order.ts';

const WIDTH = 20;

/** `🟩🟩🟨⬜… 2 create · 1 update · 0 delete · 17 unchanged`: one square per 1/WIDTH of the objects. */
export function actionBar(summary: PlanSummary): string {
  const parts = [
    ['🟩', summary.create, 'create'],
    ['🟨', summary.update, 'update'],
    ['🟥', summary.delete, 'delete'],
    ['⬜', summary.unchanged + summary.orphan, 'unchanged'],
  ] as const;
  const total = parts.reduce((n, [, count]) => n + count, 0);
  if (total === 0) return '';
  // Every non-zero part gets at least one square, so a single delete among 1,000 rows shows.
  const squares = parts.map(([, count]) =>
    count === 0 ? 0 : Math.max(1, Math.round((count / total) * WIDTH)),
  );
  // Rounding may miss the width by a square or two: the largest part gives or takes them.
  const largest = squares.indexOf(Math.max(...squares));
  squares[largest] = (squares[largest] ?? 0) + WIDTH - squares.reduce((n, s) => n + s, 0);
  const bar = parts.map(([glyph], i) => glyph.repeat(squares[i] ?? 0)).join('');
  return `${bar} ${parts.map(([, count, label]) => `${count} ${label}`).join(' · ')}`;
}

/**
 * The apply stages with the objects each creates or updates, in the order they run, then the
 * prune's deletions, which run the stages backwards after every apply; empty when fewer than two
 * steps have anything to do (one box shows no order).
 */
export function stageDiagram(plan: Plan): string {
  const counts = STAGE_NAMES.map(() => ({ apply: 0, delete: 0 }));
  for (const row of plan.objects) {
    if (row.action !== 'create' && row.action !== 'update' && row.action !== 'delete') continue;
    // Plan rows of namespaced objects always carry their namespace.
    const stage = counts[stageOf(row.ref, row.ref.namespace !== undefined)];
    if (stage) stage[row.action === 'delete' ? 'delete' : 'apply']++;
  }
  const steps = [
    ...counts.flatMap((c, i) =>
      c.apply ? [{ id: `a${i}`, label: `${STAGE_NAMES[i]}<br/>${c.apply} to apply` }] : [],
    ),
    ...counts
      .flatMap((c, i) =>
        c.delete ? [{ id: `d${i}`, label: `delete ${STAGE_NAMES[i]}<br/>${c.delete}` }] : [],
      )
      .reverse(),
  ];
  if (steps.length < 2) return '';
  const lines = ['```mermaid', 'flowchart LR'];
  for (const step of steps) lines.push(`  ${step.id}["${step.label}"]`);
  lines.push(`  ${steps.map((s) => s.id).join(' --> ')}`);
  lines.push('```');
  return lines.join('\n');
}
