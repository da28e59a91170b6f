// Issue 16's last proof, end to end as GitHub runs it: the scheduled `command: images` opens the
// pull request on slipway/images/<env> (real registry, the GitHub fake, no cluster credentials),
// then the plan job on that branch plans it against the real control plane and its comment shows
// the image change on the live Deployment, and nothing else.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pushImage } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from '../unit/registry.ts';
import { pullRequestPayload, pushPayload, runAction } from './runner.ts';

const TOKEN = 'ghs_imagesPlanJobToken0123456789';
let cluster: Cluster;
let registry: LocalRegistry;
let github: FakeGitHub;
let dir: string;

before(
  async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'slipway-images-plan-job-'));
    registry = await startRegistry(dir);
    for (const tag of ['1.0.0', '1.1.0']) await pushImage(registry.host, 'team/web', tag);
    github = await startGitHubServer({ token: TOKEN, pullRequests: [] });
    cluster = await sharedCluster();
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  await github.close();
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
  await stopSharedCluster();
});

test('the image pull request’s plan job shows the new tag on the live Deployment', async () => {
  const env = unique('imgjob').replace(/-/g, '');
  const namespace = unique('imgjob-ns');
  const files = {
    'slipway.yaml': `environments:\n  ${env}:\n    path: envs/${env}\n    namespace: ${namespace}\n    wait: false\nimage-policies:\n  web:\n    image: ${registry.host}/team/web\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
    [`envs/${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    [`envs/${env}/web.yaml`]: `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: ${registry.host}/team/web:1.0.0 # the web tier\n`,
  };
  const repo = new TestRepo(files);
  const base = repo.git('rev-parse', 'HEAD');
  const common = { ref: 'refs/heads/main', workspace: repo.dir, apiUrl: github.url };
  const kube = { kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'), environment: env };
  const envVars = { PATH: cluster.env.PATH ?? '' };
  const applied = await runAction({
    ...common,
    event: 'push',
    payload: pushPayload(base, base),
    sha: base,
    inputs: { 'github-token': TOKEN, ...kube },
    env: envVars,
  });
  assert.equal(applied.code, 0, applied.log);

  // The scheduled job: no kubeconfig, no environment; the pull request is its only write.
  const main = github.git.seedBranch('main', files);
  const images = await runAction({
    ...common,
    event: 'schedule',
    payload: { schedule: '23 * * * *', repository: { full_name: 'acme/deploys', default_branch: 'main' } },
    sha: main,
    inputs: { command: 'images', 'github-token': TOKEN },
    env: envVars,
  });
  assert.equal(images.code, 0, images.log);
  const pull = github.git.pulls.find((p) => p.head === `slipway/images/${env}` && p.state === 'open');
  assert.ok(pull, 'the image pull request is open');
  const branch = github.git.filesOf(`slipway/images/${env}`);
  assert.ok(branch);

  // The plan job on that branch (its files checked out as the pull request's head).
  const head = repo.commit(Object.fromEntries(branch), 'the image pull request');
  assert.notEqual(head, base, 'the branch changes something');
  const plan = await runAction({
    ...common,
    ref: `refs/pull/${pull.number}/merge`,
    event: 'pull_request',
    payload: pullRequestPayload(pull.number, base, head),
    sha: head,
    inputs: { 'github-token': TOKEN, ...kube },
    env: envVars,
  });
  assert.equal(plan.code, 0, plan.log);
  assert.equal(plan.outputs['has-changes'], 'true');
  const comment = github.commentsOn(pull.number).find((c) => c.body.includes(`slipway:plan:${env}`))?.body;
  assert.ok(comment, 'the plan commented on the image pull request');
  const host = registry.host.replaceAll('.', '\\.');
  assert.match(comment, new RegExp(`^-\\s+- image: ${host}/team/web:1\\.0\\.0$`, 'm'));
  assert.match(comment, new RegExp(`^\\+\\s+- image: ${host}/team/web:1\\.1\\.0$`, 'm'));
  assert.match(comment, /update Deployment/);
  assert.doesNotMatch(comment, /create |delete /, 'only the Deployment changes');
  assert.deepEqual(github.takeViolations(), []);
  repo.remove();
});
