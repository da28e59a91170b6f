// Issue 12, items 6 and 7, as GitHub runs the action: a pull request that prunes over the budget
// gets a failing check and a comment with the numbers before merge; the push apply records
// GITHUB_REPOSITORY in the inventory, and another repository's pull request on the same
// environment name and cluster fails its check, naming the owner. Against the real control plane
// and the GitHub fake that checks every request against the OpenAPI description.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionCall } from './runner.ts';

const TOKEN = 'ghs_e2eInventoryToken0123456789';

let cluster: Cluster;
let deploys: FakeGitHub;
let other: FakeGitHub;

before(async () => {
  cluster = await sharedCluster();
  deploys = await startGitHubServer({ token: TOKEN, owner: 'acme', repo: 'deploys', pullRequests: [7] });
  other = await startGitHubServer({ token: TOKEN, owner: 'acme', repo: 'other', pullRequests: [8] });
});

after(async () => {
  await deploys.close();
  await other.close();
  await stopSharedCluster();
});

function configMaps(names: readonly string[]): string {
  return names
    .map((name) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`)
    .join('---\n');
}

function repoFor(env: string, namespace: string, names: readonly string[]): TestRepo {
  return new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}\n    namespace: ${namespace}\n    prune-budget:\n      max-objects: 2\n      max-percent: 100\n`,
    [`${env}/app.yaml`]: configMaps(names),
  });
}

function call(
  repo: TestRepo,
  github: FakeGitHub,
  partial: Partial<ActionCall> & Pick<ActionCall, 'event' | 'payload' | 'sha'>,
): ActionCall {
  return {
    ref: 'refs/heads/main',
    workspace: repo.dir,
    apiUrl: github.url,
    ...partial,
    env: { PATH: cluster.env.PATH ?? '', SLIPWAY_LOCK_WAIT_SECONDS: '5', ...partial.env },
    inputs: {
      'github-token': TOKEN,
      kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'),
      ...partial.inputs,
    },
  };
}

function inventoryRepository(env: string): string {
  return kubectl(cluster, [
    'get',
    'configmap',
    `slipway-${env}`,
    '-n',
    'slipway-system',
    '-o',
    'jsonpath={.data.repository}',
  ]);
}

test('the budget and the inventory owner fail the pull request check, with the numbers and the owner', async () => {
  const env = unique('guard').replace(/-/g, '');
  const namespace = unique('guard');
  kubectl(cluster, ['create', 'namespace', namespace]);
  const repo = repoFor(env, namespace, ['a', 'b', 'c', 'd']);
  const first = repo.git('rev-parse', 'HEAD');
  const applied = await runAction(
    call(repo, deploys, {
      event: 'push',
      payload: pushPayload(first, first),
      sha: first,
      inputs: { environment: env },
    }),
  );
  assert.equal(applied.code, 0, applied.log);
  assert.equal(inventoryRepository(env), 'github.com/acme/deploys');

  // A pull request deleting three objects: red before merge, not after it.
  const head = repo.commit({ [`${env}/app.yaml`]: configMaps(['d']) }, 'remove three');
  const plan = await runAction(
    call(repo, deploys, {
      event: 'pull_request',
      payload: pullRequestPayload(7, first, head),
      sha: head,
      inputs: { environment: env },
    }),
  );
  assert.equal(plan.code, 1, plan.log);
  const budget = 'prunes 3 objects, budget 2 (prune-budget.max-objects)';
  assert.ok(deploys.state.comments.find((c) => c.issueNumber === 7)?.body.includes(budget), plan.log);
  const check = deploys.state.checkRuns.filter((c) => c.name === `slipway / ${env}`).at(-1);
  assert.equal(check?.conclusion, 'failure');
  assert.deepEqual(deploys.takeViolations(), []);

  // Another repository with the same environment name on the same cluster.
  const theirs = repoFor(env, namespace, ['theirs']);
  const theirBase = theirs.git('rev-parse', 'HEAD');
  const theirHead = theirs.commit({ [`${env}/more.yaml`]: configMaps(['extra']) }, 'more');
  const foreign = await runAction(
    call(theirs, other, {
      event: 'pull_request',
      payload: pullRequestPayload(8, theirBase, theirHead, 'acme/other'),
      sha: theirHead,
      repository: 'acme/other',
      inputs: { environment: env },
    }),
  );
  assert.equal(foreign.code, 1, foreign.log);
  const owner = `environment "${env}" on this cluster belongs to repository github.com/acme/deploys`;
  assert.ok(other.state.comments.find((c) => c.issueNumber === 8)?.body.includes(owner), foreign.log);
  assert.equal(
    other.state.checkRuns.filter((c) => c.name === `slipway / ${env}`).at(-1)?.conclusion,
    'failure',
  );
  assert.deepEqual(other.takeViolations(), []);
  assert.equal(inventoryRepository(env), 'github.com/acme/deploys');
  repo.remove();
  theirs.remove();
});
