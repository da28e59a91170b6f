// Issue 15: each risk rule is a pure function over one planned change (live, desired, action);
// the assessment orders them, applies the environment's levels and says the prune budget's room.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject, ObjectRef } from '../../src/core/objects.ts';
import { assessRisks, type RiskInput } from '../../src/core/risk/assess.ts';
import { parseRiskLevels } from '../../src/core/risk/config.ts';
import { isFloating } from '../../src/core/risk/pod.ts';
import {
  deletedDataHolder,
  immutableField,
  latestImage,
  privilegedPod,
  rbacGrows,
  scaleToZero,
  type Change,
} from '../../src/core/risk/rules.ts';

function obj(apiVersion: string, kind: string, name: string, rest: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace: 'shop' }, ...rest };
}

function deploy(spec: Record<string, unknown>, pod: Record<string, unknown> = {}): KubeObject {
  return obj('apps/v1', 'Deployment', 'web', {
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'app:1.0' }], ...pod },
      },
      ...spec,
    },
  });
}

const update = (live: KubeObject, desired: KubeObject): Change => ({ action: 'update', live, desired });
/** The server's dry-run refused the change (the rules name the field from the objects). */
const refused = (live: KubeObject, desired: KubeObject): Change => ({
  action: 'error',
  live,
  desired,
  note: 'the server refused it',
});
const PRUNE = { enabled: true, budget: { maxObjects: 100, maxPercent: 50 }, inventorySize: 10 };

describe('risk rules', () => {
  test('delete: a Namespace, CRD, PVC or PV that is deleted is named; a ConfigMap is only counted', () => {
    for (const [apiVersion, kind] of [
      ['v1', 'Namespace'],
      ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
      ['v1', 'PersistentVolumeClaim'],
      ['v1', 'PersistentVolume'],
    ] as const)
      assert.equal(
        deletedDataHolder({ action: 'delete', live: obj(apiVersion, kind, 'x'), desired: undefined }).length,
        1,
        kind,
      );
    assert.deepEqual(
      deletedDataHolder({ action: 'delete', live: obj('v1', 'ConfigMap', 'x'), desired: undefined }),
      [],
    );
    assert.deepEqual(
      deletedDataHolder({ action: 'orphan', live: obj('v1', 'Namespace', 'x'), desired: undefined }),
      [],
    );
  });

  test('immutable-field: selector, Job template, volume claim templates, clusterIP, Service type; server defaults are not changes', () => {
    assert.match(
      immutableField(refused(deploy({}), deploy({ selector: { matchLabels: { app: 'v2' } } })))[0]?.message ??
        '',
      /spec\.selector is immutable/,
    );
    const job = (image: string, extra: Record<string, unknown> = {}): KubeObject =>
      obj('batch/v1', 'Job', 'migrate', {
        spec: { template: { spec: { containers: [{ name: 'm', image, ...extra }] } } },
      });
    // Live has what the server added (defaults): Git's fields are all there, so nothing changed.
    assert.deepEqual(
      immutableField(refused(job('m:1', { terminationMessagePath: '/dev/termination-log' }), job('m:1'))),
      [],
    );
    assert.match(
      immutableField(refused(job('m:1'), job('m:2')))[0]?.message ?? '',
      /Job's spec\.template is immutable/,
    );
    const sts = (size: string): KubeObject =>
      obj('apps/v1', 'StatefulSet', 'db', {
        spec: {
          volumeClaimTemplates: [
            { metadata: { name: 'data' }, spec: { resources: { requests: { storage: size } } } },
          ],
        },
      });
    assert.match(immutableField(refused(sts('1Gi'), sts('2Gi')))[0]?.message ?? '', /volumeClaimTemplates/);
    const svc = (spec: Record<string, unknown>): KubeObject => obj('v1', 'Service', 'web', { spec });
    assert.match(
      immutableField(refused(svc({ clusterIP: '10.0.0.1' }), svc({ clusterIP: '10.0.0.2' })))[0]?.message ??
        '',
      /clusterIP is immutable/,
    );
    assert.deepEqual(immutableField(refused(svc({ clusterIP: '10.0.0.1' }), svc({}))), []);
    assert.match(
      immutableField(update(svc({ type: 'ClusterIP' }), svc({ type: 'LoadBalancer' })))[0]?.message ?? '',
      /ClusterIP to LoadBalancer/,
    );
    // A dry-run that succeeded was not refused: a difference the server normalised is no risk.
    assert.deepEqual(immutableField(update(job('m:1'), job('m:2'))), []);
    // A refusal the server gave, for a field the rules do not know.
    assert.equal(
      immutableField({
        action: 'error',
        live: svc({}),
        desired: svc({}),
        note: 'spec.foo: field is immutable',
      }).length,
      1,
    );
  });

  test('rbac-grows: new verbs, resources and wildcards; what live already grants is not growth', () => {
    const role = (rules: unknown[]): KubeObject =>
      obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'ops', { rules });
    const read = { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] };
    assert.deepEqual(rbacGrows(update(role([read]), role([read]))), []);
    assert.deepEqual(rbacGrows(update(role([{ ...read, verbs: ['*'] }]), role([read]))), [], 'fewer rights');
    assert.match(
      rbacGrows(update(role([read]), role([{ ...read, verbs: ['get', 'list', 'delete'] }])))[0]?.message ??
        '',
      /^grants: delete pods$/,
    );
    assert.match(
      rbacGrows(update(role([read]), role([read, { apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])))[0]
        ?.message ?? '',
      /^grants \(wildcards\): \* \*\.\*$/,
    );
    assert.match(
      rbacGrows({ action: 'create', live: undefined, desired: role([read]) })[0]?.message ?? '',
      /grants: get pods, list pods/,
    );
  });

  test('rbac-grows: a binding gains subjects; cluster-admin is called full control', () => {
    const bind = (subjects: string[], role = 'cluster-admin'): KubeObject =>
      obj('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'b', {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: subjects.map((name) => ({ kind: 'User', name })),
      });
    assert.deepEqual(rbacGrows(update(bind(['ann']), bind(['ann']))), []);
    assert.equal(
      rbacGrows(update(bind(['ann']), bind(['ann', 'bob'])))[0]?.message,
      'binds User bob to cluster-admin (full control)',
    );
    assert.equal(
      rbacGrows(update(bind(['ann'], 'view'), bind(['ann'], 'edit')))[0]?.message,
      'binds User ann to edit (broad rights)',
    );
  });

  test('scale-to-zero: only a running workload going to zero', () => {
    assert.equal(
      scaleToZero(update(deploy({}), deploy({ replicas: 0 })))[0]?.message,
      'scales to zero (from 2)',
    );
    assert.deepEqual(scaleToZero(update(deploy({ replicas: 0 }), deploy({ replicas: 0 }))), []);
    assert.deepEqual(
      scaleToZero({ action: 'create', live: undefined, desired: deploy({ replicas: 0 }) }),
      [],
    );
  });

  test('latest-image: untagged or :latest images new in this change; digests and tags are pinned', () => {
    assert.ok(isFloating('nginx') && isFloating('nginx:latest') && isFloating('localhost:5000/app'));
    assert.ok(
      !isFloating('nginx:1.27') && !isFloating('localhost:5000/app:1') && !isFloating('app@sha256:abc'),
    );
    const withImage = (image: string): KubeObject => deploy({}, { containers: [{ name: 'app', image }] });
    assert.equal(
      latestImage(update(withImage('app:1'), withImage('app:latest')))[0]?.message,
      'runs app:latest, not pinned to a version',
    );
    assert.deepEqual(latestImage(update(withImage('app'), withImage('app'))), [], 'already running it');
    const cron = obj('batch/v1', 'CronJob', 'c', {
      spec: {
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    });
    assert.equal(latestImage({ action: 'create', live: undefined, desired: cron }).length, 1);
  });

  test('privileged-pod: privileged containers, host namespaces and hostPath volumes this change adds', () => {
    const risky = deploy(
      {},
      {
        hostNetwork: true,
        volumes: [{ name: 'h', hostPath: { path: '/var/run' } }],
        containers: [{ name: 'app', image: 'app:1', securityContext: { privileged: true } }],
      },
    );
    assert.equal(
      privilegedPod(update(deploy({}), risky))[0]?.message,
      'gets host access: hostNetwork, privileged container app, hostPath /var/run',
    );
    assert.deepEqual(privilegedPod(update(risky, risky)), []);
  });
});

describe('assessRisks', () => {
  const ref = (kind: string, name: string, apiVersion = 'v1'): ObjectRef => ({
    apiVersion,
    kind,
    name,
    namespace: 'shop',
  });
  const rows: RiskInput[] = [
    {
      ref: ref('Deployment', 'web', 'apps/v1'),
      action: 'update',
      live: deploy({}),
      desired: deploy({ replicas: 0 }),
    },
    { ref: ref('ConfigMap', 'a'), action: 'delete', live: obj('v1', 'ConfigMap', 'a'), desired: undefined },
    {
      ref: ref('PersistentVolumeClaim', 'data'),
      action: 'delete',
      live: obj('v1', 'PersistentVolumeClaim', 'data'),
      desired: undefined,
    },
  ];

  test('in rule order: the deletion count, each data holder, then the others and the prune budget', () => {
    const risks = assessRisks(rows, {}, PRUNE);
    assert.deepEqual(
      risks.map((r) => `${r.level} ${r.id} ${r.ref?.name ?? '-'}: ${r.message}`),
      [
        'warning delete -: deletes 2 objects no longer in Git',
        'warning delete data: is deleted and its volume data',
        'warning scale-to-zero web: scales to zero (from 2)',
        'warning prune-budget -: prune budget: 2 of at most 5 deletions (max-objects 100, max-percent 50% of 10); room for 3 more',
      ],
    );
  });

  test('levels: error and ignore per rule; over budget says so', () => {
    const risks = assessRisks(
      rows,
      { 'scale-to-zero': 'error', delete: 'ignore' },
      { ...PRUNE, inventorySize: 3 },
    );
    assert.deepEqual(
      risks.map((r) => `${r.level} ${r.id}`),
      ['error scale-to-zero', 'warning prune-budget'],
    );
    assert.match(risks[1]?.message ?? '', /^prune budget exceeded: 2 deletions, at most 1 allowed/);
    assert.ok(!assessRisks(rows, {}, { ...PRUNE, enabled: false }).some((r) => r.id === 'prune-budget'));
  });

  test('a binding to a role the plan defines with * on * is as powerful as cluster-admin', () => {
    const god = obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'god', {
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    });
    const bind = obj('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'b', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'god' },
      subjects: [{ kind: 'User', name: 'ann' }],
    });
    const risks = assessRisks(
      [
        {
          ref: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'god' },
          action: 'create',
          live: undefined,
          desired: god,
        },
        {
          ref: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: 'b' },
          action: 'create',
          live: undefined,
          desired: bind,
        },
      ],
      {},
      PRUNE,
    );
    assert.ok(
      risks.some((r) => r.ref?.name === 'b' && r.message === 'binds a role that grants everything (* on *)'),
    );
  });
});

describe('risks: in slipway.yaml', () => {
  test('known ids with error, warning or ignore; everything else is a problem', () => {
    const problems: string[] = [];
    const levels = parseRiskLevels(
      { 'rbac-grows': 'error', 'latest-image': 'ignore', typo: 'error', delete: 'loud' },
      (sub, message) => problems.push(`${sub}: ${message}`),
    );
    assert.deepEqual(levels, { 'rbac-grows': 'error', 'latest-image': 'ignore' });
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /^typo: unknown risk rule "typo" \(known: delete, immutable-field/);
    assert.match(problems[1] ?? '', /^delete: risk "delete" must be error, warning or ignore, got "loud"/);
  });
});
