import { isPlainObject, type KubeObject } from '../objects.ts';

/** The pod spec an object runs: a Pod's own, a workload's template, a CronJob's job template. */
export function podSpecOf(object: KubeObject | undefined): Record<string, unknown> | undefined {
  if (!object || !isPlainObject(object.spec)) return undefined;
  const spec = object.spec;
  if (object.kind === 'Pod') return spec;
  const template =
    object.kind === 'CronJob' && isPlainObject(spec.jobTemplate) && isPlainObject(spec.jobTemplate.spec)
      ? spec.jobTemplate.spec.template
      : spec.template;
  return isPlainObject(template) && isPlainObject(template.spec) ? template.spec : undefined;
}

function containers(pod: Record<string, unknown>): Record<string, unknown>[] {
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((key) => {
    const list = pod[key];
    return Array.isArray(list) ? list.filter(isPlainObject) : [];
  });
}

/** Images without a pinned version: no tag and no digest, or the tag `latest`. */
export function floatingImages(object: KubeObject | undefined): string[] {
  const pod = podSpecOf(object);
  if (!pod) return [];
  const images = containers(pod)
    .map((c) => c.image)
    .filter((image): image is string => typeof image === 'string');
  return [...new Set(images.filter(isFloating))];
}

export function isFloating(image: string): boolean {
  if (image.includes('@')) return false;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon < 0 || last.slice(colon + 1) === 'latest';
}

/** What lets a pod reach its node: privileged containers, host namespaces, hostPath volumes. */
export function hostAccess(object: KubeObject | undefined): string[] {
  const pod = podSpecOf(object);
  if (!pod) return [];
  const found: string[] = [];
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[key] === true) found.push(key);
  for (const container of containers(pod)) {
    const context = container.securityContext;
    if (isPlainObject(context) && context.privileged === true)
      found.push(`privileged container ${String(container.name)}`);
  }
  const volumes = Array.isArray(pod.volumes) ? pod.volumes.filter(isPlainObject) : [];
  for (const volume of volumes) {
    const host = volume.hostPath;
    if (isPlainObject(host)) found.push(`hostPath ${String(host.path)}`);
  }
  return found;
}
