// The digest a plan records: equal for what shows the same, different for what reviewers would see
// differently, and never a hash of a Secret value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Manifest } from '../../src/core/yaml/manifest.ts';
import type { KubeObject } from '../../src/core/objects.ts';
import type { Plan, PlannedObject } from '../../src/core/plan/plan.ts';
import { digestLine, planDigest, readDigest, shortDigest } from '../../src/core/plan/plan-digest.ts';

const manifest = (object: KubeObject): Manifest => ({ object, source: { file: 'a.yaml', line: 1 } });
const configMap = (data: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', ...extra },
  data,
});
const secret = (value: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'n' },
  data: { password: Buffer.from(value).toString('base64') },
});

function plan(rows: Partial<PlannedObject>[]): Plan {
  return {
    environment: 'e',
    objects: rows.map((r) => ({
      ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n', name: 'c' },
      action: 'update',
      diff: '',
      source: undefined,
      note: undefined,
      taken: [],
      desired: undefined,
      live: undefined,
      deferred: false,
      ...r,
    })),
    summary: { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 },
    requests: 0,
    durationMs: 0,
  };
}

const DIFF =
  '--- live/c\n+++ git/c\n@@ -1,3 +1,3 @@\n data:\n-  color: blue\n+  color: green\n kind: ConfigMap';

test('the render digest ignores key order and server fields, and sees every rendered value', () => {
  const a = planDigest([manifest(configMap({ a: '1', b: '2' }))], plan([]));
  const b = planDigest(
    [manifest(configMap({ b: '2', a: '1' }, { resourceVersion: '9', uid: 'x' }))],
    plan([]),
  );
  assert.equal(a.render, b.render);
  assert.notEqual(a.render, planDigest([manifest(configMap({ a: '1', b: '3' }))], plan([])).render);
});

test('the changes digest counts what the diff adds or removes, not its context lines', () => {
  const base = planDigest([], plan([{ diff: DIFF }]));
  assert.equal(
    base.changes,
    planDigest([], plan([{ diff: DIFF.replace(' kind: ConfigMap', ' kind: Other') }])).changes,
  );
  assert.notEqual(
    base.changes,
    planDigest([], plan([{ diff: DIFF.replace('+  color: green', '+  color: red') }])).changes,
  );
  assert.notEqual(base.changes, planDigest([], plan([{ diff: DIFF, action: 'create' }])).changes);
  assert.equal(planDigest([], plan([{ action: 'unchanged' }])).changes, planDigest([], plan([])).changes);
});

test('a Secret counts by its keys, never by a hash of its values', () => {
  assert.equal(
    planDigest([manifest(secret('hunter2'))], plan([])).render,
    planDigest([manifest(secret('correct-horse'))], plan([])).render,
  );
});

test('the hidden line round-trips; anything else reads as no digest', () => {
  const digest = planDigest([manifest(configMap({ a: '1' }))], plan([{ diff: DIFF }]));
  assert.deepEqual(readDigest(`x\n${digestLine(digest)}\ny`), digest);
  assert.match(shortDigest(digest), /^[0-9a-f]{12}$/);
  assert.equal(readDigest('<!-- slipway:digest {"render":"zz","changes":"1"} -->'), undefined);
  assert.equal(readDigest('no digest here'), undefined);
});
