// `command: images` through the action's real entry (src/github/main.ts under GitHub's
// @github/local-action), with a working-directory: a real registry, the GitHub fake, no cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { pushImage } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from '../unit/registry.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
let registry: LocalRegistry;
let github: FakeGitHub;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-images-action-'));
  registry = await startRegistry(dir);
  await pushImage(registry.host, 'team/web', '1.0.0');
  await pushImage(registry.host, 'team/web', '1.1.0');
  github = await startGitHubServer({ pullRequests: [] });
});

after(async () => {
  await github.close();
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
});

function runAction(env: Record<string, string>): Promise<{ code: number; text: string }> {
  const envFile = path.join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        path.join(root, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js'),
        'run',
        root,
        'src/github/main.ts',
        envFile,
      ],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, text: stdout + stderr }),
    );
  });
}

test('a scheduled run opens the pull request for the working directory, with no kubeconfig', async () => {
  const files = {
    'deploy/slipway.yaml': `environments:\n  beta:\n    path: clusters/beta\nimage-policies:\n  web:\n    image: ${registry.host}/team/web\n    policy:\n      semver:\n        range: '1.x'\n    insecure: true\n`,
    'deploy/clusters/beta/app.yaml': `image: ${registry.host}/team/web:1.0.0 # web\n`,
  };
  const workspace = path.join(dir, 'workspace');
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(workspace, relative)), { recursive: true });
    writeFileSync(path.join(workspace, relative), text);
  }
  const sha = github.git.seedBranch('main', files);
  const event = path.join(dir, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({
      schedule: '23 * * * *',
      repository: { full_name: 'acme/deploys', default_branch: 'main' },
    }),
  );
  const output = await runAction({
    INPUT_COMMAND: 'images',
    'INPUT_WORKING-DIRECTORY': 'deploy',
    'INPUT_GITHUB-TOKEN': github.token,
    INPUT_CONCURRENCY: '16',
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'acme/deploys',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_API_URL: github.url,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: dir,
  });
  assert.equal(output.code, 0, output.text);
  assert.doesNotMatch(output.text, /::error::/);
  assert.match(
    output.text,
    /::set-output name=image-updates::\[\{"environment":"beta","branch":"slipway\/images\/beta","updates":1,"url":"https:\/\/github\.com\/acme\/deploys\/pull\/\d+"/,
  );
  assert.equal(github.git.pulls.length, 1);
  assert.equal(
    github.git.filesOf('slipway/images/beta')?.get('deploy/clusters/beta/app.yaml'),
    `image: ${registry.host}/team/web:1.1.0 # web\n`,
  );
  assert.deepEqual(github.takeViolations(), []);
});
