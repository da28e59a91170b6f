// Shared helpers for tests that run Slipway against the real local control plane.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { startCluster, type Cluster } from '../cluster/cluster.ts';

let shared: Promise<Cluster> | undefined;

/** One control plane per test process (a file), stopped when the process exits. */
export function sharedCluster(): Promise<Cluster> {
  shared ??= startCluster({ log: () => undefined });
  return shared;
}

export async function stopSharedCluster(): Promise<void> {
  if (shared) await (await shared).stop();
  shared = undefined;
}

/** A git repository in a temp folder, written and committed file by file. */
export class TestRepo {
  readonly dir: string;

  constructor(files: Record<string, string>) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'slipway-repo-'));
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.email', 'test@example.com');
    this.git('config', 'user.name', 'Test');
    this.commit(files, 'initial');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim();
  }

  /** Writes (or, with null, deletes) files and commits; returns the new commit's SHA. */
  commit(files: Record<string, string | null>, message: string): string {
    for (const [file, content] of Object.entries(files)) {
      const full = path.join(this.dir, file);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in this process against the cluster, as a user would from the repository root. */
export async function slipway(
  cluster: Cluster,
  repo: TestRepo,
  args: string[],
  extraEnv: Record<string, string> = {},
  kubeconfig = cluster.adminKubeconfig,
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--kubeconfig', kubeconfig], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {
      ...process.env,
      ...cluster.env,
      SLIPWAY_RETRY_SECONDS: '5',
      SLIPWAY_LOCK_WAIT_SECONDS: '5',
      ...extraEnv,
    },
    cwd: repo.dir,
    isTty: false,
  });
  return { code, stdout, stderr };
}

/** Runs the cluster's kubectl with the admin kubeconfig. */
export function kubectl(cluster: Cluster, args: string[], input?: string): string {
  return execFileSync(cluster.kubectl, ['--kubeconfig', cluster.adminKubeconfig, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, ...cluster.env },
  });
}

let counter = 0;
/** A name no other test in this process uses (namespaces, environments). */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid % 10000}-${counter}`;
}

/** slipway.yaml with one environment rendering `envs/<env>/`; `extra` are more keys (YAML lines). */
export function envConfig(env: string, namespace: string, extra: string[] = []): string {
  return [
    `environments:`,
    `  ${env}:`,
    `    path: envs/${env}`,
    `    namespace: ${namespace}`,
    ...extra.map((line) => `    ${line}`),
    '',
  ].join('\n');
}

/** Files relative to the environment folder `envs/<env>/` (null deletes on commit). */
export function inEnv(env: string, files: Record<string, string | null>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(files).map(([file, content]) => [`envs/${env}/${file}`, content]));
}

/** A repository with one environment; `files` are relative to the environment folder. */
export function envRepo(
  env: string,
  namespace: string,
  files: Record<string, string>,
  extra: string[] = [],
): TestRepo {
  return new TestRepo({ 'slipway.yaml': envConfig(env, namespace, extra), ...inEnv(env, files) });
}
