// A line several environments use (a kustomize base, a shared values file) is edited once, and only
// when every one of them would get the same edit: otherwise bumping it for one environment would
// silently change another that its policy does not cover, or that pins another tag.

import { locationKey } from './trace.ts';
import type { ImageUpdate } from './updates.ts';

export interface EnvironmentUse {
  readonly environment: string;
  /** Keys (locationKey) of every tag location the environment's objects come from, any policy. */
  readonly uses: ReadonlySet<string>;
  readonly updates: readonly ImageUpdate[];
}

export interface SharedCheck {
  readonly environments: { readonly environment: string; readonly updates: readonly ImageUpdate[] }[];
  readonly problems: string[];
}

export function checkSharedEdits(envs: readonly EnvironmentUse[]): SharedCheck {
  const refused = new Set<string>();
  const problems: string[] = [];
  const edited = new Map<string, ImageUpdate>();
  for (const env of envs) for (const update of env.updates) edited.set(locationKey(update), update);
  for (const [key, update] of edited) {
    const users = envs.filter((env) => env.uses.has(key) || env.updates.some((u) => locationKey(u) === key));
    const edits = users.map((env) => ({
      environment: env.environment,
      update: env.updates.find((u) => locationKey(u) === key),
    }));
    if (edits.every((e) => e.update !== undefined && e.update.text === update.text)) continue;
    refused.add(key);
    const each = edits.map((e) => `${e.environment}: ${e.update ? e.update.to : 'unchanged'}`).join(', ');
    problems.push(
      `${update.file}:${update.line}: used by ${users.map((u) => u.environment).join(', ')}, which would not all get the same tag (${each}): not edited; set the tag in each environment instead (e.g. a kustomize \`images:\` entry in each overlay)`,
    );
  }
  return {
    environments: envs.map((env) => ({
      environment: env.environment,
      updates: env.updates.filter((u) => !refused.has(locationKey(u))),
    })),
    problems,
  };
}

/** The environments whose updates edit this location (a shared base: more than one). */
export function environmentsEditing(
  envs: readonly { readonly environment: string; readonly updates: readonly ImageUpdate[] }[],
  update: ImageUpdate,
): string[] {
  const key = locationKey(update);
  return envs.filter((env) => env.updates.some((u) => locationKey(u) === key)).map((env) => env.environment);
}
