// Child processes (helm, kustomize, git) get an allowlisted environment: a chart's or a plugin's
// code must never see the action's tokens, the runner's tokens, the kubeconfig or the age key.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { detectBuild } from '../../src/tools/build-info.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';

const PARENT = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: '/home/runner',
  LANG: 'C.UTF-8',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  no_proxy: 'localhost',
  HELM_REGISTRY_CONFIG: '/home/runner/.config/helm/registry/config.json',
  XDG_CACHE_HOME: '/home/runner/.cache',
  GIT_TERMINAL_PROMPT: '0',
  'INPUT_GITHUB-TOKEN': 'ghs_input_token_value',
  INPUT_KUBECONFIG: 'apiVersion: v1\nusers: [{user: {token: kube-token-value}}]',
  'INPUT_SOPS-AGE-KEY': 'AGE-SECRET-KEY-1INPUT',
  GITHUB_TOKEN: 'ghs_env_token_value',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'actions-id-token-request',
  ACTIONS_RUNTIME_TOKEN: 'actions-runtime-token',
  KUBECONFIG: '/tmp/kubeconfig',
  SOPS_AGE_KEY: 'AGE-SECRET-KEY-1ENV',
  CI_JOB_TOKEN: 'gitlab-job-token',
  SLIPWAY_GITLAB_TOKEN: 'glpat-value',
  HELM_REPO_PASSWORD: 'repo-password',
  GIT_TOKEN: 'git-token',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
};

test('helm, kustomize and git run with an allowlisted environment: no token, kubeconfig or key reaches them', async () => {
  const result = await new ProcessRunner(PARENT).run('env', [], {
    cwd: process.cwd(),
    env: { GIT_INDEX_FILE: '/tmp/i' },
  });
  assert.equal(result.exitCode, 0, result.stderr);
  const seen = Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  assert.deepEqual(Object.keys(seen).sort(), [
    'GIT_INDEX_FILE',
    'GIT_TERMINAL_PROMPT',
    'HELM_REGISTRY_CONFIG',
    'HOME',
    'HTTPS_PROXY',
    'LANG',
    'PATH',
    'XDG_CACHE_HOME',
    'no_proxy',
  ]);
  for (const value of [
    'ghs_',
    'kube-token',
    'AGE-SECRET-KEY',
    'actions-',
    'gitlab-job',
    'glpat',
    'password',
    'aws-secret',
    'git-token',
  ])
    assert.ok(!result.stdout.includes(value), `a child process saw ${value}`);
});

test('the git that finds which Slipway is running gets the same allowlisted environment', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-child-env-'));
  try {
    // A Slipway checkout (package.json named slipway) and a `git` that records what it was given.
    const checkout = path.join(dir, 'slipway');
    mkdirSync(checkout);
    writeFileSync(path.join(checkout, 'package.json'), '{"name": "slipway"}');
    writeFileSync(path.join(checkout, 'index.js'), '');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const seen = path.join(dir, 'seen');
    writeFileSync(path.join(bin, 'git'), `#!/bin/sh\nenv >> '${seen}'\nexit 1\n`);
    chmodSync(path.join(bin, 'git'), 0o755);
    await detectBuild({ ...PARENT, PATH: `${bin}:${PARENT.PATH}` }, path.join(checkout, 'index.js'));
    const env = readFileSync(seen, 'utf8');
    assert.match(env, /^HOME=\/home\/runner$/m, 'git ran');
    for (const name of [
      'INPUT_GITHUB-TOKEN',
      'INPUT_KUBECONFIG',
      'GITHUB_TOKEN',
      'ACTIONS_',
      'SOPS_AGE_KEY',
      'CI_JOB_TOKEN',
    ])
      assert.ok(!env.includes(name), `git saw ${name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
