import { objectKey, type ObjectRef } from '../objects.ts';
import type { Risk } from '../risk/assess.ts';
import { escapeInline } from './escape.ts';
import { describeRef } from '../objects.ts';

/** The anchor of an object's details in an environment's section, so risk lines can link to it. */
export function anchorOf(environment: string, ref: ObjectRef): string {
  const slug = objectKey(ref)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `slipway-${environment}-${slug}`.slice(0, 200);
}

const LEVEL_ICON = { error: '⛔', warning: '⚠️' } as const;

/** The risk summary as markdown list lines, each linking to its object's details. */
export function riskLines(
  environment: string,
  risks: readonly Risk[] | undefined,
  linked: boolean,
): string[] {
  if (!risks || risks.length === 0) return [];
  const lines = risks.map((risk) => {
    const what = risk.ref
      ? linked
        ? `[${escapeInline(describeRef(risk.ref))}](#${anchorOf(environment, risk.ref)}) `
        : `${escapeInline(describeRef(risk.ref))} `
      : '';
    return `- ${LEVEL_ICON[risk.level]} **${risk.id}**: ${what}${escapeInline(risk.message)}`;
  });
  return [`**Risks** (${risks.length})`, '', ...lines, ''];
}

/** The same, for a terminal. */
export function riskText(risks: readonly Risk[] | undefined): string[] {
  return (risks ?? []).map(
    (risk) =>
      `${risk.level === 'error' ? 'RISK (error)' : 'risk'} ${risk.id}: ${risk.ref ? `${describeRef(risk.ref)} ` : ''}${risk.message}`,
  );
}
