/**
 * A job that plans or applies one environment (a matrix job on GitHub, a job per environment on
 * GitLab) cannot know what the others render, nor which cluster they go to: their kubeconfigs are
 * other jobs' secrets. Environments pinned in slipway.yaml to the cluster this job is connected to
 * (`cluster.server`, `cluster.kube-system-uid`) are known to share it, so they are rendered here,
 * render only (no connection, no cluster credentials of theirs), for cross-environment.ts to
 * compare. One that cannot be rendered in this job (its SOPS key or chart credentials are another
 * job's) is left out, and the log says so.
 */
import { serverKey } from '../apply/cluster-pin.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, UserError } from '../errors.ts';
import { capabilitiesOrDefaults } from './jobs.ts';
import { hasErrors } from '../workspace.ts';
import { renderedRefs, type RenderedKeys } from './cross-environment.ts';
import type { Job } from './job.ts';
import type { ClusterHandle } from './types.ts';

/** Whether any environment outside `run` is pinned to a cluster at all (else nothing to render). */
export function hasPinnedOthers(job: Job, run: readonly string[]): boolean {
  return [...job.deps.workspace.config.environments.values()].some(
    (env) => env.cluster !== undefined && !run.includes(env.name),
  );
}

/** What the environments outside `run` pinned to `cluster` render, keyed for cross-environment.ts. */
export async function pinnedSiblings(
  job: Job,
  run: readonly string[],
  cluster: ClusterHandle,
): Promise<RenderedKeys[]> {
  const { workspace, logger, masker } = job.deps;
  let uid: Promise<string | undefined> | undefined;
  const kubeSystemUid = (): Promise<string | undefined> =>
    (uid ??= cluster.kube
      .get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' })
      .then((ns) => ns?.metadata.uid));
  const siblings: RenderedKeys[] = [];
  let capabilities: ReturnType<typeof capabilitiesOrDefaults> | undefined;
  for (const env of workspace.config.environments.values()) {
    if (run.includes(env.name) || !(await pinnedTo(env, cluster.server, kubeSystemUid))) continue;
    try {
      capabilities ??= capabilitiesOrDefaults(cluster.kube, logger);
      const { manifests, findings } = await workspace.renderAndValidate(env, await capabilities);
      if (hasErrors(findings)) throw new UserError('render', 'its manifests have errors');
      const objects = await renderedRefs(env, manifests, cluster.kube);
      siblings.push({ environment: env.name, server: cluster.server, objects });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      logger.warn(
        `${env.name} is pinned to the same cluster, but could not be rendered here to check for objects it renders too: ${masker.mask(describeError(error))}`,
      );
    }
  }
  return siblings;
}

/** Every field of the environment's pin matches this cluster. */
async function pinnedTo(
  env: EnvironmentConfig,
  server: string,
  kubeSystemUid: () => Promise<string | undefined>,
): Promise<boolean> {
  const pin = env.cluster;
  if (!pin || (pin.server === undefined && pin.kubeSystemUid === undefined)) return false;
  if (pin.server !== undefined && serverKey(pin.server) !== serverKey(server)) return false;
  return pin.kubeSystemUid === undefined || pin.kubeSystemUid === (await kubeSystemUid());
}
