// What a change is measured from, on a real git history: a pull request from its merge base (not
// the base branch's moving tip), a merge queue's merge commit from the queue's base.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/config.ts';
import { detectAll } from '../../src/core/detect/detect.ts';
import { UserError } from '../../src/core/errors.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { modeFor, readContext, withMergeBase } from '../../src/github/context.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { GitCli } from '../../src/tools/git.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

class History {
  readonly dir = scratchDir('slipway-merge-base-');
  constructor() {
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.email', 'test@example.com');
    this.git('config', 'user.name', 'Test');
  }
  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim();
  }
  commit(files: Record<string, string>, message: string): string {
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
      writeFileSync(path.join(this.dir, file), content);
    }
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }
}

const cm = (name: string, value: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${value}"\n`;

/** main → (feature changes prod) while main moves on (changes dev). */
function movedOn(): { repo: History; forkPoint: string; mainTip: string; featureTip: string } {
  const repo = new History();
  const forkPoint = repo.commit(
    {
      'slipway.yaml': 'environments:\n  dev:\n    path: dev\n  prod:\n    path: prod\n',
      'dev/a.yaml': cm('a', '1'),
      'prod/a.yaml': cm('a', '1'),
    },
    'initial',
  );
  repo.git('checkout', '-q', '-b', 'feature');
  const featureTip = repo.commit({ 'prod/a.yaml': cm('a', '2') }, 'feature: change prod');
  repo.git('checkout', '-q', 'main');
  const mainTip = repo.commit({ 'dev/a.yaml': cm('a', '2') }, 'main: change dev');
  repo.git('checkout', '-q', featureTip);
  return { repo, forkPoint, mainTip, featureTip };
}

function runnerEnv(event: string, payload: unknown, sha: string): Record<string, string> {
  const file = path.join(scratchDir('slipway-event-'), 'event.json');
  writeFileSync(file, JSON.stringify(payload));
  return {
    GITHUB_REPOSITORY: 'acme/deploy',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: file,
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/pull/5/merge',
    GITHUB_RUN_ID: '1234',
  };
}

describe('pull request detection measures from the merge base', () => {
  test('when main has moved on, only the branch’s own environments are affected', async () => {
    const { repo, forkPoint, mainTip, featureTip } = movedOn();
    const git = new GitCli(new ProcessRunner(process.env), repo.dir);
    const payload = {
      number: 5,
      pull_request: {
        number: 5,
        base: { sha: mainTip, ref: 'main', repo: { full_name: 'acme/deploy' } },
        head: { sha: featureTip, ref: 'feature', repo: { full_name: 'acme/deploy' } },
      },
      repository: { full_name: 'acme/deploy', default_branch: 'main' },
    };
    const raw = readContext(runnerEnv('pull_request', payload, featureTip));
    assert.equal(raw.base, mainTip, 'the event names the base branch tip');
    const paths = new RepoPaths(repo.dir);
    const config = loadConfig(paths);
    // The old way (base.sha..head.sha) counts main's change to dev as the pull request's.
    const naive = detectAll(paths, config, await git.changedFiles(mainTip, featureTip));
    assert.deepEqual(naive.environments, ['dev', 'prod']);

    const context = await withMergeBase(raw, git);
    assert.equal(context.base, forkPoint, 'the merge base, which the danger lint also compares with');
    const detection = detectAll(paths, config, await git.changedFiles(context.base, context.head));
    assert.deepEqual(detection, { environments: ['prod'], reasons: { prod: ['prod/a.yaml'] } });
  });

  test('a checkout without the base’s history is an error naming the fix, not a silent guess', async () => {
    const { repo, featureTip } = movedOn();
    const git = new GitCli(new ProcessRunner(process.env), repo.dir);
    const unrelated = new History();
    const orphan = unrelated.commit({ 'x.txt': 'x' }, 'unrelated');
    repo.git('fetch', '-q', unrelated.dir, orphan);
    const payload = {
      number: 5,
      pull_request: { number: 5, base: { sha: orphan }, head: { sha: featureTip } },
    };
    await assert.rejects(
      withMergeBase(readContext(runnerEnv('pull_request', payload, featureTip)), git),
      (error: unknown) =>
        error instanceof UserError &&
        /no merge base in this checkout/.test(error.message) &&
        /fetch-depth: 0/.test(error.hint ?? ''),
    );
  });
});

describe('merge queue (merge_group)', () => {
  test('plans the queue’s merge commit against the queue base and reports on the merge commit', async () => {
    const { repo, mainTip, featureTip } = movedOn();
    repo.git('checkout', '-q', mainTip);
    repo.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #5', featureTip);
    const groupHead = repo.git('rev-parse', 'HEAD');
    const payload = {
      action: 'checks_requested',
      merge_group: {
        head_sha: groupHead,
        head_ref: 'refs/heads/gh-readonly-queue/main/pr-5-' + mainTip,
        base_sha: mainTip,
        base_ref: 'refs/heads/main',
      },
      repository: { full_name: 'acme/deploy', default_branch: 'main' },
    };
    const context = await withMergeBase(
      readContext(runnerEnv('merge_group', payload, groupHead)),
      new GitCli(new ProcessRunner(process.env), repo.dir),
    );
    assert.equal(context.mergeGroup, true);
    assert.equal(context.base, mainTip);
    assert.equal(context.head, groupHead, 'checks are reported on the merge group’s head commit');
    assert.equal(context.pullRequest, undefined);
    assert.equal(context.fromFork, false);
    assert.equal(modeFor('auto', context, undefined, undefined), 'detect');
    assert.equal(modeFor('auto', context, 'prod', undefined), 'plan');
    const git = new GitCli(new ProcessRunner(process.env), repo.dir);
    const paths = new RepoPaths(repo.dir);
    const detection = detectAll(paths, loadConfig(paths), await git.changedFiles(mainTip, groupHead));
    assert.deepEqual(detection.environments, ['prod']);
  });
});
