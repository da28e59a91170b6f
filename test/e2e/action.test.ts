// The action run as GitHub runs it (node dist/index.js), against the real control plane and a
// GitHub API fake that checks every request against GitHub's OpenAPI description.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionCall } from './runner.ts';

const TOKEN = 'ghs_e2eTokenValue0123456789';
const SECRET_VALUE = 'planted-secret-7f3a9c';

let cluster: Cluster;
let github: FakeGitHub;

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({ token: TOKEN, owner: 'acme', repo: 'deploys', pullRequests: [7, 8] });
});

after(async () => {
  await github.close();
  await stopSharedCluster();
});

function repoFor(namespace: string, env: string, extra: Record<string, string> = {}): TestRepo {
  return new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}-cluster\n    namespace: ${namespace}\n    timeout: 60s\n`,
    [`${env}-cluster/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    [`${env}-cluster/app.yaml`]: [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: ${SECRET_VALUE}\n`,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n',
    ].join('---\n'),
    'README.md': '# deploys\n',
    ...extra,
  });
}

function call(
  repo: TestRepo,
  partial: Partial<ActionCall> & Pick<ActionCall, 'event' | 'payload' | 'sha'>,
): ActionCall {
  return {
    ref: 'refs/heads/main',
    workspace: repo.dir,
    apiUrl: github.url,
    env: { PATH: cluster.env.PATH ?? '' },
    ...partial,
    inputs: {
      'github-token': TOKEN,
      kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'),
      ...partial.inputs,
    },
  };
}

/**
 * Every place a secret could leak to, in one string. `::add-mask::` lines are how the action tells
 * the runner what to mask; the runner consumes them and never shows them.
 */
function everything(run: { log: string; summary: string; outputs: Record<string, string> }): string {
  const shown = run.log.split('\n').filter((line) => !line.startsWith('::add-mask::'));
  return [
    shown.join('\n'),
    run.summary,
    JSON.stringify(run.outputs),
    JSON.stringify(github.state),
    JSON.stringify(github.requests),
  ].join('\n');
}

function assertNoSecrets(text: string): void {
  for (const value of [SECRET_VALUE, TOKEN]) {
    for (const form of [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)]) {
      assert.ok(
        !text.includes(form),
        `leaked ${value === TOKEN ? 'the token' : 'the secret value'} (${form === value ? 'plain' : 'encoded'})`,
      );
    }
  }
}

describe('pull request → merge → drift, as GitHub runs the action', () => {
  test('the whole loop', async () => {
    const env = unique('beta').replace(/-/g, '');
    const namespace = unique('e2e');
    const repo = repoFor(namespace, env);
    const base = repo.git('rev-parse', 'HEAD');
    const head = repo.commit(
      {
        [`${env}-cluster/extra.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: "1"\n',
      },
      'add extra',
    );

    // 1. The detect job names the environment and gives a matrix.
    const detect = await runAction(
      call(repo, { event: 'pull_request', payload: pullRequestPayload(7, base, head), sha: head }),
    );
    assert.equal(detect.code, 0, detect.log);
    assert.deepEqual(JSON.parse(detect.outputs.environments ?? ''), [env]);
    assert.deepEqual(JSON.parse(detect.outputs.matrix ?? ''), { environment: [env] });

    // 2. The plan job: one sticky comment, a green check, the diff in the summary.
    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(7, base, head),
        sha: head,
        inputs: { environment: env },
      }),
    );
    assert.equal(plan.code, 0, plan.log);
    assert.equal(plan.outputs['has-changes'], 'true');
    const comments = github.state.comments.filter((c) => c.issueNumber === 7);
    assert.equal(comments.length, 1);
    const comment = comments[0]!;
    assert.ok(comment.body.startsWith(`<!-- slipway:plan:${env} -->`), 'one comment per environment');
    assert.match(comment.body, new RegExp(`\\| ${env} \\| 5 \\| 0 \\| 0 \\| 0 \\| 0 \\| 🟡 changes \\|`));
    assert.match(comment.body, /create Secret/);
    assert.match(comment.body, /secret keys: added password \(values are never shown\)/);
    const check = github.state.checkRuns.find((c) => c.name === `slipway / ${env}`);
    assert.equal(check?.conclusion, 'success');
    assert.match(plan.summary, /## Slipway plan/);
    assert.ok(
      plan.outputs['diff-file'] &&
        readFileSync(plan.outputs['diff-file'], 'utf8').includes('create ConfigMap'),
    );
    assertNoSecrets(everything(plan));

    // 3. A new push to the pull request updates the same comment in place.
    const head2 = repo.commit(
      {
        [`${env}-cluster/extra.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: "2"\n',
      },
      'change extra',
    );
    const replan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(7, base, head2),
        sha: head2,
        inputs: { environment: env },
      }),
    );
    assert.equal(replan.code, 0, replan.log);
    const after2 = github.state.comments.filter((c) => c.issueNumber === 7);
    assert.equal(after2.length, 1, 'still one comment');
    assert.equal(after2[0]!.id, comment.id);
    assert.match(after2[0]!.body, new RegExp(head2.slice(0, 12)));

    // 4. Merge: push to main applies, records a deployment and a commit status, and puts the
    // result into the merged pull request's comment.
    github.mergePullRequest(7, head2);
    const apply = await runAction(
      call(repo, {
        event: 'push',
        payload: pushPayload(base, head2),
        sha: head2,
        inputs: { environment: env },
      }),
    );
    assert.equal(apply.code, 0, apply.log);
    const deployment = github.state.deployments.find((d) => d.environment === env);
    assert.ok(deployment, 'a deployment was recorded');
    assert.equal(deployment.sha, head2);
    assert.deepEqual(
      deployment.statuses.map((s) => s.state),
      ['in_progress', 'success'],
    );
    assert.equal(github.state.commitStatuses.find((s) => s.context === `slipway/${env}`)?.state, 'success');
    assert.match(apply.summary, /Slipway apply: .* — succeeded/);
    const merged = github.state.comments.filter((c) => c.issueNumber === 7);
    assert.equal(merged.length, 1, 'one comment for the whole life of the pull request');
    assert.equal(merged[0]!.id, comment.id);
    assert.match(
      merged[0]!.body,
      new RegExp(`✅ \\*\\*Applied\\*\\* commit \`${head2.slice(0, 12)}\` in \\d+ s`),
    );
    assert.match(
      merged[0]!.body,
      new RegExp(`\\[deployment\\]\\(https://github.com/acme/deploys/deployments/${env}\\)`),
    );
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'extra', '-n', namespace, '-o', 'jsonpath={.data.a}']),
      '2',
    );
    assert.equal(
      kubectl(cluster, [
        'get',
        'deployment',
        'web',
        '-n',
        namespace,
        '-o',
        'jsonpath={.status.availableReplicas}',
      ]),
      '1',
    );
    assertNoSecrets(everything(apply));

    // 5. Someone scales by hand; the nightly drift job opens an issue naming the manager.
    kubectl(cluster, ['scale', 'deployment', 'web', '-n', namespace, '--replicas=3']);
    const drift = await runAction(
      call(repo, {
        event: 'schedule',
        payload: {
          schedule: '17 3 * * *',
          repository: { full_name: 'acme/deploys', default_branch: 'main' },
        },
        sha: head2,
        inputs: { environment: env },
      }),
    );
    assert.equal(drift.code, 0, drift.log);
    assert.equal(drift.outputs['has-changes'], 'true');
    const issue = github.state.issues.find((i) => i.state === 'open' && i.title === `Drift in ${env}`);
    assert.ok(issue, 'a drift issue is open');
    assert.match(JSON.stringify(issue), /kubectl/);

    // 6. A manual re-sync brings the cluster back; the next drift run closes the issue.
    const resync = await runAction(
      call(repo, {
        event: 'workflow_dispatch',
        payload: {
          inputs: { environment: env },
          repository: { full_name: 'acme/deploys', default_branch: 'main' },
        },
        sha: head2,
      }),
    );
    assert.equal(resync.code, 0, resync.log);
    assert.equal(
      kubectl(cluster, ['get', 'deployment', 'web', '-n', namespace, '-o', 'jsonpath={.spec.replicas}']),
      '1',
    );
    const clean = await runAction(
      call(repo, {
        event: 'schedule',
        payload: { repository: { full_name: 'acme/deploys', default_branch: 'main' } },
        sha: head2,
        inputs: { environment: env },
      }),
    );
    assert.equal(clean.code, 0, clean.log);
    assert.equal(github.state.issues.find((i) => i.number === issue.number)?.state, 'closed');

    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });

  test('a broken manifest fails the check with an annotation on its file and line', async () => {
    const env = unique('bad').replace(/-/g, '');
    const namespace = unique('e2e');
    const repo = repoFor(namespace, env);
    const base = repo.git('rev-parse', 'HEAD');
    const head = repo.commit(
      {
        [`${env}-cluster/broken.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\ndata: {}\n',
      },
      'broken',
    );
    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(8, base, head),
        sha: head,
        inputs: { environment: env },
      }),
    );
    assert.equal(plan.code, 1);
    assert.match(plan.log, new RegExp(`::error file=${env}-cluster/broken.yaml,line=4::`));
    const check = github.state.checkRuns.find((c) => c.name === `slipway / ${env}`);
    assert.equal(check?.conclusion, 'failure');
    assert.ok(
      check.annotations.some(
        (a) =>
          a.path === `${env}-cluster/broken.yaml` && a.start_line === 4 && a.annotation_level === 'failure',
      ),
    );
    const comment = github.state.comments.find((c) => c.issueNumber === 8);
    assert.match(comment?.body ?? '', /❌ failed/);
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });

  test('the danger lint compares with the pull request base: a changed selector fails the check', async () => {
    const env = unique('sel').replace(/-/g, '');
    const namespace = unique('e2e');
    const repo = repoFor(namespace, env);
    const base = repo.git('rev-parse', 'HEAD');
    const app = readFileSync(`${repo.dir}/${env}-cluster/app.yaml`, 'utf8');
    const head = repo.commit(
      {
        [`${env}-cluster/app.yaml`]: app
          .replace('matchLabels: {app: web}', 'matchLabels: {app: web2}')
          .replace('labels: {app: web}', 'labels: {app: web2}'),
      },
      'change selector',
    );
    github.addPullRequest(31);
    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(31, base, head),
        sha: head,
        inputs: { environment: env },
      }),
    );
    assert.equal(plan.code, 1);
    const check = github.state.checkRuns.filter((c) => c.name === `slipway / ${env}`).pop();
    assert.equal(check?.conclusion, 'failure');
    assert.ok(
      check.annotations.some((a) => a.title === 'immutable-selector' && a.path === `${env}-cluster/app.yaml`),
      JSON.stringify(check.annotations),
    );
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });

  test('a plan too large for one comment stays under 65,536 characters; the summary has the rest', async () => {
    const env = unique('big').replace(/-/g, '');
    const namespace = unique('e2e');
    const many: Record<string, string> = {};
    for (let i = 0; i < 120; i++) {
      many[`${env}-cluster/cm-${i}.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n${Array.from({ length: 20 }, (_, k) => `  key${k}: "${'x'.repeat(40)}${i}"`).join('\n')}\n`;
    }
    const repo = repoFor(namespace, env, many);
    const sha = repo.git('rev-parse', 'HEAD');
    github.addPullRequest(99);
    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(99, sha, sha),
        sha,
        inputs: { environment: env },
      }),
    );
    assert.equal(plan.code, 0, plan.log);
    const bodies = github.state.comments.filter((c) => c.issueNumber === 99);
    assert.equal(bodies.length, 1);
    assert.ok(bodies[0]!.body.length <= 65_536, `comment is ${bodies[0]!.body.length} characters`);
    assert.match(bodies[0]!.body, /shortened to fit the comment/);
    for (let i = 0; i < 120; i++) assert.ok(plan.summary.includes(`cm-${i}`), `summary has cm-${i}`);
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });

  test('a pull request from a fork is validated offline and says so', async () => {
    const env = unique('fork').replace(/-/g, '');
    const repo = repoFor(unique('e2e'), env);
    const sha = repo.git('rev-parse', 'HEAD');
    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(7, sha, sha, 'acme/deploys', 'mallory/deploys'),
        sha,
        inputs: { environment: env, kubeconfig: '' },
      }),
    );
    assert.equal(plan.code, 0, plan.log);
    assert.match(plan.log, /pull request from a fork/);
    assert.match(plan.summary, /## Slipway plan/);
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });
});
