import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/config.ts';
import { detectAll, type Detection } from '../../src/core/detect/detect.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { GitCli } from '../../src/tools/git.ts';
import { commitAll, copyFixture, git, runSlipway, scratch, type Scratch } from './support.ts';

const scratches: Scratch[] = [];

after(() => {
  for (const s of scratches) s.cleanup();
});

/** A git repository holding the fixture as its first commit; returns the folder and that commit. */
function history(fixture: string): { repo: string; base: string } {
  const s = scratch(`slipway-detect-${fixture}-`);
  scratches.push(s);
  const repo = copyFixture(fixture, s);
  git(repo, 'init', '-q');
  return { repo, base: commitAll(repo, 'initial') };
}

function edit(repo: string, relative: string, text = '# edited\n'): void {
  const file = path.join(repo, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, text);
}

/** What Slipway detects between two commits, through the real git history. */
async function detect(repo: string, base: string, head: string): Promise<Detection> {
  const changed = await new GitCli(new ProcessRunner(process.env), repo).changedFiles(base, head);
  const paths = new RepoPaths(repo);
  return detectAll(paths, loadConfig(paths), changed);
}

describe('detect (kustomize base and overlays)', () => {
  test('a change to the shared base affects every overlay built on it, and only those', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'base/deployment.yaml');
    const head = commitAll(repo, 'change the base');
    assert.deepEqual(await detect(repo, base, head), {
      environments: ['production', 'staging'],
      reasons: { production: ['base/deployment.yaml'], staging: ['base/deployment.yaml'] },
    });
  });

  test('a file read by a configMapGenerator in the base counts as a change to the base', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'base/config/app.properties', 'colour=yellow\n');
    const head = commitAll(repo, 'change generated config');
    const detection = await detect(repo, base, head);
    assert.deepEqual(detection.environments, ['production', 'staging']);
    assert.deepEqual(detection.reasons['staging'], ['base/config/app.properties']);
  });

  test('a change to one overlay affects only that environment', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'clusters/staging/replicas.yaml');
    const head = commitAll(repo, 'scale staging');
    assert.deepEqual(await detect(repo, base, head), {
      environments: ['staging'],
      reasons: { staging: ['clusters/staging/replicas.yaml'] },
    });
  });

  test('a change to slipway.yaml affects every environment', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'slipway.yaml', '# reviewed\n');
    const head = commitAll(repo, 'touch the config');
    const detection = await detect(repo, base, head);
    assert.deepEqual(detection.environments, ['production', 'sandbox', 'staging']);
    for (const env of detection.environments) assert.deepEqual(detection.reasons[env], ['slipway.yaml']);
  });

  test('moving a file out of an environment folder affects that environment', async () => {
    const { repo, base } = history('kustomize');
    git(repo, 'mv', 'clusters/sandbox/configmap.yaml', 'README-sandbox-configmap.yaml');
    const head = commitAll(repo, 'retire the sandbox config');
    assert.deepEqual(await detect(repo, base, head), {
      environments: ['sandbox'],
      reasons: { sandbox: ['clusters/sandbox/configmap.yaml'] },
    });
  });

  test('a change outside every environment (the README) affects none', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'README.md', '\nMore words.\n');
    edit(repo, 'docs/notes.md', 'new notes\n');
    const head = commitAll(repo, 'docs');
    assert.deepEqual(await detect(repo, base, head), { environments: [], reasons: {} });
  });

  test('changes across several commits are all counted, each environment with its own reasons', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'clusters/production/kustomization.yml');
    commitAll(repo, 'one');
    edit(repo, 'clusters/sandbox/configmap.yaml');
    edit(repo, 'README.md');
    const head = commitAll(repo, 'two');
    assert.deepEqual(await detect(repo, base, head), {
      environments: ['production', 'sandbox'],
      reasons: {
        production: ['clusters/production/kustomization.yml'],
        sandbox: ['clusters/sandbox/configmap.yaml'],
      },
    });
  });
});

describe('detect (helm)', () => {
  test('a values file outside the environment folder affects the environment that uses it', async () => {
    const { repo, base } = history('helm');
    edit(repo, 'values/web-production.yaml', 'replicas: 7\n');
    const head = commitAll(repo, 'scale production');
    assert.deepEqual(await detect(repo, base, head), {
      environments: ['production'],
      reasons: { production: ['values/web-production.yaml'] },
    });
  });

  test('a values file inside the environment folder affects that environment', async () => {
    const { repo, base } = history('helm');
    edit(repo, 'clusters/staging/web-values.yaml', 'greeting: hi\n');
    const head = commitAll(repo, 'greet staging');
    assert.deepEqual((await detect(repo, base, head)).environments, ['staging']);
  });

  test('a change to the chart affects every environment rendering it', async () => {
    const { repo, base } = history('helm');
    edit(repo, 'charts/web-chart/templates/deployment.yaml', '# comment\n');
    const head = commitAll(repo, 'chart change');
    assert.deepEqual(await detect(repo, base, head), {
      environments: ['production', 'staging'],
      reasons: {
        production: ['charts/web-chart/templates/deployment.yaml'],
        staging: ['charts/web-chart/templates/deployment.yaml'],
      },
    });
  });
});

describe('slipway detect', () => {
  test('prints the environments and reasons as one line of JSON', async () => {
    const { repo, base } = history('kustomize');
    edit(repo, 'base/service.yaml');
    edit(repo, 'clusters/staging/replicas.yaml');
    const head = commitAll(repo, 'two changes');
    const run = await runSlipway(['detect', '--base', base, '--head', head], {
      cwd: repo,
      env: { PATH: process.env['PATH'] },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^\{"environments":\[.*\],"reasons":\{.*\}\}\n$/,
      'one line of JSON, environments first',
    );
    assert.deepEqual(JSON.parse(run.stdout), {
      environments: ['production', 'staging'],
      reasons: {
        production: ['base/service.yaml'],
        staging: ['base/service.yaml', 'clusters/staging/replicas.yaml'],
      },
    });
  });

  test('accepts branch names and --repo, and prints empty results when nothing is affected', async () => {
    const { repo } = history('kustomize');
    git(repo, 'checkout', '-q', '-b', 'docs');
    writeFileSync(
      path.join(repo, 'README.md'),
      `${readFileSync(path.join(repo, 'README.md'), 'utf8')}\nEdited.\n`,
    );
    commitAll(repo, 'docs only');
    const run = await runSlipway(['detect', '--repo', repo, '--base', 'main', '--head', 'docs'], {
      cwd: path.dirname(repo),
      env: { PATH: process.env['PATH'] },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { environments: [], reasons: {} });
  });

  test('an unknown revision is an error that says what to fetch', async () => {
    const { repo, base } = history('kustomize');
    const run = await runSlipway(['detect', '--base', base, '--head', 'no-such-branch'], {
      cwd: repo,
      env: { PATH: process.env['PATH'] },
    });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /git could not compare .* with no-such-branch/);
    assert.match(run.stderr, /fetch-depth: 0/);
  });
});
