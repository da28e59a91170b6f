// Issue "Apply": `slipway apply` against the real local control plane: stages, prune and its
// guards, idempotence, the lock, stale commits, the cluster pin, health, drift, and an apply that
// is killed midway. Every test has its own environment and namespaces and checks what a user
// sees: exit codes, the output, and the cluster itself through kubectl.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../cluster/cluster.ts';
import {
  kubectl,
  slipway,
  stopSharedCluster,
  sharedCluster,
  TestRepo,
  unique,
  type CliRun,
  envConfig,
  inEnv,
  envRepo as makeEnvRepo,
} from './harness.ts';
import { configMap, namespaceDoc, widgetCrd } from './fixtures.ts';

let cluster: Cluster;
const repos: TestRepo[] = [];
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

before(
  async () => {
    cluster = await sharedCluster();
  },
  // The first run on a machine builds the control plane (minutes); later runs start in seconds.
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const repo of repos) repo.remove();
  await stopSharedCluster();
});

// --- helpers -----------------------------------------------------------------------------------

/** A repository with one environment, removed after the file's tests. */
function envRepo(
  env: string,
  namespace: string,
  files: Record<string, string>,
  extra: string[] = [],
): TestRepo {
  const repo = makeEnvRepo(env, namespace, files, extra);
  repos.push(repo);
  return repo;
}

function apply(
  repo: TestRepo,
  env: string,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<CliRun> {
  return slipway(cluster, repo, ['apply', '--env', env, ...args], extraEnv);
}

async function applyOk(repo: TestRepo, env: string, args: string[] = []): Promise<CliRun> {
  const run = await apply(repo, env, args);
  assert.equal(run.code, 0, `apply failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

function createNamespace(name: string): void {
  kubectl(cluster, ['create', 'namespace', name]);
}

function configMaps(names: readonly string[], value = 'v1'): string {
  return names.map((name) => configMap(name, { value })).join('---\n');
}

function deployment(name: string, replicas: number, extraSpec = '', podSpec = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
${extraSpec}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
${podSpec}      containers:
        - name: app
          image: registry.invalid/app:1.0.0
`;
}

/** Whether an object exists (a Namespace being deleted counts as gone). */
function exists(kind: string, name: string, namespace?: string): boolean {
  try {
    const phase = kubectl(cluster, [
      'get',
      kind,
      name,
      ...(namespace ? ['-n', namespace] : []),
      '-o',
      'jsonpath={.status.phase}',
    ]);
    return phase !== 'Terminating';
  } catch (error) {
    if (/NotFound/.test(String((error as { stderr?: unknown }).stderr ?? error))) return false;
    throw error;
  }
}

/** ConfigMap names in a namespace, without the one every namespace gets. */
function configMapNames(namespace: string): string[] {
  const out = kubectl(cluster, [
    'get',
    'configmaps',
    '-n',
    namespace,
    '-o',
    'jsonpath={.items[*].metadata.name}',
  ]);
  return out
    .split(/\s+/)
    .filter((name) => name !== '' && name !== 'kube-root-ca.crt')
    .sort();
}

interface InventoryEntry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** The environment's inventory as stored in the cluster: ConfigMap slipway-<env> in slipway-system. */
function inventory(env: string): { objects: InventoryEntry[]; commit: string } {
  const data = JSON.parse(
    kubectl(cluster, [
      'get',
      'configmap',
      `slipway-${env}`,
      '-n',
      'slipway-system',
      '-o',
      'jsonpath={.data}',
    ]),
  ) as { objects: string; commit: string };
  return { objects: JSON.parse(data.objects) as InventoryEntry[], commit: data.commit };
}

function inventoryNames(env: string, kind = 'ConfigMap'): string[] {
  return inventory(env)
    .objects.filter((o) => o.kind === kind)
    .map((o) => o.name)
    .sort();
}

/** Kubernetes MicroTime. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function resourceVersions(namespace: string, kinds: string): Map<string, string> {
  const out = kubectl(cluster, [
    'get',
    kinds,
    '-n',
    namespace,
    '-o',
    'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
  ]);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('=') as [string, string]),
  );
}

// --- tests -------------------------------------------------------------------------------------

test('a CRD, a namespace and a custom resource in it are applied in one run, stage by stage, and are Current', async () => {
  const env = unique('apply-stages');
  const ns = unique('apply-stages');
  const group = `${env}.slipway.test`;
  const widget = `apiVersion: ${group}/v1\nkind: Widget\nmetadata:\n  name: first\nspec:\n  size: 3\n`;
  const repo = envRepo(env, ns, {
    'crd.yaml': widgetCrd(group),
    'namespace.yaml': namespaceDoc(ns),
    'app.yaml': [widget, configMap('settings', { a: '1' })].join('---\n'),
  });

  const run = await applyOk(repo, env);
  assert.match(run.stdout, new RegExp(`^${env}: applied \\(\\d+ writes\\)`));
  assert.match(
    run.stdout,
    new RegExp(
      `create CustomResourceDefinition widgets\\.${group.replace(/\./g, '\\.')} \\[Current: established\\]`,
    ),
  );
  assert.match(run.stdout, new RegExp(`create Namespace ${ns} \\[Current: `));
  assert.match(run.stdout, new RegExp(`create Widget ${ns}/first \\[Current: `));
  assert.match(run.stdout, new RegExp(`create ConfigMap ${ns}/settings \\[Current: `));
  // CRDs first (and established), then namespaces, then what lives in them.
  const order = [
    'applying 1 CustomResourceDefinitions',
    'CustomResourceDefinitions established',
    'applying 1 Namespaces',
    'applying 2 namespaced objects',
  ].map((line) => run.stderr.indexOf(line));
  assert.ok(
    order.every((index) => index >= 0),
    run.stderr,
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    run.stderr,
  );

  assert.equal(
    kubectl(cluster, ['get', `widgets.${group}`, 'first', '-n', ns, '-o', 'jsonpath={.spec.size}']),
    '3',
  );
  assert.equal(
    kubectl(cluster, [
      'get',
      'configmap',
      'settings',
      '-n',
      ns,
      '-o',
      'jsonpath={.metadata.labels.slipway\\.dev/environment}',
    ]),
    env,
  );
  assert.deepEqual(
    inventory(env)
      .objects.map((o) => `${o.kind}/${o.name}`)
      .sort(),
    [
      'ConfigMap/settings',
      'CustomResourceDefinition/widgets.' + group,
      `Namespace/${ns}`,
      'Widget/first',
    ].sort(),
  );
});

test('prune deletes what Git removed; slipway.dev/prune: disabled keeps an object and drops it from the inventory', async () => {
  const env = unique('apply-prune');
  const ns = unique('apply-prune');
  createNamespace(ns);
  const names = ['a', 'b', 'c', 'd', 'e'];
  const repo = envRepo(env, ns, { 'app.yaml': configMaps(names) });
  await applyOk(repo, env);
  assert.deepEqual(inventoryNames(env), names);

  // Someone marks `b` to be kept; then `a` and `b` leave Git.
  kubectl(cluster, ['annotate', 'configmap', 'b', '-n', ns, 'slipway.dev/prune=disabled']);
  repo.commit(inEnv(env, { 'app.yaml': configMaps(['c', 'd', 'e']) }), 'remove a and b');
  const run = await applyOk(repo, env);
  assert.match(run.stdout, new RegExp(`pruned ConfigMap ${ns}/a`));
  assert.match(run.stdout, new RegExp(`kept ConfigMap ${ns}/b`));
  assert.match(run.stderr, /kept: annotated slipway\.dev\/prune: disabled; dropped from the inventory/);
  assert.deepEqual(configMapNames(ns), ['b', 'c', 'd', 'e']);
  assert.deepEqual(inventoryNames(env), ['c', 'd', 'e']);

  // Out of the inventory, `b` is no longer Slipway's business: later runs leave it alone.
  const again = await applyOk(repo, env);
  assert.doesNotMatch(again.stdout, /ConfigMap .*\/b/);
  assert.deepEqual(configMapNames(ns), ['b', 'c', 'd', 'e']);
});

test('a Namespace removed from Git is orphaned (protected), unless allow-delete lists Namespace', async () => {
  const env = unique('apply-nsprune');
  const ns = unique('apply-nsprune');
  const [keep, drop] = [unique('apply-nskeep'), unique('apply-nsdrop')];
  createNamespace(ns);
  const repo = envRepo(env, ns, {
    'namespaces.yaml': [namespaceDoc(keep), namespaceDoc(drop)].join('---\n'),
    'app.yaml': configMaps(['a', 'b', 'c']),
  });
  await applyOk(repo, env);
  assert.ok(exists('namespace', keep) && exists('namespace', drop));

  repo.commit(inEnv(env, { 'namespaces.yaml': namespaceDoc(drop) }), `remove namespace ${keep}`);
  let run = await applyOk(repo, env);
  assert.match(run.stdout, new RegExp(`kept Namespace ${keep}`));
  assert.match(run.stderr, new RegExp(`Namespace ${keep} orphaned \\(protected\\).*allow-delete`));
  assert.ok(exists('namespace', keep), 'a protected namespace is not deleted');
  assert.deepEqual(inventoryNames(env, 'Namespace'), [drop]);

  repo.commit(
    {
      'slipway.yaml': envConfig(env, ns, ['allow-delete: [Namespace]']),
      ...inEnv(env, { 'namespaces.yaml': null }),
    },
    `remove namespace ${drop}, allowed`,
  );
  run = await applyOk(repo, env);
  assert.match(run.stdout, new RegExp(`pruned Namespace ${drop}`));
  assert.ok(!exists('namespace', drop), 'the allowed namespace is deleted');
  assert.ok(exists('namespace', keep), 'the orphaned namespace stays');
  assert.deepEqual(inventoryNames(env, 'Namespace'), []);
});

test('a render error refuses the whole apply: nothing is applied or pruned', async () => {
  const env = unique('apply-broken');
  const ns = unique('apply-broken');
  createNamespace(ns);
  const repo = envRepo(env, ns, {
    'a.yaml': configMap('a', { value: 'v1' }),
    'b.yaml': configMap('b', { value: 'v1' }),
  });
  await applyOk(repo, env);

  repo.commit(
    inEnv(env, {
      'a.yaml': configMap('a', { value: 'v2' }),
      'b.yaml': null,
      'broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: [unclosed\n',
    }),
    'broken',
  );
  const run = await apply(repo, env);
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, new RegExp(`envs/${env}/broken\\.yaml:\\d+`));
  assert.match(run.stderr, /nothing was applied or pruned/);
  assert.equal(kubectl(cluster, ['get', 'configmap', 'a', '-n', ns, '-o', 'jsonpath={.data.value}']), 'v1');
  assert.deepEqual(configMapNames(ns), ['a', 'b']);
  assert.deepEqual(inventoryNames(env), ['a', 'b']);
});

test('an empty environment folder is refused instead of pruning everything', async () => {
  const env = unique('apply-empty');
  const ns = unique('apply-empty');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'app.yaml': configMaps(['a', 'b']) });
  await applyOk(repo, env);

  repo.commit(inEnv(env, { 'app.yaml': null, '.gitkeep': '' }), 'empty the folder');
  const run = await apply(repo, env);
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(
    run.stderr,
    new RegExp(`environment "${env}" renders no objects; an empty render would prune everything`),
  );
  assert.deepEqual(configMapNames(ns), ['a', 'b']);
  assert.deepEqual(inventoryNames(env), ['a', 'b']);
});

test('a prune over budget keeps the objects and says so; --force deletes them', async () => {
  const env = unique('apply-budget');
  const ns = unique('apply-budget');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'app.yaml': configMaps(['a', 'b', 'c', 'd']) }, [
    'prune-budget:',
    '  max-objects: 1',
  ]);
  await applyOk(repo, env);

  repo.commit(inEnv(env, { 'app.yaml': configMaps(['d'], 'v2') }), 'remove three');
  const run = await apply(repo, env);
  assert.match(run.stdout, /prune skipped: prunes 3 objects, budget 1 \(prune-budget\.max-objects\)/);
  assert.match(run.stderr, /prune skipped: prunes 3 objects, budget 1/);
  assert.deepEqual(configMapNames(ns), ['a', 'b', 'c', 'd']);
  // The rest of the change went through, and the inventory still lists the three for next time.
  assert.equal(kubectl(cluster, ['get', 'configmap', 'd', '-n', ns, '-o', 'jsonpath={.data.value}']), 'v2');
  assert.deepEqual(inventoryNames(env), ['a', 'b', 'c', 'd']);

  const forced = await applyOk(repo, env, ['--force']);
  for (const name of ['a', 'b', 'c'])
    assert.match(forced.stdout, new RegExp(`pruned ConfigMap ${ns}/${name}`));
  assert.deepEqual(configMapNames(ns), ['d']);
  assert.deepEqual(inventoryNames(env), ['d']);
});

test('re-applying an unchanged environment makes 0 writes and changes no resourceVersion', async () => {
  const env = unique('apply-idem');
  const ns = unique('apply-idem');
  const group = `${env}.slipway.test`;
  const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-but-longer\n`;
  const service = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n    - port: 80\n      targetPort: 8080\n`;
  const account = `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n`;
  const role = `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n  - apiGroups: [""]\n    resources: [configmaps]\n    verbs: [get, list]\n`;
  const widget = `apiVersion: ${group}/v1\nkind: Widget\nmetadata:\n  name: first\nspec:\n  size: 3\n`;
  const repo = envRepo(env, ns, {
    'namespace.yaml': namespaceDoc(ns),
    'crd.yaml': widgetCrd(group),
    'app.yaml': [configMap('settings', { a: '1' }), secret, service, account, role, widget].join('---\n'),
  });
  await applyOk(repo, env);

  const kinds = `configmaps,secrets,services,serviceaccounts,roles.rbac.authorization.k8s.io,widgets.${group}`;
  const before = resourceVersions(ns, kinds);
  const clusterScoped = (): string =>
    kubectl(cluster, [
      'get',
      `namespace/${ns}`,
      `crd/widgets.${group}`,
      `configmap/slipway-${env}`,
      '-n',
      'slipway-system',
      '-o',
      'jsonpath={.items[*].metadata.resourceVersion}',
    ]);
  const beforeClusterScoped = clusterScoped();

  const run = await applyOk(repo, env);
  assert.match(run.stdout, new RegExp(`^${env}: applied \\(0 writes\\)\n$`));
  assert.deepEqual(resourceVersions(ns, kinds), before);
  assert.equal(clusterScoped(), beforeClusterScoped);
});

test('a lock held by another run blocks the apply and names the holder; an expired lock is taken over', async () => {
  const env = unique('apply-lock');
  const ns = unique('apply-lock');
  createNamespace(ns);
  // The namespace Slipway keeps its locks in (an earlier test may have created it already).
  if (!exists('namespace', 'slipway-system')) createNamespace('slipway-system');
  const lease = (renewTime: Date, seconds = 300): string => `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: slipway-lock-${env}
  namespace: slipway-system
spec:
  holderIdentity: ci-runner-7/run-4711
  leaseDurationSeconds: ${seconds}
  acquireTime: "${microTime(renewTime)}"
  renewTime: "${microTime(renewTime)}"
`;
  kubectl(cluster, ['apply', '-f', '-'], lease(new Date()));
  const repo = envRepo(env, ns, { 'app.yaml': configMap('settings', { a: '1' }) });

  const started = Date.now();
  const blocked = await apply(repo, env);
  assert.equal(blocked.code, 1, `${blocked.stdout}\n${blocked.stderr}`);
  assert.match(
    blocked.stderr,
    new RegExp(`environment "${env}" is locked by another run \\(ci-runner-7/run-4711\\); waited 5 s`),
  );
  assert.ok(Date.now() - started < 20_000);
  assert.deepEqual(configMapNames(ns), []);

  // A holder that stopped renewing: its 2 s lease is taken over once this run has seen it
  // unchanged for 2 s (by this runner's clock; renewTime is another machine's and not compared).
  kubectl(cluster, ['apply', '-f', '-'], lease(new Date(Date.now() - 600_000), 2));
  await applyOk(repo, env);
  assert.deepEqual(configMapNames(ns), ['settings']);
  // And the lock is released afterwards.
  assert.equal(
    kubectl(cluster, [
      'get',
      'lease',
      `slipway-lock-${env}`,
      '-n',
      'slipway-system',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]),
    '',
  );
});

test('an older commit than the one applied is refused; --force rolls back on purpose', async () => {
  const env = unique('apply-stale');
  const ns = unique('apply-stale');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'app.yaml': configMap('settings', { version: 'A' }) });
  const commitA = repo.git('rev-parse', 'HEAD');
  const commitB = repo.commit(inEnv(env, { 'app.yaml': configMap('settings', { version: 'B' }) }), 'B');
  await applyOk(repo, env);
  assert.equal(inventory(env).commit, commitB);

  // A late re-run of the job for A: its checkout, its commit.
  repo.git('checkout', '-q', commitA);
  const refused = await apply(repo, env, ['--commit', commitA]);
  assert.equal(refused.code, 1, `${refused.stdout}\n${refused.stderr}`);
  assert.match(
    refused.stderr,
    new RegExp(
      `commit ${commitA.slice(0, 12)} is older than ${commitB.slice(0, 12)}, which was already applied to "${env}"`,
    ),
  );
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.version}']),
    'B',
  );

  await applyOk(repo, env, ['--commit', commitA, '--force']);
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.version}']),
    'A',
  );
  assert.equal(inventory(env).commit, commitA);
});

test('the cluster pin: a wrong server or kube-system UID is refused, the right UID is allowed', async () => {
  const env = unique('apply-pin');
  const ns = unique('apply-pin');
  createNamespace(ns);
  const files = { 'app.yaml': configMap('settings', { a: '1' }) };
  const repo = envRepo(env, ns, files, ['cluster:', '  server: https://127.0.0.1:1']);

  let run = await apply(repo, env);
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(
    run.stderr,
    new RegExp(
      `pinned to https://127\\.0\\.0\\.1:1, but the kubeconfig points at ${cluster.server.replace(/\./g, '\\.')}`,
    ),
  );
  assert.deepEqual(configMapNames(ns), []);

  const wrongUid = '00000000-0000-4000-8000-000000000000';
  const realUid = kubectl(cluster, ['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}']);
  repo.commit(
    { 'slipway.yaml': envConfig(env, ns, ['cluster:', `  kube-system-uid: ${wrongUid}`]) },
    'pin a wrong uid',
  );
  run = await apply(repo, env);
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(
    run.stderr,
    new RegExp(
      `kube-system UID is ${wrongUid}, but this cluster's is ${realUid}; refusing to apply to the wrong cluster`,
    ),
  );
  assert.deepEqual(configMapNames(ns), []);

  repo.commit(
    {
      'slipway.yaml': envConfig(env, ns, [
        'cluster:',
        `  server: ${cluster.server}/`,
        `  kube-system-uid: ${realUid}`,
      ]),
    },
    'pin the right cluster',
  );
  await applyOk(repo, env);
  assert.deepEqual(configMapNames(ns), ['settings']);
});

test('health: a Deployment that becomes Available is reported Current', { timeout: 180_000 }, async () => {
  const env = unique('apply-healthy');
  const ns = unique('apply-healthy');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'web.yaml': deployment('web', 2) });
  const run = await applyOk(repo, env, ['--timeout', '120s']);
  assert.match(run.stdout, new RegExp(`create Deployment ${ns}/web \\[Current: 2 replicas available\\]`));
  assert.equal(
    kubectl(cluster, ['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.status.availableReplicas}']),
    '2',
  );
});

test(
  'health: a Deployment that can never schedule fails fast on its progress deadline',
  { timeout: 180_000 },
  async () => {
    const env = unique('apply-stuck');
    const ns = unique('apply-stuck');
    createNamespace(ns);
    const stuck = deployment(
      'stuck',
      1,
      '  progressDeadlineSeconds: 5\n',
      '      nodeSelector: {slipway.test/no-such-node: "true"}\n',
    );
    const repo = envRepo(env, ns, { 'stuck.yaml': stuck });
    const started = Date.now();
    const run = await apply(repo, env, ['--timeout', '120s']);
    const elapsed = Date.now() - started;
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^${env}: FAILED`));
    assert.match(
      run.stdout,
      new RegExp(`create Deployment ${ns}/stuck \\[Failed: progress deadline exceeded: `),
    );
    assert.match(run.stderr, new RegExp(`Deployment\\.apps ${ns}/stuck failed: progress deadline exceeded`));
    assert.ok(elapsed < 60_000, `apply took ${elapsed} ms with a 120 s timeout`);
  },
);

test('drift: a change made with kubectl makes diff --exit-code return 2 and names the manager; apply restores Git', async () => {
  const env = unique('apply-drift');
  const ns = unique('apply-drift');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'web.yaml': deployment('web', 1) });
  await applyOk(repo, env, ['--timeout', '120s']);
  let diff = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code']);
  assert.equal(diff.code, 0, `${diff.stdout}\n${diff.stderr}`);

  kubectl(cluster, ['set', 'image', 'deployment/web', '-n', ns, 'app=registry.invalid/app:9.9.9']);
  diff = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code', '--format', 'json']);
  assert.equal(diff.code, 2, `${diff.stdout}\n${diff.stderr}`);
  const plan = JSON.parse(diff.stdout) as {
    objects: {
      name: string;
      action: string;
      diff: string;
      takes?: { manager: string; fields: string[] }[];
    }[];
  };
  const web = plan.objects.find((o) => o.name === 'web');
  assert.ok(web);
  assert.equal(web.action, 'update');
  assert.deepEqual(web.takes, [
    { manager: 'kubectl-set', fields: ['.spec.template.spec.containers[name=app].image'] },
  ]);
  assert.match(web.diff, /^-\s+- image: registry\.invalid\/app:9\.9\.9$/m);
  assert.match(web.diff, /^\+\s+- image: registry\.invalid\/app:1\.0\.0$/m);

  await applyOk(repo, env, ['--timeout', '120s']);
  assert.equal(
    kubectl(cluster, [
      'get',
      'deployment',
      'web',
      '-n',
      ns,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]),
    'registry.invalid/app:1.0.0',
  );
  diff = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code']);
  assert.equal(diff.code, 0, `${diff.stdout}\n${diff.stderr}`);
});

test(
  'an apply killed midway converges on the next run: exactly the rendered set exists and is in the inventory',
  { timeout: 240_000 },
  async () => {
    const env = unique('apply-killed');
    const ns = unique('apply-killed');
    createNamespace(ns);
    const name = (i: number): string => `cm-${String(i).padStart(3, '0')}`;
    const range = (from: number, to: number): string[] =>
      Array.from({ length: to - from }, (_, i) => name(from + i));
    const v1 = range(0, 200);
    const v2 = range(50, 250); // drops cm-000..049, adds cm-200..249, and changes every value
    const repo = envRepo(env, ns, { 'app.yaml': configMaps(v1, 'v1') });
    await applyOk(repo, env);
    assert.deepEqual(configMapNames(ns), v1);

    repo.commit(inEnv(env, { 'app.yaml': configMaps(v2, 'v2') }), 'v2');
    const killed = await killMidApply(repo, env);
    assert.ok(killed.signal === 'SIGKILL', `the apply finished before it could be killed:\n${killed.stderr}`);
    const midway = configMapNames(ns);
    const updated = kubectl(cluster, ['get', 'configmaps', '-n', ns, '-o', 'jsonpath={.items[*].data.value}'])
      .split(/\s+/)
      .filter((v) => v === 'v2').length;
    // The inventory was widened before anything was written, and nothing was pruned yet.
    assert.deepEqual(inventoryNames(env), range(0, 250));
    for (const gone of range(0, 50)) assert.ok(midway.includes(gone), `${gone} was pruned by the killed run`);
    process.stderr.write(`# killed after ${killed.ms} ms: ${updated}/200 objects written\n`);

    // The killed run's lock expires on its own (60 s lease); the next run waits for it.
    const rerun = await apply(repo, env, [], { SLIPWAY_LOCK_WAIT_SECONDS: '120' });
    assert.equal(rerun.code, 0, `${rerun.stdout}\n${rerun.stderr}`);
    assert.match(rerun.stderr, new RegExp(`waiting for the lock held by .*-${killed.pid}`));
    assert.deepEqual(configMapNames(ns), v2);
    assert.deepEqual(inventoryNames(env), v2);
    const values = kubectl(cluster, ['get', 'configmaps', '-n', ns, '-o', 'jsonpath={.items[*].data.value}'])
      .split(/\s+/)
      .filter(Boolean);
    assert.deepEqual([...new Set(values)], ['v2']);
  },
);

/** Runs `slipway apply` as its own process and SIGKILLs it once it has started writing objects. */
function killMidApply(
  repo: TestRepo,
  env: string,
): Promise<{ signal: string | null; stderr: string; pid: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [CLI, 'apply', '--env', env, '--kubeconfig', cluster.adminKubeconfig],
      {
        cwd: repo.dir,
        env: { ...process.env, ...cluster.env, SLIPWAY_RETRY_SECONDS: '5', SLIPWAY_LOCK_WAIT_SECONDS: '5' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    let ms = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (ms === 0 && /applying \d+ namespaced objects/.test(stderr)) {
        ms = -1;
        setTimeout(() => {
          ms = Date.now() - started;
          child.kill('SIGKILL');
        }, 100);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, stderr, pid: child.pid ?? 0, ms }));
  });
}
