// Docker credential helpers (`credsStore`, `credHelpers` in config.json): `docker-credential-<name>
// get` reads the server address on stdin and answers `{"ServerURL","Username","Secret"}` on stdout,
// or fails with "credentials not found in native keychain" when it holds nothing for that server.

import { execFile } from 'node:child_process';
import { UserError } from '../core/errors.ts';
import { childEnv } from '../tools/exec.ts';
import type { Credential } from './credentials.ts';

/** gcloud starts slowly and ecr-login calls AWS: generous, but a hung helper must not hang the run. */
export const HELPER_TIMEOUT_MS = 60_000;

/**
 * Cloud SDK settings and credentials the well-known helpers read (ecr-login: AWS_*, gcloud/gcr:
 * GOOGLE_* and CLOUDSDK_*, acr-env: AZURE_*), on top of the allowlist every child process gets
 * (PATH, HOME, proxies, CA files). The forge tokens (GITHUB_TOKEN, CI_JOB_TOKEN, the action's
 * inputs) and KUBECONFIG stay behind: a helper has no use for them.
 */
const CLOUD_PREFIXES = ['AWS_', 'GOOGLE_', 'CLOUDSDK_', 'AZURE_'];

export function helperEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const passed = childEnv(env);
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && CLOUD_PREFIXES.some((prefix) => name.toUpperCase().startsWith(prefix)))
      passed[name] = value;
  return passed;
}

const INSTALL: Record<string, string> = {
  'ecr-login':
    'install amazon-ecr-credential-helper (https://github.com/awslabs/amazon-ecr-credential-helper; Debian/Ubuntu: apt-get install amazon-ecr-credential-helper)',
  gcloud: 'install the Google Cloud CLI (google-github-actions/setup-gcloud in a workflow)',
  gcr: 'install docker-credential-gcr (https://github.com/GoogleCloudPlatform/docker-credential-gcr)',
  'acr-env': 'install docker-credential-acr-env (https://github.com/chrismellard/docker-credential-acr-env)',
  desktop:
    'docker-credential-desktop comes with Docker Desktop and is not on CI runners: give CI a config.json with `auths` entries or a helper that works there',
};

/** A helper name becomes part of a program name: nothing that could reach another folder. */
export function isHelperName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name);
}

/**
 * Asks `docker-credential-<name>` for `serverUrl`'s credentials; undefined when it has none.
 * A missing helper, a timeout, another failure or an unreadable answer is a UserError naming the
 * helper and the registry.
 */
export async function askCredentialHelper(
  name: string,
  serverUrl: string,
  host: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = HELPER_TIMEOUT_MS,
): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  const run = await execute(program, serverUrl, helperEnv(env), timeoutMs);
  if (run.missing)
    throw new UserError(
      'registry',
      `${host}: the docker config.json names the credential helper ${program}, which is not on PATH`,
      {
        hint: `${INSTALL[name] ?? `install ${program} and put it on PATH`}, or remove it from the config's credsStore/credHelpers`,
      },
    );
  if (run.timedOut)
    throw new UserError('registry', `${host}: ${program} get did not answer within ${timeoutMs / 1000} s`);
  const said = `${run.stdout}\n${run.stderr}`.trim();
  if (run.exitCode !== 0) {
    if (/credentials not found/i.test(said)) return undefined;
    throw new UserError(
      'registry',
      `${host}: ${program} get failed (exit ${run.exitCode})${said ? `: ${said.slice(0, 500)}` : ''}`,
    );
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(run.stdout) as typeof answer;
  } catch {
    throw new UserError('registry', `${host}: ${program} get did not answer JSON`);
  }
  const { Username: username, Secret: secret } = answer;
  if (typeof secret !== 'string' || secret === '') return undefined;
  return { username: typeof username === 'string' ? username : '', password: secret };
}

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly missing: boolean;
  readonly timedOut: boolean;
}

/** execFile, no shell: the server address goes on stdin, never into an argument. */
function execute(
  program: string,
  input: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      program,
      ['get'],
      { env, timeout: timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        resolve({
          stdout,
          stderr,
          exitCode: error ? (typeof code === 'number' ? code : 1) : 0,
          missing: code === 'ENOENT',
          timedOut: error?.killed === true,
        });
      },
    );
    // A helper that exits before reading stdin must not crash the run with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}
