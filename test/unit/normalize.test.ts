// What a diff ignores (server-written fields) and what it must never show (Secret values).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { printableSides, secretSummary, toYaml, unifiedDiff } from '../../src/core/plan/diff.ts';
import { normalizeForDiff } from '../../src/core/plan/normalize.ts';
import type { KubeObject } from '../../src/core/objects.ts';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** What Git holds for a ConfigMap. */
function desiredConfigMap(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'web',
      namespace: 'shop',
      labels: { app: 'web' },
      annotations: { 'example.com/owner': 'team-a' },
    },
    data: { LOG_LEVEL: 'info' },
  };
}

/** The same ConfigMap as the API server returns it: every field the server writes. */
function liveConfigMap(): KubeObject {
  const desired = desiredConfigMap();
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      uid: '6f1c0d4e-1111-2222-3333-444455556666',
      resourceVersion: '918273',
      generation: 4,
      creationTimestamp: '2024-01-02T03:04:05Z',
      selfLink: '/api/v1/namespaces/shop/configmaps/web',
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2024-01-02T03:04:05Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { 'f:LOG_LEVEL': {} } },
        },
      ],
      annotations: {
        ...desired.metadata.annotations,
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(desired),
        'deployment.kubernetes.io/revision': '7',
      },
    },
    status: { phase: 'whatever the controller says' },
  };
}

describe('normalizeForDiff: server-written fields are not differences', () => {
  test('a live object equal to Git but for server fields prints the same and has no diff', () => {
    const sides = printableSides(liveConfigMap(), desiredConfigMap());
    assert.equal(sides.before, sides.after);
    assert.equal(unifiedDiff(sides.before, sides.after, 'ConfigMap shop/web'), '');
  });

  test('the noise is dropped on both sides, whichever side carries it', () => {
    const sides = printableSides(desiredConfigMap(), liveConfigMap());
    assert.equal(sides.before, sides.after);
    for (const noise of [
      'managedFields',
      'resourceVersion',
      'uid',
      'generation',
      'creationTimestamp',
      'selfLink',
      'status',
      'last-applied-configuration',
      'deployment.kubernetes.io/revision',
    ]) {
      assert.ok(!sides.before.includes(noise), `${noise} printed`);
    }
    assert.ok(sides.before.includes('example.com/owner: team-a'), 'other annotations stay');
    assert.ok(sides.before.includes('app: web'), 'labels stay');
  });

  test('deletion metadata is dropped too', () => {
    const live = liveConfigMap();
    live.metadata.deletionTimestamp = '2024-05-05T00:00:00Z';
    live.metadata.deletionGracePeriodSeconds = 30;
    const normalized = normalizeForDiff(live);
    assert.ok(!('deletionTimestamp' in normalized.metadata));
    assert.ok(!('deletionGracePeriodSeconds' in normalized.metadata));
  });

  test('a real change still shows, with the noise left out of the diff', () => {
    const live = liveConfigMap();
    const desired = desiredConfigMap();
    desired.data = { LOG_LEVEL: 'debug' };
    const sides = printableSides(live, desired);
    const diff = unifiedDiff(sides.before, sides.after, 'ConfigMap shop/web');
    assert.ok(diff.startsWith('--- live/ConfigMap shop/web\n+++ git/ConfigMap shop/web\n@@ '));
    assert.ok(diff.includes('\n-  LOG_LEVEL: info'));
    assert.ok(diff.includes('\n+  LOG_LEVEL: debug'));
    assert.ok(!diff.includes('918273') && !diff.includes('managedFields'));
  });

  test('annotations and labels that become empty are dropped, so {} and absent compare equal', () => {
    const live = liveConfigMap();
    live.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    live.metadata.labels = {};
    const desired = desiredConfigMap();
    delete desired.metadata.annotations;
    delete desired.metadata.labels;
    const sides = printableSides(live, desired);
    assert.equal(sides.before, sides.after);
    assert.ok(!sides.before.includes('annotations') && !sides.before.includes('labels'));
  });

  test('the objects passed in are not changed', () => {
    const live = liveConfigMap();
    const copy = structuredClone(live);
    normalizeForDiff(live);
    printableSides(live, desiredConfigMap());
    assert.deepEqual(live, copy);
  });

  test('create and delete diff against /dev/null', () => {
    const created = printableSides(undefined, desiredConfigMap());
    assert.equal(created.before, '');
    const diff = unifiedDiff(created.before, created.after, 'ConfigMap shop/web');
    assert.ok(diff.startsWith('--- /dev/null\n+++ git/ConfigMap shop/web\n'));
    const deleted = unifiedDiff(printableSides(liveConfigMap(), undefined).before, '', 'ConfigMap shop/web');
    assert.ok(deleted.startsWith('--- live/ConfigMap shop/web\n+++ /dev/null\n'));
    assert.ok(!deleted.includes('\\ No newline'), 'no diff-tool trailer lines');
  });

  test('keys print sorted, so the same object always prints the same way', () => {
    assert.equal(toYaml({ b: 1, a: { d: 2, c: 3 } }), 'a:\n  c: 3\n  d: 2\nb: 1\n');
  });
});

// ---------------------------------------------------------------------------------------------
// Secrets

const VALUES = {
  kept: 'kept-value-Zq81',
  oldPassword: 'old-p@ss word/1',
  newPassword: 'new-p@ss word/2',
  removed: 'removed-token-Xy7',
  added: 'added-token-Qw3',
};

function secret(data: Record<string, string> | undefined, stringData?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db', namespace: 'shop' },
    type: 'Opaque',
    ...(data ? { data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) } : {}),
    ...(stringData ? { stringData } : {}),
  };
}

/** Every form a value could leak in: as written, base64 (data), URL-encoded. */
function assertNoValues(text: string, values: readonly string[]): void {
  for (const value of values) {
    for (const form of [value, b64(value), encodeURIComponent(value)])
      assert.ok(!text.includes(form), `secret value leaked as ${JSON.stringify(form)}:\n${text}`);
  }
}

/** Everything a user sees about one Secret change. */
function shown(before: KubeObject | undefined, after: KubeObject | undefined): string {
  const sides = printableSides(before, after);
  return [
    sides.before,
    sides.after,
    unifiedDiff(sides.before, sides.after, 'Secret shop/db'),
    secretSummary(before, after),
  ].join('\n');
}

describe('Secret values are never shown', () => {
  const live = secret({ kept: VALUES.kept, password: VALUES.oldPassword, removed: VALUES.removed });
  const desiredData = secret({ kept: VALUES.kept, password: VALUES.newPassword, added: VALUES.added });
  const desiredStringData = secret(undefined, {
    kept: VALUES.kept,
    password: VALUES.newPassword,
    added: VALUES.added,
  });

  for (const [label, desired] of [
    ['data', desiredData],
    ['stringData', desiredStringData],
  ] as const) {
    test(`${label}: changed, added, removed and unchanged keys, by name only`, () => {
      const text = shown(live, desired);
      assertNoValues(text, Object.values(VALUES));
      assert.equal(
        secretSummary(live, desired),
        'secret keys: added added; changed password; removed removed; unchanged kept (values are never shown)',
      );
      const sides = printableSides(live, desired);
      assert.ok(sides.before.includes("password: '*** (before)'"), sides.before);
      assert.ok(sides.after.includes("password: '*** (after)'"), sides.after);
      assert.ok(sides.before.includes("kept: '***'") && sides.after.includes("kept: '***'"));
      assert.ok(!sides.after.includes('stringData'), 'stringData is shown as data, masked');
    });
  }

  test('creating and deleting a Secret shows key names only', () => {
    assertNoValues(shown(undefined, desiredStringData), Object.values(VALUES));
    assertNoValues(shown(live, undefined), Object.values(VALUES));
    assert.equal(
      secretSummary(undefined, desiredData),
      'secret keys: added added, kept, password (values are never shown)',
    );
    assert.equal(
      secretSummary(live, undefined),
      'secret keys: removed kept, password, removed (values are never shown)',
    );
    assert.equal(secretSummary(secret({}), secret({})), 'secret has no keys');
  });

  test('the last-applied annotation, which holds a copy of the Secret, is never shown', () => {
    const withCopy = secret({ password: VALUES.oldPassword });
    withCopy.metadata.annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(
        secret(undefined, { password: VALUES.oldPassword }),
      ),
    };
    assertNoValues(shown(withCopy, desiredStringData), Object.values(VALUES));
  });

  test('values that are not strings are masked too', () => {
    const odd: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      stringData: {
        port: 54321987 as unknown as string,
        nested: { token: VALUES.added } as unknown as string,
      },
    };
    const text = shown(undefined, odd);
    assertNoValues(text, [VALUES.added, '54321987']);
  });

  test('stringData and the equivalent data compare equal: no diff, every key unchanged', () => {
    const fromGit = secret(undefined, { password: VALUES.oldPassword, kept: VALUES.kept });
    const fromCluster = secret({ password: VALUES.oldPassword, kept: VALUES.kept });
    const sides = printableSides(fromCluster, fromGit);
    assert.equal(sides.before, sides.after);
    assert.equal(unifiedDiff(sides.before, sides.after, 'Secret shop/db'), '');
    assert.equal(
      secretSummary(fromCluster, fromGit),
      'secret keys: unchanged kept, password (values are never shown)',
    );
  });

  test('stringData wins over data for the same key, as on the server', () => {
    const both = secret({ password: VALUES.oldPassword }, { password: VALUES.newPassword });
    const live2 = secret({ password: VALUES.newPassword });
    assert.equal(secretSummary(live2, both), 'secret keys: unchanged password (values are never shown)');
  });

  test('property: no generated value leaks, whatever the keys and values', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);
    // Values long and distinctive enough that they cannot occur in the YAML around them by chance.
    const value = fc.string({ minLength: 6, maxLength: 40, unit: 'binary' }).map((v) => `S!${v}`);
    const entries = fc.dictionary(key, value, { maxKeys: 6 });
    fc.assert(
      fc.property(
        entries,
        entries,
        fc.boolean(),
        fc.boolean(),
        (before, after, beforeAsString, afterAsString) => {
          const left = beforeAsString ? secret(undefined, before) : secret(before);
          const right = afterAsString ? secret(undefined, after) : secret(after);
          assertNoValues(shown(left, right), [...Object.values(before), ...Object.values(after)]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
