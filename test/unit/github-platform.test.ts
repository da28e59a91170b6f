import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { InternalError, UserError } from '../../src/core/errors.ts';
import { publishPlanReport } from '../../src/core/job/ci.ts';
import type { Annotation } from '../../src/core/platform.ts';
import type { Plan, PlannedObject } from '../../src/core/plan/plan.ts';
import type { GitHistory } from '../../src/core/ports.ts';
import { SecretMasker } from '../../src/core/secrets.ts';
import { GitHubPlatform, type GitHubPlatformOptions } from '../../src/github/platform.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { RecordingLogger } from './support.ts';

const PR = 7;
const MARKER = '<!-- slipway:plan:beta -->';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const BOT = 'github-actions[bot]';

let server: FakeGitHub;
let slept: number[];

beforeEach(async () => {
  server = await startGitHubServer({ pullRequests: [PR] });
  slept = [];
});

afterEach(async () => {
  const violations = server.takeViolations();
  await server.close();
  assert.deepEqual(violations, [], 'requests must conform to the OpenAPI description and GitHub limits');
});

function platform(overrides: Partial<GitHubPlatformOptions> = {}): GitHubPlatform {
  return new GitHubPlatform({
    token: server.token,
    apiUrl: server.url,
    owner: server.owner,
    repo: server.repo,
    retry: {
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    },
    ...overrides,
  });
}

/** A request straight to the fake, bypassing the platform. */
async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `token ${server.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const textBody = await response.text();
  return { status: response.status, json: textBody ? (JSON.parse(textBody) as Record<string, unknown>) : {} };
}

function requestsOf(operationId: string): typeof server.requests {
  return server.requests.filter((r) => r.operationId === operationId);
}

function ourComments(): { id: number; body: string }[] {
  return server.commentsOn(PR).filter((c) => c.login === BOT && c.body.includes(MARKER));
}

describe('sticky comments', () => {
  test('are created once, then updated in place', async () => {
    const github = platform();
    const first = await github.upsertComments(PR, MARKER, [`${MARKER}\nplan v1`]);
    const created = ourComments();
    assert.equal(created.length, 1);

    const second = await github.upsertComments(PR, MARKER, [`${MARKER}\nplan v2`]);
    const updated = ourComments();
    assert.equal(updated.length, 1);
    assert.equal(updated[0]?.id, created[0]?.id);
    assert.equal(updated[0]?.body, `${MARKER}\nplan v2`);
    assert.deepEqual(second.urls, first.urls);
    assert.match(first.urls[0] ?? '', /^https:\/\/github\.com\/acme\/deploys\/pull\/7#issuecomment-\d+$/);
    assert.equal(requestsOf('issues/create-comment').length, 1);
    assert.equal(requestsOf('issues/update-comment').length, 1);
  });

  test('are not patched when unchanged, and get the marker when the body lacks it', async () => {
    const github = platform();
    await github.upsertComments(PR, MARKER, ['same plan']);
    await github.upsertComments(PR, MARKER, ['same plan']);
    assert.deepEqual(
      ourComments().map((c) => c.body),
      [`${MARKER}\nsame plan`],
    );
    assert.equal(requestsOf('issues/create-comment').length, 1);
    assert.equal(requestsOf('issues/update-comment').length, 0);
  });

  test('are found on page 3 of 250 comments, ignoring marked comments by someone else', async () => {
    server.seedComments(PR, [`${MARKER}\nan impostor quoting the marker`], 'mallory');
    server.seedComments(
      PR,
      Array.from({ length: 208 }, (_, i) => `chatter ${i}`),
    );
    const [mine] = server.seedComments(PR, [`${MARKER}\nold plan`], BOT);
    server.seedComments(
      PR,
      Array.from({ length: 40 }, (_, i) => `more chatter ${i}`),
    );
    assert.equal(server.commentsOn(PR).length, 250);

    await platform().upsertComments(PR, MARKER, [`${MARKER}\nnew plan`]);

    const lists = requestsOf('issues/list-comments');
    assert.deepEqual(
      lists.map((r) => new URL(r.path, server.url).searchParams.get('page') ?? '1'),
      ['1', '2', '3'],
    );
    assert.ok(lists.every((r) => new URL(r.path, server.url).searchParams.get('per_page') === '100'));
    assert.equal(requestsOf('issues/create-comment').length, 0);
    assert.equal(
      requestsOf('issues/update-comment')[0]?.path,
      `/repos/acme/deploys/issues/comments/${mine?.id}`,
    );
    assert.equal(server.commentsOn(PR).length, 250);
    assert.equal(server.commentsOn(PR)[0]?.body, `${MARKER}\nan impostor quoting the marker`);
  });

  test('extras are deleted when fewer bodies are given', async () => {
    const github = platform();
    await github.upsertComments(PR, MARKER, ['part 1', 'part 2', 'part 3']);
    assert.equal(ourComments().length, 3);
    const [kept] = ourComments();

    const { urls } = await github.upsertComments(PR, MARKER, ['only part']);
    assert.equal(urls.length, 1);
    assert.deepEqual(
      ourComments().map((c) => [c.id, c.body]),
      [[kept?.id, `${MARKER}\nonly part`]],
    );
    assert.equal(requestsOf('issues/delete-comment').length, 2);
  });

  test('a body over the limit is refused before anything is sent', async () => {
    const github = platform();
    await assert.rejects(
      github.upsertComments(PR, MARKER, [`${MARKER}${'x'.repeat(github.commentLimit)}`]),
      InternalError,
    );
    assert.equal(requestsOf('issues/create-comment').length, 0);
  });
});

describe('the fake enforces GitHub', () => {
  test('comment bodies over 65536 characters: 422 "Body is too long"', async () => {
    const atLimit = await api('POST', `/repos/acme/deploys/issues/${PR}/comments`, {
      body: 'x'.repeat(65536),
    });
    assert.equal(atLimit.status, 201);
    const over = await api('POST', `/repos/acme/deploys/issues/${PR}/comments`, { body: 'x'.repeat(65537) });
    assert.equal(over.status, 422);
    assert.match(JSON.stringify(over.json), /Body is too long/);
    const violations = server.takeViolations();
    assert.equal(violations.length, 1);
    assert.equal(violations[0]?.kind, 'limit');
    assert.equal(server.commentsOn(PR).length, 1);
  });

  test('request bodies, parameters and paths against the OpenAPI description', async () => {
    const badConclusion = await api('POST', '/repos/acme/deploys/check-runs', {
      name: 'slipway',
      head_sha: SHA,
      status: 'completed',
      conclusion: 'passed',
      output: { title: 't', summary: 's' },
    });
    assert.equal(badConclusion.status, 422);
    const missingHead = await api('POST', '/repos/acme/deploys/check-runs', { name: 'slipway' });
    assert.equal(missingHead.status, 422);
    const tooMany = await api('POST', '/repos/acme/deploys/check-runs', {
      name: 'slipway',
      head_sha: SHA,
      output: {
        title: 't',
        summary: 's',
        annotations: Array.from({ length: 51 }, () => ({
          path: 'a.yaml',
          start_line: 1,
          end_line: 1,
          annotation_level: 'notice',
          message: 'm',
        })),
      },
    });
    assert.equal(tooMany.status, 422);
    const unknownQuery = await api('GET', `/repos/acme/deploys/issues/${PR}/comments?perpage=100`);
    assert.equal(unknownQuery.status, 422);
    const badPathParam = await api('PATCH', '/repos/acme/deploys/issues/comments/abc', { body: 'x' });
    assert.equal(badPathParam.status, 422);
    const unknownPath = await api('POST', '/repos/acme/deploys/sticky-comments', {});
    assert.equal(unknownPath.status, 404);

    const reasons = server.takeViolations().map((v) => v.reasons.join(' '));
    assert.equal(reasons.length, 6);
    assert.match(reasons[0] ?? '', /body\.conclusion: "passed" is not one of/);
    assert.match(reasons[1] ?? '', /required property head_sha is missing/);
    assert.match(reasons[2] ?? '', /body\.output\.annotations: 51 items, more than maxItems 50/);
    assert.match(reasons[3] ?? '', /query parameter perpage is not known/);
    assert.match(reasons[4] ?? '', /path parameter comment_id: "abc" is not a number/);
    assert.match(reasons[5] ?? '', /no path template/);
    assert.equal(server.state.checkRuns.length, 0);
  });

  test('the token', async () => {
    const response = await fetch(`${server.url}/repos/acme/deploys/issues/${PR}/comments`, {
      headers: { authorization: 'token wrong' },
    });
    assert.equal(response.status, 401);
    const bearer = await fetch(`${server.url}/repos/acme/deploys/issues/${PR}/comments`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    assert.equal(bearer.status, 200);
  });
});

describe('check runs', () => {
  test('carry all 120 annotations, 50 per request', async () => {
    const annotations: Annotation[] = Array.from({ length: 120 }, (_, i) => ({
      location: { file: `apps/app-${i}.yaml`, line: i },
      level: i % 2 === 0 ? 'failure' : 'warning',
      message: `problem ${i}`,
      ...(i === 3 ? { title: 'Invalid manifest' } : {}),
    }));
    await platform().reportCheck({
      name: 'slipway / beta',
      headSha: SHA,
      conclusion: 'failure',
      title: '2 changes, 120 problems',
      summary: '## Plan',
      text: 'details',
      annotations,
    });

    assert.equal(server.state.checkRuns.length, 1);
    const run = server.state.checkRuns[0];
    assert.ok(run);
    assert.equal(run.status, 'completed');
    assert.equal(run.conclusion, 'failure');
    assert.equal(run.title, '2 changes, 120 problems');
    assert.equal(run.text, 'details');
    assert.equal(run.annotations.length, 120);
    assert.deepEqual(run.annotations[0], {
      path: 'apps/app-0.yaml',
      start_line: 1,
      end_line: 1,
      annotation_level: 'failure',
      message: 'problem 0',
    });
    assert.equal(run.annotations[3]?.title, 'Invalid manifest');
    assert.equal(run.annotations[119]?.start_line, 119);
    const writes = [...requestsOf('checks/create'), ...requestsOf('checks/update')];
    assert.deepEqual(
      writes.map((r) => (r.body as { output: { annotations: unknown[] } }).output.annotations.length),
      [50, 50, 20],
    );
  });

  test("a plan's 60 updates reach the check run as notices on their source lines, 50 per request", async () => {
    const objects: PlannedObject[] = Array.from({ length: 60 }, (_, i) => ({
      ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: `settings-${i}` },
      action: 'update',
      diff: '(diff)',
      source: { file: `overlay/patch-${i}.yaml`, line: 7, via: 'kustomize' },
      changes: [
        { field: 'data.colour', location: { file: `overlay/patch-${i}.yaml`, line: 7, via: 'kustomize' } },
      ],
      note: undefined,
      taken: [],
      desired: undefined,
      live: undefined,
      deferred: false,
    }));
    const plan: Plan = {
      environment: 'beta',
      objects,
      summary: { create: 0, update: 60, delete: 0, unchanged: 0, error: 0, orphan: 0 },
      requests: 1,
      durationMs: 1,
    };
    await publishPlanReport(
      platform(),
      { environment: 'beta', plan, findings: [], failure: undefined },
      {
        changeRequest: undefined,
        head: SHA,
        run: 1,
        git: { isAncestor: () => Promise.resolve(false) } as unknown as GitHistory,
        fullDiffUrl: undefined,
        note: undefined,
        masker: new SecretMasker(),
        logger: new RecordingLogger(),
        checkSummaryBudget: 65_535,
      },
    );
    const run = server.state.checkRuns[0];
    assert.ok(run);
    assert.equal(run.annotations.length, 60);
    assert.deepEqual(run.annotations[59], {
      path: 'overlay/patch-59.yaml',
      start_line: 7,
      end_line: 7,
      annotation_level: 'notice',
      message: 'updates ConfigMap shop/settings-59: data.colour',
      title: 'update',
    });
    const writes = [...requestsOf('checks/create'), ...requestsOf('checks/update')];
    assert.deepEqual(
      writes.map((r) => (r.body as { output: { annotations: unknown[] } }).output.annotations.length),
      [50, 10],
    );
  });

  test('without annotations take one request', async () => {
    await platform().reportCheck({
      name: 'slipway',
      headSha: SHA,
      conclusion: 'success',
      title: 'No changes',
      summary: 'ok',
      annotations: [],
    });
    assert.equal(server.requests.length, 1);
    assert.equal(server.state.checkRuns[0]?.conclusion, 'success');
  });

  test('a missing checks permission names it, and is not retried', async () => {
    server.deny('checks/create');
    const failure = platform().reportCheck({
      name: 'slipway',
      headSha: SHA,
      conclusion: 'success',
      title: 't',
      summary: 's',
      annotations: [],
    });
    await assert.rejects(failure, (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.kind, 'platform');
      assert.match(error.message, /403 Resource not accessible by integration/);
      assert.match(error.message, /`checks: write`/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });
});

describe('deployments and statuses', () => {
  test('a deployment goes in_progress then success', async () => {
    // A pending status on the commit would block a deployment that did not pass required_contexts: [].
    await platform().setCommitStatus(SHA, 'slipway / prod', 'pending', 'planning');
    const github = platform();
    const id = await github.createDeployment({
      environment: 'prod-eu',
      sha: SHA,
      ref: 'main',
      description: 'd'.repeat(300),
    });
    await github.setDeploymentState(id, 'in_progress', 'applying');
    await github.setDeploymentState(
      id,
      'success',
      'applied 3 objects',
      'https://github.com/acme/deploys/actions/runs/1',
    );

    const deployment = server.state.deployments[0];
    assert.ok(deployment);
    assert.equal(String(deployment.id), id);
    assert.equal(deployment.sha, SHA);
    assert.equal(deployment.environment, 'prod-eu');
    assert.equal(deployment.autoMerge, false);
    assert.deepEqual(deployment.requiredContexts, []);
    assert.equal(deployment.productionEnvironment, true);
    assert.equal(deployment.transientEnvironment, false);
    assert.deepEqual(deployment.payload, { ref: 'main' });
    assert.equal(Array.from(deployment.description ?? '').length, 140);
    assert.deepEqual(
      deployment.statuses.map((s) => [s.state, s.description, s.logUrl]),
      [
        ['in_progress', 'applying', ''],
        ['success', 'applied 3 objects', 'https://github.com/acme/deploys/actions/runs/1'],
      ],
    );
  });

  test('staging is not a production environment', async () => {
    await platform().createDeployment({ environment: 'preprod', sha: SHA, ref: 'main', description: 'x' });
    assert.equal(server.state.deployments[0]?.productionEnvironment, false);
  });

  test('a commit status', async () => {
    await platform().setCommitStatus(
      SHA,
      'slipway / beta',
      'success',
      'y'.repeat(200),
      'https://example.com/run',
    );
    const status = server.state.commitStatuses[0];
    assert.ok(status);
    assert.equal(status.sha, SHA);
    assert.equal(status.context, 'slipway / beta');
    assert.equal(status.state, 'success');
    assert.equal(Array.from(status.description ?? '').length, 140);
    assert.equal(status.targetUrl, 'https://example.com/run');
  });
});

describe('drift issue', () => {
  const DRIFT = '<!-- slipway:drift:prod -->';

  test('is opened, updated, left alone when unchanged, and closed', async () => {
    server.seedIssue({
      title: 'Other drift',
      body: '<!-- slipway:drift:beta -->',
      labels: ['slipway-drift'],
    });
    server.seedIssue({ title: 'Unlabelled', body: DRIFT });
    const github = platform();

    const opened = await github.syncIssue(DRIFT, 'Drift in prod', `${DRIFT}\n3 objects drifted`);
    const issue = server.state.issues.find((i) => i.title === 'Drift in prod');
    assert.ok(issue);
    assert.equal(opened, `https://github.com/acme/deploys/issues/${issue.number}`);
    assert.deepEqual(issue.labels, ['slipway-drift']);

    const updated = await github.syncIssue(DRIFT, 'Drift in prod', `${DRIFT}\n1 object drifted`);
    assert.equal(updated, opened);
    assert.equal(issue.body, `${DRIFT}\n1 object drifted`);
    await github.syncIssue(DRIFT, 'Drift in prod', `${DRIFT}\n1 object drifted`);
    assert.equal(requestsOf('issues/update').length, 1);

    const closed = await github.syncIssue(DRIFT, 'Drift in prod', undefined);
    assert.equal(closed, undefined);
    assert.equal(issue.state, 'closed');
    assert.equal(issue.stateReason, 'completed');
    assert.equal(server.commentsOn(issue.number).length, 1);
    assert.equal(server.state.issues.filter((i) => !i.isPullRequest && i.state === 'open').length, 2);

    assert.equal(await github.syncIssue(DRIFT, 'Drift in prod', undefined), undefined);
    assert.equal(requestsOf('issues/update').length, 2);
  });

  test('is found among more than 100 labelled issues', async () => {
    for (let i = 0; i < 130; i++)
      server.seedIssue({ title: `noise ${i}`, body: `<!-- other ${i} -->`, labels: ['slipway-drift'] });
    const target = server.seedIssue({
      title: 'Drift in prod',
      body: `${DRIFT}\nold`,
      labels: ['slipway-drift'],
    });
    for (let i = 0; i < 30; i++)
      server.seedIssue({ title: `newer ${i}`, body: 'x', labels: ['slipway-drift'] });
    const url = await platform().syncIssue(DRIFT, 'Drift in prod', `${DRIFT}\nnew`);
    assert.equal(url, `https://github.com/acme/deploys/issues/${target.number}`);
    assert.equal(target.body, `${DRIFT}\nnew`);
    assert.equal(requestsOf('issues/list-for-repo').length, 2);
    assert.equal(requestsOf('issues/create').length, 0);
  });
});

describe('retries and failures', () => {
  test('a 503 then success is retried', async () => {
    server.failNext({ status: 503, operationId: 'checks/create' });
    await platform().reportCheck({
      name: 'slipway',
      headSha: SHA,
      conclusion: 'neutral',
      title: 't',
      summary: 's',
      annotations: [],
    });
    assert.deepEqual(
      requestsOf('checks/create').map((r) => r.status),
      [503, 201],
    );
    assert.deepEqual(slept, [1000]);
    assert.equal(server.state.checkRuns.length, 1);
  });

  test('a 429 waits as long as retry-after says', async () => {
    server.failNext({ status: 429, retryAfter: 7 });
    await platform().setCommitStatus(SHA, 'slipway', 'success', 'ok');
    assert.deepEqual(slept, [7000]);
    assert.equal(server.state.commitStatuses.length, 1);
  });

  test('gives up after 3 attempts with a platform error', async () => {
    server.failNext({ status: 502, times: 5 });
    await assert.rejects(platform().setCommitStatus(SHA, 'slipway', 'success', 'ok'), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.kind, 'platform');
      assert.match(error.message, /GitHub is unavailable/);
      return true;
    });
    assert.equal(server.requests.length, 3);
    assert.deepEqual(slept, [1000, 2000]);
  });

  test('a rejected token is never echoed in the error', async () => {
    const secret = 'ghs_0123456789SECRETabcdefghijklmnopqrstu';
    await assert.rejects(platform({ token: secret }).upsertComments(PR, MARKER, ['x']), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.kind, 'platform');
      assert.match(error.message, /401 Bad credentials/);
      assert.ok(
        !JSON.stringify({ message: error.message, hint: error.hint, stack: error.stack }).includes(secret),
      );
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  test('an unknown repository is a platform error naming it', async () => {
    await assert.rejects(
      platform({ repo: 'missing' }).setCommitStatus(SHA, 'slipway', 'success', 'ok'),
      /acme\/missing does not exist or the token cannot see it/,
    );
  });
});
