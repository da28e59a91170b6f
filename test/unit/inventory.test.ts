// The inventory Slipway keeps in the cluster (a kubectl ApplySet parent) and the order objects
// are applied and deleted in.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import {
  APPLYSET_ID_LABEL,
  APPLYSET_KINDS,
  APPLYSET_NAMESPACES,
  APPLYSET_TOOLING,
  applySetId,
  decodeInventory,
  encodeInventory,
  inventoryName,
  mergeEntries,
  sameEntries,
  type Inventory,
} from '../../src/core/inventory/inventory.ts';
import { DEFAULT_STATE_NAMESPACE } from '../../src/core/config/config.ts';
import { inventoryMoveNote, lostInventoryRefusal } from '../../src/core/inventory/inventory-move.ts';
import { objectKey, type KubeObject } from '../../src/core/objects.ts';
import { byStage, stageOf, type Stage } from '../../src/core/apply/order.ts';
import { inventoryOwnerCheck, pruneBudgetRefusal } from '../../src/core/prune/prune-guard.ts';
import { normaliseRepositoryUrl, repositoryIdentity } from '../../src/core/inventory/repository-identity.ts';

/**
 * kubectl's ApplySet id (staging/src/k8s.io/kubectl/pkg/cmd/apply/applyset.go), written out from
 * the KEP independently of the product code: sha256 over `<name>.<namespace>.<Kind>.<group>`,
 * base64 with the URL alphabet and no padding, between `applyset-` and `-v1`.
 */
function kubectlApplySetId(name: string, namespace: string, kind: string, group: string): string {
  const digest = createHash('sha256').update([name, namespace, kind, group].join('.')).digest('base64');
  const rawUrl = digest.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `applyset-${rawUrl}-v1`;
}

const entries = [
  { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
  { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-config' },
  { apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'edge', name: 'web' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'data', name: 'db' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'reader' },
  { apiVersion: 'v1', kind: 'ConfigMap', namespace: DEFAULT_STATE_NAMESPACE, name: 'settings' },
];

function inventory(overrides: Partial<Inventory> = {}): Inventory {
  return {
    environment: 'prod',
    namespace: DEFAULT_STATE_NAMESPACE,
    entries,
    commit: '0123456789abcdef0123456789abcdef01234567',
    appliedAt: '2024-06-01T12:00:00.000Z',
    resourceVersion: undefined,
    ...overrides,
  };
}

describe('applySetId', () => {
  test("matches kubectl's formula for the environment's ConfigMap parent, in its state namespace", () => {
    for (const environment of ['prod', 'staging', 'eu-west-1', 'a'])
      for (const namespace of ['slipway-system', 'team-a'])
        assert.equal(
          applySetId(environment, namespace),
          kubectlApplySetId(`slipway-${environment}`, namespace, 'ConfigMap', ''),
        );
  });

  test('is a valid label value and differs per environment and per state namespace', () => {
    const id = applySetId('prod', 'slipway-system');
    assert.match(id, /^applyset-[A-Za-z0-9_-]{43}-v1$/);
    assert.ok(id.length <= 63, 'label values are at most 63 characters');
    assert.notEqual(id, applySetId('staging', 'slipway-system'));
    assert.notEqual(id, applySetId('prod', 'team-a'));
  });
});

describe('encodeInventory', () => {
  const parent = encodeInventory(inventory());

  test('is the ApplySet parent ConfigMap kubectl would recognise', () => {
    assert.equal(parent.apiVersion, 'v1');
    assert.equal(parent.kind, 'ConfigMap');
    assert.equal(parent.metadata.name, inventoryName('prod'));
    assert.equal(parent.metadata.name, 'slipway-prod');
    assert.equal(parent.metadata.namespace, 'slipway-system');
    assert.equal(parent.metadata.labels?.[APPLYSET_ID_LABEL], applySetId('prod', 'slipway-system'));
    assert.equal(parent.metadata.annotations?.[APPLYSET_TOOLING], 'slipway/v1');
  });

  test('contains-group-kinds: Kind or Kind.group, once each, sorted', () => {
    assert.equal(
      parent.metadata.annotations?.[APPLYSET_KINDS],
      'ClusterRole.rbac.authorization.k8s.io,ConfigMap,Deployment.apps,Ingress.networking.k8s.io,Namespace,StatefulSet.apps',
    );
    const small = encodeInventory(
      inventory({
        entries: [
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'a', name: 'x' },
          { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'a', name: 'y' },
          { apiVersion: 'apps/v1beta2', kind: 'Deployment', namespace: 'b', name: 'z' },
        ],
      }),
    );
    assert.equal(small.metadata.annotations?.[APPLYSET_KINDS], 'ConfigMap,Deployment.apps');
  });

  test("additional-namespaces: every member namespace but the parent's own, sorted", () => {
    assert.equal(parent.metadata.annotations?.[APPLYSET_NAMESPACES], 'data,edge,shop');
  });

  test('lives in the state namespace it was given, with that ApplySet id and round-trips it', () => {
    const moved = encodeInventory(inventory({ namespace: 'team-a' }));
    assert.equal(moved.metadata.namespace, 'team-a');
    assert.equal(moved.metadata.labels?.[APPLYSET_ID_LABEL], applySetId('prod', 'team-a'));
    assert.equal(moved.metadata.annotations?.[APPLYSET_NAMESPACES], 'data,edge,shop,slipway-system');
    assert.equal(decodeInventory('prod', moved).namespace, 'team-a');
  });

  test('an empty inventory has empty annotations, not missing ones', () => {
    const annotations = encodeInventory(inventory({ entries: [] })).metadata.annotations ?? {};
    assert.equal(annotations[APPLYSET_KINDS], '');
    assert.equal(annotations[APPLYSET_NAMESPACES], '');
  });

  test('the resourceVersion read is sent back, for optimistic concurrency', () => {
    assert.equal(encodeInventory(inventory({ resourceVersion: '42' })).metadata.resourceVersion, '42');
    assert.ok(!('resourceVersion' in parent.metadata));
  });

  test('the same inventory in any order encodes identically', () => {
    const reversed = encodeInventory(inventory({ entries: [...entries].reverse() }));
    assert.deepEqual(reversed, parent);
  });
});

describe('decodeInventory', () => {
  test('round-trips what encodeInventory wrote, entries sorted by identity', () => {
    const stored = encodeInventory(inventory());
    stored.metadata.resourceVersion = '77';
    const decoded = decodeInventory('prod', stored);
    assert.equal(decoded.environment, 'prod');
    assert.equal(decoded.commit, inventory().commit);
    assert.equal(decoded.appliedAt, inventory().appliedAt);
    assert.equal(decoded.resourceVersion, '77');
    const sorted = [...entries].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
    assert.deepEqual(decoded.entries, sorted);
    // Encoding again gives the same object: nothing is lost or reordered by a round trip.
    assert.deepEqual(
      encodeInventory({ ...decoded, resourceVersion: undefined }),
      encodeInventory(inventory()),
    );
  });

  test('an inventory applied without a commit reads back as no commit', () => {
    const decoded = decodeInventory('prod', encodeInventory(inventory({ commit: undefined })));
    assert.equal(decoded.commit, undefined);
  });

  test('a ConfigMap without data is an empty inventory', () => {
    const bare: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'slipway-prod' } };
    const decoded = decodeInventory('prod', bare);
    assert.deepEqual(decoded.entries, []);
    assert.equal(decoded.commit, undefined);
  });

  test('a parent made by another tool is refused with a UserError naming that tool', () => {
    const theirs = encodeInventory(inventory());
    theirs.metadata.annotations = { ...theirs.metadata.annotations, [APPLYSET_TOOLING]: 'kubectl/v1.29' };
    assert.throws(
      () => decodeInventory('prod', theirs),
      (error: unknown) =>
        error instanceof UserError &&
        error.kind === 'prune' &&
        error.message.includes('"kubectl/v1.29"') &&
        error.message.includes('slipway-system/slipway-prod'),
    );
  });

  test('another Slipway version is accepted, and so is a parent without a tooling annotation', () => {
    const newer = encodeInventory(inventory());
    newer.metadata.annotations = { ...newer.metadata.annotations, [APPLYSET_TOOLING]: 'slipway/v2' };
    assert.equal(decodeInventory('prod', newer).entries.length, entries.length);
    const unmarked = encodeInventory(inventory());
    delete unmarked.metadata.annotations;
    assert.equal(decodeInventory('prod', unmarked).entries.length, entries.length);
  });
});

describe('apply order (order.ts)', () => {
  const cases: [string, string, boolean, Stage][] = [
    ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', false, 0],
    ['apiextensions.k8s.io/v1beta1', 'CustomResourceDefinition', false, 0],
    ['v1', 'Namespace', false, 1],
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', false, 2],
    ['storage.k8s.io/v1', 'StorageClass', false, 2],
    ['example.com/v1', 'ClusterWidget', false, 2],
    ['apps/v1', 'Deployment', true, 3],
    ['v1', 'ConfigMap', true, 3],
    ['example.com/v1', 'Widget', true, 3],
    ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', false, 4],
    ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', false, 4],
    ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', false, 4],
    ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', false, 4],
    // Look-alikes from other groups get no special place.
    ['example.com/v1', 'CustomResourceDefinition', false, 2],
    ['example.com/v1', 'Namespace', true, 3],
    ['example.com/v1', 'ValidatingWebhookConfiguration', false, 2],
  ];
  for (const [apiVersion, kind, namespaced, stage] of cases) {
    test(`${kind} (${apiVersion}) is stage ${stage}`, () => {
      assert.equal(stageOf({ apiVersion, kind }, namespaced), stage);
    });
  }

  const objects = [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      namespaced: false,
    },
    { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', namespaced: false },
    { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
    { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', namespaced: false },
    { apiVersion: 'v1', kind: 'Service', namespaced: true },
  ];
  const kinds = (stages: (typeof objects)[]): string[][] => stages.map((stage) => stage.map((o) => o.kind));

  test('apply: CRDs, Namespaces, cluster-scoped, namespaced, webhooks; input order kept within a stage', () => {
    assert.deepEqual(kinds(byStage(objects, (o) => stageOf(o, o.namespaced))), [
      ['CustomResourceDefinition'],
      ['Namespace'],
      ['ClusterRole'],
      ['Deployment', 'Service'],
      ['ValidatingWebhookConfiguration'],
    ]);
  });

  test('deletion runs the stages backwards: webhooks first, CRDs last', () => {
    assert.deepEqual(kinds(byStage(objects, (o) => stageOf(o, o.namespaced), true)), [
      ['ValidatingWebhookConfiguration'],
      ['Deployment', 'Service'],
      ['ClusterRole'],
      ['Namespace'],
      ['CustomResourceDefinition'],
    ]);
  });
});

test('a hand-damaged inventory is refused with a UserError, not a crash', () => {
  const damaged = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'slipway-beta', namespace: 'slipway-system' },
    data: { objects: '{not json' },
  };
  assert.throws(
    () => decodeInventory('beta', damaged),
    (error: unknown) => error instanceof UserError && /damaged/.test(error.message),
  );
});

describe('the repository recorded in the inventory', () => {
  test('round-trips through the ConfigMap, and an inventory from an older Slipway has none', () => {
    const stored = encodeInventory(inventory({ repository: 'github.com/acme/deploy' }));
    assert.equal((stored.data as Record<string, string>).repository, 'github.com/acme/deploy');
    assert.equal(decodeInventory('prod', stored).repository, 'github.com/acme/deploy');
    const old = encodeInventory(inventory());
    delete (old.data as Record<string, string>).repository;
    assert.equal(decodeInventory('prod', old).repository, undefined);
  });

  test("another repository's inventory is refused, naming both repositories and --force", () => {
    const theirs = inventory({ repository: 'github.com/acme/other' });
    const { refusal, note } = inventoryOwnerCheck(theirs, 'github.com/acme/deploy');
    assert.equal(note, undefined);
    assert.equal(refusal?.rule, 'inventory-owner');
    assert.match(refusal.message, /belongs to repository github\.com\/acme\/other/);
    assert.match(refusal.message, /this is github\.com\/acme\/deploy/);
    assert.match(refusal.message, /--force/);
  });

  test('a run that cannot name its repository is refused over a recorded one', () => {
    const { refusal } = inventoryOwnerCheck(inventory({ repository: 'github.com/acme/other' }), undefined);
    assert.match(refusal?.message ?? '', /does not know its repository/);
  });

  test('the same repository passes; an inventory without one is adopted with a note', () => {
    assert.deepEqual(inventoryOwnerCheck(inventory({ repository: 'gitlab.com/a/b' }), 'gitlab.com/a/b'), {});
    const adopted = inventoryOwnerCheck(inventory(), 'gitlab.com/a/b');
    assert.equal(adopted.refusal, undefined);
    assert.match(adopted.note ?? '', /records no repository .*adopted as gitlab\.com\/a\/b/);
    // Nothing to adopt in a new environment: no note.
    assert.deepEqual(inventoryOwnerCheck(inventory({ entries: [] }), 'gitlab.com/a/b'), {});
  });
});

describe('the prune budget (over the inventory before the run)', () => {
  const budget = { maxObjects: 100, maxPercent: 50 };

  test('deleting more objects than max-objects is refused with the numbers', () => {
    assert.deepEqual(pruneBudgetRefusal(budget, 150, 1000), {
      rule: 'prune-budget',
      message:
        'prunes 150 objects, budget 100 (prune-budget.max-objects); raise it in slipway.yaml or apply with --force',
    });
    assert.equal(pruneBudgetRefusal(budget, 100, 1000), undefined);
  });

  test('renaming every object deletes 100% of the previous inventory, however many it adds', () => {
    // The old check divided by the widened inventory (10 old + 10 new): 50%, allowed.
    assert.match(
      pruneBudgetRefusal(budget, 10, 10)?.message ?? '',
      /^prunes 10 of the 10 objects in the inventory \(100%\), budget 50% \(prune-budget\.max-percent\)/,
    );
  });

  test('exactly the limit passes; just over it is refused without rounding down to the limit', () => {
    assert.equal(pruneBudgetRefusal(budget, 5, 10), undefined);
    assert.match(pruneBudgetRefusal(budget, 63, 125)?.message ?? '', /\(50\.4%\)/);
    assert.equal(pruneBudgetRefusal(budget, 0, 0), undefined);
  });
});

describe('repository identity', () => {
  test('clones of one repository over HTTPS, SSH and scp-like syntax give one identity', () => {
    for (const url of [
      'https://github.com/Acme/Deploy.git',
      'https://x-access-token:secret@github.com/acme/deploy',
      'git@github.com:acme/deploy.git',
      'ssh://git@github.com:22/acme/deploy.git/',
      'github.com:acme/deploy',
    ])
      assert.equal(normaliseRepositoryUrl(url), 'github.com/acme/deploy', url);
    assert.equal(
      normaliseRepositoryUrl('ssh://git@gitlab.example.com:2222/group/sub/project.git'),
      'gitlab.example.com/group/sub/project',
    );
  });

  test('credentials in a remote URL never reach the identity', () => {
    assert.doesNotMatch(normaliseRepositoryUrl('https://user:hunter2@gitlab.com/a/b.git'), /hunter2|user/);
  });

  test('a local path stays a path', () => {
    assert.equal(normaliseRepositoryUrl('/srv/git/deploy.git'), '/srv/git/deploy');
    assert.equal(normaliseRepositoryUrl('file:///srv/git/deploy.git'), '/srv/git/deploy');
  });

  test('GitHub Actions, GitLab CI and a laptop clone agree; SLIPWAY_REPOSITORY overrides', () => {
    const origin = 'git@github.com:acme/deploy.git';
    assert.equal(
      repositoryIdentity({ GITHUB_REPOSITORY: 'acme/deploy' }, undefined),
      'github.com/acme/deploy',
    );
    assert.equal(repositoryIdentity({}, origin), 'github.com/acme/deploy');
    assert.equal(
      repositoryIdentity(
        { GITHUB_REPOSITORY: 'acme/deploy', GITHUB_SERVER_URL: 'https://ghe.corp' },
        undefined,
      ),
      'ghe.corp/acme/deploy',
    );
    assert.equal(
      repositoryIdentity({ CI_PROJECT_PATH: 'ops/deploy', CI_SERVER_HOST: 'gitlab.corp' }, origin),
      'gitlab.corp/ops/deploy',
    );
    assert.equal(
      repositoryIdentity(
        { CI_PROJECT_PATH: 'ops/deploy', CI_SERVER_URL: 'https://gitlab.corp:8443' },
        undefined,
      ),
      'gitlab.corp/ops/deploy',
    );
    assert.equal(
      repositoryIdentity(
        { SLIPWAY_REPOSITORY: 'https://gitlab.com/ops/deploy', GITHUB_REPOSITORY: 'x/y' },
        origin,
      ),
      'gitlab.com/ops/deploy',
    );
    assert.equal(repositoryIdentity({}, undefined), undefined);
  });
});

describe('narrowing the inventory', () => {
  const hpa = {
    apiVersion: 'autoscaling/v2beta2',
    kind: 'HorizontalPodAutoscaler',
    namespace: 'shop',
    name: 'web',
  };
  const served = { ...hpa, apiVersion: 'autoscaling/v2' };
  const config = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web' };

  test('rendered, undeleted and unreadable entries are kept once each; the later version wins', () => {
    const narrowed = mergeEntries([config], [served], [hpa, config]);
    assert.deepEqual(narrowed, [config, hpa]);
    assert.deepEqual(mergeEntries([hpa], [served]), [served]);
  });

  test('an entry re-read at the served version counts as a change, so the inventory is rewritten', () => {
    assert.equal(sameEntries([config, hpa], [hpa, config]), true);
    assert.equal(sameEntries([config, hpa], [config, served]), false);
    assert.equal(sameEntries([config], [config, hpa]), false);
  });
});

describe('moving the state namespace', () => {
  const env = { name: 'prod', stateNamespace: 'team-a' };
  const member = (id: string, owner = 'prod'): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'web',
      namespace: 'team-a',
      labels: { 'slipway.dev/environment': owner, 'applyset.kubernetes.io/part-of': id },
    },
  });

  test('a moved inventory is said in the plan: from where, to where, and that pruning keeps working', () => {
    const moved = inventory({
      namespace: 'team-a',
      movedFrom: { namespace: 'slipway-system', resourceVersion: '5' },
    });
    assert.match(
      inventoryMoveNote(moved) ?? '',
      /moves from slipway-system\/slipway-prod to team-a\/slipway-prod .*then deletes the old one; its 7 objects stay tracked, so pruning keeps working/,
    );
    assert.equal(inventoryMoveNote(inventory()), undefined);
  });

  test('no inventory, but live members of an ApplySet elsewhere: refused, naming where it is', () => {
    const none = { ...inventory({ namespace: 'team-a', entries: [] }) };
    const refusal = lostInventoryRefusal(env, none, [
      member(applySetId('prod', 'slipway-system')),
      undefined,
    ]);
    assert.equal(refusal?.rule, 'inventory-lost');
    assert.match(refusal.message, /no inventory in team-a \(state-namespace\)/);
    assert.match(refusal.message, /the inventory in slipway-system\/slipway-prod/);
    assert.match(refusal.message, /--force starts a new inventory/);
    // An earlier non-default state namespace is found among the objects' own namespaces.
    const fromTeamB = lostInventoryRefusal({ name: 'prod', stateNamespace: 'team-b' }, none, [
      member(applySetId('prod', 'team-a')),
    ]);
    assert.match(fromTeamB?.message ?? '', /the inventory in team-a\/slipway-prod/);
  });

  test('members of this ApplySet, of another environment, or an inventory found: no refusal', () => {
    const none = inventory({ namespace: 'team-a', entries: [] });
    assert.equal(lostInventoryRefusal(env, none, [member(applySetId('prod', 'team-a'))]), undefined);
    assert.equal(
      lostInventoryRefusal(env, none, [member(applySetId('other', 'slipway-system'), 'other')]),
      undefined,
    );
    const found = inventory({ namespace: 'team-a', resourceVersion: '9' });
    assert.equal(lostInventoryRefusal(env, found, [member(applySetId('prod', 'slipway-system'))]), undefined);
  });
});
