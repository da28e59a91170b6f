/**
 * One environment's settings under `environments:` in slipway.yaml, and its Helm releases. Each
 * group of keys has its own reader; the config error lists problems in the order the keys are read
 * here, so keep that order when adding a key.
 */
import { isPlainObject } from '../objects.ts';
import type { RepoPaths } from '../paths.ts';
import { parseDuration } from '../duration.ts';
import { parseHealthChecks } from '../health/health-rules.ts';
import { parseIgnoreDifferences } from '../noise/config.ts';
import { parseRiskLevels } from '../risk/config.ts';
import { isPlanMode, PLAN_MODES, type PlanMode } from '../plan/plan-mode.ts';
import {
  defaultEnvironment,
  PROTECTED_KINDS,
  type ClusterPin,
  type EnvironmentConfig,
  type HelmReleaseConfig,
  type PruneBudget,
} from './config-types.ts';
import { bool, NAME, namespaceName, num, str, strList, type Problem } from './config-values.ts';

const ENV_KEYS = new Set([
  'path',
  'namespace',
  'context',
  'prune',
  'prune-budget',
  'allow-delete',
  'force-conflicts',
  'cluster',
  'wait',
  'timeout',
  'health-checks',
  'helm',
  'risks',
  'ignore-differences',
  'remote',
  'require-reviewed-plan',
  'plan-mode',
  'state-namespace',
]);
const HELM_KEYS = new Set([
  'releaseName',
  'chart',
  'version',
  'repository',
  'targetNamespace',
  'valuesFiles',
  'values',
  'insecure',
]);

export function parseEnvironment(
  name: string,
  value: unknown,
  at: string,
  problem: Problem,
  repo: RepoPaths,
  stateNamespace: string,
): EnvironmentConfig | undefined {
  checkName(name, at, problem);
  if (!isPlainObject(value)) {
    problem(at, `environment "${name}" must be a mapping with at least \`path:\``);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!ENV_KEYS.has(key))
      problem(
        `${at}.${key}`,
        `unknown key "${key}" in environment "${name}" (allowed: ${[...ENV_KEYS].join(', ')})`,
      );
  }
  const env = defaultEnvironment(name, '', stateNamespace);
  const resolvedPath = parsePath(name, value, at, problem, repo);
  const pruneBudget = parsePruneBudget(value['prune-budget'], `${at}.prune-budget`, problem, env.pruneBudget);
  const allowDelete = parseAllowDelete(value, at, problem);
  const cluster = parseClusterPin(value.cluster, `${at}.cluster`, problem);
  const timeoutSeconds = parseTimeout(value, at, problem, env.timeoutSeconds);
  const helm = parseHelmReleases(value.helm, `${at}.helm`, problem, repo);
  const healthChecks =
    value['health-checks'] === undefined
      ? []
      : parseHealthChecks(value['health-checks'], nested(problem, `${at}.health-checks`));
  const risks = value.risks === undefined ? {} : parseRiskLevels(value.risks, nested(problem, `${at}.risks`));
  const ignoreDifferences =
    value['ignore-differences'] === undefined
      ? []
      : parseIgnoreDifferences(value['ignore-differences'], nested(problem, `${at}.ignore-differences`));
  const remote = str(value, 'remote', at, problem);
  if (remote !== undefined && remote !== 'allow' && remote !== 'deny')
    problem(`${at}.remote`, `remote must be "allow" or "deny", got "${remote}"`);
  const planMode = parsePlanMode(value, at, problem);
  const namespace = namespaceName(value, 'namespace', at, problem);
  return {
    name,
    path: resolvedPath,
    namespace,
    context: str(value, 'context', at, problem),
    prune: bool(value, 'prune', at, problem) ?? env.prune,
    pruneBudget,
    allowDelete,
    forceConflicts: bool(value, 'force-conflicts', at, problem) ?? env.forceConflicts,
    cluster,
    wait: bool(value, 'wait', at, problem) ?? env.wait,
    timeoutSeconds,
    healthChecks,
    helm,
    risks,
    ignoreDifferences,
    allowRemote: remote === 'allow',
    requireReviewedPlan: bool(value, 'require-reviewed-plan', at, problem) ?? env.requireReviewedPlan,
    planMode: planMode ?? env.planMode,
    stateNamespace: namespaceName(value, 'state-namespace', at, problem) ?? env.stateNamespace,
  };
}

function checkName(name: string, at: string, problem: Problem): void {
  if (!NAME.test(name) || name.length > 63) {
    problem(at, `environment name "${name}" must be lowercase letters, digits and '-'`);
  }
  // `all` already means every environment (re-sync input, the grouped image branch).
  if (name === 'all') problem(at, 'environment name "all" is reserved: it means every environment');
}

/** A problem reporter for a nested parser, whose key paths are relative to `at`. */
function nested(problem: Problem, at: string): Problem {
  return (sub, message) => {
    problem(sub ? `${at}.${sub}` : at, message);
  };
}

function parsePath(
  name: string,
  value: Record<string, unknown>,
  at: string,
  problem: Problem,
  repo: RepoPaths,
): string {
  const envPath = str(value, 'path', at, problem, true);
  if (envPath === undefined) return '';
  try {
    return repo.relative(repo.resolve(envPath === '' ? '.' : envPath, `environment "${name}" path`));
  } catch (error) {
    problem(`${at}.path`, error instanceof Error ? error.message : String(error));
    return '';
  }
}

function parsePruneBudget(budget: unknown, at: string, problem: Problem, defaults: PruneBudget): PruneBudget {
  if (budget === undefined) return defaults;
  if (!isPlainObject(budget)) {
    problem(at, '`prune-budget` must be a mapping with max-objects and/or max-percent');
    return defaults;
  }
  for (const key of Object.keys(budget)) {
    if (key !== 'max-objects' && key !== 'max-percent')
      problem(`${at}.${key}`, `unknown key "${key}" in prune-budget (allowed: max-objects, max-percent)`);
  }
  return {
    maxObjects: num(budget, 'max-objects', at, problem) ?? defaults.maxObjects,
    maxPercent: num(budget, 'max-percent', at, problem) ?? defaults.maxPercent,
  };
}

function parseAllowDelete(value: Record<string, unknown>, at: string, problem: Problem): string[] {
  const allowDelete = strList(value, 'allow-delete', at, problem) ?? [];
  for (const kind of allowDelete) {
    if (!(PROTECTED_KINDS as readonly string[]).includes(kind)) {
      problem(
        `${at}.allow-delete`,
        `allow-delete lists "${kind}", which is not a protected kind (${PROTECTED_KINDS.join(', ')})`,
      );
    }
  }
  return allowDelete;
}

function parseClusterPin(pin: unknown, at: string, problem: Problem): ClusterPin | undefined {
  if (pin === undefined) return undefined;
  if (!isPlainObject(pin)) {
    problem(at, '`cluster` must be a mapping with server and/or kube-system-uid');
    return undefined;
  }
  for (const key of Object.keys(pin)) {
    if (key !== 'server' && key !== 'kube-system-uid')
      problem(`${at}.${key}`, `unknown key "${key}" in cluster (allowed: server, kube-system-uid)`);
  }
  return {
    server: str(pin, 'server', at, problem),
    kubeSystemUid: str(pin, 'kube-system-uid', at, problem),
  };
}

function parseTimeout(
  value: Record<string, unknown>,
  at: string,
  problem: Problem,
  fallback: number,
): number {
  const timeout = str(value, 'timeout', at, problem);
  if (timeout === undefined) return fallback;
  try {
    return parseDuration(timeout);
  } catch (error) {
    problem(`${at}.timeout`, error instanceof Error ? error.message : String(error));
    return fallback;
  }
}

function parsePlanMode(value: Record<string, unknown>, at: string, problem: Problem): PlanMode | undefined {
  const planMode = str(value, 'plan-mode', at, problem);
  if (planMode === undefined) return undefined;
  if (isPlanMode(planMode)) return planMode;
  problem(`${at}.plan-mode`, `plan-mode must be one of ${PLAN_MODES.join(', ')}, got "${planMode}"`);
  return undefined;
}

function parseHelmReleases(
  releases: unknown,
  at: string,
  problem: Problem,
  repo: RepoPaths,
): HelmReleaseConfig[] {
  const helm: HelmReleaseConfig[] = [];
  if (releases === undefined) return helm;
  if (!Array.isArray(releases)) problem(at, '`helm` must be a list of releases');
  else
    releases.forEach((release, index) => {
      const parsed = parseHelmRelease(release, `${at}.${index}`, problem, repo);
      if (parsed) helm.push(parsed);
    });
  return helm;
}

function parseHelmRelease(
  value: unknown,
  at: string,
  problem: Problem,
  repo: RepoPaths,
): HelmReleaseConfig | undefined {
  if (!isPlainObject(value)) {
    problem(at, 'a helm release must be a mapping with releaseName and chart');
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!HELM_KEYS.has(key))
      problem(`${at}.${key}`, `unknown key "${key}" in helm release (allowed: ${[...HELM_KEYS].join(', ')})`);
  }
  const releaseName = str(value, 'releaseName', at, problem, true) ?? '';
  const chart = str(value, 'chart', at, problem, true) ?? '';
  const repository = str(value, 'repository', at, problem);
  const version = str(value, 'version', at, problem);
  if (repository !== undefined && !/^(https?|oci):\/\//.test(repository)) {
    problem(`${at}.repository`, `repository "${repository}" must start with https://, http:// or oci://`);
  }
  if (repository !== undefined && version === undefined) {
    problem(
      `${at}.version`,
      `chart "${chart}" from ${repository} needs a pinned \`version\` so every run renders the same thing`,
    );
  }
  let localChart: string | undefined;
  if (repository === undefined && chart !== '') {
    try {
      localChart = repo.relative(repo.resolve(chart, 'helm chart'));
    } catch (error) {
      problem(`${at}.chart`, error instanceof Error ? error.message : String(error));
    }
  }
  const valuesFiles: string[] = [];
  for (const file of strList(value, 'valuesFiles', at, problem) ?? []) {
    try {
      valuesFiles.push(repo.relative(repo.resolve(file, 'values file')));
    } catch (error) {
      problem(`${at}.valuesFiles`, error instanceof Error ? error.message : String(error));
    }
  }
  const values = value.values;
  if (values !== undefined && !isPlainObject(values)) problem(`${at}.values`, '`values` must be a mapping');
  return {
    releaseName,
    chart,
    localChart,
    repository,
    version,
    targetNamespace: str(value, 'targetNamespace', at, problem),
    insecure: bool(value, 'insecure', at, problem) ?? false,
    valuesFiles,
    values: isPlainObject(values) ? values : {},
  };
}
