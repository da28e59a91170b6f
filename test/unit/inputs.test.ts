// The action's inputs and the workflow run it is in: what each event means for Slipway.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { modeFor, readContext, type RunContext } from '../../src/github/context.ts';
import { parseInputs } from '../../src/github/inputs.ts';

/** Inputs as GitHub passes them: every declared input present, '' when not set. */
function inputs(values: Record<string, string> = {}): (name: string) => string {
  return (name) => values[name] ?? '';
}

function assertInvalid(values: Record<string, string>, ...parts: string[]): UserError {
  let caught: unknown;
  try {
    parseInputs(inputs(values));
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`);
  assert.equal(caught.kind, 'config');
  for (const part of parts) assert.ok(caught.message.includes(part), `${part} not in: ${caught.message}`);
  return caught;
}

describe('parseInputs', () => {
  test('nothing set: the documented defaults', () => {
    assert.deepEqual(parseInputs(inputs()), {
      command: 'auto',
      environment: undefined,
      config: undefined,
      kubeconfig: undefined,
      inCluster: false,
      auth: { kind: 'kubeconfig' },
      context: undefined,
      token: '',
      deployBranch: undefined,
      concurrency: 16,
      dryRun: false,
      prune: true,
      force: false,
      timeoutSeconds: undefined,
      comment: true,
      heal: false,
      workingDirectory: '.',
      commentAuthor: 'github-actions[bot]',
      slackWebhook: undefined,
      webhookUrl: undefined,
      sopsAgeKey: undefined,
      requireReviewedPlan: false,
      registryConfig: undefined,
      planMode: undefined,
    });
  });

  test('an empty or blank string is unset, never a value', () => {
    const parsed = parseInputs(
      inputs({ environment: '', config: '   ', prune: ' ', concurrency: '', 'working-directory': '\n' }),
    );
    assert.equal(parsed.environment, undefined);
    assert.equal(parsed.config, undefined);
    assert.equal(parsed.prune, true);
    assert.equal(parsed.concurrency, 16);
    assert.equal(parsed.workingDirectory, '.');
  });

  test('values are trimmed and typed', () => {
    const parsed = parseInputs(
      inputs({
        command: 'apply',
        environment: ' prod ',
        concurrency: '8',
        timeout: '10m',
        'github-token': 'ghs_x',
        'deploy-branch': 'release',
        'working-directory': 'deploy',
      }),
    );
    assert.equal(parsed.command, 'apply');
    assert.equal(parsed.environment, 'prod');
    assert.equal(parsed.concurrency, 8);
    assert.equal(parsed.timeoutSeconds, 600);
    assert.equal(parsed.token, 'ghs_x');
    assert.equal(parsed.deployBranch, 'release');
    assert.equal(parsed.workingDirectory, 'deploy');
  });

  test('booleans are strict: true/True/TRUE and false/False/FALSE only', () => {
    for (const yes of ['true', 'True', 'TRUE'])
      assert.equal(parseInputs(inputs({ 'dry-run': yes })).dryRun, true);
    for (const no of ['false', 'False', 'FALSE'])
      assert.equal(parseInputs(inputs({ prune: no })).prune, false);
    for (const bad of ['yes', 'no', '1', '0', 'on', 'tRue', 'y'])
      assertInvalid({ force: bad }, `input "force" must be true or false, got "${bad}"`);
  });

  test('every problem is reported at once', () => {
    const error = assertInvalid(
      {
        command: 'deploy',
        concurrency: '0',
        timeout: 'soon',
        'dry-run': 'yes',
        prune: 'maybe',
        comment: '1',
      },
      'input "command" must be one of auto, detect, plan, apply, drift, validate, images, got "deploy"',
      'input "concurrency" must be a whole number from 1 to 256, got "0"',
      'input "timeout" must be a duration like 90s or 5m, got "soon"',
      'input "dry-run" must be true or false, got "yes"',
      'input "prune" must be true or false, got "maybe"',
      'input "comment" must be true or false, got "1"',
    );
    assert.equal(error.message.split('; ').length, 6);
    assert.ok(error.hint?.includes('action.yml'));
  });

  test('concurrency bounds', () => {
    assert.equal(parseInputs(inputs({ concurrency: '1' })).concurrency, 1);
    assert.equal(parseInputs(inputs({ concurrency: '256' })).concurrency, 256);
    for (const bad of ['257', '-1', '2.5', 'lots']) assertInvalid({ concurrency: bad }, `got "${bad}"`);
  });
});

// ---------------------------------------------------------------------------------------------
// readContext and modeFor

const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-context-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;

const BASE_SHA = '1111111111111111111111111111111111111111';
const HEAD_SHA = '2222222222222222222222222222222222222222';
const MERGE_SHA = '3333333333333333333333333333333333333333';
const ZERO = '0000000000000000000000000000000000000000';

const REPOSITORY = { id: 1, name: 'deploy', full_name: 'acme/deploy', default_branch: 'main', fork: false };

/** The runner's environment for an event, with its payload written where GITHUB_EVENT_PATH says. */
function runnerEnv(
  event: string,
  payload: unknown,
  extra: Record<string, string> = {},
): Record<string, string> {
  const file = path.join(scratch, `event-${files++}.json`);
  writeFileSync(file, JSON.stringify(payload));
  return {
    GITHUB_REPOSITORY: 'acme/deploy',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: file,
    GITHUB_SHA: MERGE_SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_RUN_ID: '987654',
    GITHUB_WORKSPACE: '/home/runner/work/deploy/deploy',
    RUNNER_TEMP: '/home/runner/work/_temp',
    ...extra,
  };
}

function pullRequestPayload(headRepo: unknown): Record<string, unknown> {
  return {
    action: 'synchronize',
    number: 42,
    pull_request: {
      number: 42,
      state: 'open',
      base: { ref: 'main', sha: BASE_SHA, repo: REPOSITORY },
      head: { ref: 'feature/cache', sha: HEAD_SHA, repo: headRepo },
    },
    repository: REPOSITORY,
  };
}

function pullRequestContext(headRepo: unknown, event = 'pull_request'): RunContext {
  return readContext(
    runnerEnv(event, pullRequestPayload(headRepo), {
      GITHUB_REF: 'refs/pull/42/merge',
      GITHUB_HEAD_REF: 'feature/cache',
    }),
  );
}

describe('readContext: pull requests', () => {
  test('compares the base commit with the head commit (not the merge commit)', () => {
    const context = pullRequestContext(REPOSITORY);
    assert.equal(context.event, 'pull_request');
    assert.equal(context.owner, 'acme');
    assert.equal(context.repo, 'deploy');
    assert.equal(context.base, BASE_SHA);
    assert.equal(context.head, HEAD_SHA);
    assert.equal(context.sha, MERGE_SHA);
    assert.equal(context.pullRequest, 42);
    assert.equal(context.branch, 'feature/cache');
    assert.equal(context.defaultBranch, 'main');
    assert.equal(context.fromFork, false);
    assert.equal(context.runUrl, 'https://github.com/acme/deploy/actions/runs/987654');
    assert.equal(context.tempDir, '/home/runner/work/_temp');
  });

  test('a pull request from a fork is detected', () => {
    const fork = { ...REPOSITORY, full_name: 'mallory/deploy', fork: true };
    assert.equal(pullRequestContext(fork).fromFork, true);
    assert.equal(pullRequestContext(fork, 'pull_request_target').fromFork, true);
  });

  test('a pull request whose fork was deleted (head.repo is null) counts as a fork', () => {
    assert.equal(pullRequestContext(null).fromFork, true);
  });

  test('mode: plan with an environment, detect without', () => {
    const context = pullRequestContext(REPOSITORY);
    assert.equal(modeFor('auto', context, 'prod', undefined), 'plan');
    assert.equal(modeFor('auto', context, undefined, undefined), 'detect');
    assert.equal(
      modeFor('auto', pullRequestContext(REPOSITORY, 'pull_request_target'), 'prod', undefined),
      'plan',
    );
  });
});

describe('readContext: pushes', () => {
  const push = (ref: string, before: string, extra: Record<string, string> = {}): RunContext =>
    readContext(
      runnerEnv(
        'push',
        { ref, before, after: MERGE_SHA, created: before === ZERO, deleted: false, repository: REPOSITORY },
        { GITHUB_REF: ref, ...extra },
      ),
    );

  test('a push to the default branch applies, comparing before with after', () => {
    const context = push('refs/heads/main', BASE_SHA);
    assert.equal(context.base, BASE_SHA);
    assert.equal(context.head, MERGE_SHA);
    assert.equal(context.branch, 'main');
    assert.equal(context.pullRequest, undefined);
    assert.equal(context.fromFork, false);
    assert.equal(modeFor('auto', context, 'prod', undefined), 'apply');
    assert.equal(modeFor('auto', context, undefined, undefined), 'detect');
  });

  test('a push to another branch is skipped', () => {
    const context = push('refs/heads/feature/cache', BASE_SHA);
    assert.equal(context.branch, 'feature/cache');
    assert.equal(modeFor('auto', context, 'prod', undefined), 'skip');
    assert.equal(modeFor('auto', context, undefined, undefined), 'skip');
  });

  test('deploy-branch replaces the default branch', () => {
    assert.equal(modeFor('auto', push('refs/heads/release', BASE_SHA), 'prod', 'release'), 'apply');
    assert.equal(modeFor('auto', push('refs/heads/main', BASE_SHA), 'prod', 'release'), 'skip');
  });

  test('a tag push is skipped', () => {
    assert.equal(
      modeFor('auto', push('refs/tags/v1.2.0', BASE_SHA, { GITHUB_HEAD_REF: '' }), 'prod', undefined),
      'skip',
    );
    assert.equal(modeFor('auto', push('refs/tags/v1.2.0', BASE_SHA), 'prod', undefined), 'skip');
  });

  test('the first push of a branch (before is all zeros) has no base: everything changed', () => {
    const context = push('refs/heads/main', ZERO);
    assert.equal(context.base, undefined);
    assert.equal(context.head, MERGE_SHA);
  });
});

describe('readContext: dispatch, schedule and the rest', () => {
  test('workflow_dispatch: inputs as strings; auto and apply both mean resync', () => {
    const context = readContext(
      runnerEnv('workflow_dispatch', {
        ref: 'refs/heads/main',
        inputs: { environment: 'prod', force: true, retries: 3 },
        repository: REPOSITORY,
      }),
    );
    assert.deepEqual(context.dispatchInputs, { environment: 'prod', force: 'true', retries: '3' });
    assert.equal(context.base, undefined);
    assert.equal(context.head, MERGE_SHA);
    assert.equal(modeFor('auto', context, 'prod', undefined), 'resync');
    assert.equal(modeFor('apply', context, 'prod', undefined), 'resync');
  });

  test('schedule is a drift check', () => {
    const context = readContext(runnerEnv('schedule', { schedule: '17 3 * * *', repository: REPOSITORY }));
    assert.deepEqual(context.dispatchInputs, {});
    assert.equal(modeFor('auto', context, undefined, undefined), 'drift');
  });

  test('an explicit command wins over the event', () => {
    const context = pullRequestContext(REPOSITORY);
    assert.equal(modeFor('detect', context, 'prod', undefined), 'detect');
    assert.equal(modeFor('plan', context, undefined, undefined), 'plan');
    assert.equal(modeFor('apply', context, 'prod', undefined), 'apply');
    assert.equal(modeFor('drift', context, undefined, undefined), 'drift');
    assert.equal(modeFor('validate', context, undefined, undefined), 'validate');
  });

  test('other events are skipped', () => {
    const context = readContext(runnerEnv('issue_comment', { action: 'created', repository: REPOSITORY }));
    assert.equal(modeFor('auto', context, 'prod', undefined), 'skip');
  });

  test('GHES: the run link uses the server URL', () => {
    const context = readContext(
      runnerEnv(
        'schedule',
        {},
        { GITHUB_SERVER_URL: 'https://ghe.example.com', GITHUB_API_URL: 'https://ghe.example.com/api/v3' },
      ),
    );
    assert.equal(context.runUrl, 'https://ghe.example.com/acme/deploy/actions/runs/987654');
    assert.equal(context.apiUrl, 'https://ghe.example.com/api/v3');
  });

  test('outside GitHub Actions: a UserError that says so', () => {
    const env = runnerEnv('push', {});
    for (const missing of ['GITHUB_REPOSITORY', 'GITHUB_EVENT_NAME', 'GITHUB_SHA']) {
      const { [missing]: _omitted, ...rest } = env;
      assert.throws(
        () => readContext(rest),
        (error: unknown) =>
          error instanceof UserError && error.kind === 'platform' && error.message.includes(missing),
      );
    }
  });

  test('an unreadable event payload is a UserError naming the file', () => {
    const file = path.join(scratch, 'broken.json');
    writeFileSync(file, '{"action": ');
    assert.throws(
      () => readContext({ ...runnerEnv('push', {}), GITHUB_EVENT_PATH: file }),
      (error: unknown) => error instanceof UserError && error.message.includes(file),
    );
  });
});
