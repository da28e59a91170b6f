// The GitLab adapter against a fake that checks every request against GitLab's published
// OpenAPI description (test/fakes/gitlab-openapi/): notes, statuses, deployments, issues, errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { gitlabMode, readGitLabContext } from '../../src/gitlab/context.ts';
import { GitLabPlatform, statusDescription } from '../../src/gitlab/platform.ts';
import { startGitLabServer, type FakeGitLab } from '../fakes/gitlab-server.ts';

const TOKEN = 'glpat-unitTokenValue-7d1f';
const MARKER = '<!-- slipway:plan -->';
const SHA = 'a'.repeat(40);

let gitlab: FakeGitLab;

before(async () => {
  gitlab = await startGitLabServer({ token: TOKEN, mergeRequests: [1, 2, 3, 4, 5] });
});

after(async () => {
  await gitlab.close();
});

function platform(overrides: Partial<ConstructorParameters<typeof GitLabPlatform>[0]> = {}): GitLabPlatform {
  return new GitLabPlatform({
    token: TOKEN,
    apiUrl: gitlab.apiUrl,
    projectId: String(gitlab.projectId),
    projectUrl: 'https://gitlab.example.com/acme/deploys',
    targetUrl: 'https://gitlab.example.com/acme/deploys/-/jobs/9',
    retry: { sleep: () => Promise.resolve() },
    ...overrides,
  });
}

describe('GitLab context', () => {
  const base = {
    GITLAB_CI: 'true',
    CI_API_V4_URL: 'https://gitlab.example.com/api/v4/',
    CI_PROJECT_ID: '42',
    CI_COMMIT_SHA: SHA,
    CI_DEFAULT_BRANCH: 'main',
    CI_PIPELINE_URL: 'https://gitlab.example.com/acme/deploys/-/pipelines/7',
  };

  test('each pipeline source means one mode', () => {
    const mode = (env: Record<string, string>) => gitlabMode(readGitLabContext({ ...base, ...env }));
    assert.equal(mode({ CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '3' }), 'plan');
    assert.equal(mode({ CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'main' }), 'apply');
    assert.equal(mode({ CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'feature' }), 'skip');
    assert.equal(mode({ CI_PIPELINE_SOURCE: 'web', CI_COMMIT_BRANCH: 'main' }), 'resync');
    assert.equal(mode({ CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main' }), 'drift');
    assert.equal(mode({ CI_PIPELINE_SOURCE: 'trigger' }), 'skip');
  });

  test('a merge request compares with its diff base; a push with the previous commit', () => {
    const mr = readGitLabContext({
      ...base,
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_MERGE_REQUEST_IID: '3',
      CI_MERGE_REQUEST_DIFF_BASE_SHA: 'b'.repeat(40),
      CI_JOB_URL: 'https://gitlab.example.com/acme/deploys/-/jobs/9',
    });
    assert.equal(mr.mergeRequestIid, 3);
    assert.equal(mr.base, 'b'.repeat(40));
    assert.equal(mr.head, SHA);
    assert.equal(mr.apiUrl, 'https://gitlab.example.com/api/v4');
    assert.equal(mr.runUrl, 'https://gitlab.example.com/acme/deploys/-/jobs/9');
    const push = readGitLabContext({
      ...base,
      CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_BEFORE_SHA: '0'.repeat(40),
    });
    assert.equal(push.base, undefined, 'a new branch has no previous commit: everything counts as changed');
    assert.equal(push.runUrl, base.CI_PIPELINE_URL);
    const fork = readGitLabContext({
      ...base,
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_MERGE_REQUEST_IID: '3',
      CI_MERGE_REQUEST_PROJECT_ID: '42',
      CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '99',
    });
    assert.equal(fork.fromFork, true);
  });

  test('outside GitLab CI it names the missing variable', () => {
    assert.throws(() => readGitLabContext({}), /CI_COMMIT_SHA is not set/);
  });
});

describe('GitLabPlatform notes', () => {
  test('one sticky note: created, found again through every page, updated in place, extras deleted', async () => {
    // 130 notes by someone else first, so ours is on the second page of 100.
    gitlab.seedNotes(
      1,
      Array.from({ length: 130 }, (_, i) => `comment ${i}`),
    );
    gitlab.seedNotes(1, [`${MARKER}\na human quoting our marker`]);
    const gl = platform();
    const first = await gl.upsertComments(1, MARKER, [`${MARKER}\nplan one`]);
    assert.match(first.urls[0] ?? '', /merge_requests\/1#note_\d+$/);
    const ours = gitlab.notesOn(1).filter((n) => n.authorId === gitlab.bot.id);
    assert.equal(ours.length, 1);
    assert.deepEqual(await gl.readComments(1, MARKER), [`${MARKER}\nplan one`]);

    await gl.upsertComments(1, MARKER, [`${MARKER}\nplan two`, `${MARKER}\n_(continued)_`]);
    await gl.upsertComments(1, MARKER, [`${MARKER}\nplan three`]);
    const after = gitlab.notesOn(1).filter((n) => n.authorId === gitlab.bot.id);
    assert.equal(after.length, 1);
    assert.equal(after[0]!.id, ours[0]!.id, 'the same note, updated in place');
    assert.equal(after[0]!.body, `${MARKER}\nplan three`);
    assert.ok(
      gitlab.notesOn(1).some((n) => n.body.includes('a human quoting')),
      "someone else's note is kept",
    );

    const puts = gitlab.requests.filter(
      (r) => r.method === 'PUT' && r.path.includes('/merge_requests/1/notes/'),
    );
    const before = puts.length;
    await gl.upsertComments(1, MARKER, [`${MARKER}\nplan three`]);
    assert.equal(
      gitlab.requests.filter((r) => r.method === 'PUT' && r.path.includes('/merge_requests/1/notes/')).length,
      before,
      'an unchanged note is not rewritten',
    );
    assert.deepEqual(gitlab.takeViolations(), []);
  });

  test('a note over 1,000,000 characters is refused before it is sent', async () => {
    await assert.rejects(
      platform().upsertComments(2, MARKER, [`${MARKER}\n${'x'.repeat(1_000_001)}`]),
      /exceeds GitLab's limit of 1000000/,
    );
    assert.equal(gitlab.notesOn(2).length, 0);
  });

  test('the fake refuses what GitLab refuses: a body over the limit, another author’s note', async () => {
    const response = await fetch(`${gitlab.apiUrl}/projects/42/merge_requests/2/notes`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ body: 'y'.repeat(1_000_001) }),
    });
    assert.equal(response.status, 400);
    assert.deepEqual(
      gitlab.takeViolations().map((v) => v.kind),
      ['limit'],
    );
    const unknownField = await fetch(`${gitlab.apiUrl}/projects/42/merge_requests/2/notes?colour=red`, {
      headers: { 'PRIVATE-TOKEN': TOKEN },
    });
    assert.equal(unknownField.status, 400);
    assert.match(JSON.stringify(gitlab.takeViolations()), /query parameter colour is not known/);
  });
});

describe('GitLabPlatform errors and retries', () => {
  test('429 and 5xx are retried a bounded number of times, then reported without the token', async () => {
    const sleeps: number[] = [];
    const gl = platform({
      retry: { attempts: 3, baseDelayMs: 10, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) },
    });
    gitlab.failNext({ status: 502, times: 2, operationId: 'postApiV4ProjectsIdStatusesSha' });
    await gl.setCommitStatus(SHA, 'slipway/retry', 'success', 'ok');
    assert.deepEqual(sleeps, [10, 20]);
    assert.equal(gitlab.state.statuses.at(-1)?.name, 'slipway/retry');

    gitlab.failNext({ status: 429, times: 5, operationId: 'postApiV4ProjectsIdStatusesSha', retryAfter: 1 });
    const error = await gl.setCommitStatus(SHA, 'slipway/busy', 'success', 'ok').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof UserError);
    assert.match(
      error.message,
      /GitLab is unavailable: could not set the commit status "slipway\/busy" after retrying \(429/,
    );
    assert.ok(!JSON.stringify(error).includes(TOKEN) && !error.message.includes(TOKEN));
    gitlab.takeViolations();
  });

  test('a rejected token says which variable, and that CI_JOB_TOKEN cannot post notes', async () => {
    const gl = platform({ token: 'glpat-wrong-token-value' });
    await assert.rejects(gl.readComments(1, MARKER), (error: unknown) => {
      assert.ok(error instanceof UserError);
      const text = `${error.message} ${error.hint ?? ''}`;
      assert.match(text, /GitLab rejected the token in SLIPWAY_GITLAB_TOKEN/);
      assert.match(text, /CI_JOB_TOKEN cannot be used/);
      assert.ok(!text.includes('glpat-wrong-token-value'));
      return true;
    });
    const jobToken = platform({ token: gitlab.jobToken });
    await assert.rejects(jobToken.upsertComments(1, MARKER, [`${MARKER}\nx`]), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.hint ?? '', /CI_JOB_TOKEN cannot be used/);
      return true;
    });
    assert.deepEqual(
      gitlab.takeViolations().map((v) => v.kind),
      ['auth'],
    );
  });

  test('an unreachable API is reported with the URL, after retrying', async () => {
    const gl = new GitLabPlatform({
      token: TOKEN,
      apiUrl: 'http://127.0.0.1:9/api/v4',
      projectId: '42',
      retry: { attempts: 2, sleep: () => Promise.resolve() },
    });
    await assert.rejects(
      gl.readComments(1, MARKER),
      /could not reach GitLab at http:\/\/127\.0\.0\.1:9\/api\/v4/,
    );
  });
});

describe('GitLabPlatform statuses, deployments, issues', () => {
  test('a check becomes a commit status with the findings summarised', async () => {
    await platform({ pipelineId: 900, ref: 'feature' }).reportCheck({
      name: 'slipway / beta',
      headSha: SHA,
      conclusion: 'failure',
      title: 'plan failed',
      summary: '…',
      annotations: [
        { location: { file: 'beta/cm.yaml', line: 4 }, level: 'failure', message: 'name "X" is invalid' },
        { location: { file: 'beta/cm.yaml', line: 9 }, level: 'warning', message: 'other' },
      ],
    });
    const status = gitlab.state.statuses.at(-1)!;
    assert.equal(status.state, 'failed');
    assert.equal(status.name, 'slipway / beta');
    assert.equal(status.pipelineId, 900);
    assert.equal(status.description, 'plan failed — 2 findings: beta/cm.yaml:4 name "X" is invalid …');
    assert.equal(status.targetUrl, 'https://gitlab.example.com/acme/deploys/-/jobs/9');
    const long = statusDescription({
      name: 'x',
      headSha: SHA,
      conclusion: 'failure',
      title: 't',
      summary: '',
      annotations: [{ location: { file: 'f', line: 1 }, level: 'failure', message: 'm'.repeat(400) }],
    });
    assert.equal(Array.from(long).length, 255);
  });

  test('setting a running status to running again is not an error (GitLab answers 400 there)', async () => {
    const gl = platform();
    await gl.setCommitStatus(SHA, 'slipway/live', 'pending', 'queued');
    await gl.setCommitStatus(SHA, 'slipway/live', 'pending', 'queued');
    assert.equal(gitlab.state.statuses.filter((s) => s.name === 'slipway/live').length, 1);
    assert.deepEqual(gitlab.takeViolations(), []);
  });

  test('deployments: a no-op when the job’s environment: keyword records them, else the API', async () => {
    const record = { environment: 'beta', sha: SHA, ref: 'main', description: 'x' };
    assert.equal(await platform().createDeployment(record), '');
    await platform().setDeploymentState('', 'success', 'ok');
    assert.equal(gitlab.state.deployments.length, 0);
    const gl = platform({ recordDeployments: true });
    const id = await gl.createDeployment(record);
    await gl.setDeploymentState(id, 'success', 'deployed');
    assert.deepEqual(gitlab.state.deployments[0]?.statuses, ['running', 'success']);
    assert.deepEqual(gitlab.takeViolations(), []);
  });

  test('one drift issue per marker: opened, updated, closed with a note', async () => {
    const gl = platform();
    const marker = '<!-- slipway:drift:beta -->';
    const url = await gl.syncIssue(marker, 'Drift in beta', 'Deployment web drifted');
    assert.match(url ?? '', /\/-\/issues\/1$/);
    assert.equal(await gl.syncIssue(marker, 'Drift in beta', 'Deployment web drifted again'), url);
    assert.equal(gitlab.state.issues.length, 1);
    assert.match(gitlab.state.issues[0]?.description ?? '', /drifted again/);
    assert.deepEqual(gitlab.state.issues[0]?.labels, ['slipway-drift']);
    assert.equal(await gl.syncIssue(marker, 'Drift in beta', undefined), undefined);
    assert.equal(gitlab.state.issues[0].state, 'closed');
    assert.ok(gitlab.state.notes.some((n) => n.noteableType === 'Issue' && /no longer finds/.test(n.body)));
    assert.deepEqual(gitlab.takeViolations(), []);
  });
});
