// Helm chart dependencies and hooks, with the pinned helm as the oracle: Slipway's render of a
// chart must hold exactly the objects that `helm dependency build` + `helm template` produce.

import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { detectAll } from '../../src/core/detect/detect.ts';
import { parseManifests, type Finding } from '../../src/core/yaml/manifest.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { lockDigest, readChartSpec } from '../../src/core/render/helm-chart.ts';
import type { RenderResult } from '../../src/core/render/render.ts';
import { Workspace } from '../../src/core/workspace.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import { pinnedTools, RecordingLogger, scratch, type RenderToolPaths, type Scratch } from './support.ts';

let tools: RenderToolPaths;
const scratches: Scratch[] = [];

before(async () => {
  tools = await pinnedTools();
});

after(() => {
  for (const s of scratches) s.cleanup();
});

function tempDir(prefix: string): string {
  const s = scratch(`slipway-helm-${prefix}-`);
  scratches.push(s);
  return s.dir;
}

/** Writes files under `root` (paths relative to it). */
function write(root: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
}

function chart(name: string, version: string, extra = ''): string {
  return `apiVersion: v2\nname: ${name}\nversion: ${version}\n${extra}`;
}

function configMapTemplate(name: string, data: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: ${JSON.stringify(data)}\n`;
}

/** A repository with one environment `env` rendering the chart at `chartDir` as release `app`. */
function repoWith(files: Record<string, string>, chartDir = 'charts/app', extra = ''): string {
  const repo = path.join(tempDir('repo'), 'repo');
  write(repo, {
    'slipway.yaml': `environments:\n  env:\n    path: clusters/env\n    namespace: apps\n    remote: allow\n    helm:\n      - releaseName: app\n        chart: ./${chartDir}\n${extra}`,
    'clusters/env/.keep': '',
    ...files,
  });
  return repo;
}

async function render(repo: string): Promise<RenderResult> {
  const workspace = new Workspace(
    {
      repo,
      configFile: undefined,
      kubeconfig: undefined,
      context: undefined,
      concurrency: 4,
      retrySeconds: 0,
      tools,
    },
    new ProcessRunner(process.env),
    new RecordingLogger(),
  );
  return workspace.renderAndValidate(workspace.environment('env'));
}

function helm(args: string[], cwd?: string): string {
  return execFileSync(tools.helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd });
}

/**
 * The oracle: a throw-away copy of the whole repository (so file:// paths resolve), `helm
 * dependency build` in it unless told not to, then `helm template`. Objects as sorted JSON.
 */
function helmTemplate(
  repo: string,
  chartDir: string,
  options: { build?: boolean; buildArgs?: string[] } = {},
): string[] {
  const copy = path.join(tempDir('oracle'), 'repo');
  cpSync(repo, copy, { recursive: true });
  const chartPath = path.join(copy, chartDir);
  if (options.build !== false) helm(['dependency', 'build', chartPath, ...(options.buildArgs ?? [])]);
  const output = helm([
    'template',
    'app',
    chartPath,
    '--namespace',
    'apps',
    '--include-crds',
    '--skip-tests',
  ]);
  return parseManifests(output, 'oracle')
    .manifests.map((m) => JSON.stringify(m.object))
    .sort();
}

function objects(result: RenderResult): string[] {
  return result.manifests
    .filter((m) => m.source.via === 'helm release app')
    .map((m) => JSON.stringify(m.object))
    .sort();
}

function errors(result: RenderResult): Finding[] {
  return result.findings.filter((f) => f.severity === 'error');
}

/** Every file below `dir`, relative, sorted: proves a render wrote nothing into the repository. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('file:// dependencies', () => {
  const files = {
    'charts/app/Chart.yaml': chart(
      'app',
      '1.0.0',
      'dependencies:\n  - name: lib\n    version: ">=0.1.0"\n    repository: file://../../libs/lib\n  - name: lib\n    alias: second\n    version: 0.2.0\n    repository: file://../../libs/lib\n',
    ),
    'charts/app/values.yaml': 'second:\n  greeting: from the alias\n',
    'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
    'libs/lib/Chart.yaml': chart('lib', '0.2.0'),
    'libs/lib/values.yaml': 'greeting: hello from lib\n',
    'libs/lib/templates/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}-{{ .Release.Name }}-{{ .Values.greeting | replace " " "-" }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
  };

  test('render equals helm dependency build + helm template, and nothing is written into the repository', async () => {
    const repo = repoWith(files);
    const before = tree(repo);
    const result = await render(repo);
    assert.deepEqual(errors(result), []);
    const oracle = helmTemplate(repo, 'charts/app');
    assert.equal(oracle.length, 3, oracle.join('\n'));
    assert.deepEqual(objects(result), oracle);
    assert.deepEqual(tree(repo), before, 'no charts/, Chart.lock or tmpcharts written into the repository');
  });

  test("the subchart's objects point at the dependency's own template file", async () => {
    const repo = repoWith(files);
    const result = await render(repo);
    const sources = result.manifests.map((m) => `${m.object.metadata.name ?? ''} ${m.source.file}`).sort();
    assert.deepEqual(sources, [
      'app-own charts/app/templates/cm.yaml',
      'lib-app-hello-from-lib libs/lib/templates/cm.yaml',
      // An alias renames the subchart (`.Chart.Name`), and its files still come from libs/lib.
      'second-app-from-the-alias libs/lib/templates/cm.yaml',
    ]);
  });

  test('an edit in the dependency folder is rendered, even with a stale archive of it in charts/', async () => {
    const repo = repoWith(files);
    // What a committed `helm dependency build` leaves behind; the folder is the source of truth.
    helm(['package', path.join(repo, 'libs/lib'), '--destination', path.join(repo, 'charts/app/charts')]);
    write(repo, { 'libs/lib/values.yaml': 'greeting: edited\n' });
    const result = await render(repo);
    assert.deepEqual(errors(result), []);
    assert.ok(
      result.manifests.some((m) => m.object.metadata.name === 'lib-app-edited'),
      result.manifests.map((m) => m.object.metadata.name).join(', '),
    );
  });

  test('a file:// dependency outside the repository is refused before helm runs', async () => {
    const repo = repoWith({
      'charts/app/Chart.yaml': chart(
        'app',
        '1.0.0',
        'dependencies:\n  - name: outside\n    version: 1.0.0\n    repository: file://../../../outside\n',
      ),
      'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
    });
    write(path.dirname(repo), {
      'outside/Chart.yaml': chart('outside', '1.0.0'),
      'outside/templates/cm.yaml': configMapTemplate('stolen', 'x'),
    });
    const result = await render(repo);
    const found = errors(result)[0];
    assert.equal(errors(result).length, 1);
    assert.ok(found);
    assert.equal(found.rule, 'path-escape');
    assert.match(found.message, /file:\/\/ dependency "outside" .* points outside the repository/);
    assert.ok(!result.manifests.some((m) => m.object.metadata.name === 'stolen'));
  });

  test('a symlink in a file:// dependency that leads out of the repository is refused', async () => {
    const repo = repoWith(files);
    write(path.dirname(repo), { 'outside/secret.yaml': configMapTemplate('stolen', 'x') });
    symlinkSync(
      path.join(path.dirname(repo), 'outside/secret.yaml'),
      path.join(repo, 'libs/lib/templates/linked.yaml'),
    );
    const result = await render(repo);
    const found = errors(result)[0];
    assert.ok(found);
    assert.equal(found.rule, 'path-escape');
    assert.match(
      found.message,
      /symlink in helm chart "libs\/lib\/templates\/linked\.yaml" is a symlink that resolves outside/,
    );
    assert.ok(!result.manifests.some((m) => m.object.metadata.name === 'stolen'));
  });

  test('a Chart.lock that no longer matches Chart.yaml is refused, as helm does', async () => {
    const repo = repoWith(files);
    helm(['dependency', 'update', path.join(repo, 'charts/app')]);
    rmSync(path.join(repo, 'charts/app/charts'), { recursive: true });
    const fresh = await render(repo);
    assert.deepEqual(errors(fresh), [], 'a fresh lock renders');
    write(repo, {
      'charts/app/Chart.yaml': readFileSync(path.join(repo, 'charts/app/Chart.yaml'), 'utf8').replace(
        '>=0.1.0',
        '>=0.2.0',
      ),
    });
    const stale = await render(repo);
    const found = errors(stale)[0];
    assert.ok(found);
    assert.equal(found.location.file, 'charts/app/Chart.lock');
    assert.match(found.message, /out of sync with the dependencies in charts\/app\/Chart\.yaml/);
    // The oracle agrees that the lock is stale.
    assert.throws(() => helmTemplate(repo, 'charts/app'), /out of sync/);
  });

  test('an apiVersion v1 chart with requirements.yaml and requirements.lock renders as helm does', async () => {
    const repo = repoWith({
      'charts/app/Chart.yaml': 'apiVersion: v1\nname: app\nversion: 1.0.0\n',
      'charts/app/requirements.yaml':
        'dependencies:\n  - name: lib\n    version: 0.2.0\n    repository: file://../../libs/lib\n',
      'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
      'libs/lib/Chart.yaml': chart('lib', '0.2.0'),
      'libs/lib/values.yaml': 'greeting: hello from lib\n',
      'libs/lib/templates/cm.yaml': files['libs/lib/templates/cm.yaml'],
    });
    helm(['dependency', 'update', path.join(repo, 'charts/app')]);
    rmSync(path.join(repo, 'charts/app/charts'), { recursive: true });
    assert.ok(existsSync(path.join(repo, 'charts/app/requirements.lock')));
    const result = await render(repo);
    assert.deepEqual(errors(result), []);
    assert.deepEqual(objects(result), helmTemplate(repo, 'charts/app'));
    assert.equal(objects(result).length, 2);
  });

  test('detect flags the environment when a file in a (nested) local dependency changes', () => {
    const repo = repoWith({
      ...files,
      'libs/lib/Chart.yaml': chart(
        'lib',
        '0.2.0',
        'dependencies:\n  - name: base\n    version: 1.0.0\n    repository: file://../base\n',
      ),
      'libs/base/Chart.yaml': chart('base', '1.0.0'),
    });
    const workspace = new Workspace(
      {
        repo,
        configFile: undefined,
        kubeconfig: undefined,
        context: undefined,
        concurrency: 1,
        retrySeconds: 0,
        tools,
      },
      new ProcessRunner(process.env),
      new RecordingLogger(),
    );
    const detect = (file: string): string[] =>
      detectAll(workspace.repo, workspace.config, [file]).environments;
    assert.deepEqual(detect('libs/lib/templates/cm.yaml'), ['env']);
    assert.deepEqual(detect('libs/base/values.yaml'), ['env']);
    assert.deepEqual(detect('libs/other/values.yaml'), []);
  });
});

describe('dependencies from an OCI registry, pinned by Chart.lock', () => {
  let registry: LocalRegistry;
  let repo: string;

  before(async () => {
    const dir = tempDir('oci');
    registry = await startRegistry(dir);
    const publish = (version: string, greeting: string): void => {
      const src = path.join(dir, `db-${version}`);
      write(src, {
        'Chart.yaml': chart('db', version),
        'templates/cm.yaml': configMapTemplate('db', greeting),
      });
      helm(['package', src, '--destination', path.join(dir, 'packaged')]);
      helm([
        'push',
        path.join(dir, 'packaged', `db-${version}.tgz`),
        `oci://${registry.host}/charts`,
        '--plain-http',
      ]);
    };
    publish('1.0.0', 'db 1.0.0');
    repo = repoWith(
      {
        'charts/app/Chart.yaml': chart(
          'app',
          '1.0.0',
          `dependencies:\n  - name: db\n    version: ^1.0.0\n    repository: oci://${registry.host}/charts\n    condition: db.enabled\n    tags: [storage]\n    import-values:\n      - child: exported\n        parent: fromDb\n`,
        ),
        'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
      },
      'charts/app',
      '        insecure: true\n',
    );
    // What a user commits: Chart.lock from `helm dependency update` (it also vendors charts/db-1.0.0.tgz).
    helm(['dependency', 'update', path.join(repo, 'charts/app'), '--plain-http']);
    // A newer version in range appears afterwards: the lock must keep 1.0.0.
    publish('1.1.0', 'db 1.1.0');
  });

  after(() => registry.stop());

  test('a chart pulled from the registry, its registry dependency locked inside it, renders as helm renders it', async () => {
    // The publisher's side: the umbrella is packaged after `helm dependency build`, as charts are released.
    const dir = tempDir('umbrella');
    helm(['package', path.join(repo, 'charts/app'), '--destination', dir]);
    helm(['push', path.join(dir, 'app-1.0.0.tgz'), `oci://${registry.host}/charts`, '--plain-http']);
    const consumer = repoWith({}, 'unused', '');
    write(consumer, {
      'slipway.yaml': `environments:\n  env:\n    path: clusters/env\n    namespace: apps\n    remote: allow\n    helm:\n      - releaseName: app\n        chart: app\n        repository: oci://${registry.host}/charts\n        version: 1.0.0\n        insecure: true\n`,
    });
    const result = await render(consumer);
    assert.deepEqual(errors(result), []);
    const oracle = helm([
      'template',
      'app',
      `oci://${registry.host}/charts/app`,
      '--version',
      '1.0.0',
      '--plain-http',
      '--namespace',
      'apps',
      '--include-crds',
      '--skip-tests',
    ]);
    const expected = parseManifests(oracle, 'oracle')
      .manifests.map((m) => JSON.stringify(m.object))
      .sort();
    assert.equal(expected.length, 2);
    assert.deepEqual(objects(result), expected);
    assert.deepEqual(result.manifests.find((m) => m.object.metadata.name === 'db')?.object['data'], {
      value: 'db 1.0.0',
    });
  });

  test("Slipway's Chart.lock digest is the one helm wrote", () => {
    const spec = readChartSpec(new RepoPaths(repo), 'charts/app');
    assert.ok(spec.lock);
    assert.equal(lockDigest(spec.dependencies, spec.lock.dependencies), spec.lock.digest);
  });

  test('without the vendored archive, the locked version is pulled and the render equals helm', async () => {
    const vendored = path.join(repo, 'charts/app/charts');
    const archive = readdirSync(vendored);
    assert.deepEqual(archive, ['db-1.0.0.tgz']);
    const kept = path.join(path.dirname(repo), 'db-1.0.0.tgz');
    cpSync(path.join(vendored, 'db-1.0.0.tgz'), kept);
    rmSync(vendored, { recursive: true });
    try {
      const result = await render(repo);
      assert.deepEqual(errors(result), []);
      const db = result.manifests.find((m) => m.object.metadata.name === 'db');
      assert.deepEqual(db?.object['data'], { value: 'db 1.0.0' }, 'the locked 1.0.0, not the newer 1.1.0');
      assert.deepEqual(objects(result), helmTemplate(repo, 'charts/app', { buildArgs: ['--plain-http'] }));
      assert.ok(!existsSync(vendored), 'nothing was written into the repository');
    } finally {
      mkdirSync(vendored);
      cpSync(kept, path.join(vendored, 'db-1.0.0.tgz'));
    }
  });

  test('a vendored archive at another version than the lock is replaced by the locked one, with a warning', async () => {
    const vendored = path.join(repo, 'charts/app/charts');
    const old = path.join(path.dirname(repo), 'db-old');
    write(old, {
      'Chart.yaml': chart('db', '0.9.0'),
      'templates/cm.yaml': configMapTemplate('db', 'db 0.9.0'),
    });
    helm(['package', old, '--destination', vendored]);
    try {
      const result = await render(repo);
      assert.deepEqual(errors(result), []);
      const db = result.manifests.find((m) => m.object.metadata.name === 'db');
      assert.deepEqual(db?.object['data'], { value: 'db 1.0.0' });
      const warning = result.findings.find((f) => f.rule === 'helm-stale-vendored-chart');
      assert.equal(warning?.location.file, 'charts/app/charts/db-0.9.0.tgz');
      assert.match(
        warning.message,
        /is not the version Chart\.lock pins \(1\.0\.0\): it is left out and the locked version beside it is used/,
      );
      // Only the stale one vendored: the locked version is fetched.
      renameSync(path.join(vendored, 'db-1.0.0.tgz'), path.join(path.dirname(repo), 'db-1.0.0-aside.tgz'));
      const fetched = await render(repo);
      assert.deepEqual(fetched.manifests.find((m) => m.object.metadata.name === 'db')?.object['data'], {
        value: 'db 1.0.0',
      });
      assert.match(
        fetched.findings.find((f) => f.rule === 'helm-stale-vendored-chart')?.message ?? '',
        /the locked version was fetched/,
      );
    } finally {
      rmSync(path.join(vendored, 'db-0.9.0.tgz'));
      if (!existsSync(path.join(vendored, 'db-1.0.0.tgz')))
        renameSync(path.join(path.dirname(repo), 'db-1.0.0-aside.tgz'), path.join(vendored, 'db-1.0.0.tgz'));
    }
  });

  test('vendored at the locked version, it renders with no network at all (registry stopped)', async () => {
    registry.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await assert.rejects(fetch(`http://${registry.host}/v2/`), 'the registry is really gone');
    const result = await render(repo);
    assert.deepEqual(errors(result), []);
    assert.deepEqual(objects(result), helmTemplate(repo, 'charts/app', { build: false }));
    const db = result.manifests.find((m) => m.object.metadata.name === 'db');
    assert.deepEqual(db?.object['data'], { value: 'db 1.0.0' });
  });
});

describe('a dependency from an HTTP chart repository, pinned by Chart.lock', () => {
  // In a child process: helm runs synchronously here and would block a server in this one.
  const SERVER = `const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const dir = process.argv[1];
const server = http.createServer((req, res) => {
  process.stdout.write('GET ' + req.url + '\\n');
  const file = path.join(dir, path.basename(req.url));
  if (fs.existsSync(file)) res.writeHead(200).end(fs.readFileSync(file)); else res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));`;
  let child: ChildProcess;
  let log = '';
  let base = '';
  let served = '';

  const publish = (version: string): void => {
    const src = path.join(tempDir('src'), 'cache');
    write(src, {
      'Chart.yaml': chart('cache', version),
      'templates/cm.yaml': configMapTemplate('cache', version),
    });
    helm(['package', src, '--destination', served]);
    helm(['repo', 'index', served, '--url', base]);
  };

  before(async () => {
    served = tempDir('served');
    child = spawn(process.execPath, ['-e', SERVER, served], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    while (!/PORT \d+/.test(log)) await new Promise((resolve) => setTimeout(resolve, 20));
    base = `http://127.0.0.1:${/PORT (\d+)/.exec(log)?.[1] ?? ''}`;
    publish('2.0.0');
  });

  after(() => child.kill());

  test('only the locked version is downloaded, and the render equals helm', async () => {
    const repo = repoWith({
      'charts/app/Chart.yaml': chart(
        'app',
        '1.0.0',
        `dependencies:\n  - name: cache\n    version: ">=2.0.0"\n    repository: ${base}\n`,
      ),
      'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
    });
    helm(['dependency', 'update', path.join(repo, 'charts/app')]);
    rmSync(path.join(repo, 'charts/app/charts'), { recursive: true });
    publish('2.1.0'); // in range, newer: a fresh resolution would take it; the lock says 2.0.0
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = log.length;
    const result = await render(repo);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const requests = log.slice(before);
    assert.deepEqual(errors(result), []);
    assert.deepEqual(result.manifests.find((m) => m.object.metadata.name === 'cache')?.object['data'], {
      value: '2.0.0',
    });
    assert.match(requests, /cache-2\.0\.0\.tgz/);
    assert.doesNotMatch(requests, /cache-2\.1\.0\.tgz/);
    // helm dependency build needs the repository added (Slipway, like Flux, needs no `helm repo add`).
    const helmHome = tempDir('helm-home');
    process.env['HELM_REPOSITORY_CONFIG'] = path.join(helmHome, 'repositories.yaml');
    process.env['HELM_REPOSITORY_CACHE'] = path.join(helmHome, 'cache');
    try {
      helm(['repo', 'add', 'caches', base]);
      assert.deepEqual(objects(result), helmTemplate(repo, 'charts/app'));
    } finally {
      delete process.env['HELM_REPOSITORY_CONFIG'];
      delete process.env['HELM_REPOSITORY_CACHE'];
    }
  });
});

describe('no Chart.lock', () => {
  test('remote dependencies without a lock are a warning naming them', async () => {
    const repo = repoWith({
      'charts/app/Chart.yaml': chart(
        'app',
        '1.0.0',
        'dependencies:\n  - name: db\n    version: ^1.0.0\n    repository: oci://127.0.0.1:1/charts\n',
      ),
      'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
      // Vendored by hand: renders offline, but nothing pins which 1.x it is.
      'charts/app/charts/db/Chart.yaml': chart('db', '1.0.0'),
      'charts/app/charts/db/templates/cm.yaml': configMapTemplate('db', 'vendored'),
    });
    const result = await render(repo);
    assert.deepEqual(errors(result), []);
    const warning = result.findings.find((f) => f.rule === 'helm-unlocked-dependencies');
    assert.match(
      warning?.message ?? '',
      /chart charts\/app has no Chart\.lock: db resolved from the version ranges/,
    );
    assert.deepEqual(objects(result), helmTemplate(repo, 'charts/app', { build: false }));
  });
});

describe('hooks', () => {
  const hook = (kind: string, name: string, events: string, policy = ''): string =>
    `apiVersion: ${kind === 'Job' ? 'batch/v1' : 'v1'}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  annotations:\n    helm.sh/hook: ${events}\n${policy ? `    helm.sh/hook-delete-policy: ${policy}\n` : ''}${kind === 'Job' ? 'spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: migrate\n          image: registry.invalid/migrate:1\n' : kind === 'Pod' ? 'spec:\n  containers:\n    - name: t\n      image: registry.invalid/t:1\n' : ''}`;

  test('each hook is named with its kind, name and events; plain install/upgrade resources are applied', async () => {
    const repo = repoWith({
      'charts/app/Chart.yaml': chart('app', '1.0.0'),
      'charts/app/templates/cm.yaml': configMapTemplate('app-own', 'parent'),
      'charts/app/templates/migrate.yaml': hook(
        'Job',
        'migrate',
        'pre-install,pre-upgrade',
        'before-hook-creation',
      ),
      'charts/app/templates/settings.yaml': hook('ConfigMap', 'settings', 'pre-install'),
      'charts/app/templates/sa.yaml': hook(
        'ServiceAccount',
        'migrate-sa',
        'pre-install',
        'before-hook-creation,hook-succeeded',
      ),
      'charts/app/templates/cleanup.yaml': hook('ConfigMap', 'cleanup', 'post-delete'),
      'charts/app/templates/tests/test.yaml': hook('Pod', 'app-test', 'test'),
    });
    const result = await render(repo);
    assert.deepEqual(errors(result), []);
    assert.deepEqual(result.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name ?? ''}`).sort(), [
      'ConfigMap/app-own',
      'ConfigMap/settings',
    ]);
    assert.deepEqual(result.findings, [], 'hooks are notes, not warnings');
    const notes = [...result.notes].sort();
    const templates = 'charts/app/templates';
    assert.deepEqual(notes, [
      `helm release app: hook ConfigMap/cleanup (post-delete, ${templates}/cleanup.yaml) skipped: Slipway runs no hooks; it is not an install or upgrade hook`,
      `helm release app: hook ConfigMap/settings (pre-install, ${templates}/settings.yaml) applied: a plain resource that Helm and Argo CD leave on the cluster too, so it goes in with the rest of the release (not before or after it)`,
      `helm release app: hook Job/migrate (pre-install, pre-upgrade, ${templates}/migrate.yaml) skipped: Slipway runs no hooks (Argo CD would run this Job during its sync)`,
      `helm release app: hook ServiceAccount/migrate-sa (pre-install, ${templates}/sa.yaml) skipped: Helm and Argo CD delete it once the hook has run (hook-succeeded), and Slipway runs no hooks`,
    ]);
    assert.ok(
      !notes.join('\n').includes('app-test'),
      'test hooks are left out (--skip-tests), as Flux and Argo CD do',
    );
  });
});
