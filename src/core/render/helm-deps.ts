import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { Finding } from '../yaml/manifest.ts';
import type { CommandRunner } from '../ports.ts';
import type { RepoPaths } from '../paths.ts';
import { checkRemote } from './remote.ts';
import {
  helm2LockDigest,
  lockDigest,
  readChartSpec,
  type ChartDependency,
  type ChartSpec,
} from './helm-chart.ts';

export interface DependencyContext {
  readonly runner: CommandRunner;
  readonly repo: RepoPaths;
  readonly helm: string;
  /** Scratch folder owned by the caller (removed after the render); never inside the repository. */
  readonly scratch: string;
  readonly env: Readonly<Record<string, string>>;
  /** Talk plain HTTP to `oci://` dependency registries (the release's `insecure`). */
  readonly plainHttp: boolean;
  /** The environment's `remote: allow`; without it a dependency that is not vendored is refused. */
  readonly allowRemote: boolean;
  readonly environment: string;
}

export interface PreparedChart {
  /** Absolute folder to hand to `helm template`: the chart itself, or a built copy in scratch. */
  readonly dir: string;
  /** Subchart name (and alias) → repo-relative folder of a `file://` dependency, for provenance. */
  readonly localSubcharts: ReadonlyMap<string, string>;
  readonly findings: Finding[];
}

/**
 * Makes a repository chart renderable with its `dependencies:`, the way `helm dependency build`
 * does, without writing into the repository: `file://` charts are packaged from their folder (which
 * must be inside the repository), charts vendored in `charts/` at the locked version are used as
 * they are (no network), and only the missing ones are pulled, at the Chart.lock version.
 */
export async function prepareChart(chartDir: string, context: DependencyContext): Promise<PreparedChart> {
  return prepare(chartDir, context, new Set());
}

async function prepare(
  chartDir: string,
  context: DependencyContext,
  visiting: Set<string>,
): Promise<PreparedChart> {
  const { repo } = context;
  const spec = readChartSpec(repo, chartDir);
  const absolute = repo.resolve(spec.dir, 'helm chart');
  // helm reads through symlinks: one leading out of the repository would be rendered from there.
  assertNoEscapingLinks(repo, absolute);
  const findings = lockFindings(spec);
  const local = new Map<string, string>();
  const localDeps: [ChartDependency, string][] = [];
  for (const dep of spec.dependencies) {
    if (dep.repository.startsWith('file://')) {
      const folder = localDependencyDir(repo, spec, dep);
      localDeps.push([dep, folder]);
      local.set(dep.alias ?? dep.name, folder);
      local.set(dep.name, folder);
    } else if (dep.repository.startsWith('@') || dep.repository.startsWith('alias:')) {
      throw new UserError(
        'render',
        `dependency "${dep.name}" in ${spec.chartFile} names the repository by a local alias (${dep.repository})`,
        {
          location: { file: spec.chartFile, line: 0 },
          hint: 'write the repository URL (https://… or oci://…) in Chart.yaml: aliases only exist in one machine’s `helm repo add`',
        },
      );
    }
  }
  const remote = spec.dependencies
    .filter((dep) => dep.repository !== '' && !dep.repository.startsWith('file://'))
    .map((dep) => ({ dep, ...vendoredState(path.join(absolute, 'charts'), spec, dep) }));
  const fixes = remote.filter((r) => !r.present || r.stale.length > 0);
  if (local.size === 0 && fixes.length === 0) return { dir: absolute, localSubcharts: local, findings };
  if (visiting.has(spec.dir))
    throw new UserError('render', `chart ${spec.dir} depends on itself through file:// dependencies`, {
      location: { file: spec.chartFile, line: 0 },
    });
  visiting.add(spec.dir);
  const copy = mkdtempSync(path.join(context.scratch, 'chart-'));
  // Symlinks were checked to stay inside the repository; the copy holds their targets.
  cpSync(absolute, copy, { recursive: true, dereference: true });
  const charts = path.join(copy, 'charts');
  mkdirSync(charts, { recursive: true });
  for (const [dep, folder] of localDeps) {
    const built = await prepare(folder, context, visiting);
    findings.push(...built.findings);
    // The folder is the source of truth: an archive of it left in charts/ would hide changes.
    removeSubchart(charts, dep.name);
    await helm(
      context,
      ['package', built.dir, '--destination', charts],
      `package ${dep.name} from ${folder}`,
      spec,
    );
  }
  for (const { dep, present, stale } of fixes) {
    findings.push(...stale.map((file) => staleArchive(spec, dep, file, present)));
    for (const file of stale) rmSync(path.join(charts, file), { force: true });
    if (!present) await pull(context, spec, dep, charts);
  }
  visiting.delete(spec.dir);
  return { dir: copy, localSubcharts: local, findings };
}

function lockFindings(spec: ChartSpec): Finding[] {
  const remote = spec.dependencies.filter((d) => d.repository !== '' && !d.repository.startsWith('file://'));
  if (!spec.lock) {
    if (remote.length === 0) return [];
    return [
      {
        severity: 'warning',
        rule: 'helm-unlocked-dependencies',
        location: { file: spec.chartFile, line: 0 },
        message: `chart ${spec.dir} has no ${path.posix.basename(spec.lockFile)}: ${remote.map((d) => d.name).join(', ')} resolved from the version ranges in ${path.posix.basename(spec.chartFile)} at render time, so a later render may fetch other versions (run \`helm dependency update\` and commit the lock)`,
      },
    ];
  }
  const digests = [lockDigest(spec.dependencies, spec.lock.dependencies)];
  // helm also accepts a requirements.lock written by Helm 2 for an apiVersion v1 chart.
  if (spec.legacy) digests.push(helm2LockDigest(spec.dependencies));
  if (!digests.includes(spec.lock.digest)) {
    throw new UserError(
      'render',
      `${spec.lockFile} is out of sync with the dependencies in ${spec.chartFile} (helm refuses to build it too)`,
      {
        location: { file: spec.lockFile, line: 0 },
        hint: `run \`helm dependency update ${spec.dir}\` and commit the new lock`,
      },
    );
  }
  return [];
}

function localDependencyDir(repo: RepoPaths, spec: ChartSpec, dep: ChartDependency): string {
  const relative = dep.repository.slice('file://'.length);
  const absolute = repo.resolve(relative, `file:// dependency "${dep.name}" of ${spec.chartFile}`, spec.dir);
  const folder = repo.relative(absolute);
  if (!existsSync(path.join(absolute, 'Chart.yaml')))
    throw new UserError(
      'render',
      `file:// dependency "${dep.name}" in ${spec.chartFile}: ${folder} holds no Chart.yaml`,
      {
        location: { file: spec.chartFile, line: 0 },
      },
    );
  const locked = spec.lock?.dependencies.find((l) => l.name === dep.name);
  const version = readChartSpec(repo, folder).version;
  if (locked?.version && locked.version !== version)
    throw new UserError(
      'render',
      `${spec.lockFile} locks "${dep.name}" at ${locked.version}, but ${folder}/Chart.yaml is at ${version}`,
      { location: { file: spec.lockFile, line: 0 }, hint: `run \`helm dependency update ${spec.dir}\`` },
    );
  return folder;
}

/**
 * A dependency is vendored when charts/ holds its folder or `<name>-<locked version>.tgz` (the name
 * helm writes); archives of other versions are stale: helm would load them as well.
 */
function vendoredState(
  charts: string,
  spec: ChartSpec,
  dep: ChartDependency,
): { present: boolean; stale: string[] } {
  if (existsSync(path.join(charts, dep.name, 'Chart.yaml'))) return { present: true, stale: [] };
  const archives = archivesOf(charts, dep.name);
  const locked = spec.lock?.dependencies.find((l) => l.name === dep.name)?.version;
  if (locked === undefined) return { present: archives.length > 0, stale: [] };
  const wanted = `${dep.name}-${locked}.tgz`;
  return { present: archives.includes(wanted), stale: archives.filter((file) => file !== wanted) };
}

function archivesOf(charts: string, name: string): string[] {
  if (!existsSync(charts)) return [];
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-v?\\d[^/]*\\.tgz$`);
  return readdirSync(charts).filter((file) => pattern.test(file));
}

/** A vendored archive at another version than the lock's: left out, and said so (helm build drops it too). */
function staleArchive(spec: ChartSpec, dep: ChartDependency, file: string, present: boolean): Finding {
  const locked = spec.lock?.dependencies.find((l) => l.name === dep.name)?.version ?? '';
  const shown = path.posix.join(spec.dir, 'charts', file);
  return {
    severity: 'warning',
    rule: 'helm-stale-vendored-chart',
    location: { file: shown, line: 0 },
    message: `${shown} is not the version ${path.posix.basename(spec.lockFile)} pins (${locked}): it is left out and the locked version ${present ? 'beside it is used' : 'was fetched'} (run \`helm dependency build\` and commit charts/)`,
  };
}

function removeSubchart(charts: string, name: string): void {
  for (const file of archivesOf(charts, name)) rmSync(path.join(charts, file), { force: true });
  rmSync(path.join(charts, name), { recursive: true, force: true });
}

async function pull(
  context: DependencyContext,
  spec: ChartSpec,
  dep: ChartDependency,
  charts: string,
): Promise<void> {
  const version = spec.lock?.dependencies.find((l) => l.name === dep.name)?.version ?? dep.version;
  checkRemote(
    {
      reference: dep.repository,
      location: { file: spec.chartFile, line: 0 },
      what: `helm dependency ${dep.name} from`,
    },
    context.environment,
    context.allowRemote,
  );
  const args = dep.repository.startsWith('oci://')
    ? [
        'pull',
        `${dep.repository.replace(/\/$/, '')}/${dep.name}`,
        ...(context.plainHttp ? ['--plain-http'] : []),
      ]
    : ['pull', dep.name, '--repo', dep.repository];
  if (version) args.push('--version', version);
  args.push('--destination', charts);
  await helm(context, args, `fetch dependency "${dep.name}" ${version ?? ''} from ${dep.repository}`, spec);
}

async function helm(
  context: DependencyContext,
  args: string[],
  what: string,
  spec: ChartSpec,
): Promise<void> {
  const result = await context.runner.run(context.helm, args, {
    cwd: context.scratch,
    env: context.env,
    timeoutMs: 300_000,
  });
  if (result.exitCode !== 0)
    throw new UserError(
      'render',
      `helm could not ${what}: ${result.stderr.trim().split('\n').slice(0, 6).join(' ')}`,
      {
        location: { file: spec.chartFile, line: 0 },
        hint: 'check the dependency’s repository, name and version, and the registry credentials (`helm registry login`)',
      },
    );
}

function assertNoEscapingLinks(repo: RepoPaths, dir: string): void {
  for (const name of readdirSync(dir)) {
    const absolute = path.join(dir, name);
    const stat = lstatSync(absolute);
    if (stat.isSymbolicLink()) repo.assertRealInside(absolute, 'symlink in helm chart');
    else if (stat.isDirectory()) assertNoEscapingLinks(repo, absolute);
  }
}

/** The scratch folder for one release's render; the caller removes it. */
export function makeScratch(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'slipway-helm-'));
}
