/**
 * How the action authenticates to the cluster: the `kubeconfig` input (or the runner pod's service
 * account), or `auth: github-oidc` — the job's own ID token, no stored credential at all.
 */
import { UserError } from '../core/errors.ts';
import type { Credentials } from '../kube/connections.ts';
import { certificateAuthorityPem } from '../kube/token.ts';
import { githubOidcToken, idTokenService } from './id-token.ts';

export type ClusterAuth =
  | { readonly kind: 'kubeconfig' }
  | {
      readonly kind: 'github-oidc';
      /** The audience the cluster's AuthenticationConfiguration accepts. */
      readonly audience: string;
      /** With `certificateAuthority`, names the cluster when no kubeconfig does. */
      readonly server: string | undefined;
      /** PEM. */
      readonly certificateAuthority: string | undefined;
    };

const AUTH_KINDS = ['kubeconfig', 'github-oidc'] as const;

/** Pure: the `auth`, `audience`, `server` and `certificate-authority` inputs; problems are collected. */
export function parseClusterAuth(
  text: (name: string) => string | undefined,
  others: { readonly kubeconfig: boolean; readonly inCluster: boolean },
  problems: string[],
): ClusterAuth {
  const kind = text('auth') ?? 'kubeconfig';
  const audience = text('audience');
  const server = text('server');
  const caText = text('certificate-authority');
  if (kind === 'kubeconfig') {
    for (const [name, value] of [
      ['audience', audience],
      ['server', server],
      ['certificate-authority', caText],
    ] as const)
      if (value !== undefined) problems.push(`input "${name}" is used only with "auth: github-oidc"`);
    return { kind: 'kubeconfig' };
  }
  if (kind !== 'github-oidc') {
    problems.push(`input "auth" must be one of ${AUTH_KINDS.join(', ')}, got "${kind}"`);
    return { kind: 'kubeconfig' };
  }
  if (audience === undefined)
    problems.push(
      'input "audience" is required with "auth: github-oidc" (an audience the cluster\'s AuthenticationConfiguration lists)',
    );
  if (others.inCluster) problems.push('inputs "auth: github-oidc" and "in-cluster: true" exclude each other');
  if (server !== undefined && others.kubeconfig)
    problems.push('inputs "server" and "kubeconfig" both name the cluster: choose one');
  if (server === undefined && !others.kubeconfig)
    problems.push(
      '"auth: github-oidc" needs the cluster: the "server" input (with "certificate-authority"), or a "kubeconfig" without credentials',
    );
  if (server !== undefined && !/^https:\/\/[^/\s]+/.test(server))
    problems.push(`input "server" must be an https:// URL, got "${server}"`);
  if (caText !== undefined && server === undefined)
    problems.push('input "certificate-authority" goes with "server" (a kubeconfig carries its own CA)');
  const certificateAuthority = caText === undefined ? undefined : certificateAuthorityPem(caText);
  if (caText !== undefined && certificateAuthority === undefined)
    problems.push('input "certificate-authority" must be a PEM certificate (or its base64)');
  return { kind: 'github-oidc', audience: audience ?? '', server, certificateAuthority };
}

/**
 * `auth: github-oidc` credentials: ID tokens from the runner, each masked before use. A job
 * without `id-token: write` gets an error when it first needs the cluster (detect needs none).
 */
export function githubOidcCredentials(
  auth: Extract<ClusterAuth, { kind: 'github-oidc' }>,
  kubeconfigFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  mask: (secret: string) => void,
): Credentials {
  let service;
  try {
    service = idTokenService(env);
  } catch (error) {
    if (error instanceof UserError) return { kind: 'missing', error };
    throw error;
  }
  mask(service.requestToken);
  return { kind: 'oidc', bearer: githubOidcToken(service, auth.audience, auth, mask), file: kubeconfigFile };
}
