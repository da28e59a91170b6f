// `command: images` end to end without a cluster: a real registry holds the tags, the GitHub fake
// (every request checked against GitHub's OpenAPI description) receives the branch and pull request.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Logger } from '../../src/core/ports.ts';
import { runImagesJob } from '../../src/github/images.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { pushImage } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import { scratch, type Scratch } from './support.ts';

let registry: LocalRegistry;
let github: FakeGitHub;
const scratches: Scratch[] = [];
const digests = new Map<string, string>();

before(async () => {
  const s = scratch('slipway-images-github-');
  scratches.push(s);
  registry = await startRegistry(s.dir);
  for (const tag of ['1.0.0', '1.2.0']) digests.set(tag, await pushImage(registry.host, 'team/web', tag));
  github = await startGitHubServer({ pullRequests: [] });
});

after(async () => {
  await github.close();
  registry.stop();
  for (const s of scratches) s.cleanup();
});

const logs: string[] = [];
const logger: Logger = {
  info: (m) => logs.push(m),
  warn: (m) => logs.push(m),
  error: (m) => logs.push(m),
  debug: () => undefined,
  group: (_t, work) => work(),
};

function files(tag: string): Record<string, string> {
  return {
    'slipway.yaml': `environments:
  staging:
    path: clusters/staging
  production:
    path: clusters/production
image-policies:
  web:
    image: ${registry.host}/team/web
    policy:
      semver:
        range: '^1.0.0'
    insecure: true
    environments: [staging]
`,
    'clusters/staging/deploy.yaml': `kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: web
          image: ${registry.host}/team/web:${tag} # the web tier
`,
    'clusters/production/deploy.yaml': `image: ${registry.host}/team/web:1.0.0\n`,
  };
}

/** A checkout of `main` at `tag`, the same commit seeded in the fake; runs the job on it. */
async function runAt(tag: string) {
  const s = scratch('slipway-images-checkout-');
  scratches.push(s);
  const content = files(tag);
  for (const [relative, text] of Object.entries(content)) {
    mkdirSync(path.dirname(path.join(s.dir, relative)), { recursive: true });
    writeFileSync(path.join(s.dir, relative), text);
  }
  // A run on the same main reuses its commit; a different tag is a new commit on main.
  const current = github.git.refs.get('heads/main');
  const same =
    JSON.stringify([...(github.git.filesOf('main') ?? [])]) === JSON.stringify(Object.entries(content));
  const baseSha =
    current !== undefined && same ? current : github.git.seedBranch('main', content, `main at ${tag}`);
  const result = await runImagesJob({
    repo: s.dir,
    repoPrefix: '',
    configFile: undefined,
    environment: undefined,
    token: github.token,
    apiUrl: github.url,
    owner: github.owner,
    repoName: github.repo,
    baseBranch: 'main',
    baseSha,
    registryConfig: undefined,
    logger,
    hide: () => undefined,
  });
  return { result, baseSha };
}

describe('command: images against the GitHub fake', () => {
  test('opens one pull request per environment with updates, then updates the same one', async () => {
    const first = await runAt('1.0.0');
    assert.deepEqual(first.result.problems, []);
    assert.equal(github.git.pulls.length, 1, 'production has no policy: no pull request');
    const [pull] = github.git.pulls;
    assert.ok(pull);
    assert.equal(pull.head, 'slipway/images/staging');
    assert.equal(pull.base, 'main');
    assert.equal(pull.state, 'open');
    assert.match(pull.title, /^Update images in staging: web 1\.2\.0$/);
    assert.ok(
      pull.body?.includes(
        `| \`clusters/staging/deploy.yaml:7\` | \`${registry.host}/team/web\` | \`1.0.0\` | \`1.2.0\` | \`${digests.get('1.2.0') ?? ''}\` | web |`,
      ),
    );
    const branchFiles = github.git.filesOf('slipway/images/staging');
    assert.equal(
      branchFiles?.get('clusters/staging/deploy.yaml'),
      files('1.0.0')['clusters/staging/deploy.yaml']?.replace('web:1.0.0 #', 'web:1.2.0 #'),
    );
    assert.equal(branchFiles?.get('slipway.yaml'), files('1.0.0')['slipway.yaml'], 'other files as on main');
    const head = github.git.commits.get(github.git.refs.get('heads/slipway/images/staging') ?? '');
    assert.deepEqual(head?.parents, [first.baseSha]);

    // The same run again: nothing new to push, the same pull request.
    await runAt('1.0.0');
    assert.equal(github.git.pulls.length, 1);
    assert.equal(pull.heads.length, 1, 'an unchanged branch is not pushed again');

    // A newer tag: the branch moves, the pull request is updated, not duplicated.
    digests.set('1.3.0', await pushImage(registry.host, 'team/web', '1.3.0'));
    await runAt('1.0.0');
    assert.equal(github.git.pulls.length, 1);
    assert.equal(pull.heads.length, 2);
    assert.match(pull.title, /web 1\.3\.0$/);
    assert.ok(pull.body?.includes(digests.get('1.3.0') ?? 'missing'));
    assert.ok(
      github.git
        .filesOf('slipway/images/staging')
        ?.get('clusters/staging/deploy.yaml')
        ?.includes('web:1.3.0 # the web tier'),
    );
    assert.deepEqual(github.takeViolations(), []);
  });

  test('closes the pull request and deletes the branch once main has the tags', async () => {
    await runAt('1.3.0');
    const [pull] = github.git.pulls;
    assert.ok(pull);
    assert.equal(pull.state, 'closed');
    assert.equal(github.git.refs.has('heads/slipway/images/staging'), false);
    assert.match(github.commentsOn(pull.number).at(-1)?.body ?? '', /No image updates left/);
    assert.deepEqual(github.takeViolations(), []);
  });
});
