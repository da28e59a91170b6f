// The CLI as a laptop tool: `diff` coloured on a terminal and plain when piped, `diff` without
// --env choosing what changed since the merge base with main, `render`/`validate` needing no
// cluster at all, and clear guidance when no kubeconfig exists.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { sharedCluster, stopSharedCluster, TestRepo, unique } from './harness.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[\\d+m`);
const ANSI_ALL = new RegExp(ANSI.source, 'g');

let cluster: Cluster;

before(async () => {
  cluster = await sharedCluster();
});

after(async () => {
  await stopSharedCluster();
});

async function cli(
  repo: TestRepo,
  argv: string[],
  options: { isTty?: boolean; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { PATH: cluster.env.PATH ?? '', SLIPWAY_RETRY_SECONDS: '5', ...options.env },
    cwd: repo.dir,
    isTty: options.isTty ?? false,
  });
  return { code, stdout, stderr };
}

function twoEnvironments(): { repo: TestRepo; a: string; b: string } {
  const a = unique('lapa').replace(/-/g, '');
  const b = unique('lapb').replace(/-/g, '');
  const [nsa, nsb] = [unique('nsa'), unique('nsb')];
  const namespace = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
  const repo = new TestRepo({
    'slipway.yaml': `environments:\n  ${a}:\n    path: ${a}\n    namespace: ${nsa}\n  ${b}:\n    path: ${b}\n    namespace: ${nsb}\n`,
    [`${a}/namespace.yaml`]: namespace(nsa),
    [`${b}/namespace.yaml`]: namespace(nsb),
    [`${a}/cm.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
    [`${b}/cm.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: red\n',
  });
  return { repo, a, b };
}

describe('slipway diff on a laptop', () => {
  test('coloured on a terminal, plain text when piped', async () => {
    const { repo, a } = twoEnvironments();
    const args = ['diff', '--env', a, '--kubeconfig', cluster.adminKubeconfig];
    const terminal = await cli(repo, args, { isTty: true });
    assert.equal(terminal.code, 0, terminal.stderr);
    assert.match(terminal.stdout, ANSI);
    assert.ok(terminal.stdout.includes(`${ESC}[32m+  color: blue${ESC}[0m`), terminal.stdout);
    const piped = await cli(repo, args, { isTty: false });
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stdout, ANSI);
    assert.equal(piped.stdout, terminal.stdout.replace(ANSI_ALL, ''));
    // --format json and markdown are never coloured, terminal or not.
    const json = await cli(repo, [...args, '--format', 'json'], { isTty: true });
    assert.doesNotMatch(json.stdout, ANSI);
    assert.equal((JSON.parse(json.stdout) as { environment: string }).environment, a);
    repo.remove();
  });

  test('without --env it diffs the environments changed since the merge base with main', async () => {
    const { repo, a, b } = twoEnvironments();
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit(
      {
        [`${b}/cm.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: green\n',
      },
      'b',
    );
    const run = await cli(repo, ['diff', '--kubeconfig', cluster.adminKubeconfig]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${b}: `, 'm'));
    assert.doesNotMatch(run.stdout, new RegExp(`^${a}: `, 'm'));
    repo.git('checkout', '-q', 'main');
    const nothing = await cli(repo, ['diff', '--kubeconfig', cluster.adminKubeconfig]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /no environment changed since main; pass --env NAME to diff one anyway/);
    repo.remove();
  });
});

describe('no cluster needed, and guidance when there is none', () => {
  const nowhere = { KUBECONFIG: '/nonexistent/slipway/kubeconfig', HOME: '/nonexistent/home' };

  test('render and validate work with KUBECONFIG pointing at a file that does not exist', async () => {
    const { repo, a } = twoEnvironments();
    const render = await cli(repo, ['render', '--env', a], { env: nowhere });
    assert.equal(render.code, 0, render.stderr);
    assert.match(render.stdout, /kind: ConfigMap/);
    const validate = await cli(repo, ['validate'], { env: nowhere });
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stderr, new RegExp(`^${a}: 2 objects, 0 errors, 0 warnings$`, 'm'));
    repo.remove();
  });

  test('diff with no kubeconfig anywhere says what to set (a real process: HOME and KUBECONFIG)', async () => {
    const { repo, a } = twoEnvironments();
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent/home' };
    await assert.rejects(
      promisify(execFile)(process.execPath, [path.join(root, 'src', 'cli.ts'), 'diff', '--env', a], {
        cwd: repo.dir,
        env,
      }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(
          error.stderr ?? '',
          /no kubeconfig: --kubeconfig is not given, KUBECONFIG is not set and \/nonexistent\/home\/\.kube\/config does not exist \(pass --kubeconfig FILE or set KUBECONFIG/,
        );
        assert.match(error.stderr ?? '', /`slipway render` and `slipway validate` need no cluster/);
        return true;
      },
    );
    const missingFile = await promisify(execFile)(
      process.execPath,
      [path.join(root, 'src', 'cli.ts'), 'diff', '--env', a],
      { cwd: repo.dir, env: { ...env, KUBECONFIG: '/nonexistent/kc' } },
    ).then(
      () => '',
      (error: unknown) => (error as { stderr?: string }).stderr ?? '',
    );
    assert.match(
      missingFile,
      /cannot load the kubeconfig: ENOENT: no such file or directory, open '\/nonexistent\/kc'/,
    );
    repo.remove();
  });
});
