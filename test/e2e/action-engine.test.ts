// The action's job engine where CI used to guess or lie (issue 13, items 5, 6, 8, 9): re-sync of
// another branch, credentials that fall back to whatever is around, drift that could not be
// checked, doubled deployments. Run as GitHub runs it, against the real control plane and the
// GitHub fake that checks every request against the OpenAPI description.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionCall } from './runner.ts';

const TOKEN = 'ghs_e2eEngineToken0123456789';

let cluster: Cluster;
let github: FakeGitHub;

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({ token: TOKEN, owner: 'acme', repo: 'deploys', pullRequests: [41] });
});

after(async () => {
  await github.close();
  await stopSharedCluster();
});

const repository = { full_name: 'acme/deploys', default_branch: 'main' };

function repoFor(namespace: string, env: string): TestRepo {
  return new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}\n    namespace: ${namespace}\n    timeout: 30s\n`,
    [`${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    [`${env}/cm.yaml`]:
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
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
    ...partial,
    env: { PATH: cluster.env.PATH ?? '', SLIPWAY_LOCK_WAIT_SECONDS: '5', ...partial.env },
    inputs: {
      'github-token': TOKEN,
      kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'),
      ...partial.inputs,
    },
  };
}

/** A kubeconfig for a new cluster-admin service account: a second identity on the same cluster. */
function serviceAccountKubeconfig(name: string): string {
  kubectl(cluster, ['create', 'serviceaccount', name, '-n', 'default']);
  kubectl(cluster, [
    'create',
    'clusterrolebinding',
    name,
    '--clusterrole=cluster-admin',
    `--serviceaccount=default:${name}`,
  ]);
  const token = kubectl(cluster, ['create', 'token', name, '-n', 'default', '--duration=1h']).trim();
  return readFileSync(cluster.adminKubeconfig, 'utf8')
    .replace(/token: .*/, `token: ${token}`)
    .replaceAll('slipway-admin', name);
}

function configMapExists(namespace: string): boolean {
  return kubectl(cluster, ['get', 'configmap', '-n', namespace, '--ignore-not-found', '-o', 'name']).includes(
    'configmap/settings',
  );
}

describe('re-sync applies the deploy branch only (item 5)', () => {
  test('a dispatch from a feature branch is refused and writes nothing; force or a dry run say what they do', async () => {
    const env = unique('rs').replace(/-/g, '');
    const namespace = unique('rs');
    const repo = repoFor(namespace, env);
    const sha = repo.git('rev-parse', 'HEAD');
    const dispatch = (inputs: Record<string, string>) =>
      runAction(
        call(repo, {
          event: 'workflow_dispatch',
          payload: { inputs: { environment: env }, ref: 'refs/heads/feature', repository },
          sha,
          ref: 'refs/heads/feature',
          inputs: { environment: env, ...inputs },
        }),
      );
    const refused = await dispatch({});
    assert.equal(refused.code, 1, refused.log);
    assert.match(
      refused.log,
      /re-sync applies the deploy branch \(main\) only, but this run is for branch feature: refusing to apply an unmerged commit/,
    );
    assert.equal(configMapExists(namespace), false, 'nothing was applied');
    assert.equal(
      github.state.deployments.filter((d) => d.environment === env).length,
      0,
      'no deployment recorded',
    );

    const dryRun = await dispatch({ 'dry-run': 'true' });
    assert.equal(dryRun.code, 0, dryRun.log);
    assert.match(dryRun.log, /not the deploy branch main: a dry run only, nothing is applied/);
    assert.equal(configMapExists(namespace), false);

    const forced = await dispatch({ force: 'true' });
    assert.equal(forced.code, 0, forced.log);
    assert.match(
      forced.log,
      /::warning::re-sync of branch feature, not the deploy branch main: applying it because force is set/,
    );
    assert.equal(configMapExists(namespace), true);
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });
});

describe('credentials in CI are explicit, and the plan says whose they are (item 6)', () => {
  test('an empty kubeconfig input never falls back to ~/.kube/config', async () => {
    const env = unique('cred').replace(/-/g, '');
    const namespace = unique('cred');
    const repo = repoFor(namespace, env);
    const base = repo.git('rev-parse', 'HEAD');
    const head = repo.commit(
      { [`${env}/more.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n' },
      'more',
    );
    // A runner whose home holds a working admin kubeconfig: exactly what must not be used.
    const home = mkdtempSync(path.join(tmpdir(), 'slipway-home-'));
    mkdirSync(path.join(home, '.kube'));
    writeFileSync(path.join(home, '.kube', 'config'), readFileSync(cluster.adminKubeconfig, 'utf8'));
    const apply = await runAction(
      call(repo, {
        event: 'push',
        payload: pushPayload(base, head),
        sha: head,
        inputs: { environment: env, kubeconfig: '' },
        env: { HOME: home },
      }),
    );
    assert.equal(apply.code, 1, apply.log);
    assert.match(apply.log, /no cluster credentials: the `kubeconfig` input is empty/);
    assert.match(apply.log, /in-cluster: true/);
    assert.equal(configMapExists(namespace), false, 'nothing reached the cluster');
    const deployment = github.state.deployments.find((d) => d.environment === env);
    assert.equal(deployment?.statuses.at(-1)?.state, 'failure');

    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(41, base, head),
        sha: head,
        inputs: { environment: env, kubeconfig: '' },
        env: { HOME: home },
      }),
    );
    assert.equal(plan.code, 1, plan.log);
    const comment = github.state.comments.find((c) => c.issueNumber === 41);
    assert.match(comment?.body ?? '', /no cluster credentials/);

    const both = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(41, base, head),
        sha: head,
        inputs: { environment: env, 'in-cluster': 'true' },
      }),
    );
    assert.equal(both.code, 1);
    assert.match(both.log, /inputs "kubeconfig" and "in-cluster: true" exclude each other/);

    // in-cluster: true on a runner that is no pod: said so, not a connection to "undefined".
    const notAPod = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(41, base, head),
        sha: head,
        inputs: { environment: env, kubeconfig: '', 'in-cluster': 'true' },
        env: { HOME: home },
      }),
    );
    assert.equal(notAPod.code, 1, notAPod.log);
    assert.match(notAPod.log, /KUBERNETES_SERVICE_HOST is not set: this runner is not a pod/);
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });

  test('the log and the plan name the API server and the identity the cluster saw', async () => {
    const env = unique('who').replace(/-/g, '');
    const repo = repoFor(unique('who'), env);
    const base = repo.git('rev-parse', 'HEAD');
    const head = repo.commit(
      { [`${env}/more.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n' },
      'more',
    );
    const account = unique('planner');
    github.addPullRequest(42);
    const plan = await runAction(
      call(repo, {
        event: 'pull_request',
        payload: pullRequestPayload(42, base, head),
        sha: head,
        inputs: { environment: env, kubeconfig: serviceAccountKubeconfig(account) },
      }),
    );
    assert.equal(plan.code, 0, plan.log);
    // kubectl auth whoami is the oracle for who these credentials are.
    const who = `system:serviceaccount:default:${account}`;
    const where = `${cluster.server} (context ${account}) as ${who}`;
    assert.ok(plan.log.includes(`${env}: planning against ${where}`), plan.log);
    const comment = github.state.comments.find((c) => c.issueNumber === 42);
    assert.ok(comment?.body.includes(`Planned against ${where}.`), comment?.body);
    assert.ok(plan.summary.includes(`Planned against ${where}.`));
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });
});

describe('a drift check that could not be made is a failure (item 8)', () => {
  test('RBAC 403 and a render error keep the drift issue open with the reason, and fail the job', async () => {
    const env = unique('dr').replace(/-/g, '');
    const namespace = unique('dr');
    const repo = repoFor(namespace, env);
    const sha = repo.git('rev-parse', 'HEAD');
    const apply = await runAction(
      call(repo, { event: 'push', payload: pushPayload(sha, sha), sha, inputs: { environment: env } }),
    );
    assert.equal(apply.code, 0, apply.log);
    kubectl(cluster, ['patch', 'configmap', 'settings', '-n', namespace, '-p', '{"data":{"color":"red"}}']);
    const drift = (inputs: Record<string, string>, at = sha) =>
      runAction(
        call(repo, {
          event: 'schedule',
          payload: { schedule: '17 3 * * *', repository },
          sha: at,
          inputs: { environment: env, ...inputs },
        }),
      );
    const found = await drift({});
    assert.equal(found.code, 0, found.log);
    const issue = github.state.issues.find((i) => i.title === `Drift in ${env}` && i.state === 'open');
    assert.ok(issue, 'a drift issue is open');

    // A reader that may not read Slipway's inventory: 403, not "in sync".
    const forbidden = await drift({ kubeconfig: readFileSync(cluster.restrictedKubeconfig, 'utf8') });
    assert.equal(forbidden.code, 1, forbidden.log);
    assert.doesNotMatch(forbidden.log, /in sync with Git/);
    assert.match(forbidden.log, new RegExp(`::error::${env}: could not check drift: .*forbidden`, 'i'));
    assert.equal(forbidden.outputs.unchecked, JSON.stringify([env]));
    let now = github.state.issues.find((i) => i.number === issue.number);
    assert.equal(now?.state, 'open');
    assert.match(now.body ?? '', /could not check/);
    assert.match(now.body ?? '', /forbidden/i);

    // A manifest that no longer renders: also a failed check.
    const broken = repo.commit(
      { [`${env}/bad.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n' },
      'broken',
    );
    const unrenderable = await drift({}, broken);
    assert.equal(unrenderable.code, 1, unrenderable.log);
    now = github.state.issues.find((i) => i.number === issue.number);
    assert.equal(now?.state, 'open');
    assert.match(now.body ?? '', /could not check/);
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });
});

describe('one deployment per apply on GitHub (item 9)', () => {
  test("the job's own deployment gets Slipway's statuses; a finished one is not reused", async () => {
    const env = unique('dep').replace(/-/g, '');
    const namespace = unique('dep');
    const repo = repoFor(namespace, env);
    const sha = repo.git('rev-parse', 'HEAD');
    // GitHub opens a deployment when a job with `environment:` starts.
    const jobs = github.startJobDeployment(env, sha);
    const apply = await runAction(
      call(repo, { event: 'push', payload: pushPayload(sha, sha), sha, inputs: { environment: env } }),
    );
    assert.equal(apply.code, 0, apply.log);
    const deployments = github.state.deployments.filter((d) => d.environment === env);
    assert.equal(deployments.length, 1, 'no second deployment');
    assert.equal(deployments[0]!.id, jobs.id);
    assert.deepEqual(
      deployments[0]!.statuses.map((s) => s.state),
      ['in_progress', 'in_progress', 'success'],
    );

    // A later run without a job deployment of its own (the earlier one is finished): a new one.
    const again = await runAction(
      call(repo, { event: 'push', payload: pushPayload(sha, sha), sha, inputs: { environment: env } }),
    );
    assert.equal(again.code, 0, again.log);
    const after = github.state.deployments.filter((d) => d.environment === env);
    assert.equal(after.length, 2);
    assert.deepEqual(
      after[1]!.statuses.map((s) => s.state),
      ['in_progress', 'success'],
    );
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });
});

describe('required checks of environments a change does not touch', () => {
  /** Two environments, one namespace each; `broken` makes prod's ConfigMap invalid. */
  function twoEnvironments(dev: string, prod: string, namespace: string): TestRepo {
    const env = (name: string): Record<string, string> => ({
      [`${name}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}-${name}\n`,
      [`${name}/cm.yaml`]:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
    });
    return new TestRepo({
      'slipway.yaml': `environments:\n  ${dev}:\n    path: ${dev}\n    namespace: ${namespace}-${dev}\n  ${prod}:\n    path: ${prod}\n    namespace: ${namespace}-${prod}\n`,
      ...env(dev),
      ...env(prod),
    });
  }

  const latest = (name: string, sha: string) =>
    github.state.checkRuns.filter((c) => c.name === name && c.headSha === sha).at(-1);

  test('a pull request touching only dev passes prod’s check; a push that stops touching prod flips its failed check', async () => {
    const suffix = unique('req').replace(/-/g, '').slice(-8);
    const [dev, prod] = [`dev${suffix}`, `prod${suffix}`];
    const repo = twoEnvironments(dev, prod, unique('req'));
    const base = repo.git('rev-parse', 'HEAD');
    const pr = (head: string, inputs: Record<string, string> = {}) =>
      runAction(
        call(repo, { event: 'pull_request', payload: pullRequestPayload(41, base, head), sha: head, inputs }),
      );

    // 1. Only dev changes: the detect job names dev, and passes prod's check without planning it.
    const onlyDev = repo.commit(
      {
        [`${dev}/cm.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: red\n',
      },
      'dev only',
    );
    const detect = await pr(onlyDev);
    assert.equal(detect.code, 0, detect.log);
    assert.deepEqual(JSON.parse(detect.outputs.environments ?? ''), [dev]);
    const prodCheck = latest(`slipway / ${prod}`, onlyDev);
    assert.ok(prodCheck, 'prod gets its check although it is not planned');
    assert.equal(prodCheck.status, 'completed');
    assert.equal(prodCheck.conclusion, 'success');
    assert.equal(prodCheck.title, 'not affected by this change');
    assert.equal(latest(`slipway / ${dev}`, onlyDev), undefined, "dev's check is its plan job's");
    const devPlan = await pr(onlyDev, { environment: dev });
    assert.equal(devPlan.code, 0, devPlan.log);
    assert.equal(latest(`slipway / ${dev}`, onlyDev)?.conclusion, 'success');
    assert.equal(
      github.state.checkRuns.filter((c) => c.headSha === onlyDev).length,
      2,
      'one check per environment, none twice',
    );

    // 2. A push breaks prod: its plan fails the check.
    const broken = repo.commit(
      { [`${prod}/cm.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\ndata:\n  color: red\n' },
      'break prod',
    );
    const detectBroken = await pr(broken);
    assert.deepEqual(
      (JSON.parse(detectBroken.outputs.environments ?? '') as string[]).sort(),
      [dev, prod].sort(),
    );
    assert.equal(
      latest(`slipway / ${prod}`, broken),
      undefined,
      'an affected environment is left to its plan',
    );
    const prodPlan = await pr(broken, { environment: prod });
    assert.equal(prodPlan.code, 1, prodPlan.log);
    assert.equal(latest(`slipway / ${prod}`, broken)?.conclusion, 'failure');

    // 3. The next push reverts prod: the check on the new head passes, "not affected".
    const reverted = repo.commit(
      {
        [`${prod}/cm.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
      },
      'revert prod',
    );
    const detectReverted = await pr(reverted);
    assert.equal(detectReverted.code, 0, detectReverted.log);
    assert.deepEqual(JSON.parse(detectReverted.outputs.environments ?? ''), [dev]);
    assert.equal(latest(`slipway / ${prod}`, reverted)?.conclusion, 'success');
    assert.equal(latest(`slipway / ${prod}`, reverted)?.title, 'not affected by this change');
    assert.deepEqual(github.takeViolations(), []);
    repo.remove();
  });
});
