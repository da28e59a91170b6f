// Keyless: the action authenticates with the job's GitHub OIDC ID token, nothing stored. The real
// control plane trusts the harness's OIDC issuer (username `github:<sub>`); the runner's ID token
// service is a local stand-in handing out tokens of that issuer for the job's subject. RBAC comes
// from `slipway rbac`: the environment's subject applies, the pull-request subject only plans.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rbacYaml } from '../../src/core/rbac/manifests.ts';
import type { Cluster, ClusterOidc } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { startIdTokenService, type FakeIdTokenService } from '../fakes/id-token-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionCall, type ActionRun } from './runner.ts';

const GITHUB_TOKEN = 'ghs_oidcE2eTokenValue0123456789';
const PR_SUBJECT = 'repo:acme/deploys:pull_request';

const WITHOUT_ISSUER = process.env.SLIPWAY_TEST_KUBECONFIG
  ? 'an existing cluster (SLIPWAY_TEST_KUBECONFIG) does not trust the test OIDC issuer'
  : false;
let cluster: Cluster;
let oidc: ClusterOidc;
let github: FakeGitHub;
let idTokens: FakeIdTokenService;
/** What the next ID token says: the job's subject, and how long it lives. */
let job = { subject: PR_SUBJECT, ttlSeconds: 600 };

before(async () => {
  cluster = await sharedCluster();
  // An existing cluster (SLIPWAY_TEST_KUBECONFIG) has no test issuer: the tests are skipped.
  if (cluster.oidc) oidc = cluster.oidc;
  github = await startGitHubServer({
    token: GITHUB_TOKEN,
    owner: 'acme',
    repo: 'deploys',
    pullRequests: [7],
  });
  idTokens = await startIdTokenService((audience) =>
    oidc.token({ subject: job.subject, audience, ttlSeconds: job.ttlSeconds }),
  );
});

after(async () => {
  await idTokens.close();
  await github.close();
  await stopSharedCluster();
});

interface Setup {
  readonly env: string;
  readonly namespace: string;
  readonly repo: TestRepo;
  readonly base: string;
  readonly head: string;
}

/** An environment whose RBAC `slipway rbac` printed, and a pull request adding a ConfigMap. */
function setup(): Setup {
  const env = unique('live').replace(/-/g, '');
  const namespace = unique('keyless');
  kubectl(
    cluster,
    ['apply', '-f', '-'],
    rbacYaml({
      environment: env,
      namespaces: [namespace],
      applyUser: `${oidc.usernamePrefix}repo:acme/deploys:environment:${env}`,
      planUsers: [`${oidc.usernamePrefix}${PR_SUBJECT}`],
    }),
  );
  const repo = new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}\n    namespace: ${namespace}\n    timeout: 30s\n`,
    [`${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
  });
  const base = repo.git('rev-parse', 'HEAD');
  const head = repo.commit(
    {
      [`${env}/app.yaml`]:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n---\n' +
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-oidc\n',
    },
    'add settings',
  );
  return { env, namespace, repo, base, head };
}

function keyless(s: Setup, event: 'pull_request' | 'push', inputs: Record<string, string> = {}): ActionCall {
  return {
    event,
    payload: event === 'push' ? pushPayload(s.base, s.head) : pullRequestPayload(7, s.base, s.head),
    sha: s.head,
    ref: event === 'push' ? 'refs/heads/main' : 'refs/pull/7/merge',
    workspace: s.repo.dir,
    apiUrl: github.url,
    env: { PATH: cluster.env.PATH ?? '', ...idTokens.env },
    inputs: {
      'github-token': GITHUB_TOKEN,
      environment: s.env,
      auth: 'github-oidc',
      audience: oidc.audience,
      server: cluster.server,
      'certificate-authority': oidc.serverCa,
      ...inputs,
    },
  };
}

function run(subject: string, call: ActionCall, ttlSeconds = 600): Promise<ActionRun> {
  job = { subject, ttlSeconds };
  return runAction(call);
}

/** No ID token, no request token, in any form, anywhere the job's output goes. */
function assertNoTokens(r: ActionRun): void {
  const shown = [
    r.log
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n'),
    r.summary,
    JSON.stringify(r.outputs),
    JSON.stringify(github.state),
    JSON.stringify(github.requests),
  ].join('\n');
  assert.ok(idTokens.issued.length > 0, 'the job asked for an ID token');
  for (const secret of [...idTokens.issued, idTokens.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]) {
    for (const part of [secret, ...secret.split('.').filter((p) => p.length > 40)]) {
      for (const form of [part, Buffer.from(part).toString('base64'), encodeURIComponent(part)])
        assert.ok(!shown.includes(form), `a token leaked: …${form.slice(-12)}`);
    }
  }
  assert.ok(!shown.includes('hunter2-oidc'), 'the Secret value leaked');
}

function configMapColor(namespace: string): string {
  return kubectl(cluster, [
    'get',
    'configmap',
    'settings',
    '-n',
    namespace,
    '--ignore-not-found',
    '-o',
    'jsonpath={.data.color}',
  ]);
}

describe('auth: github-oidc', { skip: WITHOUT_ISSUER }, () => {
  test('the pull request plans with its own subject; only the environment subject applies', async () => {
    const s = setup();
    const plan = await run(PR_SUBJECT, keyless(s, 'pull_request'));
    assert.equal(plan.code, 0, plan.log);
    assert.equal(plan.outputs['has-changes'], 'true');
    assert.match(plan.log, new RegExp(`as github:${PR_SUBJECT}`));
    assert.ok(idTokens.requests.every((r) => r.authorized && r.audience === oidc.audience));
    assertNoTokens(plan);

    // The pull request's identity is refused by the API server, naming it; nothing is written.
    const stolen = await run(PR_SUBJECT, keyless(s, 'push', { command: 'apply' }));
    assert.notEqual(stolen.code, 0, stolen.log);
    assert.match(stolen.log, new RegExp(`github:${PR_SUBJECT}`));
    assert.match(stolen.log, /forbidden|denied/i);
    assert.equal(configMapColor(s.namespace), '');
    assertNoTokens(stolen);

    const applied = await run(`repo:acme/deploys:environment:${s.env}`, keyless(s, 'push'));
    assert.equal(applied.code, 0, applied.log);
    assert.match(applied.log, new RegExp(`as github:repo:acme/deploys:environment:${s.env}`));
    assert.equal(configMapColor(s.namespace), 'blue');
    assertNoTokens(applied);
  });

  test('a token for another audience is refused, naming what it claimed', async () => {
    const s = setup();
    const r = await run(
      `repo:acme/deploys:environment:${s.env}`,
      keyless(s, 'push', { audience: 'https://github.com/acme' }),
    );
    assert.notEqual(r.code, 0, r.log);
    assert.match(
      r.log,
      new RegExp(
        `rejected the GitHub Actions OIDC token \\(subject repo:acme/deploys:environment:${s.env}, audience https://github.com/acme, issuer ${oidc.issuer}`,
      ),
    );
    assert.match(r.log, /401 Unauthorized/);
    assert.equal(configMapColor(s.namespace), '');
    assertNoTokens(r);
  });

  test('an expired token is refused and said to be expired', async () => {
    const s = setup();
    const r = await run(`repo:acme/deploys:environment:${s.env}`, keyless(s, 'push'), -120);
    assert.notEqual(r.code, 0, r.log);
    assert.match(r.log, /rejected the GitHub Actions OIDC token \(.*EXPIRED \d+[sm] ago/);
    assert.equal(configMapColor(s.namespace), '');
    assertNoTokens(r);
  });

  test('a kubeconfig that names only the cluster works; one with credentials is refused', async () => {
    const s = setup();
    const clusterOnly = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: live',
      '    cluster:',
      `      server: ${cluster.server}`,
      `      certificate-authority-data: ${Buffer.from(oidc.serverCa).toString('base64')}`,
      'users:',
      '  - name: ci',
      '    user: {}',
      'contexts:',
      '  - name: live',
      '    context: {cluster: live, user: ci}',
      'current-context: live',
      '',
    ].join('\n');
    const viaKubeconfig = { server: '', 'certificate-authority': '', kubeconfig: clusterOnly };
    const applied = await run(`repo:acme/deploys:environment:${s.env}`, keyless(s, 'push', viaKubeconfig));
    assert.equal(applied.code, 0, applied.log);
    assert.equal(configMapColor(s.namespace), 'blue');
    assertNoTokens(applied);

    const withToken = clusterOnly.replace('user: {}', 'user: {token: not-a-real-token}');
    const refused = await run(
      `repo:acme/deploys:environment:${s.env}`,
      keyless(s, 'push', { ...viaKubeconfig, kubeconfig: withToken }),
    );
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.log,
      /the kubeconfig's user "ci" holds a token, but the credentials are GitHub Actions OIDC/,
    );
  });

  test('a kubeconfig exec plugin (as EKS, GKE and AKS use) still works, its token masked', async () => {
    const s = setup();
    const token = oidc.token({
      subject: `repo:acme/deploys:environment:${s.env}`,
      audience: oidc.audience,
    });
    const plugin = path.join(s.repo.dir, '..', `${s.env}-exec-plugin.mjs`);
    // The plugin also records which of the action's inputs it could see: none may reach it.
    const seen = `${plugin}.seen`;
    writeFileSync(
      plugin,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(seen)}, Object.keys(process.env).filter((k) => k.startsWith('INPUT_')).join(','));\n` +
        `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: ${JSON.stringify(token)} } }));\n`,
    );
    const execKubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: live',
      '    cluster:',
      `      server: ${cluster.server}`,
      `      certificate-authority-data: ${Buffer.from(oidc.serverCa).toString('base64')}`,
      'users:',
      '  - name: ci',
      '    user:',
      '      exec:',
      '        apiVersion: client.authentication.k8s.io/v1',
      `        command: ${process.execPath}`,
      `        args: [${plugin}]`,
      '        interactiveMode: Never',
      'contexts:',
      '  - name: live',
      '    context: {cluster: live, user: ci}',
      'current-context: live',
      '',
    ].join('\n');
    const r = await runAction({
      ...keyless(s, 'push', { auth: '', audience: '', server: '', 'certificate-authority': '' }),
      inputs: { 'github-token': GITHUB_TOKEN, environment: s.env, kubeconfig: execKubeconfig },
    });
    assert.equal(r.code, 0, r.log);
    assert.match(r.log, new RegExp(`as github:repo:acme/deploys:environment:${s.env}`));
    assert.equal(configMapColor(s.namespace), 'blue');
    const shown = r.log
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    assert.ok(!shown.includes(token) && !shown.includes(token.split('.')[2] ?? ''), 'the exec token leaked');
    assert.equal(
      readFileSync(seen, 'utf8'),
      '',
      'the exec plugin saw none of the inputs (token, kubeconfig)',
    );
  });

  test('a job without id-token: write is told so', async () => {
    const s = setup();
    const r = await runAction({ ...keyless(s, 'push'), env: { PATH: cluster.env.PATH ?? '' } });
    assert.notEqual(r.code, 0);
    assert.match(r.log, /permissions: id-token: write/);
  });
});
