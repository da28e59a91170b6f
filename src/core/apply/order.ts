import { groupOf } from '../objects.ts';

/**
 * Apply stages, Flux's order: what others depend on first. Deletion runs the stages backwards.
 * 0 CRDs · 1 Namespaces · 2 other cluster-scoped (RBAC, classes) · 3 namespaced · 4 webhooks.
 */
export type Stage = 0 | 1 | 2 | 3 | 4;

const WEBHOOKS = new Set([
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
]);

export function stageOf(object: { apiVersion: string; kind: string }, namespaced: boolean): Stage {
  if (object.kind === 'CustomResourceDefinition' && groupOf(object.apiVersion) === 'apiextensions.k8s.io')
    return 0;
  if (object.kind === 'Namespace' && object.apiVersion === 'v1') return 1;
  if (groupOf(object.apiVersion) === 'admissionregistration.k8s.io' && WEBHOOKS.has(object.kind)) return 4;
  return namespaced ? 3 : 2;
}

export const STAGE_NAMES = [
  'CustomResourceDefinitions',
  'Namespaces',
  'cluster-scoped objects',
  'namespaced objects',
  'admission webhooks',
] as const;

/** Groups items by stage, in stage order (reverse for deletion). */
export function byStage<T>(items: readonly T[], stage: (item: T) => Stage, reverse = false): T[][] {
  const stages: T[][] = [[], [], [], [], []];
  for (const item of items) stages[stage(item)]?.push(item);
  return reverse ? stages.reverse() : stages;
}
