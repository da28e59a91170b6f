// `slipway images`: the proposed tag bumps, printed or (--write) written into the files.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findImageUpdates } from '../core/images/find.ts';
import { editsByFile } from '../core/images/requests.ts';
import { environmentsEditing } from '../core/images/shared.ts';
import { applyUpdates, type ImageUpdate } from '../core/images/updates.ts';
import type { Logger } from '../core/ports.ts';
import type { SecretMasker } from '../core/secrets.ts';
import type { Workspace } from '../core/workspace.ts';
import { credentialLookup, platformCredentials, readDockerConfig } from '../registry/credentials.ts';
import { RegistryClient } from '../registry/client.ts';
import type { Command } from './args.ts';

export interface ImagesContext {
  readonly workspace: Workspace;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly logger: Logger;
  readonly masker: SecretMasker;
}

/**
 * The registry client as the CLI configures it: a docker config.json (its helpers run with `env`,
 * filtered), the GitHub token for ghcr.io, GitLab's CI_REGISTRY_* login.
 */
export function registryFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  masker: SecretMasker,
  logger: Logger,
): RegistryClient {
  const explicit = env.SLIPWAY_DOCKER_CONFIG;
  const file =
    explicit !== undefined && explicit !== ''
      ? path.resolve(cwd, explicit)
      : env.DOCKER_CONFIG
        ? path.join(path.resolve(cwd, env.DOCKER_CONFIG), 'config.json')
        : dockerDefault(env.HOME);
  const credentials = credentialLookup({
    config: file === undefined ? undefined : readDockerConfig(file),
    platform: platformCredentials(env),
    env,
    mask: (secret) => masker.add(secret),
    log: (message) => logger.info(message),
  });
  return new RegistryClient({
    credentials,
    debug: (message) => logger.debug(message),
    onSecret: (token) => masker.add(token),
  });
}

/**
 * On a laptop, where `docker login` and `crane auth login` write: ~/.docker/config.json, only when
 * it exists (no file means anonymous pulls, as with docker).
 */
function dockerDefault(home: string | undefined): string | undefined {
  if (!home) return undefined;
  const file = path.join(home, '.docker', 'config.json');
  return existsSync(file) ? file : undefined;
}

/** `FILE:LINE  image  old → new  (policy)`, and the environments a shared line affects. */
export function formatUpdate(update: ImageUpdate, affects: readonly string[] = []): string {
  const shared = affects.length > 1 ? `  (affects ${affects.join(', ')})` : '';
  return `${update.file}:${update.line}  ${update.image}  ${update.from} → ${update.to}  (${update.policy})${shared}`;
}

export async function runImages(
  command: Extract<Command, { name: 'images' }>,
  context: ImagesContext,
): Promise<number> {
  const { workspace, logger } = context;
  const registry = registryFromEnv(context.env, context.cwd, context.masker, logger);
  // Rendered offline, as `slipway render` does: images are traced to the lines that set them.
  const scan = await findImageUpdates(workspace.repo, workspace.config, registry, command.env, (env) =>
    workspace.renderAndValidate(env),
  );
  for (const skipped of scan.skipped) logger.warn(skipped);
  for (const note of scan.notes ?? []) logger.warn(note);
  for (const problem of scan.problems) logger.error(problem);
  // Each file's edits once, even when two environments share the file.
  const { edits: byFile, conflicts } = editsByFile(scan.environments);
  for (const conflict of conflicts) logger.warn(conflict);
  const written: string[] = [];
  if (command.write) {
    for (const [file, updates] of byFile) {
      const absolute = workspace.repo.resolve(file, 'image file');
      writeFileSync(absolute, applyUpdates(readFileSync(absolute, 'utf8'), updates));
      written.push(file);
    }
  }
  if (command.format === 'json') {
    const environments = scan.environments.map(({ environment, updates }) => ({
      environment,
      updates: updates.map((update) => ({
        file: update.file,
        line: update.line,
        image: update.image,
        policy: update.policy,
        from: update.from,
        to: update.to,
        digest: update.digest,
        affects: environmentsEditing(scan.environments, update),
      })),
    }));
    context.stdout(`${JSON.stringify({ environments, problems: scan.problems, written }, null, 2)}\n`);
  } else {
    for (const updates of byFile.values())
      for (const update of updates)
        context.stdout(`${formatUpdate(update, environmentsEditing(scan.environments, update))}\n`);
    const count = [...byFile.values()].reduce((n, u) => n + u.length, 0);
    logger.info(
      count === 0
        ? 'no image updates'
        : `${count} image update${count === 1 ? '' : 's'}${command.write ? `, written to ${written.length} file${written.length === 1 ? '' : 's'}` : ' (--write to edit the files)'}`,
    );
  }
  return scan.problems.length > 0 ? 1 : 0;
}
