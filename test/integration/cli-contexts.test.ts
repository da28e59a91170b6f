// Per-environment `context` (issue 13, item 7): `slipway diff` without --env plans each
// environment over its own connection, with the kubeconfig context slipway.yaml names, and checks
// each environment's cluster pin before planning. The identity each plan used is what the API
// server answers to a SelfSubjectReview (`kubectl auth whoami`).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from './harness.ts';

let cluster: Cluster;

before(async () => {
  cluster = await sharedCluster();
});

after(async () => {
  await stopSharedCluster();
});

async function cli(
  repo: TestRepo,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { PATH: cluster.env.PATH ?? '', SLIPWAY_RETRY_SECONDS: '5' },
    cwd: repo.dir,
    isTty: false,
  });
  return { code, stdout, stderr };
}

/** One kubeconfig, two contexts on the same cluster: the admin and a cluster-admin service account. */
function twoContexts(account: string): string {
  kubectl(cluster, ['create', 'serviceaccount', account, '-n', 'default']);
  kubectl(cluster, [
    'create',
    'clusterrolebinding',
    account,
    '--clusterrole=cluster-admin',
    `--serviceaccount=default:${account}`,
  ]);
  const saToken = kubectl(cluster, ['create', 'token', account, '-n', 'default', '--duration=1h']).trim();
  const admin = readFileSync(cluster.adminKubeconfig, 'utf8');
  const adminToken = /token: (.*)/.exec(admin)?.[1] ?? '';
  const ca = /certificate-authority-data: (.*)/.exec(admin)?.[1] ?? '';
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'slipway-kube-')), 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: ${cluster.server}
      certificate-authority-data: ${ca}
users:
  - name: admin
    user:
      token: ${adminToken}
  - name: robot
    user:
      token: ${saToken}
contexts:
  - name: ctx-admin
    context: {cluster: local, user: admin}
  - name: ctx-robot
    context: {cluster: local, user: robot}
current-context: ctx-admin
`,
    { mode: 0o600 },
  );
  return file;
}

describe('slipway diff honours each environment’s context and pin', () => {
  test('without --env, each environment is planned with its own context and identity', async () => {
    const account = unique('robot');
    const kubeconfig = twoContexts(account);
    const [a, b] = [unique('ctxa').replace(/-/g, ''), unique('ctxb').replace(/-/g, '')];
    const [nsa, nsb] = [unique('nsa'), unique('nsb')];
    const repo = new TestRepo({
      'slipway.yaml': [
        'environments:',
        `  ${a}:`,
        `    path: ${a}`,
        `    namespace: ${nsa}`,
        '    context: ctx-admin',
        `  ${b}:`,
        `    path: ${b}`,
        `    namespace: ${nsb}`,
        '    context: ctx-robot',
        '    cluster:',
        `      server: ${cluster.server}`,
        '',
      ].join('\n'),
    });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit(
      {
        [`${a}/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: default\n`,
        [`${b}/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n  namespace: default\n`,
      },
      'both',
    );
    const run = await cli(repo, ['diff', '--kubeconfig', kubeconfig]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stderr.includes(`${a}: planning against ${cluster.server} (context ctx-admin) as slipway-admin`),
      run.stderr,
    );
    assert.ok(
      run.stderr.includes(
        `${b}: planning against ${cluster.server} (context ctx-robot) as system:serviceaccount:default:${account}`,
      ),
      run.stderr,
    );
    assert.match(run.stdout, /create ConfigMap default\/one/);
    assert.match(run.stdout, /create ConfigMap default\/two/);

    // --context overrides every environment's context, as kubectl's flag would.
    const forced = await cli(repo, ['diff', '--kubeconfig', kubeconfig, '--context', 'ctx-robot']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(forced.stderr.includes(`${a}: planning against ${cluster.server} (context ctx-robot)`));
    repo.remove();
  });

  test('a plan against the wrong cluster is refused before anything is planned', async () => {
    const env = unique('pin').replace(/-/g, '');
    const repo = new TestRepo({
      'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}\n    cluster:\n      server: https://10.0.0.1:6443\n`,
      [`${env}/cm.yaml`]:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pinned\n  namespace: default\n',
    });
    const run = await cli(repo, ['diff', '--env', env, '--kubeconfig', cluster.adminKubeconfig]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `environment "${env}" is pinned to https://10.0.0.1:6443, but the kubeconfig points at ${cluster.server}`,
      ),
    );
    assert.doesNotMatch(run.stdout, /pinned/);
    repo.remove();
  });
});
