import { FIELD_MANAGER_NAME } from '../constants.ts';
import { isPlainObject } from '../objects.ts';
import { parseJsonPath, parsePointer, type Path } from './paths.ts';
import type { IgnoreRule } from './rules.ts';

const KEYS = new Set(['group', 'kind', 'name', 'namespace', 'json-pointers', 'paths', 'managers']);

/** `ignore-differences:` of one environment; every problem is reported through `problem`. */
export function parseIgnoreDifferences(
  value: unknown,
  problem: (sub: string, message: string) => void,
): IgnoreRule[] {
  if (!Array.isArray(value)) {
    problem('', '`ignore-differences` must be a list of rules (kind, and json-pointers, paths or managers)');
    return [];
  }
  const rules: IgnoreRule[] = [];
  value.forEach((raw, index) => {
    const at = (key = ''): string => (key ? `${index}.${key}` : String(index));
    if (!isPlainObject(raw)) {
      problem(at(), 'an ignore-differences rule must be a mapping with `kind:`');
      return;
    }
    for (const key of Object.keys(raw))
      if (!KEYS.has(key))
        problem(at(key), `unknown key "${key}" in ignore-differences (allowed: ${[...KEYS].join(', ')})`);
    const text = (key: string): string | undefined => {
      const v = raw[key];
      if (v === undefined) return undefined;
      if (typeof v === 'string') return v;
      problem(at(key), `"${key}" must be a string`);
      return undefined;
    };
    const list = (key: string): string[] => {
      const v = raw[key];
      if (v === undefined) return [];
      if (Array.isArray(v) && v.every((item) => typeof item === 'string')) return v;
      problem(at(key), `"${key}" must be a list of strings`);
      return [];
    };
    const kind = text('kind');
    if (!kind) problem(at(), 'an ignore-differences rule needs `kind:` (e.g. Deployment)');
    const paths: Path[] = [];
    for (const [key, parse] of [
      ['json-pointers', parsePointer],
      ['paths', parseJsonPath],
    ] as const) {
      for (const item of list(key)) {
        try {
          const path = parse(item);
          if (path.length === 0 || path[0] === 'apiVersion' || path[0] === 'kind')
            problem(at(key), `"${item}" would ignore the object itself; name a field inside it`);
          else paths.push(path);
        } catch (error) {
          problem(at(key), error instanceof Error ? error.message : String(error));
        }
      }
    }
    const managers = list('managers');
    if (managers.includes(FIELD_MANAGER_NAME))
      problem(
        at('managers'),
        `"${FIELD_MANAGER_NAME}" is Slipway's own field manager: its fields are what Git sets`,
      );
    if (raw['json-pointers'] === undefined && raw.paths === undefined && raw.managers === undefined)
      problem(at(), 'an ignore-differences rule needs json-pointers, paths or managers');
    if (kind)
      rules.push({
        group: text('group'),
        kind,
        name: text('name'),
        namespace: text('namespace'),
        paths,
        managers,
      });
  });
  return rules;
}
