import { execFile } from 'node:child_process';
import { UserError } from '../core/errors.ts';
import type { CommandOptions, CommandResult, CommandRunner } from '../core/ports.ts';

const INSTALL_HINTS: Record<string, string> = {
  kustomize:
    'install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl, and put it on PATH',
  kubectl: 'install kubectl and put it on PATH',
  helm: 'install helm 3 or 4 (https://helm.sh/docs/intro/install/) and put it on PATH',
  git: 'install git and run Slipway inside a git checkout (actions/checkout with fetch-depth: 0)',
};

/**
 * What helm, kustomize and git need: where things are, locale, proxies, CA files, their own
 * settings, and Windows' profile folders. Compared in upper case: Windows names are
 * case-insensitive (`Path`), and proxies are often set in lower case.
 */
const PASSED_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'TMP',
  'TEMP',
  'LANG',
  'LANGUAGE',
  'TZ',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'SYSTEMROOT',
  'PATHEXT',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA',
]);
const PASSED_PREFIXES = ['LC_', 'XDG_', 'HELM_', 'KUSTOMIZE_', 'GIT_'];
/** Even under a passed prefix: a name that looks like a credential stays behind. */
const CREDENTIAL_NAME = /TOKEN|PASSWORD|SECRET|_KEY$|CREDENTIAL/i;

/**
 * The environment a child process gets: an allowlist, so the action's inputs (INPUT_GITHUB-TOKEN,
 * INPUT_KUBECONFIG), GITHUB_TOKEN, the runner's ACTIONS_* tokens, KUBECONFIG and SOPS_AGE_KEY never
 * reach a chart's or a plugin's code.
 */
export function childEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const upper = name.toUpperCase();
    const allowed = PASSED_NAMES.has(upper) || PASSED_PREFIXES.some((prefix) => upper.startsWith(prefix));
    if (allowed && !CREDENTIAL_NAME.test(name)) passed[name] = value;
  }
  return passed;
}

/** Runs programs with execFile: no shell, so nothing in a path or value is ever interpreted. */
export class ProcessRunner implements CommandRunner {
  private readonly baseEnv: Readonly<Record<string, string>>;

  constructor(baseEnv: Readonly<Record<string, string | undefined>>) {
    this.baseEnv = childEnv(baseEnv);
  }

  run(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        command,
        args,
        {
          cwd: options.cwd,
          env: { ...this.baseEnv, ...options.env },
          maxBuffer: 512 * 1024 * 1024,
          timeout: options.timeoutMs ?? 0,
          encoding: 'utf8',
        },
        (error, stdout, stderr) => {
          if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
            reject(
              new UserError('tool', `\`${command}\` was not found on PATH`, {
                hint: INSTALL_HINTS[command] ?? `install ${command}`,
                cause: error,
              }),
            );
            return;
          }
          if (error && error.killed) {
            reject(
              new UserError(
                'tool',
                `\`${command} ${args.join(' ')}\` did not finish within ${options.timeoutMs ?? 0} ms`,
                { cause: error },
              ),
            );
            return;
          }
          const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ stdout, stderr, exitCode });
        },
      );
      // A program that exits before reading its input must not crash the run with EPIPE.
      child.stdin?.on('error', () => undefined);
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }
}
