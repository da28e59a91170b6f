import { describeError, UserError } from '../errors.ts';
import { ensureNamespace, stateAccessError } from '../inventory/inventory.ts';
import { isPlainObject, type KubeObject, type ObjectRef } from '../objects.ts';
import type { KubeApi, Logger } from '../ports.ts';

export interface LockOptions {
  /** The environment's state namespace (config.ts `state-namespace`), where the Lease lives. */
  readonly namespace: string;
  readonly holder: string;
  /** A holder that stops renewing loses the lock after this long. */
  readonly leaseSeconds: number;
  /** How long to wait for another run's lock before failing. */
  readonly waitSeconds: number;
  readonly pollMs?: number;
  /** A monotonic clock in milliseconds (default `performance.now`); never another machine's. */
  readonly now?: () => number;
}

export interface HeldLock {
  /**
   * Throws (UserError kind 'lock') when the lock may no longer be this run's: another run took the
   * Lease over, or no renewal got through within the renew deadline (two thirds of the lease), so
   * another run may have judged it expired. Call it before every stage that writes.
   */
  fence(stage: string): void;
  release(): Promise<void>;
}

export function lockName(environment: string): string {
  return `slipway-lock-${environment}`;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function specOf(lease: KubeObject | undefined): Record<string, unknown> {
  return lease && isPlainObject(lease.spec) ? lease.spec : {};
}

function holderOf(lease: KubeObject | undefined): string {
  const holder = specOf(lease).holderIdentity;
  return typeof holder === 'string' ? holder : '';
}

/** What a holder changes each time it renews: seeing it change is seeing the holder alive. */
function recordOf(lease: KubeObject | undefined): string {
  const spec = specOf(lease);
  return JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime, spec.leaseDurationSeconds]);
}

/**
 * One run at a time per environment: a coordination.k8s.io Lease with holder and duration, renewed
 * while held.
 *
 * Expiry is judged as client-go's leader election judges it: by how long *this* process has seen
 * the Lease unchanged, on its own monotonic clock. The holder's `renewTime` is only compared with
 * its previous value, never with our clock, so a runner whose clock is off by an hour neither
 * steals a live lock nor waits an hour for a dead one. Taking over a dead run's lock therefore
 * costs one lease duration of watching it first.
 */
export async function acquireLock(
  kube: KubeApi,
  environment: string,
  options: LockOptions,
  logger: Logger,
): Promise<HeldLock> {
  const ref = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: options.namespace,
    name: lockName(environment),
  };
  try {
    return await acquire(kube, environment, ref, options, logger);
  } catch (error) {
    throw stateAccessError(error, `take the lock of "${environment}"`, ref);
  }
}

async function acquire(
  kube: KubeApi,
  environment: string,
  ref: ObjectRef & { namespace: string },
  options: LockOptions,
  logger: Logger,
): Promise<HeldLock> {
  const now = options.now ?? (() => performance.now());
  await ensureNamespace(kube, ref.namespace);
  const deadline = now() + options.waitSeconds * 1000;
  let observed: { record: string; at: number } | undefined;
  let announced = false;
  for (;;) {
    const current = await kube.get(ref);
    const seen = now();
    const record = recordOf(current);
    if (observed?.record !== record) observed = { record, at: seen };
    const holder = holderOf(current);
    const duration = Number(specOf(current).leaseDurationSeconds ?? 0);
    const free =
      !current || holder === '' || holder === options.holder || seen - observed.at > duration * 1000;
    let held: KubeObject | undefined;
    if (free) {
      try {
        held = await take(kube, ref, current, options);
      } catch (error) {
        if (!(error instanceof UserError && error.kind === 'conflict')) throw error;
        // another run got there first: loop and look again
      }
    }
    if (held) {
      if (current && holder !== '' && holder !== options.holder)
        logger.warn(
          `${environment}: took over the lock of ${holder}, unchanged for ${Math.round((seen - observed.at) / 1000)} s (longer than its ${duration} s lease)`,
        );
      return renewing(kube, { environment, ref }, held, seen, options, now);
    }
    if (now() >= deadline) {
      throw new UserError(
        'lock',
        `environment "${environment}" is locked by another run (${holder || 'unknown holder'}); waited ${options.waitSeconds} s`,
        {
          hint: 'wait for that run to finish; a lock whose run died expires by itself after its lease duration',
        },
      );
    }
    if (!announced) {
      logger.info(
        `${environment}: waiting for the lock held by ${holder || 'another run'} (up to ${options.waitSeconds} s)`,
      );
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
  }
}

async function take(
  kube: KubeApi,
  ref: { namespace: string; name: string },
  current: KubeObject | undefined,
  options: LockOptions,
): Promise<KubeObject> {
  const stamp = microTime(new Date());
  const previous = specOf(current);
  const changed = holderOf(current) !== options.holder;
  const transitions = Number(previous.leaseTransitions ?? 0) + (current && changed ? 1 : 0);
  const lease: KubeObject = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'slipway' },
    },
    spec: {
      holderIdentity: options.holder,
      leaseDurationSeconds: options.leaseSeconds,
      acquireTime: changed || typeof previous.acquireTime !== 'string' ? stamp : previous.acquireTime,
      renewTime: stamp,
      leaseTransitions: transitions,
    },
  };
  return current ? kube.replace(lease) : kube.create(lease);
}

function renewing(
  kube: KubeApi,
  { environment, ref }: { environment: string; ref: ObjectRef },
  initial: KubeObject,
  acquiredAt: number,
  options: LockOptions,
  now: () => number,
): HeldLock {
  const leaseMs = options.leaseSeconds * 1000;
  const renewDeadlineMs = (leaseMs * 2) / 3;
  let lease = initial;
  /** When the request of the last renewal that got through was sent (others saw it after that). */
  let renewedAt = acquiredAt;
  let lastError: string | undefined;
  let lost: string | undefined;
  let stopped = false;
  let inflight: Promise<void> = Promise.resolve();
  const renew = async (): Promise<void> => {
    const sent = now();
    try {
      lease = await kube.replace({ ...lease, spec: { ...specOf(lease), renewTime: microTime(new Date()) } });
      renewedAt = sent;
      lastError = undefined;
    } catch (error) {
      lastError = describeError(error);
      if (!(error instanceof UserError && error.kind === 'conflict')) return; // retried next tick
      const live = await kube.get(ref).catch(() => undefined);
      if (live && holderOf(live) === options.holder) lease = live;
      else lost = `another run (${holderOf(live) || 'unknown'}) took the lock over`;
    }
  };
  const timer = setInterval(
    () => {
      if (!stopped && !lost) inflight = renew();
    },
    Math.max(200, leaseMs / 3),
  );
  timer.unref();
  return {
    fence(stage: string): void {
      const silent = now() - renewedAt;
      if (!lost && silent >= renewDeadlineMs)
        lost = `the lock could not be renewed for ${Math.round(silent / 1000)} s${lastError ? ` (${lastError})` : ''}, so another run may hold it now`;
      if (lost)
        throw new UserError('lock', `${environment}: ${lost}; stopped before ${stage}`, {
          hint: 'nothing more was written; run the apply again once the cluster is reachable (the next run re-plans from the live state)',
        });
    },
    async release(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await inflight; // release from the latest resourceVersion, not a stale one
      if (lost) return; // the Lease is, or may be, someone else's now
      const spec = { ...specOf(lease), holderIdentity: null, renewTime: null, acquireTime: null };
      await kube.replace({ ...lease, spec }).catch(() => undefined);
    },
  };
}
