// `slipway rbac` on the real control plane: its manifests applied with kubectl give an apply
// identity that applies and prunes, and a plan identity that `slipway diff` works with but that
// cannot write anything — RBAC allows its dry-runs, the admission policy denies the real requests.
// Both identities are OIDC subjects of the harness's issuer, as a GitHub job's would be.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Cluster, ClusterOidc } from '../cluster/cluster.ts';
import { envRepo, kubectl, slipway, sharedCluster, stopSharedCluster, unique } from './harness.ts';

const WITHOUT_ISSUER = process.env.SLIPWAY_TEST_KUBECONFIG
  ? 'an existing cluster (SLIPWAY_TEST_KUBECONFIG) does not trust the test OIDC issuer'
  : false;
let cluster: Cluster;
let oidc: ClusterOidc;

before(async () => {
  cluster = await sharedCluster();
  // An existing cluster (SLIPWAY_TEST_KUBECONFIG) has no test issuer: the tests are skipped.
  if (cluster.oidc) oidc = cluster.oidc;
});

after(async () => {
  await stopSharedCluster();
});

const configMap = (value: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: ${value}\n`;

/** kubectl as `kubeconfig`'s user: its exit code and what it printed. */
function kubectlAs(kubeconfig: string, args: string[], input?: string): { code: number; output: string } {
  try {
    const out = execFileSync(cluster.kubectl, ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { code: 0, output: out };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

describe('slipway rbac', { skip: WITHOUT_ISSUER }, () => {
  test('the plan identity diffs but cannot write; the apply identity applies', async () => {
    const env = unique('beta').replace(/-/g, '');
    const namespace = unique('rbac');
    const repo = envRepo(env, namespace, {
      'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      'app.yaml': configMap('blue'),
    });

    // The namespaces come from the render; the users from the GitHub OIDC subjects.
    // The nightly drift job (a push-less run on main) plans too.
    const drift = 'repo:acme/deploys:ref:refs/heads/main';
    const printed = await slipway(cluster, repo, [
      'rbac',
      '--env',
      env,
      '--github',
      'acme/deploys',
      '--plan-user',
      `github:repo:acme/deploys:pull_request,github:${drift}`,
    ]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, new RegExp(`apply: github:repo:acme/deploys:environment:${env}`));
    assert.match(printed.stdout, new RegExp(`resourceNames:\\n\\s+- ${namespace}\\n`));
    kubectl(cluster, ['apply', '-f', '-'], printed.stdout);

    const token = (subject: string): string => oidc.token({ subject, audience: oidc.audience });
    const applyAs = oidc.kubeconfig(`${env}-apply`, token(`repo:acme/deploys:environment:${env}`));
    const planAs = oidc.kubeconfig(`${env}-plan`, token('repo:acme/deploys:pull_request'));

    const applied = await slipway(cluster, repo, ['apply', '--env', env], {}, applyAs);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'settings', '-n', namespace, '-o', 'jsonpath={.data.color}']),
      'blue',
    );

    // A pull request changes the ConfigMap: the plan identity's diff is a server-side dry-run.
    // It also takes over an object someone made with client-side `kubectl apply` (previewing the
    // adoption is a dry-run update).
    const legacy = configMap('old').replace('settings', 'legacy');
    kubectl(cluster, ['apply', '-n', namespace, '-f', '-'], legacy);
    repo.commit(
      {
        [`envs/${env}/app.yaml`]: configMap('green'),
        [`envs/${env}/legacy.yaml`]: configMap('new').replace('settings', 'legacy'),
      },
      'green',
    );
    const diff = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code'], {}, planAs);
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stdout, /color: blue[\s\S]*color: green|-\s+color: blue\n\+\s+color: green/);
    assert.match(diff.stdout, /legacy/);
    assert.doesNotMatch(diff.stdout + diff.stderr, /forbidden/i);

    // RBAC alone would let it write (a dry-run is authorized as the write)...
    assert.equal(
      kubectlAs(planAs, ['auth', 'can-i', 'patch', 'configmaps', '-n', namespace]).output.trim(),
      'yes',
    );
    // ...the policy denies every request that is not a dry-run.
    const green = configMap('green').replace('metadata:\n', `metadata:\n  namespace: ${namespace}\n`);
    const dryRun = kubectlAs(
      planAs,
      ['apply', '--server-side', '--field-manager=slipway', '--dry-run=server', '-f', '-'],
      green,
    );
    assert.equal(dryRun.code, 0, dryRun.output);
    const denied = `github:repo:acme/deploys:pull_request is Slipway's plan identity for "${env}": only dry-run requests are allowed`;
    const rbacDenied = 'User "github:repo:acme/deploys:pull_request" cannot delete';
    for (const [args, why] of [
      [['apply', '--server-side', '--field-manager=slipway', '-f', '-'], denied],
      [['apply', '-f', '-'], denied],
      [['create', 'configmap', 'other', '-n', namespace, '--from-literal=a=b'], denied],
      [['label', 'configmap', 'settings', '-n', namespace, 'stolen=yes'], denied],
      // Not even a dry-run needs delete: RBAC refuses it before admission.
      [['delete', 'configmap', 'settings', '-n', namespace], rbacDenied],
    ] as const) {
      const r = kubectlAs(planAs, [...args], green);
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} was allowed: ${r.output}`);
      assert.ok(r.output.includes(why), `kubectl ${args.join(' ')}: ${r.output}`);
    }
    const driftAs = oidc.kubeconfig(`${env}-drift`, token(drift));
    const driftWrite = kubectlAs(driftAs, ['create', 'configmap', 'drift', '-n', namespace]);
    assert.notEqual(driftWrite.code, 0);
    assert.match(driftWrite.output, /is Slipway's plan identity/);
    const stolen = await slipway(cluster, repo, ['apply', '--env', env], {}, planAs);
    assert.notEqual(stolen.code, 0);
    assert.match(stolen.stderr, /github:repo:acme\/deploys:pull_request/);
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'settings', '-n', namespace, '-o', 'jsonpath={.data.color}']),
      'blue',
      'nothing the plan identity did reached the cluster',
    );

    // Even where RBAC is too generous (the plan user also bound to the apply Role of the
    // inventory and lock), the policy holds, and Slipway says it was the policy, not RBAC.
    kubectl(cluster, [
      'create',
      'rolebinding',
      `${env}-too-generous`,
      '-n',
      'slipway-system',
      `--role=slipway-${env}-apply`,
      '--user=github:repo:acme/deploys:pull_request',
    ]);
    const overGranted = await slipway(cluster, repo, ['apply', '--env', env], {}, planAs);
    assert.notEqual(overGranted.code, 0);
    assert.ok(overGranted.stderr.includes(denied), overGranted.stderr);
    assert.match(overGranted.stderr, /an admission policy denied it, not RBAC/);
    kubectl(cluster, ['delete', 'rolebinding', `${env}-too-generous`, '-n', 'slipway-system']);

    // The apply identity applies the change and prunes what Git dropped.
    repo.commit(
      {
        [`envs/${env}/app.yaml`]: null,
        [`envs/${env}/other.yaml`]: configMap('red').replace('settings', 'other'),
      },
      'swap',
    );
    const swapped = await slipway(cluster, repo, ['apply', '--env', env], {}, applyAs);
    assert.equal(swapped.code, 0, swapped.stderr);
    assert.equal(
      kubectl(cluster, ['get', 'configmap', '-n', namespace, '-o', 'jsonpath={.items[*].metadata.name}'])
        .split(' ')
        .filter((n) => n !== 'kube-root-ca.crt')
        .join(' '),
      'legacy other',
    );
  });

  test('without identities it says how to name them', async () => {
    const repo = envRepo('live', 'live', { 'app.yaml': configMap('x') });
    const r = await slipway(cluster, repo, ['rbac', '--env', 'live']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /needs the two identities/);
    assert.match(r.stderr, /--github OWNER\/REPO/);
  });
});
