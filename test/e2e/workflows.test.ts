// Every shipped workflow run as GitHub runs it (test/e2e/workflow-runner.ts): the events it is
// for, its jobs, matrices, environments (with their secrets and required reviewers), permissions
// and concurrency, and the action itself against the real control plane and the GitHub fake. What
// a careful user expects of each: no nightly run waits for an approval, every request is within
// the job's token permissions, and each example does what the README says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pullRequestPayload, pushPayload } from './runner.ts';
import { runWorkflow, type JobRun, type Trigger, type World } from './workflow-runner.ts';

const TOKEN = 'ghs_workflowTestToken0123456789';
const PR = 12;
const root = path.resolve(import.meta.dirname, '..', '..');

let cluster: Cluster;
let github: FakeGitHub;
let repo: TestRepo;
let world: World;
const namespaces = { beta: unique('wf-beta'), live: unique('wf-live') };

const configMap = (name: string, value: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({ token: TOKEN, pullRequests: [PR] });
  repo = new TestRepo({
    'slipway.yaml': `environments:\n  beta:\n    path: beta-cluster\n    namespace: ${namespaces.beta}\n    timeout: 60s\n  live:\n    path: live-cluster\n    namespace: ${namespaces.live}\n    timeout: 60s\n`,
    'beta-cluster/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespaces.beta}\n`,
    'live-cluster/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespaces.live}\n`,
  });
  const kubeconfig = readFileSync(cluster.adminKubeconfig, 'utf8');
  world = {
    github,
    workspace: repo.dir,
    token: TOKEN,
    env: { PATH: cluster.env.PATH ?? '' },
    environments: {
      beta: { secrets: { KUBECONFIG: kubeconfig } },
      live: { secrets: { KUBECONFIG: kubeconfig }, reviewers: true },
      'beta-plan': { secrets: { KUBECONFIG: kubeconfig } },
      'live-plan': { secrets: { KUBECONFIG: kubeconfig } },
    },
  };
});

after(async () => {
  await github.close();
  repo.remove();
  await stopSharedCluster();
});

function assertClean(runs: readonly JobRun[]): void {
  for (const run of runs) {
    assert.ok(
      run.ok,
      `${run.id} ${JSON.stringify(run.matrix)} failed:\n${run.steps.map((s) => s.log).join('\n')}`,
    );
    assert.deepEqual(run.forbidden, [], `${run.id}: requests beyond its permissions`);
  }
  assert.deepEqual(github.takeViolations(), []);
}

const summary = (runs: readonly JobRun[]): string[] =>
  runs.map(
    (r) =>
      `${r.id}${typeof r.matrix.environment === 'string' ? `/${r.matrix.environment}` : ''}@${r.environment ?? '-'}`,
  );

const commentOf = (env: string): string | undefined =>
  github.commentsOn(PR).find((c) => c.body.startsWith(`<!-- slipway:plan:${env} -->`))?.body;

describe('the shipped workflows, run as GitHub runs them', () => {
  let base = '';
  let head = '';

  test('slipway-plan.yml: detect, then one plan per environment under <env>-plan, one comment each', async () => {
    base = repo.git('rev-parse', 'HEAD');
    head = repo.commit(
      { 'beta-cluster/app.yaml': configMap('app', 'b1'), 'live-cluster/app.yaml': configMap('app', 'l1') },
      'change both',
    );
    const trigger: Trigger = {
      event: 'pull_request',
      payload: pullRequestPayload(PR, base, head),
      sha: head,
      ref: `refs/pull/${PR}/merge`,
    };
    const runs = await runWorkflow('examples/workflows/slipway-plan.yml', trigger, world);
    assertClean(runs);
    assert.deepEqual(summary(runs), ['detect@-', 'plan/beta@beta-plan', 'plan/live@live-plan']);
    assert.ok(
      runs.every((r) => !r.waitedForApproval),
      'no plan waits for an approval',
    );
    assert.deepEqual(
      runs.flatMap((r) => (r.concurrency ? [r.concurrency] : [])),
      [
        { group: `slipway-plan-${PR}-beta`, cancelInProgress: true },
        { group: `slipway-plan-${PR}-live`, cancelInProgress: true },
      ],
    );
    assert.equal(github.commentsOn(PR).length, 2);
    assert.match(commentOf('beta') ?? '', /create ConfigMap .*\/app/);
    assert.match(commentOf('live') ?? '', /create ConfigMap .*\/app/);

    // A later push reverts live: the next run's detect job marks live's comment.
    head = repo.commit({ 'live-cluster/app.yaml': null }, 'leave live alone');
    const again = await runWorkflow(
      'examples/workflows/slipway-plan.yml',
      { ...trigger, payload: pullRequestPayload(PR, base, head), sha: head },
      world,
    );
    assertClean(again);
    assert.deepEqual(summary(again), ['detect@-', 'plan/beta@beta-plan']);
    assert.match(commentOf('live') ?? '', /No longer affected/);
    assert.match(commentOf('beta') ?? '', new RegExp(`For commit \`${head.slice(0, 12)}\``));
    // …and passes live's check on the new head, so a required `slipway / live` does not wait.
    const live = github.state.checkRuns.filter((c) => c.name === 'slipway / live' && c.headSha === head);
    assert.deepEqual(
      live.map((c) => [c.conclusion, c.title]),
      [['success', 'not affected by this change']],
    );
  });

  test('slipway-plan.yml on merge_group: plans the queue’s merge commit and reports the checks on it', async () => {
    repo.git('checkout', '-q', '-b', 'queue', base);
    repo.git('merge', '-q', '--no-ff', '-m', 'queue', head);
    const group = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', 'main');
    const comments = github.commentsOn(PR).map((c) => c.body);
    const runs = await runWorkflow(
      'examples/workflows/slipway-plan.yml',
      {
        event: 'merge_group',
        payload: {
          action: 'checks_requested',
          merge_group: {
            head_sha: group,
            base_sha: base,
            head_ref: `refs/heads/gh-readonly-queue/main/pr-${PR}-${base}`,
          },
          repository: { full_name: 'acme/deploys', default_branch: 'main' },
        },
        sha: group,
        ref: `refs/heads/gh-readonly-queue/main/pr-${PR}-${base}`,
      },
      world,
    );
    assertClean(runs);
    assert.deepEqual(summary(runs), ['detect@-', 'plan/beta@beta-plan']);
    const check = github.state.checkRuns.filter((c) => c.name === 'slipway / beta').at(-1);
    assert.equal(check?.headSha, group);
    assert.equal(check.conclusion, 'success');
    assert.deepEqual(
      github.commentsOn(PR).map((c) => c.body),
      comments,
      'a merge queue run comments nowhere',
    );
  });

  test('slipway-apply.yml on the merge: applies under <env> and adds the result to the pull request’s comment', async () => {
    const merge = repo.commit({}, `Merge pull request #${PR}`);
    github.mergePullRequest(PR, merge, [head]);
    const runs = await runWorkflow(
      'examples/workflows/slipway-apply.yml',
      { event: 'push', payload: pushPayload(base, merge), sha: merge, ref: 'refs/heads/main' },
      world,
    );
    assertClean(runs);
    assert.deepEqual(summary(runs), ['detect@-', 'apply/beta@beta']);
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'app', '-n', namespaces.beta, '-o', 'jsonpath={.data.value}']),
      'b1',
    );
    assert.match(commentOf('beta') ?? '', /✅ \*\*Applied\*\* commit/);
  });

  test('slipway-drift.yml: the nightly run never waits for an approval; heal by hand has the permissions it needs', async () => {
    const nightly = await runWorkflow(
      'examples/workflows/slipway-drift.yml',
      {
        event: 'schedule',
        payload: {
          schedule: '17 3 * * *',
          repository: { full_name: 'acme/deploys', default_branch: 'main' },
        },
        sha: repo.git('rev-parse', 'HEAD'),
        ref: 'refs/heads/main',
      },
      world,
    );
    assertClean(nightly);
    assert.deepEqual(summary(nightly), ['drift/beta@beta-plan', 'drift/live@live-plan']);
    assert.ok(nightly.every((r) => !r.waitedForApproval));

    kubectl(cluster, [
      'patch',
      'configmap',
      'app',
      '-n',
      namespaces.beta,
      '--type=merge',
      '-p',
      '{"data":{"value":"by-hand"}}',
    ]);
    const heal = await runWorkflow(
      'examples/workflows/slipway-drift.yml',
      {
        event: 'workflow_dispatch',
        payload: {
          inputs: { heal: true },
          ref: 'refs/heads/main',
          repository: { full_name: 'acme/deploys', default_branch: 'main' },
        },
        inputs: { heal: true },
        sha: repo.git('rev-parse', 'HEAD'),
        ref: 'refs/heads/main',
      },
      world,
    );
    assertClean(heal);
    assert.deepEqual(summary(heal), ['heal/beta@beta', 'heal/live@live']);
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'app', '-n', namespaces.beta, '-o', 'jsonpath={.data.value}']),
      'b1',
    );
    assert.ok(
      github.state.deployments.some(
        (d) => d.environment === 'beta' && d.statuses.at(-1)?.state === 'success',
      ),
    );
  });

  test('slipway-resync.yml with `all`: fans out through the matrix, each environment under its own', async () => {
    const runs = await runWorkflow(
      'examples/workflows/slipway-resync.yml',
      {
        event: 'workflow_dispatch',
        payload: {
          inputs: { environment: 'all', 'dry-run': true },
          repository: { full_name: 'acme/deploys', default_branch: 'main' },
        },
        inputs: { environment: 'all', 'dry-run': true },
        sha: repo.git('rev-parse', 'HEAD'),
        ref: 'refs/heads/main',
      },
      world,
    );
    assertClean(runs);
    assert.deepEqual(summary(runs), ['environments@-', 'resync/beta@beta', 'resync/live@live']);
  });

  test('.github/workflows/self-test.yml: `uses: ./` on the example repository', async () => {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const runs = await runWorkflow(
      '.github/workflows/self-test.yml',
      { event: 'push', payload: pushPayload('0'.repeat(40), sha), sha, ref: 'refs/heads/main' },
      { ...world, workspace: root },
    );
    assertClean(runs);
    assert.deepEqual(summary(runs), ['self-test@-']);
    assert.deepEqual(JSON.parse(runs[0]?.steps[0]?.outputs.matrix ?? ''), { environment: ['beta', 'live'] });
  });
});
