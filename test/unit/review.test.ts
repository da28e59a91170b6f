// The per-environment comments of a pull/merge request against the GitHub and GitLab stand-ins
// (every request checked against their OpenAPI descriptions) and a real git history: parallel
// matrix jobs, an older plan finishing last, environments a later push no longer touches, and the
// apply result after the merge.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import type { ReviewPlatform } from '../../src/core/platform.ts';
import type { Plan, PlannedObject } from '../../src/core/plan/plan.ts';
import { planMarker, readStamp, type ApplyNote } from '../../src/core/report/comment.ts';
import type { EnvironmentReport } from '../../src/core/report/markdown.ts';
import {
  markUnaffected,
  publishPlanComment,
  recordApplyComment,
  type CommentContext,
} from '../../src/core/job/review.ts';
import { SecretMasker } from '../../src/core/secrets.ts';
import { GitHubPlatform } from '../../src/github/platform.ts';
import { GitLabPlatform } from '../../src/gitlab/platform.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { GitCli } from '../../src/tools/git.ts';
import { startGitHubServer, type FakeGitHub } from '../fakes/github-server.ts';
import { startGitLabServer, type FakeGitLab } from '../fakes/gitlab-server.ts';
import { RecordingLogger } from './support.ts';

const PR = 7;

// ---- a real history: A ← B ← C on the pull request's branch ----

const repoDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-review-'));
after(() => rmSync(repoDir, { recursive: true, force: true }));
const git = (...args: string[]): string =>
  execFileSync('git', args, { cwd: repoDir, encoding: 'utf8' }).trim();
git('init', '-q', '-b', 'main');
git('config', 'user.email', 'test@example.com');
git('config', 'user.name', 'Test');
const commit = (n: number): string => {
  writeFileSync(path.join(repoDir, 'f.txt'), String(n));
  git('add', '-A');
  git('commit', '-q', '-m', `commit ${n}`);
  return git('rev-parse', 'HEAD');
};
const [A, B, C] = [commit(1), commit(2), commit(3)] as [string, string, string];
/** A commit this checkout has never seen (pushed after it was made). */
const UNSEEN = 'f'.repeat(40);
const history = new GitCli(new ProcessRunner(process.env), repoDir);

function object(name: string, action: PlannedObject['action']): PlannedObject {
  return {
    ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name },
    action,
    diff: action === 'unchanged' ? '' : `--- live/${name}\n+++ git/${name}\n-  a: "1"\n+  a: "2"\n`,
    source: { file: 'clusters/app.yaml', line: 1 },
    note: undefined,
    taken: [],
    desired: undefined,
    live: undefined,
    deferred: false,
  };
}

function report(environment: string, names: string[]): EnvironmentReport {
  const objects = names.map((n) => object(n, 'update'));
  const plan: Plan = {
    environment,
    objects,
    summary: { create: 0, update: objects.length, delete: 0, unchanged: 0, error: 0, orphan: 0 },
    requests: 3,
    durationMs: 100,
  };
  return { environment, plan, findings: [], failure: undefined };
}

let logger: RecordingLogger;
function context(platform: ReviewPlatform, changeRequest = PR): CommentContext {
  return { platform, changeRequest, git: history, logger, masker: new SecretMasker() };
}

describe('GitHub: one comment per environment', () => {
  let github: FakeGitHub;
  let platform: GitHubPlatform;
  beforeEach(async () => {
    github = await startGitHubServer({ pullRequests: [PR] });
    platform = new GitHubPlatform({
      token: github.token,
      apiUrl: github.url,
      owner: github.owner,
      repo: github.repo,
    });
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    const violations = github.takeViolations();
    await github.close();
    assert.deepEqual(violations, [], 'every request conforms to the OpenAPI description');
  });

  const bodyOf = (env: string): string[] =>
    github
      .commentsOn(PR)
      .filter((c) => c.body.includes(planMarker(env)))
      .map((c) => c.body);

  test('six environments planned at once: six comments, none lost or doubled', async () => {
    const envs = ['beta', 'dev', 'live', 'prod', 'qa', 'stage'];
    await Promise.all(
      envs.map((env) =>
        publishPlanComment(
          report(env, [`${env}-cm`]),
          { commit: B, run: 2 },
          { fullDiffUrl: undefined },
          context(platform),
        ),
      ),
    );
    assert.equal(github.commentsOn(PR).length, envs.length);
    for (const env of envs) {
      const [body, ...more] = bodyOf(env);
      assert.equal(more.length, 0, `${env}: one comment`);
      assert.match(body ?? '', new RegExp(`update ConfigMap shop/${env}-cm`));
      assert.deepEqual(readStamp(body ?? ''), { commit: B, run: 2 }, 'stamped with the commit it planned');
      assert.match(body ?? '', new RegExp(`For commit \`${B.slice(0, 12)}\``));
      for (const other of envs.filter((e) => e !== env))
        assert.doesNotMatch(body ?? '', new RegExp(`${other}-cm`));
    }
  });

  test('an older plan finishing last leaves the newer one in place (git ancestry)', async () => {
    await publishPlanComment(
      report('beta', ['new']),
      { commit: C, run: 3 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    const [before] = github.commentsOn(PR);
    const url = await publishPlanComment(
      report('beta', ['old']),
      { commit: B, run: 9 }, // a re-run of the older commit has a larger run number: ancestry wins
      { fullDiffUrl: undefined },
      context(platform),
    );
    assert.equal(url, undefined);
    const [after] = github.commentsOn(PR);
    assert.equal(after?.body, before?.body);
    assert.match(logger.lines.join('\n'), /already shows the plan of commit [0-9a-f]{12}, which comes after/);
    // A newer commit does replace it.
    await publishPlanComment(
      report('beta', ['newer']),
      { commit: C, run: 4 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    assert.match(github.commentsOn(PR)[0]?.body ?? '', /shop\/newer/);
  });

  test('a commit this checkout has never seen: the run order decides', async () => {
    await publishPlanComment(
      report('beta', ['later']),
      { commit: UNSEEN, run: 20 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    await publishPlanComment(
      report('beta', ['earlier']),
      { commit: B, run: 19 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    assert.match(bodyOf('beta')[0] ?? '', /shop\/later/);
    await publishPlanComment(
      report('beta', ['force-pushed']),
      { commit: A, run: 21 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    assert.match(bodyOf('beta')[0] ?? '', /shop\/force-pushed/);
  });

  test('environments a later push no longer touches say so; a late plan of an older commit cannot undo it', async () => {
    for (const env of ['beta', 'live'])
      await publishPlanComment(
        report(env, [`${env}-cm`]),
        { commit: A, run: 1 },
        { fullDiffUrl: undefined },
        context(platform),
      );
    const marked = await markUnaffected(['beta'], { commit: C, run: 3 }, context(platform));
    assert.deepEqual(marked, ['live']);
    const [live] = bodyOf('live');
    assert.match(live ?? '', /No longer affected.*as of commit `[0-9a-f]{12}`/);
    assert.match(live ?? '', /Earlier plan \(commit [0-9a-f]{12}\), outdated/);
    assert.match(live ?? '', /live-cm/, 'the earlier plan is kept, folded');
    assert.deepEqual(readStamp(live ?? ''), { commit: C, run: 3 });
    assert.deepEqual(readStamp(bodyOf('beta')[0] ?? ''), { commit: A, run: 1 }, 'beta is untouched');
    // Marking again changes nothing.
    assert.deepEqual(await markUnaffected(['beta'], { commit: C, run: 3 }, context(platform)), []);
    // The plan job of run 2 (commit B) finishing now must not bring the stale plan back.
    await publishPlanComment(
      report('live', ['stale']),
      { commit: B, run: 2 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    assert.doesNotMatch(bodyOf('live')[0] ?? '', /stale/);
    assert.equal(github.commentsOn(PR).length, 2);
  });

  test('an older Slipway’s one comment for every environment is marked outdated, its continuations deleted', async () => {
    const legacy =
      '<!-- slipway:plan -->\n### Slipway plan\n<!-- slipway:section:beta:start -->old<!-- slipway:section:beta:end -->';
    github.seedComments(PR, [legacy, '<!-- slipway:plan -->\n_(continued)_'], 'github-actions[bot]');
    github.seedComments(PR, ['a human mentions <!-- slipway:plan -->']);
    await markUnaffected(['beta'], { commit: C, run: 3 }, context(platform));
    const bodies = github.commentsOn(PR).map((c) => c.body);
    assert.deepEqual(bodies, [
      '<!-- slipway:plan -->\n_Outdated: Slipway now keeps one comment per environment._\n',
      'a human mentions <!-- slipway:plan -->',
    ]);
    const requests = github.requests.length;
    await markUnaffected(['beta'], { commit: C, run: 4 }, context(platform));
    assert.deepEqual(
      github.requests.slice(requests).map((r) => r.operationId),
      ['issues/list-comments'],
      'nothing more to do',
    );
  });

  test('after the merge the apply job finds the pull request and updates the same comment', async () => {
    await publishPlanComment(
      report('beta', ['cm']),
      { commit: B, run: 2 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    const [planned] = github.commentsOn(PR);
    github.mergePullRequest(PR, C, [B]);
    assert.equal(await platform.changeRequestOf(C), PR);
    github.addPullRequest(8);
    github.associateCommit(A, 8);
    assert.equal(
      await platform.changeRequestOf(A),
      undefined,
      'an open pull request containing it is not its origin',
    );
    assert.equal(await platform.changeRequestOf('e'.repeat(40)), undefined, 'a direct push has none');

    const note: ApplyNote = {
      environment: 'beta',
      commit: C,
      failure: undefined,
      durationMs: 42_000,
      summary: { create: 1, update: 2, delete: 0, unchanged: 5, error: 0, orphan: 0 },
      health: { checked: 3, unhealthy: [] },
      deploymentUrl: 'https://github.com/acme/deploys/deployments/beta',
      runUrl: 'https://github.com/acme/deploys/actions/runs/77',
    };
    await recordApplyComment(note, context(platform));
    const [applied, ...more] = github.commentsOn(PR);
    assert.equal(more.length, 0);
    assert.equal(applied?.id, planned?.id, 'the same comment');
    assert.match(applied?.body ?? '', /✅ \*\*Applied\*\* commit `[0-9a-f]{12}` in 42 s/);
    assert.match(
      applied?.body ?? '',
      /1 created, 2 updated, 0 deleted, 5 unchanged · health: all 3 checked objects Current/,
    );
    assert.match(
      applied?.body ?? '',
      /\[deployment\]\(https:\/\/github.com\/acme\/deploys\/deployments\/beta\)/,
    );
    assert.match(applied?.body ?? '', /update ConfigMap shop\/cm/, 'the plan stays below');
    // A re-run replaces the result instead of stacking another.
    await recordApplyComment(
      {
        ...note,
        failure: 'Deployment shop/web failed',
        health: { checked: 3, unhealthy: ['Deployment shop/web'] },
      },
      context(platform),
    );
    const body = github.commentsOn(PR)[0]?.body ?? '';
    assert.equal(body.match(/slipway:apply:start/g)?.length, 1);
    assert.match(body, /❌ \*\*Apply failed\*\*/);
    assert.match(body, /not Current: Deployment shop\/web/);
  });
});

describe('GitLab: one note per environment', () => {
  let gitlab: FakeGitLab;
  let platform: GitLabPlatform;
  beforeEach(async () => {
    gitlab = await startGitLabServer({ mergeRequests: [PR] });
    platform = new GitLabPlatform({
      token: gitlab.token,
      apiUrl: gitlab.apiUrl,
      projectId: String(gitlab.projectId),
    });
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    const violations = gitlab.takeViolations();
    await gitlab.close();
    assert.deepEqual(violations, [], 'every request conforms to the OpenAPI description');
  });
  const ours = (): { body: string; id: number }[] =>
    gitlab.notesOn(PR).filter((n) => n.authorId === gitlab.bot.id);

  test('parallel plans, an older plan finishing last, no longer affected, then the apply result', async () => {
    await Promise.all(
      ['beta', 'dev', 'live', 'prod'].map((env) =>
        publishPlanComment(
          report(env, [`${env}-cm`]),
          { commit: B, run: 2 },
          { fullDiffUrl: undefined },
          context(platform),
        ),
      ),
    );
    assert.equal(ours().length, 4);
    await publishPlanComment(
      report('beta', ['stale']),
      { commit: A, run: 1 },
      { fullDiffUrl: undefined },
      context(platform),
    );
    assert.doesNotMatch(ours().find((n) => n.body.includes(planMarker('beta')))?.body ?? '', /stale/);
    assert.deepEqual(await markUnaffected(['beta', 'dev'], { commit: C, run: 3 }, context(platform)), [
      'live',
      'prod',
    ]);

    gitlab.mergeMergeRequest(PR, UNSEEN, [C]);
    assert.equal(await platform.changeRequestOf(UNSEEN), PR);
    assert.equal(await platform.changeRequestOf(A), undefined);
    const before = ours().find((n) => n.body.includes(planMarker('beta')));
    await recordApplyComment(
      {
        environment: 'beta',
        commit: UNSEEN,
        failure: undefined,
        durationMs: 95_000,
        summary: undefined,
        health: undefined,
        deploymentUrl: undefined,
        runUrl: 'https://gitlab.example.com/acme/deploys/-/jobs/5',
      },
      context(platform),
    );
    const after = ours().find((n) => n.body.includes(planMarker('beta')));
    assert.equal(after?.id, before?.id);
    assert.match(after?.body ?? '', /Applied\*\* commit `ffffffffffff` in 1 min 35 s/);
    assert.equal(ours().length, 4);
  });
});
