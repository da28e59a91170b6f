// Two environments on one cluster that both render the same object (issue 12, item 4, before the
// object exists): the plan of both names the other, an apply of both refuses before any write, and
// once the object is left to one of them both plan clean and apply. Run on the real control plane:
// `slipway diff` plans every changed environment in one job, and `slipway ci` in a GitLab web
// pipeline re-syncs every environment in one job.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl, sharedCluster, slipway, stopSharedCluster, TestRepo, unique } from './harness.ts';

let cluster: Cluster;

before(async () => {
  cluster = await sharedCluster();
});

after(async () => {
  await stopSharedCluster();
});

/** `slipway ci` as a GitLab web pipeline on the default branch runs it: a re-sync of every environment. */
async function resyncAll(repo: TestRepo): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const sha = repo.git('rev-parse', 'HEAD');
  const code = await runCli(['ci', '--mode', 'resync'], {
    stdout: () => undefined,
    stderr: (text) => (stderr += text),
    env: {
      ...process.env,
      ...cluster.env,
      GITLAB_CI: 'true',
      CI: 'true',
      CI_API_V4_URL: 'https://gitlab.example.com/api/v4',
      CI_PROJECT_ID: '1',
      CI_PROJECT_DIR: repo.dir,
      CI_PIPELINE_SOURCE: 'web',
      CI_PIPELINE_ID: '1',
      CI_JOB_URL: 'https://gitlab.example.com/acme/deploys/-/jobs/1',
      CI_COMMIT_SHA: sha,
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_REF_NAME: 'main',
      CI_DEFAULT_BRANCH: 'main',
      KUBECONFIG: cluster.adminKubeconfig,
      SLIPWAY_GITLAB_TOKEN: '',
      SLIPWAY_RETRY_SECONDS: '5',
      SLIPWAY_LOCK_WAIT_SECONDS: '5',
    },
    cwd: repo.dir,
    isTty: false,
  });
  return { code, stderr };
}

function configMaps(namespace: string): string[] {
  return kubectl(cluster, ['get', 'configmaps', '-n', namespace, '-o', 'name'])
    .split('\n')
    .filter((line) => line && !line.endsWith('kube-root-ca.crt'));
}

describe('an object two environments on one cluster both render', () => {
  test('fails both plans, stops the apply before any write, and is fine once one of them drops it', async () => {
    const namespace = unique('shared');
    kubectl(cluster, ['create', 'namespace', namespace]);
    const [a, b] = [unique('one').replace(/-/g, ''), unique('two').replace(/-/g, '')];
    const settings = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${namespace}\ndata:\n  color: blue\n`;
    const own = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own-${name}\n`;
    const repo = new TestRepo({ 'README.md': '# deploys\n' });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit(
      {
        // Both on the one kubeconfig and context: the same API server.
        'slipway.yaml': `environments:\n  ${a}:\n    path: ${a}\n    namespace: ${namespace}\n  ${b}:\n    path: ${b}\n    namespace: ${namespace}\n`,
        [`${a}/settings.yaml`]: settings,
        [`${a}/own.yaml`]: own(a),
        [`${b}/settings.yaml`]: settings,
        [`${b}/own.yaml`]: own(b),
      },
      'two environments, one object',
    );

    const plan = await slipway(cluster, repo, ['diff', '--format', 'json']);
    assert.equal(plan.code, 1, plan.stderr);
    const plans = plan.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map(
        (text) =>
          JSON.parse(text) as {
            environment: string;
            objects: { action: string; note?: string; name: string }[];
          },
      );
    for (const [env, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const row = plans.find((p) => p.environment === env)?.objects.find((o) => o.name === 'settings');
      assert.equal(row?.action, 'error', `${env}: ${plan.stdout}`);
      assert.match(
        row.note ?? '',
        new RegExp(
          `^also rendered by environment ${other} on the same cluster: one object can have only one owner; remove it from one of them$`,
        ),
      );
      const mine = plans.find((p) => p.environment === env)?.objects.find((o) => o.name === `own-${env}`);
      assert.equal(mine?.action, 'create', 'an object of its own is planned as usual');
    }

    // Merged as it is: the apply of both environments refuses before writing anything.
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--ff-only', 'feature');
    const refused = await resyncAll(repo);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`${a}: .*also rendered by another environment on the same cluster`),
    );
    assert.match(
      refused.stderr,
      new RegExp(`${b}: .*also rendered by another environment on the same cluster`),
    );
    assert.deepEqual(configMaps(namespace), [], 'nothing was written');

    // Left to one environment: both plan clean, and both apply.
    repo.git('checkout', '-q', 'feature');
    repo.commit({ [`${b}/settings.yaml`]: null }, 'settings belong to one environment');
    const clean = await slipway(cluster, repo, ['diff']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.doesNotMatch(clean.stdout, /also rendered by/);
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--ff-only', 'feature');
    const applied = await resyncAll(repo);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(configMaps(namespace).sort(), [
      `configmap/own-${a}`,
      `configmap/own-${b}`,
      'configmap/settings',
    ]);
    assert.equal(
      kubectl(cluster, [
        'get',
        'configmap',
        'settings',
        '-n',
        namespace,
        '-o',
        'jsonpath={.metadata.labels.slipway\\.dev/environment}',
      ]),
      a,
    );
    repo.remove();
  });

  test('a job of one environment renders the others pinned to its cluster, and refuses the same way', async () => {
    const namespace = unique('pinned');
    kubectl(cluster, ['create', 'namespace', namespace]);
    const [a, b] = [unique('one').replace(/-/g, ''), unique('two').replace(/-/g, '')];
    const settings = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${namespace}\n`;
    const pinned = (env: string) =>
      `  ${env}:\n    path: ${env}\n    namespace: ${namespace}\n    cluster:\n      server: ${cluster.server}\n`;
    const repo = new TestRepo({
      'slipway.yaml': `environments:\n${pinned(a)}${pinned(b)}`,
      [`${a}/settings.yaml`]: settings,
      [`${b}/settings.yaml`]: settings,
    });

    // As a matrix job of `a` runs: only a is planned and applied, b is rendered to compare.
    const plan = await slipway(cluster, repo, ['diff', '--env', a]);
    assert.equal(plan.code, 1, plan.stderr);
    assert.match(
      plan.stdout,
      new RegExp(
        `error ConfigMap ${namespace}/settings .*\\n\\s+also rendered by environment ${b} on the same cluster`,
      ),
    );
    const apply = await slipway(cluster, repo, ['apply', '--env', a, '--timeout', '0s']);
    assert.equal(apply.code, 1, apply.stderr);
    assert.match(
      apply.stderr,
      /also rendered by another environment on the same cluster.*nothing was applied/,
    );
    assert.deepEqual(configMaps(namespace), [], 'nothing was written');

    repo.commit({ [`${b}/settings.yaml`]: null }, 'settings belong to a');
    const clean = await slipway(cluster, repo, ['diff', '--env', a]);
    assert.equal(clean.code, 0, clean.stderr);
    const applied = await slipway(cluster, repo, ['apply', '--env', a, '--timeout', '0s']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(configMaps(namespace), ['configmap/settings']);
    repo.remove();
  });
});
