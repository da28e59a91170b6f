import type { KubeApi } from '../ports.ts';

/**
 * What `.Capabilities` tells a chart. Flux and Argo CD fill it from the cluster they deploy to;
 * `helm template` alone falls back to its own built-in version and API list.
 */
export interface ClusterCapabilities {
  /** The server's gitVersion from /version, e.g. `v1.37.2`. */
  readonly kubeVersion: string;
  /** Served `group/version` and `group/version/Kind` entries, as helm's discovery builds them. */
  readonly apiVersions: readonly string[];
}

/** Reads the capabilities of a connected cluster (two cached discovery requests and /version). */
export async function clusterCapabilities(kube: KubeApi): Promise<ClusterCapabilities> {
  const [kubeVersion, apiVersions] = await Promise.all([kube.serverVersion(), kube.servedApiVersions()]);
  return { kubeVersion, apiVersions };
}

/** Told to the user whenever a chart renders without a cluster. */
export const DEFAULT_CAPABILITIES_NOTE =
  "no cluster connected: helm charts render with helm's default Capabilities (its built-in Kubernetes version and API list), which can differ from what the cluster serves";
