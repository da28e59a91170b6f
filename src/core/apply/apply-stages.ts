import { writeAdoption } from '../ownership/adopt.ts';
import type { ApplyOptions, ObjectOutcome } from './apply.ts';
import { mapLimit, progressReporter } from '../concurrency.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { waitForCrds } from './crd-wait.ts';
import { describeError, UserError } from '../errors.ts';
import type { HeldLock } from './lock.ts';
import { describeRef, objectKey, type KubeObject } from '../objects.ts';
import { byStage, STAGE_NAMES, stageOf } from './order.ts';
import type { Plan } from '../plan/plan.ts';

/**
 * Writes the plan's creates and updates stage by stage (CRDs and namespaces first, waiting for new
 * CRDs to be served), fenced by the lock before each stage. Unchanged and error rows become
 * outcomes as they are; `failed` holds every object that did not apply or could not be read.
 */
export async function applyStages(
  env: EnvironmentConfig,
  plan: Plan,
  options: Pick<ApplyOptions, 'kube' | 'logger' | 'concurrency'>,
  lock: HeldLock | undefined,
): Promise<{ outcomes: ObjectOutcome[]; failed: Set<string>; writes: number }> {
  const { kube, logger } = options;
  const outcomes: ObjectOutcome[] = [];
  const failed = new Set<string>();
  let writes = 0;
  await logger.group(`${env.name}: apply`, async () => {
    // Deferred rows (their CRD or namespace is created in an earlier stage) are creates too.
    const toApply = plan.objects.filter((o) => o.desired && (o.action === 'create' || o.action === 'update'));
    for (const row of plan.objects) {
      if (row.action === 'unchanged')
        outcomes.push({ ref: row.ref, action: 'unchanged', error: undefined, health: undefined });
      if (row.action === 'error') {
        outcomes.push({ ref: row.ref, action: 'error', error: row.note, health: undefined });
        failed.add(objectKey(row.ref));
      }
    }
    const stages = byStage(toApply, (o) => stageOf(o.ref, o.ref.namespace !== undefined));
    const progress = progressReporter(toApply.length, 5_000, (done, total) =>
      logger.info(`${env.name}: applied ${done}/${total} objects`),
    );
    for (const [index, stage] of stages.entries()) {
      if (stage.length === 0) continue;
      lock?.fence(`applying ${STAGE_NAMES[index] ?? 'the next stage'}`);
      logger.info(`${env.name}: applying ${stage.length} ${STAGE_NAMES[index] ?? ''}`);
      if (stage.some((o) => o.deferred)) kube.invalidateDiscovery();
      const results = await mapLimit(stage, options.concurrency, async (row): Promise<ObjectOutcome> => {
        try {
          if (row.adopts && row.live && (await writeAdoption(kube, row.ref, row.live))) {
            writes++;
            logger.info(
              `${env.name}: ${describeRef(row.ref)}: adopted the fields of ${row.adopts.managers.join(', ')}`,
            );
          }
          await kube.apply(row.desired as KubeObject, { dryRun: false, force: env.forceConflicts });
          writes++;
          return { ref: row.ref, action: row.action, error: undefined, health: undefined };
        } catch (error) {
          // A dead API server ends the run with one message, not one per object.
          if (!(error instanceof UserError) || error.kind === 'connection') throw error;
          failed.add(objectKey(row.ref));
          return { ref: row.ref, action: 'error', error: describeError(error), health: undefined };
        } finally {
          progress.tick();
        }
      });
      outcomes.push(...results);
      if (index === 0)
        await waitForCrds(
          kube,
          stage.map((o) => o.ref),
          logger,
        );
    }
    progress.finish();
  });
  return { outcomes, failed, writes };
}
