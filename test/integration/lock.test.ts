// The environment lock (a coordination.k8s.io Lease) against the real API server: expiry judged
// by what this runner sees change, never by another machine's clock, and fencing — a run whose
// renewals stop getting through (a partition through the fault proxy) or whose Lease was taken
// over refuses its next write stage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { DEFAULT_STATE_NAMESPACE } from '../../src/core/config/config.ts';
import { ensureNamespace } from '../../src/core/inventory/inventory.ts';
import { acquireLock, lockName, type HeldLock } from '../../src/core/apply/lock.ts';
import { isPlainObject, type KubeObject } from '../../src/core/objects.ts';
import type { KubeApi } from '../../src/core/ports.ts';
import { connect, type Connected } from '../../src/kube/connect.ts';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { FaultProxy } from '../fakes/fault-proxy.ts';
import { RecordingLogger } from '../unit/support.ts';

let cluster: Cluster;
let admin: Connected;
const scratch = mkdtempSync(path.join(tmpdir(), 'slipway-lock-'));

before(async () => {
  cluster = await startCluster({ log: () => undefined });
  admin = await connect({ kubeconfig: cluster.adminKubeconfig, concurrency: 4, retryDeadlineMs: 5_000 });
});
after(async () => {
  admin.close();
  await cluster.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const STATE_NAMESPACE = DEFAULT_STATE_NAMESPACE;
let counter = 0;
const envName = (): string => `lock${process.pid}-${counter++}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

function leaseRef(env: string): { apiVersion: string; kind: string; namespace: string; name: string } {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: STATE_NAMESPACE,
    name: lockName(env),
  };
}

/** Another runner's Lease, written as that runner would, with its own (skewed) clock. */
async function foreignLease(
  kube: KubeApi,
  env: string,
  holder: string,
  renewMs: number,
): Promise<KubeObject> {
  await ensureNamespace(kube, STATE_NAMESPACE);
  return kube.create({
    ...leaseRef(env),
    metadata: { name: lockName(env), namespace: STATE_NAMESPACE },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 2,
      acquireTime: microTime(renewMs),
      renewTime: microTime(renewMs),
    },
  });
}

async function holderIn(env: string): Promise<unknown> {
  const lease = await admin.client.get(leaseRef(env));
  return isPlainObject(lease?.spec) ? lease.spec.holderIdentity : undefined;
}

function lockOf(
  kube: KubeApi,
  env: string,
  holder: string,
  waitSeconds: number,
  leaseSeconds = 3,
): Promise<HeldLock> {
  return acquireLock(
    kube,
    env,
    { namespace: STATE_NAMESPACE, holder, leaseSeconds, waitSeconds, pollMs: 100 },
    new RecordingLogger(),
  );
}

describe('expiry is judged on this runner’s clock', () => {
  test('a live holder whose clock is an hour behind is not robbed', async () => {
    const env = envName();
    const skew = Date.now() - 3_600_000;
    let lease = await foreignLease(admin.client, env, 'slow-clock-run', skew);
    const other = { renewing: true };
    const renewer = (async () => {
      for (let i = 1; other.renewing; i++) {
        await sleep(400);
        lease = await admin.client.replace({
          ...lease,
          spec: { ...(lease.spec as object), renewTime: microTime(skew + i * 400) },
        });
      }
    })();
    // renewTime + 2 s is an hour before our clock, yet the holder is alive: it must keep the lock.
    await assert.rejects(
      lockOf(admin.client, env, 'us', 4),
      /locked by another run \(slow-clock-run\); waited 4 s/,
    );
    other.renewing = false;
    await renewer;
    // Once it stops renewing, the lock is ours after one lease duration of seeing no change.
    const started = performance.now();
    const lock = await lockOf(admin.client, env, 'us', 10);
    const waited = performance.now() - started;
    assert.ok(waited >= 1_900 && waited < 6_000, `took over after ${Math.round(waited)} ms`);
    assert.equal(await holderIn(env), 'us');
    await lock.release();
  });

  test('a dead holder whose clock ran an hour ahead blocks for one lease duration, not an hour', async () => {
    const env = envName();
    await foreignLease(admin.client, env, 'fast-clock-run', Date.now() + 3_600_000);
    const started = performance.now();
    const lock = await lockOf(admin.client, env, 'us', 10);
    const waited = performance.now() - started;
    assert.ok(waited >= 1_900 && waited < 6_000, `took over after ${Math.round(waited)} ms`);
    await lock.release();
  });
});

describe('fencing: a run that may have lost its lock writes nothing more', () => {
  test('renewals cut off by a partition: the next write stage is refused, and another run takes over', async () => {
    const env = envName();
    const proxy = await new FaultProxy(cluster.adminKubeconfig).listen();
    const partitioned = await connect({
      kubeconfig: proxy.writeKubeconfig(path.join(scratch, `proxy-${env}`)),
      concurrency: 2,
      retryDeadlineMs: 300,
    });
    try {
      const lock = await lockOf(partitioned.client, env, 'run-1', 5, 3);
      lock.fence('applying Namespaces');
      await sleep(1_200);
      lock.fence('applying workloads'); // renewed at ~1 s: still ours
      await proxy.close(); // the runner loses the API server
      await sleep(2_300); // past the renew deadline (2/3 of the 3 s lease)
      assert.throws(
        () => lock.fence('pruning'),
        (error: unknown) =>
          error instanceof UserError &&
          error.kind === 'lock' &&
          new RegExp(
            `^${env}: the lock could not be renewed for [23] s.*another run may hold it now; stopped before pruning$`,
          ).test(error.message),
      );
      // The other run waits until the Lease has stood still for its duration, then takes it.
      const second = await lockOf(admin.client, env, 'run-2', 10);
      await lock.release(); // must not clear run-2's lock
      assert.equal(await holderIn(env), 'run-2');
      await second.release();
    } finally {
      partitioned.close();
    }
  });

  test('a Lease taken over by another run: the holder notices at its next renewal and stops', async () => {
    const env = envName();
    const lock = await lockOf(admin.client, env, 'run-1', 5, 3);
    const current = await admin.client.get(leaseRef(env));
    assert.ok(current);
    await admin.client.replace({
      ...current,
      spec: { ...(current.spec as object), holderIdentity: 'run-2' },
    });
    await sleep(1_500); // one renewal interval (1 s) and its conflict
    assert.throws(
      () => lock.fence('applying workloads'),
      /another run \(run-2\) took the lock over; stopped before applying workloads/,
    );
    await lock.release();
    assert.equal(await holderIn(env), 'run-2', 'release left it alone');
  });
});
