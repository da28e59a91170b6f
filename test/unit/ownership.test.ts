// Which fields an apply takes from other field managers, as the plan reports them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIELD_MANAGER_NAME } from '../../src/core/constants.ts';
import type { KubeObject, ManagedFieldsEntry } from '../../src/core/objects.ts';
import { flattenFields, takenFields } from '../../src/core/ownership/ownership.ts';

describe('flattenFields', () => {
  test('f: segments become dotted paths, and only leaves are listed', () => {
    assert.deepEqual(
      flattenFields({
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } },
        'f:spec': { 'f:replicas': {} },
      }),
      ['.metadata.labels.app', '.metadata.labels.tier', '.spec.replicas'],
    );
  });

  test('k:{…} list keys read as [key=value,…]', () => {
    assert.deepEqual(
      flattenFields({
        'f:spec': {
          'f:containers': {
            'k:{"name":"web"}': { '.': {}, 'f:image': {} },
            'k:{"containerPort":8080,"protocol":"TCP"}': {},
          },
        },
      }),
      ['.spec.containers[name=web].image', '.spec.containers[containerPort=8080,protocol=TCP]'],
    );
  });

  test('v: set values and i: indexes', () => {
    assert.deepEqual(
      flattenFields({
        'f:metadata': { 'f:finalizers': { '.': {}, 'v:"example.com/cleanup"': {} } },
        'f:spec': { 'f:args': { 'i:0': {}, 'i:1': { 'f:x': {} } } },
      }),
      ['.metadata.finalizers[="example.com/cleanup"]', '.spec.args[0]', '.spec.args[1].x'],
    );
  });

  test('a field whose only child is "." is a leaf (the whole map or list is owned)', () => {
    assert.deepEqual(flattenFields({ 'f:data': { '.': {} } }), ['.data']);
  });

  test('a malformed k: key is shown as written rather than dropped', () => {
    assert.deepEqual(flattenFields({ 'f:spec': { 'k:{not json': {} } }), ['.spec[{not json]']);
  });

  test('nothing to flatten', () => {
    assert.deepEqual(flattenFields(undefined), []);
    assert.deepEqual(flattenFields({}), []);
    assert.deepEqual(flattenFields(['f:x']), []);
  });
});

function entry(
  manager: string,
  fieldsV1: Record<string, unknown>,
  extra: Partial<ManagedFieldsEntry> = {},
): ManagedFieldsEntry {
  return { manager, operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1, ...extra };
}

function deployment(managedFields: ManagedFieldsEntry[]): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', managedFields } };
}

const REPLICAS = { 'f:spec': { 'f:replicas': {} } };
const IMAGE = {
  'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } },
};

describe('takenFields', () => {
  test('fields another manager owned live and no longer owns after the forced dry-run', () => {
    const live = deployment([
      entry('kubectl-edit', { 'f:spec': { 'f:replicas': {}, 'f:paused': {} } }),
      entry(FIELD_MANAGER_NAME, IMAGE, { operation: 'Apply' }),
    ]);
    const result = deployment([
      entry('kubectl-edit', { 'f:spec': { 'f:paused': {} } }),
      entry(FIELD_MANAGER_NAME, { ...IMAGE, ...REPLICAS }, { operation: 'Apply' }),
    ]);
    assert.deepEqual(takenFields(live, result), [{ manager: 'kubectl-edit', fields: ['.spec.replicas'] }]);
  });

  test('a manager that lost everything disappears from the result: all its fields are taken', () => {
    const live = deployment([
      entry('helm', { ...REPLICAS, 'f:metadata': { 'f:labels': { 'f:chart': {} } } }),
    ]);
    const result = deployment([entry(FIELD_MANAGER_NAME, REPLICAS, { operation: 'Apply' })]);
    assert.deepEqual(takenFields(live, result), [
      { manager: 'helm', fields: ['.spec.replicas', '.metadata.labels.chart'] },
    ]);
  });

  test("Slipway's own fields and status-subresource entries are never reported", () => {
    const live = deployment([
      entry(FIELD_MANAGER_NAME, REPLICAS, { operation: 'Apply' }),
      entry('kube-controller-manager', { 'f:status': { 'f:replicas': {} } }, { subresource: 'status' }),
    ]);
    const result = deployment([]);
    assert.deepEqual(takenFields(live, result), []);
  });

  test('a manager that keeps its fields (shared ownership) is not reported', () => {
    const live = deployment([entry('kubectl-edit', REPLICAS)]);
    const result = deployment([
      entry('kubectl-edit', REPLICAS),
      entry(FIELD_MANAGER_NAME, REPLICAS, { operation: 'Apply' }),
    ]);
    assert.deepEqual(takenFields(live, result), []);
  });

  test('entries are matched by manager, operation and subresource', () => {
    // The same manager name with an Apply entry and an Update entry: only the Update one lost a field.
    const live = deployment([
      entry('argocd', REPLICAS, { operation: 'Apply' }),
      entry('argocd', IMAGE, { operation: 'Update' }),
    ]);
    const result = deployment([entry('argocd', REPLICAS, { operation: 'Apply' })]);
    assert.deepEqual(takenFields(live, result), [
      { manager: 'argocd', fields: ['.spec.template.spec.containers[name=web].image'] },
    ]);
  });

  test('nothing is taken when the object does not exist yet, or nobody else managed it', () => {
    assert.deepEqual(takenFields(undefined, deployment([entry(FIELD_MANAGER_NAME, REPLICAS)])), []);
    assert.deepEqual(takenFields(deployment([]), deployment([])), []);
    const noManagedFields: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } };
    assert.deepEqual(takenFields(noManagedFields, noManagedFields), []);
  });

  test('an entry without a manager name is reported as (unknown)', () => {
    const live = deployment([{ operation: 'Update', fieldsV1: REPLICAS }]);
    assert.deepEqual(takenFields(live, deployment([])), [
      { manager: '(unknown)', fields: ['.spec.replicas'] },
    ]);
  });
});
