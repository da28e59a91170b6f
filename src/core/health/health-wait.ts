import { mapLimit } from '../concurrency.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { WAIT_ANNOTATION } from '../constants.ts';
import type { Health } from './health.ts';
import { healthWithRules } from './health-rules.ts';
import { describeRef, objectKey, type KubeObject, type ObjectRef } from '../objects.ts';
import type { KubeApi, Logger } from '../ports.ts';

export interface WaitOptions {
  readonly waitSeconds: number;
  readonly concurrency: number;
  readonly healthPollMs?: number;
}

interface Waitable {
  readonly ref: ObjectRef;
  readonly health: Health | undefined;
}

/** Why an object is not waited for (its `slipway.dev/wait: disabled` annotation), or undefined. */
export function waitOptOut(object: KubeObject | undefined): string | undefined {
  return object?.metadata.annotations?.[WAIT_ANNOTATION] === 'disabled'
    ? `not waited for: annotation ${WAIT_ANNOTATION}: disabled`
    : undefined;
}

/**
 * Polls the applied objects until each is Current or one has Failed (fail fast), or the timeout.
 * Objects annotated `slipway.dev/wait: disabled` in Git are reported Skipped at once; kinds with
 * an environment `health-checks` rule are judged by it, all others by kstatus.
 */
export async function waitForHealth<T extends Waitable>(
  kube: KubeApi,
  env: EnvironmentConfig,
  applied: readonly T[],
  desired: ReadonlyMap<string, KubeObject>,
  options: WaitOptions,
  logger: Logger,
): Promise<T[]> {
  if (!env.wait || options.waitSeconds <= 0 || applied.length === 0) return [...applied];
  const skipped: T[] = [];
  const toWait: T[] = [];
  for (const o of applied) {
    const object = desired.get(objectKey(o.ref));
    const value = object?.metadata.annotations?.[WAIT_ANNOTATION];
    if (value !== undefined && value !== 'disabled')
      logger.warn(
        `${describeRef(o.ref)}: annotation ${WAIT_ANNOTATION}: "${value}" is not recognised (only "disabled" is); waiting for it`,
      );
    const optOut = waitOptOut(object);
    if (optOut) {
      logger.info(`${env.name}: ${describeRef(o.ref)} ${optOut}`);
      skipped.push({ ...o, health: { status: 'Skipped', message: optOut } });
    } else toWait.push(o);
  }
  if (toWait.length === 0) return skipped;
  return [...skipped, ...(await poll(kube, env, toWait, options, logger))];
}

async function poll<T extends Waitable>(
  kube: KubeApi,
  env: EnvironmentConfig,
  applied: readonly T[],
  options: WaitOptions,
  logger: Logger,
): Promise<T[]> {
  return logger.group(`${env.name}: health`, async () => {
    const deadline = Date.now() + options.waitSeconds * 1000;
    let pending = [...applied];
    const done: T[] = [];
    let lastLog = 0;
    while (pending.length > 0) {
      const checked = await mapLimit(pending, options.concurrency, async (o) => {
        const live = await kube.get(o.ref).catch(() => undefined);
        const health: Health = live
          ? healthWithRules(live, env.healthChecks)
          : { status: 'NotFound', message: 'not found' };
        return { ...o, health };
      });
      pending = [];
      for (const o of checked) {
        if (o.health.status === 'Current' || o.health.status === 'Failed') done.push(o);
        else pending.push(o);
      }
      const failedNow = checked.filter((o) => o.health.status === 'Failed');
      if (failedNow.length > 0) {
        // Fail fast: a terminal failure will not heal by waiting.
        for (const o of failedNow) logger.error(`${describeRef(o.ref)} failed: ${o.health.message}`);
        return [...done, ...pending];
      }
      if (pending.length === 0) break;
      if (Date.now() > deadline) {
        for (const o of pending)
          logger.error(
            `${describeRef(o.ref)} not ready after ${options.waitSeconds} s: ${o.health?.message ?? ''}`,
          );
        logger.info(
          `to apply an object without waiting for it (a LoadBalancer Service on a cluster without a load-balancer controller), annotate it ${WAIT_ANNOTATION}: disabled`,
        );
        return [...done, ...pending];
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        logger.info(
          `${env.name}: waiting for ${pending.length} objects: ${pending
            .slice(0, 3)
            .map((o) => `${describeRef(o.ref)} (${o.health?.message ?? ''})`)
            .join(', ')}${pending.length > 3 ? ', …' : ''}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.healthPollMs ?? 1000));
    }
    logger.info(`${env.name}: ${done.length} objects healthy`);
    return done;
  });
}
