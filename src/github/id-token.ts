/**
 * `auth: github-oidc`: the job's ID token from GitHub Actions' token service, sent to the API server
 * as the bearer token. No kubeconfig secret: the cluster trusts GitHub's issuer and maps the token's
 * `sub` (`repo:OWNER/REPO:environment:NAME`) to a user that RBAC binds.
 */
import { UserError } from '../core/errors.ts';
import { refreshingToken, type BearerToken } from '../kube/token.ts';

export interface IdTokenService {
  /** ACTIONS_ID_TOKEN_REQUEST_URL (already has a query string). */
  readonly url: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN: the runner's bearer for the request, itself a secret. */
  readonly requestToken: string;
}

/** The runner's token service from its variables; a job without `id-token: write` has none. */
export function idTokenService(env: Readonly<Record<string, string | undefined>>): IdTokenService {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !requestToken)
    throw new UserError(
      'config',
      '`auth: github-oidc` needs an ID token, but the runner offers none (ACTIONS_ID_TOKEN_REQUEST_URL is not set)',
      {
        hint: 'give the job `permissions: id-token: write` (with `contents: read` and whatever else it needs); pull requests from forks never get ID tokens',
      },
    );
  return { url, requestToken };
}

/** GET `$URL&audience=AUD` with the request token → `{"value": "<jwt>"}`. */
export async function requestIdToken(
  service: IdTokenService,
  audience: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const url = new URL(service.url);
  url.searchParams.set('audience', audience);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { authorization: `Bearer ${service.requestToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new UserError(
      'cluster',
      `cannot reach GitHub's ID token service: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const body = await response.text();
  if (!response.ok)
    throw new UserError(
      'permission',
      `GitHub's ID token service refused the request for audience "${audience}": HTTP ${response.status}`,
      { hint: 'the job needs `permissions: id-token: write`' },
    );
  let value: unknown;
  try {
    value = (JSON.parse(body) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value.split('.').length !== 3)
    throw new UserError('cluster', "GitHub's ID token service answered without a token (no `value` JWT)");
  return value;
}

/**
 * Bearer tokens for the API server: an ID token for `audience`, fetched again before it expires;
 * each is handed to `mask` before it is used.
 */
export function githubOidcToken(
  service: IdTokenService,
  audience: string,
  cluster: { server: string | undefined; certificateAuthority: string | undefined },
  mask: (secret: string) => void,
  fetchImpl: typeof fetch = fetch,
): BearerToken {
  return {
    server: cluster.server,
    certificateAuthority: cluster.certificateAuthority,
    source: 'GitHub Actions OIDC',
    token: refreshingToken(() => requestIdToken(service, audience, fetchImpl), mask),
  };
}
