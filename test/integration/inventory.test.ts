// Issue 12, items 5 to 7: the inventory and prune against the real local control plane. An entry
// is never forgotten because it could not be read (RBAC) or because its version is no longer
// served; the prune budget fails the plan, over the inventory before the run; another
// repository's inventory (same environment name, same cluster) is refused unless forced.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../cluster/cluster.ts';
import {
  envRepo as makeEnvRepo,
  inEnv,
  kubectl,
  sharedCluster,
  slipway,
  stopSharedCluster,
  unique,
  type CliRun,
  type TestRepo,
} from './harness.ts';
import { configMap } from './fixtures.ts';

let cluster: Cluster;
const repos: TestRepo[] = [];

before(
  async () => {
    cluster = await sharedCluster();
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const repo of repos) repo.remove();
  await stopSharedCluster();
});

// CI variables of the machine running the tests must not name the test repositories.
const NO_CI_IDENTITY = { GITHUB_REPOSITORY: '', CI_PROJECT_PATH: '', SLIPWAY_REPOSITORY: '' };

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

function run(repo: TestRepo, args: string[], kubeconfig = cluster.adminKubeconfig): Promise<CliRun> {
  return slipway(cluster, repo, args, NO_CI_IDENTITY, kubeconfig);
}

function output(result: CliRun): string {
  return `${result.stdout}\n${result.stderr}`;
}

async function applyOk(repo: TestRepo, env: string, args: string[] = []): Promise<CliRun> {
  const result = await run(repo, ['apply', '--env', env, ...args]);
  assert.equal(result.code, 0, `apply failed:\n${output(result)}`);
  return result;
}

function configMaps(names: readonly string[], value = 'v1'): string {
  return names.map((name) => configMap(name, { value })).join('---\n');
}

interface StoredInventory {
  readonly objects: { apiVersion: string; kind: string; namespace?: string; name: string }[];
  readonly repository: string | undefined;
}

function storedInventory(env: string): StoredInventory {
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
  ) as { objects: string; repository?: string };
  return {
    objects: JSON.parse(data.objects) as StoredInventory['objects'],
    repository: data.repository || undefined,
  };
}

function inventoryNames(env: string, kind: string): string[] {
  return storedInventory(env)
    .objects.filter((o) => o.kind === kind)
    .map((o) => o.name)
    .sort();
}

function names(kind: string, namespace: string): string[] {
  return kubectl(cluster, ['get', kind, '-n', namespace, '-o', 'jsonpath={.items[*].metadata.name}'])
    .split(/\s+/)
    .filter((name) => name !== '' && name !== 'kube-root-ca.crt')
    .sort();
}

function widgetCrd(group: string, versions: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
${versions}`;
}

function widgetVersion(name: string, served: boolean, storage: boolean): string {
  return `    - name: ${name}
      served: ${served}
      storage: ${storage}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
`;
}

function widgets(group: string, version: string, widgetNames: readonly string[]): string {
  return widgetNames
    .map(
      (name) =>
        `apiVersion: ${group}/${version}\nkind: Widget\nmetadata:\n  name: ${name}\nspec:\n  size: 1\n`,
    )
    .join('---\n');
}

function installCrd(yaml: string, name: string): void {
  kubectl(cluster, ['apply', '-f', '-'], yaml);
  kubectl(cluster, ['wait', '--for=condition=Established', '--timeout=60s', `crd/${name}`]);
}

// --- item 5: failed reads and unserved versions keep the entry -------------------------------------

test('an entry the applying user cannot read stays in the inventory and is pruned by a run that can', async () => {
  const env = unique('inv-rbac');
  const hidden = unique('inv-hidden');
  const own = cluster.restrictedNamespace;
  kubectl(cluster, ['create', 'namespace', hidden]);
  // The restricted user may run Slipway (lock and inventory in slipway-system) but not read `hidden`.
  kubectl(
    cluster,
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Namespace
metadata: {name: slipway-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: slipway-runner, namespace: slipway-system}
rules:
  - {apiGroups: ['', coordination.k8s.io], resources: [configmaps, leases], verbs: ['*']}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: slipway-runner, namespace: slipway-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: slipway-runner}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: slipway-restricted}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: slipway-runner-namespaces}
rules: [{apiGroups: [''], resources: [namespaces], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: slipway-runner-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: slipway-runner-namespaces}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: slipway-restricted}]
`,
  );
  const repo = envRepo(env, own, {
    'app.yaml': configMaps(['app']),
    'hidden.yaml': configMap('secret-config', { value: 'v1' }, `  namespace: ${hidden}\n`),
  });
  await applyOk(repo, env);
  assert.deepEqual(inventoryNames(env, 'ConfigMap'), ['app', 'secret-config']);

  // Git drops the hidden ConfigMap; the next apply runs with credentials that cannot GET it.
  repo.commit(inEnv(env, { 'hidden.yaml': null, 'app.yaml': configMaps(['app'], 'v2') }), 'drop hidden');
  const denied = await run(repo, ['apply', '--env', env], cluster.restrictedKubeconfig);
  assert.equal(denied.code, 1, output(denied));
  // Before the fix the entry was dropped here, and the ConfigMap was never pruned afterwards.
  assert.deepEqual(inventoryNames(env, 'ConfigMap'), ['app', 'secret-config']);
  assert.match(
    output(denied),
    new RegExp(
      `cannot read ConfigMap ${hidden}/secret-config to plan its deletion \\(kept in the inventory\\)`,
    ),
  );
  assert.match(output(denied), /forbidden/i);
  assert.deepEqual(names('configmap', hidden), ['secret-config']);

  const admin = await applyOk(repo, env);
  assert.match(admin.stdout, new RegExp(`pruned ConfigMap ${hidden}/secret-config`));
  assert.deepEqual(names('configmap', hidden), []);
  assert.deepEqual(inventoryNames(env, 'ConfigMap'), ['app']);
});

test('an entry recorded at a version the CRD no longer serves is read and pruned at the served one', async () => {
  const env = unique('inv-version');
  const ns = unique('inv-version');
  const group = `${unique('v')}.example.com`;
  kubectl(cluster, ['create', 'namespace', ns]);
  // An operator's CRD, installed outside the environment: v1alpha1 only at first.
  installCrd(widgetCrd(group, widgetVersion('v1alpha1', true, true)), `widgets.${group}`);
  const repo = envRepo(env, ns, { 'widgets.yaml': widgets(group, 'v1alpha1', ['w1', 'w2', 'w3']) });
  await applyOk(repo, env);
  assert.deepEqual(
    storedInventory(env)
      .objects.filter((o) => o.kind === 'Widget')
      .map((o) => o.apiVersion),
    [`${group}/v1alpha1`, `${group}/v1alpha1`, `${group}/v1alpha1`],
  );

  // The operator's upgrade serves v1 and stops serving v1alpha1; the repository moves to v1 and drops w1.
  installCrd(
    widgetCrd(group, widgetVersion('v1', true, true) + widgetVersion('v1alpha1', false, false)),
    `widgets.${group}`,
  );
  repo.commit(inEnv(env, { 'widgets.yaml': widgets(group, 'v1', ['w2', 'w3']) }), 'v1, without w1');
  const diff = await run(repo, ['diff', '--env', env]);
  assert.equal(diff.code, 0, output(diff));
  assert.match(diff.stdout, new RegExp(`delete Widget\\.${group.replace(/\./g, '\\.')} ${ns}/w1`));
  assert.match(
    diff.stdout,
    new RegExp(`recorded as ${group}/v1alpha1, which the cluster no longer serves: read as ${group}/v1`),
  );

  const applied = await applyOk(repo, env);
  assert.match(applied.stdout, new RegExp(`pruned Widget ${ns}/w1`));
  assert.deepEqual(names(`widgets.${group}`, ns), ['w2', 'w3']);
  assert.deepEqual(
    storedInventory(env)
      .objects.filter((o) => o.kind === 'Widget')
      .map((o) => `${o.apiVersion} ${o.name}`),
    [`${group}/v1 w2`, `${group}/v1 w3`],
  );
});

test('an entry whose kind is no longer served at all is kept in the inventory, with a warning', async () => {
  const env = unique('inv-gone');
  const ns = unique('inv-gone');
  const group = `${unique('g')}.example.com`;
  kubectl(cluster, ['create', 'namespace', ns]);
  installCrd(widgetCrd(group, widgetVersion('v1', true, true)), `widgets.${group}`);
  const repo = envRepo(env, ns, {
    'app.yaml': configMaps(['app']),
    'widgets.yaml': widgets(group, 'v1', ['w1']),
  });
  await applyOk(repo, env);

  // The CRD is uninstalled by hand (its Widgets go with it), and Git drops the Widget too.
  kubectl(cluster, ['delete', 'crd', `widgets.${group}`, '--wait=true']);
  repo.commit(inEnv(env, { 'widgets.yaml': null }), 'drop the widget');
  const applied = await applyOk(repo, env);
  assert.match(
    output(applied),
    new RegExp(
      `Widget\\.${group.replace(/\./g, '\\.')} ${ns}/w1 kept in the inventory: the cluster no longer serves Widget in any version of ${group.replace(/\./g, '\\.')}`,
    ),
  );
  assert.deepEqual(inventoryNames(env, 'Widget'), ['w1']);
  assert.deepEqual(inventoryNames(env, 'ConfigMap'), ['app']);
});

// --- item 6: the prune budget is decided in the plan -----------------------------------------------

test('a prune over max-objects fails the plan with the numbers; the apply keeps the objects until --force', async () => {
  const env = unique('inv-budget');
  const ns = unique('inv-budget');
  kubectl(cluster, ['create', 'namespace', ns]);
  const repo = envRepo(env, ns, { 'app.yaml': configMaps(['a', 'b', 'c', 'd']) }, [
    'prune-budget:',
    '  max-objects: 2',
    '  max-percent: 100',
  ]);
  await applyOk(repo, env);
  repo.commit(inEnv(env, { 'app.yaml': configMaps(['d']) }), 'remove three');

  // Before the fix the plan was green (exit 0) and only the apply after merge failed.
  const diff = await run(repo, ['diff', '--env', env]);
  assert.equal(diff.code, 1, output(diff));
  assert.match(output(diff), /prunes 3 objects, budget 2 \(prune-budget\.max-objects\)/);

  const refused = await run(repo, ['apply', '--env', env]);
  assert.equal(refused.code, 1, output(refused));
  assert.match(refused.stdout, /prune skipped: prunes 3 objects, budget 2 \(prune-budget\.max-objects\)/);
  assert.deepEqual(names('configmap', ns), ['a', 'b', 'c', 'd']);
  assert.deepEqual(inventoryNames(env, 'ConfigMap'), ['a', 'b', 'c', 'd']);

  const forced = await applyOk(repo, env, ['--force']);
  assert.match(output(forced), /--force overrides: prunes 3 objects, budget 2/);
  assert.deepEqual(names('configmap', ns), ['d']);
  assert.deepEqual(inventoryNames(env, 'ConfigMap'), ['d']);
});

test('renaming every object is 100% of the previous inventory: over max-percent in the plan and the apply', async () => {
  const env = unique('inv-rename');
  const ns = unique('inv-rename');
  kubectl(cluster, ['create', 'namespace', ns]);
  const repo = envRepo(env, ns, { 'app.yaml': configMaps(['a', 'b', 'c', 'd']) });
  await applyOk(repo, env);
  repo.commit(inEnv(env, { 'app.yaml': configMaps(['new-a', 'new-b', 'new-c', 'new-d']) }), 'rename all');

  const diff = await run(repo, ['diff', '--env', env]);
  assert.equal(diff.code, 1, output(diff));
  const budget =
    /prunes 4 of the 4 objects in the inventory \(100%\), budget 50% \(prune-budget\.max-percent\)/;
  assert.match(output(diff), budget);

  // Before the fix: 4 deletions over the widened inventory of 8 is 50%, so everything was pruned.
  const refused = await run(repo, ['apply', '--env', env]);
  assert.equal(refused.code, 1, output(refused));
  assert.match(refused.stdout, budget);
  assert.deepEqual(names('configmap', ns), ['a', 'b', 'c', 'd', 'new-a', 'new-b', 'new-c', 'new-d']);
});

// --- item 7: the repository identity ---------------------------------------------------------------

test("another repository's inventory is refused in plan and apply, naming it; --force takes it over; an old one is adopted", async () => {
  const env = unique('inv-owner');
  const ns = unique('inv-owner');
  kubectl(cluster, ['create', 'namespace', ns]);
  const first = envRepo(env, ns, { 'app.yaml': configMaps(['first-1', 'first-2']) });
  first.git('remote', 'add', 'origin', 'https://github.com/Acme/First.git');
  const second = envRepo(env, ns, { 'app.yaml': configMaps(['second-1']) }, [
    'prune-budget:',
    '  max-percent: 100',
  ]);
  second.git('remote', 'add', 'origin', 'git@github.com:acme/second.git');

  await applyOk(first, env);
  assert.equal(storedInventory(env).repository, 'github.com/acme/first');

  const message = new RegExp(
    `environment "${env}" on this cluster belongs to repository github\\.com/acme/first .*this is github\\.com/acme/second`,
  );
  const diff = await run(second, ['diff', '--env', env]);
  assert.equal(diff.code, 1, output(diff));
  assert.match(output(diff), message);

  // Before the fix this apply pruned first-1 and first-2 as if they were the second repository's.
  const refused = await run(second, ['apply', '--env', env]);
  assert.equal(refused.code, 1, output(refused));
  assert.match(output(refused), message);
  assert.deepEqual(names('configmap', ns), ['first-1', 'first-2']);
  assert.equal(storedInventory(env).repository, 'github.com/acme/first');

  const forced = await applyOk(second, env, ['--force']);
  assert.match(
    output(forced),
    /--force overrides: environment .* belongs to repository github\.com\/acme\/first/,
  );
  assert.deepEqual(names('configmap', ns), ['second-1']);
  assert.equal(storedInventory(env).repository, 'github.com/acme/second');

  // An inventory written by a Slipway that did not record the repository is adopted, with a note.
  kubectl(cluster, [
    'patch',
    'configmap',
    `slipway-${env}`,
    '-n',
    'slipway-system',
    '--type=json',
    '-p',
    '[{"op":"remove","path":"/data/repository"}]',
  ]);
  assert.equal(storedInventory(env).repository, undefined);
  const adopted = await applyOk(second, env);
  assert.match(
    output(adopted),
    /records no repository \(written by an older Slipway\): adopted as github\.com\/acme\/second/,
  );
  assert.equal(storedInventory(env).repository, 'github.com/acme/second');
});
