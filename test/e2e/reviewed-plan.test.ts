// "Apply exactly what was reviewed", as GitHub runs the action: the plan records a digest in its
// comment and check; the apply after the merge compares, says so in the deployment and the comment,
// and with require-reviewed-plan refuses a different plan before writing anything. Against the real
// control plane and the GitHub fake (run from source with SLIPWAY_E2E_SOURCE=1).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTools } from '../cluster/build.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { startRegistry } from '../unit/registry.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionRun } from './runner.ts';

const TOKEN = 'ghs_reviewedPlanToken0123456789';
let cluster: Cluster;
let github: FakeGitHub;

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({
    token: TOKEN,
    owner: 'acme',
    repo: 'deploys',
    pullRequests: [21, 22, 23, 24, 31, 32],
  });
});

after(async () => {
  await github.close();
  await stopSharedCluster();
});

interface Setup {
  readonly repo: TestRepo;
  readonly env: string;
  readonly namespace: string;
  readonly base: string;
}

/** A repository whose environment is already applied, so plans below are of one change. */
async function applied(): Promise<Setup> {
  const env = unique('rev').replace(/-/g, '');
  const namespace = unique('rev-ns');
  const repo = new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: envs/${env}\n    namespace: ${namespace}\n    wait: false\n`,
    [`envs/${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    [`envs/${env}/settings.yaml`]: configMap('settings', 'blue'),
  });
  const base = repo.git('rev-parse', 'HEAD');
  const first = await run(repo, env, 'push', pushPayload(base, base), base);
  assert.equal(first.code, 0, first.log);
  return { repo, env, namespace, base };
}

function configMap(name: string, color: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: ${color}\n`;
}

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

function lastDeploymentStatus(env: string): { state: string; description: string } | undefined {
  return github.state.deployments
    .filter((d) => d.environment === env)
    .at(-1)
    ?.statuses.at(-1);
}

function colorOf(s: Setup, name: string): string {
  return kubectl(cluster, ['get', 'configmap', name, '-n', s.namespace, '-o', 'jsonpath={.data.color}']);
}

test('the plan records its digest in the comment and the check; the merge applies it and says it was the reviewed plan', async () => {
  const s = await applied();
  const head = s.repo.commit({ [`envs/${s.env}/settings.yaml`]: configMap('settings', 'green') }, 'green');
  const plan = await run(s.repo, s.env, 'pull_request', pullRequestPayload(21, s.base, head), head);
  assert.equal(plan.code, 0, plan.log);
  const comment = commentOf(21, s.env);
  const hidden = /<!-- slipway:digest \{"render":"[0-9a-f]{64}","changes":"[0-9a-f]{64}"\} -->/.exec(comment);
  assert.ok(hidden, 'the comment carries the full digest, hidden');
  const short = /Plan digest `([0-9a-f]{12})`/.exec(comment)?.[1];
  assert.ok(short, 'and the short digest, visible');
  const check = github.state.checkRuns.filter((c) => c.name === `slipway / ${s.env}`).at(-1);
  assert.ok(check?.summary?.includes(`Plan digest \`${short}\``) && check.summary.includes(hidden[0]));

  github.mergePullRequest(21, head);
  const apply = await run(s.repo, s.env, 'push', pushPayload(s.base, head), head, {
    'require-reviewed-plan': 'true',
  });
  assert.equal(apply.code, 0, apply.log);
  assert.equal(colorOf(s, 'settings'), 'green');
  assert.match(commentOf(21, s.env), new RegExp(`🔏 applied the reviewed plan ${short} of pull request #21`));
  assert.deepEqual(lastDeploymentStatus(s.env), {
    ...lastDeploymentStatus(s.env),
    state: 'success',
    description: `applied the reviewed plan ${short} of pull request #21`,
  });
  s.repo.remove();
});

test('cluster drift since the review: with require-reviewed-plan nothing is written, the new plan is posted and the job fails with the reason', async () => {
  const s = await applied();
  const head = s.repo.commit({ [`envs/${s.env}/extra.yaml`]: configMap('extra', 'red') }, 'extra');
  const plan = await run(s.repo, s.env, 'pull_request', pullRequestPayload(22, s.base, head), head);
  assert.equal(plan.code, 0, plan.log);
  const reviewed = /Plan digest `([0-9a-f]{12})`/.exec(commentOf(22, s.env))?.[1] ?? '';
  assert.match(commentOf(22, s.env), /create ConfigMap/);

  // Someone creates the object by hand: the same render now plans an update instead of a create.
  kubectl(cluster, ['create', 'configmap', 'extra', '-n', s.namespace, '--from-literal=color=purple']);
  github.mergePullRequest(22, head);
  const apply = await run(s.repo, s.env, 'push', pushPayload(s.base, head), head, {
    'require-reviewed-plan': 'true',
  });
  assert.equal(apply.code, 1, apply.log);
  const reason = `live state differs from the reviewed plan ${reviewed} of pull request #22`;
  assert.match(apply.log, new RegExp(reason));
  assert.equal(colorOf(s, 'extra'), 'purple', 'nothing was written');
  const comment = commentOf(22, s.env);
  assert.match(comment, /update ConfigMap/, 'the new plan is posted for review');
  assert.match(comment, /not applied: live state differs/);
  assert.doesNotMatch(
    comment,
    new RegExp(`Plan digest \`${reviewed}\``),
    'the comment now carries the new plan',
  );
  const status = lastDeploymentStatus(s.env);
  assert.ok(status);
  assert.equal(status.state, 'failure');
  assert.match(status.description, /not applied, live state differs/);

  // Reviewed again (the comment now holds the new plan), the re-run applies it.
  const rerun = await run(s.repo, s.env, 'push', pushPayload(s.base, head), head, {
    'require-reviewed-plan': 'true',
  });
  assert.equal(rerun.code, 0, rerun.log);
  assert.equal(colorOf(s, 'extra'), 'red');
  assert.match(commentOf(22, s.env), /🔏 applied the reviewed plan/);
  s.repo.remove();
});

test('another merge changed the environment after the review: applied without the requirement, and the comment says what differs and why', async () => {
  const s = await applied();
  const head = s.repo.commit({ [`envs/${s.env}/settings.yaml`]: configMap('settings', 'green') }, 'green');
  const plan = await run(s.repo, s.env, 'pull_request', pullRequestPayload(23, s.base, head), head);
  assert.equal(plan.code, 0, plan.log);
  // The merge result also carries a change that landed on main after this plan.
  const merged = s.repo.commit(
    { [`envs/${s.env}/other.yaml`]: configMap('other', 'teal') },
    'merge with main',
  );
  github.mergePullRequest(23, merged);
  const apply = await run(s.repo, s.env, 'push', pushPayload(head, merged), merged);
  assert.equal(apply.code, 0, apply.log);
  assert.equal(colorOf(s, 'other'), 'teal');
  assert.match(
    commentOf(23, s.env),
    new RegExp(
      `⚠️ render differs from the reviewed plan [0-9a-f]{12} of pull request #23 \\(now [0-9a-f]{12}\\): another merge landed: envs/${s.env}/other\\.yaml changed since the reviewed commit ${head.slice(0, 12)}`,
    ),
  );
  assert.match(lastDeploymentStatus(s.env)?.description ?? '', /^render differs from the reviewed plan/);
  s.repo.remove();
});

test('with require-reviewed-plan, a push no pull request reviewed writes nothing and says why; force overrides it', async () => {
  const s = await applied();
  const head = s.repo.commit(
    { [`envs/${s.env}/settings.yaml`]: configMap('settings', 'green') },
    'direct push',
  );
  const apply = await run(s.repo, s.env, 'push', pushPayload(s.base, head), head, {
    'require-reviewed-plan': 'true',
  });
  assert.equal(apply.code, 1, apply.log);
  assert.match(
    apply.log,
    new RegExp(
      `not applied, no reviewed plan: commit ${head.slice(0, 12)} came from no merged pull request \\(plan [0-9a-f]{12}\\); nothing was written`,
    ),
  );
  assert.equal(colorOf(s, 'settings'), 'blue', 'nothing was written');
  assert.match(lastDeploymentStatus(s.env)?.description ?? '', /no reviewed plan/);

  // `force: true` overrides it, and says so.
  const forced = await run(s.repo, s.env, 'push', pushPayload(s.base, head), head, {
    'require-reviewed-plan': 'true',
    force: 'true',
  });
  assert.equal(forced.code, 0, forced.log);
  assert.match(forced.log, /::warning::.*require-reviewed-plan is on, but force is set: applying anyway/);
  assert.equal(colorOf(s, 'settings'), 'green');
  s.repo.remove();
});

test('a chart in a registry changed under the same version after the review: refused, naming the outside read', async () => {
  const tools = await ensureTools();
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-reviewed-chart-'));
  const registry = await startRegistry(dir);
  /** Pushes chart `web` 0.1.0 whose ConfigMap has `color` (OCI tags can be pushed again). */
  const pushChart = (color: string): void => {
    const chart = path.join(dir, `chart-${color}`);
    mkdirSync(path.join(chart, 'templates'), { recursive: true });
    writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 0.1.0\n');
    writeFileSync(path.join(chart, 'templates', 'cm.yaml'), configMap('from-chart', color));
    const helm = (args: string[]): void => {
      execFileSync(tools.helm, args, {
        stdio: 'pipe',
        env: { ...process.env, HELM_REGISTRY_CONFIG: path.join(dir, 'registry-config.json') },
      });
    };
    helm(['package', chart, '--destination', chart]);
    helm(['push', path.join(chart, 'web-0.1.0.tgz'), `oci://${registry.host}/charts`, '--plain-http']);
  };
  try {
    pushChart('blue');
    const env = unique('revchart').replace(/-/g, '');
    const namespace = unique('revchart-ns');
    const repo = new TestRepo({
      'slipway.yaml': `environments:\n  ${env}:\n    path: envs/${env}\n    namespace: ${namespace}\n    wait: false\n    remote: allow\n    helm:\n      - releaseName: web\n        chart: web\n        repository: oci://${registry.host}/charts\n        version: 0.1.0\n        insecure: true\n`,
      [`envs/${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      [`envs/${env}/settings.yaml`]: configMap('settings', 'blue'),
    });
    const base = repo.git('rev-parse', 'HEAD');
    assert.equal((await run(repo, env, 'push', pushPayload(base, base), base)).code, 0);
    const head = repo.commit({ [`envs/${env}/settings.yaml`]: configMap('settings', 'green') }, 'green');
    const plan = await run(repo, env, 'pull_request', pullRequestPayload(24, base, head), head);
    assert.equal(plan.code, 0, plan.log);
    const reviewed = /Plan digest `([0-9a-f]{12})`/.exec(commentOf(24, env))?.[1] ?? '';
    // `remote: allow`: the plan lists the read from outside the repository for the reviewer.
    assert.ok(
      commentOf(24, env).includes(
        `reads from outside the repository: helm release web chart web 0.1.0 from oci://${registry.host}/charts`,
      ),
    );

    // The chart's publisher pushes other content as the same version; nothing in the repository moved.
    pushChart('red');
    github.mergePullRequest(24, head);
    const apply = await run(repo, env, 'push', pushPayload(base, head), head, {
      'require-reviewed-plan': 'true',
    });
    assert.equal(apply.code, 1, apply.log);
    assert.match(
      apply.log,
      new RegExp(
        `render differs from the reviewed plan ${reviewed} of pull request #24 \\(now [0-9a-f]{12}\\): no file of this environment changed since the reviewed commit, so something it reads from outside the repository changed \\(a chart in a Helm repository`,
      ),
    );
    const color = (name: string): string =>
      kubectl(cluster, ['get', 'configmap', name, '-n', namespace, '-o', 'jsonpath={.data.color}']);
    assert.equal(color('settings'), 'blue', 'nothing was written');
    assert.equal(color('from-chart'), 'blue');
    assert.match(commentOf(24, env), /not applied: render differs/);
    repo.remove();
  } finally {
    registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A read-only plan (plan-mode: read-only, estimated from live objects): the apply's dry-run plan
// shows server defaults the estimate lacks, so it is compared with a read-only estimate of itself,
// never with the dry-run (plan-digest.ts).
// The server defaults a Service's clusterIP, protocol, type…: its dry-run differs from the estimate.
const service = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n`;

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
