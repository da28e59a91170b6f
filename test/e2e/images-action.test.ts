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

/** A scheduled run of `command: images` on a new commit of main holding `files`; it must succeed. */
async function scheduledRun(
  files: Record<string, string>,
  inputs: Record<string, string> = {},
): Promise<{ code: number; text: string }> {
  const workspace = mkdtempSync(path.join(dir, 'workspace-'));
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
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'acme/deploys',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_API_URL: github.url,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: dir,
    ...inputs,
  });
  assert.equal(output.code, 0, output.text);
  assert.doesNotMatch(output.text, /::error::/);
  return output;
}

test('a scheduled run opens the pull request for the working directory, with no kubeconfig', async () => {
  const files = {
    'deploy/slipway.yaml': `environments:\n  beta:\n    path: clusters/beta\nimage-policies:\n  web:\n    image: ${registry.host}/team/web\n    policy:\n      semver:\n        range: '1.x'\n    insecure: true\n`,
    'deploy/clusters/beta/app.yaml': `image: ${registry.host}/team/web:1.0.0 # web\n`,
  };
  const output = await scheduledRun(files, { INPUT_CONCURRENCY: '16' });
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

/** Two environments, `image-pull-requests: <mode>`, both on team/api at `tag`; the checkout under deploy/. */
function apiFiles(mode: 'per-environment' | 'grouped', tag: string): Record<string, string> {
  return {
    'deploy/slipway.yaml': `# one pull request for both, or one each\nimage-pull-requests: ${mode}\nenvironments:\n  staging:\n    path: clusters/staging\n  production:\n    path: clusters/production\nimage-policies:\n  api:\n    image: ${registry.host}/team/api\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
    'deploy/clusters/staging/api.yaml': `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${registry.host}/team/api:${tag}   # staging\n`,
    'deploy/clusters/production/kustomization.yaml': `resources:\n  - api.yaml\nimages:\n  - name: api\n    newName: ${registry.host}/team/api\n    newTag: '${tag}' # production\n`,
    'deploy/clusters/production/api.yaml': `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: api\n`,
  };
}

const openPulls = (head: string) => github.git.pulls.filter((p) => p.head === head && p.state === 'open');
const pullUrl = (n: number) => `https://github.com/acme/deploys/pull/${n}`;

test('image-pull-requests: grouped keeps one pull request for both environments, and switching modes closes the other', async () => {
  const digests = new Map<string, string>();
  for (const tag of ['1.0.0', '1.1.0']) digests.set(tag, await pushImage(registry.host, 'team/api', tag));
  const api = (tag: string) => `${registry.host}/team/api:${tag}`;

  // Per environment first: two pull requests.
  await scheduledRun(apiFiles('per-environment', '1.0.0'));
  const [staging] = openPulls('slipway/images/staging');
  const [production] = openPulls('slipway/images/production');
  assert.ok(staging && production);

  // Grouped: one pull request with both environments' edits in one commit; the two are closed.
  const before = github.git.pulls.length;
  const main = apiFiles('grouped', '1.0.0');
  const grouped = await scheduledRun(main);
  assert.equal(github.git.pulls.length, before + 1, 'exactly one new pull request');
  const [all] = openPulls('slipway/images/all');
  assert.ok(all);
  const expected = new Map(Object.entries(main));
  expected.set(
    'deploy/clusters/staging/api.yaml',
    main['deploy/clusters/staging/api.yaml']!.replace(api('1.0.0'), api('1.1.0')),
  );
  expected.set(
    'deploy/clusters/production/kustomization.yaml',
    main['deploy/clusters/production/kustomization.yaml']!.replace("newTag: '1.0.0'", "newTag: '1.1.0'"),
  );
  assert.deepEqual(github.git.filesOf('slipway/images/all'), expected);
  const head = github.git.commits.get(github.git.refs.get('heads/slipway/images/all') ?? '');
  assert.deepEqual(head?.parents, [github.git.refs.get('heads/main')], 'one commit on the run’s commit');
  assert.match(all.title, /^Update images in staging, production: api 1\.1\.0$/);
  for (const row of [
    `### staging\n\n| Where | Image | From | To | Digest | Policy |\n| --- | --- | --- | --- | --- | --- |\n| \`clusters/staging/api.yaml:7\` | \`${registry.host}/team/api\` | \`1.0.0\` | \`1.1.0\` | \`${digests.get('1.1.0')}\` | api |`,
    `### production\n\n| Where | Image | From | To | Digest | Policy |\n| --- | --- | --- | --- | --- | --- |\n| \`clusters/production/kustomization.yaml:6\` | \`${registry.host}/team/api\` | \`1.0.0\` | \`1.1.0\` | \`${digests.get('1.1.0')}\` | api |`,
  ])
    assert.ok(all.body?.includes(row), `${all.body}\n--- lacks ---\n${row}`);
  assert.match(
    grouped.text,
    /::set-output name=image-updates::\[\{"environment":"all","branch":"slipway\/images\/all","updates":2,/,
  );
  for (const old of [staging, production]) {
    assert.equal(old.state, 'closed');
    assert.equal(github.git.refs.has(`heads/${old.head}`), false, 'its branch is deleted');
    assert.match(github.commentsOn(old.number).at(-1)?.body ?? '', /image-pull-requests: grouped/);
    assert.ok(github.commentsOn(old.number).at(-1)?.body.includes(pullUrl(all.number)));
  }

  // A newer tag: the same pull request, its branch moved and its body rewritten.
  digests.set('1.2.0', await pushImage(registry.host, 'team/api', '1.2.0'));
  await scheduledRun(main);
  assert.equal(github.git.pulls.length, before + 1, 'no second pull request');
  assert.equal(all.state, 'open');
  assert.equal(all.heads.length, 2, 'force-pushed once more');
  assert.match(all.title, /api 1\.2\.0$/);
  assert.ok(all.body?.includes(`\`1.2.0\` | \`${digests.get('1.2.0')}\``));
  assert.ok(!all.body?.includes('1.1.0'));
  assert.equal(
    github.git.filesOf('slipway/images/all')?.get('deploy/clusters/staging/api.yaml'),
    main['deploy/clusters/staging/api.yaml']!.replace(api('1.0.0'), api('1.2.0')),
  );

  // Back to one per environment: the grouped pull request is closed, pointing at the new ones.
  await scheduledRun(apiFiles('per-environment', '1.0.0'));
  assert.equal(all.state, 'closed');
  assert.equal(github.git.refs.has('heads/slipway/images/all'), false);
  const [staging2] = openPulls('slipway/images/staging');
  const [production2] = openPulls('slipway/images/production');
  assert.ok(staging2 && production2);
  const why = github.commentsOn(all.number).at(-1)?.body ?? '';
  assert.match(why, /image-pull-requests: per-environment/);
  assert.ok(why.includes(pullUrl(staging2.number)) && why.includes(pullUrl(production2.number)), why);

  // Grouped again, then main catches up: the grouped pull request is closed, nothing is left open.
  await scheduledRun(apiFiles('grouped', '1.0.0'));
  const [all2] = openPulls('slipway/images/all');
  assert.ok(all2);
  assert.equal(staging2.state, 'closed');
  assert.equal(production2.state, 'closed');
  await scheduledRun(apiFiles('grouped', '1.2.0'));
  assert.equal(all2.state, 'closed');
  assert.match(
    github.commentsOn(all2.number).at(-1)?.body ?? '',
    /No image updates left for any environment/,
  );
  assert.deepEqual(
    github.git.pulls.filter(
      (p) => p.head.startsWith('slipway/images/') && p.head !== 'slipway/images/beta' && p.state === 'open',
    ),
    [],
  );
  assert.deepEqual(github.takeViolations(), []);
});
