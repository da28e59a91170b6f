// `slipway images`: the proposed tag bumps, printed or (--write) written into the files.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findImageUpdates, type ImageScan } from '../core/images/find.ts';
import { applyUpdates, type ImageUpdate } from '../core/images/updates.ts';
import type { Logger } from '../core/ports.ts';
import type { SecretMasker } from '../core/secrets.ts';
import type { Workspace } from '../core/workspace.ts';
import { credentialLookup, readDockerConfig } from '../registry/credentials.ts';
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

/** The registry client as the CLI and the action configure it: docker config.json and GHCR token. */
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
        : undefined;
  const credentials = credentialLookup(
    file === undefined ? undefined : readDockerConfig(file),
    env.GITHUB_TOKEN || undefined,
    (secret) => masker.add(secret),
  );
  return new RegistryClient({
    credentials,
    debug: (message) => logger.debug(message),
    onSecret: (token) => masker.add(token),
  });
}

/** Each file's updates once, even when two environments share the file. */
export function updatesByFile(scan: ImageScan): Map<string, ImageUpdate[]> {
  const files = new Map<string, Map<number, ImageUpdate>>();
  for (const { updates } of scan.environments)
    for (const update of updates) {
      const own = files.get(update.file) ?? new Map<number, ImageUpdate>();
      own.set(update.start, update);
      files.set(update.file, own);
    }
  return new Map([...files].map(([file, updates]) => [file, [...updates.values()]]));
}

export function formatUpdate(update: ImageUpdate): string {
  return `${update.file}:${update.line}  ${update.image}  ${update.from} → ${update.to}  (${update.policy})`;
}

export async function runImages(
  command: Extract<Command, { name: 'images' }>,
  context: ImagesContext,
): Promise<number> {
  const { workspace, logger } = context;
  const registry = registryFromEnv(context.env, context.cwd, context.masker, logger);
  const scan = await findImageUpdates(workspace.repo, workspace.config, registry, command.env);
  for (const skipped of scan.skipped) logger.warn(skipped);
  for (const problem of scan.problems) logger.error(problem);
  const byFile = updatesByFile(scan);
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
      updates: updates.map(({ file, line, image, policy, from, to, digest }) => ({
        file,
        line,
        image,
        policy,
        from,
        to,
        digest,
      })),
    }));
    context.stdout(`${JSON.stringify({ environments, problems: scan.problems, written }, null, 2)}\n`);
  } else {
    for (const updates of byFile.values())
      for (const update of updates) context.stdout(`${formatUpdate(update)}\n`);
    const count = [...byFile.values()].reduce((n, u) => n + u.length, 0);
    logger.info(
      count === 0
        ? 'no image updates'
        : `${count} image update${count === 1 ? '' : 's'}${command.write ? `, written to ${written.length} file${written.length === 1 ? '' : 's'}` : ' (--write to edit the files)'}`,
    );
  }
  return scan.problems.length > 0 ? 1 : 0;
}
