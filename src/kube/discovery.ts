import type { ResourceInfo } from '../core/objects.ts';
import { isPlainObject } from '../core/objects.ts';

/**
 * Parses aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) into
 * `apiVersion/Kind` → resource. Subresources are skipped: `deployments/scale` is not a kind's home.
 */
export function parseAggregatedDiscovery(body: unknown, into: Map<string, ResourceInfo>): void {
  if (!isPlainObject(body) || !Array.isArray(body.items)) return;
  for (const group of body.items) {
    if (!isPlainObject(group) || !isPlainObject(group.metadata) || !Array.isArray(group.versions)) continue;
    const groupName = typeof group.metadata.name === 'string' ? group.metadata.name : '';
    for (const version of group.versions) {
      if (!isPlainObject(version) || typeof version.version !== 'string' || !Array.isArray(version.resources))
        continue;
      for (const resource of version.resources) {
        if (!isPlainObject(resource) || typeof resource.resource !== 'string') continue;
        const kind =
          isPlainObject(resource.responseKind) && typeof resource.responseKind.kind === 'string'
            ? resource.responseKind.kind
            : undefined;
        if (!kind || resource.resource.includes('/')) continue;
        const apiVersion = groupName ? `${groupName}/${version.version}` : version.version;
        const key = `${apiVersion}/${kind}`;
        if (!into.has(key)) {
          into.set(key, {
            group: groupName,
            version: version.version,
            kind,
            plural: resource.resource,
            namespaced: resource.scope === 'Namespaced',
          });
        }
      }
    }
  }
}

/** Parses a legacy APIResourceList (one group/version) into the same map. */
export function parseResourceList(apiVersion: string, body: unknown, into: Map<string, ResourceInfo>): void {
  if (!isPlainObject(body) || !Array.isArray(body.resources)) return;
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  for (const resource of body.resources) {
    if (
      !isPlainObject(resource) ||
      typeof resource.name !== 'string' ||
      typeof resource.kind !== 'string' ||
      resource.name.includes('/')
    )
      continue;
    const key = `${apiVersion}/${resource.kind}`;
    if (!into.has(key))
      into.set(key, {
        group,
        version,
        kind: resource.kind,
        plural: resource.name,
        namespaced: resource.namespaced === true,
      });
  }
}

export function resourcePath(resource: ResourceInfo, namespace?: string, name?: string): string {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${resource.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
