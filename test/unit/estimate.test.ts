import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimateApply } from '../../src/core/plan/estimate.ts';
import { canonicalQuantity } from '../../src/core/plan/quantity.ts';
import type { KubeObject, ManagedFieldsEntry } from '../../src/core/objects.ts';

const slipway = (fieldsV1: Record<string, unknown>): ManagedFieldsEntry => ({
  manager: 'slipway',
  operation: 'Apply',
  apiVersion: 'apps/v1',
  fieldsV1,
});

/** What Slipway applied before: one container with an env var and a port, a label. */
const appliedFields = {
  'f:metadata': { 'f:labels': { 'f:app': {}, 'f:tier': {} } },
  'f:spec': {
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"web"}': {
            '.': {},
            'f:name': {},
            'f:image': {},
            'f:args': {},
            'f:env': {
              'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} },
              'k:{"name":"B"}': { '.': {}, 'f:name': {}, 'f:value': {} },
            },
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
        },
      },
    },
  },
};

function live(extra: ManagedFieldsEntry[] = []): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'demo',
      labels: { app: 'web', tier: 'front', team: 'a' },
      finalizers: ['x/one'],
      managedFields: [
        slipway(appliedFields),
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'apps/v1',
          fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} }, 'f:finalizers': { 'v:"x/one"': {} } } },
        },
        ...extra,
      ],
    },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            {
              name: 'web',
              image: 'web:1',
              args: ['--a', '--b'],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              terminationMessagePath: '/dev/termination-log',
            },
          ],
          restartPolicy: 'Always',
        },
      },
    },
    status: { replicas: 2 },
  };
}

function rendered(change: (container: Record<string, unknown>) => void = () => {}): KubeObject {
  const container: Record<string, unknown> = {
    name: 'web',
    image: 'web:1',
    args: ['--a', '--b'],
    env: [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ],
    ports: [{ containerPort: 80 }],
  };
  change(container);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo', labels: { app: 'web', tier: 'front' } },
    spec: { template: { spec: { containers: [container] } } },
  };
}

const containerOf = (object: KubeObject): Record<string, unknown> =>
  (object.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec
    .containers[0] as Record<string, unknown>;

describe('estimateApply', () => {
  test('a create is the rendered object, a Secret with stringData folded into data', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { password: 'hunter2' },
      data: { user: 'YWRtaW4=' },
    };
    assert.deepEqual(estimateApply(secret, undefined), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { user: 'YWRtaW4=', password: 'aHVudGVyMg==' },
    });
    const deployment = rendered();
    assert.deepEqual(estimateApply(deployment, undefined), deployment);
  });

  test('nothing changed: the estimate is the live object (a port without its defaulted protocol matches)', () => {
    assert.deepEqual(estimateApply(rendered(), live()), live());
  });

  test('an image change merges into the live container, defaulted fields kept', () => {
    const result = estimateApply(
      rendered((c) => (c.image = 'web:2')),
      live(),
    );
    const container = containerOf(result);
    assert.equal(container.image, 'web:2');
    assert.equal(container.terminationMessagePath, '/dev/termination-log');
    assert.deepEqual(container.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.equal((result.spec as { replicas: number }).replicas, 2);
    assert.deepEqual(result.status, { replicas: 2 });
  });

  test('an env var and a label Slipway applied and Git dropped are removed; another manager’s label stays', () => {
    const object = rendered((c) => (c.env = [{ name: 'A', value: '1' }]));
    delete object.metadata.labels?.tier;
    const result = estimateApply(object, live());
    assert.deepEqual(containerOf(result).env, [{ name: 'A', value: '1' }]);
    assert.deepEqual(result.metadata.labels, { app: 'web', team: 'a' });
  });

  test('a field another manager co-owns is not removed', () => {
    const coOwner: ManagedFieldsEntry = {
      manager: 'kubectl-edit',
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsV1: {
        'f:spec': {
          'f:template': {
            'f:spec': {
              'f:containers': {
                'k:{"name":"web"}': { 'f:env': { 'k:{"name":"B"}': { '.': {}, 'f:value': {} } } },
              },
            },
          },
        },
      },
    };
    const result = estimateApply(
      rendered((c) => (c.env = [{ name: 'A', value: '1' }])),
      live([coOwner]),
    );
    assert.deepEqual(containerOf(result).env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  test('keyed lists merge item by item and append new items; atomic lists replace whole', () => {
    const result = estimateApply(
      rendered((c) => {
        c.env = [
          { name: 'B', value: '20' },
          { name: 'A', value: '1' },
          { name: 'C', value: '3' },
        ];
        c.args = ['--c'];
      }),
      live(),
    );
    assert.deepEqual(containerOf(result).env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '20' },
      { name: 'C', value: '3' },
    ]);
    assert.deepEqual(containerOf(result).args, ['--c']);
  });

  test('a set (finalizers, `v:` in managedFields) is a union', () => {
    const object = rendered();
    object.metadata.finalizers = ['x/two'];
    assert.deepEqual(estimateApply(object, live()).metadata.finalizers, ['x/one', 'x/two']);
  });

  test('a new container is appended, keyed by name with no managedFields evidence for it', () => {
    const object = rendered();
    (object.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers.push({
      name: 'sidecar',
      image: 'side:1',
    });
    const containers = (
      estimateApply(object, live()).spec as { template: { spec: { containers: unknown[] } } }
    ).template.spec.containers;
    assert.equal(containers.length, 2);
    assert.deepEqual(containers[1], { name: 'sidecar', image: 'side:1' });
  });

  test('fields kubectl applied client-side are adopted: dropped from Git, they are removed; its defaults stay', () => {
    const object = live();
    object.metadata.labels = { ...object.metadata.labels, legacy: 'yes', defaulted: 'x' };
    object.metadata.annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
        metadata: { labels: { legacy: 'yes' } },
      }),
    };
    object.metadata.managedFields?.push({
      manager: 'kubectl-client-side-apply',
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:legacy': {}, 'f:defaulted': {} } } },
    });
    assert.deepEqual(estimateApply(rendered(), object).metadata.labels, {
      app: 'web',
      tier: 'front',
      team: 'a',
      defaulted: 'x',
    });
  });

  test('a list the removal empties goes too', () => {
    const result = estimateApply(
      rendered((c) => delete c.env),
      live(),
    );
    assert.equal('env' in containerOf(result), false);
  });

  test('without a Slipway entry (another apiVersion, or never applied) nothing is removed', () => {
    const object = live();
    const mine = object.metadata.managedFields?.[0];
    if (mine) mine.apiVersion = 'apps/v1beta2';
    const changed = rendered((c) => (c.env = [{ name: 'A', value: '1' }]));
    delete changed.metadata.labels?.tier;
    const result = estimateApply(changed, object);
    assert.equal(result.metadata.labels?.tier, 'front');
    assert.deepEqual(containerOf(result).env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  test('what the server always does: canonical quantities, canonical base64, the Namespace name label', () => {
    const object = rendered(
      (c) => (c.resources = { requests: { cpu: 0.25, memory: '1024Mi' }, limits: { cpu: '2' } }),
    );
    const current = live();
    containerOf(current).resources = {
      requests: { cpu: '250m', memory: '1Gi' },
      limits: { cpu: '1' },
    };
    assert.deepEqual(containerOf(estimateApply(object, current)).resources, {
      requests: { cpu: '250m', memory: '1Gi' },
      limits: { cpu: '2' },
    });
    const wrapped: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { key: 'aGVs\nbG8=' },
    };
    assert.deepEqual(estimateApply(wrapped, undefined).data, { key: 'aGVsbG8=' });
    const namespace: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { team: 'a' } },
    };
    assert.deepEqual(estimateApply(namespace, undefined).metadata.labels, {
      team: 'a',
      'kubernetes.io/metadata.name': 'shop',
    });
  });

  test('quantities in the form the API server stores them (checked against it in read-only-differential.test.ts)', () => {
    const cases: [string | number, string, string][] = [
      // value, as a Quantity (nano), as a ResourceList entry (milli)
      ['0.25', '250m', '250m'],
      ['1000m', '1', '1'],
      ['2000', '2k', '2k'],
      ['1500', '1500', '1500'],
      ['1536Mi', '1536Mi', '1536Mi'],
      ['0.5Gi', '512Mi', '512Mi'],
      ['1e3', '1e3', '1e3'],
      ['1.5', '1500m', '1500m'],
      ['0.1m', '100u', '1m'],
      ['1500u', '1500u', '2m'],
      ['2Ki', '2Ki', '2Ki'],
      [2, '2', '2'],
      ['0', '0', '0'],
    ];
    for (const [value, quantity, list] of cases) {
      assert.equal(canonicalQuantity(value), quantity, `${value}`);
      assert.equal(canonicalQuantity(value, true), list, `${value} in a ResourceList`);
    }
    for (const value of ['1.0.0', 'abc', '', '1 Gi', true]) assert.equal(canonicalQuantity(value), undefined);
  });

  test('a custom resource keeps what Git says: its quantities are plain strings to the server', () => {
    const object: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { resources: { requests: { cpu: '0.25' } } },
    };
    assert.deepEqual(estimateApply(object, undefined).spec, { resources: { requests: { cpu: '0.25' } } });
  });

  test("a value under a field that is not a quantity keeps Git's spelling", () => {
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { requests: '1.0' },
    };
    const current: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { requests: '1' },
    };
    assert.deepEqual(estimateApply(object, current).data, { requests: '1.0' });
  });
});
