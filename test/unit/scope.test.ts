// Namespaces on cluster-scoped objects, offline: what the plan sends and `slipway render` prints.
// The cluster-side behaviour (discovery, inventory keys) is proven in
// test/integration/ownership.test.ts.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseConfig, type EnvironmentConfig } from '../../src/core/config/config.ts';
import { parseManifests, type Manifest } from '../../src/core/yaml/manifest.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { desiredObject, scopedEntry } from '../../src/core/plan/prepare.ts';
import { withOfflineNamespaces } from '../../src/core/workspace.ts';

const repo = mkdtempSync(path.join(tmpdir(), 'slipway-scope-'));
after(() => rmSync(repo, { recursive: true, force: true }));

function environment(): EnvironmentConfig {
  const config = parseConfig(
    { environments: { prod: { path: 'envs/prod', namespace: 'shop' } } },
    'slipway.yaml',
    new Map(),
    new RepoPaths(repo),
  );
  const env = config.environments.get('prod');
  assert.ok(env);
  return env;
}

function manifests(text: string): Manifest[] {
  return parseManifests(text, 'envs/prod/all.yaml').manifests;
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusterissuers.cert-manager.io}
spec:
  group: cert-manager.io
  scope: Cluster
  names: {kind: ClusterIssuer, plural: clusterissuers}
`;
const ISSUER = `apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: letsencrypt, namespace: shop}\n`;
const WIDGET = `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n`;

describe('desiredObject', () => {
  test('a cluster-scoped object loses its namespace, with a note; a namespaced one gets the default', () => {
    const [issuer, map] = manifests(`${ISSUER}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`);
    assert.ok(issuer && map);
    const cluster = desiredObject(issuer, environment(), 'cluster');
    assert.equal(cluster.object.metadata.namespace, undefined);
    assert.deepEqual(cluster.notes, [
      'ClusterIssuer is cluster-scoped: its namespace "shop" is ignored, as kubectl does',
    ]);
    assert.equal(issuer.object.metadata.namespace, 'shop', 'the rendered manifest is not changed');
    const namespaced = desiredObject(map, environment(), 'namespaced');
    assert.equal(namespaced.object.metadata.namespace, 'shop');
    assert.deepEqual(namespaced.notes, []);
  });

  test('an inventory entry of a cluster-scoped kind is keyed without the namespace an older Slipway recorded', () => {
    const entry = { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', namespace: 'shop', name: 'le' };
    const resource = {
      group: 'cert-manager.io',
      version: 'v1',
      kind: 'ClusterIssuer',
      plural: 'clusterissuers',
    };
    assert.deepEqual(scopedEntry(entry, { ...resource, namespaced: false }), {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      name: 'le',
    });
    assert.equal(scopedEntry(entry, { ...resource, namespaced: true }), entry);
    assert.equal(scopedEntry(entry, undefined), entry);
  });
});

describe('withOfflineNamespaces (slipway render)', () => {
  test('drops the namespace of kinds known offline to be cluster-scoped; leaves unknown custom kinds as rendered', () => {
    const rendered = withOfflineNamespaces(manifests(`${CRD}---\n${ISSUER}---\n${WIDGET}`), environment());
    assert.deepEqual(
      rendered.map((m) => `${m.object.kind}/${m.object.metadata.namespace ?? ''}`),
      ['CustomResourceDefinition/', 'ClusterIssuer/', 'Widget/shop'],
    );
  });
});
