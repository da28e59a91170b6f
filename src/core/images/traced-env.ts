// One environment's tag locations from its render, merged with those its files hold.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, formatLocation, UserError } from '../errors.ts';
import type { RepoPaths } from '../paths.ts';
import type { TagLocation } from './locate.ts';
import type { ImagePolicy } from './policy.ts';
import { supersededByEntries, supersededInRender } from './superseded.ts';
import { mergeLocations, traceImages, type RenderEnvironment, type TraceFiles } from './trace.ts';
import { policyFor, type ImageUpdate } from './updates.ts';

export type { RenderEnvironment } from './trace.ts';

export interface TraceContext {
  readonly repo: RepoPaths;
  readonly policies: readonly ImagePolicy[];
  readonly render: RenderEnvironment;
  /** The file search's reader: located tags of a repo-relative file. */
  readonly located: (file: string) => TagLocation[];
  readonly skipped: string[];
  readonly notes: string[];
}

export interface EnvironmentLocations {
  /** What to edit: `searched` (the environment's files) plus the traced lines, markers winning. */
  readonly locations: TagLocation[];
  /** Every line the render traced to, edited or not: where the environment's tags really come from. */
  readonly traced: readonly TagLocation[];
}

/**
 * The lines an environment's rendered images trace to, merged with its files' locations. A render
 * that fails leaves the file search as it was, with a warning: tracing adds places, never blocks.
 */
export async function tracedFor(
  env: EnvironmentConfig,
  searched: readonly TagLocation[],
  context: TraceContext,
): Promise<EnvironmentLocations> {
  let rendered;
  try {
    rendered = await context.render(env);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    context.skipped.push(`${env.name}: tags not traced from the render: ${describeError(error)}`);
    const { kept, notes } = supersededByEntries(searched);
    context.notes.push(...notes.map((note) => `${env.name}: ${note}`));
    return { locations: kept, traced: [] };
  }
  const errors = rendered.findings.filter((f) => f.severity === 'error');
  const first = errors[0];
  if (first)
    context.skipped.push(
      `${env.name}: the render has ${errors.length} error${errors.length === 1 ? '' : 's'} (${formatLocation(first.location)}: ${first.message}): tags traced only from the objects that rendered`,
    );
  const traced = traceImages(rendered.manifests, context.policies, traceFiles(context));
  const policyOf = (l: TagLocation): string | undefined => policyFor(l, context.policies)?.name;
  // Files the render did not reach (a kustomization that failed) fall back to the folder rule.
  const guessed = first ? supersededByEntries(searched) : { kept: [...searched], notes: [] };
  const live = supersededInRender(guessed.kept, traced.overridden, traced.locations, policyOf);
  context.notes.push(...[...guessed.notes, ...live.notes].map((note) => `${env.name}: ${note}`));
  const merged = mergeLocations(live.kept, traced.locations, policyOf);
  for (const { policy, tag, message } of traced.untraced) {
    const covered = merged.some(
      (l) => policyFor(l, context.policies)?.name === policy && l.currentTag === tag,
    );
    if (!covered) context.notes.push(`${env.name}: ${message}`);
  }
  return { locations: merged, traced: traced.locations };
}

/** Files are read through the repository guard: a trace into a symlink that leaves it is refused. */
function traceFiles(context: TraceContext): TraceFiles {
  const inside = (file: string): string | undefined => {
    try {
      return context.repo.resolve(file, 'traced file');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const line = `${file}: not edited: ${error.message}`;
      if (!context.skipped.includes(line)) context.skipped.push(line);
      return undefined;
    }
  };
  return {
    located: (file) => (inside(file) === undefined ? undefined : context.located(file)),
    text: (file) => {
      const absolute = inside(file);
      try {
        return absolute === undefined ? undefined : readFileSync(absolute, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * With `--env`, other environments are not rendered: an edit outside the environment's own files
 * (a shared base) may change them too, and the user is told so.
 */
export function outsideNotes(
  env: EnvironmentConfig,
  environments: readonly { readonly environment: string; readonly updates: readonly ImageUpdate[] }[],
): string[] {
  const own = (file: string): boolean =>
    env.helm.some((release) => release.valuesFiles.includes(file)) ||
    env.path === '.' ||
    !path.posix.relative(env.path, file).startsWith('..');
  const files = environments
    .filter((e) => e.environment === env.name)
    .flatMap((e) => e.updates)
    .filter((u) => !own(u.file));
  return [...new Set(files.map((u) => u.file))].map(
    (file) =>
      `${file} is outside ${env.path}: other environments built from it change too (run without --env to check them all)`,
  );
}
