import type { EnvironmentConfig } from '../config/config.ts';
import { UserError } from '../errors.ts';
import type { KubeApi } from '../ports.ts';

/**
 * The automated "is this the right kubectl context?": an environment may pin its cluster by API
 * server URL and/or the UID of its kube-system namespace (stable for a cluster's lifetime).
 */
export async function checkClusterPin(env: EnvironmentConfig, kube: KubeApi, server: string): Promise<void> {
  const pin = env.cluster;
  if (!pin) return;
  if (pin.server !== undefined && serverKey(pin.server) !== serverKey(server)) {
    throw new UserError(
      'cluster',
      `environment "${env.name}" is pinned to ${pin.server}, but the kubeconfig points at ${server}; refusing to apply to the wrong cluster`,
      {
        hint: 'use the kubeconfig (or --context) of the right cluster, or fix cluster.server in slipway.yaml',
      },
    );
  }
  if (pin.kubeSystemUid !== undefined) {
    const namespace = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' });
    const uid = namespace?.metadata.uid;
    if (uid !== pin.kubeSystemUid) {
      throw new UserError(
        'cluster',
        `environment "${env.name}" is pinned to the cluster whose kube-system UID is ${pin.kubeSystemUid}, but this cluster's is ${uid ?? 'unknown'}; refusing to apply to the wrong cluster`,
        {
          hint: 'use the kubeconfig (or --context) of the right cluster, or update cluster.kube-system-uid in slipway.yaml',
        },
      );
    }
  }
}

/** One key for every spelling of an API server URL (`https://H:6443/` and `https://h:6443`). */
export function serverKey(server: string): string {
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server;
  }
}
