/**
 * `auth: gitlab-oidc` (SLIPWAY_AUTH=gitlab-oidc): the job's ID token from an `id_tokens:` variable
 * is the bearer token; the cluster comes from SLIPWAY_SERVER and SLIPWAY_CERTIFICATE_AUTHORITY or a
 * KUBECONFIG without credentials. No cluster credential is stored in GitLab.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import type { Credentials } from '../kube/connections.ts';
import { certificateAuthorityPem } from '../kube/token.ts';

export const DEFAULT_ID_TOKEN_VARIABLE = 'SLIPWAY_ID_TOKEN';

/** Whether the job asked for OIDC; anything but `kubeconfig`, `gitlab-oidc` or empty is a mistake. */
export function wantsGitLabOidc(env: Readonly<Record<string, string | undefined>>): boolean {
  const auth = env.SLIPWAY_AUTH?.trim() ?? '';
  if (auth === '' || auth === 'kubeconfig') return false;
  if (auth === 'gitlab-oidc') return true;
  throw new UserError('config', `SLIPWAY_AUTH must be kubeconfig or gitlab-oidc, got "${auth}"`);
}

/** Credentials from the `id_tokens:` variable; `kubeconfig` (credential-free) may name the cluster. */
export function gitlabOidcCredentials(
  env: Readonly<Record<string, string | undefined>>,
  kubeconfig: string | undefined,
  mask: (secret: string) => void,
): Credentials {
  const variable = env.SLIPWAY_ID_TOKEN_VARIABLE?.trim() || DEFAULT_ID_TOKEN_VARIABLE;
  const token = env[variable]?.trim() ?? '';
  if (token === '')
    return {
      kind: 'missing',
      error: new UserError(
        'config',
        `auth gitlab-oidc: the ID token variable ${variable} is empty or not set`,
        {
          hint: `declare it in the job: \`id_tokens: { ${variable}: { aud: <the audience your cluster trusts> } }\` (extend the component's hidden job .slipway-<environment>)`,
        },
      ),
    };
  mask(token);
  const server = env.SLIPWAY_SERVER?.trim() || undefined;
  if (server !== undefined && kubeconfig !== undefined)
    throw new UserError('config', 'SLIPWAY_SERVER and KUBECONFIG both name the cluster: choose one');
  if (server === undefined && kubeconfig === undefined)
    throw new UserError(
      'config',
      'auth gitlab-oidc needs the cluster: SLIPWAY_SERVER (with SLIPWAY_CERTIFICATE_AUTHORITY), or a KUBECONFIG without credentials',
    );
  if (server !== undefined && !server.startsWith('https://'))
    throw new UserError('config', `SLIPWAY_SERVER must be an https:// URL, got "${server}"`);
  return {
    kind: 'oidc',
    file: kubeconfig,
    bearer: {
      server,
      certificateAuthority: certificateAuthority(env.SLIPWAY_CERTIFICATE_AUTHORITY),
      source: 'GitLab OIDC',
      // GitLab issues it once per job: nothing to refresh.
      token: () => Promise.resolve(token),
    },
  };
}

/** PEM, its base64, or (a file-type variable) the path of a file holding either. */
function certificateAuthority(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = !value.includes('\n') && existsSync(value.trim()) ? readFileSync(value.trim(), 'utf8') : value;
  const pem = certificateAuthorityPem(text);
  if (pem === undefined)
    throw new UserError(
      'config',
      'SLIPWAY_CERTIFICATE_AUTHORITY must be a PEM certificate, its base64, or a file-type variable holding one',
    );
  return pem;
}
