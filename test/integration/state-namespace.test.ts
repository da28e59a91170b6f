// `state-namespace` on the real control plane: an identity bound only by the Roles that
// `slipway rbac --state-namespace team-a --namespaces team-a` prints (no ClusterRole) plans,
// applies and prunes an environment living in team-a, whose inventory and lock live there too;
// moving an environment's state namespace keeps its inventory (the objects Git dropped in the same
// change are still pruned) or, where the old inventory cannot be read, refuses and says where it is.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Cluster, ClusterOidc } from '../cluster/cluster.ts';
import {
  envConfig,
  envRepo,
  inEnv,
  kubectl,
  slipway,
  sharedCluster,
  stopSharedCluster,
  unique,
} from './harness.ts';

const WITHOUT_ISSUER = process.env.SLIPWAY_TEST_KUBECONFIG
  ? 'an existing cluster (SLIPWAY_TEST_KUBECONFIG) does not trust the test OIDC issuer'
  : false;
let cluster: Cluster;
let oidc: ClusterOidc;

before(async () => {
  cluster = await sharedCluster();
  if (cluster.oidc) oidc = cluster.oidc;
});

after(async () => {
  await stopSharedCluster();
});

const configMap = (name: string, namespace?: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}data:\n  color: blue\n`;

/** Names of the objects of a kind in a namespace, as the admin sees them. */
function names(kind: string, namespace: string): string[] {
  return kubectl(cluster, ['get', kind, '-n', namespace, '-o', 'jsonpath={.items[*].metadata.name}'])
    .split(' ')
    .filter((name) => name !== '' && name !== 'kube-root-ca.crt');
}

/** A kubeconfig for the OIDC user `github:<subject>`, and that username. */
function identity(subject: string): { kubeconfig: string; user: string } {
  const token = oidc.token({ subject, audience: oidc.audience });
  return { kubeconfig: oidc.kubeconfig(subject, token), user: `${oidc.usernamePrefix}${subject}` };
}

function canI(kubeconfig: string, args: string[]): string {
  try {
    return execFileSync(cluster.kubectl, ['--kubeconfig', kubeconfig, 'auth', 'can-i', ...args], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    return (error as { stdout: string }).stdout.trim();
  }
}

describe('state-namespace', { skip: WITHOUT_ISSUER }, () => {
  test('an identity bound only in team-a plans, applies and prunes; its state lives in team-a', async () => {
    const env = unique('scoped');
    const team = unique('team');
    const repo = envRepo(env, team, { 'app.yaml': configMap('app'), 'extra.yaml': configMap('extra') }, [
      `state-namespace: ${team}`,
    ]);
    const applier = identity(`${env}-apply`);
    const planner = identity(`${env}-plan`);
    const printed = await slipway(cluster, repo, [
      'rbac',
      '--env',
      env,
      '--apply-user',
      applier.user,
      '--plan-user',
      planner.user,
      '--state-namespace',
      team,
      '--namespaces',
      team,
    ]);
    assert.equal(printed.code, 0, printed.stderr);
    const kinds = [...printed.stdout.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      [...new Set(kinds)].sort(),
      ['Namespace', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
      'Roles only: no ClusterRole, no ClusterRoleBinding',
    );
    assert.match(printed.stdout, new RegExp(`lock \\(Lease\\) in ${team} \\(state-namespace\\)`));
    kubectl(cluster, ['apply', '-f', '-'], printed.stdout);
    // Namespace-scoped indeed: it cannot read Namespaces, nor anything in slipway-system.
    assert.equal(canI(applier.kubeconfig, ['get', 'namespaces']), 'no');
    assert.equal(canI(applier.kubeconfig, ['get', 'configmaps', '-n', 'slipway-system']), 'no');

    const plan = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code'], {}, planner.kubeconfig);
    assert.equal(plan.code, 2, plan.stderr + plan.stdout);
    assert.doesNotMatch(plan.stdout + plan.stderr, /forbidden/i);

    const applied = await slipway(cluster, repo, ['apply', '--env', env], {}, applier.kubeconfig);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.deepEqual(names('configmaps', team).sort(), ['app', 'extra', `slipway-${env}`]);
    assert.deepEqual(names('leases', team), [`slipway-lock-${env}`]);
    assert.ok(!names('configmaps', 'slipway-system').includes(`slipway-${env}`));
    assert.ok(!names('leases', 'slipway-system').includes(`slipway-lock-${env}`));
    // The members' ApplySet is the one whose parent is in team-a (kubectl's formula).
    const parentId = kubectl(cluster, [
      'get',
      'configmap',
      `slipway-${env}`,
      '-n',
      team,
      '-o',
      'jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/id}',
    ]);
    const memberOf = kubectl(cluster, [
      'get',
      'configmap',
      'app',
      '-n',
      team,
      '-o',
      'jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}',
    ]);
    assert.equal(memberOf, parentId);

    repo.commit(inEnv(env, { 'extra.yaml': null }), 'drop extra');
    const pruned = await slipway(cluster, repo, ['apply', '--env', env], {}, applier.kubeconfig);
    assert.equal(pruned.code, 0, pruned.stderr + pruned.stdout);
    assert.deepEqual(names('configmaps', team).sort(), ['app', `slipway-${env}`]);

    // The same identity on an environment with an object outside team-a: refused, and said so.
    const outside = unique('outside');
    kubectl(cluster, ['create', 'namespace', outside]);
    repo.commit(inEnv(env, { 'stray.yaml': configMap('stray', outside) }), 'an object elsewhere');
    const refused = await slipway(cluster, repo, ['apply', '--env', env], {}, applier.kubeconfig);
    assert.notEqual(refused.code, 0);
    const said = refused.stdout + refused.stderr;
    assert.match(
      said,
      new RegExp(
        `User "${applier.user}" cannot get resource "configmaps"[^\\n]*in the namespace "${outside}"`,
      ),
    );
    assert.deepEqual(names('configmaps', outside), []);

    // A state namespace it has no Role in: the refusal names namespace, verb and the key to set.
    const elsewhere = `${team}-x`;
    repo.commit({ 'slipway.yaml': envConfig(env, team, [`state-namespace: ${elsewhere}`]) }, 'elsewhere');
    const locked = await slipway(cluster, repo, ['apply', '--env', env], {}, applier.kubeconfig);
    assert.notEqual(locked.code, 0);
    assert.match(
      locked.stderr,
      new RegExp(
        `cannot take the lock of "${env}" \\(Lease ${elsewhere}/slipway-lock-${env}\\): .*cannot get resource "leases" .*in the namespace "${elsewhere}"`,
      ),
    );
    assert.match(locked.stderr, /set state-namespace in slipway\.yaml/);
    repo.remove();
  });

  test('moving an environment from slipway-system keeps pruning: the plan says so, the apply moves it', async () => {
    const env = unique('moving');
    const team = unique('team');
    const repo = envRepo(env, team, { 'app.yaml': configMap('app'), 'old.yaml': configMap('old') });
    kubectl(cluster, ['create', 'namespace', team]);
    const first = await slipway(cluster, repo, ['apply', '--env', env]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.ok(names('configmaps', 'slipway-system').includes(`slipway-${env}`));

    // One change moves the state and drops an object from Git.
    repo.commit(
      {
        'slipway.yaml': envConfig(env, team, [`state-namespace: ${team}`]),
        ...inEnv(env, { 'old.yaml': null, 'keep.yaml': configMap('keep') }),
      },
      'move the state, drop old',
    );

    // An identity bound only in the team's namespace cannot read the old inventory: it refuses
    // rather than start an empty one that would never prune `old`.
    const scoped = identity(`${env}-scoped`);
    const rbac = await slipway(cluster, repo, [
      'rbac',
      '--env',
      env,
      '--apply-user',
      scoped.user,
      '--plan-user',
      identity(`${env}-plan`).user,
    ]);
    assert.equal(rbac.code, 0, rbac.stderr);
    assert.doesNotMatch(rbac.stdout, /kind: ClusterRole/);
    kubectl(cluster, ['apply', '-f', '-'], rbac.stdout);
    const blind = await slipway(cluster, repo, ['diff', '--env', env], {}, scoped.kubeconfig);
    assert.match(
      blind.stdout,
      new RegExp(`refused: environment "${env}" has no inventory in ${team} \\(state-namespace\\)`),
    );
    assert.match(
      blind.stdout + blind.stderr,
      new RegExp(`in slipway-system/slipway-${env}, which this run could not`),
    );
    const blindApply = await slipway(cluster, repo, ['apply', '--env', env], {}, scoped.kubeconfig);
    assert.notEqual(blindApply.code, 0);
    assert.deepEqual(names('configmaps', team).sort(), ['app', 'old'], 'nothing was written');

    // An identity that can read it: the plan says the inventory moves and still deletes `old`.
    const diff = await slipway(cluster, repo, ['diff', '--env', env]);
    assert.equal(diff.code, 0, diff.stderr + diff.stdout);
    assert.match(
      diff.stdout,
      new RegExp(
        `note: the inventory moves from slipway-system/slipway-${env} to ${team}/slipway-${env} \\(state-namespace changed\\)`,
      ),
    );
    assert.match(diff.stdout, new RegExp(`^delete ConfigMap ${team}/old$`, 'm'));
    assert.doesNotMatch(diff.stdout, /refused/);
    const moved = await slipway(cluster, repo, ['apply', '--env', env]);
    assert.equal(moved.code, 0, moved.stderr + moved.stdout);
    assert.deepEqual(names('configmaps', team).sort(), ['app', 'keep', `slipway-${env}`], '`old` was pruned');
    assert.ok(!names('configmaps', 'slipway-system').includes(`slipway-${env}`), 'the old inventory is gone');
    assert.match(moved.stdout + moved.stderr, /moved the inventory from slipway-system/);

    // From now on the namespace-scoped identity runs it alone, pruning included.
    repo.commit(inEnv(env, { 'app.yaml': null, 'new.yaml': configMap('new') }), 'swap');
    const after = await slipway(cluster, repo, ['apply', '--env', env], {}, scoped.kubeconfig);
    assert.equal(after.code, 0, after.stderr + after.stdout);
    assert.deepEqual(names('configmaps', team).sort(), ['keep', 'new', `slipway-${env}`]);
    repo.remove();
  });
});
