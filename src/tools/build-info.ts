// Which Slipway is running, found at start: the stamped commit of a release build, else the git
// checkout Slipway runs from (source, or the GitLab component's clone), else the ref GitHub fetched
// the action by. Never the user's repository: the checkout must be Slipway's own package folder.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { setRunningBuild, stampedBuild, VERSION, type BuildInfo } from '../core/version.ts';
import { childEnv } from './exec.ts';

const run = promisify(execFile);

/** Finds the running build (`script`: the file Node was started with) and records it for reports. */
export async function detectBuild(
  env: Readonly<Record<string, string | undefined>>,
  script: string | undefined,
): Promise<BuildInfo> {
  const info: BuildInfo = stampedBuild() ??
    (await fromGit(env, script)) ?? { version: VERSION, ref: actionRef(env) };
  setRunningBuild(info);
  return info;
}

function actionRef(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const repository = env.GITHUB_ACTION_REPOSITORY;
  const ref = env.GITHUB_ACTION_REF;
  return repository && ref ? `${repository}@${ref}` : undefined;
}

async function fromGit(
  env: Readonly<Record<string, string | undefined>>,
  script: string | undefined,
): Promise<BuildInfo | undefined> {
  const root = script ? packageRoot(script) : undefined;
  if (!root) return undefined;
  const git = async (args: string[]): Promise<string> =>
    (await run('git', ['-C', root, ...args], { env: childEnv(env), timeout: 5000 })).stdout.trim();
  try {
    // An installed package inside someone's repository is not a Slipway checkout.
    if (realpathSync(await git(['rev-parse', '--show-toplevel'])) !== root) return undefined;
    const commit = await git(['rev-parse', 'HEAD']);
    const modified = (await git(['status', '--porcelain', '--untracked-files=no'])) !== '';
    return { version: VERSION, commit, modified };
  } catch {
    return undefined; // no git, not a repository, or no commit yet
  }
}

/** The nearest folder above `script` whose package.json is Slipway's. */
function packageRoot(script: string): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(realpathSync(script));
  } catch {
    return undefined;
  }
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'slipway') return dir;
      } catch {
        // dist/package.json and the like: keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
