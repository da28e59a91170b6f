import type { KubeObject } from '../objects.ts';
import { groupOf, isPlainObject } from '../objects.ts';

/**
 * Built-in cluster-scoped kinds by `group/Kind`, for offline checks before discovery is known
 * (validate, render). Checked against the API server's discovery in
 * test/integration/ownership.test.ts.
 */
const CLUSTER_SCOPED = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'admissionregistration.k8s.io/MutatingAdmissionPolicy',
  'admissionregistration.k8s.io/MutatingAdmissionPolicyBinding',
  'apiregistration.k8s.io/APIService',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'storage.k8s.io/VolumeAttributesClass',
  'scheduling.k8s.io/PriorityClass',
  'node.k8s.io/RuntimeClass',
  'networking.k8s.io/IngressClass',
  'networking.k8s.io/IPAddress',
  'networking.k8s.io/ServiceCIDR',
  'certificates.k8s.io/CertificateSigningRequest',
  'certificates.k8s.io/ClusterTrustBundle',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'resource.k8s.io/DeviceClass',
  'resource.k8s.io/ResourceSlice',
  'resource.k8s.io/DeviceTaintRule',
  'storagemigration.k8s.io/StorageVersionMigration',
]);

/** Built-in namespaced kinds: enough to tell "a kind the API server knows" offline. */
const NAMESPACED_BUILTIN = new Set([
  '/ConfigMap',
  '/Secret',
  '/Service',
  '/ServiceAccount',
  '/Pod',
  '/PersistentVolumeClaim',
  '/Endpoints',
  '/LimitRange',
  '/ResourceQuota',
  '/ReplicationController',
  '/PodTemplate',
  '/Event',
  'apps/Deployment',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'apps/ReplicaSet',
  'apps/ControllerRevision',
  'batch/Job',
  'batch/CronJob',
  'autoscaling/HorizontalPodAutoscaler',
  'policy/PodDisruptionBudget',
  'networking.k8s.io/Ingress',
  'networking.k8s.io/NetworkPolicy',
  'rbac.authorization.k8s.io/Role',
  'rbac.authorization.k8s.io/RoleBinding',
  'coordination.k8s.io/Lease',
  'discovery.k8s.io/EndpointSlice',
  'storage.k8s.io/CSIStorageCapacity',
  'events.k8s.io/Event',
  'resource.k8s.io/ResourceClaim',
  'resource.k8s.io/ResourceClaimTemplate',
  'certificates.k8s.io/PodCertificateRequest',
]);

export type Scope = 'cluster' | 'namespaced' | 'unknown';

/** Scope of a kind from built-ins and CRDs rendered alongside; 'unknown' when neither says. */
export function scopeOf(apiVersion: string, kind: string, crds: ReadonlyMap<string, Scope>): Scope {
  const key = `${groupOf(apiVersion)}/${kind}`;
  if (CLUSTER_SCOPED.has(key)) return 'cluster';
  if (NAMESPACED_BUILTIN.has(key)) return 'namespaced';
  return crds.get(key) ?? 'unknown';
}

export function isBuiltinGroup(apiVersion: string): boolean {
  const group = groupOf(apiVersion);
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}

/** `group/Kind` → scope for every CRD among the objects. */
export function crdScopes(objects: readonly KubeObject[]): Map<string, Scope> {
  const scopes = new Map<string, Scope>();
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition' || groupOf(object.apiVersion) !== 'apiextensions.k8s.io')
      continue;
    const spec = object.spec;
    if (
      !isPlainObject(spec) ||
      typeof spec.group !== 'string' ||
      !isPlainObject(spec.names) ||
      typeof spec.names.kind !== 'string'
    )
      continue;
    scopes.set(`${spec.group}/${spec.names.kind}`, spec.scope === 'Cluster' ? 'cluster' : 'namespaced');
  }
  return scopes;
}
