// `slipway ci --mode images` in a scheduled GitLab pipeline: a real registry holds the tags, the
// GitLab fake (requests checked against its OpenAPI description) receives branch and merge request.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GitLabImageMergeRequests } from '../../src/gitlab/image-mrs.ts';
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

/** A checkout of main holding `content` (the same commit as the last when nothing changed). */
function checkout(content: Record<string, string>): { dir: string; sha: string } {
  const s = scratch('slipway-images-gitlab-checkout-');
  scratches.push(s);
  for (const [relative, text] of Object.entries(content)) {
    mkdirSync(path.dirname(path.join(s.dir, relative)), { recursive: true });
    writeFileSync(path.join(s.dir, relative), text);
  }
  const current = gitlab.git.branches.get('main');
  const same =
    JSON.stringify([...(gitlab.git.filesOf('main') ?? [])]) === JSON.stringify(Object.entries(content));
  return {
    dir: s.dir,
    sha: current !== undefined && same ? current : gitlab.git.seedBranch('main', content),
  };
}

/** The images job of a scheduled pipeline at `sha`, the repository in the subfolder ops/. */
function imagesJob(dir: string, sha: string, env?: string) {
  return runSlipway(
    ['ci', '--mode', 'images', ...(env === undefined ? [] : ['--env', env]), '--repo', path.join(dir, 'ops')],
    {
      cwd: dir,
      env: {
        PATH: process.env['PATH'],
        GITLAB_CI: 'true',
        CI_API_V4_URL: gitlab.apiUrl,
        CI_PROJECT_ID: String(gitlab.projectId),
        CI_PIPELINE_SOURCE: 'schedule',
        CI_COMMIT_SHA: sha,
        CI_COMMIT_BRANCH: 'main',
        CI_DEFAULT_BRANCH: 'main',
        CI_PROJECT_DIR: dir,
        SLIPWAY_GITLAB_TOKEN: gitlab.token,
      },
    },
  );
}

/** A scheduled pipeline on `main` at `tag`. */
function pipelineAt(tag: string) {
  const { dir, sha } = checkout(files(tag));
  return imagesJob(dir, sha);
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

/** Two environments on team/api at `tag`, `image-pull-requests: <mode>`, the repository in ops/. */
function apiFiles(mode: 'per-environment' | 'grouped', tag: string): Record<string, string> {
  return {
    'ops/slipway.yaml': `image-pull-requests: ${mode} # or one each\nenvironments:\n  staging:\n    path: clusters/staging\n  production:\n    path: clusters/production\nimage-policies:\n  api:\n    image: ${registry.host}/team/api\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
    'ops/clusters/staging/api.yaml': `# api\nimage: ${registry.host}/team/api:${tag} # staging\n`,
    'ops/clusters/production/values.yaml': `api:\n  image:\n    repository: ${registry.host}/team/api\n    tag: "${tag}"   # production\n`,
  };
}

/**
 * A scheduled pipeline on a new commit of main holding `content`: the component's jobs, one per
 * include (`--env staging`, then `--env production`), one after the other (one resource group).
 */
async function scheduledPipeline(content: Record<string, string>) {
  const { dir, sha } = checkout(content);
  for (const env of ['staging', 'production']) {
    const job = await imagesJob(dir, sha, env);
    assert.equal(job.code, 0, job.stderr);
  }
}

const opened = (branch: string) =>
  gitlab.git.mergeRequests.filter((mr) => mr.sourceBranch === branch && mr.state === 'opened');

describe('image-pull-requests: grouped on GitLab', () => {
  test('one merge request for every environment, kept by each include’s job; switching modes closes the other', async () => {
    for (const tag of ['1.0.0', '1.1.0']) await pushImage(registry.host, 'team/api', tag);

    await scheduledPipeline(apiFiles('per-environment', '1.0.0'));
    const [staging] = opened('slipway/images/staging');
    const [production] = opened('slipway/images/production');
    assert.ok(staging && production);

    // Both jobs keep the one grouped merge request: the second finds it as the first left it.
    const count = gitlab.git.mergeRequests.length;
    const main = apiFiles('grouped', '1.0.0');
    await scheduledPipeline(main);
    assert.equal(gitlab.git.mergeRequests.length, count + 1, 'exactly one new merge request');
    const [all] = opened('slipway/images/all');
    assert.ok(all);
    assert.equal(all.heads.length, 1, 'the second job pushed nothing');
    const expected = new Map(Object.entries(main));
    expected.set(
      'ops/clusters/staging/api.yaml',
      main['ops/clusters/staging/api.yaml']!.replace(':1.0.0 #', ':1.1.0 #'),
    );
    expected.set(
      'ops/clusters/production/values.yaml',
      main['ops/clusters/production/values.yaml']!.replace('"1.0.0"', '"1.1.0"'),
    );
    assert.deepEqual(gitlab.git.filesOf('slipway/images/all'), expected);
    assert.match(
      all.description ?? '',
      /### staging\n\n[^#]*`clusters\/staging\/api\.yaml:2`[^\n]*`1\.0\.0` \| `1\.1\.0` \| `sha256:[a-f0-9]{64}` \| api \|/,
    );
    assert.match(
      all.description ?? '',
      /### production\n\n[^#]*`clusters\/production\/values\.yaml:4`[^\n]*`1\.0\.0` \| `1\.1\.0` \| `sha256:[a-f0-9]{64}` \| api \|/,
    );
    for (const old of [staging, production]) {
      assert.equal(old.state, 'closed');
      assert.equal(gitlab.git.branches.has(old.sourceBranch), false);
      const why = gitlab.notesOn(old.iid).at(-1)?.body ?? '';
      assert.match(why, /image-pull-requests: grouped/);
      assert.ok(why.includes(`/-/merge_requests/${all.iid}`), why);
    }

    // A newer tag updates the same merge request.
    await pushImage(registry.host, 'team/api', '1.2.0');
    await scheduledPipeline(main);
    assert.equal(gitlab.git.mergeRequests.length, count + 1, 'no second merge request');
    assert.equal(all.heads.length, 2);
    assert.match(all.title, /^Update images in staging, production: api 1\.2\.0$/);
    assert.ok(
      gitlab.git
        .filesOf('slipway/images/all')
        ?.get('ops/clusters/production/values.yaml')
        ?.includes('tag: "1.2.0"   # production'),
    );

    // Per environment again: the grouped one is closed, pointing at the new ones.
    await scheduledPipeline(apiFiles('per-environment', '1.0.0'));
    assert.equal(all.state, 'closed');
    assert.equal(gitlab.git.branches.has('slipway/images/all'), false);
    const [staging2] = opened('slipway/images/staging');
    const [production2] = opened('slipway/images/production');
    assert.ok(staging2 && production2);
    assert.match(gitlab.notesOn(all.iid).at(-1)?.body ?? '', /image-pull-requests: per-environment/);

    // Grouped again, then main catches up: nothing is left open.
    await scheduledPipeline(apiFiles('grouped', '1.0.0'));
    const [all2] = opened('slipway/images/all');
    assert.ok(all2);
    assert.equal(staging2.state, 'closed');
    assert.equal(production2.state, 'closed');
    await scheduledPipeline(apiFiles('grouped', '1.2.0'));
    assert.equal(all2.state, 'closed');
    assert.match(gitlab.notesOn(all2.iid).at(-1)?.body ?? '', /No image updates left for any environment/);
    assert.deepEqual(
      gitlab.git.mergeRequests.filter(
        (mr) => mr.sourceBranch !== 'slipway/images/beta' && mr.state === 'opened',
      ),
      [],
    );
    assert.deepEqual(gitlab.takeViolations(), []);
  });
});

describe('the image merge requests retry as the review platform does', () => {
  const proposal = (branch: string, sha: string) => ({
    branch,
    base: 'main',
    baseSha: sha,
    title: 'Update images in retry: web 1.2.0',
    body: 'body',
    message: 'Update images in retry\n',
    files: new Map([['clusters/retry/app.yaml', 'image: web:1.2.0\n']]),
  });
  /** main seeded, and the job's forge with `attempts` and recorded (not waited) backoffs. */
  const retrying = (attempts: number) => {
    const sha = gitlab.git.seedBranch('main', { 'clusters/retry/app.yaml': 'image: web:1.0.0\n' });
    const sleeps: number[] = [];
    const platform = new GitLabImageMergeRequests({
      token: gitlab.token,
      apiUrl: gitlab.apiUrl,
      projectId: String(gitlab.projectId),
      retry: { attempts, baseDelayMs: 10, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) },
    });
    return { sha, sleeps, platform };
  };

  test('429 and 5xx are retried with backoff or the server’s retry-after, then the request succeeds', async () => {
    const { sha, sleeps, platform } = retrying(3);
    gitlab.failNext({ status: 503, times: 2, operationId: 'getApiV4ProjectsIdRepositoryBranchesBranch' });
    gitlab.failNext({ status: 429, operationId: 'postApiV4ProjectsIdRepositoryCommits', retryAfter: 2 });
    const result = await platform.propose(proposal('slipway/images/retry', sha));
    assert.deepEqual(sleeps, [10, 20, 2000]);
    assert.equal(result.created, true);
    assert.equal(
      gitlab.git.filesOf('slipway/images/retry')?.get('clusters/retry/app.yaml'),
      'image: web:1.2.0\n',
    );
    assert.equal(opened('slipway/images/retry').length, 1);
  });

  test('an answer that stays 5xx is an error naming the step, after the attempts; a 4xx is not retried', async () => {
    const { sha, sleeps, platform } = retrying(2);
    gitlab.failNext({ status: 502, times: 2, operationId: 'getApiV4ProjectsIdRepositoryBranchesBranch' });
    await assert.rejects(platform.propose(proposal('slipway/images/down', sha)), (error: Error) => {
      assert.equal(error.message, 'GitLab answered 502 while trying to read branch slipway/images/down');
      return true;
    });
    assert.deepEqual(sleeps, [10]);
    gitlab.failNext({ status: 403, operationId: 'postApiV4ProjectsIdRepositoryCommits' });
    await assert.rejects(
      platform.propose(proposal('slipway/images/down', sha)),
      /GitLab answered 403 while trying to push branch slipway\/images\/down/,
    );
    assert.deepEqual(sleeps, [10], 'a 403 is not retried');
    assert.equal(gitlab.git.branches.has('slipway/images/down'), false);
  });
});
