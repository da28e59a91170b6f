import { UserError } from '../errors.ts';
import { healthOf } from '../health/health.ts';
import { describeRef, type KubeObject, type ObjectRef } from '../objects.ts';
import type { KubeApi, Logger } from '../ports.ts';

/** After CRDs: wait until each is Established, so custom resources can be applied (Flux: 60 s). */
export async function waitForCrds(kube: KubeApi, refs: readonly ObjectRef[], logger: Logger): Promise<void> {
  const crds = refs.filter((r) => r.kind === 'CustomResourceDefinition');
  if (crds.length === 0) return;
  const deadline = Date.now() + 60_000;
  const served: [string, string][] = [];
  for (const ref of crds) {
    for (;;) {
      const live = await kube.get(ref);
      if (live && healthOf(live).status === 'Current') {
        served.push(...servedKinds(live));
        break;
      }
      if (Date.now() > deadline)
        throw new UserError('apply', `${describeRef(ref)} did not become Established within 60 s`, {
          hint: 'check the CRD with kubectl describe',
        });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  // Established comes before the API server's discovery lists the new kinds (seconds under load):
  // wait for discovery too, or the next stage would find its custom resources' kinds unknown.
  for (;;) {
    kube.invalidateDiscovery();
    const missing = [];
    for (const [apiVersion, kind] of served)
      if (!(await kube.resolve(apiVersion, kind))) missing.push(`${kind}.${apiVersion}`);
    if (missing.length === 0) break;
    if (Date.now() > deadline)
      throw new UserError(
        'apply',
        `discovery does not list ${missing.join(', ')} 60 s after its CRD was applied`,
        {
          hint: 'check the API server (kubectl api-resources)',
        },
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  logger.info(`${crds.length} CustomResourceDefinitions established`);
}

/** `[apiVersion, kind]` for each version a live CRD serves. */
function servedKinds(crd: KubeObject): [string, string][] {
  const spec = crd.spec as
    | { group?: string; names?: { kind?: string }; versions?: { name?: string; served?: boolean }[] }
    | undefined;
  const { group, names, versions = [] } = spec ?? {};
  if (!group || !names?.kind) return [];
  const kind = names.kind;
  return versions.filter((v) => v.served && v.name).map((v) => [`${group}/${v.name}`, kind]);
}
