/**
 * An apply of several environments renders them all before the first write, so that an object two
 * of them on one cluster both render (cross-environment.ts) stops both before anything is written;
 * environments outside the run pinned to the same cluster are rendered to compare (siblings.ts).
 * The renders are then reused by each environment's apply.
 */
import { renderForApply } from './ci.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { UserError } from '../errors.ts';
import { describeRef } from '../objects.ts';
import { renderedRefs, sharedObjectError, sharedObjects, type RenderedKeys } from './cross-environment.ts';
import type { Job } from './job.ts';
import { hasPinnedOthers, pinnedSiblings } from './siblings.ts';
import type { ClusterHandle } from './types.ts';

/** An environment rendered before any apply of the run, and why it must not be applied. */
export interface Prepared {
  readonly rendered: Rendered;
  readonly refusal: string | undefined;
}

type Rendered = Awaited<ReturnType<typeof renderForApply>>;

/**
 * Each environment of the run rendered, with why it must not be applied, if it must not. One that
 * cannot be connected to or rendered is left out; its own apply says why.
 */
export async function renderedTogether(
  job: Job,
  envs: readonly EnvironmentConfig[],
): Promise<Map<string, Prepared>> {
  const { deps } = job;
  const rendered = new Map<string, Rendered>();
  const keys: RenderedKeys[] = [];
  const clusters = new Map<string, ClusterHandle>();
  for (const env of envs) {
    try {
      const cluster = await deps.clusters.connect(env);
      clusters.set(cluster.server, cluster);
      const result = await renderForApply(deps.workspace, env, deps.logger, cluster.kube);
      rendered.set(env.name, result);
      const objects = await renderedRefs(env, result.manifests, cluster.kube);
      keys.push({ environment: env.name, server: cluster.server, objects });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
    }
  }
  const run = envs.map((e) => e.name);
  if (hasPinnedOthers(job, run))
    for (const cluster of clusters.values()) keys.push(...(await pinnedSiblings(job, run, cluster)));
  const shared = sharedObjects(keys);
  const prepared = new Map<string, Prepared>();
  for (const [environment, result] of rendered) {
    const objects = [...(shared.get(environment)?.values() ?? [])];
    for (const { ref, others } of objects)
      deps.logger.error(`${environment}: ${describeRef(ref)}: ${sharedObjectError(others)}`);
    const named = objects.map(({ ref, others }) => `${describeRef(ref)} (also in ${others.join(', ')})`);
    const refusal = named.length
      ? `${named.length} object${named.length === 1 ? ' is' : 's are'} also rendered by another environment on the same cluster: ${named.slice(0, 3).join(', ')}${named.length > 3 ? ', …' : ''}; one object can have only one owner, remove it from one of them; nothing was applied`
      : undefined;
    prepared.set(environment, { rendered: result, refusal });
  }
  return prepared;
}
