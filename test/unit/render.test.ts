import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Finding } from '../../src/core/yaml/manifest.ts';
import type { RenderResult } from '../../src/core/render/render.ts';
import { withOfflineNamespaces, Workspace } from '../../src/core/workspace.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import {
  copyFixture,
  pathWithout,
  pinnedTools,
  RecordingLogger,
  scratch,
  type RenderToolPaths,
  type Scratch,
} from './support.ts';

let tools: RenderToolPaths;
const scratches: Scratch[] = [];

before(async () => {
  tools = await pinnedTools();
});

after(() => {
  for (const s of scratches) s.cleanup();
});

function fixture(name: string): { repo: string; dir: string } {
  const s = scratch(`slipway-render-${name}-`);
  scratches.push(s);
  return { repo: copyFixture(name, s), dir: s.dir };
}

interface RenderOptions {
  readonly tools?: RenderToolPaths;
  /** Environment of the tool processes (PATH decides what is found). */
  readonly env?: Record<string, string | undefined>;
}

async function render(repo: string, environment: string, options: RenderOptions = {}): Promise<RenderResult> {
  const workspace = new Workspace(
    {
      repo,
      configFile: undefined,
      kubeconfig: undefined,
      context: undefined,
      concurrency: 4,
      retrySeconds: 0,
      tools: options.tools ?? tools,
    },
    new ProcessRunner(options.env ?? process.env),
    new RecordingLogger(),
  );
  return workspace.renderAndValidate(workspace.environment(environment));
}

/** `Kind/namespace/name` of each object, in render order. */
function ids(result: RenderResult): string[] {
  return result.manifests.map(
    (m) => `${m.object.kind}/${m.object.metadata.namespace ?? ''}/${m.object.metadata.name ?? ''}`,
  );
}

function errors(result: RenderResult): Finding[] {
  return result.findings.filter((f) => f.severity === 'error');
}

/** The one error of a render; fails the test when there is not exactly one. */
function onlyError(result: RenderResult): Finding {
  const found = errors(result);
  assert.equal(found.length, 1, JSON.stringify(result.findings, null, 2));
  return found[0]!;
}

/** Everything a render hands on (objects, findings and provenance), as one string to search. */
function everything(result: RenderResult): string {
  return JSON.stringify({
    manifests: result.manifests.map((m) => ({ object: m.object, source: m.source })),
    findings: result.findings,
  });
}

function assertClean(result: RenderResult): void {
  assert.deepEqual(result.findings, [], JSON.stringify(result.findings, null, 2));
}

describe('plain YAML trees', () => {
  test('every YAML and JSON file below the environment folder is rendered, in path order, and nothing else', async () => {
    const { repo } = fixture('plain');
    const result = await render(repo, 'prod');
    assertClean(result);
    assert.deepEqual(ids(result), [
      'ConfigMap/shop/api-settings',
      'LimitRange/shop/api-limits',
      'Deployment/shop/web',
      'Service/shop/web',
      'Namespace//shop',
    ]);
    // README.md, notes.txt (a manifest, but not .yaml), .hidden.yaml and the staging folder are not read.
    assert.doesNotMatch(everything(result), /from-notes-txt|from-hidden-file|staging-settings/);
  });

  test('each object points at its file and the line its document starts on', async () => {
    const { repo } = fixture('plain');
    const result = await render(repo, 'prod');
    assert.deepEqual(
      result.manifests.map((m) => [m.object.kind, m.source.file, m.source.line, m.source.via]),
      [
        ['ConfigMap', 'clusters/prod/apps/api/configmap.json', 1, undefined],
        ['LimitRange', 'clusters/prod/apps/api/deep/nested/limits.yml', 1, undefined],
        ['Deployment', 'clusters/prod/apps/web/web.yaml', 2, undefined],
        ['Service', 'clusters/prod/apps/web/web.yaml', 22, undefined],
        ['Namespace', 'clusters/prod/namespace.yaml', 1, undefined],
      ],
    );
  });

  test('the order depends on paths only, not on the order files were created in, and repeats exactly', async () => {
    const { repo } = fixture('plain');
    const dir = path.join(repo, 'clusters/prod/order');
    mkdirSync(dir);
    for (const name of ['zz', 'mm', 'aa', 'b10', 'b2']) {
      writeFileSync(
        path.join(dir, `${name}.yaml`),
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: order-${name}\n  namespace: shop\n`,
      );
    }
    const first = await render(repo, 'prod');
    const order = ids(first).filter((id) => id.includes('order-'));
    assert.deepEqual(order, [
      'ConfigMap/shop/order-aa',
      'ConfigMap/shop/order-b10',
      'ConfigMap/shop/order-b2',
      'ConfigMap/shop/order-mm',
      'ConfigMap/shop/order-zz',
    ]);
    const second = await render(repo, 'prod');
    assert.equal(everything(second), everything(first));
  });

  test('a symlink that stays inside the repository is followed', async () => {
    const { repo } = fixture('plain');
    symlinkSync('../staging/configmap.yaml', path.join(repo, 'clusters/prod/shared.yaml'));
    const result = await render(repo, 'prod');
    assertClean(result);
    assert.ok(ids(result).includes('ConfigMap/staging/staging-settings'), ids(result).join('\n'));
  });
});

describe('symlinks out of the repository', () => {
  const MARKER = 'outside-the-repo-9f2c41';

  /** `<scratch>/outside/` beside the repository, holding a manifest with a marker value. */
  function outsideFolder(dir: string): string {
    const outside = path.join(dir, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(
      path.join(outside, 'stolen.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\ndata:\n  token: ${MARKER}\n`,
    );
    return outside;
  }

  function assertRefused(result: RenderResult, shown: string): void {
    assert.ok(
      !everything(result).includes(MARKER),
      'content from outside the repository must not appear anywhere',
    );
    const found = onlyError(result);
    assert.equal(found.rule, 'path-escape');
    assert.match(found.message, new RegExp(`"${shown}" is a symlink that resolves outside the repository`));
    assert.deepEqual(
      result.manifests,
      [],
      'an environment that reaches outside is not rendered at all, so nothing partial is applied or pruned',
    );
  }

  test('a symlinked file pointing outside is refused', async () => {
    const { repo, dir } = fixture('plain');
    const outside = outsideFolder(dir);
    symlinkSync(path.join(outside, 'stolen.yaml'), path.join(repo, 'clusters/prod/apps/leak.yaml'));
    assertRefused(await render(repo, 'prod'), 'clusters/prod/apps/leak.yaml');
  });

  test('a symlinked folder pointing outside is refused', async () => {
    const { repo, dir } = fixture('plain');
    const outside = outsideFolder(dir);
    symlinkSync(
      path.relative(path.join(repo, 'clusters/prod'), outside),
      path.join(repo, 'clusters/prod/linked'),
    );
    assertRefused(await render(repo, 'prod'), 'clusters/prod/linked');
  });

  test('a kustomization resource that is a symlink pointing outside is refused before kustomize runs', async () => {
    const { repo, dir } = fixture('kustomize');
    const outside = outsideFolder(dir);
    symlinkSync(path.join(outside, 'stolen.yaml'), path.join(repo, 'base/extra.yaml'));
    const kustomization = path.join(repo, 'base/kustomization.yaml');
    writeFileSync(
      kustomization,
      readFileSync(kustomization, 'utf8').replace('  - service.yaml\n', '  - service.yaml\n  - extra.yaml\n'),
    );
    for (const env of ['staging', 'production']) {
      const result = await render(repo, env);
      assert.ok(
        !everything(result).includes(MARKER),
        `${env}: content from outside the repository must not appear`,
      );
      const found = onlyError(result);
      assert.equal(found.location.file, 'base/kustomization.yaml');
      assert.match(
        found.message,
        /base\/kustomization\.yaml refers to "extra\.yaml", which is outside the repository/,
      );
    }
  });
});

describe('kustomize', () => {
  test('two overlays build the shared base through ../../base, with their own namespace and generated ConfigMap', async () => {
    const { repo } = fixture('kustomize');
    const staging = await render(repo, 'staging');
    const production = await render(repo, 'production');
    assertClean(staging);
    assertClean(production);

    const configMap = (result: RenderResult): Record<string, unknown> => {
      const found = result.manifests.find((m) => m.object.kind === 'ConfigMap');
      assert.ok(found, ids(result).join('\n'));
      return found.object;
    };
    const stagingConfig = configMap(staging);
    const productionConfig = configMap(production);
    assert.deepEqual(stagingConfig['data'], {
      'app.properties': 'greeting=hello from the base\ncolour=blue\n',
      colour: 'green',
    });
    assert.deepEqual(productionConfig['data'], {
      'app.properties': 'greeting=hello from the base\ncolour=blue\n',
      colour: 'red',
    });

    // The generated name carries a content hash, and the Deployment refers to that exact name.
    for (const [result, config, namespace, replicas] of [
      [staging, stagingConfig, 'staging', 2],
      [production, productionConfig, 'production', 1],
    ] as const) {
      const name = (config['metadata'] as { name: string }).name;
      assert.match(name, /^web-config-[a-z0-9]{10}$/);
      const deployment = result.manifests.find((m) => m.object.kind === 'Deployment')?.object;
      assert.ok(deployment);
      assert.equal(deployment.metadata.namespace, namespace);
      assert.match(JSON.stringify(deployment['spec']), new RegExp(`"name":"${name}"`));
      assert.equal((deployment['spec'] as { replicas: number }).replicas, replicas);
      assert.deepEqual(
        ids(result).map((id) => id.split('/').slice(0, 2).join('/')),
        [`ConfigMap/${namespace}`, `Service/${namespace}`, `Deployment/${namespace}`],
      );
    }
    assert.notEqual(
      (stagingConfig['metadata'] as { name: string }).name,
      (productionConfig['metadata'] as { name: string }).name,
    );
  });

  test('kustomize output points at the file and line each object was written in, in both overlays', async () => {
    const { repo } = fixture('kustomize');
    for (const env of ['staging', 'production']) {
      const result = await render(repo, env);
      assert.deepEqual(
        result.manifests.map(
          (m) => `${m.object.kind} ${m.source.file}:${m.source.line} ${m.source.via ?? ''}`,
        ),
        [
          'ConfigMap base/kustomization.yaml:7 kustomize', // the generator entry
          'Service base/service.yaml:1 kustomize',
          'Deployment base/deployment.yaml:1 kustomize',
        ],
      );
      for (const manifest of result.manifests)
        assert.ok(
          existsSync(path.join(repo, manifest.source.file)),
          `${manifest.source.file} must be in the repository`,
        );
    }
  });

  test('rendering is the same on every run', async () => {
    const { repo } = fixture('kustomize');
    const runs = [
      await render(repo, 'staging'),
      await render(repo, 'staging'),
      await render(repo, 'staging'),
    ];
    assert.equal(everything(runs[1]!), everything(runs[0]!));
    assert.equal(everything(runs[2]!), everything(runs[0]!));
  });

  test('a kustomization that refers to a missing file is an error naming the file and the kustomization', async () => {
    const { repo } = fixture('kustomize-missing');
    const result = await render(repo, 'prod');
    const found = onlyError(result);
    assert.equal(found.location.file, 'clusters/prod/kustomization.yaml');
    const line = found.location.line;
    assert.ok(line >= 3 && line <= 5, `line ${line} should point at resources`);
    assert.match(found.message, /refers to "does-not-exist\.yaml", which does not exist/);
    assert.deepEqual(result.manifests, []);
  });

  test('a kustomization reaching outside the repository is refused, and nothing outside is read', async () => {
    const { repo } = fixture('kustomize-escape');
    const prod = await render(repo, 'prod');
    const found = onlyError(prod);
    assert.equal(found.rule, 'path-escape');
    assert.deepEqual(found.location, { file: 'clusters/prod/kustomization.yaml', line: 4 });
    assert.match(found.message, /refers to "\.\.\/\.\.\/\.\.\/\.\.\/etc", which is outside the repository/);
    assert.deepEqual(prod.manifests, []);

    const leak = await render(repo, 'leak');
    assert.equal(onlyError(leak).rule, 'path-escape');
    assert.match(
      onlyError(leak).message,
      /refers to "(\.\.\/)+etc\/passwd", which is outside the repository/,
    );
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n')[0] ?? '';
    assert.ok(passwd.length > 0);
    assert.ok(!everything(leak).includes(passwd), '/etc/passwd must not be read into the render');
  });

  test('without kustomize, `kubectl kustomize` builds the same output', async () => {
    const { repo, dir } = fixture('kustomize');
    const bin = path.join(dir, 'kubectl-only');
    mkdirSync(bin);
    const kubectl = path.join(bin, 'kubectl');
    // A kubectl that understands just `kubectl kustomize DIR`, by handing it to the pinned kustomize.
    writeFileSync(
      kubectl,
      `#!/bin/sh\n[ "$1" = kustomize ] || exit 3\nshift\nexec '${tools.kustomize}' build "$@"\n`,
    );
    chmodSync(kubectl, 0o755);
    const expected = await render(repo, 'staging');
    const viaKubectl = await render(repo, 'staging', {
      tools: { kustomize: 'kustomize', kubectl: 'kubectl', helm: 'helm' },
      env: { PATH: bin },
    });
    assertClean(viaKubectl);
    assert.equal(everything(viaKubectl), everything(expected));
  });
});

describe('missing tools', () => {
  const bare = { kustomize: 'kustomize', kubectl: 'kubectl', helm: 'helm' };

  test('with neither kustomize nor kubectl on PATH, the error names both', async () => {
    const { repo, dir } = fixture('kustomize');
    const result = await render(repo, 'staging', {
      tools: bare,
      env: { PATH: pathWithout({ dir, cleanup: () => undefined }) },
    });
    const found = onlyError(result);
    assert.equal(found.rule, 'missing-tool');
    assert.match(found.message, /neither `kustomize` nor `kubectl` was found on PATH/);
    assert.match(found.message, /install kustomize/);
    assert.deepEqual(result.manifests, []);
  });

  test('without helm on PATH, the error names helm and how to install it', async () => {
    const { repo, dir } = fixture('helm');
    const result = await render(repo, 'staging', {
      tools: bare,
      env: { PATH: pathWithout({ dir, cleanup: () => undefined }) },
    });
    const found = onlyError(result);
    assert.equal(found.rule, 'missing-tool');
    assert.match(found.message, /`helm` was not found on PATH \(install helm/);
  });
});

describe('helm', () => {
  test('a local chart renders with the values file of each environment', async () => {
    const { repo } = fixture('helm');
    const staging = await render(repo, 'staging');
    const production = await render(repo, 'production');
    assertClean(staging);
    assertClean(production);
    const summary = (result: RenderResult): unknown =>
      result.manifests.map((m) => {
        const spec = m.object['spec'] as { replicas?: number } | undefined;
        const data = m.object['data'] as { greeting?: string } | undefined;
        return [m.object.kind, m.object.metadata.name, spec?.replicas ?? data?.greeting ?? null];
      });
    // Plain files first, then the release; the values files in the folder are not manifests.
    assert.deepEqual(summary(staging), [
      ['Namespace', 'web-staging', null],
      ['ConfigMap', 'web-greeting', 'hello from staging values'],
      ['Deployment', 'web', 2],
    ]);
    assert.deepEqual(summary(production), [
      ['Namespace', 'web-production', null],
      ['ConfigMap', 'web-greeting', 'hello from production values'],
      ['Deployment', 'web', 5],
    ]);
  });

  test("helm output points at the chart's template file in the repository", async () => {
    const { repo } = fixture('helm');
    const result = await render(repo, 'staging');
    const fromHelm = result.manifests.filter((m) => m.source.via === 'helm release web');
    assert.deepEqual(
      fromHelm.map((m) => [m.object.kind, m.source.file]),
      [
        ['ConfigMap', 'charts/web-chart/templates/configmap.yaml'],
        ['Deployment', 'charts/web-chart/templates/deployment.yaml'],
      ],
    );
    for (const manifest of fromHelm)
      assert.ok(existsSync(path.join(repo, manifest.source.file)), `${manifest.source.file} must exist`);
  });

  test("objects from a release land in the environment's namespace when the chart names none", async () => {
    const { repo } = fixture('helm');
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
    const env = workspace.environment('production');
    const result = await workspace.renderAndValidate(env);
    assert.deepEqual(
      withOfflineNamespaces(result.manifests, env).map(
        (m) => `${m.object.kind}/${m.object.metadata.namespace ?? ''}`,
      ),
      ['Namespace/', 'ConfigMap/web-production', 'Deployment/web-production'],
    );
  });

  test('a chart error is reported with the release and chart, not thrown', async () => {
    const { repo } = fixture('helm');
    writeFileSync(
      path.join(repo, 'charts/web-chart/templates/broken.yaml'),
      'kind: ConfigMap\nname: {{ .Values.missing.deeper }}\n',
    );
    const result = await render(repo, 'staging');
    const found = onlyError(result);
    assert.equal(found.rule, 'render-failed');
    assert.match(found.message, /helm could not render release "web" \(chart \.\/charts\/web-chart\)/);
  });

  describe('a chart from a chart repository over HTTP', () => {
    let server: Server;
    let base: string;
    const requests: string[] = [];

    before(async () => {
      const { repo, dir } = fixture('helm');
      const served = path.join(dir, 'served');
      mkdirSync(served);
      server = createServer((request, response) => {
        requests.push(request.url ?? '');
        const file = path.join(served, path.basename(request.url ?? ''));
        if (!existsSync(file)) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200).end(readFileSync(file));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // Two versions of the chart; only the pinned one may be rendered.
      packageChart(repo, served, '0.1.0', 'hello from version 0.1.0');
      packageChart(repo, served, '0.2.0', 'hello from version 0.2.0');
      execFileSync(tools.helm, ['repo', 'index', served, '--url', base], { stdio: 'pipe' });
    });

    after(() => {
      server.close();
    });

    function packageChart(repo: string, into: string, version: string, greeting: string): void {
      const chart = path.join(repo, 'charts/web-chart');
      writeFileSync(
        path.join(chart, 'Chart.yaml'),
        readFileSync(path.join(chart, 'Chart.yaml'), 'utf8').replace(/^version: .*$/m, `version: ${version}`),
      );
      writeFileSync(
        path.join(chart, 'values.yaml'),
        readFileSync(path.join(chart, 'values.yaml'), 'utf8').replace(
          /^greeting: .*$/m,
          `greeting: ${greeting}`,
        ),
      );
      execFileSync(tools.helm, ['package', chart, '--destination', into], { stdio: 'pipe' });
    }

    test('the pinned version is fetched and rendered', async () => {
      const { repo } = fixture('plain');
      writeFileSync(
        path.join(repo, 'slipway.yaml'),
        `environments:\n  remote:\n    path: clusters/staging\n    namespace: remote\n    remote: allow\n    helm:\n      - releaseName: web\n        chart: web\n        repository: ${base}\n        version: 0.1.0\n        values:\n          replicas: 3\n`,
      );
      const result = await render(repo, 'remote');
      assertClean(result);
      const fromHelm = result.manifests.filter((m) => m.source.via === 'helm release web');
      assert.deepEqual(
        fromHelm.map((m) => [
          m.object.kind,
          m.object.metadata.name,
          (m.object['data'] as { greeting?: string } | undefined)?.greeting ??
            (m.object['spec'] as { replicas?: number }).replicas,
        ]),
        [
          ['ConfigMap', 'web-greeting', 'hello from version 0.1.0'],
          ['Deployment', 'web', 3],
        ],
      );
      assert.ok(requests.includes('/index.yaml'), requests.join(', '));
      assert.ok(
        requests.some((url) => url.endsWith('web-0.1.0.tgz')),
        requests.join(', '),
      );
      assert.ok(
        !requests.some((url) => url.endsWith('web-0.2.0.tgz')),
        'only the pinned version is downloaded',
      );
    });

    test('a version the repository does not have is an error naming the chart', async () => {
      const { repo } = fixture('plain');
      writeFileSync(
        path.join(repo, 'slipway.yaml'),
        `environments:\n  remote:\n    path: clusters/staging\n    remote: allow\n    helm:\n      - releaseName: web\n        chart: web\n        repository: ${base}\n        version: 9.9.9\n`,
      );
      const result = await render(repo, 'remote');
      const found = onlyError(result);
      assert.match(found.message, /helm could not render release "web" \(chart web\)/);
      assert.match(found.message, /9\.9\.9/);
    });
  });

  describe('a chart from an OCI registry', () => {
    let registry: LocalRegistry | undefined;
    let host: string;
    let repoDir: string;

    before(async () => {
      const { repo, dir } = fixture('helm');
      repoDir = repo;
      registry = await startRegistry(dir);
      host = registry.host;
      const packaged = path.join(dir, 'packaged');
      execFileSync(tools.helm, ['package', path.join(repo, 'charts/web-chart'), '--destination', packaged], {
        stdio: 'pipe',
      });
      const tgz = readdirSync(packaged).find((name) => name.endsWith('.tgz'));
      assert.ok(tgz);
      execFileSync(tools.helm, ['push', path.join(packaged, tgz), `oci://${host}/charts`, '--plain-http'], {
        stdio: 'pipe',
        env: { ...process.env, HELM_REGISTRY_CONFIG: path.join(dir, 'registry-config.json') },
      });
    });

    after(() => {
      registry?.stop();
    });

    // The loopback registry speaks plain HTTP: `insecure: true` (Flux's name) asks helm for it.
    test('the pinned version is pulled from oci:// and rendered', async () => {
      const moved = path.join(path.dirname(repoDir), 'local-chart-moved-away');
      // Make sure the local chart folder cannot be what gets rendered.
      renameSync(path.join(repoDir, 'charts'), moved);
      writeFileSync(
        path.join(repoDir, 'slipway.yaml'),
        `environments:\n  remote:\n    path: clusters/production\n    namespace: remote\n    remote: allow\n    helm:\n      - releaseName: web\n        chart: web\n        repository: oci://${host}/charts\n        version: 0.1.0\n        insecure: true\n`,
      );
      const result = await render(repoDir, 'remote');
      assertClean(result);
      assert.deepEqual(
        result.manifests
          .filter((m) => m.source.via === 'helm release web')
          .map((m) => `${m.object.kind}/${m.object.metadata.name ?? ''}`),
        ['ConfigMap/web-greeting', 'Deployment/web'],
      );
    });
  });
});
