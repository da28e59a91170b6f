// A read-only plan (plan-mode: read-only, estimated from live objects) reviewed on a pull request,
// then applied with require-reviewed-plan: the apply's dry-run plan shows server defaults the
// estimate lacks, so it is compared with a read-only estimate of itself, never with the dry-run
// (plan-digest.ts). Against the real control plane and the GitHub fake (SLIPWAY_E2E_SOURCE=1 runs
// the source).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionRun } from './runner.ts';

const TOKEN = 'ghs_readOnlyReviewToken0123456789';
let cluster: Cluster;
let github: FakeGitHub;

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({ token: TOKEN, owner: 'acme', repo: 'deploys', pullRequests: [31, 32] });
});

after(async () => {
  await github.close();
  await stopSharedCluster();
});

const configMap = (name: string, color: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: ${color}\n`;
// The server defaults a Service's clusterIP, protocol, type…: its dry-run differs from the estimate.
const service = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n`;

function run(
  repo: TestRepo,
  env: string,
  event: 'pull_request' | 'push',
  payload: Record<string, unknown>,
  sha: string,
  inputs: Record<string, string> = {},
): Promise<ActionRun> {
  return runAction({
    event,
    payload,
    sha,
    ref: event === 'push' ? 'refs/heads/main' : 'refs/pull/1/merge',
    workspace: repo.dir,
    apiUrl: github.url,
    env: { PATH: cluster.env.PATH ?? '' },
    inputs: {
      'github-token': TOKEN,
      kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'),
      environment: env,
      ...inputs,
    },
  });
}

function commentOf(pr: number, env: string): string {
  const body = github.state.comments.find(
    (c) => c.issueNumber === pr && c.body.startsWith(`<!-- slipway:plan:${env} -->`),
  )?.body;
  assert.ok(body, `pull request #${pr} has a comment for ${env}`);
  return body;
}

test('a reviewed read-only plan is applied as reviewed, compared as estimates; drift since still stops it', async () => {
  const env = unique('rorev').replace(/-/g, '');
  const namespace = unique('rorev-ns');
  const repo = new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: envs/${env}\n    namespace: ${namespace}\n    wait: false\n    plan-mode: read-only\n`,
    [`envs/${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    [`envs/${env}/settings.yaml`]: configMap('settings', 'blue'),
  });
  const base = repo.git('rev-parse', 'HEAD');
  const first = await run(repo, env, 'push', pushPayload(base, base), base);
  assert.equal(first.code, 0, first.log);

  const head = repo.commit(
    { [`envs/${env}/settings.yaml`]: configMap('settings', 'green'), [`envs/${env}/service.yaml`]: service },
    'green and a service',
  );
  const plan = await run(repo, env, 'pull_request', pullRequestPayload(31, base, head), head);
  assert.equal(plan.code, 0, plan.log);
  const comment = commentOf(31, env);
  assert.match(
    comment,
    /\*\*Fidelity:\*\* read-only estimate for all 3 objects: defaults and webhooks not applied/,
  );
  assert.match(comment, /update \(estimate\) ConfigMap/);
  assert.match(comment, /"fidelity":"read-only-estimate"/, 'the digest says it is an estimate');
  const short = /Plan digest `([0-9a-f]{12})`/.exec(comment)?.[1];
  assert.ok(short);

  github.mergePullRequest(31, head);
  const apply = await run(repo, env, 'push', pushPayload(base, head), head, {
    'require-reviewed-plan': 'true',
  });
  assert.equal(apply.code, 0, apply.log);
  assert.match(
    apply.log,
    new RegExp(
      `applied the reviewed plan ${short} of pull request #31 \\(compared as read-only estimates: the reviewed plan was one\\)`,
    ),
  );
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'settings', '-n', namespace, '-o', 'jsonpath={.data.color}']),
    'green',
  );

  // Reviewed as an estimate, then the cluster moved: the estimate of the apply differs, nothing is written.
  const next = repo.commit({ [`envs/${env}/settings.yaml`]: configMap('settings', 'red') }, 'red');
  const second = await run(repo, env, 'pull_request', pullRequestPayload(32, head, next), next);
  assert.equal(second.code, 0, second.log);
  kubectl(cluster, ['patch', 'configmap', 'settings', '-n', namespace, '-p', '{"data":{"color":"purple"}}']);
  github.mergePullRequest(32, next);
  const refused = await run(repo, env, 'push', pushPayload(head, next), next, {
    'require-reviewed-plan': 'true',
  });
  assert.equal(refused.code, 1, refused.log);
  assert.match(
    refused.log,
    /live state differs from the reviewed plan [0-9a-f]{12} of pull request #32 \(now [0-9a-f]{12}\) \(compared as read-only estimates/,
  );
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'settings', '-n', namespace, '-o', 'jsonpath={.data.color}']),
    'purple',
    'nothing was written',
  );
  repo.remove();
});
