/**
 * The scheduled image job shared by the GitHub Action (`command: images`) and GitLab
 * (`slipway ci --mode images`): asks the registries what the policies allow, then keeps one
 * pull/merge request per environment through the forge's ProposalPlatform. No cluster.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../core/config.ts';
import { findImageUpdates } from '../core/images/find.ts';
import { proposeImageUpdates, type ProposalOutcome, type ProposalPlatform } from '../core/images/propose.ts';
import { RepoPaths } from '../core/paths.ts';
import type { Logger } from '../core/ports.ts';
import { RegistryClient } from './client.ts';
import { credentialLookup } from './credentials.ts';

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
  const credentials = credentialLookup(
    options.registryConfig === undefined
      ? undefined
      : { text: options.registryConfig, file: 'the registry-config input' },
    options.githubToken,
    options.hide,
  );
  const registry = new RegistryClient({
    credentials,
    debug: (message) => options.logger.debug(message),
    onSecret: options.hide,
  });
  const only = options.environment === 'all' ? undefined : options.environment;
  const scan = await findImageUpdates(repo, config, registry, only);
  for (const skipped of scan.skipped) options.logger.warn(skipped);
  for (const problem of scan.problems) options.logger.error(problem);
  const outcomes = await proposeImageUpdates(
    scan,
    (file) => readFileSync(repo.resolve(file, 'image file'), 'utf8'),
    options.platform,
    { branch: options.baseBranch, sha: options.baseSha },
    options.logger,
  );
  return { outcomes, problems: scan.problems };
}
