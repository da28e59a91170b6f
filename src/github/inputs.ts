import { UserError } from '../core/errors.ts';
import { parseDuration } from '../core/duration.ts';
import { PLAN_MODES, isPlanMode, type PlanMode } from '../core/plan/plan-mode.ts';
import { parseClusterAuth, type ClusterAuth } from './cluster-auth.ts';

export type ActionCommand = 'auto' | 'detect' | 'plan' | 'apply' | 'drift' | 'validate' | 'images';
const COMMANDS: readonly ActionCommand[] = ['auto', 'detect', 'plan', 'apply', 'drift', 'validate', 'images'];

/** The action's inputs, read once; every later step takes this object, never process.env. */
export interface ActionInputs {
  readonly command: ActionCommand;
  /** One environment, `all`, or undefined (detect, or every environment for drift). */
  readonly environment: string | undefined;
  readonly config: string | undefined;
  /** Kubeconfig file contents (from a secret); undefined needs `inCluster` (no silent fallback). */
  readonly kubeconfig: string | undefined;
  /** Use the runner pod's service account on purpose (never a silent fallback). */
  readonly inCluster: boolean;
  /** The kubeconfig's credentials, or the job's OIDC ID token (`auth: github-oidc`). */
  readonly auth: ClusterAuth;
  readonly context: string | undefined;
  readonly token: string;
  readonly deployBranch: string | undefined;
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly prune: boolean;
  readonly force: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly comment: boolean;
  readonly heal: boolean;
  readonly workingDirectory: string;
  readonly commentAuthor: string;
  readonly slackWebhook: string | undefined;
  readonly webhookUrl: string | undefined;
  /** age private key(s) for SOPS-encrypted manifests (from a secret). */
  readonly sopsAgeKey: string | undefined;
  /** Stop an apply whose plan is not the one reviewed on its pull request. */
  readonly requireReviewedPlan: boolean;
  /** A docker config.json's contents (from a secret): registry credentials for `command: images`. */
  readonly registryConfig: string | undefined;
  /** Overrides every environment's `plan-mode` for plan/drift (undefined: slipway.yaml decides). */
  readonly planMode: PlanMode | undefined;
}

/**
 * Pure: turns raw input strings (empty means unset, as GitHub passes them) into typed inputs,
 * reporting every problem at once.
 */
export function parseInputs(get: (name: string) => string): ActionInputs {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = get(name).trim();
    return value === '' ? undefined : value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value = text(name);
    if (value === undefined) return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    problems.push(`input "${name}" must be true or false, got "${value}"`);
    return fallback;
  };
  const commandText = text('command') ?? 'auto';
  const command = COMMANDS.find((c) => c === commandText);
  if (!command) problems.push(`input "command" must be one of ${COMMANDS.join(', ')}, got "${commandText}"`);
  const concurrencyText = text('concurrency') ?? '16';
  const concurrency = Number(concurrencyText);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    problems.push(`input "concurrency" must be a whole number from 1 to 256, got "${concurrencyText}"`);
  let timeoutSeconds: number | undefined;
  const timeout = text('timeout');
  if (timeout !== undefined) {
    try {
      timeoutSeconds = parseDuration(timeout);
    } catch {
      problems.push(`input "timeout" must be a duration like 90s or 5m, got "${timeout}"`);
    }
  }
  const inCluster = flag('in-cluster', false);
  const planMode = text('plan-mode');
  if (planMode !== undefined && !isPlanMode(planMode))
    problems.push(`input "plan-mode" must be one of ${PLAN_MODES.join(', ')}, got "${planMode}"`);
  const inputs: ActionInputs = {
    command: command ?? 'auto',
    environment: text('environment'),
    config: text('config'),
    kubeconfig: text('kubeconfig'),
    inCluster,
    auth: parseClusterAuth(text, { kubeconfig: text('kubeconfig') !== undefined, inCluster }, problems),
    context: text('context'),
    token: text('github-token') ?? '',
    deployBranch: text('deploy-branch'),
    concurrency,
    dryRun: flag('dry-run', false),
    prune: flag('prune', true),
    force: flag('force', false),
    timeoutSeconds,
    comment: flag('comment', true),
    heal: flag('heal', false),
    workingDirectory: text('working-directory') ?? '.',
    commentAuthor: text('comment-author') ?? 'github-actions[bot]',
    slackWebhook: text('slack-webhook'),
    webhookUrl: text('webhook-url'),
    sopsAgeKey: text('sops-age-key'),
    requireReviewedPlan: flag('require-reviewed-plan', false),
    registryConfig: text('registry-config'),
    planMode: planMode !== undefined && isPlanMode(planMode) ? planMode : undefined,
  };
  if (inputs.kubeconfig !== undefined && inputs.inCluster)
    problems.push('inputs "kubeconfig" and "in-cluster: true" exclude each other: choose one');
  if (problems.length > 0) {
    throw new UserError('config', `invalid action inputs: ${problems.join('; ')}`, {
      hint: 'see the inputs in action.yml or the README',
    });
  }
  return inputs;
}
