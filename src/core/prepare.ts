import type { EnvironmentConfig } from './config.ts';
import { OWNER_LABEL } from './constants.ts';
import { APPLYSET_PART_OF_LABEL, applySetId } from './inventory.ts';
import type { Manifest } from './manifest.ts';
import type { KubeObject } from './objects.ts';
import type { Scope } from './kinds.ts';

/**
 * The object Slipway will send for a manifest: the rendered object with a namespace when its kind
 * is namespaced and it names none, and the labels that mark it as this environment's.
 */
export function desiredObject(manifest: Manifest, env: EnvironmentConfig, scope: Scope): KubeObject {
  const object = manifest.object;
  const metadata = { ...object.metadata };
  if (scope === 'namespaced' && !metadata.namespace)
    metadata.namespace = manifest.defaultNamespace ?? env.namespace ?? 'default';
  metadata.labels = {
    ...metadata.labels,
    [OWNER_LABEL]: env.name,
    [APPLYSET_PART_OF_LABEL]: applySetId(env.name),
  };
  return { ...object, metadata };
}
