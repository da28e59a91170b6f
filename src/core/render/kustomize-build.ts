import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { parseManifests, type Finding, type Manifest } from '../yaml/manifest.ts';
import type { RepoPaths } from '../paths.ts';
import type { CommandRunner } from '../ports.ts';
import { firstLines } from './helm.ts';
import { repoPathMapper, takeOrigin } from './kustomize-origins.ts';
import { traceObject } from './kustomize-trace.ts';
import type { SourceFiles } from './source-files.ts';

const TIMEOUT_MS = 300_000;

export interface KustomizeContext {
  readonly repo: RepoPaths;
  readonly runner: CommandRunner;
  readonly tools: { readonly kustomize: string; readonly kubectl: string };
}

/**
 * Builds one kustomization and traces every object to its file and line.
 *
 * The build goes through a wrapper kustomization in a fresh temporary folder that lists the user's
 * folder as its only resource (by a relative path: kustomize accepts a kustomization folder outside
 * the wrapper's root without loosening its load restrictor, and refuses an absolute one) and asks for
 * `buildMetadata: [originAnnotations, transformerAnnotations]`. Nothing is written into the
 * repository, the user's kustomizations keep kustomize's default root-only restrictor and no
 * plugins, and the annotations are taken off every object here, before anything else sees them.
 */
export async function buildKustomization(
  context: KustomizeContext,
  files: SourceFiles,
  dir: string,
  kustomization: string,
): Promise<{ manifests: Manifest[]; findings: Finding[] }> {
  const realRoot = realpathSync(context.repo.root);
  const wrapper = realpathSync(mkdtempSync(path.join(tmpdir(), 'slipway-kustomize-')));
  try {
    const target = path.relative(wrapper, realpathSync(path.join(context.repo.root, dir)));
    // A folder on another drive (Windows) has no relative path: build it as it is, untraced.
    const traced = !path.isAbsolute(target);
    if (traced) {
      writeFileSync(
        path.join(wrapper, 'kustomization.yaml'),
        JSON.stringify({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          resources: [target.split(path.sep).join('/')],
          buildMetadata: ['originAnnotations', 'transformerAnnotations'],
        }),
        { mode: 0o600 },
      );
    }
    const output = await run(context, traced ? wrapper : dir, kustomization, (text) =>
      text
        .replaceAll(`${path.relative(wrapper, realRoot).split(path.sep).join('/')}/`, '')
        .replaceAll(wrapper, '.')
        .replaceAll(`${realRoot}${path.sep}`, '')
        .replaceAll(`${context.repo.root}${path.sep}`, ''),
    );
    const parsed = parseManifests(output, kustomization, 'kustomize');
    const toRepo = repoPathMapper(wrapper, realRoot);
    const manifests = parsed.manifests.map((m) => {
      const { object, origin } = takeOrigin(m.object, toRepo);
      const { source, fieldSource } = traceObject(files, kustomization, object, origin);
      return { object, source, fieldSource };
    });
    return { manifests, findings: parsed.findings };
  } finally {
    rmSync(wrapper, { recursive: true, force: true });
  }
}

async function run(
  context: KustomizeContext,
  dir: string,
  kustomization: string,
  readable: (text: string) => string,
): Promise<string> {
  const cwd = context.repo.root;
  let result;
  try {
    // Plugins (exec and KRM functions) stay off: they would run arbitrary programs from the repo.
    result = await context.runner.run(context.tools.kustomize, ['build', dir], {
      cwd,
      timeoutMs: TIMEOUT_MS,
    });
  } catch (error) {
    if (!(error instanceof UserError && error.kind === 'tool')) throw error;
    result = await context.runner
      .run(context.tools.kubectl, ['kustomize', dir], { cwd, timeoutMs: TIMEOUT_MS })
      .catch(() => {
        throw new UserError(
          'tool',
          'neither `kustomize` nor `kubectl` was found on PATH to build kustomizations',
          {
            hint: 'install kustomize v5 (or kubectl) and put it on PATH',
          },
        );
      });
  }
  if (result.exitCode !== 0) {
    const folder = path.posix.dirname(kustomization);
    throw new UserError(
      'render',
      `kustomize build ${folder} failed: ${readable(firstLines(result.stderr))}`,
      {
        location: { file: kustomization, line: 0 },
        hint: 'run `kustomize build` on that folder locally to see the full error',
      },
    );
  }
  return result.stdout;
}
