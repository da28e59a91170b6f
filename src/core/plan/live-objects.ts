import { mapLimit } from '../concurrency.ts';
import { UserError } from '../errors.ts';
import { objectKey, refOf, type KubeObject, type ResourceInfo } from '../objects.ts';
import type { KubeApi } from '../ports.ts';

/** Live objects by key: one LIST per kind and namespace when several are wanted, else one GET. */
export async function fetchLive(
  kube: KubeApi,
  objects: readonly KubeObject[],
  kinds: ReadonlyMap<string, ResourceInfo | undefined>,
  concurrency: number,
): Promise<Map<string, KubeObject>> {
  const groups = new Map<
    string,
    { resource: ResourceInfo; namespace: string | undefined; objects: KubeObject[] }
  >();
  for (const object of objects) {
    const resource = kinds.get(`${object.apiVersion}/${object.kind}`);
    if (!resource) continue;
    const namespace = resource.namespaced ? object.metadata.namespace : undefined;
    const key = `${resource.group}/${resource.plural}/${namespace ?? ''}`;
    const group = groups.get(key) ?? { resource, namespace, objects: [] };
    group.objects.push(object);
    groups.set(key, group);
  }
  const live = new Map<string, KubeObject>();
  await mapLimit([...groups.values()], concurrency, async (group) => {
    const one = async (object: KubeObject): Promise<KubeObject[]> => {
      const found = await kube.get(refOf(object));
      return found ? [found] : [];
    };
    let found: KubeObject[];
    if (group.objects.length === 1) {
      found = await one(group.objects[0] as KubeObject);
    } else {
      try {
        found = await kube.list(group.resource, group.namespace ? { namespace: group.namespace } : {});
      } catch (error) {
        // RBAC may allow get but not list: read the objects one by one instead. Anything else is
        // a real failure; treating it as "nothing live" would turn every update into a create.
        if (!(error instanceof UserError && error.kind === 'permission')) throw error;
        found = (await mapLimit(group.objects, concurrency, one)).flat();
      }
    }
    for (const object of found) live.set(objectKey(refOf(object)), object);
  });
  return live;
}
