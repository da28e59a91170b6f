/**
 * Which repository a run applies from, recorded in the environment's inventory so that another
 * repository using the same environment name on the same cluster is not pruned as if it were this
 * one's. One form on every platform, `host/path` in lower case (`github.com/acme/deploy`), so the
 * laptop CLI (git remote), GitHub Actions and GitLab CI agree about the same repository.
 */

/** The variables an adapter passes in; the engine itself never reads the process environment. */
export type IdentityEnv = Readonly<Record<string, string | undefined>>;

/**
 * The identity of the repository a run works on, or undefined when nothing names it. In order:
 * `SLIPWAY_REPOSITORY` (a mirror deploying as its upstream), GitHub Actions' `GITHUB_REPOSITORY`
 * on `GITHUB_SERVER_URL`, GitLab CI's `CI_PROJECT_PATH` on `CI_SERVER_HOST`, then the checkout's
 * `origin` remote URL.
 */
export function repositoryIdentity(env: IdentityEnv, originUrl: string | undefined): string | undefined {
  const explicit = env.SLIPWAY_REPOSITORY?.trim();
  if (explicit) return normaliseRepositoryUrl(explicit);
  if (env.GITHUB_REPOSITORY)
    return normaliseRepositoryUrl(
      `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}`,
    );
  if (env.CI_PROJECT_PATH) {
    const host = env.CI_SERVER_HOST || hostOf(env.CI_SERVER_URL) || 'gitlab.com';
    return normaliseRepositoryUrl(`https://${host}/${env.CI_PROJECT_PATH}`);
  }
  const origin = originUrl?.trim();
  return origin ? normaliseRepositoryUrl(origin) : undefined;
}

/**
 * `https://user:token@GitHub.com/Acme/Deploy.git`, `git@github.com:acme/deploy.git` and
 * `ssh://git@github.com:22/acme/deploy` all become `github.com/acme/deploy`: no scheme,
 * credentials, port, `.git` suffix or trailing slash (the port differs between SSH and HTTPS
 * clones of one repository, and credentials must never be stored). Anything else (a local path)
 * is kept as written, minus a trailing `.git` and slashes.
 */
export function normaliseRepositoryUrl(url: string): string {
  const trimmed = url.trim();
  let host: string | undefined;
  let path: string;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)(\/.*)?$/i.exec(trimmed);
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/)(.*)$/.exec(trimmed);
  if (scheme) {
    const authority = scheme[1] ?? '';
    host = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '');
    path = scheme[2] ?? '';
  } else if (scp && !/^[a-z]:$/i.test(`${scp[1]}:`)) {
    host = scp[1];
    path = scp[2] ?? '';
  } else {
    path = trimmed;
  }
  path = path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  if (!host) return path;
  return `${host}/${path.replace(/^\/+/, '')}`.toLowerCase();
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}
