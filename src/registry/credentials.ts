// Registry credentials, in docker's order: a docker config.json's `credHelpers` entry for the host,
// then its `credsStore`, then its `auths`; after that the CI platform's own token for its registry
// (the GitHub token for ghcr.io, CI_REGISTRY_USER/CI_REGISTRY_PASSWORD for GitLab's).

import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { askCredentialHelper, isHelperName } from './helper.ts';

export interface Credential {
  readonly username: string;
  readonly password: string;
}

/** Docker's convention: this username marks the password as an identity (OAuth2 refresh) token. */
export const IDENTITY_TOKEN_USER = '<token>';

/** Asked only when a registry answers 401; helpers run at most once per host. */
export type CredentialLookup = (host: string) => Promise<Credential | undefined>;

/** A credential for one registry host, from the CI platform (not from a config.json). */
export interface HostCredential extends Credential {
  readonly host: string;
}

export interface DockerConfig {
  readonly file: string;
  readonly auths: ReadonlyMap<string, Credential>;
  readonly credsStore: string | undefined;
  readonly credHelpers: ReadonlyMap<string, string>;
}

/** Where Docker Hub is asked; config.json spells it several ways. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
const DOCKER_HUB_KEYS = ['index.docker.io', 'docker.io', 'registry-1.docker.io'];
/** The server address docker itself stores Docker Hub credentials under (helpers are asked for it). */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/** `auths`/`credHelpers` keys are written many ways (`https://ghcr.io`, `ghcr.io/v1/`): the host. */
export function registryHost(key: string): string {
  const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return DOCKER_HUB_KEYS.includes(host) ? DOCKER_HUB_HOST : host;
}

function entryCredential(entry: Record<string, unknown>): Credential | undefined {
  const { auth, username, password, identitytoken } = entry;
  // As docker: an identity token wins over a username and password in the same entry.
  if (typeof identitytoken === 'string' && identitytoken !== '')
    return { username: IDENTITY_TOKEN_USER, password: identitytoken };
  if (typeof auth === 'string' && auth !== '') {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
  }
  if (typeof username === 'string' && typeof password === 'string') return { username, password };
  return undefined;
}

function helperName(value: unknown, where: string, file: string): string {
  if (typeof value !== 'string' || !isHelperName(value))
    throw new UserError('config', `${file}: ${where} must name a credential helper (ecr-login, gcloud)`, {
      hint: `the helper runs as docker-credential-<name>; got ${JSON.stringify(value)}`,
    });
  return value;
}

const objectOf = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

/** Pure: a config.json's text → its `auths`, `credsStore` and `credHelpers`, keyed by host. */
export function parseDockerConfigFile(text: string, file: string): DockerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError('config', `${file} is not valid JSON`, { hint: 'it should be a docker config.json' });
  }
  const { auths, credsStore, credHelpers } = objectOf(raw);
  const found = new Map<string, Credential>();
  for (const [key, entry] of Object.entries(objectOf(auths))) {
    const credential = entryCredential(objectOf(entry));
    if (credential) found.set(registryHost(key), credential);
  }
  const helpers = new Map<string, string>();
  for (const [key, name] of Object.entries(objectOf(credHelpers)))
    helpers.set(registryHost(key), helperName(name, `credHelpers["${key}"]`, file));
  return {
    file,
    auths: found,
    // docker treats an empty credsStore as none.
    credsStore:
      credsStore === undefined || credsStore === '' ? undefined : helperName(credsStore, 'credsStore', file),
    credHelpers: helpers,
  };
}

/** Pure: a config.json's text → the `auths` credentials per registry host. */
export function parseDockerConfig(text: string, file: string): Map<string, Credential> {
  return new Map(parseDockerConfigFile(text, file).auths);
}

/** Reads a docker config.json named by the user (SLIPWAY_DOCKER_CONFIG, DOCKER_CONFIG). */
export function readDockerConfig(file: string): { text: string; file: string } {
  try {
    return { text: readFileSync(file, 'utf8'), file };
  } catch (error) {
    throw new UserError(
      'config',
      `cannot read the registry credentials file ${file}: ${(error as Error).message}`,
      {
        hint: "point SLIPWAY_DOCKER_CONFIG (the action's registry-config input) at a docker config.json",
      },
    );
  }
}

/**
 * The CI platform's own registry logins: a GitHub token for ghcr.io, and GitLab's job login
 * (CI_REGISTRY_USER is `gitlab-ci-token`, CI_REGISTRY_PASSWORD the job token) for CI_REGISTRY.
 * GHCR takes the job's own GITHUB_TOKEN but not a GitHub App or fine-grained token, so a
 * GITHUB_TOKEN in the environment wins over `githubToken` (the action's github-token input).
 */
export function platformCredentials(
  env: Readonly<Record<string, string | undefined>>,
  githubToken?: string,
): HostCredential[] {
  const found: HostCredential[] = [];
  const ghcr = env.GITHUB_TOKEN || githubToken;
  // ghcr.io takes any username with a token that has packages:read.
  if (ghcr) found.push({ host: 'ghcr.io', username: 'x-access-token', password: ghcr });
  const { CI_REGISTRY: host, CI_REGISTRY_USER: username, CI_REGISTRY_PASSWORD: password } = env;
  if (host && username && password) found.push({ host: registryHost(host), username, password });
  return found;
}

export interface LookupOptions {
  /** A docker config.json's text, and where it came from for messages. */
  readonly config: { readonly text: string; readonly file: string } | undefined;
  readonly platform: readonly HostCredential[];
  /** The environment helpers run with (filtered, see helperEnv). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Hides every secret from logs. */
  readonly mask: (secret: string) => void;
  readonly log: (message: string) => void;
}

/** Credentials per registry host; `mask` receives every secret before it can be used. */
export function credentialLookup(options: LookupOptions): CredentialLookup {
  const config = options.config ? parseDockerConfigFile(options.config.text, options.config.file) : undefined;
  for (const credential of config?.auths.values() ?? []) options.mask(credential.password);
  for (const credential of options.platform) options.mask(credential.password);
  const asked = new Map<string, Promise<Credential | undefined>>();
  return (host) => {
    let answer = asked.get(host);
    if (!answer) {
      answer = resolve(host, config, options);
      asked.set(host, answer);
    }
    return answer;
  };
}

async function resolve(
  host: string,
  config: DockerConfig | undefined,
  options: LookupOptions,
): Promise<Credential | undefined> {
  const fallback = options.platform.find((credential) => credential.host === host);
  const helper = config?.credHelpers.get(host) ?? config?.credsStore;
  if (config && helper !== undefined) {
    const server = host === DOCKER_HUB_HOST ? DOCKER_HUB_SERVER : host;
    const found = await askCredentialHelper(helper, server, host, options.env);
    if (found) {
      options.mask(found.password);
      options.log(`registry ${host}: credentials from docker-credential-${helper}`);
      return found;
    }
    options.log(
      `registry ${host}: docker-credential-${helper} has no credentials for it; ${fallback ? "using the CI job's registry token" : 'asking without credentials'}`,
    );
    return fallback;
  }
  return config?.auths.get(host) ?? fallback;
}
