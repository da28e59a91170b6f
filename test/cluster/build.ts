// Builds (once) and caches the binaries behind the local control plane.
//
// Each binary is built under a temporary name and renamed into place, so an interrupted build never
// leaves a broken binary in the cache; a lock file keeps two processes from building at once.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AGE_KEYGEN,
  cacheRoot,
  HELM,
  KUBERNETES,
  KUSTOMIZE,
  KWOK,
  SOPS,
  toolBinDir,
  type GoInstallTool,
} from './versions.ts';

export interface Tools {
  /** The control plane: `slipway-k8s etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubectl`. */
  slipwayK8s: string;
  kwok: string;
  kustomize: string;
  helm: string;
  /** A `kubectl` script that runs `slipway-k8s kubectl "$@"`. */
  kubectlShim: string;
  /** Test oracles for SOPS decryption (not on the toolset PATH: Slipway must not need them). */
  sops: string;
  ageKeygen: string;
  /** One directory with all of the above (as `slipway-k8s`, `kwok`, `kustomize`, `helm`, `kubectl`): put it on PATH. */
  binDir: string;
}

export interface EnsureToolsOptions {
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
}

/** The Go module that builds `slipway-k8s`. */
export const K8S_SOURCE_DIR = fileURLToPath(new URL('./k8s/', import.meta.url));

const LOG_PREFIX = '[slipway-cluster]';

function defaultLog(line: string): void {
  process.stderr.write(`${LOG_PREFIX} ${line}\n`);
}

/** Returns the cached tools, building whichever are missing first. */
export async function ensureTools(opts: EnsureToolsOptions = {}): Promise<Tools> {
  const log = opts.log ?? defaultLog;
  const tools = toolPaths();
  if (!allPresent(tools)) {
    const release = await acquireLock(log);
    try {
      // Another process may have built them while this one waited for the lock.
      if (!k8sIsCurrent(tools.slipwayK8s)) await buildK8s(tools.slipwayK8s, log);
      for (const [tool, path] of [
        [KWOK, tools.kwok],
        [KUSTOMIZE, tools.kustomize],
        [HELM, tools.helm],
        [SOPS, tools.sops],
        [AGE_KEYGEN, tools.ageKeygen],
      ] as const) {
        if (!isExecutable(path)) await goInstall(tool, path, log);
      }
    } finally {
      release();
    }
  }
  writeKubectlShim(tools.kubectlShim, tools.slipwayK8s);
  linkToolset(tools);
  return tools;
}

/** Where the tools live once built (whether or not they are built yet). */
export function toolPaths(): Tools {
  const k8sBin = toolBinDir(KUBERNETES);
  return {
    slipwayK8s: join(k8sBin, 'slipway-k8s'),
    kwok: join(toolBinDir(KWOK), 'kwok'),
    kustomize: join(toolBinDir(KUSTOMIZE), 'kustomize'),
    helm: join(toolBinDir(HELM), 'helm'),
    kubectlShim: join(k8sBin, 'kubectl'),
    sops: join(toolBinDir(SOPS), 'sops'),
    ageKeygen: join(toolBinDir(AGE_KEYGEN), 'age-keygen'),
    binDir: join(
      cacheRoot(),
      'toolset',
      [KUBERNETES, KWOK, KUSTOMIZE, HELM].map((t) => `${t.name}-${t.version}`).join('_'),
      'bin',
    ),
  };
}

function allPresent(tools: Tools): boolean {
  return (
    k8sIsCurrent(tools.slipwayK8s) &&
    isExecutable(tools.kwok) &&
    isExecutable(tools.kustomize) &&
    isExecutable(tools.helm) &&
    isExecutable(tools.sops) &&
    isExecutable(tools.ageKeygen)
  );
}

function isExecutable(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

// --- slipway-k8s -------------------------------------------------------------------------------

/** The binary is current when its stamp matches the sources it was built from. */
function k8sIsCurrent(binary: string): boolean {
  if (!isExecutable(binary)) return false;
  try {
    return readFileSync(`${binary}.stamp`, 'utf8').trim() === k8sSourceHash();
  } catch {
    return false;
  }
}

function k8sLdflags(): string {
  return ['-s', '-w', ...KUBERNETES.versionLdflags].join(' ');
}

/** sha256 over the Go module's go.mod, go.sum and *.go files, and the link flags. */
export function k8sSourceHash(): string {
  const hash = createHash('sha256');
  hash.update(`ldflags=${k8sLdflags()}\0`);
  const files = readdirSync(K8S_SOURCE_DIR)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(readFileSync(join(K8S_SOURCE_DIR, f)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function buildK8s(binary: string, log: (line: string) => void): Promise<void> {
  const dir = join(binary, '..');
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir);
  const tmp = join(dir, `.slipway-k8s.tmp-${process.pid}`);
  log(`building kube control plane ${KUBERNETES.version} (first run takes ~7 min on 2 cores, cached after)…`);
  try {
    await runGo(
      'kube control plane',
      ['build', '-trimpath', `-ldflags=${k8sLdflags()}`, '-o', tmp, '.'],
      { cwd: K8S_SOURCE_DIR, env: { GOFLAGS: '-mod=mod' } },
      log,
    );
    renameSync(tmp, binary);
    // Stamped after the rename, so an interruption in between means a rebuild, never a stale
    // binary taken as current. -mod=mod may have tidied go.mod/go.sum: stamp what the build used.
    writeFileSync(`${tmp}.stamp`, `${k8sSourceHash()}\n`);
    renameSync(`${tmp}.stamp`, `${binary}.stamp`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function writeKubectlShim(shim: string, slipwayK8s: string): void {
  const script = `#!/bin/sh\nexec '${slipwayK8s.replaceAll("'", `'\\''`)}' kubectl "$@"\n`;
  try {
    if (readFileSync(shim, 'utf8') === script) return;
  } catch {
    // missing: write it
  }
  mkdirSync(join(shim, '..'), { recursive: true });
  const tmp = `${shim}.tmp-${process.pid}`;
  writeFileSync(tmp, script, { mode: 0o755 });
  renameSync(tmp, shim);
}

// --- go install tools --------------------------------------------------------------------------

async function goInstall(tool: GoInstallTool, binary: string, log: (line: string) => void): Promise<void> {
  const dir = join(binary, '..');
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir);
  // GOBIN must be an absolute directory; the binary lands there under its command's name.
  const tmpDir = join(dir, `.tmp-${process.pid}`);
  mkdirSync(tmpDir, { recursive: true });
  log(`building ${tool.name} ${tool.version} (first run only, cached after)…`);
  try {
    await runGo(
      tool.name,
      [
        'install',
        '-trimpath',
        `-ldflags=${['-s', '-w', ...tool.versionLdflags].join(' ')}`,
        `${tool.package}@${tool.version}`,
      ],
      { cwd: tmpDir, env: { GOBIN: tmpDir, CGO_ENABLED: '0' } },
      log,
    );
    // As go names it: the last path element, unless that is a major-version suffix (kustomize/v5).
    const elems = tool.package.split('/');
    const last = elems.at(-1) ?? tool.name;
    const built = join(tmpDir, /^v\d+$/.test(last) ? (elems.at(-2) ?? tool.name) : last);
    renameSync(built, binary);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Leftovers of builds that were killed: only ever a temporary name, never the binary itself. */
function removeStaleTemps(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

// --- running go --------------------------------------------------------------------------------

async function runGo(
  what: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
  log: (line: string) => void,
): Promise<void> {
  const logDir = join(cacheRoot(), 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `build-${what.replaceAll(' ', '-')}.log`);
  const fd = openSync(logFile, 'w');
  const env: NodeJS.ProcessEnv = { ...process.env, GOTOOLCHAIN: 'local', GOWORK: 'off', ...opts.env };
  // A GOFLAGS meant for another build (e.g. -mod=mod) breaks `go install pkg@version`.
  if (opts.env['GOFLAGS'] === undefined) delete env['GOFLAGS'];
  const started = Date.now();
  const heartbeat = setInterval(() => {
    log(`  … still building ${what} (${formatDuration(Date.now() - started)} so far)`);
  }, 60_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('go', args, { cwd: opts.cwd, env, stdio: ['ignore', fd, fd] });
      child.on('error', reject);
      child.on('exit', (c, signal) => {
        resolve(signal !== null ? null : c);
      });
    });
    if (code !== 0) {
      throw new Error(
        `building ${what} failed (go ${args.join(' ')} exited ${code ?? 'on a signal'}); ` +
          `log ${logFile}:\n${tail(logFile, 40)}`,
      );
    }
    log(`built ${what} in ${formatDuration(Date.now() - started)}`);
  } finally {
    clearInterval(heartbeat);
    closeSync(fd);
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The last `lines` lines of a text file, or '' when it cannot be read. */
export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// --- toolset dir -------------------------------------------------------------------------------

function linkToolset(tools: Tools): void {
  mkdirSync(tools.binDir, { recursive: true });
  const links: Record<string, string> = {
    'slipway-k8s': tools.slipwayK8s,
    kubectl: tools.kubectlShim,
    kwok: tools.kwok,
    kustomize: tools.kustomize,
    helm: tools.helm,
  };
  for (const [name, target] of Object.entries(links)) {
    const link = join(tools.binDir, name);
    try {
      if (readlinkSync(link) === target) continue;
    } catch {
      // missing: create it
    }
    const tmp = `${link}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    symlinkSync(target, tmp);
    renameSync(tmp, link);
  }
}

// --- lock --------------------------------------------------------------------------------------

interface LockOwner {
  pid: number;
  host: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<cache>/build.lock`, waiting while a live process holds it; returns the release function. */
async function acquireLock(log: (line: string) => void): Promise<() => void> {
  const root = cacheRoot();
  mkdirSync(root, { recursive: true });
  const lock = join(root, 'build.lock');
  const me: LockOwner = { pid: process.pid, host: hostname() };
  let waitingFor = 0;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(readFileSync(lock, 'utf8')) as LockOwner;
    } catch {
      // Being written right now, or garbage: look again shortly (garbage is cleared below).
    }
    if (owner !== undefined && owner.host === me.host && !isAlive(owner.pid)) {
      log(`removing stale build lock of pid ${owner.pid}`);
      rmSync(lock, { force: true });
      continue;
    }
    if (owner === undefined && existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 10_000) {
      rmSync(lock, { force: true });
      continue;
    }
    if (owner !== undefined && owner.pid !== waitingFor) {
      waitingFor = owner.pid;
      log(`waiting for the build running in pid ${owner.pid} (lock ${lock})…`);
    }
    await sleep(2000);
  }
  const release = (): void => {
    try {
      const owner = JSON.parse(readFileSync(lock, 'utf8')) as LockOwner;
      if (owner.pid === me.pid && owner.host === me.host) unlinkSync(lock);
    } catch {
      // already gone
    }
    process.off('exit', release);
  };
  process.on('exit', release);
  return release;
}
