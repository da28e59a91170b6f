// When the plan may call an object unchanged without a dry-run: only when the live object shows that
// Slipway's server-side apply of it could change nothing. Every doubt must answer false.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIELD_MANAGER_NAME } from '../../src/core/constants.ts';
import { appliesNoChange } from '../../src/core/plan/noop.ts';
import type { KubeObject, ManagedFieldsEntry } from '../../src/core/objects.ts';

const desired = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{ name: 'main', image: 'web:1', ports: [{ containerPort: 8080 }] }],
      },
    },
  },
});

/** Slipway's Apply entry for desired(): what the server records after applying it. */
const slipwayEntry = (): ManagedFieldsEntry => ({
  manager: FIELD_MANAGER_NAME,
  operation: 'Apply',
  apiVersion: 'apps/v1',
  fieldsType: 'FieldsV1',
  fieldsV1: {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"main"}': {
              '.': {},
              'f:image': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    },
  },
});

/** desired() as the server keeps it: defaults filled in, server fields added. */
const live = (extra: ManagedFieldsEntry[] = []): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    labels: { app: 'web' },
    uid: 'u-1',
    resourceVersion: '42',
    generation: 1,
    managedFields: [slipwayEntry(), ...extra],
  },
  spec: {
    replicas: 2,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        restartPolicy: 'Always',
        containers: [
          {
            name: 'main',
            image: 'web:1',
            imagePullPolicy: 'IfNotPresent',
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
          },
        ],
      },
    },
  },
  status: { replicas: 2 },
});

test('an object as Slipway applied it, with server defaults, needs no dry-run', () => {
  assert.equal(appliesNoChange(desired(), live()), true);
});

test('a changed value, a new field or a removed field needs the dry-run', () => {
  const changed = desired();
  (changed.spec as { replicas: number }).replicas = 3;
  assert.equal(appliesNoChange(changed, live()), false);

  const added = desired();
  added.metadata.labels = { app: 'web', tier: 'front' };
  assert.equal(appliesNoChange(added, live()), false);

  // Slipway owns .spec.replicas; leaving it out of Git would remove it.
  const removed = desired();
  delete (removed.spec as { replicas?: number }).replicas;
  assert.equal(appliesNoChange(removed, live()), false);
});

test('a list the live object has more items in needs the dry-run', () => {
  const object = live();
  const spec = object.spec as { template: { spec: { containers: unknown[] } } };
  spec.template.spec.containers.push({ name: 'sidecar', image: 'proxy:1' });
  assert.equal(appliesNoChange(desired(), object), false);
});

test('another manager owning a field Git sets needs the dry-run (it would be shared or taken)', () => {
  const other: ManagedFieldsEntry = {
    manager: 'kubectl-edit',
    operation: 'Update',
    apiVersion: 'apps/v1',
    fieldsV1: { 'f:spec': { 'f:replicas': {} } },
  };
  assert.equal(appliesNoChange(desired(), live([other])), false);
  const item: ManagedFieldsEntry = {
    manager: 'injector',
    operation: 'Update',
    apiVersion: 'apps/v1',
    fieldsV1: {
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {} } } } } },
    },
  };
  assert.equal(appliesNoChange(desired(), live([item])), false);
});

test('other managers on fields Git does not set, and status, do not matter', () => {
  const annotation: ManagedFieldsEntry = {
    manager: 'kube-controller-manager',
    operation: 'Update',
    apiVersion: 'apps/v1',
    fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:deployment.kubernetes.io/revision': {} } } },
  };
  const status: ManagedFieldsEntry = {
    manager: 'kube-controller-manager',
    operation: 'Update',
    apiVersion: 'apps/v1',
    subresource: 'status',
    fieldsV1: { 'f:status': { 'f:replicas': {} } },
  };
  const object = live([annotation, status]);
  object.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' };
  assert.equal(appliesNoChange(desired(), object), true);
});

test('without Slipway’s own Apply entry for this apiVersion, the dry-run decides', () => {
  const object = live();
  object.metadata.managedFields = [{ ...slipwayEntry(), manager: 'kubectl' }];
  assert.equal(appliesNoChange(desired(), object), false);
  object.metadata.managedFields = [{ ...slipwayEntry(), apiVersion: 'apps/v1beta1' }];
  assert.equal(appliesNoChange(desired(), object), false);
  object.metadata.managedFields = [];
  assert.equal(appliesNoChange(desired(), object), false);
});

test('a Secret with stringData (folded into data by the server) needs the dry-run', () => {
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'shop' },
    stringData: { token: 'abc' },
  };
  const stored: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 's',
      namespace: 'shop',
      managedFields: [
        {
          manager: FIELD_MANAGER_NAME,
          operation: 'Apply',
          apiVersion: 'v1',
          fieldsV1: { 'f:data': { 'f:token': {} } },
        },
      ],
    },
    data: { token: 'YWJj' },
    type: 'Opaque',
  };
  assert.equal(appliesNoChange(secret, stored), false);
  assert.equal(appliesNoChange({ ...secret, stringData: undefined, data: { token: 'YWJj' } }, stored), false);
  const { stringData: _, ...plain } = secret;
  assert.equal(appliesNoChange({ ...plain, data: { token: 'YWJj' } }, stored), true);
});

test('set-valued lists (v:) and quantities as the server prints them', () => {
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'c',
      namespace: 'shop',
      finalizers: ['example.com/keep'],
      managedFields: [
        {
          manager: FIELD_MANAGER_NAME,
          operation: 'Apply',
          apiVersion: 'v1',
          fieldsV1: {
            'f:metadata': { 'f:finalizers': { 'v:"example.com/keep"': {} } },
            'f:data': { 'f:a': {} },
          },
        },
      ],
    },
    data: { a: '1' },
  };
  const want: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'shop', finalizers: ['example.com/keep'] },
    data: { a: '1' },
  };
  assert.equal(appliesNoChange(want, object), true);
  // A number where the server keeps a string is a difference to the dry-run, so to this too.
  assert.equal(appliesNoChange({ ...want, data: { a: 1 } }, object), false);
});
