// The action run once through @github/local-action, GitHub's own local runner for JavaScript
// actions: it reads action.yml, stubs the toolkit, and calls the exported run() of our logic.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TestRepo } from '../integration/harness.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

test('detect runs under @github/local-action and sets the matrix outputs', async () => {
  const repo = new TestRepo({
    'clusters/dev/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n',
    'clusters/prod/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n',
  });
  const base = repo.git('rev-parse', 'HEAD');
  const head = repo.commit(
    { 'clusters/prod/b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n' },
    'add b to prod',
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-local-action-'));
  try {
    const event = path.join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        number: 3,
        pull_request: { number: 3, base: { sha: base }, head: { sha: head, repo: { full_name: 'acme/x' } } },
        repository: { full_name: 'acme/x', default_branch: 'main' },
      }),
    );
    const envFile = path.join(dir, '.env');
    writeFileSync(
      envFile,
      [
        'INPUT_CONFIG=slipway.yaml',
        'INPUT_CONCURRENCY=16',
        'GITHUB_EVENT_NAME=pull_request',
        `GITHUB_EVENT_PATH=${event}`,
        'GITHUB_REPOSITORY=acme/x',
        `GITHUB_SHA=${head}`,
        'GITHUB_REF=refs/pull/3/merge',
        `GITHUB_WORKSPACE=${repo.dir}`,
        `RUNNER_TEMP=${dir}`,
        `GITHUB_STEP_SUMMARY=${path.join(dir, 'summary.md')}`,
      ].join('\n'),
    );
    const output = await new Promise<{ code: number; text: string }>((resolve) => {
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
        (error, stdout, stderr) => {
          resolve({ code: error ? 1 : 0, text: stdout + stderr });
        },
      );
    });
    assert.equal(output.code, 0, output.text);
    assert.match(output.text, /::set-output name=environments::\["prod"\]/);
    assert.match(output.text, /::set-output name=matrix::\{"environment":\["prod"\]\}/);
    assert.doesNotMatch(output.text, /::error::/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    repo.remove();
  }
});
