import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import type { EnvironmentConfig, SlipwayConfig } from './config.ts';
import { UserError } from './errors.ts';
import type { RepoPaths } from './paths.ts';
import { kustomizationFile, kustomizeDependencies } from './render/kustomize-graph.ts';
import { isPlainObject } from './objects.ts';
import { parseYamlDocuments } from './yaml.ts';

export interface Detection {
  readonly environments: string[];
  /** Environment → the changed files that affect it. */
  readonly reasons: Record<string, string[]>;
}

/**
 * Every repo-relative path an environment renders from: its folder, what its kustomizations
 * reference (transitively, e.g. a shared base), its Helm charts and values files, and the config.
 * A folder path covers everything below it.
 */
export function environmentDependencies(
  repo: RepoPaths,
  config: SlipwayConfig,
  env: EnvironmentConfig,
): Set<string> {
  const deps = new Set<string>([env.path]);
  if (config.file) deps.add(config.file);
  const seen = new Set<string>();
  const envDir = repo.resolve(env.path, `environment "${env.name}" path`);
  for (const dir of kustomizationDirs(repo, envDir)) {
    for (const dep of kustomizeDependencies(repo, dir, seen)) deps.add(dep);
  }
  for (const release of env.helm) {
    if (release.localChart) {
      deps.add(release.localChart);
      for (const dep of localChartDependencies(repo, release.localChart)) deps.add(dep);
    }
    for (const file of release.valuesFiles) deps.add(file);
  }
  return deps;
}

function kustomizationDirs(repo: RepoPaths, envDir: string): string[] {
  if (!repo.exists(envDir)) return [];
  const dirs: string[] = [];
  const visit = (dir: string): void => {
    if (kustomizationFile(dir)) {
      dirs.push(dir);
      return;
    }
    for (const entry of safeReaddir(dir))
      if (entry.isDirectory() && !entry.name.startsWith('.')) visit(`${dir}/${entry.name}`);
  };
  visit(envDir);
  return dirs;
}

function safeReaddir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** A local chart's `file://` dependencies in Chart.yaml are part of what it renders from. */
function localChartDependencies(repo: RepoPaths, chart: string): string[] {
  const chartFile = repo.resolve(`${chart}/Chart.yaml`, 'Chart.yaml');
  if (!repo.exists(chartFile)) return [];
  const spec = parseYamlDocuments(readFileSync(chartFile, 'utf8'), repo.relative(chartFile))[0]?.value;
  if (!isPlainObject(spec) || !Array.isArray(spec.dependencies)) return [];
  const deps: string[] = [];
  for (const dependency of spec.dependencies) {
    if (
      isPlainObject(dependency) &&
      typeof dependency.repository === 'string' &&
      dependency.repository.startsWith('file://')
    ) {
      deps.push(
        repo.relative(
          repo.resolve(`${chart}/${dependency.repository.slice('file://'.length)}`, 'chart dependency'),
        ),
      );
    }
  }
  return deps;
}

/** Pure: which environments the changed files touch, given each environment's dependencies. */
export function affectedEnvironments(
  changed: readonly string[],
  dependencies: ReadonlyMap<string, ReadonlySet<string>>,
): Detection {
  const reasons: Record<string, string[]> = {};
  for (const [env, deps] of dependencies) {
    const hits = changed.filter((file) =>
      [...deps].some((dep) => dep === '.' || file === dep || file.startsWith(`${dep}/`)),
    );
    if (hits.length > 0) reasons[env] = [...new Set(hits)].sort();
  }
  return { environments: Object.keys(reasons).sort(), reasons };
}

export function detectAll(repo: RepoPaths, config: SlipwayConfig, changed: readonly string[]): Detection {
  const dependencies = new Map<string, Set<string>>();
  for (const env of config.environments.values()) {
    try {
      dependencies.set(env.name, environmentDependencies(repo, config, env));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // A broken kustomization still belongs to its environment: plan it, and let render report it.
      dependencies.set(env.name, new Set([env.path, ...(config.file ? [config.file] : [])]));
    }
  }
  return affectedEnvironments(changed, dependencies);
}
