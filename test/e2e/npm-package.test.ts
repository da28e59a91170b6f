// The npm package `slipway` as a newcomer gets it: `npm pack` of this tree, installed offline into
// an empty folder (so it cannot pull a dependency), then `npx slipway …` under Node 24 and under the
// machine's own Node (20 here) against the real control plane; and the README's quick start run
// line by line on examples/gitops-repo with nothing but that installed package.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { unsupportedNode } from '../../src/core/version.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import {
  cleanEnv,
  installOffline,
  nodeVersions,
  packTarball,
  root,
  run,
  systemProgram,
  type Run,
} from './package.ts';

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const npx = systemProgram('npx') ?? 'npx';
const scratch = mkdtempSync(path.join(tmpdir(), 'slipway-npm-'));
let cluster: Cluster;
let packed: { tarball: string; files: string[] };
let installed: string;

before(async () => {
  cluster = await sharedCluster();
  packed = packTarball();
  installed = path.join(scratch, 'installed');
  mkdirSync(installed);
  await installOffline(installed, packed.tarball);
});

after(async () => {
  await stopSharedCluster();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(path.dirname(packed.tarball), { recursive: true, force: true });
});

/** `npx slipway …` in `cwd` with the package installed in `installed`, under the Node in `nodeBin`. */
function slipway(nodeBin: string, cwd: string, args: string[]): Promise<Run> {
  return run(npx, ['--prefix', installed, 'slipway', ...args], {
    cwd,
    env: cleanEnv({
      // The chosen Node first, then the cluster's kustomize and helm, then the system (sh, git).
      PATH: [path.dirname(nodeBin), cluster.binDir, '/usr/bin', '/bin'].join(path.delimiter),
      KUBECONFIG: cluster.adminKubeconfig,
      npm_config_offline: 'true',
      npm_config_cache: path.join(installed, '.npm-cache'),
      SLIPWAY_RETRY_SECONDS: '5',
    }),
  });
}

describe('the npm package', () => {
  test('holds the bundled CLI, README, LICENSE and package.json, nothing else', () => {
    assert.deepEqual(
      packed.files.filter((f) => !f.startsWith('dist/cli/')),
      ['LICENSE', 'README.md', 'dist/cli.js', 'dist/package.json', 'package.json'],
    );
    for (const file of ['dist/cli/index.js', 'dist/cli/licenses.txt'])
      assert.ok(packed.files.includes(file), `${file} is packed`);
  });

  test('installs offline into an empty folder and brings no dependency with it', () => {
    assert.deepEqual(readdirSync(path.join(installed, 'node_modules')).sort(), [
      '.bin',
      '.package-lock.json',
      'slipway',
    ]);
    assert.ok(existsSync(path.join(installed, 'node_modules', '.bin', 'slipway')));
  });

  for (const node of nodeVersions()) {
    const version = execFileSync(node.bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (unsupportedNode(version)) {
      test(`under ${node.label}, older than engines allows, it says so and stops`, async () => {
        const repo = new TestRepo({});
        try {
          for (const args of [['--version'], ['validate']]) {
            const result = await slipway(node.bin, repo.dir, args);
            assert.equal(result.code, 1);
            assert.equal(result.stdout, '');
            assert.match(result.stderr, /^slipway: Slipway needs Node 22\.15 or newer \(this is Node /);
          }
        } finally {
          repo.remove();
        }
      });
      continue;
    }
    test(`npx slipway --help, --version, init, render, validate and diff under ${node.label}`, async () => {
      const env = unique('npm').replace(/-/g, '');
      const namespace = unique('npm-ns');
      const repo = new TestRepo({
        [`${env}-cluster/kustomization.yaml`]: 'resources: [namespace.yaml, settings.yaml, secret.yaml]\n',
        [`${env}-cluster/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
        [`${env}-cluster/settings.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${namespace}\ndata:\n  color: blue\n`,
        [`${env}-cluster/secret.yaml`]: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: ${namespace}\nstringData:\n  password: hunter2-npm\n`,
      });
      try {
        const help = await slipway(node.bin, repo.dir, ['--help']);
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, /^usage: slipway <command>/);

        // An installed package is no Slipway checkout: the release, and no commit of the user's repo.
        const version = await slipway(node.bin, repo.dir, ['--version']);
        assert.equal(version.stdout, `slipway ${pkg.version}\n`, version.stderr);

        const init = await slipway(node.bin, repo.dir, ['init']);
        assert.equal(init.code, 0, init.stderr);
        assert.match(init.stdout, /wrote slipway\.yaml/);
        assert.match(readFileSync(path.join(repo.dir, 'slipway.yaml'), 'utf8'), new RegExp(`${env}:`));

        const render = await slipway(node.bin, repo.dir, ['render', '--env', env]);
        assert.equal(render.code, 0, render.stderr);
        assert.match(render.stdout, /kind: ConfigMap/);
        assert.match(render.stdout, /kind: Secret/);
        assert.doesNotMatch(render.stdout + render.stderr, /hunter2-npm/);

        const validate = await slipway(node.bin, repo.dir, ['validate']);
        assert.equal(validate.code, 0, validate.stderr);
        assert.match(validate.stderr, new RegExp(`${env}: 3 objects, 0 errors`));

        const diff = await slipway(node.bin, repo.dir, ['diff', '--env', env, '--format', 'json']);
        assert.equal(diff.code, 0, diff.stderr);
        const plan = JSON.parse(diff.stdout) as { summary: { create: number }; objects: { kind: string }[] };
        assert.equal(plan.summary.create, 3);
        assert.deepEqual(plan.objects.map((o) => o.kind).sort(), ['ConfigMap', 'Namespace', 'Secret']);
        assert.doesNotMatch(diff.stdout + diff.stderr, /hunter2-npm/);
      } finally {
        repo.remove();
      }
    });
  }
});

/** The shell lines of the README's quick start, comments dropped. */
function quickStartLines(): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = /^## Quick start[^\n]*\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

describe('the README quick start, step by step on examples/gitops-repo, with only the package', () => {
  test('install → --version → init → render → validate → diff → apply on the control plane', async () => {
    const lines = quickStartLines();
    assert.deepEqual(
      lines.map((line) => line.split(/\s+/).slice(0, 3).join(' ')),
      [
        'npm install --save-dev',
        'npx slipway --version',
        'npx slipway init',
        'npx slipway render',
        'npx slipway validate',
        'npx slipway diff',
        'npx slipway apply',
      ],
      'the quick start is the sequence this test runs',
    );
    const repo = new TestRepo({});
    cpSync(path.join(root, 'examples', 'gitops-repo'), repo.dir, { recursive: true });
    repo.commit({}, 'the example repository');
    const secretValue = 'not-a-real-password-beta';
    const env = cleanEnv({
      PATH: [path.dirname(process.execPath), cluster.binDir, '/usr/bin', '/bin'].join(path.delimiter),
      KUBECONFIG: cluster.adminKubeconfig,
      npm_config_offline: 'true',
      npm_config_cache: path.join(repo.dir, '.npm-cache'),
      SLIPWAY_RETRY_SECONDS: '5',
    });
    const outputs: Record<string, Run> = {};
    try {
      for (const line of lines) {
        const [command = '', ...args] = line.split(/\s+/);
        const result =
          command === 'npm'
            ? // The registry's `slipway` is this tree's tarball: same command, offline.
              await run(systemProgram('npm') ?? 'npm', [...args.slice(0, -1), '--offline', packed.tarball], {
                cwd: repo.dir,
                env,
              })
            : await run(systemProgram(command) ?? command, args, { cwd: repo.dir, env });
        assert.equal(result.code, 0, `${line}\n${result.stdout}\n${result.stderr}`);
        assert.ok(!(result.stdout + result.stderr).includes(secretValue), `${line} shows no Secret value`);
        outputs[args[1] ?? command] = result;
      }
      assert.match(outputs['--version']?.stdout ?? '', new RegExp(`^slipway ${pkg.version}\\b`));
      assert.match(
        outputs.init?.stdout ?? '',
        /kept slipway\.yaml[\s\S]*wrote \.github\/workflows\/slipway-plan\.yml/,
      );
      assert.match(outputs.render?.stdout ?? '', /kind: Storefront/);
      assert.match(outputs.diff?.stdout ?? '', /Storefront/);
      assert.match(outputs.apply?.stdout ?? '', /^beta: applied/m);
      // What the apply made is really there, as kubectl sees it.
      assert.match(
        kubectl(cluster, ['get', 'storefronts.shop.example.com', '-n', 'shop-beta', '-o', 'name']),
        /main/,
      );
      assert.match(kubectl(cluster, ['get', 'deployments', '-n', 'shop-beta', '-o', 'name']), /deployment/);
    } finally {
      repo.remove();
    }
  });
});
