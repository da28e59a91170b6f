import type { JobContext, JobDependencies, JobMode, JobOutcome, JobSettings } from './types.ts';

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
