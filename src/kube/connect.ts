import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type https from 'node:https';
import { UserError } from '../core/errors.ts';
import { KubeClient } from './client.ts';
import { HttpPool } from './http.ts';
import type { BearerToken } from './token.ts';

export interface ConnectOptions {
  /** Path of a kubeconfig file; otherwise $KUBECONFIG, then ~/.kube/config (client-node's rules). */
  readonly kubeconfig?: string | undefined;
  /** Use the pod's service account (client-node's loadFromCluster) instead of any kubeconfig. */
  readonly inCluster?: boolean;
  readonly context?: string | undefined;
  /**
   * Authenticate with these tokens (CI's OIDC ID tokens) instead of the kubeconfig's user; the
   * cluster comes from `bearer.server` or, without one, from the kubeconfig, which must then hold
   * no credentials of its own.
   */
  readonly bearer?: BearerToken | undefined;
  readonly concurrency: number;
  /** How long transient failures are retried before a request fails (ms). */
  readonly retryDeadlineMs: number;
}

export interface Connected {
  readonly client: KubeClient;
  readonly server: string;
  readonly context: string;
  /** Secret material of the kubeconfig (tokens, keys), to be masked by the caller. */
  readonly secrets: string[];
  close(): void;
}

/**
 * client-node owns what it is good at — kubeconfig files, contexts, exec and OIDC auth, TLS
 * material — and hands over TLS options and auth headers; requests themselves go through our pool.
 */
export async function connect(options: ConnectOptions): Promise<Connected> {
  const config = new KubeConfig();
  // client-node would fall back to http://localhost:8080 and fail with a confusing TLS message.
  const home = path.join(os.homedir(), '.kube', 'config');
  if (options.bearer?.server) loadBearerCluster(config, options.bearer);
  else if (
    !options.kubeconfig &&
    !options.inCluster &&
    !process.env.KUBECONFIG &&
    !process.env.KUBERNETES_SERVICE_HOST &&
    !existsSync(home)
  )
    throw new UserError(
      'cluster',
      `no kubeconfig: --kubeconfig is not given, KUBECONFIG is not set and ${home} does not exist`,
      {
        hint: 'pass --kubeconfig FILE or set KUBECONFIG (in GitLab CI: a file-type CI/CD variable KUBECONFIG per environment); `slipway render` and `slipway validate` need no cluster',
      },
    );
  if (options.inCluster && !process.env.KUBERNETES_SERVICE_HOST)
    throw new UserError(
      'cluster',
      'in-cluster credentials were asked for, but KUBERNETES_SERVICE_HOST is not set: this runner is not a pod in a Kubernetes cluster',
      { hint: 'run the job on a runner inside the cluster, or pass a kubeconfig instead' },
    );
  try {
    if (options.bearer?.server) {
      // loaded above
    } else if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else if (options.inCluster) config.loadFromCluster();
    else config.loadFromDefault();
  } catch (error) {
    throw new UserError(
      'cluster',
      `cannot load ${options.inCluster ? 'the in-cluster service account' : `the kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}`}: ${describeLoadError(error)}`,
      {
        hint: 'pass --kubeconfig FILE, set KUBECONFIG, or (in CI) provide the kubeconfig input from a secret',
      },
    );
  }
  if (options.context) {
    if (!config.getContexts().some((context) => context.name === options.context)) {
      throw new UserError(
        'cluster',
        `the kubeconfig has no context "${options.context}" (it has: ${
          config
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw new UserError(
      'cluster',
      'no Kubernetes cluster is configured (the kubeconfig has no current context)',
      {
        hint: 'pass --kubeconfig FILE or --context NAME; `slipway render` and `slipway validate` work without a cluster',
      },
    );
  }
  if (options.bearer) refuseKubeconfigCredentials(config, options.bearer);
  const base: https.RequestOptions = {};
  try {
    await config.applyToHTTPSOptions(base);
  } catch (error) {
    // client-node's own refusals (an http:// server without skip-TLS, a failing exec plugin).
    throw new UserError(
      'cluster',
      `cannot use the kubeconfig's cluster ${cluster.server}: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: 'check the cluster and user entries of the kubeconfig (server URL, certificates, exec plugin)',
      },
    );
  }
  const agentOptions: https.AgentOptions = {};
  if (base.ca) agentOptions.ca = base.ca;
  if (base.cert) agentOptions.cert = base.cert;
  if (base.key) agentOptions.key = base.key;
  if (base.rejectUnauthorized !== undefined) agentOptions.rejectUnauthorized = base.rejectUnauthorized;
  if (cluster.tlsServerName) agentOptions.servername = cluster.tlsServerName;
  let cached: { headers: Record<string, string>; at: number } | undefined;
  const bearer = options.bearer;
  const headers = async (): Promise<Record<string, string>> => {
    // The source caches its token and fetches the next one before the last expires.
    if (bearer) return { Authorization: `Bearer ${await bearer.token()}` };
    // Re-ask client-node now and then: exec-plugin and OIDC tokens expire during long applies.
    if (!cached || Date.now() - cached.at > 60_000) {
      const fresh: https.RequestOptions = {};
      await config.applyToHTTPSOptions(fresh);
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(fresh.headers ?? {}))
        if (typeof value === 'string') out[key] = value;
      if (fresh.auth) out.Authorization = `Basic ${Buffer.from(fresh.auth).toString('base64')}`;
      cached = { headers: out, at: Date.now() };
    }
    return cached.headers;
  };
  const user = config.getCurrentUser();
  const secrets = [
    user?.token,
    user?.password,
    user?.keyData,
    (await headers()).Authorization?.replace(/^(Bearer|Basic) /, ''),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const pool = new HttpPool({ server: cluster.server, agentOptions, headers }, options.concurrency, {
    deadlineMs: options.retryDeadlineMs,
    baseDelayMs: 200,
    maxDelayMs: 5_000,
  });
  return {
    client: new KubeClient(pool),
    server: cluster.server,
    context: config.getCurrentContext(),
    secrets,
    close: () => pool.close(),
  };
}

/** The cluster entry for a bearer token given with its server URL and CA (no kubeconfig at all). */
function loadBearerCluster(config: KubeConfig, bearer: BearerToken): void {
  const name = 'slipway';
  config.loadFromOptions({
    clusters: [
      {
        name,
        server: bearer.server,
        skipTLSVerify: false,
        ...(bearer.certificateAuthority
          ? { caData: Buffer.from(bearer.certificateAuthority).toString('base64') }
          : {}),
      },
    ],
    users: [{ name }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
}

/**
 * With an OIDC token, a kubeconfig names the cluster only: credentials of its own would be sent
 * too (a client certificate) or silently lose to the token, so they are refused.
 */
function refuseKubeconfigCredentials(config: KubeConfig, bearer: BearerToken): void {
  const user = config.getCurrentUser();
  if (!user) return;
  const held = [
    user.token || user.authProvider ? 'a token' : '',
    user.certData || user.certFile || user.keyData || user.keyFile ? 'a client certificate' : '',
    user.exec ? 'an exec plugin' : '',
    user.username || user.password ? 'a password' : '',
  ].filter(Boolean);
  if (held.length > 0)
    throw new UserError(
      'config',
      `the kubeconfig's user "${user.name}" holds ${held.join(' and ')}, but the credentials are ${bearer.source} tokens`,
      {
        hint: 'with OIDC, give a kubeconfig that names only the cluster (server and certificate-authority-data, a user without credentials) or the server and certificate-authority inputs instead',
      },
    );
}

/**
 * Why a kubeconfig could not be loaded, without quoting it: a YAML error's message carries a
 * snippet of the file, and a kubeconfig holds tokens and keys.
 */
export function describeLoadError(error: unknown): string {
  if (error instanceof Error && error.name === 'YAMLException') {
    const { reason, mark } = error as Error & { reason?: string; mark?: { line: number; column: number } };
    const where = mark ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
    return `not valid YAML${where}: ${reason ?? 'cannot be parsed'}`;
  }
  return error instanceof Error ? error.message : String(error);
}
