// Registry credentials: a docker config.json (`auths`), and the runner's token for ghcr.io.

import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';

export interface Credential {
  readonly username: string;
  readonly password: string;
}

export type CredentialLookup = (host: string) => Credential | undefined;

const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

/** `auths` keys are written many ways (`https://ghcr.io`, `ghcr.io/v1/`): compare by host. */
function hostOf(key: string): string {
  return key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

/** Pure: a config.json's text → credentials per registry host. */
export function parseDockerConfig(text: string, file: string): Map<string, Credential> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError('config', `${file} is not valid JSON`, { hint: 'it should be a docker config.json' });
  }
  const auths = typeof raw === 'object' && raw !== null ? (raw as { auths?: unknown }).auths : undefined;
  const found = new Map<string, Credential>();
  if (typeof auths !== 'object' || auths === null) return found;
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { auth, username, password, identitytoken } = entry as Record<string, unknown>;
    let credential: Credential | undefined;
    if (typeof auth === 'string' && auth !== '') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) credential = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else if (typeof username === 'string' && typeof password === 'string') {
      credential = { username, password };
    } else if (typeof identitytoken === 'string') {
      credential = { username: '<token>', password: identitytoken };
    }
    if (!credential) continue;
    const host =
      DOCKER_HUB_KEYS.includes(key) || DOCKER_HUB_KEYS.includes(hostOf(key))
        ? 'registry-1.docker.io'
        : hostOf(key);
    found.set(host, credential);
  }
  return found;
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
 * Credentials from a docker config.json (its text, and where it came from for messages) and the
 * GitHub token for ghcr.io, each when given; `mask` hides every secret from logs.
 */
export function credentialLookup(
  config: { readonly text: string; readonly file: string } | undefined,
  githubToken: string | undefined,
  mask: (secret: string) => void,
): CredentialLookup {
  const fromFile = config ? parseDockerConfig(config.text, config.file) : new Map<string, Credential>();
  for (const credential of fromFile.values()) mask(credential.password);
  if (githubToken) mask(githubToken);
  return (host) =>
    fromFile.get(host) ??
    (host === 'ghcr.io' && githubToken ? { username: 'x-access-token', password: githubToken } : undefined);
}
