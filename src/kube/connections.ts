/**
 * One connection per environment: each environment's kubeconfig context (from slipway.yaml, or
 * the entry's explicit override) picks its cluster and user; environments sharing a kubeconfig
 * and context share a connection. Each connection says who the API server thinks it is.
 */
import type { EnvironmentConfig } from '../core/config/config.ts';
import { UserError } from '../core/errors.ts';
import type { ClusterHandle, ClusterPool } from '../core/job/types.ts';
import type { Connected } from './connect.ts';
import { KubeApiError } from './errors.ts';
import { describeToken, type BearerToken } from './token.ts';

/** Where credentials come from; `missing` refuses to connect (CI without an explicit choice). */
export type Credentials =
  | { readonly kind: 'kubeconfig'; readonly file: string }
  | { readonly kind: 'in-cluster' }
  /** CI's OIDC ID tokens; the cluster from `bearer.server` or from a credential-free kubeconfig. */
  | { readonly kind: 'oidc'; readonly bearer: BearerToken; readonly file: string | undefined }
  /** $KUBECONFIG, then ~/.kube/config: the laptop's current context. */
  | { readonly kind: 'default' }
  | { readonly kind: 'missing'; readonly error: UserError };

export interface PoolOptions {
  readonly credentials: Credentials;
  /** Overrides every environment's `context` (the `--context` flag or `context` input). */
  readonly context: string | undefined;
  readonly concurrency: number;
  readonly retryDeadlineMs: number;
  /** Told every secret a kubeconfig holds (tokens, keys), to mask it. */
  readonly onSecret: (secret: string) => void;
}

export class ConnectionPool implements ClusterPool {
  readonly #options: PoolOptions;
  readonly #open = new Map<string, Promise<{ connected: Connected; handle: ClusterHandle }>>();

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  async connect(env: EnvironmentConfig): Promise<ClusterHandle> {
    const { credentials } = this.#options;
    if (credentials.kind === 'missing') throw credentials.error;
    const context = this.#options.context ?? env.context;
    const source =
      credentials.kind === 'kubeconfig'
        ? credentials.file
        : `${credentials.kind}:${credentials.kind === 'oidc' ? (credentials.file ?? '') : ''}`;
    const key = `${source}\u0000${context ?? ''}`;
    let entry = this.#open.get(key);
    if (!entry) {
      entry = this.#open1(context);
      this.#open.set(key, entry);
      // A failed connection is not cached: the next environment gets its own error.
      entry.catch(() => this.#open.delete(key));
    }
    return (await entry).handle;
  }

  async #open1(context: string | undefined): Promise<{ connected: Connected; handle: ClusterHandle }> {
    const { credentials } = this.#options;
    // Loaded only now: the Kubernetes client is most of the bundle and slows every other command.
    const { connect } = await import('./connect.ts');
    const connected = await connect({
      kubeconfig:
        credentials.kind === 'kubeconfig' || credentials.kind === 'oidc' ? credentials.file : undefined,
      inCluster: credentials.kind === 'in-cluster',
      bearer: credentials.kind === 'oidc' ? credentials.bearer : undefined,
      context,
      concurrency: this.#options.concurrency,
      retryDeadlineMs: this.#options.retryDeadlineMs,
    });
    for (const secret of connected.secrets) this.#options.onSecret(secret);
    const identity = await connected.client.whoami().then(
      (name) => name || 'an unnamed user',
      async (error: unknown) => {
        // Every later request would be refused the same way: stop here, saying whose credentials.
        if (error instanceof KubeApiError && error.status === 401) {
          connected.close();
          throw await refused(connected.server, credentials);
        }
        return `an unknown user (SelfSubjectReview failed: ${error instanceof Error ? error.message : String(error)})`;
      },
    );
    const handle: ClusterHandle = {
      kube: connected.client,
      server: connected.server,
      context: credentials.kind === 'in-cluster' ? 'in-cluster' : connected.context,
      identity,
    };
    return { connected, handle };
  }

  close(): void {
    for (const entry of this.#open.values())
      entry.then(
        ({ connected }) => connected.close(),
        () => undefined,
      );
    this.#open.clear();
  }
}

/** The API server answered 401: name the credentials (never the token) and what to check. */
async function refused(server: string, credentials: Credentials): Promise<UserError> {
  if (credentials.kind !== 'oidc')
    return new UserError(
      'permission',
      `the API server ${server} rejected the credentials (401 Unauthorized)`,
      {
        hint: 'check the kubeconfig: an expired token or certificate, or a user of another cluster',
      },
    );
  const token = await credentials.bearer.token().catch(() => '');
  return new UserError(
    'permission',
    `the API server ${server} rejected the ${credentials.bearer.source} token (${describeToken(token)}): 401 Unauthorized`,
    {
      hint: "the cluster's AuthenticationConfiguration must trust this issuer (jwt[].issuer.url), list this audience in issuer.audiences (the `audience` input), and accept the token's claims (claimValidationRules); an expired token means the job took longer than the token lives",
    },
  );
}
