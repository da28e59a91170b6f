/**
 * `command: images`: the image job with GitHub pull requests on `slipway/images/<env>`. No cluster
 * credentials: the pull request is the only write.
 */
import { UserError } from '../core/errors.ts';
import type { RenderEnvironment } from '../core/images/trace.ts';
import type { Logger } from '../core/ports.ts';
import { runImageJob, type ImageJobResult } from '../registry/image-job.ts';
import { GitHubImagePulls } from './image-pulls.ts';

export interface ImagesJobOptions {
  /** The checkout's root (working directory applied). */
  readonly repo: string;
  /** Where `repo` is inside the Git repository (`working-directory`), `''` at its root. */
  readonly repoPrefix: string;
  readonly configFile: string | undefined;
  /** One environment, or undefined/`all` for every one. */
  readonly environment: string | undefined;
  readonly token: string;
  readonly apiUrl: string;
  readonly owner: string;
  readonly repoName: string;
  /** The branch the run checked out (the pull requests' base) and its commit. */
  readonly baseBranch: string;
  readonly baseSha: string;
  /** Contents of a docker config.json (a secret), for private registries. */
  readonly registryConfig: string | undefined;
  readonly logger: Logger;
  readonly hide: (secret: string) => void;
  /** Offline render of an environment, to trace images to the lines that set them. */
  readonly render?: RenderEnvironment;
}

export async function runImagesJob(options: ImagesJobOptions): Promise<ImageJobResult> {
  if (!options.token)
    throw new UserError('config', 'command: images needs the `github-token` input to open pull requests', {
      hint: 'grant the job `contents: write` and `pull-requests: write`',
    });
  return runImageJob({
    ...options,
    githubToken: options.token,
    platform: new GitHubImagePulls({
      token: options.token,
      apiUrl: options.apiUrl,
      owner: options.owner,
      repo: options.repoName,
      pathPrefix: options.repoPrefix,
    }),
  });
}
