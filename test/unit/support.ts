// Shared helpers for the render, detect and CLI tests: fixture copies, the pinned tools, git, the CLI.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from '../../src/core/errors.ts';
import type { Logger } from '../../src/core/ports.ts';
import { runCli } from '../../src/cli/main.ts';
import { ensureTools, toolPaths } from '../cluster/build.ts';

export const FIXTURE_REPOS = fileURLToPath(new URL('../fixtures/repos/', import.meta.url));
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A scratch folder, removed by `cleanup`. */
export interface Scratch {
  readonly dir: string;
  cleanup(): void;
}

export function scratch(prefix = 'slipway-test-'): Scratch {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Copies `test/fixtures/repos/<name>` to `<scratch>/repo`, so tests can add symlinks, commits and
 * files beside the repository (`<scratch>/outside`) without touching the checked-in fixture.
 */
export function copyFixture(name: string, into: Scratch): string {
  const repo = path.join(into.dir, 'repo');
  cpSync(path.join(FIXTURE_REPOS, name), repo, { recursive: true });
  return repo;
}

export interface RenderToolPaths {
  readonly kustomize: string;
  readonly helm: string;
  readonly kubectl: string;
}

/**
 * The pinned kustomize and helm from the cluster tool cache, built first when missing. A tool that
 * cannot be built fails the test: render behaviour is only trustworthy with the real tools.
 */
export async function pinnedTools(): Promise<RenderToolPaths> {
  const paths = toolPaths();
  if (!isExecutable(paths.kustomize) || !isExecutable(paths.helm)) await ensureTools();
  for (const tool of [paths.kustomize, paths.helm]) {
    if (!isExecutable(tool)) throw new Error(`pinned tool ${tool} is missing after ensureTools()`);
  }
  // Never reached while kustomize exists; a path that cannot exist keeps the fallback honest.
  return {
    kustomize: paths.kustomize,
    helm: paths.helm,
    kubectl: path.join(os.tmpdir(), 'no-kubectl-here', 'kubectl'),
  };
}

function isExecutable(file: string): boolean {
  try {
    const stat = statSync(file);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** An empty folder: as PATH, one on which kustomize, kubectl and helm are all missing. */
export function pathWithout(into: Scratch): string {
  const bin = path.join(into.dir, 'bin-without-tools');
  mkdirSync(bin, { recursive: true });
  return bin;
}

/** A logger that keeps what it is told, for assertions and to keep test output quiet. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];

  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }

  warn(message: string, location?: SourceLocation): void {
    this.lines.push(`warning: ${location ? `${location.file}:${location.line}: ` : ''}${message}`);
  }

  error(message: string, location?: SourceLocation): void {
    this.lines.push(`error: ${location ? `${location.file}:${location.line}: ` : ''}${message}`);
  }

  debug(message: string): void {
    this.lines.push(`debug: ${message}`);
  }

  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.lines.push(`group: ${title}`);
    return work();
  }
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Slipway Test',
  GIT_AUTHOR_EMAIL: 'test@slipway.invalid',
  GIT_COMMITTER_NAME: 'Slipway Test',
  GIT_COMMITTER_EMAIL: 'test@slipway.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Runs git in `cwd` with a fixed identity and no user or system config; returns stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8',
  });
}

/** `git add -A && git commit`, returning the new commit's id. */
export function commitAll(cwd: string, message: string): string {
  git(cwd, 'add', '-A');
  git(cwd, 'commit', '-q', '-m', message);
  return git(cwd, 'rev-parse', 'HEAD').trim();
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process, as `slipway <argv>` run from `cwd`, capturing its output. */
export async function runSlipway(
  argv: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: options.env ?? { PATH: process.env['PATH'] },
    cwd: options.cwd,
    isTty: false,
  });
  return { code, stdout, stderr };
}

/** Environment for the CLI with the pinned render tools. */
export function cliEnv(
  tools: RenderToolPaths,
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SLIPWAY_KUSTOMIZE: tools.kustomize,
    SLIPWAY_HELM: tools.helm,
    SLIPWAY_KUBECTL: tools.kubectl,
    ...extra,
  };
}
