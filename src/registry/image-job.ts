/**
 * The scheduled image job shared by the GitHub Action (`command: images`) and GitLab
 * (`slipway ci --mode images`): asks the registries what the policies allow, then keeps one
 * pull/merge request per environment, or one for all (`image-pull-requests: grouped`), through the
 * forge's ProposalPlatform. No cluster.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../core/config/config.ts';
import { findImageUpdates } from '../core/images/find.ts';
import { proposeImageUpdates, type ProposalOutcome, type ProposalPlatform } from '../core/images/propose.ts';
import type { RenderEnvironment } from '../core/images/trace.ts';
import { RepoPaths } from '../core/paths.ts';
import type { Logger } from '../core/ports.ts';
import { RegistryClient } from './client.ts';
import { credentialLookup, platformCredentials } from './credentials.ts';

export interface ImageJobOptions {
  /** The slipway repository's root (working directory applied). */
  readonly repo: string;
  readonly configFile: string | undefined;
  /** One environment, or undefined/`all` for every one. */
  readonly environment: string | undefined;
  /** The branch the run checked out (the requests' base) and its commit. */
  readonly baseBranch: string;
  readonly baseSha: string;
  /** Contents of a docker config.json (a secret), for private registries. */
  readonly registryConfig: string | undefined;
  /** The GitHub token, used for ghcr.io. */
  readonly githubToken: string | undefined;
  /**
   * The job's environment (default: this process's): GitLab's CI_REGISTRY_* login, and what
   * credential helpers run with (filtered, see helperEnv).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Renders an environment offline, so images are traced to the lines that set them (a shared base). */
  readonly render?: RenderEnvironment;
  readonly platform: ProposalPlatform;
  readonly logger: Logger;
  readonly hide: (secret: string) => void;
}

export interface ImageJobResult {
  readonly outcomes: readonly ProposalOutcome[];
  readonly problems: readonly string[];
}

export async function runImageJob(options: ImageJobOptions): Promise<ImageJobResult> {
  const repo = new RepoPaths(options.repo);
  const config = loadConfig(repo, options.configFile);
  // The shipped workflow runs before anyone writes a policy: that is nothing to do, not a failure.
  if ((config.imagePolicies ?? []).length === 0) {
    options.logger.info('no `image-policies:` in slipway.yaml: no image updates to look for');
    return { outcomes: [], problems: [] };
  }
  const env = options.env ?? process.env;
  const credentials = credentialLookup({
    config:
      options.registryConfig === undefined
        ? undefined
        : { text: options.registryConfig, file: 'the registry-config input' },
    platform: platformCredentials(env, options.githubToken),
    env,
    mask: options.hide,
    log: (message) => options.logger.info(message),
  });
  const registry = new RegistryClient({
    credentials,
    debug: (message) => options.logger.debug(message),
    onSecret: options.hide,
  });
  const mode = config.imagePullRequests ?? 'per-environment';
  const named = options.environment === 'all' ? undefined : options.environment;
  // The grouped request carries every environment's bumps: narrowing it to one would drop the
  // others' from its branch. (The GitLab component runs one such job per environment; all agree.)
  const only = mode === 'grouped' ? undefined : named;
  if (named !== undefined && only === undefined)
    options.logger.info(`image-pull-requests: grouped: one request for every environment, not only ${named}`);
  const scan = await findImageUpdates(repo, config, registry, only, options.render);
  for (const skipped of scan.skipped) options.logger.warn(skipped);
  for (const note of scan.notes ?? []) options.logger.warn(note);
  for (const problem of scan.problems) options.logger.error(problem);
  const outcomes = await proposeImageUpdates(
    scan,
    (file) => readFileSync(repo.resolve(file, 'image file'), 'utf8'),
    options.platform,
    { branch: options.baseBranch, sha: options.baseSha },
    { mode, configured: [...config.environments.keys()] },
    options.logger,
  );
  return { outcomes, problems: scan.problems };
}
