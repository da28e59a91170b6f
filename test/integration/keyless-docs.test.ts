// The README's "Keyless (OIDC)" AuthenticationConfiguration is one kube-apiserver 1.37 accepts:
// the API server is restarted with it (it validates the file, CEL included, at start) and serves.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { kubeRequest, startCluster, type Cluster } from '../cluster/cluster.ts';

const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
let cluster: Cluster;

before(async () => {
  // Its own control plane: the shared one's API server must keep trusting the test issuer.
  cluster = await startCluster({
    controllerManager: false,
    scheduler: false,
    kwok: false,
    log: () => undefined,
  });
});

after(async () => {
  await cluster.stop();
});

test(
  "the README's AuthenticationConfiguration starts kube-apiserver",
  { skip: process.env.SLIPWAY_TEST_KUBECONFIG ? 'an existing cluster' : false },
  async () => {
    const block = /```yaml\n(apiVersion: apiserver\.config\.k8s\.io\/v1\n[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the README shows an AuthenticationConfiguration');
    assert.match(block, /url: https:\/\/token\.actions\.githubusercontent\.com/);
    assert.match(block, /prefix: 'github:'/);
    await cluster.stopApiServer();
    writeFileSync(path.join(cluster.dir, 'pki', 'authentication-config.yaml'), block);
    await cluster.startApiServer();
    const kubeconfig = readFileSync(cluster.adminKubeconfig, 'utf8');
    const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
    const ca = Buffer.from(
      /certificate-authority-data: (\S+)/.exec(kubeconfig)?.[1] ?? '',
      'base64',
    ).toString();
    const readyz = await kubeRequest({ server: cluster.server, ca, token }, 'GET', '/readyz');
    assert.equal(readyz.body.trim(), 'ok');
  },
);
