/** Everything a run needs to know, parsed once by an adapter (CLI flags, action inputs). */
export interface Settings {
  /** Absolute path of the repository checkout. */
  readonly repo: string;
  /** Repo-relative config file, or undefined for slipway.yaml / the clusters/ convention. */
  readonly configFile: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  /** Requests in flight at once against the API server. */
  readonly concurrency: number;
  /** How long transient API failures are retried before giving up (seconds). */
  readonly retrySeconds: number;
  readonly tools: { readonly kustomize: string; readonly kubectl: string; readonly helm: string };
  /**
   * Which repository this is (`host/path`, from repositoryIdentity), recorded in inventories so
   * another repository's are not pruned; undefined when nothing names it.
   */
  readonly repository?: string | undefined;
  /** age identities (AGE-SECRET-KEY-1…) that decrypt SOPS-encrypted manifests; from a CI secret. */
  readonly sopsAgeKeys?: readonly string[] | undefined;
}

export const DEFAULT_CONCURRENCY = 16;
