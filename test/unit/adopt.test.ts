// Adopting kubectl's field ownership (the csaupgrade migration), and the field-set arithmetic the
// plan uses to preview what the adoption removes. The cases follow client-go's csaupgrade tests
// with Slipway as the server-side manager; the real-server behaviour is proven in
// test/integration/ownership.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adoptionOf, adoptionPatch, isAdoptedEntry } from '../../src/core/ownership/adopt.ts';
import { disownedPaths, memberPaths, unionFields, withoutPaths } from '../../src/core/ownership/fieldset.ts';
import type { KubeObject, ManagedFieldsEntry } from '../../src/core/objects.ts';

const LAST_APPLIED = {
  'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
};

function entry(
  manager: string,
  operation: string,
  fieldsV1: Record<string, unknown>,
  extra: Partial<ManagedFieldsEntry> = {},
): ManagedFieldsEntry {
  return {
    manager,
    operation,
    apiVersion: 'v1',
    fieldsType: 'FieldsV1',
    fieldsV1,
    time: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

function object(managedFields: ManagedFieldsEntry[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'test', namespace: 'default', resourceVersion: '7', managedFields },
  };
}

describe('adoptionOf', () => {
  test("a client-side apply entry alone becomes Slipway's Apply entry, fields and time kept (csa-basic-direct-conversion)", () => {
    const csa = entry('kubectl-client-side-apply', 'Update', {
      'f:data': { '.': {}, 'f:key': {}, 'f:legacy': {} },
      ...LAST_APPLIED,
    });
    const adoption = adoptionOf(object([csa]));
    assert.ok(adoption);
    assert.deepEqual(adoption.managedFields, [{ ...csa, manager: 'slipway', operation: 'Apply' }]);
    assert.deepEqual(adoption.managers, ['kubectl-client-side-apply']);
    assert.equal(adoption.fields, 5);
  });

  test('an existing Slipway entry takes the union of every adopted entry of its apiVersion; other versions are dropped, other managers and subresources kept', () => {
    const mine = entry('slipway', 'Apply', { 'f:data': { 'f:key': {} } });
    const csaV1 = entry('kubectl-client-side-apply', 'Update', {
      'f:data': { 'f:legacy': {} },
      ...LAST_APPLIED,
    });
    const csaV2 = entry(
      'kubectl-client-side-apply',
      'Update',
      { 'f:data': { 'f:other': {} } },
      { apiVersion: 'v2' },
    );
    const before = entry('before-first-apply', 'Update', { 'f:data': { 'f:old': {} } });
    const controller = entry('kube-controller-manager', 'Update', { 'f:data': { 'f:ctrl': {} } });
    const status = entry(
      'kubectl-client-side-apply',
      'Update',
      { 'f:status': {} },
      { subresource: 'status' },
    );
    const adoption = adoptionOf(object([controller, mine, csaV1, csaV2, before, status]));
    assert.ok(adoption);
    assert.deepEqual(adoption.managedFields, [
      controller,
      { ...mine, fieldsV1: { 'f:data': { 'f:key': {}, 'f:legacy': {}, 'f:old': {} }, ...LAST_APPLIED } },
      status,
    ]);
    assert.deepEqual(adoption.managers, ['kubectl-client-side-apply', 'before-first-apply']);
  });

  test("kubectl server-side apply is adopted (as Flux does); the most recent adopted entry becomes Slipway's", () => {
    const ssa = entry('kubectl', 'Apply', { 'f:data': { 'f:key': {} } }, { time: '2026-02-01T00:00:00Z' });
    const csa = entry('kubectl-client-side-apply', 'Update', { 'f:data': { 'f:legacy': {} } });
    const adoption = adoptionOf(object([ssa, csa]));
    assert.deepEqual(adoption?.managedFields, [
      { ...ssa, manager: 'slipway', fieldsV1: { 'f:data': { 'f:key': {}, 'f:legacy': {} } } },
    ]);
  });

  test("other managers are not adopted, unless an Update owns the last-applied annotation (kubectl's own rule)", () => {
    assert.equal(
      adoptionOf(object([entry('kubectl-edit', 'Update', { 'f:data': { 'f:a': {} } })])),
      undefined,
    );
    assert.equal(adoptionOf(object([entry('slipway', 'Apply', { 'f:data': { 'f:a': {} } })])), undefined);
    assert.equal(adoptionOf(undefined), undefined);
    assert.equal(isAdoptedEntry(entry('kubectl', 'Update', LAST_APPLIED)), true);
    assert.equal(isAdoptedEntry(entry('helm', 'Apply', LAST_APPLIED)), false);
  });

  test('the patch replaces managedFields and pins the resourceVersion read, as kubectl sends it', () => {
    const live = object([entry('kubectl-client-side-apply', 'Update', { 'f:data': {} })]);
    const adoption = adoptionOf(live);
    assert.ok(adoption);
    assert.deepEqual(adoptionPatch(live, adoption), [
      { op: 'replace', path: '/metadata/managedFields', value: adoption.managedFields },
      { op: 'replace', path: '/metadata/resourceVersion', value: '7' },
    ]);
  });
});

describe('field sets', () => {
  const env = (name: string): string => `k:{"name":"${name}"}`;
  const candidates = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:team': {} } },
    'f:spec': {
      'f:containers': {
        [env('app')]: { '.': {}, 'f:env': { [env('DEBUG')]: { '.': {}, 'f:name': {}, 'f:value': {} } } },
      },
    },
  };
  const owner = {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': { 'f:containers': { [env('app')]: { '.': {}, 'f:image': {} } } },
  };

  test('member paths are leaves and nodes marked with "."', () => {
    assert.deepEqual(memberPaths({ 'f:a': { '.': {}, 'f:b': {} } }), [['f:a'], ['f:a', 'f:b']]);
    assert.deepEqual(unionFields({ 'f:a': { 'f:b': {} } }, { 'f:a': { 'f:c': {} } }), {
      'f:a': { 'f:b': {}, 'f:c': {} },
    });
  });

  test('only the outermost paths nobody else holds are disowned; a node with an owned child stays', () => {
    assert.deepEqual(disownedPaths(memberPaths(candidates), [owner]), [
      ['f:metadata', 'f:labels', 'f:team'],
      ['f:spec', 'f:containers', env('app'), 'f:env', env('DEBUG')],
    ]);
  });

  test('removing paths deletes map keys and keyed list items, and leaves the input untouched', () => {
    const live: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'p', team: 'x' } },
      spec: {
        containers: [
          { name: 'side', env: [{ name: 'DEBUG', value: '1' }] },
          {
            name: 'app',
            env: [
              { name: 'MODE', value: 'a' },
              { name: 'DEBUG', value: '1' },
            ],
          },
        ],
      },
    };
    const pruned = withoutPaths(live, [
      ['f:metadata', 'f:labels', 'f:team'],
      ['f:spec', 'f:containers', env('app'), 'f:env', env('DEBUG')],
      ['f:spec', 'f:containers', env('missing'), 'f:env'],
    ]);
    assert.deepEqual(pruned.metadata.labels, { app: 'p' });
    assert.deepEqual(pruned['spec'], {
      containers: [
        { name: 'side', env: [{ name: 'DEBUG', value: '1' }] },
        { name: 'app', env: [{ name: 'MODE', value: 'a' }] },
      ],
    });
    assert.equal(live.metadata.labels?.['team'], 'x');
  });
});
