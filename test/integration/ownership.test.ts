// Issue 12 (items 2–4) on the real control plane: cluster-scoped custom resources that kustomize
// gave a namespace, adopting objects first applied with client-side `kubectl apply`, and two
// environments rendering one object. Every test has its own environments and namespaces, and
// checks what a user sees: exit codes, the plan, and the cluster itself through kubectl.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Cluster } from '../cluster/cluster.ts';
import { printableSides, unifiedDiff } from '../../src/core/plan/diff.ts';
import { scopeOf } from '../../src/core/validate/kinds.ts';
import { quietSides } from '../../src/core/noise/builtin.ts';
import type { KubeObject } from '../../src/core/objects.ts';
import {
  kubectl,
  slipway,
  stopSharedCluster,
  sharedCluster,
  TestRepo,
  unique,
  type CliRun,
  inEnv,
  envRepo as makeEnvRepo,
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

// --- helpers -----------------------------------------------------------------------------------

interface JsonRow {
  kind: string;
  namespace?: string;
  name: string;
  action: string;
  diff: string;
  note?: string;
  takes?: { manager: string; fields: string[] }[];
}

interface JsonPlan {
  summary: Record<'create' | 'update' | 'delete' | 'unchanged' | 'error' | 'orphan', number>;
  objects: JsonRow[];
  notes?: string[];
}

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

async function plan(repo: TestRepo, env: string): Promise<{ run: CliRun; plan: JsonPlan }> {
  const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  try {
    return { run, plan: JSON.parse(run.stdout) as JsonPlan };
  } catch {
    assert.fail(`diff printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

async function applyOk(repo: TestRepo, env: string, args: string[] = []): Promise<CliRun> {
  const run = await slipway(cluster, repo, ['apply', '--env', env, '--timeout', '0s', ...args]);
  assert.equal(run.code, 0, `apply failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

function getJson(args: string[]): KubeObject {
  return JSON.parse(kubectl(cluster, ['get', ...args, '-o', 'json', '--show-managed-fields'])) as KubeObject;
}

function managers(object: KubeObject): string[] {
  return (object.metadata.managedFields ?? []).map((e) => `${e.manager ?? ''}/${e.operation ?? ''}`).sort();
}

/** The +/- lines of a unified diff, without its headers: what a change adds and removes. */
function changeLines(diff: string): string[] {
  return diff.split('\n').filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---)( |$)/.test(l));
}

function inventoryKeys(env: string): string[] {
  const data = kubectl(cluster, [
    'get',
    'configmap',
    `slipway-${env}`,
    '-n',
    'slipway-system',
    '-o',
    'jsonpath={.data.objects}',
  ]);
  return (JSON.parse(data) as { kind: string; namespace?: string; name: string }[]).map(
    (e) => `${e.kind}/${e.namespace ?? ''}/${e.name}`,
  );
}

/** A cluster-scoped CRD `gates.<group>` (kind Gate), shaped like cert-manager's ClusterIssuer. */
function gateCrd(group: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gates.${group}
spec:
  group: ${group}
  scope: Cluster
  names: {plural: gates, singular: gate, kind: Gate, listKind: GateList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                open: {type: boolean}
`;
}

function gate(group: string, name: string): string {
  return `apiVersion: ${group}/v1\nkind: Gate\nmetadata:\n  name: ${name}\nspec:\n  open: true\n`;
}

function kustomization(namespace: string, resources: string[]): string {
  return `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\nresources:\n${resources.map((r) => `  - ${r}`).join('\n')}\n`;
}

// --- item 2: scope from discovery or a CRD in the render ----------------------------------------

test('a cluster-scoped custom resource that kustomize gave a namespace is applied without it, with a note, and its CRD in the same render', async () => {
  const env = unique('scope-render');
  const ns = unique('scope-render');
  const group = `${unique('g')}.example.com`;
  kubectl(cluster, ['create', 'namespace', ns]);
  const repo = envRepo(env, ns, {
    'kustomization.yaml': kustomization(ns, ['crd.yaml', 'gate.yaml', 'settings.yaml']),
    'crd.yaml': gateCrd(group),
    'gate.yaml': gate(group, 'main'),
    'settings.yaml': configMap('settings', { a: '1' }),
  });
  // The oracle: kustomize itself puts the namespace on the custom kind.
  const built = execFileSync('kustomize', ['build', `${repo.dir}/envs/${env}`], {
    encoding: 'utf8',
    env: { ...process.env, ...cluster.env },
  });
  assert.match(built, new RegExp(`kind: Gate\\nmetadata:\\n  name: main\\n  namespace: ${ns}`));

  const first = await plan(repo, env);
  assert.equal(first.run.code, 0, `${first.run.stdout}\n${first.run.stderr}`);
  const row = first.plan.objects.find((o) => o.kind === 'Gate');
  assert.ok(row);
  assert.equal(row.namespace, undefined);
  assert.equal(row.action, 'create');
  assert.match(row.note ?? '', new RegExp(`Gate is cluster-scoped: its namespace "${ns}" is ignored`));

  await applyOk(repo, env);
  assert.equal(getJson([`gates.${group}`, 'main']).metadata.namespace, undefined);
  assert.ok(inventoryKeys(env).includes('Gate//main'));
  const again = await plan(repo, env);
  assert.deepEqual(
    [again.plan.summary.create, again.plan.summary.update, again.plan.summary.delete],
    [0, 0, 0],
  );
});

test('the offline scope table agrees with the API server for every built-in kind it serves', () => {
  // The oracle: discovery as kubectl prints it (NAME SHORTNAMES APIVERSION NAMESPACED KIND).
  const rows = kubectl(cluster, ['api-resources', '--no-headers'])
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
  let known = 0;
  for (const columns of rows) {
    const [kind, namespaced, apiVersion] = [columns.at(-1), columns.at(-2), columns.at(-3)];
    assert.ok(kind && namespaced && apiVersion, columns.join(' '));
    const scope = scopeOf(apiVersion, kind, new Map());
    if (scope === 'unknown') continue;
    known++;
    assert.equal(scope, namespaced === 'true' ? 'namespaced' : 'cluster', `${apiVersion} ${kind}`);
  }
  assert.ok(known > 40, `only ${known} kinds checked`);
});

test('with its CRD already on the cluster, the namespaced custom resource is keyed without the namespace, plans empty after apply and is pruned when removed', async () => {
  const env = unique('scope-disc');
  const ns = unique('scope-disc');
  const group = `${unique('g')}.example.com`;
  kubectl(cluster, ['create', 'namespace', ns]);
  kubectl(cluster, ['apply', '-f', '-'], gateCrd(group));
  kubectl(cluster, ['wait', '--for=condition=Established', `crd/gates.${group}`, '--timeout=60s']);
  const repo = envRepo(env, ns, {
    'kustomization.yaml': kustomization(ns, ['gate.yaml', 'other.yaml', 'settings.yaml']),
    'gate.yaml': gate(group, 'main'),
    'other.yaml': gate(group, 'other'),
    'settings.yaml': configMap('settings', { a: '1' }),
  });
  const first = await plan(repo, env);
  const row = first.plan.objects.find((o) => o.name === 'main');
  assert.equal(row?.namespace, undefined);
  assert.match(row?.note ?? '', /cluster-scoped: its namespace .* is ignored, as kubectl does/);

  await applyOk(repo, env);
  const again = await plan(repo, env);
  assert.deepEqual(
    [again.plan.summary.create, again.plan.summary.update, again.plan.summary.delete],
    [0, 0, 0],
    JSON.stringify(again.plan.objects.filter((o) => o.action !== 'unchanged')),
  );
  assert.deepEqual(
    inventoryKeys(env).filter((k) => k.startsWith('Gate/')),
    ['Gate//main', 'Gate//other'],
  );

  // An inventory written by an older Slipway keyed the gates with kustomize's namespace: they
  // match the rendered objects again (no delete row), and the next apply rewrites the keys.
  const objects = JSON.parse(
    kubectl(cluster, [
      'get',
      'configmap',
      `slipway-${env}`,
      '-n',
      'slipway-system',
      '-o',
      'jsonpath={.data.objects}',
    ]),
  ) as { kind: string; namespace?: string }[];
  const old = objects.map((e) => (e.kind === 'Gate' ? { ...e, namespace: ns } : e));
  kubectl(cluster, [
    'patch',
    'configmap',
    `slipway-${env}`,
    '-n',
    'slipway-system',
    '--type=merge',
    '-p',
    JSON.stringify({ data: { objects: JSON.stringify(old) } }),
  ]);
  assert.ok(inventoryKeys(env).includes(`Gate/${ns}/main`));
  const upgraded = await plan(repo, env);
  assert.deepEqual(
    upgraded.plan.objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.action} ${o.name}`),
    [],
  );
  await applyOk(repo, env);
  assert.deepEqual(
    inventoryKeys(env).filter((k) => k.startsWith('Gate/')),
    ['Gate//main', 'Gate//other'],
  );

  repo.commit(
    inEnv(env, {
      'other.yaml': null,
      'kustomization.yaml': kustomization(ns, ['gate.yaml', 'settings.yaml']),
    }),
    'remove a gate',
  );
  const removal = await plan(repo, env);
  assert.deepEqual(
    removal.plan.objects
      .filter((o) => o.action !== 'unchanged')
      .map((o) => `${o.action} ${o.kind} ${o.name}`),
    ['delete Gate other'],
  );
  await applyOk(repo, env);
  assert.equal(kubectl(cluster, ['get', `gates.${group}`, '-o', 'name']).trim(), `gate.${group}/main`);
  assert.deepEqual(
    inventoryKeys(env).filter((k) => k.startsWith('Gate/')),
    ['Gate//main'],
  );
});

test('two cluster-scoped custom resources that differ only in the ignored namespace are one object defined twice: an error, not two applies', async () => {
  const env = unique('scope-dup');
  const ns = unique('scope-dup');
  const group = `${unique('g')}.example.com`;
  kubectl(cluster, ['create', 'namespace', ns]);
  kubectl(cluster, ['apply', '-f', '-'], gateCrd(group));
  kubectl(cluster, ['wait', '--for=condition=Established', `crd/gates.${group}`, '--timeout=60s']);
  const repo = envRepo(env, ns, {
    'kustomization.yaml': 'resources: [team-a, team-b]\n',
    'team-a/kustomization.yaml': kustomization('team-a', ['gate.yaml']),
    'team-a/gate.yaml': gate(group, 'main'),
    'team-b/kustomization.yaml': kustomization('team-b', ['gate.yaml']),
    'team-b/gate.yaml': gate(group, 'main'),
  });
  const { run, plan: rows } = await plan(repo, env);
  assert.notEqual(run.code, 0);
  assert.deepEqual(
    rows.objects.map((o) => o.action),
    ['create', 'error'],
  );
  assert.match(
    rows.objects[1]?.note ?? '',
    /Gate\.[a-z0-9.-]+ main is defined twice once its namespace is settled/,
  );
});

// --- item 3: adopting what client-side kubectl applied ------------------------------------------

function deploymentYaml(name: string, extras: { label?: string; env?: string }): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
${extras.label ? `    ${extras.label}\n` : ''}spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: app
          image: registry.invalid/app:1.0.0
          env:
            - {name: MODE, value: "production"}
${extras.env ? `            - ${extras.env}\n` : ''}`;
}

test('objects first applied with client-side kubectl are adopted: the plan says so, a dry-run writes nothing, and what Git drops is removed', async () => {
  const env = unique('adopt');
  const ns = unique('adopt');
  kubectl(cluster, ['create', 'namespace', ns]);
  const withExtras = { label: 'team: checkout', env: '{name: DEBUG, value: "1"}' };
  const settingsOld = configMap('settings', { a: '1', b: '2' }, '  labels:\n    team: checkout\n');
  const secret = (keys: string): string =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n${keys}`;
  // The old deploy script: client-side apply (managers kubectl-client-side-apply + last-applied).
  kubectl(
    cluster,
    ['apply', '-n', ns, '-f', '-'],
    `${deploymentYaml('web', withExtras)}---\n${settingsOld}---\n${secret('  token: abc12345\n  old: zzz\n')}`,
  );
  const before = getJson(['deployment', 'web', '-n', ns]);
  assert.ok(managers(before).includes('kubectl-client-side-apply/Update'), managers(before).join());

  // Git: the ConfigMap as kubectl applied it; the Deployment already without the label and env var.
  const repo = envRepo(env, ns, {
    'web.yaml': deploymentYaml('web', {}),
    'settings.yaml': settingsOld,
    'secret.yaml': secret('  token: abc12345\n'),
  });
  const first = await plan(repo, env);
  assert.equal(first.run.code, 0, `${first.run.stdout}\n${first.run.stderr}`);
  assert.ok(
    first.plan.notes?.some((n) => /^adopts 3 objects from kubectl/.test(n)),
    JSON.stringify(first.plan.notes),
  );
  const web = first.plan.objects.find((o) => o.name === 'web');
  assert.equal(web?.action, 'update');
  assert.match(web.note ?? '', /adopts \d+ fields from kubectl-client-side-apply/);
  assert.equal(web.takes, undefined, 'adopted managers are not reported as taken fields');
  assert.match(web.diff, /^-\s+team: checkout$/m);
  assert.match(web.diff, /^-\s+- name: DEBUG$/m);
  const settings = first.plan.objects.find((o) => o.name === 'settings');
  assert.equal(settings?.action, 'update', 'an adoption is a write even when Git matches the object');
  const creds = first.plan.objects.find((o) => o.name === 'creds');
  assert.match(creds?.diff ?? '', /secret keys: removed old; unchanged token/);

  // A dry-run apply plans the adoption but must not write it.
  const dry = await slipway(cluster, repo, ['apply', '--env', env, '--dry-run']);
  assert.equal(dry.code, 0, `${dry.stdout}\n${dry.stderr}`);
  assert.deepEqual(managers(getJson(['deployment', 'web', '-n', ns])), managers(before));

  await applyOk(repo, env);
  const after = getJson(['deployment', 'web', '-n', ns]);
  assert.equal(after.metadata.labels?.['team'], undefined);
  const container = (after.spec as { template: { spec: { containers: { env?: { name: string }[] }[] } } })
    .template.spec.containers[0];
  assert.deepEqual(
    container?.env?.map((e) => e.name),
    ['MODE'],
  );
  assert.ok(!managers(after).some((m) => m.startsWith('kubectl-client-side-apply/')), managers(after).join());
  assert.ok(managers(after).includes('slipway/Apply'));
  // kubectl keeps last-applied because the server refreshes it for manager "kubectl" only; for
  // Slipway it would go stale, so the adopted annotation is dropped like any field Git lacks.
  assert.equal(after.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  // The plan previewed exactly what the apply did: the same lines added and removed (Slipway's own
  // labels aside, which a plan leaves out of a diff with other changes: see noise/builtin.ts).
  const shown = quietSides(before, after);
  const actual = printableSides(shown.live, shown.result);
  assert.deepEqual(changeLines(web.diff), changeLines(unifiedDiff(actual.before, actual.after, 'web')));

  const credsAfter = getJson(['secret', 'creds', '-n', ns]);
  assert.deepEqual(Object.keys(credsAfter['data'] as object), ['token']);

  // Now the ConfigMap, as the issue tells it: drop the label and a key in Git after the adoption.
  assert.equal(getJson(['configmap', 'settings', '-n', ns]).metadata.labels?.['team'], 'checkout');
  repo.commit(inEnv(env, { 'settings.yaml': configMap('settings', { a: '1' }) }), 'drop the label and b');
  const removal = await plan(repo, env);
  const row = removal.plan.objects.find((o) => o.name === 'settings');
  assert.equal(row?.action, 'update');
  assert.match(row.diff, /^-\s+team: checkout$/m);
  assert.match(row.diff, /^-\s+b: '2'$/m);
  assert.equal(removal.plan.notes?.some((n) => n.startsWith('adopts')) ?? false, false);
  await applyOk(repo, env);
  const cm = getJson(['configmap', 'settings', '-n', ns]);
  assert.equal(cm.metadata.labels?.['team'], undefined);
  assert.deepEqual(cm['data'], { a: '1' });
  const clean = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code']);
  assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
});

test('a field kubectl applied server-side (manager kubectl) is adopted as Flux does, and removed when Git drops it', async () => {
  const env = unique('adopt-ssa');
  const ns = unique('adopt-ssa');
  kubectl(cluster, ['create', 'namespace', ns]);
  kubectl(
    cluster,
    ['apply', '--server-side', '-n', ns, '-f', '-'],
    configMap('flags', { a: '1', b: '2' }, '  labels:\n    team: checkout\n'),
  );
  const repo = envRepo(env, ns, { 'flags.yaml': configMap('flags', { a: '1' }) });
  const first = await plan(repo, env);
  const row = first.plan.objects.find((o) => o.name === 'flags');
  assert.match(row?.note ?? '', /adopts \d+ fields from kubectl:/);
  assert.match(row?.diff ?? '', /^-\s+b: '2'$/m);
  await applyOk(repo, env);
  const cm = getJson(['configmap', 'flags', '-n', ns]);
  assert.deepEqual(cm['data'], { a: '1' });
  assert.equal(cm.metadata.labels?.['team'], undefined);
  assert.ok(!managers(cm).includes('kubectl/Apply'));
});

// --- item 4: two environments, one object -------------------------------------------------------

test('two environments rendering one object: the second plan names the object and both environments as an error, its apply refuses, and a handed-over object moves', async () => {
  const a = unique('own-a');
  const b = unique('own-b');
  const ns = unique('own');
  kubectl(cluster, ['create', 'namespace', ns]);
  const config = [
    'environments:',
    ...[a, b].flatMap((env) => [`  ${env}:`, `    path: envs/${env}`, `    namespace: ${ns}`]),
    '',
  ].join('\n');
  const repo = new TestRepo({
    'slipway.yaml': config,
    ...inEnv(a, { 'shared.yaml': configMap('shared', { owner: 'a', onlyA: 'x' }) }),
    ...inEnv(b, {
      'shared.yaml': configMap('shared', { owner: 'b' }),
      'own.yaml': configMap('b-only', { k: 'v' }),
    }),
  });
  repos.push(repo);
  await applyOk(repo, a);

  const second = await plan(repo, b);
  assert.notEqual(second.run.code, 0, 'a plan with an ownership conflict fails the check');
  const row = second.plan.objects.find((o) => o.name === 'shared');
  assert.equal(row?.action, 'error');
  assert.match(row.note ?? '', new RegExp(`ConfigMap ${ns}/shared belongs to environment "${a}"`));
  assert.match(row.note ?? '', new RegExp(`environment "${b}" renders it too`));
  assert.equal(second.plan.objects.find((o) => o.name === 'b-only')?.action, 'create');

  const refused = await slipway(cluster, repo, ['apply', '--env', b, '--timeout', '0s']);
  assert.notEqual(refused.code, 0, `${refused.stdout}\n${refused.stderr}`);
  const live = getJson(['configmap', 'shared', '-n', ns]);
  assert.equal(live.metadata.labels?.['slipway.dev/environment'], a);
  assert.deepEqual(live['data'], { owner: 'a', onlyA: 'x' });
  assert.equal((await plan(repo, a)).plan.summary.update, 0, 'environment a still matches its Git');

  // The hand-over: a keeps the object (prune disabled) and stops rendering it; then b takes it.
  kubectl(cluster, ['annotate', 'configmap', 'shared', '-n', ns, 'slipway.dev/prune=disabled']);
  repo.commit(
    inEnv(a, { 'shared.yaml': null, 'other.yaml': configMap('a-only', { k: 'v' }) }),
    'move shared to b',
  );
  await applyOk(repo, a);
  const takeover = await plan(repo, b);
  const moved = takeover.plan.objects.find((o) => o.name === 'shared');
  assert.equal(moved?.action, 'update');
  assert.match(
    moved.note ?? '',
    new RegExp(`takes over from environment "${a}", whose inventory no longer lists it`),
  );
  await applyOk(repo, b);
  const after = getJson(['configmap', 'shared', '-n', ns]);
  assert.equal(after.metadata.labels?.['slipway.dev/environment'], b);
  assert.equal((after['data'] as Record<string, string>)['owner'], 'b');
});
