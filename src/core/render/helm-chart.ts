import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { isPlainObject } from '../objects.ts';
import type { RepoPaths } from '../paths.ts';
import { parseYamlDocuments } from '../yaml/yaml.ts';

/** One entry of `dependencies:` in Chart.yaml (or of Chart.lock), fields in helm's own order. */
export interface ChartDependency {
  readonly name: string;
  readonly version: string | undefined;
  /** `file://…`, `oci://…`, `https://…`, or empty for a chart kept in `charts/` by hand. */
  readonly repository: string;
  readonly condition: string | undefined;
  readonly tags: readonly string[] | undefined;
  readonly enabled: boolean | undefined;
  readonly importValues: readonly unknown[] | undefined;
  readonly alias: string | undefined;
}

export interface ChartLock {
  readonly digest: string;
  readonly dependencies: readonly ChartDependency[];
}

/** What a chart folder declares about its dependencies. */
export interface ChartSpec {
  /** Repo-relative chart folder. */
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly dependencies: readonly ChartDependency[];
  readonly lock: ChartLock | undefined;
  /** Repo-relative Chart.yaml (or Chart.lock), for messages. */
  readonly chartFile: string;
  readonly lockFile: string;
  /** apiVersion v1: dependencies in requirements.yaml, locked in requirements.lock. */
  readonly legacy: boolean;
}

/** Reads Chart.yaml and Chart.lock of a chart folder in the repository (requirements.* for apiVersion v1). */
export function readChartSpec(repo: RepoPaths, chartDir: string): ChartSpec {
  const dir = repo.relative(repo.resolve(chartDir, 'helm chart'));
  const chartFile = path.posix.join(dir, 'Chart.yaml');
  const chart = readYaml(repo, chartFile);
  if (!isPlainObject(chart)) {
    throw new UserError('render', `${chartFile} is missing or not a mapping: "${dir}" is not a helm chart`, {
      location: { file: chartFile, line: 0 },
      hint: 'point `chart:` at a folder holding a Chart.yaml',
    });
  }
  const legacy = chart.apiVersion === 'v1';
  const depsFile = legacy ? path.posix.join(dir, 'requirements.yaml') : chartFile;
  const lockFile = path.posix.join(dir, legacy ? 'requirements.lock' : 'Chart.lock');
  const depsSource = legacy ? readYaml(repo, depsFile) : chart;
  const dependencies = isPlainObject(depsSource) ? dependencyList(depsSource.dependencies, depsFile) : [];
  const lockValue = readYaml(repo, lockFile);
  const lock = isPlainObject(lockValue)
    ? {
        digest: typeof lockValue.digest === 'string' ? lockValue.digest : '',
        dependencies: dependencyList(lockValue.dependencies, lockFile),
      }
    : undefined;
  return {
    dir,
    name: scalar(chart.name) ?? path.posix.basename(dir),
    version: scalar(chart.version) ?? '',
    dependencies,
    lock,
    chartFile: depsFile,
    lockFile,
    legacy,
  };
}

function readYaml(repo: RepoPaths, file: string): unknown {
  const absolute = repo.resolve(file, 'chart file');
  if (!repo.exists(absolute)) return undefined;
  return parseYamlDocuments(readFileSync(absolute, 'utf8'), file, { kubectl: true })[0]?.value;
}

function dependencyList(value: unknown, file: string): ChartDependency[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new UserError('render', `\`dependencies\` in ${file} must be a list`, {
      location: { file, line: 0 },
    });
  return value.map((entry, index) => {
    if (!isPlainObject(entry) || typeof entry.name !== 'string' || entry.name === '')
      throw new UserError('render', `dependency ${index + 1} in ${file} has no name`, {
        location: { file, line: 0 },
      });
    return {
      name: entry.name,
      version: scalar(entry.version),
      repository: scalar(entry.repository) ?? '',
      condition: scalar(entry.condition),
      tags: Array.isArray(entry.tags) ? entry.tags.map(String) : undefined,
      enabled: typeof entry.enabled === 'boolean' ? entry.enabled : undefined,
      importValues: Array.isArray(entry['import-values']) ? entry['import-values'] : undefined,
      alias: scalar(entry.alias),
    };
  });
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The digest helm writes into Chart.lock: sha256 of Go's JSON encoding of
 * `[Chart.yaml dependencies, lock dependencies]` (helm's resolver.HashReq). When it differs from
 * the lock's, helm refuses to build ("out of sync") and so does Slipway.
 */
export function lockDigest(
  requested: readonly ChartDependency[],
  locked: readonly ChartDependency[],
): string {
  const json = JSON.stringify([requested.map(goDependency), locked.map(goDependency)]);
  return `sha256:${createHash('sha256').update(goEscape(json)).digest('hex')}`;
}

/** The digest Helm 2 wrote into requirements.lock (helm's resolver.HashV2Req). */
export function helm2LockDigest(requested: readonly ChartDependency[]): string {
  const json = JSON.stringify({ dependencies: requested.map(goDependency) });
  return `sha256:${createHash('sha256').update(goEscape(json)).digest('hex')}`;
}

/** Field order and `omitempty` of helm's chart.Dependency struct, strings sanitized as helm's loader does. */
function goDependency(dep: ChartDependency): Record<string, unknown> {
  const out: Record<string, unknown> = { name: sanitize(dep.name) };
  if (dep.version) out.version = sanitize(dep.version);
  out.repository = sanitize(dep.repository);
  if (dep.condition) out.condition = sanitize(dep.condition);
  if (dep.tags && dep.tags.length > 0) out.tags = dep.tags.map(sanitize);
  if (dep.enabled) out.enabled = true;
  if (dep.importValues && dep.importValues.length > 0)
    out['import-values'] = dep.importValues.map(sortKeysDeep);
  if (dep.alias) out.alias = sanitize(dep.alias);
  return out;
}

/** Go marshals maps with sorted keys. */
function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeysDeep(value[key])]),
  );
}

/** helm's sanitizeString: whitespace becomes a space, other unprintable characters go. */
function sanitize(text: string): string {
  return text.replace(/\s/gu, ' ').replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/gu, '');
}

/** encoding/json escapes <, >, & and the two JavaScript line separators. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
