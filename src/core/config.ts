import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError, type SourceLocation } from './errors.ts';
import { isPlainObject } from './objects.ts';
import type { RepoPaths } from './paths.ts';
import { parseYamlDocuments } from './yaml.ts';
import { parseDuration } from './duration.ts';
import { parseHealthChecks, type HealthCheckRule } from './health-rules.ts';
import { parseImagePolicies, type ImagePolicy } from './images/policy.ts';
import { parseImageRequestMode, type ImageRequestMode } from './images/requests.ts';
import { parseIgnoreDifferences } from './noise/config.ts';
import type { IgnoreRule } from './noise/rules.ts';
import { parseRiskLevels } from './risk/config.ts';
import { DEFAULT_PLAN_MODE, isPlanMode, PLAN_MODES, type PlanMode } from './plan-mode.ts';
import type { RiskId, RiskLevel } from './risk/rules.ts';

/** A Helm release rendered into an environment; names follow Flux's HelmRelease so they copy across. */
export interface HelmReleaseConfig {
  readonly releaseName: string;
  /** A chart folder in the repository (`./charts/web`), or a chart name in `repository`. */
  readonly chart: string;
  /** Repo-relative chart folder when the chart is local. */
  readonly localChart: string | undefined;
  /** `https://…` chart repository or `oci://…` registry; absent for a local chart. */
  readonly repository: string | undefined;
  readonly version: string | undefined;
  readonly targetNamespace: string | undefined;
  /** Repo-relative values files, applied in order. */
  readonly valuesFiles: readonly string[];
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * Talk plain HTTP to an `oci://` registry (Flux's `insecure`), the chart's own and its `oci://`
   * dependencies'; for registries on a private network.
   */
  readonly insecure: boolean;
}

export interface PruneBudget {
  /** Refuse a prune deleting more objects than this. */
  readonly maxObjects: number;
  /** Refuse a prune deleting more than this share of the inventory (0-100). */
  readonly maxPercent: number;
}

export interface ClusterPin {
  readonly server: string | undefined;
  readonly kubeSystemUid: string | undefined;
}

export interface EnvironmentConfig {
  readonly name: string;
  /** Repo-relative folder of the environment. */
  readonly path: string;
  readonly namespace: string | undefined;
  readonly context: string | undefined;
  readonly prune: boolean;
  readonly pruneBudget: PruneBudget;
  /** Kinds protected from prune (Namespace, CRD, PVC) that this environment allows to delete. */
  readonly allowDelete: readonly string[];
  readonly forceConflicts: boolean;
  readonly cluster: ClusterPin | undefined;
  readonly wait: boolean;
  readonly timeoutSeconds: number;
  /** Health rules (CEL) for kinds kstatus cannot judge, from `health-checks:`. */
  readonly healthChecks: readonly HealthCheckRule[];
  readonly helm: readonly HelmReleaseConfig[];
  /** Risk rule levels from `risks:` (a rule not listed is a warning). */
  readonly risks: Readonly<Partial<Record<RiskId, RiskLevel>>>;
  /** Noise rules from `ignore-differences:`. */
  readonly ignoreDifferences: readonly IgnoreRule[];
  /**
   * `remote: allow`: remote kustomize bases and Helm chart repositories may be read (listed in the
   * plan); refused by default, since they are reads from outside the repository.
   */
  readonly allowRemote: boolean;
  /** `require-reviewed-plan: true`: an apply whose plan is not the reviewed one writes nothing. */
  readonly requireReviewedPlan: boolean;
  /** `plan-mode`: how plans compare with live: server dry-run, read-only estimate, or auto (plan-mode.ts). */
  readonly planMode: PlanMode;
  /**
   * `state-namespace`: where the environment's inventory (ConfigMap) and lock (Lease) live; an
   * identity bound only in this namespace can then run Slipway (see inventory-move.ts for a change).
   */
  readonly stateNamespace: string;
}

export interface SlipwayConfig {
  /** Repo-relative config file, or undefined when environments came from `clusters/`. */
  readonly file: string | undefined;
  readonly environments: ReadonlyMap<string, EnvironmentConfig>;
  /** `image-policies:`: which newer image tags `slipway images` proposes. */
  readonly imagePolicies?: readonly ImagePolicy[];
  /** `image-pull-requests:`: one image pull request per environment (default), or one grouped. */
  readonly imagePullRequests?: ImageRequestMode;
}

export const DEFAULT_CONFIG_FILE = 'slipway.yaml';
/** Where inventories and locks live unless `state-namespace` says otherwise. */
export const DEFAULT_STATE_NAMESPACE = 'slipway-system';
export const PROTECTED_KINDS = ['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim'] as const;

const TOP_KEYS = new Set(['environments', 'image-policies', 'image-pull-requests', 'state-namespace']);
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

/**
 * Loads slipway.yaml (or `configFile`); without one, every folder directly under `clusters/` is an
 * environment of that name. Reports every problem in the file at once.
 */
export function loadConfig(repo: RepoPaths, configFile?: string): SlipwayConfig {
  const relative = configFile ?? DEFAULT_CONFIG_FILE;
  const absolute = repo.resolve(relative, 'config file');
  if (!repo.exists(absolute)) {
    // Naming the default file explicitly (the action's default input does) still allows the
    // clusters/ convention; any other missing file is a mistake worth stopping for.
    if (configFile !== undefined && configFile !== DEFAULT_CONFIG_FILE) {
      throw new UserError('config', `config file "${relative}" does not exist`, {
        hint: 'create it or drop --config to use slipway.yaml',
      });
    }
    return conventionalConfig(repo);
  }
  const file = repo.relative(absolute);
  const documents = parseYamlDocuments(readFileSync(absolute, 'utf8'), file);
  return parseConfig(documents[0]?.value, file, documents[0]?.keyLines ?? new Map(), repo);
}

function conventionalConfig(repo: RepoPaths): SlipwayConfig {
  const clusters = path.join(repo.root, 'clusters');
  let names: string[];
  try {
    names = readdirSync(clusters, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    names = [];
  }
  if (names.length === 0) {
    throw new UserError(
      'config',
      'no slipway.yaml and no folders under clusters/: no environments to work on',
      {
        hint: 'run `slipway init` to write a slipway.yaml listing your environment folders',
      },
    );
  }
  const environments = new Map<string, EnvironmentConfig>();
  for (const name of names) {
    repo.resolve(`clusters/${name}`, `environment "${name}" path`);
    environments.set(name, defaultEnvironment(name, `clusters/${name}`, DEFAULT_STATE_NAMESPACE));
  }
  return { file: undefined, environments };
}

function defaultEnvironment(name: string, envPath: string, stateNamespace: string): EnvironmentConfig {
  return {
    name,
    path: envPath,
    namespace: undefined,
    context: undefined,
    prune: true,
    pruneBudget: { maxObjects: 100, maxPercent: 50 },
    allowDelete: [],
    forceConflicts: true,
    cluster: undefined,
    wait: true,
    timeoutSeconds: 300,
    healthChecks: [],
    helm: [],
    risks: {},
    ignoreDifferences: [],
    allowRemote: false,
    requireReviewedPlan: false,
    planMode: DEFAULT_PLAN_MODE,
    stateNamespace,
  };
}

/** Pure: turns the parsed YAML into a config, collecting every problem with its line. */
export function parseConfig(
  raw: unknown,
  file: string,
  keyLines: ReadonlyMap<string, number>,
  repo: RepoPaths,
): SlipwayConfig {
  const problems: { message: string; line: number }[] = [];
  // Key lines are only kept a few levels deep: a deeper key (a helm release's) takes its nearest ancestor's line.
  const at = (keyPath: string): number => {
    for (let key = keyPath; key !== ''; key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '') {
      const line = keyLines.get(key);
      if (line !== undefined) return line;
    }
    return 0;
  };
  const problem = (keyPath: string, message: string): void => {
    problems.push({ message, line: at(keyPath) });
  };

  const environments = new Map<string, EnvironmentConfig>();
  let imagePolicies: ImagePolicy[] = [];
  let imagePullRequests: ImageRequestMode = 'per-environment';
  if (!isPlainObject(raw)) {
    problem('', 'the file must be a mapping with an `environments:` key');
  } else {
    for (const key of Object.keys(raw)) {
      if (!TOP_KEYS.has(key)) problem(key, `unknown key "${key}" (allowed: ${[...TOP_KEYS].join(', ')})`);
    }
    imagePolicies = parseImagePolicies(raw['image-policies'], problem);
    imagePullRequests = parseImageRequestMode(raw['image-pull-requests'], problem);
    const stateNamespace = namespaceName(raw, 'state-namespace', '', problem) ?? DEFAULT_STATE_NAMESPACE;
    const envs = raw.environments;
    if (!isPlainObject(envs) || Object.keys(envs).length === 0) {
      problem('environments', '`environments:` must map at least one environment name to its settings');
    } else {
      for (const [name, value] of Object.entries(envs)) {
        const env = parseEnvironment(name, value, `environments.${name}`, problem, repo, stateNamespace);
        if (env) environments.set(name, env);
      }
    }
  }
  for (const policy of imagePolicies)
    for (const name of policy.environments ?? [])
      if (!environments.has(name) && environments.size > 0)
        problem(
          `image-policies.${policy.name}.environments`,
          `image policy "${policy.name}" names unknown environment "${name}"`,
        );
  if (problems.length > 0) {
    const first = problems[0];
    const list = problems.map((p) => `${file}:${p.line}: ${p.message}`).join('\n');
    throw new UserError(
      'config',
      problems.length === 1 ? (first?.message ?? '') : `${problems.length} problems:\n${list}`,
      {
        location: { file, line: first?.line ?? 0 },
        hint: 'see the configuration reference in the README',
      },
    );
  }
  return { file, environments, imagePolicies, imagePullRequests };
}

type Problem = (keyPath: string, message: string) => void;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parseEnvironment(
  name: string,
  value: unknown,
  at: string,
  problem: Problem,
  repo: RepoPaths,
  stateNamespace: string,
): EnvironmentConfig | undefined {
  if (!NAME.test(name) || name.length > 63) {
    problem(at, `environment name "${name}" must be lowercase letters, digits and '-'`);
  }
  // `all` already means every environment (re-sync input, the grouped image branch).
  if (name === 'all') problem(at, 'environment name "all" is reserved: it means every environment');
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
  const envPath = str(value, 'path', at, problem, true);
  let resolvedPath = '';
  if (envPath !== undefined) {
    try {
      resolvedPath = repo.relative(
        repo.resolve(envPath === '' ? '.' : envPath, `environment "${name}" path`),
      );
    } catch (error) {
      problem(`${at}.path`, error instanceof Error ? error.message : String(error));
    }
  }
  const budget = value['prune-budget'];
  let pruneBudget = env.pruneBudget;
  if (budget !== undefined) {
    if (!isPlainObject(budget)) {
      problem(`${at}.prune-budget`, '`prune-budget` must be a mapping with max-objects and/or max-percent');
    } else {
      for (const key of Object.keys(budget)) {
        if (key !== 'max-objects' && key !== 'max-percent')
          problem(
            `${at}.prune-budget.${key}`,
            `unknown key "${key}" in prune-budget (allowed: max-objects, max-percent)`,
          );
      }
      pruneBudget = {
        maxObjects: num(budget, 'max-objects', `${at}.prune-budget`, problem) ?? env.pruneBudget.maxObjects,
        maxPercent: num(budget, 'max-percent', `${at}.prune-budget`, problem) ?? env.pruneBudget.maxPercent,
      };
    }
  }
  const allowDelete = strList(value, 'allow-delete', at, problem) ?? [];
  for (const kind of allowDelete) {
    if (!(PROTECTED_KINDS as readonly string[]).includes(kind)) {
      problem(
        `${at}.allow-delete`,
        `allow-delete lists "${kind}", which is not a protected kind (${PROTECTED_KINDS.join(', ')})`,
      );
    }
  }
  let cluster: ClusterPin | undefined;
  const pin = value.cluster;
  if (pin !== undefined) {
    if (!isPlainObject(pin)) {
      problem(`${at}.cluster`, '`cluster` must be a mapping with server and/or kube-system-uid');
    } else {
      for (const key of Object.keys(pin)) {
        if (key !== 'server' && key !== 'kube-system-uid')
          problem(
            `${at}.cluster.${key}`,
            `unknown key "${key}" in cluster (allowed: server, kube-system-uid)`,
          );
      }
      cluster = {
        server: str(pin, 'server', `${at}.cluster`, problem),
        kubeSystemUid: str(pin, 'kube-system-uid', `${at}.cluster`, problem),
      };
    }
  }
  let timeoutSeconds = env.timeoutSeconds;
  const timeout = str(value, 'timeout', at, problem);
  if (timeout !== undefined) {
    try {
      timeoutSeconds = parseDuration(timeout);
    } catch (error) {
      problem(`${at}.timeout`, error instanceof Error ? error.message : String(error));
    }
  }
  const helm: HelmReleaseConfig[] = [];
  const releases = value.helm;
  if (releases !== undefined) {
    if (!Array.isArray(releases)) problem(`${at}.helm`, '`helm` must be a list of releases');
    else
      releases.forEach((release, index) => {
        const parsed = parseHelmRelease(release, `${at}.helm.${index}`, problem, repo);
        if (parsed) helm.push(parsed);
      });
  }
  const healthChecks =
    value['health-checks'] === undefined
      ? []
      : parseHealthChecks(value['health-checks'], (sub, message) => {
          problem(sub ? `${at}.health-checks.${sub}` : `${at}.health-checks`, message);
        });
  const risks =
    value.risks === undefined
      ? {}
      : parseRiskLevels(value.risks, (sub, message) => {
          problem(sub ? `${at}.risks.${sub}` : `${at}.risks`, message);
        });
  const ignoreDifferences =
    value['ignore-differences'] === undefined
      ? []
      : parseIgnoreDifferences(value['ignore-differences'], (sub, message) => {
          problem(sub ? `${at}.ignore-differences.${sub}` : `${at}.ignore-differences`, message);
        });
  const remote = str(value, 'remote', at, problem);
  if (remote !== undefined && remote !== 'allow' && remote !== 'deny')
    problem(`${at}.remote`, `remote must be "allow" or "deny", got "${remote}"`);
  const planMode = str(value, 'plan-mode', at, problem);
  if (planMode !== undefined && !isPlanMode(planMode))
    problem(`${at}.plan-mode`, `plan-mode must be one of ${PLAN_MODES.join(', ')}, got "${planMode}"`);
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
    planMode: planMode !== undefined && isPlanMode(planMode) ? planMode : env.planMode,
    stateNamespace: namespaceName(value, 'state-namespace', at, problem) ?? env.stateNamespace,
  };
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

function str(
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

function namespaceName(
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

function bool(obj: Record<string, unknown>, key: string, at: string, problem: Problem): boolean | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    problem(`${at}.${key}`, `"${key}" must be true or false, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

function num(obj: Record<string, unknown>, key: string, at: string, problem: Problem): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    problem(`${at}.${key}`, `"${key}" must be a non-negative number, got ${typeName(value)}`);
    return undefined;
  }
  return value;
}

function strList(
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

export function environmentOrThrow(config: SlipwayConfig, name: string): EnvironmentConfig {
  const env = config.environments.get(name);
  if (!env) {
    const known = [...config.environments.keys()].join(', ');
    const location: SourceLocation | undefined = config.file ? { file: config.file, line: 0 } : undefined;
    throw new UserError('config', `unknown environment "${name}" (known: ${known})`, {
      ...(location ? { location } : {}),
      hint: 'pass one of the environment names from slipway.yaml',
    });
  }
  return env;
}
