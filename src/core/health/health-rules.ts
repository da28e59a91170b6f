import { Environment } from '@marcbachmann/cel-js';
import { healthOf, type Health } from './health.ts';
import { groupOf, isPlainObject, type KubeObject } from '../objects.ts';

/**
 * A per-kind health rule from slipway.yaml `health-checks:`, modelled on Flux's `healthCheckExprs`:
 * the same field names, the same variables (the object's top-level fields), the same order.
 */
export interface HealthCheckRule {
  readonly apiVersion: string;
  readonly kind: string;
  /** Rules match by group and kind, any version (as Flux's do). */
  readonly group: string;
  readonly current: HealthExpression;
  readonly inProgress: HealthExpression | undefined;
  readonly failed: HealthExpression | undefined;
}

export interface HealthExpression {
  readonly source: string;
  /** Evaluates against the object's top-level fields; throws when evaluation fails. */
  readonly evaluate: (variables: Record<string, unknown>) => unknown;
}

const FIELDS = ['apiVersion', 'kind', 'current', 'inProgress', 'failed'] as const;
const EXPRESSIONS = ['inProgress', 'failed', 'current'] as const;

// Flux's CEL environment: undeclared variables are dynamic (CRDs differ in their top-level fields),
// optional field selection (`status.?phase`) and homogeneous literals are on.
const cel = new Environment({
  unlistedVariablesAreDyn: true,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: true,
});

/** Parses and type-checks one expression: a syntax error or a non-boolean result is refused now. */
export function compileExpression(source: string): HealthExpression {
  const program = cel.parse(source);
  const checked = program.check();
  if (!checked.valid) throw new Error(firstLine(checked.error?.message ?? 'invalid expression'));
  if (checked.type !== 'bool' && checked.type !== 'dyn')
    throw new Error(`the expression must be true or false, but it gives a ${checked.type ?? 'value'}`);
  return { source, evaluate: (variables): unknown => program(variables) as unknown };
}

/**
 * Pure: the `health-checks:` list of one environment. `problem` receives a key path relative to
 * the list (`1.current`) and a message; every problem is reported, not just the first.
 */
export function parseHealthChecks(
  raw: unknown,
  problem: (subPath: string, message: string) => void,
): HealthCheckRule[] {
  if (!Array.isArray(raw)) {
    problem('', '`health-checks` must be a list of {apiVersion, kind, current, inProgress, failed}');
    return [];
  }
  const rules: HealthCheckRule[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item: unknown, index) => {
    const rule = parseRule(item, index, problem);
    if (!rule) return;
    const key = `${rule.kind}.${rule.group}`;
    const first = seen.get(key);
    if (first !== undefined) {
      // Flux silently keeps the first of two rules for one kind; a silent choice is worse than an error.
      problem(`${index}`, `health-checks item ${index + 1} repeats item ${first + 1}: both are for ${key}`);
      return;
    }
    seen.set(key, index);
    rules.push(rule);
  });
  return rules;
}

function parseRule(
  item: unknown,
  index: number,
  problem: (subPath: string, message: string) => void,
): HealthCheckRule | undefined {
  const label = `health-checks item ${index + 1}`;
  if (!isPlainObject(item)) {
    problem(`${index}`, `${label} must be a mapping with apiVersion, kind and current`);
    return undefined;
  }
  for (const key of Object.keys(item)) {
    if (!(FIELDS as readonly string[]).includes(key))
      problem(`${index}.${key}`, `unknown key "${key}" in ${label} (allowed: ${FIELDS.join(', ')})`);
  }
  const text = (key: (typeof FIELDS)[number], required: boolean): string | undefined => {
    const value = item[key];
    if (value === undefined || value === null || value === '') {
      if (required) problem(`${index}`, `${label} needs "${key}"`);
      return undefined;
    }
    if (typeof value !== 'string') {
      problem(`${index}.${key}`, `"${key}" in ${label} must be a string`);
      return undefined;
    }
    return value;
  };
  const apiVersion = text('apiVersion', true);
  const kind = text('kind', true);
  if (apiVersion !== undefined && !/^([a-z0-9.-]+\/)?v[0-9][a-z0-9]*$/.test(apiVersion))
    problem(
      `${index}.apiVersion`,
      `apiVersion "${apiVersion}" in ${label} must look like group/version or v1`,
    );
  const group = apiVersion === undefined ? '' : groupOf(apiVersion);
  // A health expression's errors and the message it leads to could quote a Secret's data.
  if (kind === 'Secret' && group === '')
    problem(
      `${index}.kind`,
      `${label}: health-checks for Secrets are refused, their values must not reach the log`,
    );
  const compiled = Object.fromEntries(
    EXPRESSIONS.map((key) => {
      const source = text(key, key === 'current');
      if (source === undefined) return [key, undefined];
      try {
        return [key, compileExpression(source)];
      } catch (error) {
        problem(`${index}.${key}`, `${label} "${key}" is not a valid CEL expression: ${messageOf(error)}`);
        return [key, undefined];
      }
    }),
  ) as Record<(typeof EXPRESSIONS)[number], HealthExpression | undefined>;
  if (apiVersion === undefined || kind === undefined || compiled.current === undefined) return undefined;
  return {
    apiVersion,
    kind,
    group,
    current: compiled.current,
    inProgress: compiled.inProgress,
    failed: compiled.failed,
  };
}

/** The rule for an object's group and kind, if the environment has one. */
export function ruleFor(rules: readonly HealthCheckRule[], object: KubeObject): HealthCheckRule | undefined {
  const group = groupOf(object.apiVersion);
  return rules.find((rule) => rule.kind === object.kind && rule.group === group);
}

/** Health by the environment's rule for the object's kind, or by kstatus when it has none. */
export function healthWithRules(object: KubeObject, rules: readonly HealthCheckRule[]): Health {
  const rule = ruleFor(rules, object);
  return rule ? evaluateRule(rule, object) : healthOf(object);
}

/**
 * Flux's order (RFC 0009): a controller that has not seen the latest generation is InProgress;
 * then inProgress, failed, current, the first true one decides; none true is InProgress. An
 * expression that cannot be evaluated (a field not there yet) is waited on too, with the reason.
 */
export function evaluateRule(rule: HealthCheckRule, object: KubeObject): Health {
  if (object.metadata.deletionTimestamp) return { status: 'Terminating', message: 'being deleted' };
  const status = isPlainObject(object.status) ? object.status : {};
  const generation = object.metadata.generation;
  if (
    typeof status.observedGeneration === 'number' &&
    generation !== undefined &&
    status.observedGeneration !== generation
  )
    return { status: 'InProgress', message: 'controller has not seen the latest spec' };
  const variables = celValue(object) as Record<string, unknown>;
  const outcomes = { inProgress: 'InProgress', failed: 'Failed', current: 'Current' } as const;
  for (const key of EXPRESSIONS) {
    const expression = rule[key];
    if (!expression) continue;
    let result: unknown;
    try {
      result = expression.evaluate(variables);
    } catch (error) {
      return {
        status: 'InProgress',
        message: `health-checks ${key} cannot be evaluated yet: ${messageOf(error)}`,
      };
    }
    if (typeof result !== 'boolean')
      return {
        status: 'InProgress',
        message: `health-checks ${key} gave ${typeof result}, not true or false`,
      };
    if (result) return { status: outcomes[key], message: `health-checks ${key}: ${expression.source}` };
  }
  return { status: 'InProgress', message: `health-checks: waiting for current: ${rule.current.source}` };
}

/**
 * JSON numbers as CEL sees Kubernetes objects (Go's unstructured decoding): whole numbers are
 * ints, so `status.readyReplicas + 1` works; to the evaluator a plain JS number is a double.
 */
function celValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(celValue);
  if (isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celValue(v)]));
  return value;
}

function messageOf(error: unknown): string {
  return firstLine(error instanceof Error ? error.message : String(error));
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
