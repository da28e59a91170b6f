/** The parsed shape of slipway.yaml, and the settings an environment has when it names none. */
import type { HealthCheckRule } from '../health/health-rules.ts';
import type { ImagePolicy } from '../images/policy.ts';
import type { ImageRequestMode } from '../images/requests.ts';
import type { IgnoreRule } from '../noise/rules.ts';
import { DEFAULT_PLAN_MODE, type PlanMode } from '../plan/plan-mode.ts';
import type { RiskId, RiskLevel } from '../risk/rules.ts';

/** A Helm release rendered into an environment; names follow Flux's HelmRelease so they copy across. */
export interface HelmReleaseConfig {
  readonly releaseName: string;
  /** A chart folder in the repository (`./charts/web`), or a chart name in `repository`. */
  readonly chart: string;
  /** Repo-relative chart folder when the chart is local. */
  readonly localChart: string | undefined;
  /** `https://…` chart repository or `oci://…` registry; absent for a local chart. */
  readonly repository: string | undefined;
  readonly version: string | undefined;
  readonly targetNamespace: string | undefined;
  /** Repo-relative values files, applied in order. */
  readonly valuesFiles: readonly string[];
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * Talk plain HTTP to an `oci://` registry (Flux's `insecure`), the chart's own and its `oci://`
   * dependencies'; for registries on a private network.
   */
  readonly insecure: boolean;
}

export interface PruneBudget {
  /** Refuse a prune deleting more objects than this. */
  readonly maxObjects: number;
  /** Refuse a prune deleting more than this share of the inventory (0-100). */
  readonly maxPercent: number;
}

export interface ClusterPin {
  readonly server: string | undefined;
  readonly kubeSystemUid: string | undefined;
}

export interface EnvironmentConfig {
  readonly name: string;
  /** Repo-relative folder of the environment. */
  readonly path: string;
  readonly namespace: string | undefined;
  readonly context: string | undefined;
  readonly prune: boolean;
  readonly pruneBudget: PruneBudget;
  /** Kinds protected from prune (Namespace, CRD, PVC) that this environment allows to delete. */
  readonly allowDelete: readonly string[];
  readonly forceConflicts: boolean;
  readonly cluster: ClusterPin | undefined;
  readonly wait: boolean;
  readonly timeoutSeconds: number;
  /** Health rules (CEL) for kinds kstatus cannot judge, from `health-checks:`. */
  readonly healthChecks: readonly HealthCheckRule[];
  readonly helm: readonly HelmReleaseConfig[];
  /** Risk rule levels from `risks:` (a rule not listed is a warning). */
  readonly risks: Readonly<Partial<Record<RiskId, RiskLevel>>>;
  /** Noise rules from `ignore-differences:`. */
  readonly ignoreDifferences: readonly IgnoreRule[];
  /**
   * `remote: allow`: remote kustomize bases and Helm chart repositories may be read (listed in the
   * plan); refused by default, since they are reads from outside the repository.
   */
  readonly allowRemote: boolean;
  /** `require-reviewed-plan: true`: an apply whose plan is not the reviewed one writes nothing. */
  readonly requireReviewedPlan: boolean;
  /** `plan-mode`: how plans compare with live: server dry-run, read-only estimate, or auto (plan-mode.ts). */
  readonly planMode: PlanMode;
  /**
   * `state-namespace`: where the environment's inventory (ConfigMap) and lock (Lease) live; an
   * identity bound only in this namespace can then run Slipway (see inventory-move.ts for a change).
   */
  readonly stateNamespace: string;
}

export interface SlipwayConfig {
  /** Repo-relative config file, or undefined when environments came from `clusters/`. */
  readonly file: string | undefined;
  readonly environments: ReadonlyMap<string, EnvironmentConfig>;
  /** `image-policies:`: which newer image tags `slipway images` proposes. */
  readonly imagePolicies?: readonly ImagePolicy[];
  /** `image-pull-requests:`: one image pull request per environment (default), or one grouped. */
  readonly imagePullRequests?: ImageRequestMode;
}

export const DEFAULT_CONFIG_FILE = 'slipway.yaml';
/** Where inventories and locks live unless `state-namespace` says otherwise. */
export const DEFAULT_STATE_NAMESPACE = 'slipway-system';
export const PROTECTED_KINDS = ['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim'] as const;

/** An environment with every setting at its default, before its own keys are read. */
export function defaultEnvironment(name: string, envPath: string, stateNamespace: string): EnvironmentConfig {
  return {
    name,
    path: envPath,
    namespace: undefined,
    context: undefined,
    prune: true,
    pruneBudget: { maxObjects: 100, maxPercent: 50 },
    allowDelete: [],
    forceConflicts: true,
    cluster: undefined,
    wait: true,
    timeoutSeconds: 300,
    healthChecks: [],
    helm: [],
    risks: {},
    ignoreDifferences: [],
    allowRemote: false,
    requireReviewedPlan: false,
    planMode: DEFAULT_PLAN_MODE,
    stateNamespace,
  };
}
