import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError, type SourceLocation } from '../errors.ts';
import { isPlainObject } from '../objects.ts';
import type { RepoPaths } from '../paths.ts';
import { parseYamlDocuments } from '../yaml/yaml.ts';
import { parseImagePolicies, type ImagePolicy } from '../images/policy.ts';
import { parseImageRequestMode, type ImageRequestMode } from '../images/requests.ts';
import {
  DEFAULT_CONFIG_FILE,
  DEFAULT_STATE_NAMESPACE,
  defaultEnvironment,
  type EnvironmentConfig,
  type SlipwayConfig,
} from './config-types.ts';
import { parseEnvironment } from './config-environment.ts';
import { namespaceName } from './config-values.ts';

// The config's shape lives in config-types.ts; importers keep reading it from here.
export type {
  ClusterPin,
  EnvironmentConfig,
  HelmReleaseConfig,
  PruneBudget,
  SlipwayConfig,
} from './config-types.ts';
export { DEFAULT_CONFIG_FILE, DEFAULT_STATE_NAMESPACE, PROTECTED_KINDS } from './config-types.ts';

const TOP_KEYS = new Set(['environments', 'image-policies', 'image-pull-requests', 'state-namespace']);

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
  if (problems.length > 0) throwProblems(file, problems);
  return { file, environments, imagePolicies, imagePullRequests };
}

function throwProblems(file: string, problems: readonly { message: string; line: number }[]): never {
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
