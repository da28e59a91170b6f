/**
 * Typed readers for one key of a config mapping: each reports a wrong type as a problem at the
 * key's path and returns undefined, so parsing goes on and every problem is reported at once.
 */
import { isPlainObject } from '../objects.ts';

/** Records a problem at a dotted key path (its line is looked up when the problems are reported). */
export type Problem = (keyPath: string, message: string) => void;

/** An RFC 1123 label: environment and namespace names (at most 63 characters, checked apart). */
export const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function str(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  problem: Problem,
  required = false,
): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) {
    if (required) problem(at, `missing required key "${key}"`);
    return undefined;
  }
  if (typeof value !== 'string') {
    problem(`${at}.${key}`, `"${key}" must be a string, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

export function namespaceName(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  problem: Problem,
): string | undefined {
  const value = str(obj, key, at, problem);
  if (value !== undefined && (!NAME.test(value) || value.length > 63))
    problem(at ? `${at}.${key}` : key, `${key} "${value}" is not a valid namespace name`);
  return value;
}

export function bool(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  problem: Problem,
): boolean | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    problem(`${at}.${key}`, `"${key}" must be true or false, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

export function num(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  problem: Problem,
): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    problem(`${at}.${key}`, `"${key}" must be a non-negative number, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

export function strList(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  problem: Problem,
): string[] | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    problem(`${at}.${key}`, `"${key}" must be a list of strings`);
    return undefined;
  }
  return value as string[];
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (isPlainObject(value)) return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
