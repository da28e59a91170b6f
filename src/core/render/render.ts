import path from 'node:path';
import { UserError, describeError } from '../errors.ts';
import type { EnvironmentConfig } from '../config.ts';
import { parseManifests, type Finding, type Manifest } from '../manifest.ts';
import type { CommandRunner, Logger } from '../ports.ts';
import type { RepoPaths } from '../paths.ts';
import { kustomizationFile, kustomizeDependencies } from './kustomize-graph.ts';
import { readManifestText, scanTree } from './plain.ts';
import { DEFAULT_CAPABILITIES_NOTE, type ClusterCapabilities } from './capabilities.ts';
import { firstLines, renderHelmRelease } from './helm.ts';
import { decryptManifests } from './decrypt.ts';

export interface RenderTools {
  readonly kustomize: string;
  readonly kubectl: string;
  readonly helm: string;
}

export interface RenderContext {
  readonly repo: RepoPaths;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  readonly tools: RenderTools;
  /** The connected cluster's version and APIs for helm's `.Capabilities`; helm's defaults without. */
  readonly capabilities?: ClusterCapabilities;
  /** age identities for SOPS-encrypted manifests (from a CI secret); none: such files fail. */
  readonly sopsAgeKeys?: readonly string[];
  /** Receives every value decrypted from a SOPS file, before anything can print it. */
  readonly onSecret?: (value: string) => void;
}

export interface RenderResult {
  readonly environment: string;
  readonly manifests: Manifest[];
  /** Problems found while rendering; any error means the render is not trustworthy (no prune). */
  readonly findings: Finding[];
  /** What the plan should say about the render (e.g. each helm hook and what was done with it). */
  readonly notes: string[];
}

/** Renders an environment: plain files, kustomizations, then Helm releases, in a stable order. */
export async function renderEnvironment(
  env: EnvironmentConfig,
  context: RenderContext,
): Promise<RenderResult> {
  const { repo } = context;
  const manifests: Manifest[] = [];
  const findings: Finding[] = [];
  const notes: string[] = [];
  const fail = (error: unknown, file: string): void => {
    if (!(error instanceof UserError)) throw error;
    findings.push({
      severity: 'error',
      rule: error.kind === 'path' ? 'path-escape' : error.kind === 'tool' ? 'missing-tool' : 'render-failed',
      location: error.location ?? { file, line: 0 },
      message: describeError(error).replace(/^[^:]+:\d+: /, ''),
    });
  };
  let envDir: string;
  try {
    envDir = repo.resolve(env.path, `environment "${env.name}" path`);
    if (!repo.exists(envDir)) {
      throw new UserError('config', `environment "${env.name}" folder "${env.path}" does not exist`, {
        hint: 'create it or fix `path` in slipway.yaml',
      });
    }
  } catch (error) {
    fail(error, env.path);
    return { environment: env.name, manifests, findings, notes };
  }
  const excluded = new Set(
    env.helm.flatMap((release) => [
      ...release.valuesFiles,
      ...(release.localChart ? [release.localChart] : []),
    ]),
  );
  let tree;
  try {
    tree = scanTree(repo, envDir, excluded);
  } catch (error) {
    fail(error, env.path);
    return { environment: env.name, manifests, findings, notes };
  }
  for (const file of tree.files) {
    try {
      const parsed = parseManifests(readManifestText(repo, file), file);
      manifests.push(...parsed.manifests);
      findings.push(...parsed.findings);
    } catch (error) {
      fail(error, file);
    }
  }
  for (const dir of tree.kustomizations) {
    try {
      kustomizeDependencies(repo, repo.resolve(dir, 'kustomization'));
      const output = await kustomizeBuild(context, dir);
      const parsed = parseManifests(output, kustomizationPath(repo, dir), 'kustomize');
      // kustomize output lines are not the user's lines: point at the kustomization itself.
      manifests.push(
        ...parsed.manifests.map((m) => ({ object: m.object, source: { ...m.source, line: 0 } })),
      );
      findings.push(...parsed.findings);
    } catch (error) {
      fail(error, dir);
    }
  }
  if (env.helm.length > 0 && !context.capabilities)
    context.logger.info(`${env.name}: ${DEFAULT_CAPABILITIES_NOTE}`);
  for (const release of env.helm) {
    try {
      const rendered = await renderHelmRelease(release, {
        runner: context.runner,
        repo,
        helm: context.tools.helm,
        namespace: env.namespace ?? 'default',
        ...(context.capabilities ? { capabilities: context.capabilities } : {}),
      });
      manifests.push(...rendered.manifests);
      findings.push(...rendered.findings);
      notes.push(...rendered.notes);
      for (const note of rendered.notes) context.logger.info(`${env.name}: ${note}`);
    } catch (error) {
      fail(error, release.localChart ?? release.chart);
    }
  }
  await decryptManifests(manifests, context.sopsAgeKeys ?? [], context.onSecret ?? (() => undefined), fail);
  context.logger.info(
    `${env.name}: rendered ${manifests.length} objects from ${tree.files.length} files, ${tree.kustomizations.length} kustomizations, ${env.helm.length} helm releases`,
  );
  return { environment: env.name, manifests, findings, notes };
}

async function kustomizeBuild(context: RenderContext, dir: string): Promise<string> {
  const cwd = context.repo.root;
  let result;
  try {
    // Plugins (exec and KRM functions) stay off: they would run arbitrary programs from the repo.
    result = await context.runner.run(context.tools.kustomize, ['build', dir], { cwd, timeoutMs: 300_000 });
  } catch (error) {
    if (!(error instanceof UserError && error.kind === 'tool')) throw error;
    result = await context.runner
      .run(context.tools.kubectl, ['kustomize', dir], { cwd, timeoutMs: 300_000 })
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
    throw new UserError('render', `kustomize build ${dir} failed: ${firstLines(result.stderr)}`, {
      location: { file: kustomizationPath(context.repo, dir), line: 0 },
      hint: 'run `kustomize build` on that folder locally to see the full error',
    });
  }
  return result.stdout;
}

/** The repo-relative kustomization file of a folder, by whichever name it has. */
function kustomizationPath(repo: RepoPaths, dir: string): string {
  const file = kustomizationFile(path.join(repo.root, dir));
  return file ? repo.relative(file) : path.posix.join(dir, 'kustomization.yaml');
}
