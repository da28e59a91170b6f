// The single-file executable for Linux x64, built here by scripts/sea.ts (the CLI embedded in Node
// 24) and run as someone without Node would: a PATH holding only kustomize and helm, no HOME, no
// node_modules anywhere near. It names its commit, renders the example repository (Kustomize and
// Helm) and diffs it against the real control plane.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { sharedCluster, stopSharedCluster } from '../integration/harness.ts';
import { root, run, toolsOnly, type Run } from './package.ts';
import { VERSION } from '../../src/core/version.ts';

const out = mkdtempSync(path.join(tmpdir(), 'slipway-sea-test-'));
let cluster: Cluster;
let binary: string;
let tools: string;

before(async () => {
  cluster = await sharedCluster();
  execFileSync(process.execPath, [path.join(root, 'scripts', 'sea.ts'), '--out', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const [name] = readdirSync(out);
  binary = path.join(out, name ?? 'missing');
  tools = toolsOnly(cluster.binDir);
});

after(async () => {
  await stopSharedCluster();
  rmSync(out, { recursive: true, force: true });
  rmSync(path.dirname(tools), { recursive: true, force: true });
});

/** The binary with nothing but kustomize and helm on PATH (and a kubeconfig when given). */
function sea(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(binary, args, { cwd, env: { PATH: tools, ...env } });
}

describe(
  'single-file executable (Node SEA)',
  { skip: process.platform !== 'linux' && 'built on Linux' },
  () => {
    test('is named for its platform, a self-contained executable', () => {
      assert.equal(path.basename(binary), `slipway-linux-${process.arch}`);
      const mb = statSync(binary).size / 1e6;
      assert.ok(mb > 50 && mb < 200, `${mb.toFixed(1)} MB`);
    });

    test('--version and version name the release and the commit it was built from', async () => {
      const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
      const dirty =
        execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
          cwd: root,
          encoding: 'utf8',
        }) !== '';
      const expected = `slipway ${VERSION} (commit ${head.slice(0, 12)}${dirty ? ', modified' : ''})\n`;
      for (const args of [['--version'], ['version']]) {
        const result = await sea(tmpdir(), args);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, expected);
        assert.equal(result.stderr, '', 'no SEA warning or other noise');
      }
    });

    test('renders Kustomize and Helm and diffs against the cluster with only kustomize and helm on PATH', async () => {
      const repo = mkdtempSync(path.join(tmpdir(), 'slipway-sea-repo-'));
      try {
        cpSync(path.join(root, 'examples', 'gitops-repo'), repo, { recursive: true });
        const render = await sea(repo, ['render', '--env', 'beta']);
        assert.equal(render.code, 0, render.stderr);
        assert.match(render.stdout, /kind: Storefront/);
        assert.match(render.stdout, /# Source: charts\/hello\//, 'rendered by helm');
        assert.match(
          render.stdout,
          /# Source: base\/deployment\.yaml:1 \(kustomize\)/,
          'rendered by kustomize',
        );
        assert.doesNotMatch(render.stdout, /not-a-real-password-beta/);

        const diff = await sea(repo, ['diff', '--env', 'beta', '--format', 'json'], {
          KUBECONFIG: cluster.adminKubeconfig,
          SLIPWAY_RETRY_SECONDS: '5',
        });
        assert.equal(diff.code, 0, diff.stderr);
        const plan = JSON.parse(diff.stdout) as {
          environment: string;
          summary: { create: number; error: number };
        };
        assert.equal(plan.environment, 'beta');
        assert.ok(plan.summary.create > 5, JSON.stringify(plan.summary));
        assert.equal(plan.summary.error, 0);
        assert.doesNotMatch(diff.stdout, /not-a-real-password-beta/);

        // Without the tools on PATH it says which one is missing, as the npm package does.
        const bare = await run(binary, ['render', '--env', 'beta'], { cwd: repo, env: { PATH: '' } });
        assert.equal(bare.code, 1);
        assert.match(bare.stderr, /kustomize|helm/);
      } finally {
        rmSync(repo, { recursive: true, force: true });
      }
    });
  },
);
