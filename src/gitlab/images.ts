/**
 * `slipway ci --mode images` (a scheduled pipeline): the image job with GitLab merge requests on
 * `slipway/images/<env>`. No cluster credentials: the merge request is the only write.
 */
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import { readDockerConfig } from '../registry/credentials.ts';
import type { RenderEnvironment } from '../core/images/trace.ts';
import { runImageJob } from '../registry/image-job.ts';
import type { GitLabRunContext } from './context.ts';
import { GitLabImageMergeRequests } from './image-mrs.ts';

export interface GitLabImagesOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly context: GitLabRunContext;
  /** The slipway repository's root. */
  readonly repo: string;
  readonly configFile: string | undefined;
  readonly environment: string | undefined;
  readonly token: string | undefined;
  readonly logger: Logger;
  readonly hide: (secret: string) => void;
  readonly stdout: (text: string) => void;
  /** Offline render of an environment, to trace images to the lines that set them. */
  readonly render?: RenderEnvironment;
}

/** Returns the exit code: 1 when a registry failed (its merge request is left as it was). */
export async function runGitLabImages(options: GitLabImagesOptions): Promise<number> {
  const { context, env } = options;
  if (!options.token)
    throw new UserError(
      'config',
      'slipway ci --mode images needs SLIPWAY_GITLAB_TOKEN to open merge requests',
      {
        hint: 'a masked project access token with the `api` scope and the Developer role',
      },
    );
  const branch = context.branch ?? context.defaultBranch;
  if (branch === undefined)
    throw new UserError(
      'config',
      'slipway ci --mode images runs on a branch pipeline (CI_COMMIT_BRANCH is not set)',
    );
  // A file-type CI/CD variable is a path to the file.
  const dockerConfig = env.SLIPWAY_DOCKER_CONFIG ? readDockerConfig(env.SLIPWAY_DOCKER_CONFIG) : undefined;
  const root = context.projectDir ?? options.repo;
  const { outcomes, problems } = await runImageJob({
    repo: options.repo,
    configFile: options.configFile,
    environment: options.environment,
    baseBranch: branch,
    baseSha: context.sha,
    registryConfig: dockerConfig?.text,
    githubToken: env.GITHUB_TOKEN || undefined,
    // CI_REGISTRY_USER/CI_REGISTRY_PASSWORD for the project's registry; what credential helpers run with.
    env,
    ...(options.render ? { render: options.render } : {}),
    logger: options.logger,
    hide: options.hide,
    platform: new GitLabImageMergeRequests({
      token: options.token,
      apiUrl: context.apiUrl,
      projectId: context.projectId,
      pathPrefix: path.relative(root, options.repo).split(path.sep).join('/'),
    }),
  });
  options.stdout(`${JSON.stringify({ images: outcomes, problems })}\n`);
  return problems.length > 0 ? 1 : 0;
}
