// A real, local Kubernetes control plane for the integration tests and the demo.
//
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler run as separate processes of the
// one `slipway-k8s` binary (see ./k8s); kwok fakes one node and the pod lifecycle on it, so
// Deployments become Available without a kubelet or containers. Everything listens on loopback
// only, on free ports, with its state in one directory.
//
// SLIPWAY_TEST_KUBECONFIG=<file> points the tests at an existing cluster instead.

import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTools, formatDuration, tail, type Tools } from './build.ts';
import {
  authenticationConfig,
  createIssuer,
  issueToken,
  OIDC_USERNAME_PREFIX,
  type OidcIssuer,
  type TokenRequest,
} from './oidc.ts';

export interface StartClusterOptions {
  /** Run kube-controller-manager (namespaces finish deleting, Deployments get ReplicaSets and Pods). Default true. */
  controllerManager?: boolean;
  /** Run kube-scheduler (Pods get bound to the node). Default true. */
  scheduler?: boolean;
  /** Run kwok with one fake node (Pods become Running and Ready). Default true. */
  kwok?: boolean;
  /** State directory (created if missing; removed by stop()). Default: a new temporary directory. */
  dir?: string;
  /** Where the test OIDC issuer keeps its CA and signing key. Default: `<dir>/oidc`. */
  oidcDir?: string;
  /**
   * Leave the processes running when this process exits (the CLI's `up`): they are started in their
   * own process groups and nothing is cleaned up on exit. Default false.
   */
  detached?: boolean;
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
}

export interface Cluster {
  /** Kubeconfig of a token user in group system:masters. */
  adminKubeconfig: string;
  /** Kubeconfig of a user with full rights in `restrictedNamespace` and none elsewhere. */
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** Directory holding `kubectl`, `kwok`, `kustomize`, `helm` and `slipway-k8s`. */
  binDir: string;
  /** Path of a `kubectl` executable. */
  kubectl: string;
  /** PATH (binDir first) and KUBECONFIG (admin) for child processes; merge into process.env. */
  env: Record<string, string>;
  /** True when SLIPWAY_TEST_KUBECONFIG named an existing cluster: no local processes to stop or start. */
  external: boolean;
  /** The state directory (kubeconfigs, pki, logs/<component>.log, etcd data). */
  dir: string;
  /** The local OIDC issuer the API server trusts; undefined on an existing cluster. */
  oidc: ClusterOidc | undefined;
  /** Process ids of the running components, by component name. */
  pids(): Record<string, number>;
  /** Stops just kube-apiserver (etcd and the rest keep running). */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port and waits until it is ready. */
  startApiServer(): Promise<void>;
  /** Stops every component (SIGTERM, SIGKILL after 5 s) and removes the state directory. */
  stop(): Promise<void>;
}

/**
 * The API server trusts the JWT issuer `issuer` (HTTPS on loopback, certificate `ca`) for tokens
 * of audience `audience`, and maps a token of subject S to the user `github:S`; tokens of the
 * second issuer `<issuer>/gitlab` (`token({ issuer: 'gitlab' })`) map to `gitlab:S`.
 */
export interface ClusterOidc {
  readonly issuer: string;
  readonly audience: string;
  /** PEM of the issuer's certificate. */
  readonly ca: string;
  /** Holds ca.crt, tls.key, signing.key and issuer.json. */
  readonly dir: string;
  readonly usernamePrefix: string;
  /** A signed ID token (RS256) of the issuer. */
  token(request: TokenRequest): string;
  /** A kubeconfig (written next to the others) that authenticates with `token`. */
  kubeconfig(name: string, token: string): string;
  /** PEM of the API server's CA, for a client that gets only a server URL and a CA. */
  readonly serverCa: string;
}

export const RESTRICTED_NAMESPACE = 'restricted';
const ADMIN_USER = 'slipway-admin';
const RESTRICTED_USER = 'slipway-restricted';
export const KWOK_NODE = 'kwok-node-0';
const KWOK_CONFIG = fileURLToPath(new URL('./kwok.yaml', import.meta.url));
const ISSUER_SCRIPT = fileURLToPath(new URL('./oidc-issuer.ts', import.meta.url));

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

function defaultLog(line: string): void {
  process.stderr.write(`[slipway-cluster] ${line}\n`);
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? defaultLog;
  const tools = await ensureTools({ log });
  const external = process.env['SLIPWAY_TEST_KUBECONFIG'];
  if (external !== undefined && external !== '') return useExistingCluster(resolve(external), tools, log);
  return startLocalCluster(opts, tools, log);
}

// --- processes ---------------------------------------------------------------------------------

interface Component {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  child?: ChildProcess;
  /** Set once the current child has exited. */
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

/** Children of this process that must not outlive it (not used for detached clusters). */
const liveChildren = new Set<ChildProcess>();
/** Run once when this process exits or dies of SIGINT/SIGTERM/SIGHUP, after the children are killed. */
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanUp = (): void => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    liveChildren.clear();
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // best effort
      }
    }
    exitCleanups.clear();
  };
  process.on('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      // Nobody else handles it: die of the signal as we would have without this hook.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

// --- local cluster -----------------------------------------------------------------------------

async function startLocalCluster(
  opts: StartClusterOptions,
  tools: Tools,
  log: (line: string) => void,
): Promise<Cluster> {
  const started = Date.now();
  const detached = opts.detached ?? false;
  const withKcm = opts.controllerManager ?? true;
  const withScheduler = opts.scheduler ?? true;
  const withKwok = opts.kwok ?? true;

  const dir = opts.dir !== undefined ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'slipway-cluster-'));
  const pki = join(dir, 'pki');
  const logs = join(dir, 'logs');
  for (const d of [dir, pki, logs]) mkdirSync(d, { recursive: true });
  if (!detached) installExitHook();

  const components: Component[] = [];
  let removed = false;
  const removeDir = (): void => {
    if (removed) return;
    removed = true;
    exitCleanups.delete(removeDir);
    // Retries: a just-killed etcd may still be removing its own files.
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };
  if (!detached && opts.dir === undefined) exitCleanups.add(removeDir);

  const startComponent = (c: Component): void => {
    const fd = openSync(join(logs, `${c.name}.log`), 'a');
    try {
      const child = spawn(c.command, c.args, { stdio: ['ignore', fd, fd], detached, cwd: dir });
      c.child = child;
      delete c.exited;
      if (detached) child.unref();
      else liveChildren.add(child);
      child.on('error', (err) => {
        c.exited ??= { code: null, signal: null };
        log(`${c.name}: ${err.message}`);
      });
      child.on('exit', (code, signal) => {
        liveChildren.delete(child);
        if (c.child === child) c.exited = { code, signal };
      });
    } finally {
      closeSync(fd);
    }
  };

  const failure = (c: Component, what: string): Error => {
    const status =
      c.exited === undefined
        ? 'still running'
        : `exited with ${c.exited.signal ?? `code ${String(c.exited.code)}`}`;
    const file = join(logs, `${c.name}.log`);
    return new Error(`${what} (${c.name} ${status}); last lines of ${file}:\n${tail(file, 30)}`);
  };

  /** Polls `check` until it returns true; fails early when `c` exits. */
  const waitUntil = async (
    c: Component,
    what: string,
    check: () => Promise<boolean>,
    timeoutMs = READY_TIMEOUT_MS,
  ): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (c.exited !== undefined) throw failure(c, `${what}: process exited`);
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw failure(c, `${what}: timed out after ${formatDuration(timeoutMs)}`);
      await sleep(200);
    }
  };

  const stopComponent = async (c: Component): Promise<void> => {
    const child = c.child;
    if (child === undefined || c.exited !== undefined || child.exitCode !== null || child.signalCode !== null)
      return;
    const exited = new Promise<void>((res) =>
      child.once('exit', () => {
        res();
      }),
    );
    child.kill('SIGTERM');
    // Unreferenced: a pending grace timer must not keep this process alive once all have exited.
    const timer = sleep(STOP_GRACE_MS, undefined, { ref: false }).then(() => 'timeout' as const);
    if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };

  try {
    // Ports, keys, tokens.
    const [etcdClientPort, etcdPeerPort, apiPort, issuerPort] = (await freePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    const server = `https://127.0.0.1:${apiPort}`;
    const saKey = join(pki, 'sa.key');
    const saPub = join(pki, 'sa.pub');
    if (!existsSync(saKey)) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
    }
    const adminToken = randomBytes(24).toString('hex');
    const restrictedToken = randomBytes(24).toString('hex');
    const tokenFile = join(pki, 'tokens.csv');
    writeFileSync(
      tokenFile,
      `${adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"\n${restrictedToken},${RESTRICTED_USER},${RESTRICTED_USER}\n`,
      { mode: 0o600 },
    );
    // The apiserver writes a self-signed serving cert here, followed by the CA that signed it.
    const servingCert = join(pki, 'apiserver.crt');
    // Just the CA: the controller manager publishes it (kube-root-ca.crt, ClusterTrustBundle),
    // which must hold CA certificates only.
    const caFile = join(pki, 'ca.crt');
    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    const restrictedKubeconfig = join(dir, 'restricted.kubeconfig');

    // The OIDC issuer: up before the API server, whose JWT authenticator fetches its JWKS. It
    // starts alongside etcd: neither needs the other.
    const oidcIssuer = createIssuer(
      opts.oidcDir !== undefined ? resolve(opts.oidcDir) : join(dir, 'oidc'),
      issuerPort,
    );
    const authConfig = join(pki, 'authentication-config.yaml');
    writeFileSync(authConfig, authenticationConfig(oidcIssuer));
    const issuer: Component = {
      name: 'oidc-issuer',
      command: process.execPath,
      args: [ISSUER_SCRIPT, oidcIssuer.dir],
    };
    components.push(issuer);
    startComponent(issuer);

    // etcd
    const etcd: Component = {
      name: 'etcd',
      command: tools.slipwayK8s,
      args: [
        'etcd',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-url=http://127.0.0.1:${etcdClientPort}`,
        `--listen-peer-url=http://127.0.0.1:${etcdPeerPort}`,
      ],
    };
    components.push(etcd);
    startComponent(etcd);
    await Promise.all([
      waitUntil(etcd, 'etcd did not become healthy', async () => {
        const res = await plainGet(`http://127.0.0.1:${etcdClientPort}/health`);
        return res.status === 200 && res.body.includes('"true"');
      }),
      waitUntil(issuer, 'the OIDC issuer did not serve its discovery document', async () => {
        const res = await httpsGet(`${oidcIssuer.issuer}/.well-known/openid-configuration`, oidcIssuer.ca);
        return res.status === 200;
      }),
    ]);

    // kube-apiserver
    const apiserver: Component = {
      name: 'kube-apiserver',
      command: tools.slipwayK8s,
      args: [
        'kube-apiserver',
        `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${pki}`,
        '--advertise-address=127.0.0.1',
        // The default (lease) reconciler would publish 127.0.0.1 as the endpoint of the
        // `kubernetes` Service, which endpoint validation rejects.
        '--endpoint-reconciler-type=none',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--authorization-mode=RBAC',
        `--token-auth-file=${tokenFile}`,
        `--authentication-config=${authConfig}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        // Without the controller manager nobody creates the `default` ServiceAccount that this
        // admission plugin requires of every Pod.
        ...(withKcm ? [] : ['--disable-admission-plugins=ServiceAccount']),
        '--profiling=false',
      ],
    };
    components.push(apiserver);
    let ca = '';
    const waitApiReady = async (): Promise<void> => {
      await waitUntil(apiserver, 'kube-apiserver did not become ready', async () => {
        if (ca === '') {
          if (!existsSync(servingCert)) return false;
          ca = caFromCertFile(servingCert);
          writeFileSync(caFile, ca);
        }
        const res = await kubeRequest({ server, ca, token: adminToken }, 'GET', '/readyz');
        return res.status === 200 && res.body.trim() === 'ok';
      });
    };
    startComponent(apiserver);
    await waitApiReady();
    const kube: KubeAuth = { server, ca, token: adminToken };

    writeFileSync(adminKubeconfig, kubeconfig(server, ca, ADMIN_USER, adminToken, 'default'), {
      mode: 0o600,
    });
    writeFileSync(
      restrictedKubeconfig,
      kubeconfig(server, ca, RESTRICTED_USER, restrictedToken, RESTRICTED_NAMESPACE),
      { mode: 0o600 },
    );
    await kubectl(
      tools.kubectlShim,
      ['--kubeconfig', adminKubeconfig, 'apply', '-f', '-'],
      restrictedRbac(RESTRICTED_NAMESPACE, { kind: 'User', name: RESTRICTED_USER }),
    );

    // The rest only need the apiserver; start them together.
    if (withKcm) {
      const kcm: Component = {
        name: 'kube-controller-manager',
        command: tools.slipwayK8s,
        args: [
          'kube-controller-manager',
          `--kubeconfig=${adminKubeconfig}`,
          '--bind-address=127.0.0.1',
          '--secure-port=0',
          '--leader-elect=false',
          '--controllers=*',
          '--use-service-account-credentials=false',
          `--service-account-private-key-file=${saKey}`,
          `--root-ca-file=${caFile}`,
          // Its default is a system path (/usr/libexec/kubernetes/...) that it would create.
          `--flex-volume-plugin-dir=${join(dir, 'flexvolume')}`,
          '--cluster-name=slipway',
          '--profiling=false',
        ],
      };
      components.push(kcm);
      startComponent(kcm);
    }
    if (withScheduler) {
      const scheduler: Component = {
        name: 'kube-scheduler',
        command: tools.slipwayK8s,
        args: [
          'kube-scheduler',
          `--kubeconfig=${adminKubeconfig}`,
          '--bind-address=127.0.0.1',
          '--secure-port=0',
          '--leader-elect=false',
          '--profiling=false',
        ],
      };
      components.push(scheduler);
      startComponent(scheduler);
    }
    if (withKwok) {
      const kwok: Component = {
        name: 'kwok',
        command: tools.kwok,
        args: [
          `--kubeconfig=${adminKubeconfig}`,
          `--config=${KWOK_CONFIG}`,
          '--manage-all-nodes=false',
          '--manage-nodes-with-label-selector=type=kwok',
          '--node-lease-duration-seconds=40',
          // Fake addresses written into node and pod status; nothing connects to them.
          '--cidr=10.244.1.0/24',
          '--node-ip=10.244.0.1',
        ],
      };
      components.push(kwok);
      startComponent(kwok);
      await kubectl(
        tools.kubectlShim,
        ['--kubeconfig', adminKubeconfig, 'apply', '-f', '-'],
        kwokNode(KWOK_NODE),
      );
    }

    // Ready means: the controller manager works (it made the `default` ServiceAccount), and the
    // fake node is Ready and schedulable (the node-lifecycle controller lifted the not-ready taint).
    const running = (name: string): Component => {
      const c = components.find((x) => x.name === name);
      if (c === undefined) throw new Error(`no component ${name}`);
      return c;
    };
    const waits: Promise<void>[] = [];
    if (withKcm) {
      waits.push(
        waitUntil(
          running('kube-controller-manager'),
          'kube-controller-manager did not create the default ServiceAccount',
          async () => {
            const res = await kubeRequest(kube, 'GET', '/api/v1/namespaces/default/serviceaccounts/default');
            return res.status === 200;
          },
        ),
      );
    }
    if (withKwok) {
      waits.push(
        waitUntil(
          running('kwok'),
          `node ${KWOK_NODE} did not become Ready${withKcm ? ' and untainted' : ''}`,
          async () => {
            const res = await kubeRequest(kube, 'GET', `/api/v1/nodes/${KWOK_NODE}`);
            if (res.status !== 200) return false;
            const node = JSON.parse(res.body) as NodeLike;
            const ready =
              node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
            const taints = node.spec?.taints ?? [];
            return ready && (!withKcm || taints.length === 0);
          },
        ),
      );
    }
    await Promise.all(waits);
    log(`cluster ready at ${server} in ${formatDuration(Date.now() - started)} (state in ${dir})`);

    const binDir = tools.binDir;
    const cluster: Cluster = {
      adminKubeconfig,
      restrictedKubeconfig,
      restrictedNamespace: RESTRICTED_NAMESPACE,
      server,
      binDir,
      kubectl: join(binDir, 'kubectl'),
      env: { PATH: `${binDir}:${process.env['PATH'] ?? ''}`, KUBECONFIG: adminKubeconfig },
      external: false,
      dir,
      oidc: clusterOidc(oidcIssuer, server, ca, dir),
      pids: () => {
        const out: Record<string, number> = {};
        for (const c of components) {
          if (c.child?.pid !== undefined && c.exited === undefined) out[c.name] = c.child.pid;
        }
        return out;
      },
      stopApiServer: async () => {
        await stopComponent(apiserver);
      },
      startApiServer: async () => {
        if (apiserver.exited === undefined && apiserver.child !== undefined) return;
        startComponent(apiserver);
        await waitApiReady();
      },
      stop: async () => {
        // Everything but the store, then the store.
        await Promise.all(components.filter((c) => c !== etcd).map((c) => stopComponent(c)));
        await stopComponent(etcd);
        removeDir();
      },
    };
    return cluster;
  } catch (err) {
    await Promise.all(components.map((c) => stopComponent(c)));
    // Keep the logs of a failed start for a look.
    exitCleanups.delete(removeDir);
    log(`cluster start failed; logs kept in ${logs}`);
    throw err;
  }
}

function clusterOidc(issuer: OidcIssuer, server: string, serverCa: string, dir: string): ClusterOidc {
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    ca: issuer.ca,
    dir: issuer.dir,
    usernamePrefix: OIDC_USERNAME_PREFIX,
    serverCa,
    token: (request) => issueToken(issuer.dir, request),
    kubeconfig: (name, token) => {
      // Prefixed: `admin` must not replace the admin kubeconfig.
      const file = join(dir, `oidc-${name}.kubeconfig`);
      writeFileSync(file, kubeconfig(server, serverCa, name, token, 'default'), { mode: 0o600 });
      return file;
    },
  };
}

// --- an existing cluster -----------------------------------------------------------------------

async function useExistingCluster(
  kubeconfigPath: string,
  tools: Tools,
  log: (line: string) => void,
): Promise<Cluster> {
  const namespace = 'slipway-restricted';
  const account = 'slipway-restricted';
  const dir = mkdtempSync(join(tmpdir(), 'slipway-external-'));
  const base = ['--kubeconfig', kubeconfigPath];
  const view = JSON.parse(
    await kubectl(tools.kubectlShim, [...base, 'config', 'view', '--minify', '--raw', '-o', 'json']),
  ) as KubeconfigView;
  const cluster = view.clusters?.[0]?.cluster;
  if (cluster?.server === undefined)
    throw new Error(`SLIPWAY_TEST_KUBECONFIG=${kubeconfigPath}: no current cluster`);
  log(`using the existing cluster at ${cluster.server} (SLIPWAY_TEST_KUBECONFIG); no local processes`);

  // The restricted user is a ServiceAccount with a Role in its own namespace and a short-lived token.
  await kubectl(
    tools.kubectlShim,
    [...base, 'apply', '-f', '-'],
    restrictedRbac(namespace, { kind: 'ServiceAccount', name: account, namespace }),
  );
  const token = (
    await kubectl(tools.kubectlShim, [...base, 'create', 'token', account, '-n', namespace, '--duration=4h'])
  ).trim();
  let caData = cluster['certificate-authority-data'];
  if (caData === undefined && cluster['certificate-authority'] !== undefined) {
    caData = readFileSync(resolve(kubeconfigPath, '..', cluster['certificate-authority'])).toString('base64');
  }
  const restrictedKubeconfig = join(dir, 'restricted.kubeconfig');
  writeFileSync(
    restrictedKubeconfig,
    kubeconfigYaml(
      cluster.server,
      caData,
      cluster['insecure-skip-tls-verify'] === true,
      account,
      token,
      namespace,
    ),
    { mode: 0o600 },
  );
  const unsupported = (): Promise<void> =>
    Promise.reject(
      new Error('stopping or starting the apiserver is not possible with SLIPWAY_TEST_KUBECONFIG'),
    );
  return {
    adminKubeconfig: kubeconfigPath,
    restrictedKubeconfig,
    restrictedNamespace: namespace,
    server: cluster.server,
    binDir: tools.binDir,
    kubectl: join(tools.binDir, 'kubectl'),
    env: { PATH: `${tools.binDir}:${process.env['PATH'] ?? ''}`, KUBECONFIG: kubeconfigPath },
    external: true,
    dir,
    oidc: undefined,
    pids: () => ({}),
    stopApiServer: unsupported,
    startApiServer: unsupported,
    stop: async () => {
      await kubectl(tools.kubectlShim, [
        ...base,
        'delete',
        'namespace',
        namespace,
        '--wait=false',
        '--ignore-not-found',
      ]).catch((err: unknown) => {
        log(`could not delete namespace ${namespace}: ${String(err)}`);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface KubeconfigView {
  clusters?: {
    cluster?: {
      server?: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }[];
}

interface NodeLike {
  spec?: { taints?: unknown[] };
  status?: { conditions?: { type: string; status: string }[] };
}

// --- manifests ---------------------------------------------------------------------------------

function restrictedRbac(
  namespace: string,
  subject: { kind: 'User' | 'ServiceAccount'; name: string; namespace?: string },
): string {
  const subjectYaml =
    subject.kind === 'User'
      ? `  - kind: User\n    apiGroup: rbac.authorization.k8s.io\n    name: ${subject.name}\n`
      : `  - kind: ServiceAccount\n    name: ${subject.name}\n    namespace: ${subject.namespace ?? namespace}\n`;
  const serviceAccount =
    subject.kind === 'ServiceAccount'
      ? `---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${subject.name}\n  namespace: ${namespace}\n`
      : '';
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
${serviceAccount}---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: slipway-restricted
  namespace: ${namespace}
rules:
  - apiGroups: ['*']
    resources: ['*']
    verbs: ['*']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: slipway-restricted
  namespace: ${namespace}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: slipway-restricted
subjects:
${subjectYaml}`;
}

/** A Node for kwok to manage: no taints, so Pods need no tolerations to land on it. */
function kwokNode(name: string): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels:
    type: kwok
    kubernetes.io/hostname: ${name}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
spec: {}
`;
}

function kubeconfig(server: string, ca: string, user: string, token: string, namespace: string): string {
  return kubeconfigYaml(server, Buffer.from(ca).toString('base64'), false, user, token, namespace);
}

function kubeconfigYaml(
  server: string,
  caData: string | undefined,
  insecure: boolean,
  user: string,
  token: string,
  namespace: string,
): string {
  const tls =
    caData !== undefined
      ? `      certificate-authority-data: ${caData}\n`
      : insecure
        ? '      insecure-skip-tls-verify: true\n'
        : '';
  return `apiVersion: v1
kind: Config
clusters:
  - name: slipway
    cluster:
      server: ${server}
${tls}users:
  - name: ${user}
    user:
      token: ${token}
contexts:
  - name: ${user}
    context:
      cluster: slipway
      user: ${user}
      namespace: ${namespace}
current-context: ${user}
`;
}

/** The CA out of the apiserver's self-signed cert file (serving cert first, then its CA). */
export function caFromCertFile(file: string): string {
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  const ca = blocks.find((b) => new X509Certificate(b).ca);
  if (ca === undefined) throw new Error(`${file}: no CA certificate`);
  return ca.endsWith('\n') ? ca : `${ca}\n`;
}

// --- small clients -----------------------------------------------------------------------------

export interface KubeAuth {
  server: string;
  ca: string;
  token: string;
}

export interface KubeResponse {
  status: number;
  body: string;
}

/** One request to the apiserver with a bearer token. */
export function kubeRequest(
  auth: KubeAuth,
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<KubeResponse> {
  return new Promise((resolvePromise, reject) => {
    const url = new URL(path, auth.server);
    const headers: Record<string, string> = {
      authorization: `Bearer ${auth.token}`,
      accept: 'application/json',
    };
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = httpsRequest(url, { method, headers, ca: auth.ca, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function httpsGet(url: string, ca: string): Promise<KubeResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = httpsRequest(url, { ca, agent: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function plainGet(url: string): Promise<KubeResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(url, { agent: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Runs kubectl with `stdin`; resolves to its stdout, rejects with its stderr. */
export function kubectl(kubectlPath: string, args: readonly string[], stdin = ''): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(kubectlPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(
            `kubectl ${args.join(' ')} exited ${String(code)}: ${Buffer.concat(err).toString('utf8').trim()}`,
          ),
        );
    });
    child.stdin.end(stdin);
  });
}

/** `n` distinct free loopback ports (all held open together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolvePromise, reject) => {
          const srv = createServer();
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => {
            resolvePromise(srv);
          });
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    return addr.port;
  });
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((r) =>
          s.close(() => {
            r();
          }),
        ),
    ),
  );
  return ports;
}
