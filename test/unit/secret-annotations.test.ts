// A Secret's annotations can carry its data (tools copy whole objects into them): the printable
// diff masks those, and keeps ordinary annotations readable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printableSides } from '../../src/core/plan/diff.ts';
import type { KubeObject } from '../../src/core/objects.ts';

const VALUE = 'sw0rdfish-in-annotation';
const ENCODED = Buffer.from(VALUE).toString('base64');

function secret(annotations: Record<string, string>, value = ENCODED): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'n', annotations },
    data: { key: value },
  };
}

test('Secret annotations that copy the object, contain a value or are long are masked; short plain ones stay', () => {
  const live = secret({
    'example.com/original': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { key: ENCODED } }),
    'example.com/hint': `password is ${VALUE}`,
    'example.com/owner': 'team-payments',
    'example.com/cert': 'x'.repeat(300),
  });
  const git = secret(
    { 'example.com/owner': 'team-billing', 'example.com/hint': `password is ${VALUE}` },
    'bmV3LXZhbHVl',
  );
  const { before, after } = printableSides(live, git);
  for (const text of [before, after]) {
    assert.ok(!text.includes(VALUE) && !text.includes(ENCODED), text);
    assert.ok(!text.includes('xxxxxxxx'), text);
  }
  assert.match(before, /example\.com\/original: '\*\*\* \(before\)'/);
  assert.match(before, /example\.com\/hint: '\*\*\*'/);
  assert.match(before, /example\.com\/owner: team-payments/);
  assert.match(after, /example\.com\/owner: team-billing/);
});

test('annotations of other kinds are untouched', () => {
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', annotations: { 'example.com/note': 'stringData: fine here' } },
  };
  assert.match(printableSides(configMap, undefined).before, /stringData: fine here/);
});
