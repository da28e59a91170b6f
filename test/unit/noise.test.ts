// Issue 15: noise rules. Paths (JSON pointers, JSONPath-like, managed fields), how an ignored
// field is applied (left to its manager, or kept as live has it), and the built-in quiet diff.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../src/core/objects.ts';
import { quietSides } from '../../src/core/noise/builtin.ts';
import { parseIgnoreDifferences } from '../../src/core/noise/config.ts';
import {
  copyFields,
  describePath,
  parseJsonPath,
  parsePointer,
  removeFields,
} from '../../src/core/noise/paths.ts';
import {
  ignoredPaths,
  maskIgnored,
  respectIgnored,
  rulesFor,
  type IgnoreRule,
} from '../../src/core/noise/rules.ts';

function web(replicas: number, image = 'app:1', extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', ...extra },
    spec: {
      replicas,
      template: {
        spec: {
          containers: [
            { name: 'app', image },
            { name: 'proxy', image: 'envoy:1' },
          ],
        },
      },
    },
  };
}

const HPA_FIELDS = [
  { manager: 'slipway', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } } },
  {
    manager: 'kube-controller-manager',
    operation: 'Update',
    subresource: 'scale',
    fieldsV1: { 'f:spec': { 'f:replicas': {} } },
  },
];

function rule(extra: Partial<IgnoreRule>): IgnoreRule {
  return {
    group: undefined,
    kind: 'Deployment',
    name: undefined,
    namespace: undefined,
    paths: [],
    managers: [],
    ...extra,
  };
}

describe('ignore paths', () => {
  test('JSON pointers and JSONPath-like paths read to the same segments', () => {
    assert.deepEqual(parsePointer('/spec/replicas'), ['spec', 'replicas']);
    assert.deepEqual(parsePointer('/metadata/annotations/example.com~1x'), [
      'metadata',
      'annotations',
      'example.com/x',
    ]);
    assert.deepEqual(parsePointer('/spec/template/spec/containers/0/image'), [
      'spec',
      'template',
      'spec',
      'containers',
      0,
      'image',
    ]);
    assert.deepEqual(parseJsonPath('.spec.replicas'), ['spec', 'replicas']);
    assert.deepEqual(parseJsonPath("$.metadata.annotations['example.com/x']"), [
      'metadata',
      'annotations',
      'example.com/x',
    ]);
    assert.equal(
      describePath(parseJsonPath('.spec.template.spec.containers[*].image')),
      '.spec.template.spec.containers[*].image',
    );
    assert.throws(() => parseJsonPath('spec..x'), /cannot be read at/);
    assert.throws(() => parsePointer('spec'), /must start with "\/"/);
  });

  test('copyFields takes a field from the other side, through * and list elements; removeFields drops it', () => {
    const live = web(5, 'app:1');
    const desired = web(2, 'app:2');
    const copied = copyFields(
      live,
      desired,
      parseJsonPath('.spec.template.spec.containers[*].image'),
    ) as KubeObject;
    assert.deepEqual(copied, web(2, 'app:1'));
    assert.deepEqual(desired, web(2, 'app:2'), 'inputs are not changed');
    const removed = removeFields(desired, ['spec', 'replicas']) as KubeObject;
    assert.equal((removed.spec as Record<string, unknown>).replicas, undefined);
    const onlyLive = copyFields(web(1, 'a', { labels: { x: '1' } }), web(1, 'a'), [
      'metadata',
      'labels',
    ]) as KubeObject;
    assert.deepEqual(onlyLive.metadata.labels, { x: '1' }, 'a field only the source has is copied');
  });
});

describe('ignore-differences and the apply', () => {
  const live = web(5, 'app:1', { managedFields: HPA_FIELDS });

  test('managers: the fields they own are left out of what is applied, and masked in the diff', () => {
    const rules = [rule({ managers: ['kube-controller-manager'] })];
    const applied = respectIgnored(web(2, 'app:2'), live, rules);
    assert.ok(
      !('replicas' in (applied.spec as Record<string, unknown>)),
      'server-side apply leaves them to their manager',
    );
    const paths = ignoredPaths(rules, live);
    assert.deepEqual(paths, [['spec', 'replicas']]);
    assert.equal((maskIgnored(live, web(2), paths).spec as Record<string, unknown>).replicas, 5);
  });

  test("paths: the live value is applied (never changed); on a create Git's value is", () => {
    const rules = [rule({ paths: [parsePointer('/spec/replicas')] })];
    assert.equal((respectIgnored(web(2), live, rules).spec as Record<string, unknown>).replicas, 5);
    assert.equal((respectIgnored(web(2), undefined, rules).spec as Record<string, unknown>).replicas, 2);
  });

  test('rules match by group, kind, name and namespace', () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop' };
    assert.equal(rulesFor([rule({ group: 'apps', name: 'web', namespace: 'shop' })], ref).length, 1);
    assert.equal(rulesFor([rule({ group: '' })], ref).length, 0);
    assert.equal(rulesFor([rule({ name: 'api' })], ref).length, 0);
    assert.equal(rulesFor([rule({ kind: 'StatefulSet' })], ref).length, 0);
  });

  test('config: every problem is reported, with where it is', () => {
    const problems: string[] = [];
    const rules = parseIgnoreDifferences(
      [
        {
          kind: 'Deployment',
          group: 'apps',
          'json-pointers': ['/spec/replicas'],
          managers: ['kube-controller-manager'],
        },
        { kind: 'Service', paths: ['.spec..x'] },
        { 'json-pointers': ['/kind'], extra: 1 },
        { kind: 'ConfigMap', managers: ['slipway'] },
        { kind: 'Secret' },
      ],
      (sub, message) => problems.push(`${sub}: ${message}`),
    );
    assert.equal(rules.length, 4);
    assert.deepEqual(rules[0]?.paths, [['spec', 'replicas']]);
    assert.deepEqual(
      problems.map((p) => p.replace(/:.*/, '')),
      ['1.paths', '2.extra', '2', '2.json-pointers', '3.managers', '4'],
    );
  });
});

describe('built-in noise', () => {
  const labelled = (object: KubeObject): KubeObject => ({
    ...object,
    metadata: {
      ...object.metadata,
      labels: { app: 'web', 'slipway.dev/environment': 'prod', 'applyset.kubernetes.io/part-of': 'x' },
    },
  });

  test('Slipway labels alone: an adoption, the labels shown; beside other changes they are hidden', () => {
    const bare = web(2);
    const plain = { ...bare, metadata: { ...bare.metadata, labels: { app: 'web' } } };
    const adopt = quietSides(plain, labelled(plain));
    assert.equal(adopt.adoptOnly, true);
    assert.equal(adopt.result.metadata.labels?.['slipway.dev/environment'], 'prod');
    const both = quietSides(plain, labelled(web(3)));
    assert.equal(both.adoptOnly, false);
    assert.deepEqual(both.result.metadata.labels, { app: 'web' });
  });

  test('a checksum/* bump on the pod template is one note and no diff', () => {
    const withSum = (sum: string, replicas = 2): KubeObject => {
      const object = web(replicas);
      const spec = object.spec as { template: Record<string, unknown> };
      spec.template.metadata = { annotations: { 'checksum/config': sum, 'checksum/secret': 's' } };
      return object;
    };
    const quiet = quietSides(withSum('a'), withSum('b'));
    assert.equal(quiet.note, 'restarts pods (config changed: checksum/config)');
    assert.deepEqual(quiet.live, quiet.result, 'nothing else changed');
    const more = quietSides(withSum('a'), withSum('b', 3));
    assert.notDeepEqual(more.live, more.result);
    assert.equal(quietSides(withSum('a'), withSum('a', 3)).note, undefined);
  });
});
