import { readdirSync, type Dirent } from 'node:fs';
import type { EnvironmentConfig, SlipwayConfig } from '../config/config.ts';
import { UserError } from '../errors.ts';
import type { RepoPaths } from '../paths.ts';
import type { GitHistory } from '../ports.ts';
import { readChartSpec } from '../render/helm-chart.ts';
import { kustomizationFile, kustomizeDependencies } from '../render/kustomize-graph.ts';

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

/**
 * A local chart's `file://` dependencies (Chart.yaml, or requirements.yaml for apiVersion v1), and
 * theirs in turn: the release renders from those folders as well.
 */
function localChartDependencies(repo: RepoPaths, chart: string, seen = new Set<string>()): string[] {
  if (seen.has(chart) || !repo.exists(repo.resolve(`${chart}/Chart.yaml`, 'Chart.yaml'))) return [];
  seen.add(chart);
  const spec = readChartSpec(repo, chart);
  const deps: string[] = [];
  for (const dependency of spec.dependencies) {
    if (!dependency.repository.startsWith('file://')) continue;
    const folder = repo.relative(
      repo.resolve(dependency.repository.slice('file://'.length), 'chart dependency', spec.dir),
    );
    deps.push(folder, ...localChartDependencies(repo, folder, seen));
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

/**
 * Where a pull request's change starts: the merge base of its base and head, as GitHub's "Files
 * changed" tab counts it. `pull_request.base.sha` is the base branch's tip when the event fired;
 * once main has moved on, diffing from it would count main's own changes as the pull request's
 * (and the danger lint would compare with a revision the branch never had).
 */
export async function pullRequestBase(git: GitHistory, baseTip: string, head: string): Promise<string> {
  const mergeBase = await git.mergeBase(baseTip, head);
  if (mergeBase) return mergeBase;
  throw new UserError(
    'git',
    `cannot find where the change branched off: ${baseTip.slice(0, 12)} (base) and ${head.slice(0, 12)} (head) have no merge base in this checkout`,
    { hint: 'check out the whole history (actions/checkout with `fetch-depth: 0`)' },
  );
}
