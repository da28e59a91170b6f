import type { KubeObject } from '../objects.ts';

const HOOK = 'helm.sh/hook';
const DELETE_POLICY = 'helm.sh/hook-delete-policy';
/** Argo CD runs these as PreSync / PostSync; they are part of every install and upgrade. */
const DEPLOY_EVENTS = new Set(['pre-install', 'post-install', 'pre-upgrade', 'post-upgrade']);
/** Workloads that run to completion: a hook of this kind is a task, not desired state. */
const TASK_KINDS = new Set(['Job', 'Pod']);

export interface HookDecision {
  /** The hook events, as written in the annotation. */
  readonly events: readonly string[];
  readonly apply: boolean;
  /** Why, in the words shown in the plan. */
  readonly reason: string;
}

/**
 * What Slipway does with a chart's hook, modelled on Argo CD, which also renders with `helm
 * template`: Argo CD runs install/upgrade hooks around its sync and ignores the others. Slipway
 * runs nothing, so a hook that is a task (Job, Pod) or that Helm and Argo CD delete once it has run
 * (`hook-succeeded`, `hook-failed`) is skipped; a plain resource of an install/upgrade hook
 * (a ConfigMap, a Secret, RBAC…) is applied like any other object, since it stays on the cluster
 * after a Helm or Argo CD deploy too. Undefined for an object that is no hook.
 */
export function hookDecision(object: KubeObject): HookDecision | undefined {
  const annotation = object.metadata.annotations?.[HOOK];
  if (annotation === undefined) return undefined;
  const events = list(annotation);
  const policies = list(object.metadata.annotations?.[DELETE_POLICY] ?? '');
  if (!events.some((event) => DEPLOY_EVENTS.has(event)))
    return { events, apply: false, reason: 'Slipway runs no hooks; it is not an install or upgrade hook' };
  if (TASK_KINDS.has(object.kind))
    return {
      events,
      apply: false,
      reason: `Slipway runs no hooks (Argo CD would run this ${object.kind} during its sync)`,
    };
  const deleted = policies.filter((policy) => policy === 'hook-succeeded' || policy === 'hook-failed');
  if (deleted.length > 0)
    return {
      events,
      apply: false,
      reason: `Helm and Argo CD delete it once the hook has run (${deleted.join(', ')}), and Slipway runs no hooks`,
    };
  return {
    events,
    apply: true,
    reason:
      'a plain resource that Helm and Argo CD leave on the cluster too, so it goes in with the rest of the release (not before or after it)',
  };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
