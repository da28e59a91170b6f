// Issue 12, "real-repository-shaped corpus": environments laid out the way public Argo CD, Flux
// and Helm GitOps repositories are (test/fixtures/real-repos/). For each one:
//   1. Slipway's render equals the tool run directly (`kustomize build`, `helm template` after
//      `helm dependency build`, or the plain files), both read by the built kubectl, once the
//      namespace rule Slipway documents is applied to Slipway's side;
//   2. `slipway apply` succeeds, and every object is on the cluster where kubectl would put it,
//      labelled with the environment;
//   3. the plan right after the apply is empty: 0 create, 0 update, 0 delete.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../cluster/cluster.ts';
import { Workspace } from '../../src/core/workspace.ts';
import type { Manifest } from '../../src/core/yaml/manifest.ts';
import type { Logger } from '../../src/core/ports.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { kubectl, slipway, sharedCluster, stopSharedCluster, TestRepo } from './harness.ts';
import { crdSet } from '../fixtures/real-repos/crd-generator.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/real-repos/', import.meta.url));
const ENV_LABEL = 'slipway.dev/environment';

let cluster: Cluster;
const repos: TestRepo[] = [];
const scratch: string[] = [];

before(
  async () => {
    cluster = await sharedCluster();
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const repo of repos) repo.remove();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  await stopSharedCluster();
});

// --- the repositories ----------------------------------------------------------------------------

/** Every file of a fixture folder, by path relative to it. */
function filesOf(root: string, dir = root): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(files, filesOf(root, full));
    else files[path.relative(root, full)] = readFileSync(full, 'utf8');
  }
  return files;
}

/** A git repository holding a fixture, plus generated files. */
function repoFrom(fixture: string, generated: Record<string, string> = {}): TestRepo {
  const repo = new TestRepo({ ...filesOf(path.join(FIXTURES, fixture)), ...generated });
  repos.push(repo);
  return repo;
}

// --- the tools run directly, read by kubectl -------------------------------------------------------

function tool(name: 'kustomize' | 'helm', args: string[], cwd: string): string {
  return execFileSync(path.join(cluster.binDir, name), args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...cluster.env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

type KubeObject = Record<string, unknown> & { metadata: Record<string, unknown> };

/**
 * The objects kubectl reads from YAML/JSON text or a folder, as `kubectl apply -n <namespace>`
 * would send them: List items flattened, the namespace set on namespaced objects that name none
 * and dropped from cluster-scoped ones (by discovery).
 */
function kubectlRead(namespace: string, source: { text: string } | { path: string }): KubeObject[] {
  const target = 'path' in source ? source.path : '-';
  const out = kubectl(
    cluster,
    ['create', '--dry-run=client', '--validate=false', '-n', namespace, '-o', 'json', '-f', target],
    'text' in source ? source.text : undefined,
  );
  return out
    .split(/^(?=\{)/m)
    .filter((part) => part.trim() !== '')
    .map((part) => JSON.parse(part) as KubeObject);
}

// --- Slipway's side ------------------------------------------------------------------------------

const QUIET: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: (_title, work) => work(),
};

/** Slipway's render of an environment (the API behind `slipway render`, Secret values unmasked). */
async function slipwayRender(
  repo: TestRepo,
  env: string,
): Promise<{ manifests: Manifest[]; namespace: string }> {
  const workspace = new Workspace(
    {
      repo: repo.dir,
      configFile: undefined,
      kubeconfig: cluster.adminKubeconfig,
      context: undefined,
      concurrency: 4,
      retrySeconds: 5,
      tools: { kustomize: 'kustomize', kubectl: 'kubectl', helm: 'helm' },
    },
    new ProcessRunner({ ...process.env, ...cluster.env }),
    QUIET,
  );
  const config = workspace.environment(env);
  const result = await workspace.renderAndValidate(config);
  const errors = result.findings.filter((f) => f.severity === 'error');
  assert.deepEqual(errors, [], `Slipway renders ${env} without errors`);
  return { manifests: result.manifests, namespace: config.namespace ?? 'default' };
}

/** `group/Kind` → namespaced, from the cluster's discovery. */
function discoveredScopes(): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const line of kubectl(cluster, ['api-resources', '--no-headers']).trim().split('\n')) {
    const columns = line.trim().split(/\s+/);
    const [apiVersion, namespaced, kind] = columns.slice(-3);
    if (!apiVersion || !kind) continue;
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    scopes.set(`${group}/${kind}`, namespaced === 'true');
  }
  return scopes;
}

/**
 * Slipway's objects with the namespace rule its README documents (and the plan applies): a
 * namespaced object that names none goes to the environment's namespace (a Helm release's to the
 * release namespace); a cluster-scoped one has no namespace, whatever kustomize gave it.
 */
function withDocumentedNamespaces(manifests: Manifest[], namespace: string): KubeObject[] {
  const scopes = discoveredScopes();
  return manifests.map(({ object, defaultNamespace }) => {
    const copy = JSON.parse(JSON.stringify(object)) as KubeObject;
    const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
    const namespaced = scopes.get(`${group}/${object.kind}`);
    assert.notEqual(namespaced, undefined, `${object.kind} is served by the cluster`);
    if (!namespaced) delete copy.metadata['namespace'];
    else copy.metadata['namespace'] ??= defaultNamespace ?? namespace;
    return copy;
  });
}

function key(object: KubeObject): string {
  const namespace = object.metadata['namespace'];
  const name = object.metadata['name'];
  return `${String(object['apiVersion'])} ${String(object['kind'])} ${typeof namespace === 'string' ? namespace : ''}/${String(name)}`;
}

function sorted(objects: KubeObject[]): KubeObject[] {
  return [...objects].sort((a, b) => key(a).localeCompare(key(b)));
}

// --- the three checks ----------------------------------------------------------------------------

async function applyOk(repo: TestRepo, env: string): Promise<void> {
  const run = await slipway(cluster, repo, ['apply', '--env', env]);
  assert.equal(run.code, 0, `slipway apply --env ${env} failed:\n${run.stdout}\n${run.stderr}`);
}

async function assertEmptyPlan(repo: TestRepo, env: string): Promise<void> {
  const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  let plan: { summary: Record<string, number>; objects: { action?: string; kind?: string; name?: string }[] };
  try {
    plan = JSON.parse(run.stdout) as typeof plan;
  } catch {
    assert.fail(`diff printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  const { create, update, delete: deleted, error } = plan.summary;
  assert.deepEqual(
    { create, update, delete: deleted, error },
    { create: 0, update: 0, delete: 0, error: 0 },
    `the plan right after apply is empty:\n${run.stdout.slice(0, 4000)}`,
  );
}

function assertRenderEqual(ours: KubeObject[], theirs: KubeObject[]): void {
  assert.deepEqual(sorted(ours).map(key), sorted(theirs).map(key), 'the same objects');
  assert.deepEqual(sorted(ours), sorted(theirs), 'with the same contents');
}

/** Each object is on the cluster where kubectl puts it, labelled with its environment. */
function assertLive(theirs: KubeObject[], env: string): void {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: theirs });
  const live = JSON.parse(kubectl(cluster, ['get', '-f', '-', '-o', 'json'], list)) as {
    items: KubeObject[];
  };
  assert.deepEqual(live.items.map(key).sort(), theirs.map(key).sort());
  for (const object of live.items) {
    const labels = (object.metadata['labels'] ?? {}) as Record<string, string>;
    assert.equal(labels[ENV_LABEL], env, `${key(object)} carries ${ENV_LABEL}`);
  }
}

async function checkEnvironment(
  repo: TestRepo,
  env: string,
  direct: (namespace: string) => KubeObject[],
): Promise<void> {
  await applyOk(repo, env);
  await assertEmptyPlan(repo, env);
  // After the apply, so kubectl can map the custom kinds whose CRDs the environment brings.
  const { manifests, namespace } = await slipwayRender(repo, env);
  const theirs = direct(namespace);
  assertRenderEqual(withDocumentedNamespaces(manifests, namespace), theirs);
  assertLive(theirs, env);
}

// --- the environments ----------------------------------------------------------------------------

describe('a kustomize application repository: base, components, an overlay per environment', () => {
  let repo: TestRepo;
  before(() => {
    repo = repoFrom('shop');
  });

  for (const env of ['staging', 'prod']) {
    test(`${env}: render = kustomize build, apply succeeds, the next plan is empty`, async () => {
      await checkEnvironment(repo, env, (namespace) =>
        kubectlRead(namespace, { text: tool('kustomize', ['build', `apps/shop/overlays/${env}`], repo.dir) }),
      );
      // The overlay's YAML 1.1 octal survived kustomize and Slipway: mode 0400, not 400.
      const prefix = env === 'prod' ? 'prod-' : '';
      const mode = kubectl(cluster, [
        'get',
        'deployment',
        `${prefix}shop`,
        '-n',
        `shop-${env}`,
        '-o',
        'jsonpath={.spec.template.spec.volumes[0].secret.defaultMode}',
      ]);
      assert.equal(mode, '256');
    });
  }
});

describe('a Helm repository: an umbrella chart with file:// dependencies pinned by Chart.lock', () => {
  test('render = helm dependency build + helm template, apply succeeds, the next plan is empty', async () => {
    const repo = repoFrom('charts-repo');
    await checkEnvironment(repo, 'web', (namespace) => {
      // helm dependency build writes charts/*.tgz: run it on a copy, never in the repository.
      const copy = mkdtempSync(path.join(tmpdir(), 'slipway-helm-direct-'));
      scratch.push(copy);
      cpSync(repo.dir, copy, { recursive: true, filter: (source) => !source.includes(`${path.sep}.git`) });
      tool('helm', ['dependency', 'build', 'charts/web'], copy);
      const rendered = tool(
        'helm',
        ['template', 'web', 'charts/web', '-n', namespace, '-f', 'envs/web/values.yaml'],
        copy,
      );
      // The environment folder's own manifests (not its values file) are rendered too.
      return [
        ...kubectlRead(namespace, { path: path.join(copy, 'envs/web/namespace.yaml') }),
        ...kubectlRead(namespace, { text: rendered }),
      ];
    });
  });
});

describe('a platform repository: a ~200 KB CRD set and its custom resources in one kustomization', () => {
  test('render = kustomize build, apply succeeds (cluster-scoped kinds given a namespace included), the next plan is empty', async () => {
    const crds = crdSet();
    assert.ok(crds.length > 200_000, `the CRD set is ${crds.length} bytes`);
    const repo = repoFrom('platform', { 'infrastructure/pki/crds.yaml': crds });
    // Another team's CRD, already on the cluster: only discovery says VaultIssuer is cluster-scoped.
    kubectl(cluster, ['apply', '-f', path.join(repo.dir, 'infrastructure/vault-crd/vaultissuers.yaml')]);
    kubectl(cluster, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/vaultissuers.vault.example.dev',
    ]);
    const built = tool('kustomize', ['build', 'infrastructure/pki'], repo.dir);
    const issuer = built.split(/^---$/m).find((doc) => /^kind: ClusterIssuer$/m.test(doc)) ?? '';
    assert.match(
      issuer,
      /^ {2}namespace: pki-system$/m,
      'kustomize gives the cluster-scoped kind a namespace',
    );
    await checkEnvironment(repo, 'platform', (namespace) => kubectlRead(namespace, { text: built }));
  });
});

describe('a repository first deployed with client-side `kubectl apply`', () => {
  test('render = the files as kubectl reads them, Slipway adopts the objects, the next plan is empty', async () => {
    const repo = repoFrom('legacy');
    // What the old deploy script did.
    kubectl(cluster, ['apply', '-n', 'legacy', '-f', path.join(repo.dir, 'deploy')]);
    await checkEnvironment(repo, 'legacy', (namespace) =>
      kubectlRead(namespace, { path: path.join(repo.dir, 'deploy') }),
    );
    // Adopted for real: what Git no longer has leaves the cluster (kubectl's own apply would have
    // kept it, owned by kubectl-client-side-apply).
    const billing = readFileSync(path.join(repo.dir, 'deploy/billing.yaml'), 'utf8');
    const namespaceFile = readFileSync(path.join(repo.dir, 'deploy/00-namespace.yaml'), 'utf8');
    repo.commit(
      {
        'deploy/billing.yaml': billing.replace(
          '            - name: DRY_RUN\n              value: "no"\n',
          '',
        ),
        'deploy/00-namespace.yaml': namespaceFile.replace('  labels:\n    team: billing\n', ''),
      },
      'drop an env var and a label',
    );
    await applyOk(repo, 'legacy');
    await assertEmptyPlan(repo, 'legacy');
    const env = kubectl(cluster, [
      'get',
      'deployment',
      'billing',
      '-n',
      'legacy',
      '-o',
      'jsonpath={.spec.template.spec.containers[*].env[*].name}',
    ]);
    assert.equal(env, 'INVOICE_PREFIX INVOICE_PREFIX', 'DRY_RUN is gone from both containers');
    const labels = kubectl(cluster, ['get', 'namespace', 'legacy', '-o', 'jsonpath={.metadata.labels}']);
    assert.doesNotMatch(labels, /team/, 'the label removed from Git is gone');
  });
});
