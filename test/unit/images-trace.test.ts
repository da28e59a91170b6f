// `slipway images` finds tags from the render: a repository shaped like the public Flux and Argo CD
// examples (base/ + overlays/, a component, an overlay pinning its own tag, a Helm chart), tags in
// a real OCI registry (Debian's docker-registry), the pinned kustomize and helm as oracles.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EnvironmentConfig } from '../../src/core/config/config.ts';
import { loadConfig } from '../../src/core/config/config.ts';
import { locateTags, type TagLocation } from '../../src/core/images/locate.ts';
import { supersededByEntries } from '../../src/core/images/superseded.ts';
import { containerImages } from '../../src/core/images/trace.ts';
import { tracedFor } from '../../src/core/images/traced-env.ts';
import { parseManifests } from '../../src/core/yaml/manifest.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { Workspace } from '../../src/core/workspace.ts';
import { runImagesJob } from '../../src/github/images.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { startGitHubServer } from '../fakes/github-server.ts';
import { pushImage } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import {
  cliEnv,
  pinnedTools,
  RecordingLogger,
  runSlipway,
  scratch,
  type RenderToolPaths,
  type Scratch,
} from './support.ts';

let registry: LocalRegistry;
let tools: RenderToolPaths;
const scratches: Scratch[] = [];

before(async () => {
  const s = scratch('slipway-images-trace-');
  scratches.push(s);
  registry = await startRegistry(s.dir);
  const tags: Record<string, string[]> = {
    web: ['1.0.0', '1.1.0', '1.2.0'],
    api: ['1.0.0', '1.3.0'],
    proxy: ['1.0.0', '1.0.1'],
    worker: ['build-100', 'build-205'],
    metrics: ['2.0.0', '2.1.0'],
  };
  for (const [name, list] of Object.entries(tags))
    for (const tag of list) await pushImage(registry.host, `team/${name}`, tag);
  tools = await pinnedTools();
});

after(() => {
  registry.stop();
  for (const s of scratches) s.cleanup();
});

const policy = (name: string, host: string, rule: string, extra = ''): string => `  ${name}:
    image: ${host}/team/${name}
    policy:
${rule}
    insecure: true${extra}
`;
const semver = "      semver:\n        range: '^1.0.0'";

function config(host: string, webExtra = ''): string {
  return `environments:
  dev:
    path: overlays/dev
  staging:
    path: overlays/staging
  prod:
    path: overlays/prod
    helm:
      - releaseName: worker
        chart: charts/worker
        valuesFiles: [overlays/prod/worker-values.yaml]
image-policies:
${policy('web', host, semver, webExtra)}${policy('api', host, semver)}${policy('proxy', host, semver)}${policy(
    'metrics',
    host,
    "      semver:\n        range: '^2.0.0'",
  )}${policy(
    'worker',
    host,
    '      numerical:\n        order: asc',
    "\n    filterTags:\n      pattern: '^build-(?P<n>[0-9]+)$'\n      extract: '$n'",
  )}`;
}

/** The repository's files; each test gets its own copy. */
function files(host: string): Record<string, string> {
  return {
    'base/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  - name: api # the API server
    newName: ${host}/team/api
    newTag: 1.0.0
  - name: metrics
    newName: ${host}/team/metrics
`,
    'base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
        - name: migrate
          image: api
      containers:
        - name: web
          image: ${host}/team/web:1.0.0 # the web tier
        - name: metrics
          image: metrics:2.0.0
`,
    'components/proxy/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - path: proxy.yaml
`,
    'components/proxy/proxy.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: proxy
          image: "${host}/team/proxy:1.0.0"
`,
    'overlays/dev/kustomization.yaml':
      'resources:\n  - ../../base\ncomponents:\n  - ../../components/proxy\n',
    'overlays/staging/kustomization.yaml': 'resources:\n  - ../../base\nnamePrefix: staging-\n',
    'overlays/prod/kustomization.yaml': `resources:
  - ../../base
images:
  - name: ${host}/team/web
    newTag: 1.1.0 # prod moves by hand
`,
    'overlays/prod/worker-values.yaml': `image:
  name: ${host}/team/worker
  version: build-100 # the nightly
`,
    'charts/worker/Chart.yaml': 'apiVersion: v2\nname: worker\nversion: 0.1.0\n',
    'charts/worker/values.yaml': 'image:\n  name: example/worker\n  version: latest\n',
    'charts/worker/templates/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: worker
          image: "{{ .Values.image.name }}:{{ .Values.image.version }}"
`,
  };
}

function repoWith(all: Record<string, string>): string {
  const s = scratch('slipway-images-trace-repo-');
  scratches.push(s);
  const repo = path.join(s.dir, 'repo');
  for (const [relative, text] of Object.entries(all)) {
    const file = path.join(repo, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return repo;
}

interface JsonScan {
  environments: {
    environment: string;
    updates: { file: string; line: number; policy: string; from: string; to: string; affects: string[] }[];
  }[];
  problems: string[];
  written: string[];
}

const row = (u: JsonScan['environments'][number]['updates'][number]): string =>
  `${u.file}:${u.line} ${u.policy} ${u.from}->${u.to} [${u.affects.join(',')}]`;

const images = (
  repo: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> =>
  runSlipway(['images', '--repo', repo, ...args], { cwd: repo, env: cliEnv(tools) });

function kustomizeImages(repo: string, overlay: string): string[] {
  const out = execFileSync(tools.kustomize, ['build', path.join(repo, overlay)], { encoding: 'utf8' });
  return [...out.matchAll(/image: (\S+)/g)].map((m) => m[1] ?? '').sort();
}

describe('tags traced from the render', () => {
  test('base lines for the overlays using them, the pinning overlay its own line, a Helm values line', async () => {
    const host = registry.host;
    const repo = repoWith({ 'slipway.yaml': config(host), ...files(host) });
    const run = await images(repo, ['--format', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as JsonScan;
    const by = Object.fromEntries(out.environments.map((e) => [e.environment, e.updates.map(row).sort()]));
    assert.deepEqual(by, {
      dev: [
        'base/deployment.yaml:17 web 1.0.0->1.2.0 [dev,staging]',
        'base/deployment.yaml:19 metrics 2.0.0->2.1.0 [dev,staging,prod]',
        'base/kustomization.yaml:8 api 1.0.0->1.3.0 [dev,staging,prod]',
        'components/proxy/proxy.yaml:10 proxy 1.0.0->1.0.1 [dev]',
      ],
      staging: [
        'base/deployment.yaml:17 web 1.0.0->1.2.0 [dev,staging]',
        'base/deployment.yaml:19 metrics 2.0.0->2.1.0 [dev,staging,prod]',
        'base/kustomization.yaml:8 api 1.0.0->1.3.0 [dev,staging,prod]',
      ],
      // prod pins web in its own images: entry: the base's web line is not prod's.
      prod: [
        'base/deployment.yaml:19 metrics 2.0.0->2.1.0 [dev,staging,prod]',
        'base/kustomization.yaml:8 api 1.0.0->1.3.0 [dev,staging,prod]',
        'overlays/prod/kustomization.yaml:5 web 1.1.0->1.2.0 [prod]',
        'overlays/prod/worker-values.yaml:3 worker build-100->build-205 [prod]',
      ],
    });
    assert.deepEqual(out.problems, []);
  });

  test('the text output lists a shared line once, with the environments it affects', async () => {
    const host = registry.host;
    const repo = repoWith({ 'slipway.yaml': config(host), ...files(host) });
    const run = await images(repo, []);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 6, run.stdout);
    assert.ok(
      lines.includes(
        `base/kustomization.yaml:8  ${host}/team/api  1.0.0 → 1.3.0  (api)  (affects dev, staging, prod)`,
      ),
    );
    assert.ok(
      lines.includes(
        `base/deployment.yaml:17  ${host}/team/web  1.0.0 → 1.2.0  (web)  (affects dev, staging)`,
      ),
    );
    assert.ok(lines.includes(`overlays/prod/kustomization.yaml:5  ${host}/team/web  1.1.0 → 1.2.0  (web)`));
  });

  test('--write edits only the tags, and kustomize and helm render the new tags', async () => {
    const host = registry.host;
    const original = files(host);
    const repo = repoWith({ 'slipway.yaml': config(host), ...original });
    const run = await images(repo, ['--write', '--format', 'json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as JsonScan).written.sort(), [
      'base/deployment.yaml',
      'base/kustomization.yaml',
      'components/proxy/proxy.yaml',
      'overlays/prod/kustomization.yaml',
      'overlays/prod/worker-values.yaml',
    ]);
    const expected: Record<string, [string, string]> = {
      'base/deployment.yaml': ['web:1.0.0 #', 'web:1.2.0 #'],
      'base/deployment.yaml+': ['metrics:2.0.0', 'metrics:2.1.0'],
      'base/kustomization.yaml': ['newTag: 1.0.0', 'newTag: 1.3.0'],
      'components/proxy/proxy.yaml': ['proxy:1.0.0"', 'proxy:1.0.1"'],
      'overlays/prod/kustomization.yaml': ['newTag: 1.1.0 #', 'newTag: 1.2.0 #'],
      'overlays/prod/worker-values.yaml': ['version: build-100 #', 'version: build-205 #'],
    };
    for (const [file, text] of Object.entries(original)) {
      const want = [expected[file], expected[`${file}+`]].reduce(
        (t, change) => (change ? t.replace(change[0], change[1]) : t),
        text,
      );
      assert.equal(readFileSync(path.join(repo, file), 'utf8'), want, file);
    }
    assert.deepEqual(kustomizeImages(repo, 'overlays/dev'), [
      `${host}/team/api:1.3.0`,
      `${host}/team/metrics:2.1.0`,
      `${host}/team/proxy:1.0.1`,
      `${host}/team/web:1.2.0`,
    ]);
    assert.deepEqual(kustomizeImages(repo, 'overlays/staging'), [
      `${host}/team/api:1.3.0`,
      `${host}/team/metrics:2.1.0`,
      `${host}/team/web:1.2.0`,
    ]);
    assert.deepEqual(kustomizeImages(repo, 'overlays/prod'), [
      `${host}/team/api:1.3.0`,
      `${host}/team/metrics:2.1.0`,
      `${host}/team/web:1.2.0`,
    ]);
    const helm = execFileSync(
      tools.helm,
      [
        'template',
        'worker',
        path.join(repo, 'charts/worker'),
        '-f',
        path.join(repo, 'overlays/prod/worker-values.yaml'),
      ],
      { encoding: 'utf8' },
    );
    assert.match(helm, new RegExp(`image: "${host.replaceAll('.', '\\.')}/team/worker:build-205"`));
    const again = await images(repo, []);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
  });

  test('a base line shared with an environment the policy does not cover is not edited', async () => {
    const host = registry.host;
    const repo = repoWith({ 'slipway.yaml': config(host, '\n    environments: [dev]'), ...files(host) });
    const run = await images(repo, ['--write']);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /base\/deployment\.yaml:17: used by dev, staging, which would not all get the same tag \(dev: 1\.2\.0, staging: unchanged\): not edited/,
    );
    // The web line stays; the other policies' edits are still written.
    assert.equal(
      readFileSync(path.join(repo, 'base/deployment.yaml'), 'utf8'),
      files(host)['base/deployment.yaml']?.replace('metrics:2.0.0', 'metrics:2.1.0'),
    );
    assert.match(readFileSync(path.join(repo, 'base/kustomization.yaml'), 'utf8'), /newTag: 1\.3\.0/);
  });

  test('a setter marker wins: the marked line is edited, not the base that would change that environment', async () => {
    const host = registry.host;
    const marked = 'web: 1.0.0 # {"$imagepolicy": "flux-system:web:tag"}\n';
    const repo = repoWith({ 'slipway.yaml': config(host), ...files(host), 'overlays/dev/tags.yaml': marked });
    const run = await images(repo, ['--format', 'json']);
    assert.equal(run.code, 1);
    const out = JSON.parse(run.stdout) as JsonScan;
    const web = out.environments.flatMap((e) => e.updates.filter((u) => u.policy === 'web').map(row)).sort();
    assert.deepEqual(web, [
      'overlays/dev/tags.yaml:1 web 1.0.0->1.2.0 [dev]',
      'overlays/prod/kustomization.yaml:5 web 1.1.0->1.2.0 [prod]',
    ]);
    assert.deepEqual(out.problems, [
      'base/deployment.yaml:17: used by dev, staging, which would not all get the same tag (dev: unchanged, staging: 1.2.0): not edited; set the tag in each environment instead (e.g. a kustomize `images:` entry in each overlay)',
    ]);
  });

  test('JSON 6902 patches, in a file and inline, are edited at their value; kustomize agrees', async () => {
    const host = registry.host;
    const inline = `resources: [../../base]
patches:
  - target: {kind: Deployment, name: web}
    patch: |-
      - op: replace # pinned for QA
        path: /spec/template/spec/containers/0/image
        value: ${host}/team/web:1.1.0
`;
    const patch = `- op: replace\n  path: /spec/template/spec/containers/0/image\n  value: "${host}/team/web:1.1.0"\n`;
    const repo = repoWith({
      'slipway.yaml': `environments:\n  qa:\n    path: overlays/qa\n  uat:\n    path: overlays/uat\n${config(host).split('\n').slice(11).join('\n')}`,
      ...files(host),
      'overlays/qa/kustomization.yaml': inline,
      'overlays/uat/kustomization.yaml':
        'resources: [../../base]\npatches:\n  - target: {kind: Deployment, name: web}\n    path: image.yaml\n',
      'overlays/uat/image.yaml': patch,
    });
    const run = await images(repo, ['--write']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      run.stdout
        .trim()
        .split('\n')
        .filter((l) => l.includes('/team/web '))
        .sort(),
      [
        `overlays/qa/kustomization.yaml:7  ${host}/team/web  1.1.0 → 1.2.0  (web)`,
        `overlays/uat/image.yaml:3  ${host}/team/web  1.1.0 → 1.2.0  (web)`,
      ],
    );
    assert.equal(
      readFileSync(path.join(repo, 'overlays/qa/kustomization.yaml'), 'utf8'),
      inline.replace('web:1.1.0', 'web:1.2.0'),
    );
    assert.equal(
      readFileSync(path.join(repo, 'overlays/uat/image.yaml'), 'utf8'),
      patch.replace('web:1.1.0', 'web:1.2.0'),
    );
    // The base's web line is neither overlay's: it is not edited.
    assert.match(readFileSync(path.join(repo, 'base/deployment.yaml'), 'utf8'), /web:1\.0\.0 # the web tier/);
    for (const overlay of ['overlays/qa', 'overlays/uat'])
      assert.ok(kustomizeImages(repo, overlay).includes(`${host}/team/web:1.2.0`), overlay);
  });

  test('an image whose tag no file line sets (a chart appVersion) is reported, not edited', async () => {
    const host = registry.host;
    const repo = repoWith({
      'slipway.yaml': `environments:\n  app:\n    path: envs/app\n    helm:\n      - releaseName: app\n        chart: charts/app\n${config(host).split('\n').slice(11).join('\n')}`,
      'envs/app/.keep': '',
      'charts/app/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\nappVersion: 1.0.0\n',
      'charts/app/templates/pod.yaml': `apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: web\n      image: ${host}/team/web:{{ .Chart.AppVersion }}\n`,
    });
    const run = await images(repo, []);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /app: Pod\/app spec\.containers\.0\.image: \S+\/team\/web:1\.0\.0 comes from charts\/app\/templates\/pod\.yaml\S*, where no tag of it is written: not updated/,
    );
  });

  test('--env: an edit outside the environment folder says other environments change too', async () => {
    const host = registry.host;
    const repo = repoWith({ 'slipway.yaml': config(host), ...files(host) });
    const run = await images(repo, ['--env', 'staging']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n').sort(), [
      `base/deployment.yaml:17  ${host}/team/web  1.0.0 → 1.2.0  (web)`,
      `base/deployment.yaml:19  ${host}/team/metrics  2.0.0 → 2.1.0  (metrics)`,
      `base/kustomization.yaml:8  ${host}/team/api  1.0.0 → 1.3.0  (api)`,
    ]);
    assert.match(
      run.stderr,
      /base\/deployment\.yaml is outside overlays\/staging: other environments built from it change too/,
    );
  });

  test('a base reached through a symlink that leaves the repository is never read nor edited', async () => {
    const host = registry.host;
    const repo = repoWith({
      'slipway.yaml':
        'environments:\n  ext:\n    path: overlays/ext\n' + config(host).split('\n').slice(11).join('\n'),
      'overlays/ext/kustomization.yaml': 'resources:\n  - ../../linked\n',
    });
    const outside = path.join(path.dirname(repo), 'outside');
    mkdirSync(outside);
    const base = files(host);
    writeFileSync(path.join(outside, 'kustomization.yaml'), 'resources: [deployment.yaml]\n');
    writeFileSync(path.join(outside, 'deployment.yaml'), base['base/deployment.yaml'] ?? '');
    symlinkSync(outside, path.join(repo, 'linked'));
    const run = await images(repo, ['--write']);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /refers to "\.\.\/\.\.\/linked", which is outside the repository/);
    assert.equal(readFileSync(path.join(outside, 'deployment.yaml'), 'utf8'), base['base/deployment.yaml']);
  });

  test('a traced line in a file that is a symlink out of the repository is refused by the guard', async () => {
    // The render already refuses such kustomizations; the trace checks again on its own.
    const host = registry.host;
    const repo = repoWith({ 'slipway.yaml': config(host), 'overlays/dev/keep.yaml': 'a: 1\n' });
    const outside = path.join(path.dirname(repo), 'outside.yaml');
    const text = files(host)['base/deployment.yaml'] ?? '';
    writeFileSync(outside, text);
    symlinkSync(outside, path.join(repo, 'overlays/dev/web.yaml'));
    const skipped: string[] = [];
    const policies = loadConfig(new RepoPaths(repo), undefined).imagePolicies ?? [];
    const { locations: located } = await tracedFor(
      { name: 'dev', path: 'overlays/dev', helm: [] } as unknown as EnvironmentConfig,
      [],
      {
        repo: new RepoPaths(repo),
        policies,
        render: () =>
          Promise.resolve({
            manifests: parseManifests(text, 'overlays/dev/web.yaml').manifests,
            findings: [],
          }),
        located: () => assert.fail('a file outside the repository was read'),
        skipped,
        notes: [],
      },
    );
    assert.deepEqual(located, []);
    assert.match(
      skipped.join('\n'),
      /overlays\/dev\/web\.yaml: not edited: .*resolves outside the repository/,
    );
  });
});

test('command: images: each pull request carries the lines its environment traces to', async () => {
  const host = registry.host;
  const content = { 'slipway.yaml': config(host), ...files(host) };
  const repo = repoWith(content);
  const github = await startGitHubServer({ pullRequests: [] });
  try {
    const baseSha = github.git.seedBranch('main', content, 'main');
    const logger = new RecordingLogger();
    const workspace = new Workspace(
      {
        repo,
        configFile: undefined,
        kubeconfig: undefined,
        context: undefined,
        concurrency: 4,
        retrySeconds: 1,
        tools,
      },
      new ProcessRunner(cliEnv(tools)),
      logger,
    );
    const result = await runImagesJob({
      repo,
      repoPrefix: '',
      configFile: undefined,
      environment: undefined,
      token: github.token,
      apiUrl: github.url,
      owner: github.owner,
      repoName: github.repo,
      baseBranch: 'main',
      baseSha,
      registryConfig: undefined,
      logger,
      hide: () => undefined,
      render: (env) => workspace.renderAndValidate(env),
    });
    assert.deepEqual(result.problems, []);
    assert.deepEqual(github.git.pulls.map((p) => p.head).sort(), [
      'slipway/images/dev',
      'slipway/images/prod',
      'slipway/images/staging',
    ]);
    const deployment = files(host)['base/deployment.yaml'] ?? '';
    const prod = github.git.filesOf('slipway/images/prod');
    assert.ok(prod);
    // prod's web tag is its overlay's: the base's web line is not edited on its branch.
    assert.equal(prod.get('base/deployment.yaml'), deployment.replace('metrics:2.0.0', 'metrics:2.1.0'));
    assert.match(prod.get('overlays/prod/kustomization.yaml') ?? '', /newTag: 1\.2\.0 # prod moves by hand/);
    // The dev request's reviewer sees that its base lines change staging (and prod) too.
    const body = (branch: string): string => github.git.pulls.find((p) => p.head === branch)?.body ?? '';
    assert.ok(
      body('slipway/images/dev').includes(
        `- \`base/deployment.yaml:17\` (\`${host}/team/web\` 1.0.0 → 1.2.0): affects **dev**, **staging**\n`,
      ),
      body('slipway/images/dev'),
    );
    assert.match(
      body('slipway/images/dev'),
      /base\/kustomization\.yaml:8` .*: affects \*\*dev\*\*, \*\*staging\*\*, \*\*prod\*\*/,
    );
    assert.match(body('slipway/images/prod'), /not only \*\*prod\*\*/);
    assert.doesNotMatch(body('slipway/images/prod'), /base\/deployment\.yaml:17/);
    const staging = github.git.filesOf('slipway/images/staging');
    assert.equal(
      staging?.get('base/deployment.yaml'),
      deployment.replace('web:1.0.0 #', 'web:1.2.0 #').replace('metrics:2.0.0', 'metrics:2.1.0'),
    );
  } finally {
    await github.close();
  }
});

describe('tracing pieces', () => {
  test('containers, init and ephemeral containers at any depth (a CronJob), never other image fields', () => {
    const cronJob = {
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                initContainers: [{ name: 'init', image: 'busybox:1.36' }],
                containers: [{ name: 'job', image: 'ghcr.io/acme/job:1.0.0' }],
                ephemeralContainers: [{ name: 'debug', image: 'debug:1' }],
              },
            },
          },
        },
        image: 'not-a-container:1',
      },
    };
    assert.deepEqual(containerImages(cronJob), [
      {
        field: 'spec.jobTemplate.spec.template.spec.initContainers.0.image'.split('.'),
        image: 'busybox:1.36',
      },
      {
        field: 'spec.jobTemplate.spec.template.spec.containers.0.image'.split('.'),
        image: 'ghcr.io/acme/job:1.0.0',
      },
      {
        field: 'spec.jobTemplate.spec.template.spec.ephemeralContainers.0.image'.split('.'),
        image: 'debug:1',
      },
    ]);
  });
});

describe('a resource whose tag a kustomize `images:` entry sets', () => {
  // One folder: the resource names the repository (no tag, or a tag kustomize overrides) and the
  // kustomization beside it sets the tag, as the kustomize docs and most Flux repositories do.
  const app = (host: string, written: string): Record<string, string> => ({
    'slipway.yaml': `environments:\n  app:\n    path: apps/web\n${config(host).split('\n').slice(11).join('\n')}`,
    'apps/web/kustomization.yaml': `resources:\n  - deployment.yaml\nimages:\n  - name: ${host}/team/web\n    newTag: 1.1.0 # set by hand\n`,
    'apps/web/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ${written}
`,
  });

  for (const [what, written] of [
    ['no tag', (host: string) => `${host}/team/web`],
    ['a tag kustomize overrides', (host: string) => `${host}/team/web:1.0.0`],
  ] as const)
    test(`the resource's image (${what}) is left alone, only the entry's newTag is edited`, async () => {
      const host = registry.host;
      const original = app(host, written(host));
      const repo = repoWith(original);
      const run = await images(repo, ['--write']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `apps/web/kustomization.yaml:5  ${host}/team/web  1.1.0 → 1.2.0  (web)\n`);
      assert.match(
        run.stderr,
        /app: apps\/web\/deployment\.yaml:14: not edited: the render takes its tag from apps\/web\/kustomization\.yaml:5/,
      );
      assert.equal(
        readFileSync(path.join(repo, 'apps/web/deployment.yaml'), 'utf8'),
        original['apps/web/deployment.yaml'],
      );
      assert.equal(
        readFileSync(path.join(repo, 'apps/web/kustomization.yaml'), 'utf8'),
        original['apps/web/kustomization.yaml']?.replace('newTag: 1.1.0', 'newTag: 1.2.0'),
      );
      assert.deepEqual(kustomizeImages(repo, 'apps/web'), [`${host}/team/web:1.2.0`]);
    });

  test('without a render (kustomize missing), the entry beside the resource still wins, and the run says so', async () => {
    const host = registry.host;
    const original = app(host, `${host}/team/web`);
    const repo = repoWith(original);
    const run = await runSlipway(['images', '--repo', repo, '--write'], {
      cwd: repo,
      env: cliEnv(tools, { SLIPWAY_KUSTOMIZE: path.join(repo, 'no-kustomize'), PATH: '/nonexistent' }),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /app: the render has 1 error .*neither `kustomize` nor `kubectl` was found/);
    assert.match(
      run.stderr,
      /apps\/web\/deployment\.yaml:14: not edited: the kustomize `images:` entry at apps\/web\/kustomization\.yaml:5 sets its tag/,
    );
    assert.equal(
      readFileSync(path.join(repo, 'apps/web/deployment.yaml'), 'utf8'),
      original['apps/web/deployment.yaml'],
    );
    assert.match(
      readFileSync(path.join(repo, 'apps/web/kustomization.yaml'), 'utf8'),
      /newTag: 1\.2\.0 # set by hand/,
    );
  });
});

test('without a render, an `images:` entry wins only over `image:` lines in its folder or below, never a marker', () => {
  const entry = locateTags(
    'images:\n  - name: ghcr.io/acme/web\n    newName: mirror.example.com/web\n    newTag: 1.1.0\n',
    'apps/kustomization.yaml',
  );
  const image = (file: string, line = 'image: ghcr.io/acme/web:1.0.0'): TagLocation[] =>
    locateTags(`${line}\n`, file);
  const searched = [
    ...entry,
    ...image('apps/web/deployment.yaml'),
    ...image('apps/web/marked.yaml', 'image: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}'),
    ...image('other/deployment.yaml'),
    ...image('apps/api.yaml', 'image: ghcr.io/acme/api:1.0.0'),
  ];
  const { kept, notes } = supersededByEntries(searched);
  assert.deepEqual(
    kept.map((l) => l.file),
    ['apps/kustomization.yaml', 'apps/web/marked.yaml', 'other/deployment.yaml', 'apps/api.yaml'],
  );
  assert.deepEqual(notes, [
    'apps/web/deployment.yaml:1: not edited: the kustomize `images:` entry at apps/kustomization.yaml:4 sets its tag (not checked by a render)',
  ]);
});
