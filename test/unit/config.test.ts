import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { environmentOrThrow, loadConfig, type SlipwayConfig } from '../../src/core/config/config.ts';
import { describeError, UserError } from '../../src/core/errors.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { scratch, type Scratch } from './support.ts';

let tmp: Scratch;
let repo: string;

beforeEach(() => {
  tmp = scratch('slipway-config-');
  repo = path.join(tmp.dir, 'repo');
  mkdirSync(repo);
});

afterEach(() => tmp.cleanup());

function write(relative: string, text: string): void {
  const file = path.join(repo, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function folders(...relatives: string[]): void {
  for (const relative of relatives) mkdirSync(path.join(repo, relative), { recursive: true });
}

function load(configFile?: string): SlipwayConfig {
  return loadConfig(new RepoPaths(repo), configFile);
}

/** The UserError loadConfig throws; fails the test when it does not throw one. */
function loadError(configFile?: string): UserError {
  try {
    load(configFile);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error;
  }
  assert.fail('loadConfig accepted the config');
}

/** 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  assert.notEqual(index, -1, `"${needle}" is not in the config text`);
  return index + 1;
}

describe('slipway.yaml', () => {
  test('a complete config is read with every setting, and defaults fill what is left out', () => {
    folders('clusters/prod', 'clusters/dev', 'charts/web');
    write(
      'slipway.yaml',
      `environments:
  prod:
    path: clusters/prod
    namespace: shop
    context: prod-admin
    prune: false
    prune-budget:
      max-objects: 10
      max-percent: 20
    allow-delete: [PersistentVolumeClaim, Namespace]
    force-conflicts: false
    cluster:
      server: https://prod.example:6443
      kube-system-uid: 6c1a0b4e-0000-4000-8000-000000000001
    wait: false
    timeout: 1h30m
    helm:
      - releaseName: web
        chart: ./charts/web
        valuesFiles: [./clusters/prod/../prod/values.yaml]
        values:
          replicas: 3
      - releaseName: cache
        chart: redis
        repository: https://charts.example/stable
        version: 1.2.3
        targetNamespace: cache
  dev:
    path: ./clusters/dev/
`,
    );
    const config = load();
    assert.equal(config.file, 'slipway.yaml');
    assert.deepEqual([...config.environments.keys()], ['prod', 'dev']);

    const prod = environmentOrThrow(config, 'prod');
    assert.equal(prod.path, 'clusters/prod');
    assert.equal(prod.namespace, 'shop');
    assert.equal(prod.context, 'prod-admin');
    assert.equal(prod.prune, false);
    assert.deepEqual(prod.pruneBudget, { maxObjects: 10, maxPercent: 20 });
    assert.deepEqual(prod.allowDelete, ['PersistentVolumeClaim', 'Namespace']);
    assert.equal(prod.forceConflicts, false);
    assert.deepEqual(prod.cluster, {
      server: 'https://prod.example:6443',
      kubeSystemUid: '6c1a0b4e-0000-4000-8000-000000000001',
    });
    assert.equal(prod.wait, false);
    assert.equal(prod.timeoutSeconds, 5400);
    assert.deepEqual(prod.helm, [
      {
        releaseName: 'web',
        chart: './charts/web',
        localChart: 'charts/web',
        repository: undefined,
        version: undefined,
        targetNamespace: undefined,
        valuesFiles: ['clusters/prod/values.yaml'],
        values: { replicas: 3 },
        insecure: false,
      },
      {
        releaseName: 'cache',
        chart: 'redis',
        localChart: undefined,
        repository: 'https://charts.example/stable',
        version: '1.2.3',
        targetNamespace: 'cache',
        valuesFiles: [],
        values: {},
        insecure: false,
      },
    ]);

    const dev = environmentOrThrow(config, 'dev');
    assert.equal(dev.path, 'clusters/dev', 'paths are normalised to repo-relative form');
    assert.equal(dev.prune, true);
    assert.deepEqual(dev.pruneBudget, { maxObjects: 100, maxPercent: 50 });
    assert.equal(dev.forceConflicts, true);
    assert.equal(dev.wait, true);
    assert.equal(dev.timeoutSeconds, 300);
    assert.deepEqual(dev.allowDelete, []);
    assert.deepEqual(dev.helm, []);
    assert.equal(dev.cluster, undefined);
  });

  test('an unknown key is reported with its line and the keys that are allowed', () => {
    folders('clusters/prod');
    const text = 'environments:\n  prod:\n    path: clusters/prod\n    namspace: shop\n';
    write('slipway.yaml', text);
    const error = loadError();
    assert.equal(error.kind, 'config');
    assert.deepEqual(error.location, { file: 'slipway.yaml', line: lineOf(text, 'namspace') });
    assert.match(error.message, /unknown key "namspace"/);
    assert.match(error.message, /allowed: .*\bnamespace\b/);
    assert.match(describeError(error), /^slipway\.yaml:4: unknown key "namspace"/);
  });

  test('an unknown top-level key is reported with its line', () => {
    folders('clusters/prod');
    const text = '# Slipway\nenvironments:\n  prod:\n    path: clusters/prod\nenviroments: {}\n';
    write('slipway.yaml', text);
    const error = loadError();
    assert.deepEqual(error.location, { file: 'slipway.yaml', line: 5 });
    assert.match(
      error.message,
      /unknown key "enviroments" \(allowed: environments, image-policies, .*state-namespace\)/,
    );
  });

  test('values of the wrong type are each named, with the type that was found', () => {
    folders('clusters/prod');
    const text = `environments:
  prod:
    path: clusters/prod
    prune: "yes"
    wait: 1
    timeout: 30
    namespace: Shop_Front
    prune-budget:
      max-objects: -1
      max-percent: lots
    allow-delete: Deployment
    helm: {releaseName: web}
`;
    write('slipway.yaml', text);
    const error = loadError();
    const message = error.message;
    const expected: [needle: string, pattern: RegExp][] = [
      ['prune:', /"prune" must be true or false, got string "yes"/],
      ['wait:', /"wait" must be true or false, got number 1/],
      ['timeout:', /"timeout" must be a string, got number 30/],
      ['namespace:', /namespace "Shop_Front" is not a valid namespace name/],
      ['max-objects:', /"max-objects" must be a non-negative number, got number -1/],
      ['max-percent:', /"max-percent" must be a non-negative number, got string "lots"/],
      ['allow-delete:', /"allow-delete" must be a list of strings/],
      ['helm:', /`helm` must be a list of releases/],
    ];
    assert.match(message, new RegExp(`^${expected.length} problems:`));
    for (const [needle, pattern] of expected) {
      const line = message.split('\n').find((entry) => pattern.test(entry));
      assert.ok(line, `no problem matching ${String(pattern)} in:\n${message}`);
      assert.ok(
        line.startsWith(`slipway.yaml:${lineOf(text, needle)}: `),
        `wrong line for ${needle}: ${line}`,
      );
    }
  });

  test('several problems in different places are all reported at once, each with its line', () => {
    folders('clusters/prod', 'clusters/dev');
    const text = `environments:
  prod:
    path: clusters/prod
    prune: maybe
    allow-delete: [Deployment]
  dev:
    path: clusters/dev
    timeout: 10 minutes
    colour: blue
  Bad_Env:
    path: clusters/dev
  all:
    path: clusters/dev
`;
    write('slipway.yaml', text);
    const error = loadError();
    const lines = error.message.split('\n').slice(1);
    assert.equal(lines.length, 6, error.message);
    for (const [needle, fragment] of [
      ['prune: maybe', '"prune" must be true or false'],
      ['allow-delete', 'allow-delete lists "Deployment", which is not a protected kind'],
      ['timeout: 10 minutes', 'invalid duration "10 minutes"'],
      ['colour: blue', 'unknown key "colour" in environment "dev"'],
      ['Bad_Env:', 'environment name "Bad_Env" must be lowercase'],
      ['  all:', 'environment name "all" is reserved'],
    ] as const) {
      assert.ok(
        lines.some(
          (line) => line.startsWith(`slipway.yaml:${lineOf(text, needle)}: `) && line.includes(fragment),
        ),
        `missing "${fragment}" at the line of "${needle}" in:\n${error.message}`,
      );
    }
  });

  test('a helm release problem points at a line of the release, not at line 0', () => {
    folders('clusters/prod', 'charts/web');
    const text = `environments:
  prod:
    path: clusters/prod
    helm:
      - releaseName: web
        chart: ./charts/web
        valueFiles: [values.yaml]
`;
    write('slipway.yaml', text);
    const error = loadError();
    assert.match(error.message, /unknown key "valueFiles" in helm release \(allowed: .*valuesFiles/);
    const line = error.location?.line ?? 0;
    assert.ok(
      line >= lineOf(text, 'helm:') && line <= lineOf(text, 'valueFiles'),
      `line ${line} is not within the release`,
    );
  });

  test('a chart from a repository must pin a version', () => {
    folders('clusters/prod');
    write(
      'slipway.yaml',
      `environments:
  prod:
    path: clusters/prod
    helm:
      - releaseName: cache
        chart: redis
        repository: https://charts.example/stable
`,
    );
    assert.match(
      loadError().message,
      /chart "redis" from https:\/\/charts\.example\/stable needs a pinned `version`/,
    );
  });

  test('paths that leave the repository with ".." or are absolute are refused, alongside the other problems', () => {
    folders('clusters/prod', 'clusters/dev');
    const text = `environments:
  escape:
    path: ../outside
  absolute:
    path: /etc
  prod:
    path: clusters/prod
    prune: maybe
  sneaky:
    path: clusters/dev/../../..
`;
    write('slipway.yaml', text);
    const error = loadError();
    assert.equal(error.kind, 'config');
    const lines = error.message.split('\n');
    assert.equal(lines[0], '4 problems:', error.message);
    assert.ok(
      lines.includes(
        `slipway.yaml:${lineOf(text, '../outside')}: environment "escape" path "../outside" points outside the repository`,
      ),
      error.message,
    );
    assert.ok(
      lines.includes(
        `slipway.yaml:${lineOf(text, '/etc')}: environment "absolute" path "/etc" is an absolute path`,
      ),
      error.message,
    );
    assert.ok(
      lines.some((line) =>
        line.startsWith(`slipway.yaml:${lineOf(text, 'prune: maybe')}: "prune" must be true or false`),
      ),
      error.message,
    );
    assert.ok(
      lines.some(
        (line) =>
          line.startsWith(`slipway.yaml:${lineOf(text, '../../..')}: environment "sneaky" path`) &&
          line.includes('outside the repository'),
      ),
      error.message,
    );
  });

  test('helm charts and values files outside the repository are refused', () => {
    folders('clusters/prod');
    const text = `environments:
  prod:
    path: clusters/prod
    helm:
      - releaseName: web
        chart: ../charts/web
        valuesFiles: [/etc/passwd]
`;
    write('slipway.yaml', text);
    const message = loadError().message;
    assert.match(message, /helm chart "\.\.\/charts\/web" points outside the repository/);
    assert.match(message, /values file "\/etc\/passwd" is an absolute path/);
  });

  test('an environment folder that is a symlink to a folder outside the repository is refused', () => {
    const outside = path.join(tmp.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.yaml'), 'kind: Secret\n');
    folders('clusters', 'clusters/real');
    symlinkSync(outside, path.join(repo, 'clusters/linked'));
    symlinkSync('real', path.join(repo, 'clusters/alias'));
    const text = 'environments:\n  inside:\n    path: clusters/alias\n  linked:\n    path: clusters/linked\n';
    write('slipway.yaml', text);
    const error = loadError();
    assert.equal(error.location?.line, lineOf(text, 'clusters/linked'));
    assert.match(
      error.message,
      /environment "linked" path "clusters\/linked" is a symlink that resolves outside the repository/,
    );
    assert.doesNotMatch(error.message, /"inside"/, 'a symlink that stays inside the repository is fine');
  });

  test('--config names another file inside the repository; a missing one is an error', () => {
    folders('deploy/envs/prod');
    write('deploy/slipway.yaml', 'environments:\n  prod:\n    path: deploy/envs/prod\n');
    const config = load('deploy/slipway.yaml');
    assert.equal(config.file, 'deploy/slipway.yaml');
    assert.equal(environmentOrThrow(config, 'prod').path, 'deploy/envs/prod');

    const missing = loadError('deploy/nope.yaml');
    assert.match(missing.message, /config file "deploy\/nope\.yaml" does not exist/);
    assert.match(
      loadError('../slipway.yaml').message,
      /config file "\.\.\/slipway\.yaml" points outside the repository/,
    );
  });

  test('a YAML syntax error in the config names the file and line', () => {
    write('slipway.yaml', 'environments:\n  prod:\n    path: clusters/prod\n    path: clusters/dev\n');
    const error = loadError();
    assert.equal(error.kind, 'yaml');
    assert.deepEqual(error.location, { file: 'slipway.yaml', line: 4 });
    assert.match(error.message, /duplicated mapping key/);
  });
});

describe('without slipway.yaml', () => {
  test('every folder under clusters/ is an environment with default settings, in name order', () => {
    folders('clusters/staging', 'clusters/prod', 'clusters/dev/apps', 'other/qa');
    write('clusters/README.md', '# not an environment\n');
    const config = load();
    assert.equal(config.file, undefined);
    assert.deepEqual([...config.environments.keys()], ['dev', 'prod', 'staging']);
    const prod = environmentOrThrow(config, 'prod');
    assert.equal(prod.path, 'clusters/prod');
    assert.equal(prod.prune, true);
    assert.equal(prod.namespace, undefined);
    assert.deepEqual(prod.helm, []);
  });

  test('no config and no clusters/ folders is an error that says how to start', () => {
    write('README.md', '# empty\n');
    const error = loadError();
    assert.match(error.message, /no slipway\.yaml and no folders under clusters\//);
    assert.match(error.hint ?? '', /slipway init/);
  });

  test('a folder under clusters/ that is a symlink leaving the repository is never an environment', () => {
    const outside = path.join(tmp.dir, 'outside');
    mkdirSync(outside);
    folders('clusters/prod');
    symlinkSync(outside, path.join(repo, 'clusters/evil'));
    const config = load();
    assert.deepEqual([...config.environments.keys()], ['prod']);
    assert.throws(() => environmentOrThrow(config, 'evil'), /unknown environment "evil" \(known: prod\)/);
  });
});

test('an unknown environment name is an error that lists the known ones', () => {
  folders('clusters/prod', 'clusters/staging');
  write(
    'slipway.yaml',
    'environments:\n  staging:\n    path: clusters/staging\n  prod:\n    path: clusters/prod\n',
  );
  const config = load();
  assert.throws(
    () => environmentOrThrow(config, 'production'),
    (error: unknown) =>
      error instanceof UserError &&
      error.kind === 'config' &&
      error.message === 'unknown environment "production" (known: staging, prod)' &&
      error.location?.file === 'slipway.yaml',
  );
});

test('risks and ignore-differences: read per environment; mistakes named with their line', () => {
  folders('clusters/prod');
  write(
    'slipway.yaml',
    [
      'environments:',
      '  prod:',
      '    path: clusters/prod',
      '    risks: {rbac-grows: error, latest-image: ignore}',
      '    ignore-differences:',
      '      - {kind: Deployment, group: apps, managers: [kube-controller-manager]}',
      "      - {kind: Service, paths: ['.spec.ports[*].nodePort']}",
      '',
    ].join('\n'),
  );
  const env = environmentOrThrow(load(), 'prod');
  assert.deepEqual(env.risks, { 'rbac-grows': 'error', 'latest-image': 'ignore' });
  assert.equal(env.ignoreDifferences.length, 2);
  assert.deepEqual(env.ignoreDifferences[1]?.paths, [['spec', 'ports', { any: true }, 'nodePort']]);
  write(
    'slipway.yaml',
    [
      'environments:',
      '  prod:',
      '    path: clusters/prod',
      '    risks: {rbac-grow: error}',
      '    ignore-differences:',
      '      - {paths: [spec]}',
      '',
    ].join('\n'),
  );
  const message = loadError().message;
  assert.match(message, /slipway\.yaml:4: unknown risk rule "rbac-grow"/);
  assert.match(message, /slipway\.yaml:5: an ignore-differences rule needs `kind:`/);
  assert.match(message, /slipway\.yaml:5: path "spec" cannot be read at "spec"/);
});

describe('state-namespace', () => {
  test('defaults to slipway-system; set at the top it applies to every environment; one may override it', () => {
    folders('clusters/a', 'clusters/b');
    write('slipway.yaml', 'environments:\n  a: {path: clusters/a}\n');
    assert.equal(environmentOrThrow(load(), 'a').stateNamespace, 'slipway-system');
    write(
      'slipway.yaml',
      'state-namespace: team-a\nenvironments:\n  a: {path: clusters/a}\n  b: {path: clusters/b, state-namespace: team-b}\n',
    );
    const config = load();
    assert.equal(environmentOrThrow(config, 'a').stateNamespace, 'team-a');
    assert.equal(environmentOrThrow(config, 'b').stateNamespace, 'team-b');
  });

  test('an invalid namespace name is refused on its line, at the top and in an environment', () => {
    folders('clusters/a');
    const text =
      'state-namespace: Team_A\nenvironments:\n  a:\n    path: clusters/a\n    state-namespace: 7\n';
    write('slipway.yaml', text);
    const message = loadError().message;
    assert.match(message, /slipway\.yaml:1: state-namespace "Team_A" is not a valid namespace name/);
    assert.match(message, /slipway\.yaml:5: "state-namespace" must be a string, got number 7/);
  });
});
