// One engine for every entry (issue 13): the GitHub Action, `slipway ci` on GitLab and the laptop
// CLI wait for a held environment lock for the same SLIPWAY_LOCK_WAIT_SECONDS, fail the same way
// with the same exit code, and refuse a malformed value alike. Driven as each entry is run: the
// action and `slipway ci` as processes with their CI variables, the CLI in-process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { startGitLabServer, type FakeGitLab } from '../fakes/gitlab-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { entry, pushPayload, runAction } from './runner.ts';

const GITHUB_TOKEN = 'ghs_e2eParityToken0123456789';
const GITLAB_TOKEN = 'glpat-e2eParityToken-77aa';

let cluster: Cluster;
let github: FakeGitHub;
let gitlab: FakeGitLab;

before(async () => {
  cluster = await sharedCluster();
  github = await startGitHubServer({ token: GITHUB_TOKEN, owner: 'acme', repo: 'deploys' });
  gitlab = await startGitLabServer({ token: GITLAB_TOKEN, jobToken: 'glcbt-parity', mergeRequests: [1] });
});

after(async () => {
  await github.close();
  await gitlab.close();
  await stopSharedCluster();
});

type Entry = 'action' | 'gitlab' | 'cli';

async function applyWith(
  entryName: Entry,
  repo: TestRepo,
  env: string,
  lockWait: string,
): Promise<{ code: number; log: string }> {
  const sha = repo.git('rev-parse', 'HEAD');
  const common = {
    PATH: cluster.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    SLIPWAY_LOCK_WAIT_SECONDS: lockWait,
  };
  switch (entryName) {
    case 'action': {
      const run = await runAction({
        event: 'push',
        payload: pushPayload(sha, sha),
        sha,
        ref: 'refs/heads/main',
        workspace: repo.dir,
        apiUrl: github.url,
        env: common,
        inputs: {
          'github-token': GITHUB_TOKEN,
          environment: env,
          kubeconfig: readFileSync(cluster.adminKubeconfig, 'utf8'),
        },
      });
      return { code: run.code, log: run.log };
    }
    case 'gitlab':
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [entry('cli'), 'ci', '--mode', 'resync', '--env', env],
          {
            cwd: repo.dir,
            env: {
              ...common,
              CI: 'true',
              GITLAB_CI: 'true',
              CI_API_V4_URL: gitlab.apiUrl,
              CI_PROJECT_ID: String(gitlab.projectId),
              CI_PROJECT_DIR: repo.dir,
              CI_DEFAULT_BRANCH: 'main',
              CI_COMMIT_BRANCH: 'main',
              CI_COMMIT_REF_NAME: 'main',
              CI_PIPELINE_SOURCE: 'web',
              CI_PIPELINE_ID: '77',
              CI_COMMIT_SHA: sha,
              CI_ENVIRONMENT_ACTION: 'prepare',
              KUBECONFIG: cluster.adminKubeconfig,
              SLIPWAY_GITLAB_TOKEN: GITLAB_TOKEN,
            },
          },
          (error, stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
              log: stdout + stderr,
            }),
        );
      });
    case 'cli': {
      let log = '';
      const code = await runCli(['apply', '--env', env, '--kubeconfig', cluster.adminKubeconfig], {
        stdout: (text) => (log += text),
        stderr: (text) => (log += text),
        env: common,
        cwd: repo.dir,
        isTty: false,
      });
      return { code, log };
    }
  }
}

/** Another run's Lease on the environment, renewed just now and good for an hour. */
function holdLock(env: string): void {
  kubectl(
    cluster,
    ['apply', '-f', '-'],
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: slipway-system\n---\napiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: slipway-lock-${env}\n  namespace: slipway-system\nspec:\n  holderIdentity: someone-else\n  leaseDurationSeconds: 3600\n  acquireTime: ${new Date().toISOString().replace(/\.\d+Z$/, '.000000Z')}\n  renewTime: ${new Date().toISOString().replace(/\.\d+Z$/, '.000000Z')}\n`,
  );
}

describe('every entry waits for a held lock the same way', () => {
  for (const entryName of ['action', 'gitlab', 'cli'] as const) {
    test(`${entryName}: SLIPWAY_LOCK_WAIT_SECONDS bounds the wait, exit code 1, nothing applied`, async () => {
      const env = unique(`lk${entryName}`).replace(/-/g, '');
      const namespace = unique('lk');
      const repo = new TestRepo({
        'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}\n    namespace: ${namespace}\n`,
        [`${env}/ns.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      });
      holdLock(env);
      const started = Date.now();
      const run = await applyWith(entryName, repo, env, '2');
      const seconds = (Date.now() - started) / 1000;
      assert.equal(run.code, 1, run.log);
      assert.match(
        run.log,
        new RegExp(`environment "${env}" is locked by another run \\(someone-else\\); waited 2 s`),
      );
      assert.ok(seconds < 30, `gave up after ${seconds.toFixed(1)} s`);
      assert.equal(kubectl(cluster, ['get', 'namespace', namespace, '--ignore-not-found', '-o', 'name']), '');

      const malformed = await applyWith(entryName, repo, env, 'soon');
      assert.equal(malformed.code, 1, malformed.log);
      assert.match(malformed.log, /SLIPWAY_LOCK_WAIT_SECONDS must be a whole number of seconds, got "soon"/);
      repo.remove();
    });
  }
});
