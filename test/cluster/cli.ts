// node test/cluster/cli.ts build|up|down|status|token
//
//   build   build (or find cached) slipway-k8s, kwok, kustomize and helm
//   up      start a cluster in .cluster/ at the repository root and leave it running
//   down    stop it and remove .cluster/
//   status  show whether it runs and answers
//   token   --subject S --audience A [--ttl 10m] [--issuer github|gitlab]: print an ID token of the
//           cluster's OIDC issuer (.cluster/oidc/); the API server maps it to the user github:S
//           (gitlab:S for --issuer gitlab)
//
// After `up`: .cluster/bin/kubectl --kubeconfig .cluster/admin.kubeconfig get --raw /readyz
//   .cluster/bin/kubectl --kubeconfig .cluster/admin.kubeconfig auth whoami \
//     --token "$(node test/cluster/cli.ts token --subject repo:acme/deploys:environment:live \
//     --audience slipway-test-cluster)"

import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTools, formatDuration } from './build.ts';
import { kubectl, startCluster } from './cluster.ts';
import { issueToken } from './oidc.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STATE = join(ROOT, '.cluster');
const PIDS = join(STATE, 'pids.json');
const OIDC = join(STATE, 'oidc');

interface PidsFile {
  server: string;
  pids: Record<string, number>;
}

async function main(command: string | undefined, rest: string[]): Promise<number> {
  switch (command ?? '') {
    case 'build':
      return build();
    case 'up':
      return up();
    case 'down':
      return down();
    case 'status':
      return status();
    case 'token':
      return token(rest);
    default:
      process.stderr.write('usage: node test/cluster/cli.ts build|up|down|status|token\n');
      return 2;
  }
}

async function build(): Promise<number> {
  const started = Date.now();
  const tools = await ensureTools();
  process.stdout.write(
    `${Object.entries(tools)
      .map(([k, v]) => `${k.padEnd(12)} ${v}`)
      .join('\n')}\n(${formatDuration(Date.now() - started)})\n`,
  );
  return 0;
}

async function up(): Promise<number> {
  if (existsSync(PIDS)) {
    const alive = Object.values(readPids().pids).filter(isAlive);
    if (alive.length > 0) {
      process.stderr.write(`a cluster is already up (.cluster/pids.json); run \`down\` first\n`);
      return 1;
    }
  }
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(join(STATE, 'bin'), { recursive: true });
  const cluster = await startCluster({ dir: join(STATE, 'data'), oidcDir: OIDC, detached: true });
  const pidsFile: PidsFile = { server: cluster.server, pids: cluster.pids() };
  writeFileSync(PIDS, `${JSON.stringify(pidsFile, null, 2)}\n`);
  writeFileSync(join(STATE, 'admin.kubeconfig'), readFileSync(cluster.adminKubeconfig), { mode: 0o600 });
  writeFileSync(join(STATE, 'restricted.kubeconfig'), readFileSync(cluster.restrictedKubeconfig), {
    mode: 0o600,
  });
  for (const tool of ['kubectl', 'kwok', 'kustomize', 'helm', 'slipway-k8s']) {
    symlinkSync(join(cluster.binDir, tool), join(STATE, 'bin', tool));
  }
  process.stdout.write(
    [
      `cluster up at ${cluster.server}`,
      `  export KUBECONFIG=${join(STATE, 'admin.kubeconfig')} PATH=${join(STATE, 'bin')}:$PATH`,
      `  restricted user: ${join(STATE, 'restricted.kubeconfig')} (namespace ${cluster.restrictedNamespace})`,
      ...(cluster.oidc
        ? [
            `  OIDC issuer: ${cluster.oidc.issuer} (audience ${cluster.oidc.audience}, users ${cluster.oidc.usernamePrefix}<sub>)`,
            '    token: node test/cluster/cli.ts token --subject SUB --audience AUD [--ttl 10m]',
          ]
        : []),
      `  logs: ${join(cluster.dir, 'logs')}`,
      '  stop: node test/cluster/cli.ts down',
      '',
    ].join('\n'),
  );
  return 0;
}

async function down(): Promise<number> {
  if (!existsSync(STATE)) {
    process.stdout.write('no cluster (.cluster/ does not exist)\n');
    return 0;
  }
  if (existsSync(PIDS)) {
    const { pids } = readPids();
    // Everything but the store, then the store.
    const groups = [
      ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver'],
      ['etcd', 'oidc-issuer'],
    ];
    for (const group of groups) {
      await Promise.all(
        group.map((name) => {
          const pid = pids[name];
          return pid !== undefined ? terminate(pid) : Promise.resolve();
        }),
      );
    }
  }
  rmSync(STATE, { recursive: true, force: true });
  process.stdout.write('cluster down; .cluster/ removed\n');
  return 0;
}

async function status(): Promise<number> {
  if (!existsSync(PIDS)) {
    process.stdout.write('no cluster\n');
    return 1;
  }
  const { server, pids } = readPids();
  process.stdout.write(`server ${server}\n`);
  for (const [name, pid] of Object.entries(pids)) {
    process.stdout.write(`  ${name.padEnd(24)} pid ${pid} ${isOurs(pid) ? 'running' : 'GONE'}\n`);
  }
  try {
    const readyz = await kubectl(join(STATE, 'bin', 'kubectl'), [
      '--kubeconfig',
      join(STATE, 'admin.kubeconfig'),
      'get',
      '--raw',
      '/readyz',
    ]);
    process.stdout.write(`readyz: ${readyz.trim()}\n`);
    return 0;
  } catch (err) {
    process.stdout.write(`readyz: ${(err as Error).message}\n`);
    return 1;
  }
}

function readPids(): PidsFile {
  return JSON.parse(readFileSync(PIDS, 'utf8')) as PidsFile;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and still one of ours (a recycled pid belongs to some other program). */
function isOurs(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('slipway-k8s') || cmdline.includes('kwok') || cmdline.includes('oidc-issuer');
  } catch {
    return true; // no /proc: trust the pid file
  }
}

/** SIGTERM, then SIGKILL after 5 s. */
async function terminate(pid: number): Promise<void> {
  if (!isOurs(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
}

function token(args: string[]): number {
  const usage =
    'usage: node test/cluster/cli.ts token --subject S --audience A [--ttl 10m] [--issuer github|gitlab]\n';
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        subject: { type: 'string' },
        audience: { type: 'string' },
        ttl: { type: 'string' },
        issuer: { type: 'string', default: 'github' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const ttlSeconds = values.ttl === undefined ? 600 : parseTtl(values.ttl);
  const issuer = values.issuer === 'gitlab' ? 'gitlab' : values.issuer === 'github' ? 'github' : undefined;
  if (
    values.subject === undefined ||
    values.audience === undefined ||
    ttlSeconds === undefined ||
    issuer === undefined
  ) {
    process.stderr.write(usage);
    return 2;
  }
  if (!existsSync(join(OIDC, 'issuer.json'))) {
    process.stderr.write('no OIDC issuer in .cluster/oidc/: run `node test/cluster/cli.ts up` first\n');
    return 1;
  }
  process.stdout.write(
    `${issueToken(OIDC, { subject: values.subject, audience: values.audience, ttlSeconds, issuer })}\n`,
  );
  return 0;
}

/** `90s`, `10m`, `1h` or plain seconds; a leading `-` (`--ttl=-1m`) gives an already expired token. */
function parseTtl(text: string): number | undefined {
  const match = /^(-?\d+)([smh]?)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[match[2] as '' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

process.exitCode = await main(process.argv[2], process.argv.slice(3));
