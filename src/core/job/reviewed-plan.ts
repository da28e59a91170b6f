/**
 * "Apply exactly what was reviewed": after a merge, the apply finds the pull/merge request the
 * commit came from, reads the digest its last plan of the environment recorded in the comment, and
 * compares it with the digest of the plan it is about to apply (plan-digest.ts). The verdict goes
 * into the deployment record and the comment; with `require-reviewed-plan` a difference (or no
 * reviewed plan at all) stops the apply before any write.
 */
import type { EnvironmentConfig } from '../config/config.ts';
import { affectedEnvironments, environmentDependencies } from '../detect/detect.ts';
import { describeError, UserError } from '../errors.ts';
import type { Manifest } from '../yaml/manifest.ts';
import { emptyInventory } from '../inventory/inventory.ts';
import { objectKey } from '../objects.ts';
import { planEnvironment, type Plan } from '../plan/plan.ts';
import type { KubeApi } from '../ports.ts';
import { planDigest, readDigest, shortDigest, type PlanDigest } from '../plan/plan-digest.ts';
import { planMarker, readStamp } from '../report/comment.ts';
import type { Job } from './job.ts';

export interface ReviewedPlan {
  readonly changeRequest: number;
  /** The commit the last plan was made for (the pull request's head then). */
  readonly commit: string | undefined;
  readonly digest: PlanDigest | undefined;
}

export interface ReviewVerdict {
  readonly same: boolean;
  /** One line for the deployment record, the log and the comment. */
  readonly text: string;
  /** The plan about to be applied, when it differs (posted to the pull request as the new plan). */
  readonly digest: PlanDigest;
}

/** The reviewed plan of `env` for this run's commit; undefined when no merged pull request made it. */
export async function findReviewedPlan(job: Job, env: EnvironmentConfig): Promise<ReviewedPlan | undefined> {
  const { platform } = job.deps;
  if (!platform) return undefined;
  const changeRequest = await platform.changeRequestOf(job.context.sha);
  if (changeRequest === undefined) return undefined;
  const bodies = await platform.readComments(changeRequest, planMarker(env.name));
  const body = bodies.at(-1);
  return {
    changeRequest,
    commit: body ? readStamp(body)?.commit : undefined,
    digest: body ? readDigest(body) : undefined,
  };
}

/** Compares the plan about to be applied with the reviewed one and says why they differ. */
export async function judgePlan(
  job: Job,
  env: EnvironmentConfig,
  reviewed: ReviewedPlan | undefined,
  manifests: readonly Manifest[],
  plan: Plan,
  /** A read-only estimate of the same plan (reads only): what a read-only reviewed plan is compared with. */
  estimate?: () => Promise<Plan>,
): Promise<ReviewVerdict> {
  const digest = planDigest(manifests, plan);
  // A reviewed estimate is compared with an estimate of this plan, never with the dry-run (plan-digest.ts).
  const asEstimate = reviewed?.digest?.fidelity === 'read-only-estimate' && estimate !== undefined;
  const compared = asEstimate ? planDigest(manifests, await estimate()) : digest;
  const how = asEstimate ? ' (compared as read-only estimates: the reviewed plan was one)' : '';
  const noun = job.context.changeNoun === 'merge request' ? 'merge request !' : 'pull request #';
  const short = shortDigest(digest);
  if (!reviewed && !job.deps.platform) {
    return {
      same: false,
      digest,
      text: `no reviewed plan: this run reads no pull request (no review platform or token) (plan ${short})`,
    };
  }
  if (!reviewed) {
    return {
      same: false,
      digest,
      text: `no reviewed plan: commit ${job.context.sha.slice(0, 12)} came from no merged ${noun.slice(0, -2)} (plan ${short})`,
    };
  }
  const where = `${noun}${reviewed.changeRequest}`;
  if (!reviewed.digest) {
    return {
      same: false,
      digest,
      text: `${where} has no recorded plan of ${env.name} to compare with (plan ${short})`,
    };
  }
  if (reviewed.digest.render === compared.render && reviewed.digest.changes === compared.changes)
    return {
      same: true,
      digest,
      text: `applied the reviewed plan ${shortDigest(compared)} of ${where}${how}`,
    };
  const was = shortDigest(reviewed.digest);
  if (reviewed.digest.render !== digest.render) {
    const landed = await filesChangedSince(job, env, reviewed.commit);
    const why = landed.length
      ? `another merge landed: ${landed.slice(0, 5).join(', ')}${landed.length > 5 ? ` and ${landed.length - 5} more` : ''} changed since the reviewed commit ${reviewed.commit?.slice(0, 12) ?? ''}`
      : 'no file of this environment changed since the reviewed commit, so something it reads from outside the repository changed (a chart in a Helm repository, a remote kustomize base, or the cluster version helm renders for)';
    return {
      same: false,
      digest,
      text: `render differs from the reviewed plan ${was} of ${where} (now ${short}): ${why}`,
    };
  }
  return {
    same: false,
    digest,
    text: `live state differs from the reviewed plan ${was} of ${where} (now ${short})${how}: the same render now makes other changes, so the cluster changed since the plan (drift, or another apply)`,
  };
}

/** Files the environment renders from that differ between the reviewed commit and this one. */
async function filesChangedSince(
  job: Job,
  env: EnvironmentConfig,
  commit: string | undefined,
): Promise<string[]> {
  if (!commit) return [];
  const { workspace, git, logger } = job.deps;
  try {
    const changed = await git.changedFiles(commit, job.context.sha);
    const deps = environmentDependencies(workspace.repo, workspace.config, env);
    return affectedEnvironments(changed, new Map([[env.name, deps]])).reasons[env.name] ?? [];
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    logger.warn(`${env.name}: could not compare with the reviewed commit: ${describeError(error)}`);
    return [];
  }
}

/** The refusal when `require-reviewed-plan` is on and the plan is not the reviewed one. */
export function notReviewedError(env: EnvironmentConfig, verdict: ReviewVerdict): UserError {
  return new UserError('apply', `${env.name}: not applied, ${verdict.text}; nothing was written`, {
    hint: 'review the new plan (posted on the pull request) and re-run the apply, or merge a change that plans again; require-reviewed-plan is on',
  });
}

/**
 * The apply's plan as a read-only plan would have shown it, for comparing with a reviewed estimate:
 * its rendered objects estimated from live (reads only, no dry-run), its deletions as planned
 * (they never need a dry-run).
 */
export async function estimatedPlan(
  job: Job,
  env: EnvironmentConfig,
  manifests: readonly Manifest[],
  plan: Plan,
  kube: KubeApi,
): Promise<Plan> {
  const estimate = await planEnvironment(env, manifests, {
    kube,
    logger: job.deps.logger,
    concurrency: job.settings.concurrency,
    inventory: emptyInventory(env.name, env.stateNamespace),
    planMode: 'read-only',
  });
  const rendered = new Set(estimate.objects.map((row) => objectKey(row.ref)));
  const deletions = plan.objects.filter((row) => !rendered.has(objectKey(row.ref)));
  return { ...estimate, objects: [...estimate.objects, ...deletions] };
}
