// Issue 15: the risk summary and the noise rules on the real control plane. Each test plans real
// changes with `slipway diff` and asserts what a reviewer sees in the JSON plan (risks, actions,
// diffs) and, for ignored fields, what the apply leaves in the cluster.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import {
  envConfig,
  envRepo as makeEnvRepo,
  inEnv,
  kubectl,
  sharedCluster,
  slipway,
  stopSharedCluster,
  unique,
  TestRepo,
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

interface JsonPlan {
  summary: Record<string, number>;
  risks: { id: string; level: string; object?: string; message: string }[];
  objects: { kind: string; name: string; action: string; diff: string; note?: string; adoptOnly?: boolean }[];
}

const BASE = ['wait: false'];

function repoOf(env: string, ns: string, files: Record<string, string>, extra: string[] = []): TestRepo {
  const repo = makeEnvRepo(env, ns, files, [...BASE, ...extra]);
  repos.push(repo);
  return repo;
}

async function plan(repo: TestRepo, env: string): Promise<{ code: number; plan: JsonPlan; stderr: string }> {
  const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  try {
    return { code: run.code, plan: JSON.parse(run.stdout) as JsonPlan, stderr: run.stderr };
  } catch {
    assert.fail(`no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

async function apply(repo: TestRepo, env: string): Promise<void> {
  const run = await slipway(cluster, repo, ['apply', '--env', env]);
  assert.equal(run.code, 0, `apply failed:\n${run.stdout}\n${run.stderr}`);
}

function row(p: JsonPlan, kind: string, name: string): JsonPlan['objects'][number] {
  const found = p.objects.find((o) => o.kind === kind && o.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
}

function deployment(
  name: string,
  options: { replicas?: number; image?: string; app?: string; pod?: string; annotations?: string } = {},
): string {
  const app = options.app ?? name;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${options.replicas ?? 2}
  selector:
    matchLabels: {app: ${app}}
  template:
    metadata:
      labels: {app: ${app}}
${options.annotations ? `      annotations: ${options.annotations}\n` : ''}    spec:
${options.pod ?? ''}      containers:
        - name: app
          image: ${options.image ?? 'registry.invalid/app:1.0.0'}
`;
}

function clusterRole(name: string, rules: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${name}
rules: ${rules}
`;
}

function binding(name: string, role: string, ns: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${name}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role}}
subjects:
  - {kind: ServiceAccount, name: deployer, namespace: ${ns}}
`;
}

test('risks: deletes, immutable selector, RBAC growth, scale to zero, :latest, host access, prune budget; levels from slipway.yaml', async () => {
  const env = unique('risk');
  const ns = unique('risk');
  kubectl(cluster, ['create', 'namespace', ns]);
  const role = unique('risk-reader');
  const files = {
    'web.yaml': deployment('web'),
    'api.yaml': deployment('api'),
    'role.yaml': clusterRole(role, '[{apiGroups: [""], resources: [pods], verbs: [get]}]'),
    'old.yaml': configMap('old', { a: '1' }),
    'data.yaml': `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`,
  };
  // Prune may delete the PVC here, so its deletion is a plan row (and a named risk).
  const repo = repoOf(env, ns, files, ['allow-delete: [PersistentVolumeClaim]']);
  await apply(repo, env);
  const first = await plan(repo, env);
  assert.equal(first.code, 0);
  let p = first.plan;
  assert.deepEqual(p.risks, [], 'an unchanged plan has no risks');

  repo.commit(
    inEnv(env, {
      'web.yaml': deployment('web', {
        replicas: 0,
        image: 'registry.invalid/app:latest',
        pod: '      hostNetwork: true\n',
      }),
      'api.yaml': deployment('api', { app: 'api-v2' }),
      'role.yaml': clusterRole(
        role,
        '[{apiGroups: [""], resources: [pods], verbs: [get]}, {apiGroups: ["*"], resources: ["*"], verbs: [delete]}]',
      ),
      'bind.yaml': binding(unique('risk-admin'), 'cluster-admin', ns),
      'old.yaml': null,
      'data.yaml': null,
    }),
    'risky change',
  );
  ({ plan: p } = await plan(repo, env));
  const ids = p.risks.map((r) => `${r.id} ${r.object ?? ''}`.trim());
  assert.ok(ids.includes('delete'), ids.join('\n'));
  assert.match(p.risks.find((r) => r.id === 'delete' && !r.object)?.message ?? '', /^deletes 2 objects/);
  assert.equal(
    p.risks.find((r) => r.object === `PersistentVolumeClaim ${ns}/data`)?.message,
    'is deleted and its volume data',
  );
  assert.ok(ids.includes(`immutable-field Deployment.apps ${ns}/api`), ids.join('\n'));
  assert.equal(row(p, 'Deployment', 'api').action, 'error', 'the server refuses the selector change');
  assert.ok(ids.includes(`rbac-grows ClusterRole.rbac.authorization.k8s.io ${role}`), ids.join('\n'));
  assert.match(p.risks.find((r) => r.object?.includes(role))?.message ?? '', /wildcards.*delete \*/);
  assert.ok(
    p.risks.some((r) => r.id === 'rbac-grows' && /to cluster-admin \(full control\)/.test(r.message)),
  );
  assert.ok(ids.includes(`scale-to-zero Deployment.apps ${ns}/web`));
  assert.ok(ids.includes(`latest-image Deployment.apps ${ns}/web`));
  assert.ok(p.risks.some((r) => r.id === 'privileged-pod' && /hostNetwork/.test(r.message)));
  assert.match(
    p.risks.find((r) => r.id === 'prune-budget')?.message ?? '',
    /2 of at most 2 deletions .* room for 0 more/,
  );
  assert.ok(p.risks.every((r) => r.level === 'warning'));
  assert.equal(p.risks[0]?.id, 'delete', 'deletions come first');

  // Per environment: rbac-grows blocks the check, latest-image is not shown. (The selector is
  // restored, so the risk is the only thing that can fail the plan.)
  repo.commit(
    {
      'slipway.yaml': envConfig(env, ns, [
        ...BASE,
        'allow-delete: [PersistentVolumeClaim]',
        'risks: {rbac-grows: error, latest-image: ignore}',
      ]),
      ...inEnv(env, { 'api.yaml': deployment('api') }),
    },
    'levels',
  );
  const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  assert.equal(run.code, 1, 'a risk set to error fails the plan');
  assert.match(run.stderr, /^error: envs\/.*\/role\.yaml:\d+: ClusterRole.* grants \(wildcards\)/m);
  assert.match(run.stderr, /^warning: envs\/.*\/web\.yaml:\d+: .*scales to zero/m);
  const strict = JSON.parse(run.stdout) as JsonPlan;
  assert.ok(!strict.risks.some((r) => r.id === 'latest-image'));
  assert.ok(strict.risks.filter((r) => r.id === 'rbac-grows').every((r) => r.level === 'error'));
});

test('noise: replicas owned by another manager are drift unless ignored; ignored, the apply leaves them', async () => {
  const env = unique('noise');
  const ns = unique('noise');
  kubectl(cluster, ['create', 'namespace', ns]);
  const repo = repoOf(env, ns, { 'web.yaml': deployment('web') });
  await apply(repo, env);
  // What the HPA's write looks like: the scale subresource, under the controller manager's name.
  kubectl(cluster, [
    'patch',
    'deployment/web',
    '-n',
    ns,
    '--subresource=scale',
    '--type=merge',
    '-p',
    '{"spec":{"replicas":5}}',
    '--field-manager=kube-controller-manager',
  ]);
  let { plan: p } = await plan(repo, env);
  const drift = row(p, 'Deployment', 'web');
  assert.equal(drift.action, 'update', 'not ignored: the scale is drift');
  assert.match(drift.diff, /- {2}replicas: 5\n\+ {2}replicas: 2/);

  for (const rule of [
    '- {kind: Deployment, group: apps, managers: [kube-controller-manager]}',
    '- {kind: Deployment, name: web, json-pointers: [/spec/replicas]}',
    "- {kind: Deployment, paths: ['.spec.replicas']}",
  ]) {
    repo.commit({ 'slipway.yaml': envConfig(env, ns, [...BASE, 'ignore-differences:', `  ${rule}`]) }, rule);
    ({ plan: p } = await plan(repo, env));
    assert.equal(row(p, 'Deployment', 'web').action, 'unchanged', `ignored by ${rule}`);
  }
  // A real change next to the ignored field: applied, and the ignored field is left as it is.
  repo.commit(inEnv(env, { 'web.yaml': deployment('web', { image: 'registry.invalid/app:1.0.1' }) }), 'bump');
  ({ plan: p } = await plan(repo, env));
  const bump = row(p, 'Deployment', 'web');
  assert.equal(bump.action, 'update');
  assert.ok(!/replicas/.test(bump.diff), bump.diff);
  await apply(repo, env);
  const live = JSON.parse(kubectl(cluster, ['get', 'deployment', 'web', '-n', ns, '-o', 'json'])) as {
    spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  };
  assert.equal(live.spec.replicas, 5, 'the apply did not overwrite the ignored field');
  assert.equal(live.spec.template.spec.containers[0]?.image, 'registry.invalid/app:1.0.1');
});

test('built-in noise: a Helm checksum bump is one line; an object that only gains Slipway labels is adopted', async () => {
  const env = unique('quiet');
  const ns = unique('quiet');
  kubectl(cluster, ['create', 'namespace', ns]);
  const repo = repoOf(env, ns, {
    'web.yaml': deployment('web', { annotations: '{checksum/config: aaaa}' }),
  });
  await apply(repo, env);
  // Created by another tool with what Git holds: only Slipway's labels are missing.
  kubectl(
    cluster,
    ['create', '-n', ns, '--field-manager=other-tool', '-f', '-'],
    configMap('shared', { k: 'v' }),
  );
  repo.commit(
    inEnv(env, {
      'web.yaml': deployment('web', { annotations: '{checksum/config: bbbb}' }),
      'shared.yaml': configMap('shared', { k: 'v' }),
    }),
    'config changed',
  );
  const { plan: p } = await plan(repo, env);
  const web = row(p, 'Deployment', 'web');
  assert.equal(web.action, 'update');
  assert.equal(web.note, 'restarts pods (config changed: checksum/config)');
  assert.equal(web.diff, '', 'no diff of hashes');
  const shared = row(p, 'ConfigMap', 'shared');
  assert.equal(shared.action, 'update');
  assert.equal(shared.adoptOnly, true);
  assert.match(shared.diff, /slipway\.dev\/environment/, 'the labels are the change, so they are shown');
  assert.equal(p.summary.adopt, 1);
  const text = await slipway(cluster, repo, ['diff', '--env', env]);
  assert.match(text.stdout, /1 to update, 1 to adopt/);
  assert.match(text.stdout, /^adopt ConfigMap /m);
});

test('slipway diff without --env: a change identical in two clusters is shown once, × 2 environments', async () => {
  // The same object in two environments of one cluster is an ownership error (cross-environment.ts):
  // identical changes are what a dev and a prod cluster share, so the second environment gets a
  // second control plane of its own.
  const second = await startCluster({ log: () => undefined });
  try {
    const [a, b] = [unique('twin'), unique('twin')];
    const ns = unique('twin');
    kubectl(cluster, ['create', 'namespace', ns]);
    execFileSync(second.kubectl, ['--kubeconfig', second.adminKubeconfig, 'create', 'namespace', ns]);
    const kubeconfig = twoClusters(cluster, second);
    const env = (name: string, context: string): string[] => [
      `  ${name}:`,
      `    path: envs/${name}`,
      `    namespace: ${ns}`,
      `    context: ${context}`,
    ];
    const repo = new TestRepo({
      'slipway.yaml': ['environments:', ...env(a, 'first'), ...env(b, 'second'), ''].join('\n'),
      ...inEnv(a, { 'keep.yaml': configMap(`keep-${a}`, { k: 'v' }) }),
      ...inEnv(b, { 'keep.yaml': configMap(`keep-${b}`, { k: 'v' }) }),
    });
    repos.push(repo);
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit(
      {
        ...inEnv(a, {
          'shared.yaml': configMap('shared', { LOG_LEVEL: 'debug' }),
          'own.yaml': configMap('only-a', { x: '1' }),
        }),
        ...inEnv(b, { 'shared.yaml': configMap('shared', { LOG_LEVEL: 'debug' }) }),
      },
      'both',
    );
    const run = await slipway(cluster, repo, ['diff'], {}, kubeconfig);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`${b}: planning against ${second.server.replace(/[.]/g, '\\.')} `));
    assert.match(
      run.stdout,
      new RegExp(`create ConfigMap ${ns}/shared × 2 environments \\(${[a, b].sort().join(', ')}\\)`),
    );
    assert.equal(run.stdout.match(/LOG_LEVEL: debug/g)?.length, 1, 'the shared diff once');
    assert.match(run.stdout, new RegExp(`— only in ${a} —[\\s\\S]*create ConfigMap ${ns}/only-a`));
  } finally {
    await second.stop();
  }
});

/** One kubeconfig with a context per cluster, as a team with a dev and a prod cluster has. */
function twoClusters(first: Cluster, second: Cluster): string {
  const entries = [first, second].map((c, i) => {
    const config = load(readFileSync(c.adminKubeconfig, 'utf8')) as {
      clusters: { cluster: unknown }[];
      users: { user: unknown }[];
    };
    const name = i === 0 ? 'first' : 'second';
    return {
      cluster: { name, cluster: config.clusters[0]?.cluster },
      user: { name, user: config.users[0]?.user },
      context: { name, context: { cluster: name, user: name } },
    };
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'slipway-two-clusters-')), 'kubeconfig');
  const merged = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.map((e) => e.cluster),
    users: entries.map((e) => e.user),
    contexts: entries.map((e) => e.context),
    'current-context': 'first',
  };
  writeFileSync(file, JSON.stringify(merged), { mode: 0o600 });
  return file;
}
