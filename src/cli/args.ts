import { UserError } from '../core/errors.ts';
import { parseDuration } from '../core/duration.ts';
import { parsePlanMode, type PlanMode } from '../core/plan/plan-mode.ts';
import type { RbacCommand } from './rbac.ts';

export type Format = 'text' | 'markdown' | 'json';

export interface CommonOptions {
  readonly repo: string;
  readonly config: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly concurrency: number | undefined;
}

export type Command =
  | { readonly name: 'help'; readonly topic: string | undefined }
  | { readonly name: 'version' }
  | { readonly name: 'detect'; readonly common: CommonOptions; readonly base: string; readonly head: string }
  | { readonly name: 'render'; readonly common: CommonOptions; readonly env: string }
  | {
      readonly name: 'validate';
      readonly common: CommonOptions;
      readonly env: string | undefined;
      readonly base: string | undefined;
    }
  | {
      readonly name: 'diff';
      readonly common: CommonOptions;
      readonly env: string | undefined;
      readonly format: Format;
      readonly exitCode: boolean;
      /** Overrides every environment's `plan-mode`. */
      readonly planMode?: PlanMode;
    }
  | {
      readonly name: 'apply';
      readonly common: CommonOptions;
      readonly env: string;
      readonly dryRun: boolean;
      readonly prune: boolean;
      readonly timeoutSeconds: number | undefined;
      readonly commit: string | undefined;
      readonly force: boolean;
    }
  | { readonly name: 'init'; readonly common: CommonOptions; readonly force: boolean }
  | {
      readonly name: 'images';
      readonly common: CommonOptions;
      readonly env: string | undefined;
      readonly write: boolean;
      readonly format: 'text' | 'json';
    }
  | ({ readonly name: 'rbac'; readonly common: CommonOptions } & RbacCommand)
  | {
      readonly name: 'ci';
      readonly common: CommonOptions;
      readonly env: string | undefined;
      readonly mode: CiMode | undefined;
      readonly dryRun: boolean;
    };

export type CiMode = 'plan' | 'apply' | 'resync' | 'drift' | 'images';

export const USAGE = `usage: slipway <command> [options]

commands:
  detect   --base REV --head REV     which environments a change touches (JSON)
  render   --env NAME                rendered objects as multi-document YAML
  validate [--env NAME] [--base REV] problems as FILE:LINE: message; exit 1 on any error
  diff     [--env NAME] [--format text|markdown|json] [--exit-code] [--plan-mode server|read-only|auto]
                                     what an apply would change, from a server-side dry-run
                                     (read-only: estimated from live objects, get/list only)
  apply    --env NAME [--dry-run] [--no-prune] [--timeout DURATION] [--commit SHA] [--force]
                                     server-side apply, prune, wait for health
  init     [--force]                 write slipway.yaml and GitHub workflows into a repository
  images   [--env NAME] [--write] [--format text|json]
                                     newer image tags the image-policies allow, as
                                     FILE:LINE  image  old → new  (policy); --write edits the files
  rbac     --env NAME [--github OWNER/REPO] [--apply-user USER] [--plan-user USER,…] [--namespaces a,b]
           [--state-namespace NS] [--plan-access dry-run|read-only]
                                     RBAC for the environment's apply and plan identities, and a
                                     policy that lets the plan identity make dry-runs only (YAML)
  version                            the release version and the commit it was built from
  ci       [--env NAME] [--mode plan|apply|resync|drift|images] [--dry-run]
                                     in a GitLab CI/CD job: plan a merge request (sticky note),
                                     apply the default branch, re-sync (web), drift (schedule)

common options:
  --repo DIR            repository root (default .)
  --config FILE         config file inside the repository (default slipway.yaml)
  --kubeconfig FILE     kubeconfig (default $KUBECONFIG, then ~/.kube/config)
  --context NAME        kubeconfig context
  --concurrency N       API requests in flight (default 16)
  -h, --help            this help;  --version  the version and commit

exit codes: 0 success; 1 error or invalid input; 2 only with --exit-code when changes exist`;

const FLAGS: Record<string, 'value' | 'switch'> = {
  '--repo': 'value',
  '--config': 'value',
  '--kubeconfig': 'value',
  '--context': 'value',
  '--concurrency': 'value',
  '--env': 'value',
  '--base': 'value',
  '--head': 'value',
  '--format': 'value',
  '--timeout': 'value',
  '--commit': 'value',
  '--mode': 'value',
  '--namespaces': 'value',
  '--state-namespace': 'value',
  '--github': 'value',
  '--apply-user': 'value',
  '--plan-user': 'value',
  '--plan-access': 'value',
  '--plan-mode': 'value',
  '--exit-code': 'switch',
  '--dry-run': 'switch',
  '--no-prune': 'switch',
  '--force': 'switch',
  '--write': 'switch',
  '--help': 'switch',
  '-h': 'switch',
};

const ALLOWED: Record<string, readonly string[]> = {
  detect: ['--base', '--head'],
  render: ['--env'],
  validate: ['--env', '--base'],
  diff: ['--env', '--format', '--exit-code', '--plan-mode'],
  apply: ['--env', '--dry-run', '--no-prune', '--timeout', '--commit', '--force'],
  init: ['--force'],
  images: ['--env', '--write', '--format'],
  rbac: [
    '--env',
    '--namespaces',
    '--github',
    '--apply-user',
    '--plan-user',
    '--state-namespace',
    '--plan-access',
  ],
  ci: ['--env', '--mode', '--dry-run'],
};
const COMMON = ['--repo', '--config', '--kubeconfig', '--context', '--concurrency', '--help', '-h'];

/** `a, b,` → ['a', 'b']; undefined stays undefined. */
function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function usage(message: string): UserError {
  return new UserError('usage', message, { hint: 'run `slipway --help` for usage' });
}

/** Pure: argv (without node and script) → a command, or a UserError of kind 'usage'. */
export function parseArgs(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help')
    return { name: 'help', topic: rest[0] };
  if (name === '--version' || name === 'version') {
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h'))
      return { name: 'help', topic: 'version' };
    if (rest.length > 0) throw usage(`\`slipway ${name}\` takes no arguments`);
    return { name: 'version' };
  }
  if (!(name in ALLOWED)) throw usage(`unknown command "${name}"`);
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const raw = rest[i] ?? '';
    const [flag, inline] =
      raw.startsWith('--') && raw.includes('=')
        ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
        : [raw, undefined];
    const kind = FLAGS[flag];
    if (!kind)
      throw usage(flag.startsWith('-') ? `unknown option "${flag}"` : `unexpected argument "${flag}"`);
    if (!COMMON.includes(flag) && !(ALLOWED[name] ?? []).includes(flag))
      throw usage(`option ${flag} does not apply to \`slipway ${name}\``);
    if (kind === 'switch') {
      // `--force=false` must not force: a switch takes no value.
      if (inline !== undefined) throw usage(`option ${flag} takes no value`);
      switches.add(flag);
      continue;
    }
    const value = inline ?? rest[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--')))
      throw usage(`option ${flag} needs a value`);
    values.set(flag, value);
  }
  if (switches.has('--help') || switches.has('-h')) return { name: 'help', topic: name };
  const concurrencyText = values.get('--concurrency');
  const concurrency = concurrencyText === undefined ? undefined : Number(concurrencyText);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256))
    throw usage('--concurrency must be a whole number from 1 to 256');
  const common: CommonOptions = {
    repo: values.get('--repo') ?? '.',
    config: values.get('--config'),
    kubeconfig: values.get('--kubeconfig'),
    context: values.get('--context'),
    concurrency,
  };
  const required = (flag: string): string => {
    const value = values.get(flag);
    if (value === undefined) throw usage(`\`slipway ${name}\` needs ${flag}`);
    return value;
  };
  switch (name) {
    case 'detect':
      return { name, common, base: required('--base'), head: required('--head') };
    case 'render':
      return { name, common, env: required('--env') };
    case 'validate':
      return { name, common, env: values.get('--env'), base: values.get('--base') };
    case 'diff': {
      const format = values.get('--format') ?? 'text';
      if (format !== 'text' && format !== 'markdown' && format !== 'json')
        throw usage(`--format must be text, markdown or json, not "${format}"`);
      const planMode = parsePlanMode('--plan-mode', values.get('--plan-mode'));
      return {
        name,
        common,
        env: values.get('--env'),
        format,
        exitCode: switches.has('--exit-code'),
        ...(planMode ? { planMode } : {}),
      };
    }
    case 'apply': {
      const timeout = values.get('--timeout');
      return {
        name,
        common,
        env: required('--env'),
        dryRun: switches.has('--dry-run'),
        prune: !switches.has('--no-prune'),
        timeoutSeconds: timeout === undefined ? undefined : parseDuration(timeout),
        commit: values.get('--commit'),
        force: switches.has('--force'),
      };
    }
    case 'images': {
      const format = values.get('--format') ?? 'text';
      if (format !== 'text' && format !== 'json')
        throw usage(`--format must be text or json, not "${format}"`);
      return { name, common, env: values.get('--env'), write: switches.has('--write'), format };
    }
    case 'ci': {
      const mode = values.get('--mode');
      if (
        mode !== undefined &&
        mode !== 'plan' &&
        mode !== 'apply' &&
        mode !== 'resync' &&
        mode !== 'drift' &&
        mode !== 'images'
      )
        throw usage(`--mode must be plan, apply, resync, drift or images, not "${mode}"`);
      return { name, common, env: values.get('--env'), mode, dryRun: switches.has('--dry-run') };
    }
    case 'rbac': {
      const namespaces = values.get('--namespaces');
      return {
        name,
        common,
        env: required('--env'),
        namespaces: list(namespaces),
        github: values.get('--github'),
        applyUser: values.get('--apply-user'),
        planUsers: list(values.get('--plan-user')),
        stateNamespace: values.get('--state-namespace'),
        ...planAccess(values.get('--plan-access')),
      };
    }
    default:
      return { name: 'init', common, force: switches.has('--force') };
  }
}

/** `--plan-access dry-run|read-only` of `slipway rbac`. */
function planAccess(value: string | undefined): { planAccess?: 'dry-run' | 'read-only' } {
  if (value === undefined) return {};
  if (value !== 'dry-run' && value !== 'read-only')
    throw usage(`--plan-access must be dry-run or read-only, not "${value}"`);
  return { planAccess: value };
}
