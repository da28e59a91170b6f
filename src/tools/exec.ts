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

/** Runs programs with execFile: no shell, so nothing in a path or value is ever interpreted. */
export class ProcessRunner implements CommandRunner {
  private readonly baseEnv: Readonly<Record<string, string | undefined>>;

  constructor(baseEnv: Readonly<Record<string, string | undefined>>) {
    this.baseEnv = baseEnv;
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
              }),
            );
            return;
          }
          if (error && error.killed) {
            reject(
              new UserError(
                'tool',
                `\`${command} ${args.join(' ')}\` did not finish within ${options.timeoutMs ?? 0} ms`,
              ),
            );
            return;
          }
          const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ stdout, stderr, exitCode });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }
}
