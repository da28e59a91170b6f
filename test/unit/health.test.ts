// When an applied object counts as ready: kstatus's rules, on the status shapes controllers write.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { healthOf, type HealthStatus } from '../../src/core/health/health.ts';
import type { KubeObject } from '../../src/core/objects.ts';

function obj(
  apiVersion: string,
  kind: string,
  fields: { generation?: number; spec?: unknown; status?: unknown; deletionTimestamp?: string } = {},
): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: {
      name: 'x',
      namespace: 'shop',
      ...(fields.generation === undefined ? {} : { generation: fields.generation }),
      ...(fields.deletionTimestamp ? { deletionTimestamp: fields.deletionTimestamp } : {}),
    },
    ...(fields.spec === undefined ? {} : { spec: fields.spec }),
    ...(fields.status === undefined ? {} : { status: fields.status }),
  };
}

function assertStatus(object: KubeObject, status: HealthStatus, message?: RegExp): void {
  const health = healthOf(object);
  assert.equal(health.status, status, JSON.stringify(health));
  if (message) assert.match(health.message, message);
}

const cond = (type: string, status: string, reason = '', message = ''): Record<string, string> => ({
  type,
  status,
  reason,
  message,
});

describe('Deployment', () => {
  const healthy = {
    observedGeneration: 3,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [cond('Available', 'True'), cond('Progressing', 'True', 'NewReplicaSetAvailable')],
  };
  const deployment = (status: unknown, generation = 3, replicas = 3): KubeObject =>
    obj('apps/v1', 'Deployment', { generation, spec: { replicas }, status });

  test('every replica updated, ready and available → Current', () => {
    assertStatus(deployment(healthy), 'Current', /3 replicas available/);
  });

  test('ProgressDeadlineExceeded → Failed, with the controller message', () => {
    assertStatus(
      deployment({
        ...healthy,
        updatedReplicas: 1,
        conditions: [
          cond(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            'ReplicaSet "web-5d" has timed out progressing.',
          ),
        ],
      }),
      'Failed',
      /progress deadline exceeded: ReplicaSet "web-5d" has timed out progressing\./,
    );
  });

  test('a deadline exceeded by the previous spec does not fail the new one before the controller sees it', () => {
    // The user pushed a fix: generation 4 is not observed yet, the condition is about generation 3.
    const stale = {
      ...healthy,
      updatedReplicas: 1,
      conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'timed out')],
    };
    assertStatus(deployment(stale, 4), 'InProgress', /has not seen the latest spec/);
  });

  test('observedGeneration behind generation, or missing → InProgress', () => {
    assertStatus(deployment({ ...healthy, observedGeneration: 2 }), 'InProgress', /latest spec/);
    const { observedGeneration: _omit, ...withoutObserved } = healthy;
    assertStatus(deployment(withoutObserved), 'InProgress', /latest spec/);
  });

  test('replica gaps → InProgress, naming the gap', () => {
    assertStatus(deployment({ ...healthy, updatedReplicas: 1 }), 'InProgress', /1\/3 replicas updated/);
    assertStatus(deployment({ ...healthy, replicas: 4 }), 'InProgress', /1 old replicas pending termination/);
    assertStatus(deployment({ ...healthy, availableReplicas: 2 }), 'InProgress', /2\/3 replicas available/);
    assertStatus(deployment({ ...healthy, readyReplicas: 2 }), 'InProgress', /2\/3 replicas ready/);
  });

  test('Available=False holds it back even when the counts look complete', () => {
    assertStatus(
      deployment({ ...healthy, conditions: [cond('Available', 'False', 'MinimumReplicasUnavailable')] }),
      'InProgress',
      /not yet Available/,
    );
  });

  test('spec.replicas defaults to 1; scaled to zero is Current', () => {
    const one = obj('apps/v1', 'Deployment', {
      generation: 1,
      spec: {},
      status: {
        observedGeneration: 1,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      },
    });
    assertStatus(one, 'Current', /1 replicas available/);
    assertStatus(deployment({ observedGeneration: 3 }, 3, 0), 'Current');
  });
});

describe('StatefulSet', () => {
  const sts = (status: unknown, spec: Record<string, unknown> = {}): KubeObject =>
    obj('apps/v1', 'StatefulSet', { generation: 2, spec: { replicas: 3, ...spec }, status });
  const done = {
    observedGeneration: 2,
    replicas: 3,
    readyReplicas: 3,
    currentReplicas: 3,
    updatedReplicas: 3,
    currentRevision: 'db-7c9',
    updateRevision: 'db-7c9',
  };

  test('all replicas ready on the update revision → Current', () => {
    assertStatus(sts(done), 'Current', /3 replicas ready/);
  });

  test('observedGeneration lag → InProgress', () => {
    assertStatus(sts({ ...done, observedGeneration: 1 }), 'InProgress', /latest spec/);
  });

  test('fewer ready replicas → InProgress', () => {
    assertStatus(sts({ ...done, readyReplicas: 2 }), 'InProgress', /2\/3 replicas ready/);
  });

  test('a rolling update that has started but replaced no pod yet → InProgress', () => {
    // Right after the controller sees the new spec: every pod still ready on the old revision.
    assertStatus(sts({ ...done, updatedReplicas: 0, updateRevision: 'db-8d1' }), 'InProgress');
  });

  test('a rolling update part-way → InProgress', () => {
    assertStatus(
      sts({ ...done, currentReplicas: 2, updatedReplicas: 1, updateRevision: 'db-8d1' }),
      'InProgress',
      /rolling update/,
    );
  });

  test('OnDelete: pods are replaced by hand, so a new revision alone is not waited for', () => {
    assertStatus(
      sts({ ...done, updateRevision: 'db-8d1' }, { updateStrategy: { type: 'OnDelete' } }),
      'Current',
    );
  });

  test('a partitioned rollout is done once the pods above the partition are updated', () => {
    const spec = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } };
    const partial = { ...done, currentReplicas: 2, updatedReplicas: 1, updateRevision: 'db-8d1' };
    assertStatus(sts(partial, spec), 'Current');
    assertStatus(sts({ ...partial, currentReplicas: 3, updatedReplicas: 0 }, spec), 'InProgress');
  });
});

describe('DaemonSet', () => {
  const ds = (status: unknown): KubeObject => obj('apps/v1', 'DaemonSet', { generation: 5, status });
  const done = {
    observedGeneration: 5,
    desiredNumberScheduled: 4,
    currentNumberScheduled: 4,
    updatedNumberScheduled: 4,
    numberAvailable: 4,
    numberReady: 4,
  };

  test('every scheduled pod updated and available → Current', () => {
    assertStatus(ds(done), 'Current', /4 pods available/);
  });

  test('pods still updating or unavailable → InProgress', () => {
    assertStatus(ds({ ...done, updatedNumberScheduled: 3 }), 'InProgress', /4\/4 pods available/);
    assertStatus(ds({ ...done, numberAvailable: 1 }), 'InProgress', /1\/4 pods available/);
  });

  test('observedGeneration lag → InProgress', () => {
    assertStatus(ds({ ...done, observedGeneration: 4 }), 'InProgress', /latest spec/);
  });
});

describe('Job', () => {
  const job = (status: unknown): KubeObject => obj('batch/v1', 'Job', { generation: 1, status });

  test('Complete → Current', () => {
    assertStatus(job({ succeeded: 1, conditions: [cond('Complete', 'True')] }), 'Current', /complete/);
  });

  test('Failed → Failed, with reason and message', () => {
    assertStatus(
      job({
        failed: 6,
        conditions: [
          cond('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
        ],
      }),
      'Failed',
      /job failed: BackoffLimitExceeded Job has reached the specified backoff limit/,
    );
  });

  test('running → InProgress, with counts', () => {
    assertStatus(job({ active: 2, succeeded: 1 }), 'InProgress', /1 succeeded, 2 running/);
    assertStatus(job({}), 'InProgress', /0 succeeded, 0 running/);
  });

  test('a condition that is not True does not count', () => {
    assertStatus(
      job({ active: 1, conditions: [cond('Failed', 'False'), cond('Complete', 'False')] }),
      'InProgress',
    );
  });
});

describe('Pod', () => {
  const pod = (status: unknown): KubeObject => obj('v1', 'Pod', { status });

  test('a container in CrashLoopBackOff → Failed, naming the container', () => {
    assertStatus(
      pod({
        phase: 'Running',
        conditions: [cond('Ready', 'False')],
        containerStatuses: [
          { name: 'sidecar', ready: true, state: { running: {} } },
          {
            name: 'app',
            ready: false,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } },
          },
        ],
      }),
      'Failed',
      /container app: CrashLoopBackOff/,
    );
  });

  test('ImagePullBackOff → Failed', () => {
    assertStatus(
      pod({
        phase: 'Pending',
        containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }],
      }),
      'Failed',
    );
  });

  test('Ready → Current; pending or starting → InProgress; Succeeded/Failed phases', () => {
    assertStatus(pod({ phase: 'Running', conditions: [cond('Ready', 'True')] }), 'Current');
    assertStatus(pod({ phase: 'Pending' }), 'InProgress', /phase Pending/);
    assertStatus(
      pod({
        phase: 'Running',
        containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }],
      }),
      'InProgress',
    );
    assertStatus(pod({ phase: 'Succeeded' }), 'Current');
    assertStatus(pod({ phase: 'Failed' }), 'Failed');
  });
});

describe('PersistentVolumeClaim, Service, CustomResourceDefinition', () => {
  test('a PVC is Current once Bound', () => {
    assertStatus(obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Bound' } }), 'Current');
    assertStatus(
      obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending' } }),
      'InProgress',
      /phase Pending/,
    );
    assertStatus(obj('v1', 'PersistentVolumeClaim'), 'InProgress');
  });

  test('a LoadBalancer Service waits for an ingress address; other Services are ready at once', () => {
    const lb = (status: unknown): KubeObject =>
      obj('v1', 'Service', { spec: { type: 'LoadBalancer' }, status });
    assertStatus(lb({ loadBalancer: {} }), 'InProgress', /load balancer address/);
    assertStatus(lb({ loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } }), 'Current');
    assertStatus(lb({ loadBalancer: { ingress: [{ hostname: 'a.elb.example.com' }] } }), 'Current');
    assertStatus(obj('v1', 'Service', { spec: { type: 'ClusterIP' } }), 'Current');
    assertStatus(obj('v1', 'Service', { spec: {} }), 'Current');
  });

  test('a CRD is Current once Established; names not accepted → Failed', () => {
    const crd = (conditions: unknown[]): KubeObject =>
      obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { status: { conditions } });
    assertStatus(crd([cond('NamesAccepted', 'True'), cond('Established', 'True')]), 'Current');
    assertStatus(crd([cond('NamesAccepted', 'True'), cond('Established', 'False')]), 'InProgress');
    assertStatus(crd([]), 'InProgress', /not yet established/);
    assertStatus(
      crd([
        cond('NamesAccepted', 'False', 'MultipleNamesNotAllowed', '"widgets" is already in use'),
        cond('Established', 'False'),
      ]),
      'Failed',
      /names not accepted: "widgets" is already in use/,
    );
  });
});

describe('other kinds: generic conditions', () => {
  const custom = (status: unknown, generation = 2): KubeObject =>
    obj('example.com/v1', 'Widget', { generation, status });

  test('Ready=True → Current; Ready=False → InProgress with its message', () => {
    assertStatus(custom({ observedGeneration: 2, conditions: [cond('Ready', 'True')] }), 'Current');
    assertStatus(
      custom({
        observedGeneration: 2,
        conditions: [cond('Ready', 'False', 'Waiting', 'waiting for the database')],
      }),
      'InProgress',
      /waiting for the database/,
    );
  });

  test('Stalled=True → Failed; Reconciling=True → InProgress', () => {
    assertStatus(
      custom({
        conditions: [cond('Stalled', 'True', 'Invalid', 'spec.size is invalid'), cond('Ready', 'False')],
      }),
      'Failed',
      /spec.size is invalid/,
    );
    assertStatus(
      custom({
        conditions: [cond('Reconciling', 'True', 'Progressing', 'creating volumes'), cond('Ready', 'False')],
      }),
      'InProgress',
      /creating volumes/,
    );
  });

  test('observedGeneration behind → InProgress even when Ready says True', () => {
    assertStatus(
      custom({ observedGeneration: 1, conditions: [cond('Ready', 'True')] }),
      'InProgress',
      /latest spec/,
    );
  });

  test('no status at all (a ConfigMap, a Role) → Current', () => {
    assertStatus(obj('v1', 'ConfigMap'), 'Current');
    assertStatus(obj('rbac.authorization.k8s.io/v1', 'Role'), 'Current');
    assertStatus(custom({ conditions: 'not a list' }), 'Current');
  });
});

describe('Terminating', () => {
  test('an object being deleted is Terminating, whatever its status says', () => {
    for (const object of [
      obj('apps/v1', 'Deployment', {
        generation: 1,
        status: { observedGeneration: 1 },
        deletionTimestamp: '2024-01-01T00:00:00Z',
      }),
      obj('v1', 'ConfigMap', { deletionTimestamp: '2024-01-01T00:00:00Z' }),
      obj('example.com/v1', 'Widget', {
        status: { conditions: [cond('Ready', 'True')] },
        deletionTimestamp: '2024-01-01T00:00:00Z',
      }),
    ])
      assertStatus(object, 'Terminating');
  });
});
