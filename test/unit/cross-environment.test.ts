// Objects two environments on one cluster both render (src/core/job/cross-environment.ts): which
// count as one object, and how a plan shows them. The real-cluster side is in
// test/integration/cross-environment.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedObjects, withSharedObjectErrors } from '../../src/core/job/cross-environment.ts';
import type { ObjectRef } from '../../src/core/objects.ts';
import type { Plan, PlannedObject } from '../../src/core/plan/plan.ts';

const cm = (namespace: string, name = 'settings', apiVersion = 'v1'): ObjectRef => ({
  apiVersion,
  kind: 'ConfigMap',
  namespace,
  name,
});
const SERVER = 'https://10.0.0.1:6443';

describe('sharedObjects', () => {
  test('the same group, kind, namespace and name on one API server, whatever the version or URL spelling', () => {
    const shared = sharedObjects([
      { environment: 'dev', server: SERVER, objects: [cm('shared'), cm('dev', 'own')] },
      { environment: 'prod', server: `${SERVER}/`, objects: [cm('shared')] },
      { environment: 'qa', server: 'https://10.0.0.1:6443', objects: [cm('shared'), cm('prod', 'own')] },
    ]);
    assert.deepEqual([...shared.keys()].sort(), ['dev', 'prod', 'qa']);
    assert.deepEqual(shared.get('dev')?.get('/ConfigMap/shared/settings')?.others, ['prod', 'qa']);
    assert.deepEqual([...(shared.get('prod')?.keys() ?? [])], ['/ConfigMap/shared/settings']);
  });

  test('other clusters, other namespaces and other names are other objects', () => {
    const shared = sharedObjects([
      { environment: 'dev', server: SERVER, objects: [cm('shared'), cm('dev')] },
      { environment: 'prod', server: 'https://10.0.0.2:6443', objects: [cm('shared')] },
      { environment: 'qa', server: SERVER, objects: [cm('qa'), cm('shared', 'other')] },
    ]);
    assert.equal(shared.size, 0);
  });
});

describe('withSharedObjectErrors', () => {
  const row = (ref: ObjectRef, action: PlannedObject['action'], note?: string): PlannedObject => ({
    ref,
    action,
    diff: action === 'create' ? '+x' : '',
    source: undefined,
    note,
    taken: [],
    desired: undefined,
    live: undefined,
    deferred: false,
  });
  const plan: Plan = {
    environment: 'dev',
    objects: [
      row(cm('shared'), 'create'),
      row(cm('dev', 'own'), 'create'),
      row(cm('shared', 'gone'), 'delete'),
    ],
    summary: { create: 2, update: 0, delete: 1, unchanged: 0, error: 0, orphan: 0 },
    requests: 0,
    durationMs: 0,
  };

  test('a shared object becomes an error row naming the other environments; the summary follows', () => {
    const shared = sharedObjects([
      { environment: 'dev', server: SERVER, objects: [cm('shared'), cm('dev', 'own')] },
      { environment: 'prod', server: SERVER, objects: [cm('shared'), cm('shared', 'gone')] },
    ]);
    const marked = withSharedObjectErrors(plan, shared.get('dev') ?? new Map());
    assert.deepEqual(
      marked.objects.map((o) => [o.ref.name, o.action]),
      [
        ['settings', 'error'],
        ['own', 'create'],
        ['gone', 'delete'],
      ],
      'a delete row is no render of dev: left alone',
    );
    assert.equal(
      marked.objects[0]?.note,
      'also rendered by environment prod on the same cluster: one object can have only one owner; remove it from one of them',
    );
    assert.deepEqual(marked.summary, { create: 1, update: 0, delete: 1, unchanged: 0, error: 1, orphan: 0 });
    assert.equal(withSharedObjectErrors(plan, new Map()), plan);
  });
});
