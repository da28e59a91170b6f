// Every kustomize object and patched field traced to its file and line, checked against what
// kustomize itself says (buildMetadata: [originAnnotations] on a wrapper of our own) and by hand;
// Helm values traced to their line only when certain.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical.ts';
import { changeSources } from '../../src/core/plan/change-sources.ts';
import { formatLocation } from '../../src/core/errors.ts';
import { fieldProvenance, parseManifests, type Manifest } from '../../src/core/yaml/manifest.ts';
import type { KubeObject } from '../../src/core/objects.ts';
import type { RenderResult } from '../../src/core/render/render.ts';
import { parseYamlDocuments } from '../../src/core/yaml/yaml.ts';
import { Workspace } from '../../src/core/workspace.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import {
  copyFixture,
  pinnedTools,
  RecordingLogger,
  scratch,
  type RenderToolPaths,
  type Scratch,
} from './support.ts';

let tools: RenderToolPaths;
let repo: string;
let rendered: RenderResult;
const scratches: Scratch[] = [];

before(async () => {
  tools = await pinnedTools();
  const s = scratch('slipway-origins-');
  scratches.push(s);
  repo = copyFixture('kustomize-origins', s);
  rendered = await render(repo, 'staging');
});

after(() => {
  for (const s of scratches) s.cleanup();
});

async function render(root: string, environment: string): Promise<RenderResult> {
  const workspace = new Workspace(
    {
      repo: root,
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
  return workspace.renderAndValidate(workspace.environment(environment));
}

function find(kind: string, name: string): Manifest {
  const found = rendered.manifests.find(
    (m) => m.object.kind === kind && m.object.metadata.name?.startsWith(name),
  );
  assert.ok(found, `${kind}/${name} was not rendered`);
  return found;
}

/** A field's location; `|` separates segments where a key holds dots (`annotations|prometheus.io/port`). */
function where(manifest: Manifest, field: string): string {
  const segments = field.includes('|') ? field.split('|') : field.split('.');
  return formatLocation(fieldProvenance(manifest, segments));
}

/** kustomize's own build of the overlay through a wrapper asking for origins: the oracle. */
function kustomizeOrigins(root = repo, folder = 'overlay'): Map<string, string> {
  const wrapper = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'slipway-oracle-')));
  try {
    const overlay = path.relative(wrapper, realpathSync(path.join(root, folder)));
    writeFileSync(
      path.join(wrapper, 'kustomization.yaml'),
      `resources:\n  - ${overlay}\nbuildMetadata: [originAnnotations]\n`,
    );
    const output = execFileSync(tools.kustomize, ['build', wrapper], { encoding: 'utf8' });
    const origins = new Map<string, string>();
    for (const { value } of parseYamlDocuments(output, 'oracle')) {
      const object = value as KubeObject;
      const origin = parseYamlDocuments(
        object.metadata.annotations?.['config.kubernetes.io/origin'] ?? '',
        'o',
      )[0]?.value as { path?: string; configuredIn?: string };
      const printed = origin.path ?? origin.configuredIn ?? '';
      const file = path
        .relative(realpathSync(root), path.resolve(wrapper, printed))
        .split(path.sep)
        .join('/');
      origins.set(`${object.kind}/${object.metadata.name ?? ''}`, file);
    }
    return origins;
  } finally {
    rmSync(wrapper, { recursive: true, force: true });
  }
}

describe('kustomize origins', () => {
  test('each object points at the file kustomize says it came from', () => {
    assert.deepEqual(rendered.findings, []);
    const origins = kustomizeOrigins();
    assert.equal(origins.size, rendered.manifests.length);
    for (const manifest of rendered.manifests) {
      const key = `${manifest.object.kind}/${manifest.object.metadata.name ?? ''}`;
      assert.equal(manifest.source.file, origins.get(key), key);
      assert.equal(manifest.source.via, 'kustomize');
    }
  });

  test('each object points at its document: the line of its first key (checked by hand)', () => {
    assert.equal(formatLocation(find('Deployment', 'web').source), 'base/deployment.yaml:2'); // after a comment
    assert.equal(formatLocation(find('Service', 'web-internal').source), 'base/service.yaml:11'); // 2nd document
    assert.equal(formatLocation(find('ConfigMap', 'limits').source), 'overlay/extra.yaml:9');
    assert.equal(
      formatLocation(find('ConfigMap', 'alert-rules').source),
      'components/monitoring/rules.yaml:1',
    );
    // A generated ConfigMap: the generator entry that made it.
    assert.equal(formatLocation(find('ConfigMap', 'web-config-').source), 'base/kustomization.yaml:7');
  });

  test('each patched field points at the patch line that set it (checked by hand)', () => {
    const web = find('Deployment', 'web');
    const lines = {
      'spec.replicas': 'overlay/resources.yaml:6', // strategic merge patch
      'spec.template.spec.containers.0.resources.limits.memory': 'overlay/resources.yaml:14',
      'spec.template.spec.containers.0.image': 'overlay/resources.yaml:11', // the sidecar, by its name
      'spec.template.spec.containers.1.image': 'overlay/kustomization.yaml:24', // images: newTag
      'metadata.labels.app': 'overlay/env.yaml:7', // JSON 6902 op's path
      'spec.template.spec.containers.0.env.0.value': 'overlay/env.yaml:2',
      'spec|template|metadata|annotations|prometheus.io/scrape': 'components/monitoring/scrape.yaml:9', // component
      'metadata.namespace': 'overlay/kustomization.yaml:3',
      'spec.template.spec.containers.1.ports.0.containerPort': 'base/deployment.yaml:22', // unpatched: the base line
      'spec.selector.matchLabels.app': 'base/deployment.yaml:12',
    };
    for (const [field, expected] of Object.entries(lines)) assert.equal(where(web, field), expected, field);
    // The inline JSON 6902 patch in the kustomization: its op's line inside the block scalar.
    assert.equal(
      where(find('Service', 'web-internal'), 'spec.ports.0.port'),
      'overlay/kustomization.yaml:20',
    );
    // The other Service is not that patch's target: its port is the base's.
    assert.equal(where(find('Service', 'web'), 'spec.ports.0.port'), 'base/service.yaml:9');
    const config = find('ConfigMap', 'web-config-');
    assert.equal(where(config, 'data.colour'), 'overlay/kustomization.yaml:29'); // merged literal
    assert.equal(where(config, 'data|app.properties'), 'base/config/app.properties'); // generator file
  });

  test('what the lines say is what kustomize rendered there', () => {
    const web = find('Deployment', 'web');
    const text = (location: string): string => {
      const [file, line] = location.split(':');
      return readFileSync(path.join(repo, file ?? ''), 'utf8').split('\n')[Number(line) - 1] ?? '';
    };
    assert.match(text(where(web, 'spec.replicas')), /replicas: 3$/);
    assert.match(text(where(web, 'spec.template.spec.containers.1.image')), /newTag: "1\.28"$/);
    assert.match(text(where(web, 'spec.template.spec.containers.0.image')), /image: busybox:1\.37$/);
  });

  test("kustomize's build annotations never leave the render, and the objects are exactly kustomize's", () => {
    const text = JSON.stringify(rendered.manifests.map((m) => m.object));
    assert.doesNotMatch(
      text,
      /config\.kubernetes\.io\/origin|alpha\.config\.kubernetes\.io\/transformations/,
    );
    const plain = execFileSync(tools.kustomize, ['build', 'overlay'], { cwd: repo, encoding: 'utf8' });
    const expected = parseManifests(plain, 'plain').manifests.map((m) => canonicalJson(m.object));
    assert.deepEqual(
      rendered.manifests.map((m) => canonicalJson(m.object)),
      expected,
    );
  });

  test('the wrapper is never written into the repository', async () => {
    const listing = (): string[] => readdirSync(repo, { recursive: true, encoding: 'utf8' }).sort();
    const before = listing();
    await render(repo, 'staging');
    assert.deepEqual(listing(), before);
  });

  test('an update points at the line of each changed field, most specific first', () => {
    const web = find('Deployment', 'web');
    const live = structuredClone(web.object) as KubeObject & { spec: { replicas: number } };
    live.spec.replicas = 1;
    (live.metadata.labels ??= {}).app = 'web';
    const changes = changeSources(web, live, web.object);
    assert.deepEqual(
      changes.map((c) => `${c.field} ${formatLocation(c.location)}`),
      ['metadata.labels.app overlay/env.yaml:7', 'spec.replicas overlay/resources.yaml:6'],
    );
  });
});

describe('kustomize origins in a real application repository (namePrefix, components, transformers)', () => {
  for (const env of ['staging', 'prod']) {
    test(`${env}: every object at kustomize's own origin, on a line of its kind`, async () => {
      const s = scratch('slipway-shop-');
      scratches.push(s);
      const shop = copyFixture('../real-repos/shop', s);
      const result = await render(shop, env);
      const origins = kustomizeOrigins(shop, `apps/shop/overlays/${env}`);
      assert.equal(origins.size, result.manifests.length);
      for (const { object, source } of result.manifests) {
        const key = `${object.kind}/${object.metadata.name ?? ''}`;
        assert.equal(source.file, origins.get(key), key);
        assert.ok(source.line > 0, key);
        const lines = readFileSync(path.join(shop, source.file), 'utf8').split('\n');
        // The document (or generator entry) starting at that line is this object's.
        const from =
          lines
            .slice(source.line - 1)
            .join('\n')
            .split(/^---$/m)[0] ?? '';
        assert.ok(from.includes(`kind: ${object.kind}`) || /^\s*- name: /.test(from), `${key}: ${from}`);
      }
    });
  }

  test('prod: transformer entries and patches, by hand', async () => {
    const s = scratch('slipway-shop-');
    scratches.push(s);
    const shop = copyFixture('../real-repos/shop', s);
    const result = await render(shop, 'prod');
    const get = (kind: string, name: string): Manifest => {
      const found = result.manifests.find((m) => m.object.kind === kind && m.object.metadata.name === name);
      assert.ok(found, `${kind}/${name}`);
      return found;
    };
    const overlay = 'apps/shop/overlays/prod';
    const shopDeployment = get('Deployment', 'prod-shop');
    assert.equal(where(shopDeployment, 'spec.replicas'), `${overlay}/kustomization.yaml:20`); // replicas: count
    assert.equal(where(shopDeployment, 'metadata.labels.environment'), `${overlay}/kustomization.yaml:14`);
    assert.equal(
      where(shopDeployment, 'spec.template.spec.containers.0.image'),
      `${overlay}/kustomization.yaml:17`,
    );
    // An inline JSON 6902 patch whose target names the object before namePrefix.
    assert.equal(
      where(shopDeployment, 'spec.template.spec.containers.0.resources.limits.memory'),
      `${overlay}/kustomization.yaml:34`,
    );
    assert.equal(
      where(get('Deployment', 'prod-shop-worker'), 'spec.replicas'),
      `${overlay}/worker-resources.yaml:6`,
    );
  });
});

describe('plain files', () => {
  test('a changed field deep in a plain file points at its own line', async () => {
    const s = scratch('slipway-plain-');
    scratches.push(s);
    const result = await render(copyFixture('plain', s), 'prod');
    const web = result.manifests.find((m) => m.object.kind === 'Deployment');
    assert.ok(web);
    const file = 'clusters/prod/apps/web/web.yaml';
    assert.equal(where(web, 'spec.template.spec.containers.0.image'), `${file}:19`);
    // A field the file does not have (a server default): the nearest key it has (`containers:`).
    assert.equal(where(web, 'spec.template.spec.containers.0.imagePullPolicy'), `${file}:17`);
  });
});

describe('helm values lines', () => {
  const image = ['spec', 'template', 'spec', 'containers', '0', 'image'];

  test('a changed image tag points at its line in the release values file', async () => {
    const s = scratch('slipway-values-');
    scratches.push(s);
    const result = await render(copyFixture('helm-values', s), 'staging');
    assert.deepEqual(
      result.findings.filter((f) => f.severity === 'error'),
      [],
    );
    const deployment = result.manifests.find((m) => m.object.kind === 'Deployment');
    assert.ok(deployment);
    const traced = fieldProvenance(deployment, image, 'registry.example.com/shop/frontend:2.14.0');
    assert.deepEqual(traced, { file: 'values/staging.yaml', line: 5, via: 'helm release shop values' });
    const env = ['spec', 'template', 'spec', 'containers', '0', 'env', '0', 'value'];
    assert.equal(formatLocation(fieldProvenance(deployment, env, 'info')), 'values/staging.yaml:6');
  });

  test('only when certain: short, common or repeated values stay at the template', async () => {
    const s = scratch('slipway-values-');
    scratches.push(s);
    const repo = copyFixture('helm-values', s);
    const values = path.join(repo, 'values/staging.yaml');
    // The new tag is written twice: either line could be the one, so neither is claimed.
    writeFileSync(values, `${readFileSync(values, 'utf8')}canary:\n  tag: "2.14.1"\n`);
    const result = await render(repo, 'staging');
    const deployment = result.manifests.find((m) => m.object.kind === 'Deployment');
    assert.ok(deployment);
    const template = 'charts/app/templates/deployment.yaml';
    assert.equal(
      fieldProvenance(deployment, image, 'registry.example.com/shop/frontend:2.14.0').file,
      template,
    );
    // replicas: 2 is too common a value to say it came from `replicas: 2`.
    assert.equal(fieldProvenance(deployment, ['spec', 'replicas'], 1).file, template);
  });
});
