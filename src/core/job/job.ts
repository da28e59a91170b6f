import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, UserError } from '../errors.ts';
import type { EnvironmentReport } from '../report/markdown.ts';
import type { JobContext, JobDependencies, JobMode, JobOutcome, JobSettings } from './types.ts';

type Cluster = Awaited<ReturnType<JobDependencies['clusters']['connect']>>;

/** Everything one run needs, passed to each mode. */
export interface Job {
  readonly mode: JobMode;
  readonly context: JobContext;
  readonly settings: JobSettings;
  readonly deps: JobDependencies;
}

export function outcome(job: Job, partial: Partial<Omit<JobOutcome, 'mode'>>): JobOutcome {
  return { mode: job.mode, code: 0, changes: false, reports: [], drift: [], failures: [], ...partial };
}

/** A wording of the cluster a plan or apply ran against, for the log and the plan report. */
export function describeCluster(cluster: { server: string; context: string; identity: string }): string {
  return `${cluster.server} (context ${cluster.context}) as ${cluster.identity}`;
}

/**
 * The environment's cluster, or, when connecting fails for a reason the user can fix, the failed
 * report to show in its place (the other environments still run).
 */
export async function connectOrReport(
  job: Job,
  env: EnvironmentConfig,
): Promise<{ cluster: Cluster } | { report: EnvironmentReport }> {
  try {
    return { cluster: await job.deps.clusters.connect(env) };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return {
      report: { environment: env.name, plan: undefined, findings: [], failure: describeError(error) },
    };
  }
}
