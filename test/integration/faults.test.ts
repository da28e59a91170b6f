// Faults against the real control plane: transient API errors are retried, a dead API server
// fails the run clearly and a re-run converges, RBAC denials say what is missing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { FaultProxy } from '../fakes/fault-proxy.ts';
import { kubectl, sharedCluster, slipway, stopSharedCluster, TestRepo, unique } from './harness.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
let cluster: Cluster;
before(async () => {
  cluster = await sharedCluster();
});
after(async () => {
  await stopSharedCluster();
});

function configMaps(count: number, version: string): Record<string, string> {
  const docs = Array.from(
    { length: count },
    (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  version: "${version}"\n`,
  );
  return { 'env/configmaps.yaml': docs.join('---\n') };
}

function repoWith(env: string, namespace: string, files: Record<string, string>): TestRepo {
  return new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: env\n    namespace: ${namespace}\n    wait: false\n`,
    'env/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    ...files,
  });
}

describe('faults', () => {
  test('429, 503 and connection resets are retried with backoff and the apply succeeds', async () => {
    const env = unique('flaky').replace(/-/g, '');
    const namespace = unique('flaky');
    const repo = repoWith(env, namespace, configMaps(20, 'a'));
    const proxy = await new FaultProxy(cluster.adminKubeconfig).listen();
    try {
      const kubeconfig = proxy.writeKubeconfig(path.join(repo.dir, '..', `${env}.kubeconfig`));
      proxy.inject(
        { kind: 'status', status: 429, retryAfter: 1 },
        { kind: 'status', status: 503 },
        { kind: 'reset' },
        { kind: 'status', status: 503 },
        { kind: 'reset' },
        { kind: 'status', status: 429, retryAfter: 0 },
      );
      const started = Date.now();
      const result = await slipway(
        cluster,
        repo,
        ['apply', '--env', env],
        { SLIPWAY_RETRY_SECONDS: '30' },
        kubeconfig,
      );
      const seconds = (Date.now() - started) / 1000;
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(proxy.injected, 6);
      assert.ok(seconds < 20, `bounded: ${seconds.toFixed(1)} s`);
      assert.equal(
        kubectl(cluster, [
          'get',
          'configmaps',
          '-n',
          namespace,
          '-l',
          `slipway.dev/environment=${env}`,
          '-o',
          'name',
        ])
          .trim()
          .split('\n').length,
        20,
      );
    } finally {
      await proxy.close();
      repo.remove();
    }
  });

  test('a permanently unreachable API server fails within the retry deadline, saying so', async () => {
    const env = unique('down').replace(/-/g, '');
    const repo = repoWith(env, unique('down'), configMaps(2, 'a'));
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const proxy = await new FaultProxy(cluster.adminKubeconfig).listen();
    const kubeconfig = proxy.writeKubeconfig(path.join(repo.dir, '..', `${env}.kubeconfig`));
    await proxy.close();
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(
      kubeconfig,
      readFileSync(kubeconfig, 'utf8').replace(proxy.url, `http://127.0.0.1:${port}`),
    );
    try {
      const started = Date.now();
      const result = await slipway(
        cluster,
        repo,
        ['diff', '--env', env],
        { SLIPWAY_RETRY_SECONDS: '3' },
        kubeconfig,
      );
      const seconds = (Date.now() - started) / 1000;
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(
          `cannot reach the Kubernetes API server at http://127\\.0\\.0\\.1:${port} \\(retried for [0-9.]+ s\\): ECONNREFUSED`,
        ),
      );
      assert.match(result.stderr, /check that the cluster is up/);
      assert.ok(seconds < 10, `${seconds.toFixed(1)} s`);
    } finally {
      repo.remove();
    }
  });

  test('an RBAC denial names the verb, the resource and the namespace', async () => {
    const env = unique('rbac').replace(/-/g, '');
    const repo = repoWith(env, 'forbidden-ns', configMaps(1, 'a'));
    try {
      const result = await slipway(cluster, repo, ['diff', '--env', env], {}, cluster.restrictedKubeconfig);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /cannot (get|list|patch) resource "(configmaps|namespaces)"/);
      assert.match(result.stderr, /in the namespace "[a-z-]+"|at the cluster scope/);
      assert.match(
        result.stderr,
        /grant this identity (the missing RBAC permission|that verb on configmaps)/,
      );
    } finally {
      repo.remove();
    }
  });

  test('the API server dies in the middle of an apply of 1,000 objects; after a restart the re-run converges', async () => {
    const env = unique('crash').replace(/-/g, '');
    const namespace = unique('crash');
    const repo = repoWith(env, namespace, configMaps(1000, 'v1'));
    try {
      // Run as its own process, as CI does, and take the API server away once writes have begun.
      const child = spawn(
        process.execPath,
        [path.join(root, 'src', 'cli.ts'), 'apply', '--env', env, '--kubeconfig', cluster.adminKubeconfig],
        {
          cwd: repo.dir,
          env: { ...process.env, ...cluster.env, SLIPWAY_RETRY_SECONDS: '3' },
        },
      );
      let stderr = '';
      let stopped: Promise<void> | undefined;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!stopped && stderr.includes('applying 1000 namespaced objects')) {
          stopped = new Promise((resolve) => setTimeout(resolve, 300)).then(() => cluster.stopApiServer());
        }
      });
      const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
      await stopped;
      assert.notEqual(code, 0, stderr);
      assert.match(stderr, /cannot reach the Kubernetes API server/);
      assert.doesNotMatch(stderr, /internal error/);

      await cluster.startApiServer();
      const partial = kubectl(cluster, [
        'get',
        'configmaps',
        '-n',
        namespace,
        '-l',
        `slipway.dev/environment=${env}`,
        '-o',
        'name',
      ])
        .trim()
        .split('\n')
        .filter(Boolean).length;
      assert.ok(partial < 1000, `the first run was really cut short (${partial} applied)`);

      // The dead run could not release its lock: the re-run waits for the lease to expire.
      const rerun = await slipway(cluster, repo, ['apply', '--env', env], {
        SLIPWAY_LOCK_WAIT_SECONDS: '120',
      });
      assert.equal(rerun.code, 0, rerun.stderr);
      const names = kubectl(cluster, [
        'get',
        'configmaps',
        '-n',
        namespace,
        '-l',
        `slipway.dev/environment=${env}`,
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ])
        .split(' ')
        .filter(Boolean);
      assert.equal(names.length, 1000);
      const inventory = JSON.parse(
        kubectl(cluster, [
          'get',
          'configmap',
          '-n',
          'slipway-system',
          `slipway-${env}`,
          '-o',
          'jsonpath={.data.objects}',
        ]),
      ) as unknown[];
      assert.equal(
        inventory.length,
        1001,
        'the inventory lists exactly the 1,000 ConfigMaps and the Namespace',
      );
      assert.match(rerun.stdout, /applied/);
    } finally {
      if (
        !(await cluster.stopApiServer().then(
          () => false,
          () => true,
        ))
      )
        await cluster.startApiServer().catch(() => undefined);
      repo.remove();
    }
  });
});
