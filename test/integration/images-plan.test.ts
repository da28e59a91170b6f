// Issue 16's last proof: after `slipway images --write` (what the image pull request carries), the
// plan against the real control plane shows the image change and nothing else; also when the tag
// was traced from the render to a shared kustomize base outside the environment's folder, the plan
// points at the base line that was edited.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { pushImage } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from '../unit/registry.ts';
import { envRepo, kubectl, sharedCluster, slipway, stopSharedCluster, TestRepo, unique } from './harness.ts';

let cluster: Cluster;
let registry: LocalRegistry;
let dir: string;
const repos: TestRepo[] = [];

before(
  async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'slipway-images-plan-'));
    registry = await startRegistry(dir);
    for (const tag of ['1.0.0', '1.2.0']) await pushImage(registry.host, 'team/web', tag);
    cluster = await sharedCluster();
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const repo of repos) repo.remove();
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
  await stopSharedCluster();
});

test('the plan of the image update shows the new tag on the live Deployment', async () => {
  const env = unique('img');
  const namespace = unique('img-ns');
  const deployment = (tag: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${namespace}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ${registry.host}/team/web:${tag} # the web tier
`;
  const repo = envRepo(
    env,
    namespace,
    {
      'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      'web.yaml': deployment('1.0.0'),
    },
    ['wait: false'],
  );
  repos.push(repo);
  repo.commit(
    {
      'slipway.yaml': `${readFileSync(path.join(repo.dir, 'slipway.yaml'), 'utf8')}image-policies:\n  web:\n    image: ${registry.host}/team/web\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
    },
    'image policy',
  );
  const applied = await slipway(cluster, repo, ['apply', '--env', env]);
  assert.equal(applied.code, 0, applied.stderr);

  const images = await slipway(cluster, repo, ['images', '--env', env, '--write']);
  assert.equal(images.code, 0, images.stderr);
  assert.equal(readFileSync(path.join(repo.dir, `envs/${env}/web.yaml`), 'utf8'), deployment('1.2.0'));

  const plan = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  assert.equal(plan.code, 0, plan.stderr);
  const out = JSON.parse(plan.stdout) as {
    summary: Record<string, number>;
    objects: { kind: string; action: string; diff: string }[];
  };
  const web = out.objects.find((o) => o.kind === 'Deployment');
  assert.ok(web);
  assert.equal(web.action, 'update');
  const host = registry.host.replaceAll('.', '\\.');
  assert.match(web.diff, new RegExp(`^-\\s+- image: ${host}/team/web:1\\.0\\.0$`, 'm'));
  assert.match(web.diff, new RegExp(`^\\+\\s+- image: ${host}/team/web:1\\.2\\.0$`, 'm'));
  // Only the image line changed.
  assert.equal(web.diff.split('\n').filter((l) => /^[-+](?![-+])/.test(l)).length, 2);
  assert.equal(out.summary['update'], 1);
});

test('a tag bumped in a shared base: the plan shows it on the live Deployment, from the base line', async () => {
  const env = unique('trace');
  const namespace = unique('trace-ns');
  const host = registry.host;
  const deployment = (tag: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ${host}/team/web:${tag} # the web tier
`;
  const repo = new TestRepo({
    'slipway.yaml': `environments:
  ${env}:
    path: overlays/${env}
    wait: false
image-policies:
  web:
    image: ${host}/team/web
    policy:
      semver:
        range: '^1.0.0'
    insecure: true
`,
    'base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
    'base/deployment.yaml': deployment('1.0.0'),
    [`overlays/${env}/kustomization.yaml`]: `namespace: ${namespace}\nresources:\n  - ../../base\n`,
  });
  repos.push(repo);
  kubectl(cluster, ['create', 'namespace', namespace]);
  const applied = await slipway(cluster, repo, ['apply', '--env', env]);
  assert.equal(applied.code, 0, applied.stderr);

  const images = await slipway(cluster, repo, ['images', '--env', env, '--write']);
  assert.equal(images.code, 0, images.stderr);
  assert.equal(images.stdout, `base/deployment.yaml:14  ${host}/team/web  1.0.0 → 1.2.0  (web)\n`);
  assert.equal(readFileSync(path.join(repo.dir, 'base/deployment.yaml'), 'utf8'), deployment('1.2.0'));

  const plan = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  assert.equal(plan.code, 0, plan.stderr);
  const out = JSON.parse(plan.stdout) as {
    summary: Record<string, number>;
    objects: { kind: string; action: string; diff: string; changes?: { field: string; source: string }[] }[];
  };
  const web = out.objects.find((o) => o.kind === 'Deployment');
  assert.ok(web);
  assert.equal(web.action, 'update');
  const quoted = host.replaceAll('.', '\\.');
  assert.match(web.diff, new RegExp(`^-\\s+- image: ${quoted}/team/web:1\\.0\\.0$`, 'm'));
  assert.match(web.diff, new RegExp(`^\\+\\s+- image: ${quoted}/team/web:1\\.2\\.0$`, 'm'));
  assert.equal(web.diff.split('\n').filter((l) => /^[-+](?![-+])/.test(l)).length, 2);
  assert.deepEqual(web.changes, [
    { field: 'spec.template.spec.containers.0.image', source: 'base/deployment.yaml:14' },
  ]);
  assert.equal(out.summary['update'], 1);
});
