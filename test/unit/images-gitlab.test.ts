// `slipway ci --mode images` in a scheduled GitLab pipeline: a real registry holds the tags, the
// GitLab fake (requests checked against its OpenAPI description) receives branch and merge request.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startGitLabServer, type FakeGitLab } from '../fakes/gitlab-server.ts';
import { pushImage } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import { runSlipway, scratch, type Scratch } from './support.ts';

let registry: LocalRegistry;
let gitlab: FakeGitLab;
const scratches: Scratch[] = [];

before(async () => {
  const s = scratch('slipway-images-gitlab-');
  scratches.push(s);
  registry = await startRegistry(s.dir);
  for (const tag of ['1.0.0', '1.2.0']) await pushImage(registry.host, 'team/web', tag);
  gitlab = await startGitLabServer({ mergeRequests: [] });
});

after(async () => {
  await gitlab.close();
  registry.stop();
  for (const s of scratches) s.cleanup();
});

function files(tag: string): Record<string, string> {
  return {
    'ops/slipway.yaml': `environments:\n  beta:\n    path: clusters/beta\nimage-policies:\n  web:\n    image: ${registry.host}/team/web\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
    'ops/clusters/beta/app.yaml': `# web\nimage: ${registry.host}/team/web:${tag} # keep\n`,
  };
}

/** A scheduled pipeline on `main` at `tag`, the repository in the subfolder ops/. */
async function pipelineAt(tag: string) {
  const s = scratch('slipway-images-gitlab-checkout-');
  scratches.push(s);
  const content = files(tag);
  for (const [relative, text] of Object.entries(content)) {
    mkdirSync(path.dirname(path.join(s.dir, relative)), { recursive: true });
    writeFileSync(path.join(s.dir, relative), text);
  }
  const current = gitlab.git.branches.get('main');
  const same =
    JSON.stringify([...(gitlab.git.filesOf('main') ?? [])]) === JSON.stringify(Object.entries(content));
  const sha = current !== undefined && same ? current : gitlab.git.seedBranch('main', content);
  return runSlipway(['ci', '--mode', 'images', '--repo', path.join(s.dir, 'ops')], {
    cwd: s.dir,
    env: {
      PATH: process.env['PATH'],
      GITLAB_CI: 'true',
      CI_API_V4_URL: gitlab.apiUrl,
      CI_PROJECT_ID: String(gitlab.projectId),
      CI_PIPELINE_SOURCE: 'schedule',
      CI_COMMIT_SHA: sha,
      CI_COMMIT_BRANCH: 'main',
      CI_DEFAULT_BRANCH: 'main',
      CI_PROJECT_DIR: s.dir,
      SLIPWAY_GITLAB_TOKEN: gitlab.token,
    },
  });
}

describe('slipway ci --mode images against the GitLab fake', () => {
  test('opens one merge request, leaves it alone when nothing changed, updates it, closes it', async () => {
    const first = await pipelineAt('1.0.0');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(gitlab.git.mergeRequests.length, 1);
    const [mr] = gitlab.git.mergeRequests;
    assert.ok(mr);
    assert.equal(mr.sourceBranch, 'slipway/images/beta');
    assert.equal(mr.targetBranch, 'main');
    assert.match(mr.description ?? '', /`1\.0\.0` \| `1\.2\.0` \| `sha256:[a-f0-9]{64}`/);
    assert.equal(
      gitlab.git.filesOf('slipway/images/beta')?.get('ops/clusters/beta/app.yaml'),
      files('1.0.0')['ops/clusters/beta/app.yaml']?.replace('web:1.0.0', 'web:1.2.0'),
    );

    const again = await pipelineAt('1.0.0');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(gitlab.git.mergeRequests.length, 1);
    assert.equal(mr.heads.length, 1, 'an unchanged proposal is not pushed again');

    await pushImage(registry.host, 'team/web', '1.3.0');
    const newer = await pipelineAt('1.0.0');
    assert.equal(newer.code, 0, newer.stderr);
    assert.equal(gitlab.git.mergeRequests.length, 1);
    assert.equal(mr.heads.length, 2);
    assert.match(mr.title, /web 1\.3\.0$/);

    const merged = await pipelineAt('1.3.0');
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(mr.state, 'closed');
    assert.equal(gitlab.git.branches.has('slipway/images/beta'), false);
    assert.match(gitlab.notesOn(mr.iid).at(-1)?.body ?? '', /No image updates left/);
    assert.deepEqual(gitlab.takeViolations(), []);
  });
});
