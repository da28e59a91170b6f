// `slipway images`: which files of which environments hold tags a policy would bump, and to what.
// Registry access goes through the ImageRegistry port, so the engine stays free of HTTP.

import { readdirSync, readFileSync } from 'node:fs';
import type { EnvironmentConfig, SlipwayConfig } from '../config/config.ts';
import { describeError, errorMessage, formatLocation, UserError } from '../errors.ts';
import type { RepoPaths } from '../paths.ts';
import { locateTags, type TagLocation } from './locate.ts';
import type { ImagePolicy } from './policy.ts';
import { VALID_TAG } from './reference.ts';
import { selectLatest } from './select.ts';
import { checkSharedEdits } from './shared.ts';
import { supersededByEntries } from './superseded.ts';
import { locationKey } from './trace.ts';
import { outsideNotes, tracedFor, type RenderEnvironment } from './traced-env.ts';
import { planUpdates, policyFor, type ImageUpdate, type PolicyResult } from './updates.ts';

export interface ImageRegistry {
  tags(repository: string, insecure: boolean): Promise<string[]>;
  digest(repository: string, tag: string, insecure: boolean): Promise<string>;
}

export interface EnvironmentUpdates {
  readonly environment: string;
  readonly updates: readonly ImageUpdate[];
}

export interface ImageScan {
  readonly environments: readonly EnvironmentUpdates[];
  /** A policy whose registry failed: none of its tags is touched. */
  readonly problems: readonly string[];
  /** Files that could not be read as YAML (Helm templates, say): not searched. */
  readonly skipped: readonly string[];
  /** What the user should know: tags not traced, a shared file edited for one environment only. */
  readonly notes?: readonly string[];
}

/**
 * The repo-relative YAML files an environment's tags can live in: its folder, and its Helm values
 * files; never the config file itself (its `image:` keys name policies, not images to run).
 */
export function environmentFiles(repo: RepoPaths, env: EnvironmentConfig, configFile?: string): string[] {
  const files = new Set<string>();
  const walk = (relative: string): void => {
    const absolute = repo.resolve(relative, `environment "${env.name}" file`);
    let entries;
    try {
      entries = readdirSync(absolute, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.')) continue;
      const child = relative === '.' ? entry.name : `${relative}/${entry.name}`;
      // A chart's templates are Go templates, not YAML: their images come from values files.
      if (entry.isDirectory() && entry.name !== 'templates') walk(child);
      else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) files.add(child);
    }
  };
  walk(env.path);
  for (const release of env.helm) for (const values of release.valuesFiles) files.add(values);
  if (configFile !== undefined) files.delete(configFile);
  return [...files];
}

/**
 * Finds the updates for each environment (or only `only`). Each policy's registry is asked once,
 * and only when some file holds its image; a registry failure is a problem, not an update. With
 * `render`, the rendered objects' images are traced to the lines that set them too (a shared base
 * outside the environment's folder, the overlay's `images:` entry that overrides it).
 */
export async function findImageUpdates(
  repo: RepoPaths,
  config: SlipwayConfig,
  registry: ImageRegistry,
  only?: string,
  render?: RenderEnvironment,
): Promise<ImageScan> {
  const policies = config.imagePolicies ?? [];
  if (policies.length === 0)
    throw new UserError('config', 'no `image-policies:` in the config: nothing to look for', {
      hint: 'add image policies to slipway.yaml (see "Image updates" in the README)',
    });
  const envs = only === undefined ? [...config.environments.values()] : [envOf(config, only)];
  const skipped: string[] = [];
  const cache = new Map<string, TagLocation[]>();
  const located = (file: string): TagLocation[] => {
    let locations = cache.get(file);
    if (locations) return locations;
    try {
      const absolute = repo.resolve(file, 'image file');
      locations = locateTags(readFileSync(absolute, 'utf8'), file);
    } catch (error) {
      if (error instanceof UserError) throw error;
      skipped.push(`${file}: not searched: ${errorMessage(error).split('\n')[0] ?? ''}`);
      locations = [];
    }
    cache.set(file, locations);
    return locations;
  };
  const unknownMarkers = new Set<string>();
  const notes: string[] = [];
  const perEnv = [];
  for (const env of envs) {
    const applicable = policies.filter(
      (p) => p.environments === undefined || p.environments.includes(env.name),
    );
    const searched = environmentFiles(repo, env, config.file).flatMap(located);
    for (const l of searched)
      if (l.policy !== undefined && !policies.some((p) => p.name === l.policy))
        unknownMarkers.add(
          `${formatLocation(l)}: the marker names image policy "${l.policy}", which slipway.yaml does not define`,
        );
    const { locations: all, traced } = render
      ? await tracedFor(env, searched, {
          repo,
          // Two policies may name one image for different environments: this one's come first.
          policies: [...applicable, ...policies.filter((p) => !applicable.includes(p))],
          render,
          located,
          skipped,
          notes,
        })
      : { locations: withoutRender(env, searched, notes), traced: [] };
    const locations = all.filter((location) => policyFor(location, applicable) !== undefined);
    perEnv.push({ env, applicable, locations, all: [...all, ...traced] });
  }
  const used = new Map<string, ImagePolicy>();
  for (const { applicable, locations } of perEnv)
    for (const location of locations) {
      const policy = policyFor(location, applicable);
      if (policy) used.set(policy.name, policy);
    }
  const problems: string[] = [...unknownMarkers];
  const results = new Map<string, PolicyResult>();
  for (const policy of used.values()) {
    try {
      const { result, invalid } = await resolvePolicy(policy, registry);
      results.set(policy.name, result);
      if (invalid.length) notes.push(invalidTagsNote(policy, invalid));
    } catch (error) {
      problems.push(`image policy "${policy.name}": ${describeError(error)}`);
    }
  }
  const planned = perEnv.map(({ env, applicable, locations, all }) => {
    const own = new Map([...results].filter(([name]) => applicable.some((p) => p.name === name)));
    const uses = new Set(all.filter((l) => policyFor(l, policies) !== undefined).map(locationKey));
    return { environment: env.name, uses, updates: planUpdates(locations, own) };
  });
  const shared = checkSharedEdits(planned);
  problems.push(...shared.problems);
  if (only !== undefined) notes.push(...outsideNotes(envOf(config, only), shared.environments));
  return { environments: shared.environments, problems, skipped, notes };
}

/** No render to trace with: an `images:` entry wins over the `image:` lines in its folder. */
function withoutRender(
  env: EnvironmentConfig,
  searched: readonly TagLocation[],
  notes: string[],
): TagLocation[] {
  const { kept, notes: dropped } = supersededByEntries(searched);
  notes.push(...dropped.map((note) => `${env.name}: ${note}`));
  return kept;
}

function envOf(config: SlipwayConfig, name: string): EnvironmentConfig {
  const env = config.environments.get(name);
  if (!env)
    throw new UserError('usage', `unknown environment "${name}"`, {
      hint: `known environments: ${[...config.environments.keys()].join(', ')}`,
    });
  return env;
}

async function resolvePolicy(
  policy: ImagePolicy,
  registry: ImageRegistry,
): Promise<{ result: PolicyResult; invalid: string[] }> {
  const listed = await registry.tags(policy.image, policy.insecure);
  // A registry is outside the repository: a listed "tag" that is not a valid OCI tag could carry
  // YAML into a file. It is left out of the choice, so it cannot hide the valid latest either.
  const tags = listed.filter((tag) => VALID_TAG.test(tag));
  const invalid = listed.filter((tag) => !VALID_TAG.test(tag));
  const latest = selectLatest(policy, tags);
  // The digest both pins and proves the tag resolves to a manifest now: no digest, no update.
  const digest = latest ? await registry.digest(policy.image, latest.tag, policy.insecure) : undefined;
  return { result: { policy, latest, digest }, invalid };
}

function invalidTagsNote(policy: ImagePolicy, invalid: readonly string[]): string {
  const shown = invalid
    .slice(0, 3)
    .map((tag) => JSON.stringify(tag.length > 60 ? `${tag.slice(0, 60)}…` : tag));
  const more = invalid.length > 3 ? ` and ${invalid.length - 3} more` : '';
  return `image policy "${policy.name}": ignored ${invalid.length} tag${invalid.length === 1 ? '' : 's'} ${policy.image} lists that ${invalid.length === 1 ? 'is' : 'are'} not valid OCI tags: ${shown.join(', ')}${more}`;
}
