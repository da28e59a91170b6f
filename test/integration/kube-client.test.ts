// Slipway's own Kubernetes client (raw JSON over client-node's connection) against the real API
// server: a CRD keeps every schema field a typed model would drop, discovery is fetched once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { connect, type Connected } from '../../src/kube/connect.ts';
import type { KubeObject } from '../../src/core/objects.ts';
import { sharedCluster, stopSharedCluster, unique } from './harness.ts';

let cluster: Cluster;
let connected: Connected;
before(async () => {
  cluster = await sharedCluster();
  connected = await connect({ kubeconfig: cluster.adminKubeconfig, concurrency: 4, retryDeadlineMs: 5_000 });
});
after(async () => {
  connected.close();
  await stopSharedCluster();
});

test('a CRD with default, enum and x-kubernetes-preserve-unknown-fields round-trips intact, becomes Established, and serves objects', async () => {
  const kube = connected.client;
  const group = `${unique('rt')}.example.com`;
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          size: { type: 'string', enum: ['small', 'large'], default: 'small' },
          replicas: { type: 'integer', minimum: 1, default: 2 },
          extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };
  const crd: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
    },
  };
  const applied = await kube.apply(crd, { dryRun: false, force: true });
  assert.equal(applied.created, true);
  const managers = (applied.object.metadata.managedFields ?? []).map((m) => m.manager);
  assert.ok(managers.includes('slipway'), `field manager slipway in ${managers.join(',')}`);

  const read = await kube.get({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    name: `widgets.${group}`,
  });
  const versions = (read?.spec as { versions: { schema: { openAPIV3Schema: typeof schema } }[] }).versions;
  assert.deepEqual(
    versions[0]?.schema.openAPIV3Schema,
    schema,
    'default, enum, minimum and x-kubernetes-* survive the round trip',
  );

  // Established, then the new kind is found after discovery is refreshed.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const live = await kube.get({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: `widgets.${group}`,
    });
    const conditions =
      (live?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
    assert.ok(Date.now() < deadline, 'Established within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(await kube.resolve(`${group}/v1`, 'Widget'), undefined, 'discovery is cached for the run');
  // Discovery lists the kind a moment after Established (seconds on a loaded machine).
  let resource;
  for (;;) {
    kube.invalidateDiscovery();
    resource = await kube.resolve(`${group}/v1`, 'Widget');
    if (resource || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.deepEqual(resource, { group, version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true });

  const widget = await kube.apply(
    {
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'default' },
      spec: { extra: { anything: { nested: [1, 2] } } },
    },
    { dryRun: false, force: true },
  );
  assert.deepEqual(
    widget.object.spec,
    { size: 'small', replicas: 2, extra: { anything: { nested: [1, 2] } } },
    'server defaults applied, unknown fields preserved',
  );
  const invalid = await kube
    .apply(
      {
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name: 'bad', namespace: 'default' },
        spec: { size: 'huge' },
      },
      { dryRun: true, force: true },
    )
    .then(
      () => 'accepted',
      (error: unknown) => String(error),
    );
  assert.match(invalid, /Unsupported value: "huge"/);
  const listed = await kube.list(resource, { namespace: 'default' });
  assert.deepEqual(
    listed.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.name ?? ''}`),
    [`${group}/v1/Widget/w`],
  );
});

test('discovery takes two requests and is not repeated per object', async () => {
  const fresh = await connect({
    kubeconfig: cluster.adminKubeconfig,
    concurrency: 4,
    retryDeadlineMs: 5_000,
  });
  try {
    const kube = fresh.client;
    const before = kube.requestCount;
    await Promise.all([
      kube.resolve('v1', 'ConfigMap'),
      kube.resolve('apps/v1', 'Deployment'),
      kube.resolve('v1', 'Secret'),
    ]);
    for (let i = 0; i < 50; i++) await kube.resolve('v1', 'ConfigMap');
    assert.equal(kube.requestCount - before, 2, 'aggregated discovery: /api and /apis, once');
  } finally {
    fresh.close();
  }
});
