import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { loadAll } from 'js-yaml';
import {
  cliEnv,
  commitAll,
  copyFixture,
  git,
  pinnedTools,
  PROJECT_ROOT,
  runSlipway,
  scratch,
  type RenderToolPaths,
  type Scratch,
} from './support.ts';

const COMMANDS = ['detect', 'render', 'validate', 'diff', 'apply', 'init'];
const USAGE_LINE = 'usage: slipway <command> [options]';

let tools: RenderToolPaths;
const scratches: Scratch[] = [];

before(async () => {
  tools = await pinnedTools();
});

after(() => {
  for (const s of scratches) s.cleanup();
});

function fixture(name: string): string {
  const s = scratch(`slipway-cli-${name}-`);
  scratches.push(s);
  return copyFixture(name, s);
}

function write(repo: string, relative: string, text: string): void {
  const file = path.join(repo, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const run = (argv: string[], cwd: string, extra: Record<string, string> = {}) =>
  runSlipway(argv, { cwd, env: cliEnv(tools, extra) });

describe('help and usage errors', () => {
  test('--help lists every command and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], []]) {
      const result = await runSlipway(argv, { cwd: PROJECT_ROOT });
      assert.equal(result.code, 0, `slipway ${argv.join(' ')}`);
      assert.ok(result.stdout.startsWith(USAGE_LINE), result.stdout);
      for (const command of COMMANDS)
        assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'), `${command} is missing from the help`);
      assert.equal(result.stderr, '');
    }
  });

  test('`<command> --help` shows the help instead of running the command', async () => {
    const result = await runSlipway(['render', '--help'], { cwd: '/nonexistent' });
    assert.equal(result.code, 0);
    assert.ok(result.stdout.startsWith(USAGE_LINE));
  });

  test('the real entry point prints the help and exits 0 as a process', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(PROJECT_ROOT, 'src/cli.ts'), '--help'],
      { cwd: PROJECT_ROOT },
    );
    for (const command of COMMANDS) assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
  });

  for (const [argv, message] of [
    [['deploy'], /unknown command "deploy"/],
    [['render', '--envv', 'prod'], /unknown option "--envv"/],
    [['render', 'prod'], /unexpected argument "prod"/],
    [['detect', '--env', 'prod'], /option --env does not apply to `slipway detect`/],
    [['render'], /`slipway render` needs --env/],
    [['render', '--env'], /option --env needs a value/],
    [['diff', '--format', 'yaml'], /--format must be text, markdown or json, not "yaml"/],
    [['validate', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 256/],
  ] as const) {
    test(`slipway ${argv.join(' ')} → exit 1 with the problem and a usage line`, async () => {
      const result = await runSlipway([...argv], { cwd: PROJECT_ROOT });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.ok(result.stderr.split('\n').includes(USAGE_LINE), result.stderr);
    });
  }

  test('a usage error exits 1 as a process too', async () => {
    await assert.rejects(
      promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'src/cli.ts'), 'deploy'], {
        cwd: PROJECT_ROOT,
      }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /unknown command "deploy"/);
        return true;
      },
    );
  });
});

describe('slipway render', () => {
  // Unique values: if any form of them shows up in the output, a Secret leaked.
  const DATA_VALUE = 'data-s3cr3t-7c1e9a-value';
  const STRING_VALUE = 'stringdata-s3cr3t-55d0b2-value';
  const GENERATED_VALUE = 'generated-s3cr3t-a8f3e1-value';
  const forms = (value: string): string[] => [
    value,
    Buffer.from(value).toString('base64'),
    encodeURIComponent(value),
  ];

  test('prints every object as YAML under a # Source: line with file and line', async () => {
    const repo = fixture('plain');
    const result = await run(['render', '--env', 'prod'], repo);
    assert.equal(result.code, 0, result.stderr);
    const sources = result.stdout.split('\n').filter((line) => line.startsWith('# Source: '));
    assert.deepEqual(sources, [
      '# Source: clusters/prod/apps/api/configmap.json:1',
      '# Source: clusters/prod/apps/api/deep/nested/limits.yml:1',
      '# Source: clusters/prod/apps/web/web.yaml:2',
      '# Source: clusters/prod/apps/web/web.yaml:22',
      '# Source: clusters/prod/namespace.yaml:1',
    ]);
    const documents = loadAll(result.stdout) as { kind: string; metadata: { name: string } }[];
    assert.deepEqual(
      documents.map((d) => `${d.kind}/${d.metadata.name}`),
      ['ConfigMap/api-settings', 'LimitRange/api-limits', 'Deployment/web', 'Service/web', 'Namespace/shop'],
    );
  });

  test('names how kustomize and helm output were made', async () => {
    const kustomize = await run(['render', '--env', 'production'], fixture('kustomize'));
    assert.equal(kustomize.code, 0, kustomize.stderr);
    assert.match(kustomize.stdout, /^# Source: base\/deployment\.yaml:1 \(kustomize\)$/m);
    assert.doesNotMatch(kustomize.stdout, /config\.kubernetes\.io/);
    const helm = await run(['render', '--env', 'staging'], fixture('helm'));
    assert.equal(helm.code, 0, helm.stderr);
    assert.match(
      helm.stdout,
      /^# Source: charts\/web-chart\/templates\/deployment\.yaml \(helm release web\)$/m,
    );
    // Namespaced objects from the release are shown in the environment's namespace.
    const deployment = (loadAll(helm.stdout) as { kind: string; metadata: { namespace?: string } }[]).find(
      (d) => d.kind === 'Deployment',
    );
    assert.equal(deployment?.metadata.namespace, 'web-staging');
  });

  test('masks Secret values, whether written as data, stringData or generated by kustomize', async () => {
    const repo = fixture('kustomize');
    write(
      repo,
      'clusters/staging/secret.yaml',
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ${Buffer.from(DATA_VALUE).toString('base64')}\nstringData:\n  token: ${STRING_VALUE}\n`,
    );
    const kustomization = path.join(repo, 'clusters/staging/kustomization.yaml');
    writeFileSync(
      kustomization,
      `${readFileSync(kustomization, 'utf8').replace('  - ../../base\n', '  - ../../base\n  - secret.yaml\n')}secretGenerator:\n  - name: api\n    literals:\n      - key=${GENERATED_VALUE}\n`,
    );
    const result = await run(['render', '--env', 'staging'], repo);
    assert.equal(result.code, 0, result.stderr);
    for (const value of [DATA_VALUE, STRING_VALUE, GENERATED_VALUE]) {
      for (const form of forms(value)) {
        assert.ok(!result.stdout.includes(form), `stdout shows ${form}`);
        assert.ok(!result.stderr.includes(form), `stderr shows ${form}`);
      }
    }
    const secrets = (
      loadAll(result.stdout) as { kind: string; metadata: { name: string }; data?: Record<string, string> }[]
    ).filter((d) => d.kind === 'Secret');
    assert.deepEqual(
      secrets.map((s) => [s.metadata.name.replace(/-[a-z0-9]{10}$/, ''), s.data]),
      [
        ['api', { key: '***' }],
        ['db', { password: '***', token: '***' }],
      ],
    );
  });

  test('an unknown environment exits 1 and lists the known ones', async () => {
    const result = await run(['render', '--env', 'prdo'], fixture('plain'));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /unknown environment "prdo" \(known: prod, staging\)/);
  });

  test('a render with errors still exits 1 and names the file and line on stderr', async () => {
    const repo = fixture('plain');
    write(
      repo,
      'clusters/prod/broken.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n',
    );
    const result = await run(['render', '--env', 'prod'], repo);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error: clusters\/prod\/broken\.yaml:4: name "Not_Valid" must be a DNS subdomain/m,
    );
  });
});

describe('slipway validate', () => {
  test('a clean repository prints no findings and exits 0', async () => {
    const result = await run(['validate'], fixture('kustomize'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    for (const env of ['staging', 'production', 'sandbox'])
      assert.match(result.stderr, new RegExp(`^${env}: \\d+ objects, 0 errors, 0 warnings$`, 'm'));
  });

  test('errors are printed as FILE:LINE: messages on stdout and exit 1', async () => {
    const repo = fixture('plain');
    const planted = 'n0t-base64!planted-9d41';
    write(
      repo,
      'clusters/prod/broken.yaml',
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: web.v2\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: ${planted}\n`,
    );
    write(repo, 'clusters/prod/tabs.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n');
    write(
      repo,
      'clusters/prod/copy.yaml',
      '# the same Namespace again\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
    );
    const result = await run(['validate', '--env', 'prod'], repo);
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split('\n');
    assert.ok(
      lines.includes(
        'clusters/prod/broken.yaml:4: error: name "web.v2" must be a DNS label: lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters',
      ),
      result.stdout,
    );
    assert.ok(
      lines.includes(
        'clusters/prod/broken.yaml:6: error: Secret creds data key "password" is not base64; put plain text under stringData instead',
      ),
      result.stdout,
    );
    assert.ok(
      lines.some((line) => line.startsWith('clusters/prod/tabs.yaml:4: error: invalid YAML: tab characters')),
      result.stdout,
    );
    assert.ok(
      lines.includes(
        'clusters/prod/namespace.yaml:1: error: Namespace shop is defined twice: here and at clusters/prod/copy.yaml:2; keep one',
      ),
      result.stdout,
    );
    for (const line of lines) assert.match(line, /^clusters\/prod\/[a-z.]+:\d+: (error|warning): /);
    assert.ok(!(result.stdout + result.stderr).includes(planted), 'the Secret value must not be printed');
  });

  test('an error in one environment fails the run; the clean one is still checked', async () => {
    const repo = fixture('plain');
    write(repo, 'clusters/staging/bad.yaml', 'kind: ConfigMap\nmetadata:\n  name: x\n');
    const result = await run(['validate'], repo);
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout,
      'clusters/staging/bad.yaml:1: error: missing `apiVersion` (e.g. `apiVersion: v1` or `apps/v1`)\n',
    );
    assert.match(result.stderr, /^prod: 5 objects, 0 errors, 0 warnings$/m);
    assert.match(result.stderr, /^staging: 1 objects, 1 errors, 0 warnings$/m);
  });

  test('--base compares with an earlier revision: a removed PVC warns (exit 0), a changed selector fails (exit 1)', async () => {
    const repo = fixture('plain');
    git(repo, 'init', '-q');
    write(
      repo,
      'clusters/prod/data.yaml',
      'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: shop\nspec:\n  accessModes: [ReadWriteOnce]\n',
    );
    const base = commitAll(repo, 'with a volume');
    rmSync(path.join(repo, 'clusters/prod/data.yaml'));
    commitAll(repo, 'drop the volume');

    const removed = await run(['validate', '--env', 'prod', '--base', base], repo);
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.equal(
      removed.stdout,
      'clusters/prod/data.yaml: warning: PersistentVolumeClaim shop/data was removed from Git: deleting it deletes its volume data (it is protected from prune unless allow-delete lists PersistentVolumeClaim)\n',
    );

    const web = path.join(repo, 'clusters/prod/apps/web/web.yaml');
    writeFileSync(
      web,
      readFileSync(web, 'utf8').replace(
        '    matchLabels:\n      app: web\n',
        '    matchLabels:\n      app: web\n      tier: front\n',
      ),
    );
    const changed = await run(['validate', '--env', 'prod', '--base', base], repo);
    assert.equal(changed.code, 1);
    assert.match(
      changed.stdout,
      /^clusters\/prod\/apps\/web\/web\.yaml:9: error: Deployment\.apps shop\/web: spec\.selector is immutable/m,
    );
  });
});
