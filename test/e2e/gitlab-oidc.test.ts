// Keyless on GitLab: `slipway ci` with SLIPWAY_AUTH=gitlab-oidc takes the job's ID token from its
// `id_tokens:` variable and sends it to the real control plane, which trusts the harness's
// GitLab-like issuer (username `gitlab:<sub>`). No KUBECONFIG variable at all.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rbacYaml } from '../../src/core/rbac/manifests.ts';
import type { Cluster, ClusterOidc } from '../cluster/cluster.ts';
import { ISSUERS } from '../cluster/oidc.ts';
import { startGitLabServer, type FakeGitLab } from '../fakes/gitlab-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { entry } from './runner.ts';

const TOKEN = 'glpat-oidcE2eTokenValue-77c1';
const JOB_TOKEN = 'glcbt-oidcE2eJobToken-2b9f';
const MAIN = 'project_path:acme/deploys:ref_type:branch:ref:main';
const FEATURE = 'project_path:acme/deploys:ref_type:branch:ref:feature';

const WITHOUT_ISSUER = process.env.SLIPWAY_TEST_KUBECONFIG
  ? 'an existing cluster (SLIPWAY_TEST_KUBECONFIG) does not trust the test OIDC issuer'
  : false;
let cluster: Cluster;
let oidc: ClusterOidc;
let gitlab: FakeGitLab;

before(async () => {
  cluster = await sharedCluster();
  // An existing cluster (SLIPWAY_TEST_KUBECONFIG) has no test issuer: the tests are skipped.
  if (cluster.oidc) oidc = cluster.oidc;
  gitlab = await startGitLabServer({ token: TOKEN, jobToken: JOB_TOKEN, mergeRequests: [7] });
});

after(async () => {
  await gitlab.close();
  await stopSharedCluster();
});

interface CiRun {
  readonly code: number;
  readonly output: string;
}

/** A push pipeline's apply job whose `id_tokens:` variable SLIPWAY_ID_TOKEN holds `idToken`. */
function applyJob(repo: TestRepo, before: string, sha: string, idToken: string): Promise<CiRun> {
  const env: Record<string, string> = {
    PATH: cluster.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: 'https://gitlab.example.com',
    CI_API_V4_URL: gitlab.apiUrl,
    CI_PROJECT_ID: String(gitlab.projectId),
    CI_PROJECT_PATH: gitlab.projectPath,
    CI_PROJECT_URL: `https://gitlab.example.com/${gitlab.projectPath}`,
    CI_PROJECT_DIR: repo.dir,
    CI_DEFAULT_BRANCH: 'main',
    CI_PIPELINE_SOURCE: 'push',
    CI_PIPELINE_ID: '1234',
    CI_PIPELINE_URL: `https://gitlab.example.com/${gitlab.projectPath}/-/pipelines/1234`,
    CI_JOB_ID: '5678',
    CI_JOB_URL: `https://gitlab.example.com/${gitlab.projectPath}/-/jobs/5678`,
    CI_JOB_TOKEN: JOB_TOKEN,
    CI_COMMIT_SHA: sha,
    CI_COMMIT_BEFORE_SHA: before,
    CI_COMMIT_BRANCH: 'main',
    CI_COMMIT_REF_NAME: 'main',
    CI_ENVIRONMENT_ACTION: 'prepare',
    SLIPWAY_GITLAB_TOKEN: TOKEN,
    SLIPWAY_RETRY_SECONDS: '5',
    SLIPWAY_LOCK_WAIT_SECONDS: '5',
    // The component input `auth: gitlab-oidc`, and the cluster as environment-scoped variables.
    SLIPWAY_AUTH: 'gitlab-oidc',
    SLIPWAY_ID_TOKEN: idToken,
    SLIPWAY_SERVER: cluster.server,
    SLIPWAY_CERTIFICATE_AUTHORITY: Buffer.from(oidc.serverCa).toString('base64'),
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [entry('cli'), 'ci'], { env, cwd: repo.dir }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        output: stdout + stderr,
      });
    });
  });
}

describe('auth: gitlab-oidc', { skip: WITHOUT_ISSUER }, () => {
  test('the default branch applies with its ID token; a feature branch, an expired and a misaddressed token are refused', async () => {
    const env = unique('prod').replace(/-/g, '');
    const namespace = unique('gl-keyless');
    kubectl(
      cluster,
      ['apply', '-f', '-'],
      rbacYaml({
        environment: env,
        namespaces: [namespace],
        applyUser: `${ISSUERS.gitlab.prefix}${MAIN}`,
        planUsers: [`${ISSUERS.gitlab.prefix}${FEATURE}`],
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
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n',
      },
      'add settings',
    );
    const created = (): string =>
      kubectl(cluster, [
        'get',
        'configmap',
        'settings',
        '-n',
        namespace,
        '--ignore-not-found',
        '-o',
        'name',
      ]).trim();

    const featureToken = oidc.token({ subject: FEATURE, audience: oidc.audience, issuer: 'gitlab' });
    const refused = await applyJob(repo, base, head, featureToken);
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(refused.output, new RegExp(`User "gitlab:${FEATURE}" cannot`));
    assert.equal(created(), '');

    const mainToken = oidc.token({ subject: MAIN, audience: oidc.audience, issuer: 'gitlab' });
    const applied = await applyJob(repo, base, head, mainToken);
    assert.equal(applied.code, 0, applied.output);
    assert.match(applied.output, new RegExp(`as gitlab:${MAIN}`));
    assert.equal(created(), 'configmap/settings');

    const expired = oidc.token({ subject: MAIN, audience: oidc.audience, issuer: 'gitlab', ttlSeconds: -30 });
    const late = await applyJob(repo, base, head, expired);
    assert.notEqual(late.code, 0);
    assert.match(late.output, /rejected the GitLab OIDC token \(subject project_path:.*EXPIRED/);

    // `aud` left at GitLab's default (the instance URL) instead of the cluster's audience.
    const stranger = oidc.token({ subject: MAIN, audience: 'https://gitlab.example.com', issuer: 'gitlab' });
    const misaddressed = await applyJob(repo, base, head, stranger);
    assert.notEqual(misaddressed.code, 0);
    assert.match(
      misaddressed.output,
      /rejected the GitLab OIDC token \(subject project_path:\S+, audience https:\/\/gitlab\.example\.com/,
    );

    // Nowhere: the job log, nor the report files kept as the job's artifacts.
    const reports = path.join(repo.dir, 'slipway-plan');
    const artifacts = existsSync(reports)
      ? readdirSync(reports).map((file) => readFileSync(path.join(reports, file), 'utf8'))
      : [];
    assert.ok(artifacts.length > 0, 'the jobs wrote report files');
    for (const text of [...[refused, applied, late, misaddressed].map((r) => r.output), ...artifacts])
      for (const token of [featureToken, mainToken, expired, stranger])
        for (const part of [token, ...token.split('.').filter((p) => p.length > 40)])
          assert.ok(!text.includes(part), 'an ID token leaked');
  });
});
