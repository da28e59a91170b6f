// Releases and install paths kept honest: package.json is publishable and dependency-free, one
// version number everywhere (package.json, VERSION, CHANGELOG.md), the release workflow does what
// the README says it does, the README's Install section agrees with package.json, action.yml and
// the component's inputs, and `slipway version` names the commit it runs from.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { load, loadAll } from 'js-yaml';
import { runCli } from '../../src/cli/main.ts';
import { composeComment } from '../../src/core/report/markdown.ts';
import {
  describeBuild,
  NODE_ENGINES,
  stampedBuild,
  unsupportedNode,
  VERSION,
} from '../../src/core/version.ts';
import { detectBuild } from '../../src/tools/build-info.ts';
import { checkRelease } from '../../scripts/release-check.ts';
import { compileJsonSchema } from '../support/json-schema.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as Record<string, unknown> & {
  name: string;
  version: string;
  bin: Record<string, string>;
  files: string[];
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const readme = read('README.md');
const install = /^## Install\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
const codeBlocks = (text: string, lang: string): string[] =>
  [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] ?? '');

interface Workflow {
  on: { push: { tags: string[] } };
  jobs: Record<
    string,
    {
      needs?: string | string[];
      permissions?: Record<string, string>;
      strategy?: { matrix: { include: { runner: string; asset: string }[] } };
      steps: { uses?: string; run?: string; env?: Record<string, string | undefined> }[];
    }
  >;
}
const release = load(read('.github/workflows/release.yml')) as Workflow;
const runs = (job: string): string => (release.jobs[job]?.steps ?? []).map((s) => s.run ?? '').join('\n');

describe('the npm package', () => {
  test('is publishable: public, the bundled CLI as `slipway`, only what runs', () => {
    assert.equal(pkg.name, 'slipway');
    assert.equal(pkg.private, undefined, 'not private');
    assert.deepEqual(pkg.bin, { slipway: 'dist/cli.js' });
    assert.deepEqual(pkg.files, ['dist/cli.js', 'dist/cli/', 'dist/package.json']);
    assert.deepEqual(pkg.publishConfig, { access: 'public', provenance: true });
    assert.match(JSON.stringify(pkg.repository), /github\.com\/slipway-dev\/slipway/, 'provenance needs it');
  });

  test('has no runtime dependencies: dist/ bundles them all', () => {
    assert.equal(
      pkg.dependencies,
      undefined,
      'packages the code imports are bundled into dist/: list them in devDependencies',
    );
    for (const bundled of ['@kubernetes/client-node', 'js-yaml', 'diff'])
      assert.ok(pkg.devDependencies[bundled], `${bundled} is a devDependency`);
  });

  test('engines says the Node versions the CLI refuses nothing on, and refuses the others', () => {
    assert.equal(pkg.engines.node, NODE_ENGINES);
    for (const ok of ['22.15.0', '22.22.1', '23.8.0', '24.0.0', '24.21.0', '26.1.0'])
      assert.equal(unsupportedNode(ok), undefined, ok);
    for (const old of ['20.20.2', '22.14.0', '23.7.0', '18.20.0'])
      assert.match(
        unsupportedNode(old) ?? '',
        new RegExp(`needs Node 22\\.15 or newer \\(this is Node ${old}\\)`),
      );
  });

  test('is MIT licensed, with the license text shipped', () => {
    assert.equal(pkg.license, 'MIT');
    const license = read('LICENSE');
    assert.match(license, /^MIT License\n\nCopyright \(c\) \d{4} Slipway contributors\n/);
    assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS"/);
  });
});

describe('one version number', () => {
  test('package.json, src/core/version.ts and CHANGELOG.md agree (what the release workflow checks)', () => {
    assert.equal(VERSION, pkg.version);
    const result = checkRelease(`v${pkg.version}`, {
      packageJson: read('package.json'),
      changelog: read('CHANGELOG.md'),
      sourceVersion: VERSION,
    });
    assert.deepEqual(result.problems, []);
    assert.match(result.notes, /### Added/);
  });

  test('the release check refuses a tag the files do not match, or a malformed one', () => {
    const files = {
      packageJson: read('package.json'),
      changelog: read('CHANGELOG.md'),
      sourceVersion: VERSION,
    };
    assert.deepEqual(checkRelease('v9.9.9', files).problems, [
      `package.json has version ${pkg.version}, the tag says 9.9.9`,
      `src/core/version.ts has VERSION ${VERSION}, the tag says 9.9.9`,
      'CHANGELOG.md has no "## [9.9.9] - YYYY-MM-DD" entry',
    ]);
    assert.match(checkRelease('0.1.0', files).problems[0] ?? '', /is not v<major>\.<minor>\.<patch>/);
    const empty = checkRelease('v0.1.0', {
      ...files,
      changelog: '# Changelog\n\n## [0.1.0] - 2026-12-01\n\n',
    });
    assert.deepEqual(empty.problems, ['the CHANGELOG.md entry of 0.1.0 is empty']);
  });
});

describe('slipway version', () => {
  test('describes a build by release and commit, or by the ref it was fetched by', () => {
    const sha = 'a'.repeat(40);
    assert.equal(describeBuild({ version: '1.2.3', commit: sha }), 'slipway 1.2.3 (commit aaaaaaaaaaaa)');
    assert.equal(
      describeBuild({ version: '1.2.3', commit: sha, modified: true }),
      'slipway 1.2.3 (commit aaaaaaaaaaaa, modified)',
    );
    assert.equal(
      describeBuild({ version: '1.2.3', ref: 'slipway-dev/slipway@v1' }),
      'slipway 1.2.3 (slipway-dev/slipway@v1)',
    );
    assert.equal(describeBuild({ version: '1.2.3' }), 'slipway 1.2.3');
    assert.deepEqual(stampedBuild(`${sha}+modified`), { version: VERSION, commit: sha, modified: true });
    assert.equal(stampedBuild(''), undefined, 'the committed dist/ carries no stamp');
    assert.equal(stampedBuild('not-a-sha'), undefined);
  });

  test('from this checkout: the commit of HEAD, marked modified when the tree has changes', async () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    });
    const info = await detectBuild(process.env, path.join(root, 'src', 'cli.ts'));
    assert.deepEqual(info, { version: VERSION, commit: head, modified: dirty !== '' });
    let out = '';
    assert.equal(
      await runCli(['version'], {
        stdout: (t) => (out += t),
        stderr: () => undefined,
        env: process.env,
        cwd: root,
        isTty: false,
      }),
      0,
    );
    assert.match(
      out,
      new RegExp(
        `^slipway ${VERSION.replace(/\./g, '\\.')} \\(commit ${head.slice(0, 12)}(, modified)?\\)\\n$`,
      ),
    );
    assert.equal(
      await runCli(['version', 'extra'], {
        stdout: () => undefined,
        stderr: () => undefined,
        env: {},
        cwd: root,
        isTty: false,
      }),
      1,
    );
  });

  test("installed inside someone's repository it never reports that repository's commit", async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'slipway-user-repo-'));
    try {
      execFileSync('git', ['init', '-q', repo]);
      execFileSync('git', [
        '-C',
        repo,
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@e',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'x',
      ]);
      const installed = path.join(repo, 'node_modules', 'slipway');
      mkdirSync(path.join(installed, 'dist'), { recursive: true });
      writeFileSync(path.join(installed, 'package.json'), '{ "name": "slipway" }\n');
      writeFileSync(path.join(installed, 'dist', 'cli.js'), '');
      const script = path.join(installed, 'dist', 'cli.js');
      assert.deepEqual(await detectBuild({ PATH: process.env.PATH }, script), {
        version: VERSION,
        ref: undefined,
      });
      // The GitHub runner downloads the action without .git: the ref it was asked for is all there is.
      const action = await detectBuild(
        { PATH: process.env.PATH, GITHUB_ACTION_REPOSITORY: 'slipway-dev/slipway', GITHUB_ACTION_REF: 'v0' },
        script,
      );
      assert.equal(describeBuild(action), `slipway ${VERSION} (slipway-dev/slipway@v0)`);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  test('every CI log starts with it: the action (src/index.ts) and `slipway ci` on GitLab', async () => {
    const expected = describeBuild(await detectBuild(process.env, path.join(root, 'src', 'index.ts')));
    // No GitHub variables: the action fails at once, but only after saying which Slipway it is.
    const action = spawnSync(process.execPath, [path.join(root, 'src', 'index.ts')], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    assert.equal(action.stdout.split('\n')[0], expected, action.stdout + action.stderr);
    assert.equal(action.status, 1);
    const repo = mkdtempSync(path.join(tmpdir(), 'slipway-ci-log-'));
    try {
      mkdirSync(path.join(repo, 'envs', 'dev'), { recursive: true });
      writeFileSync(path.join(repo, 'slipway.yaml'), 'environments:\n  dev:\n    path: envs/dev\n');
      let stderr = '';
      const io = { stdout: () => undefined, stderr: (t: string) => (stderr += t), cwd: repo, isTty: false };
      assert.equal(
        await runCli(['ci'], { ...io, env: { PATH: process.env.PATH } }),
        1,
        'GITLAB_CI is not set',
      );
      assert.equal(stderr.split('\n')[0], describeBuild(await detectBuild({}, process.argv[1])));
      assert.match(stderr, /GITLAB_CI is not set/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  test('the plan comment ends with the build that made it', async () => {
    await detectBuild(
      { PATH: process.env.PATH, GITHUB_ACTION_REPOSITORY: 'acme/slipway', GITHUB_ACTION_REF: 'v0' },
      undefined,
    );
    const bodies = composeComment(
      [],
      { environment: 'dev', plan: undefined, findings: [], failure: 'cluster unreachable' },
      { limit: 65_536 },
    );
    assert.match(
      bodies.at(-1) ?? '',
      new RegExp(`<sub>slipway ${VERSION.replace(/\./g, '\\.')} \\(acme/slipway&#64;v0\\)</sub>\\n$`),
    );
  });
});

describe('the release workflow', () => {
  test('runs on version tags only, and checks before it builds', () => {
    assert.deepEqual(release.on.push.tags, ['v[0-9]+.[0-9]+.[0-9]+']);
    assert.match(runs('verify'), /node scripts\/release-check\.ts "\$GITHUB_REF_NAME"/);
    assert.match(runs('verify'), /bash \.ci\/run/, 'lint, types, dist/ unchanged and every test');
    assert.deepEqual(
      Object.fromEntries(Object.entries(release.jobs).map(([name, job]) => [name, job.needs ?? null])),
      {
        verify: null,
        draft: 'verify',
        binaries: 'draft',
        npm: 'binaries',
        publish: 'npm',
        gitlab: 'publish',
      },
    );
  });

  test('publishes to npm with provenance, from an id-token', () => {
    assert.equal(release.jobs.npm?.permissions?.['id-token'], 'write');
    assert.match(runs('npm'), /^npm publish --provenance --access public$/m);
    assert.match(runs('npm'), /npm run build/);
    assert.equal(
      release.jobs.npm.steps.find((s) => s.run === 'npm run build')?.env?.SLIPWAY_BUILD_COMMIT,
      '${{ github.sha }}',
    );
  });

  test('builds a binary per platform, attaches them with SHA-256 sums, moves the major tag, tags GitLab', () => {
    const assets = release.jobs.binaries?.strategy?.matrix.include.map((m) => m.asset) ?? [];
    assert.deepEqual(assets, [
      'slipway-linux-x64',
      'slipway-linux-arm64',
      'slipway-darwin-arm64',
      'slipway-win32-x64.exe',
    ]);
    assert.match(runs('binaries'), /npm run sea -- --out sea/);
    assert.match(runs('publish'), /sha256sum slipway-\* > SHA256SUMS/);
    assert.match(runs('publish'), /--draft=false/);
    assert.match(runs('publish'), /git push --force origin "refs\/tags\/\$major"/);
    assert.match(
      runs('gitlab'),
      /git push "\$GITLAB_PROJECT_URL" "refs\/tags\/\$GITHUB_REF_NAME" "refs\/tags\/\$version"/,
    );
  });

  test("GitLab's pipeline publishes each plain semantic-version tag to the CI/CD catalog", () => {
    const validate = compileJsonSchema(JSON.parse(read('test/fakes/gitlab-ci-schema/ci.json')) as object);
    const pipeline = load(read('.gitlab-ci.yml')) as {
      workflow: { rules: { if: string }[] };
      'create-release': { release: { tag_name: string } };
    };
    assert.deepEqual(validate(pipeline), []);
    assert.equal(pipeline.workflow.rules[0]?.if, '$CI_COMMIT_TAG =~ /^\\d+\\.\\d+\\.\\d+$/');
    assert.equal(pipeline['create-release'].release.tag_name, '$CI_COMMIT_TAG');
  });
});

describe('README "Install" is in step with what ships', () => {
  const major = `v${pkg.version.split('.')[0] ?? ''}`;

  test('the action: its reference, major tag and inputs', () => {
    const action = load(read('action.yml')) as { inputs: Record<string, unknown>; runs: { using: string } };
    const block = codeBlocks(install, 'yaml').find((b) => b.includes('uses:')) ?? '';
    const [step] = load(block) as [{ uses: string; with: Record<string, string> }];
    assert.equal(step.uses, `slipway-dev/slipway@${major}`);
    for (const input of Object.keys(step.with))
      assert.ok(input in action.inputs, `action.yml declares ${input}`);
    assert.match(install, new RegExp(`pin \`v${pkg.version.replace(/\./g, '\\.')}\``));
    assert.equal(action.runs.using, 'node24');
    assert.match(install, /the runner's Node 24/);
  });

  test('the component: catalog version, Slipway version and inputs', () => {
    const [spec] = loadAll(read('templates/slipway.yml')) as [
      { spec: { inputs: Record<string, { default?: unknown }> } },
    ];
    const block = codeBlocks(install, 'yaml').find((b) => b.includes('component:')) ?? '';
    const { include } = load(block) as { include: { component: string; inputs: Record<string, string> }[] };
    const entry = include.at(0);
    assert.ok(entry, 'README includes the component');
    assert.equal(entry.component, `$CI_SERVER_FQDN/slipway-dev/slipway/slipway@${pkg.version}`);
    for (const [name, input] of Object.entries(spec.spec.inputs)) {
      if (input.default === undefined) assert.ok(name in entry.inputs, `required input ${name} is shown`);
    }
    for (const name of Object.keys(entry.inputs))
      assert.ok(name in spec.spec.inputs, `the component declares ${name}`);
    assert.equal(entry.inputs.version, `v${pkg.version}`);
  });

  test('npm: the package name and the Node versions engines allows', () => {
    const sh = codeBlocks(install, 'sh').join('\n');
    assert.match(sh, new RegExp(`^npm install --save-dev ${pkg.name}\\b`, 'm'));
    assert.match(sh, new RegExp(`^npm install --global ${pkg.name}\\b`, 'm'));
    assert.match(install, /\| npm package `slipway` +\| laptops, any CI with Node +\| Node 22\.15 or newer/);
    assert.match(pkg.engines.node, /^\^22\.15\.0 /);
  });

  test('binaries: the release assets and SHA256SUMS the workflow attaches', () => {
    const assets = release.jobs.binaries?.strategy?.matrix.include.map((m) => m.asset) ?? [];
    for (const asset of assets) assert.ok(install.includes(`\`${asset}\``), `README names ${asset}`);
    const sh = codeBlocks(install, 'sh').join('\n');
    assert.ok(sh.includes(`/releases/download/v${pkg.version}/slipway-linux-x64`));
    assert.ok(sh.includes(`/releases/download/v${pkg.version}/SHA256SUMS`));
    assert.match(sh, /sha256sum --check --ignore-missing SHA256SUMS/);
  });
});
