// Secret safety, proven: unique values are planted everywhere a secret can come from — Secret
// data and stringData, a Helm value rendered into a Secret, an old last-applied annotation in the
// cluster, the kubeconfig's token, the GitHub token, a SOPS-encrypted Secret and the age key that
// decrypts it — and every output of plan, apply, drift and failure is searched for each value in
// plain, base64, URL-encoded and JSON-escaped form. The values hold a quote, a backslash, a slash,
// a plus and a space, so that those four forms really differ. Two plants make the masker itself
// necessary (not only the masked Secret diff): a ConfigMap copying Secret values, and a chart and a
// kustomization whose failed renders print one on stderr.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { load } from 'js-yaml';
import { ensureTools } from '../cluster/build.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import {
  kubectl,
  sharedCluster,
  slipway,
  stopSharedCluster,
  TestRepo,
  unique,
} from '../integration/harness.ts';
import { pullRequestPayload, pushPayload, runAction, type ActionRun } from './runner.ts';

const planted = (label: string): string => `${label}-${randomBytes(9).toString('hex')}"q\\/+ x`;
const VALUES = {
  data: planted('data'),
  stringData: planted('stringdata'),
  helm: planted('helm'),
  lastApplied: planted('lastapplied'),
  rotated: planted('rotated'),
  drift: planted('drift'),
  sops: planted('sops'),
  githubToken: `ghs_${randomBytes(18).toString('hex')}`,
};

let cluster: Cluster;
let github: FakeGitHub;
let hooks: Server;
const notifications: string[] = [];

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({
    token: VALUES.githubToken,
    owner: 'acme',
    repo: 'deploys',
    pullRequests: [5],
  });
  hooks = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      notifications.push(body);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await github.close();
  hooks.close();
  await stopSharedCluster();
});

function forms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ];
}

function assertClean(where: string, text: string, values: readonly string[]): void {
  for (const value of values) {
    for (const form of forms(value))
      assert.ok(!text.includes(form), `${where} contains a planted secret (${value.split('-')[0] ?? ''})`);
  }
}

/** A fresh age key, and `secret` encrypted to it by the real sops (Flux's encrypted_regex). */
async function sopsSecret(secret: string): Promise<{ ageKey: string; file: string }> {
  const tools = await ensureTools();
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-sops-scan-'));
  try {
    const keyFile = path.join(dir, 'key.txt');
    execFileSync(tools.ageKeygen, ['-o', keyFile], { stdio: 'pipe' });
    const ageKey = readFileSync(keyFile, 'utf8');
    const recipient = /public key: (age1\w+)/.exec(ageKey)?.[1] ?? '';
    const plain = path.join(dir, 'secret.yaml');
    writeFileSync(plain, secret);
    const file = execFileSync(
      tools.sops,
      ['encrypt', '--age', recipient, '--encrypted-regex', '^(data|stringData)$', plain],
      { encoding: 'utf8' },
    );
    return { ageKey, file };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function shown(run: ActionRun): string {
  // ::add-mask:: lines are instructions to the runner, which never displays them.
  return [
    run.log
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    run.summary,
    JSON.stringify(run.outputs),
  ].join('\n');
}

test('no planted secret value reaches any output of plan, apply, drift or a failure', async () => {
  const env = unique('sec').replace(/-/g, '');
  const namespace = unique('secns');
  const kubeToken = (
    load(readFileSync(cluster.adminKubeconfig, 'utf8')) as { users: { user: { token: string } }[] }
  ).users[0]!.user.token;
  const sops = await sopsSecret(
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: by-sops\nstringData:\n  key: ${JSON.stringify(VALUES.sops)}\n`,
  );
  const ageKey = sops.ageKey.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-')) ?? '';
  assert.ok(ageKey !== '' && !sops.file.includes(VALUES.sops));
  const secrets = [...Object.values(VALUES), kubeToken, ageKey];

  // A Secret applied by hand with client-side kubectl carries its value in the last-applied annotation.
  kubectl(cluster, ['create', 'namespace', namespace]);
  kubectl(
    cluster,
    ['apply', '-f', '-'],
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\n  namespace: ${namespace}\nstringData:\n  token: ${JSON.stringify(VALUES.lastApplied)}\n`,
  );
  assert.match(
    kubectl(cluster, ['get', 'secret', 'legacy', '-n', namespace, '-o', 'yaml']),
    /last-applied-configuration/,
  );

  const repo = new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: env\n    namespace: ${namespace}\n    timeout: 60s\n    helm:\n      - releaseName: app\n        chart: chart\n        valuesFiles: [values/${env}.yaml]\n`,
    [`values/${env}.yaml`]: `password: ${JSON.stringify(VALUES.helm)}\n`,
    'chart/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\n',
    'chart/templates/secret.yaml':
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-db\nstringData:\n  password: {{ .Values.password | quote }}\n',
    'env/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    'env/secrets.yaml': [
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: by-data\ndata:\n  key: ${Buffer.from(VALUES.data).toString('base64')}\n`,
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: by-string-data\nstringData:\n  key: ${JSON.stringify(VALUES.stringData)}\n`,
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\nstringData:\n  token: ${JSON.stringify(VALUES.rotated)}\n`,
    ].join('---\n'),
    // A common mistake: the password copied into a ConfigMap. Its diff is not a Secret's (values
    // shown), so only the masker, which learnt the values from the Secrets, keeps them out.
    'env/copies.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: copies\ndata:\n  dsn: ${JSON.stringify(`postgres://app:${VALUES.stringData}@db/app`)}\n  sops: ${JSON.stringify(VALUES.sops)}\n  helm: ${JSON.stringify(VALUES.helm)}\n`,
    'env/sops-secret.yaml': sops.file,
  });
  const base = repo.git('rev-parse', 'HEAD');
  const inputs = {
    'github-token': VALUES.githubToken,
    kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'),
    environment: env,
    'webhook-url': `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`,
    'sops-age-key': sops.ageKey,
  };
  const call = (event: 'pull_request' | 'push' | 'schedule', payload: Record<string, unknown>, sha: string) =>
    runAction({
      event,
      payload,
      sha,
      ref: 'refs/heads/main',
      inputs,
      workspace: repo.dir,
      apiUrl: github.url,
      env: { PATH: cluster.env.PATH ?? '' },
    });

  const plan = await call('pull_request', pullRequestPayload(5, base, base), base);
  assert.equal(plan.code, 0, plan.log);
  // The runner was told to mask the token and the kubeconfig.
  assert.ok(plan.log.includes(`::add-mask::${VALUES.githubToken}`));
  assert.ok(plan.log.split('\n').some((l) => l.startsWith('::add-mask::') && l.includes(kubeToken)));
  assertClean('plan', shown(plan), secrets);

  const apply = await call('push', pushPayload(base, base), base);
  assert.equal(apply.code, 0, apply.log);
  assertClean('apply', shown(apply), secrets);
  assert.ok(notifications.length >= 1, 'a notification was sent');
  // The values really went through Slipway into the cluster (the search above is not vacuous).
  const decoded = (name: string, key: string): string =>
    Buffer.from(
      kubectl(cluster, ['get', 'secret', name, '-n', namespace, '-o', `jsonpath={.data.${key}}`]),
      'base64',
    ).toString();
  assert.equal(decoded('by-data', 'key'), VALUES.data);
  assert.equal(decoded('by-string-data', 'key'), VALUES.stringData);
  assert.equal(decoded('app-db', 'password'), VALUES.helm);
  assert.equal(decoded('legacy', 'token'), VALUES.rotated);
  assert.equal(decoded('by-sops', 'key'), VALUES.sops);
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'copies', '-n', namespace, '-o', 'jsonpath={.data.dsn}']),
    `postgres://app:${VALUES.stringData}@db/app`,
  );

  // Drift: someone writes a new value by hand.
  kubectl(cluster, [
    'patch',
    'secret',
    'by-string-data',
    '-n',
    namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ stringData: { key: VALUES.drift } }),
  ]);
  const drift = await call(
    'schedule',
    { repository: { full_name: 'acme/deploys', default_branch: 'main' } },
    base,
  );
  assert.equal(drift.code, 0, drift.log);
  assert.equal(drift.outputs['has-changes'], 'true');
  assertClean('drift', shown(drift), secrets);

  // A failure: the server refuses an object next to the Secrets.
  const head = repo.commit(
    { 'env/bad.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\nspecc: {}\n' },
    'bad',
  );
  const failed = await call('pull_request', pullRequestPayload(5, base, head), head);
  assert.equal(failed.code, 1);
  assertClean('failed plan', shown(failed), secrets);

  // A failed render: the chart, given a password a Secret of the environment also holds, refuses
  // it and helm prints it on stderr, which Slipway quotes in the error; kustomize likewise.
  const refused = repo.commit(
    {
      [`values/${env}.yaml`]: `password: ${JSON.stringify(VALUES.helm)}\nreplicaPassword: ${JSON.stringify(VALUES.data)}\n`,
      'chart/templates/guard.yaml':
        '{{ fail (printf "replicaPassword %s is not allowed" .Values.replicaPassword) }}\n',
      // And kustomize, given the value as a generator literal without `key=`, quotes it back.
      'env/gen/kustomization.yaml': `configMapGenerator:\n  - name: gen\n    literals:\n      - ${JSON.stringify(VALUES.data)}\n`,
    },
    'chart refuses',
  );
  const failedRender = await call('pull_request', pullRequestPayload(5, base, refused), refused);
  assert.equal(failedRender.code, 1);
  assert.match(
    shown(failedRender),
    /helm could not render release "app".*replicaPassword \*\*\* is not allowed/,
  );
  assert.match(shown(failedRender), /kustomize build env\/gen failed: .*\*\*\*/);
  assertClean('failed render', shown(failedRender), secrets);
  // The same failure on a laptop or in GitLab CI (the CLI's stderr).
  const cliFailure = await slipway(cluster, repo, ['diff', '--env', env], { SOPS_AGE_KEY: sops.ageKey });
  assert.equal(cliFailure.code, 1);
  assert.match(cliFailure.stdout + cliFailure.stderr, /replicaPassword \*\*\* is not allowed/);
  assertClean('slipway diff of a failed render', cliFailure.stdout + cliFailure.stderr, secrets);
  repo.git('reset', '-q', '--hard', head);

  // The CLI's outputs too: every format, and stderr. With the ConfigMap gone, each plans its
  // creation, values and all: JSON output escapes the quote and the backslash in them.
  kubectl(cluster, ['delete', 'configmap', 'copies', '-n', namespace]);
  for (const format of ['text', 'markdown', 'json']) {
    const result = await slipway(cluster, repo, ['diff', '--env', env, '--format', format], {
      SOPS_AGE_KEY: sops.ageKey,
    });
    assert.doesNotMatch(result.stderr, /no age key/);
    assertClean(`slipway diff --format ${format}`, result.stdout + result.stderr, secrets);
  }
  const rendered = await slipway(cluster, repo, ['render', '--env', env], { SOPS_AGE_KEY: sops.ageKey });
  assertClean('slipway render', rendered.stdout + rendered.stderr, secrets);

  // Everything GitHub received: comments, check runs, deployments, statuses, issues; and webhooks.
  assertClean('GitHub API state', JSON.stringify(github.state), secrets);
  assertClean('GitHub API requests', JSON.stringify(github.requests), secrets);
  assertClean('notifications', notifications.join('\n'), secrets);
  assert.deepEqual(github.takeViolations(), []);
  repo.remove();
});
