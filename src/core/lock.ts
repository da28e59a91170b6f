import { UserError } from './errors.ts';
import { ensureNamespace, INVENTORY_NAMESPACE } from './inventory.ts';
import { isPlainObject, type KubeObject } from './objects.ts';
import type { KubeApi, Logger } from './ports.ts';

export interface LockOptions {
  readonly holder: string;
  /** A holder that stops renewing loses the lock after this long. */
  readonly leaseSeconds: number;
  /** How long to wait for another run's lock before failing. */
  readonly waitSeconds: number;
  readonly pollMs?: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

export function lockName(environment: string): string {
  return `slipway-lock-${environment}`;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * One run at a time per environment: a coordination.k8s.io Lease with holder and expiry, renewed
 * while held. A lease whose holder stopped renewing (a killed run) expires and is taken over.
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
    namespace: INVENTORY_NAMESPACE,
    name: lockName(environment),
  };
  await ensureNamespace(kube, INVENTORY_NAMESPACE);
  const deadline = Date.now() + options.waitSeconds * 1000;
  let announced = false;
  for (;;) {
    const now = new Date();
    const lease = (spec: Record<string, unknown>, resourceVersion?: string): KubeObject => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: ref.name,
        namespace: ref.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'slipway' },
      },
      spec,
    });
    const spec = {
      holderIdentity: options.holder,
      leaseDurationSeconds: options.leaseSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
    };
    const current = await kube.get(ref);
    let held: KubeObject | undefined;
    try {
      if (!current) held = await kube.create(lease(spec));
      else if (isFree(current, options.holder, now))
        held = await kube.replace(lease(spec, current.metadata.resourceVersion));
    } catch (error) {
      if (!(error instanceof UserError && error.kind === 'conflict')) throw error;
      // another run got there first: loop and look again
    }
    if (held) return renewing(kube, held, options);
    const holder =
      current && isPlainObject(current.spec)
        ? typeof current.spec.holderIdentity === 'string'
          ? current.spec.holderIdentity
          : ''
        : '';
    if (Date.now() >= deadline) {
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

function isFree(lease: KubeObject, holder: string, now: Date): boolean {
  const spec = isPlainObject(lease.spec) ? lease.spec : {};
  if (!spec.holderIdentity || spec.holderIdentity === holder) return true;
  const renewed = typeof spec.renewTime === 'string' ? Date.parse(spec.renewTime) : 0;
  const duration = typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : 0;
  return renewed + duration * 1000 < now.getTime();
}

function renewing(kube: KubeApi, initial: KubeObject, options: LockOptions): HeldLock {
  let lease = initial;
  let stopped = false;
  let inflight: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      if (stopped) return;
      const spec = { ...(isPlainObject(lease.spec) ? lease.spec : {}), renewTime: microTime(new Date()) };
      inflight = kube.replace({ ...lease, spec }).then(
        (updated) => {
          lease = updated;
        },
        () => undefined, // a missed renewal is retried next tick; expiry is the safety net
      );
    },
    Math.max(1000, (options.leaseSeconds * 1000) / 3),
  );
  timer.unref();
  return {
    async release(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await inflight; // release from the latest resourceVersion, not a stale one
      const spec = {
        ...(isPlainObject(lease.spec) ? lease.spec : {}),
        holderIdentity: null,
        renewTime: null,
        acquireTime: null,
      };
      await kube.replace({ ...lease, spec }).catch(() => undefined);
    },
  };
}
