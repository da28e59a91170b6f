/**
 * Bearer tokens that are not in a kubeconfig: OIDC ID tokens a CI platform issues to the job
 * (GitHub Actions' ID token service, GitLab's `id_tokens:`), sent straight to the API server,
 * which trusts their issuer through its AuthenticationConfiguration.
 */

export interface BearerToken {
  /** The API server's URL, when no kubeconfig names the cluster. */
  readonly server?: string | undefined;
  /** PEM of the CA that signed the API server's certificate (with `server`). */
  readonly certificateAuthority?: string | undefined;
  /** A token that is valid now: the source fetches a fresh one before the last expires. */
  token(): Promise<string>;
  /** Where the tokens come from, for messages ("GitHub Actions OIDC"). */
  readonly source: string;
}

export interface TokenClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  /** Seconds since the epoch. */
  readonly exp?: number;
}

/**
 * The claims of a JWT, read without verifying it (the API server verifies): enough to say which
 * identity was refused and why, never the token itself. Undefined for anything not a JWT.
 */
export function tokenClaims(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    const { iss, sub, aud, exp } = claims as Record<string, unknown>;
    const strings = (value: unknown): value is string | string[] =>
      typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    return {
      ...(typeof iss === 'string' ? { iss } : {}),
      ...(typeof sub === 'string' ? { sub } : {}),
      ...(strings(aud) ? { aud } : {}),
      ...(typeof exp === 'number' ? { exp } : {}),
    };
  } catch {
    return undefined;
  }
}

/** "subject S, audience A, issuer I, expired 3m ago at …": what a refused token claimed to be. */
export function describeToken(token: string, now = Date.now()): string {
  const claims = tokenClaims(token);
  if (claims === undefined) return 'a token that is not a JWT';
  const parts: string[] = [];
  if (claims.sub !== undefined) parts.push(`subject ${claims.sub}`);
  if (claims.aud !== undefined)
    parts.push(`audience ${Array.isArray(claims.aud) ? claims.aud.join(', ') : claims.aud}`);
  if (claims.iss !== undefined) parts.push(`issuer ${claims.iss}`);
  if (typeof claims.exp === 'number') {
    const at = new Date(claims.exp * 1000).toISOString();
    const seconds = Math.round((claims.exp * 1000 - now) / 1000);
    parts.push(seconds <= 0 ? `EXPIRED ${ago(-seconds)} ago (${at})` : `expires ${at}`);
  }
  return parts.join(', ');
}

function ago(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

/** Seconds until the token's `exp`, or undefined when it has none (never refreshed). */
export function secondsLeft(token: string, now = Date.now()): number | undefined {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === 'number' ? exp - now / 1000 : undefined;
}

/**
 * A token source that asks `fetchToken` again once the cached token has less than a minute left,
 * so a long apply outlives a short-lived ID token. `onToken` sees every new token (to mask it)
 * before anything else can.
 */
export function refreshingToken(
  fetchToken: () => Promise<string>,
  onToken: (token: string) => void,
): () => Promise<string> {
  let current: Promise<string> | undefined;
  const fetchNext = (): Promise<string> =>
    (current = fetchToken().then((token) => {
      onToken(token);
      return token;
    }));
  return async () => {
    const pending = current;
    if (pending === undefined) return fetchNext();
    const token = await pending.catch(() => undefined);
    const left = token === undefined ? 0 : secondsLeft(token);
    if (token !== undefined && (left === undefined || left > 60)) return token;
    // Concurrent requests share one refresh: only the first to see the stale token starts it.
    return current === pending ? fetchNext() : (current ?? fetchNext());
  };
}

/**
 * The API server's CA as PEM, from PEM text or its base64 (kubeconfig's
 * `certificate-authority-data`); undefined when it is neither.
 */
export function certificateAuthorityPem(value: string): string | undefined {
  const trimmed = value.trim();
  const pem = trimmed.includes('-----BEGIN CERTIFICATE-----')
    ? trimmed
    : Buffer.from(trimmed, 'base64').toString('utf8').trim();
  return /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/.test(pem) ? `${pem}\n` : undefined;
}
