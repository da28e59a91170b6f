import { isPlainObject } from '../objects.ts';
import { RISK_RULES, type RiskId, type RiskLevel } from './rules.ts';

const LEVELS: readonly RiskLevel[] = ['error', 'warning', 'ignore'];

/** `risks:` of one environment: rule id to `error`, `warning` or `ignore`. */
export function parseRiskLevels(
  value: unknown,
  problem: (sub: string, message: string) => void,
): Partial<Record<RiskId, RiskLevel>> {
  if (!isPlainObject(value)) {
    problem('', `\`risks\` must map rule ids (${RISK_RULES.join(', ')}) to error, warning or ignore`);
    return {};
  }
  const levels: Partial<Record<RiskId, RiskLevel>> = {};
  for (const [id, level] of Object.entries(value)) {
    if (!(RISK_RULES as readonly string[]).includes(id)) {
      problem(id, `unknown risk rule "${id}" (known: ${RISK_RULES.join(', ')})`);
      continue;
    }
    if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
      problem(id, `risk "${id}" must be error, warning or ignore, got ${JSON.stringify(level)}`);
      continue;
    }
    levels[id as RiskId] = level as RiskLevel;
  }
  return levels;
}
