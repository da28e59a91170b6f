import { UserError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses Go-style durations such as `90s`, `5m`, `1h30m` into seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
    matched += match[0].length;
  }
  if (trimmed === '' || matched !== trimmed.length) {
    throw new UserError('usage', `invalid duration "${text}"`, { hint: 'write it like 90s, 5m or 1h30m' });
  }
  return total;
}
