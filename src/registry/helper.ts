// Docker credential helpers (`credsStore`, `credHelpers` in config.json): `docker-credential-<name>
// get` reads the server address on stdin and answers `{"ServerURL","Username","Secret"}` on stdout,
// or fails with "credentials not found in native keychain" when it holds nothing for that server.

import { UserError } from '../core/errors.ts';
import type { CommandResult } from '../core/ports.ts';
import { childEnv, ProcessRunner } from '../tools/exec.ts';
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
  let run: CommandResult;
  try {
    // The allowlisted environment, plus the cloud settings, which the allowlist holds back.
    run = await new ProcessRunner(env).run(program, ['get'], {
      cwd: process.cwd(),
      env: helperEnv(env),
      input: serverUrl,
      timeoutMs,
    });
  } catch (error) {
    const cause = error instanceof UserError ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
    if (cause?.code === 'ENOENT')
      throw new UserError(
        'registry',
        `${host}: the docker config.json names the credential helper ${program}, which is not on PATH`,
        {
          hint: `${INSTALL[name] ?? `install ${program} and put it on PATH`}, or remove it from the config's credsStore/credHelpers`,
        },
      );
    if ((cause as { killed?: boolean } | undefined)?.killed)
      throw new UserError('registry', `${host}: ${program} get did not answer within ${timeoutMs / 1000} s`);
    throw error;
  }
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
