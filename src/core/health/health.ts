import { groupOf, isPlainObject, type KubeObject } from '../objects.ts';

/** `Skipped`: applied but not waited for (annotated `slipway.dev/wait: disabled`). */
export type HealthStatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating' | 'NotFound' | 'Skipped';

export interface Health {
  readonly status: HealthStatus;
  readonly message: string;
}

/** Whether an apply may count this object as done: Current, or not waited for on purpose. */
export function isSettled(health: Health | undefined): boolean {
  return health === undefined || health.status === 'Current' || health.status === 'Skipped';
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/**
 * kstatus's rules, as a pure function of one object: whether it has become what it should be.
 * Jobs follow Flux (Complete is Current, running is InProgress), not upstream kstatus.
 */
export function healthOf(object: KubeObject): Health {
  if (object.metadata.deletionTimestamp) return { status: 'Terminating', message: 'being deleted' };
  const status = isPlainObject(object.status) ? object.status : {};
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter(
    isPlainObject,
  ) as Condition[];
  const condition = (type: string): Condition | undefined => conditions.find((c) => c.type === type);
  const generation = object.metadata.generation;
  const observed = typeof status.observedGeneration === 'number' ? status.observedGeneration : undefined;
  const num = (key: string): number => (typeof status[key] === 'number' ? status[key] : 0);
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;

  switch (`${groupOf(object.apiVersion)}/${object.kind}`) {
    case 'apps/Deployment': {
      // Generation first: a deadline exceeded by the previous spec says nothing about the new one.
      if (generation !== undefined && (observed === undefined || observed < generation))
        return { status: 'InProgress', message: 'controller has not seen the latest spec' };
      const progressing = condition('Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded')
        return { status: 'Failed', message: `progress deadline exceeded: ${progressing.message ?? ''}` };
      if (num('updatedReplicas') < desired)
        return { status: 'InProgress', message: `${num('updatedReplicas')}/${desired} replicas updated` };
      if (num('replicas') > num('updatedReplicas'))
        return {
          status: 'InProgress',
          message: `${num('replicas') - num('updatedReplicas')} old replicas pending termination`,
        };
      if (num('availableReplicas') < desired)
        return { status: 'InProgress', message: `${num('availableReplicas')}/${desired} replicas available` };
      if (num('readyReplicas') < desired)
        return { status: 'InProgress', message: `${num('readyReplicas')}/${desired} replicas ready` };
      return condition('Available')?.status === 'False'
        ? { status: 'InProgress', message: 'not yet Available' }
        : { status: 'Current', message: `${desired} replicas available` };
    }
    case 'apps/StatefulSet': {
      if (generation !== undefined && (observed === undefined || observed < generation))
        return { status: 'InProgress', message: 'controller has not seen the latest spec' };
      if (num('readyReplicas') < desired)
        return { status: 'InProgress', message: `${num('readyReplicas')}/${desired} replicas ready` };
      // kstatus: OnDelete pods are replaced by hand; a partition holds back the pods below it.
      const strategy = isPlainObject(spec.updateStrategy) ? spec.updateStrategy : {};
      const rolling = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
      const partition = typeof rolling.partition === 'number' ? rolling.partition : 0;
      if (strategy.type === 'OnDelete') return { status: 'Current', message: `${desired} replicas ready` };
      if (partition > 0) {
        if (num('updatedReplicas') < desired - partition)
          return {
            status: 'InProgress',
            message: `${num('updatedReplicas')}/${desired - partition} replicas above the partition updated`,
          };
        return { status: 'Current', message: `${desired} replicas ready, partitioned roll-out complete` };
      }
      if (num('currentReplicas') < desired || status.currentRevision !== status.updateRevision)
        return { status: 'InProgress', message: 'rolling update in progress' };
      return { status: 'Current', message: `${desired} replicas ready` };
    }
    case 'apps/DaemonSet': {
      if (generation !== undefined && (observed === undefined || observed < generation))
        return { status: 'InProgress', message: 'controller has not seen the latest spec' };
      const want = num('desiredNumberScheduled');
      if (num('updatedNumberScheduled') < want || num('numberAvailable') < want)
        return { status: 'InProgress', message: `${num('numberAvailable')}/${want} pods available` };
      return { status: 'Current', message: `${want} pods available` };
    }
    case 'apps/ReplicaSet': {
      if (num('availableReplicas') < desired)
        return { status: 'InProgress', message: `${num('availableReplicas')}/${desired} replicas available` };
      return { status: 'Current', message: `${desired} replicas available` };
    }
    case 'batch/Job': {
      const failed = condition('Failed');
      if (failed?.status === 'True')
        return {
          status: 'Failed',
          message: `job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim(),
        };
      if (condition('Complete')?.status === 'True') return { status: 'Current', message: 'complete' };
      return { status: 'InProgress', message: `${num('succeeded')} succeeded, ${num('active')} running` };
    }
    case '/Pod': {
      const statuses = Array.isArray(status.containerStatuses)
        ? status.containerStatuses.filter(isPlainObject)
        : [];
      for (const container of statuses) {
        const waiting =
          isPlainObject(container.state) && isPlainObject(container.state.waiting)
            ? container.state.waiting
            : undefined;
        if (waiting?.reason === 'CrashLoopBackOff' || waiting?.reason === 'ImagePullBackOff')
          return {
            status: 'Failed',
            message: `container ${typeof container.name === 'string' ? container.name : ''}: ${waiting.reason}`,
          };
      }
      if (status.phase === 'Succeeded') return { status: 'Current', message: 'succeeded' };
      if (status.phase === 'Failed') return { status: 'Failed', message: 'pod failed' };
      return condition('Ready')?.status === 'True'
        ? { status: 'Current', message: 'ready' }
        : {
            status: 'InProgress',
            message: `phase ${typeof status.phase === 'string' ? status.phase : 'Pending'}`,
          };
    }
    case '/PersistentVolumeClaim':
      return status.phase === 'Bound'
        ? { status: 'Current', message: 'bound' }
        : {
            status: 'InProgress',
            message: `phase ${typeof status.phase === 'string' ? status.phase : 'Pending'}`,
          };
    case '/Service': {
      if (spec.type !== 'LoadBalancer') return { status: 'Current', message: 'service ready' };
      const ingress =
        isPlainObject(status.loadBalancer) && Array.isArray(status.loadBalancer.ingress)
          ? status.loadBalancer.ingress
          : [];
      return ingress.length > 0
        ? { status: 'Current', message: 'load balancer ready' }
        : { status: 'InProgress', message: 'waiting for a load balancer address' };
    }
    case 'apiextensions.k8s.io/CustomResourceDefinition': {
      if (condition('NamesAccepted')?.status === 'False')
        return {
          status: 'Failed',
          message: `names not accepted: ${condition('NamesAccepted')?.message ?? ''}`,
        };
      return condition('Established')?.status === 'True'
        ? { status: 'Current', message: 'established' }
        : { status: 'InProgress', message: 'not yet established' };
    }
    default:
      return genericHealth(generation, observed, condition);
  }
}

function genericHealth(
  generation: number | undefined,
  observed: number | undefined,
  condition: (type: string) => Condition | undefined,
): Health {
  if (generation !== undefined && observed !== undefined && observed < generation)
    return { status: 'InProgress', message: 'controller has not seen the latest spec' };
  if (condition('Stalled')?.status === 'True')
    return { status: 'Failed', message: condition('Stalled')?.message ?? 'stalled' };
  if (condition('Reconciling')?.status === 'True')
    return { status: 'InProgress', message: condition('Reconciling')?.message ?? 'reconciling' };
  const ready = condition('Ready');
  if (ready)
    return ready.status === 'True'
      ? { status: 'Current', message: 'ready' }
      : { status: 'InProgress', message: ready.message ?? 'not ready' };
  return { status: 'Current', message: 'applied' };
}
