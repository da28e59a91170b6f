// The npm package as a user gets it: `npm pack` of this working tree (its current dist/), installed
// offline into an empty folder, run with `npx` under a chosen Node. Shared by the install tests.
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const root = path.resolve(import.meta.dirname, '..', '..');

/** The first executable `name` on PATH outside any node_modules (the machine's own, not ours). */
export function systemProgram(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '' || dir.includes('node_modules')) continue;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return path.join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Node versions to run the package under: ours (24) and the machine's, when that is another. */
export function nodeVersions(): { label: string; bin: string }[] {
  const ours = { label: `Node ${process.versions.node} (devDependency)`, bin: process.execPath };
  // SLIPWAY_TEST_NODES: more Node binaries to try (colon-separated), e.g. the oldest supported one.
  const extra = (process.env.SLIPWAY_TEST_NODES ?? '').split(path.delimiter).filter((bin) => bin !== '');
  const system = systemProgram('node');
  const seen = new Set([realpathSync(process.execPath)]);
  const found = [ours];
  for (const [bin, origin] of [
    ...(system ? [[system, 'system'] as const] : []),
    ...extra.map((bin) => [bin, 'SLIPWAY_TEST_NODES'] as const),
  ]) {
    if (seen.has(realpathSync(bin))) continue;
    seen.add(realpathSync(bin));
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().slice(1);
    found.push({ label: `Node ${version} (${origin})`, bin });
  }
  return found;
}

/** The environment for child npm/npx runs: no npm_* variables leaking from an outer `npm test`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !/^npm_/i.test(key) && key !== 'NODE_OPTIONS') env[key] = value;
  return { ...env, ...extra };
}

/** `npm pack` of the working tree into a temp folder; returns the tarball and the files in it. */
export function packTarball(): { tarball: string; files: string[] } {
  const npm = systemProgram('npm');
  if (!npm) throw new Error('npm not found on PATH');
  const out = mkdtempSync(path.join(tmpdir(), 'slipway-pack-'));
  const json = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
    // SLIPWAY_TEST_PACK_DIR: pack another folder laid out like this one (a build not yet in dist/).
    cwd: process.env.SLIPWAY_TEST_PACK_DIR ?? root,
    encoding: 'utf8',
    env: cleanEnv(),
  });
  const [packed] = JSON.parse(json) as [{ filename: string; files: { path: string }[] }];
  return { tarball: path.join(out, packed.filename), files: packed.files.map((f) => f.path).sort() };
}

/** Installs the tarball into `dir` offline, with an empty npm cache: nothing can come from a registry. */
export async function installOffline(dir: string, tarball: string, args: string[] = []): Promise<string> {
  const npm = systemProgram('npm');
  if (!npm) throw new Error('npm not found on PATH');
  const { stdout, stderr } = await execFileAsync(
    npm,
    ['install', '--offline', '--no-audit', '--no-fund', ...args, tarball],
    { cwd: dir, env: cleanEnv({ npm_config_cache: path.join(dir, '.npm-cache') }) },
  );
  return stdout + stderr;
}

/** A folder holding only kustomize and helm (links to the cluster's tools): a PATH with nothing else. */
export function toolsOnly(binDir: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'slipway-tools-')), 'bin');
  mkdirSync(dir);
  for (const tool of ['kustomize', 'helm']) symlinkSync(path.join(binDir, tool), path.join(dir, tool));
  return dir;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program and never throws for a non-zero exit: the caller asserts on the code. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { ...options, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
