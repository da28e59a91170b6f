import path from 'node:path';
import { UserError } from '../errors.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { parseManifests, type Finding, type Manifest } from '../yaml/manifest.ts';
import type { CommandRunner, Logger } from '../ports.ts';
import type { RepoPaths } from '../paths.ts';
import { kustomizationFile, kustomizeDependencies } from './kustomize-graph.ts';
import { readManifestText, scanTree } from './plain.ts';
import { DEFAULT_CAPABILITIES_NOTE, type ClusterCapabilities } from './capabilities.ts';
import { renderHelmRelease } from './helm.ts';
import { buildKustomization } from './kustomize-build.ts';
import { fieldLineIn, SourceFiles } from './source-files.ts';
import { decryptManifests } from './decrypt.ts';
import { checkRemote, type RemoteRead } from './remote.ts';

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
  /** The config file, where a Helm release's repository is named (for refusals). */
  readonly configFile?: string;
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
      // The location is the finding's own; the message is what is left.
      message: `${error.message}${error.hint ? ` (${error.hint})` : ''}`,
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
  const sources = new SourceFiles(repo);
  for (const file of tree.files) {
    try {
      const parsed = parseManifests(readManifestText(repo, file), file);
      manifests.push(...parsed.manifests.map((m) => ({ ...m, fieldSource: fieldLineIn(sources, m.source) })));
      findings.push(...parsed.findings);
    } catch (error) {
      fail(error, file);
    }
  }
  for (const dir of tree.kustomizations) {
    try {
      const remotes: RemoteRead[] = [];
      kustomizeDependencies(repo, repo.resolve(dir, 'kustomization'), new Set(), remotes);
      // Every remote is checked before kustomize runs: a refused one is never fetched.
      notes.push(...remotes.map((read) => checkRemote(read, env.name, env.allowRemote)));
      const built = await buildKustomization(context, sources, dir, kustomizationPath(repo, dir));
      manifests.push(...built.manifests);
      findings.push(...built.findings);
    } catch (error) {
      fail(error, dir);
    }
  }
  if (env.helm.length > 0 && !context.capabilities)
    context.logger.info(`${env.name}: ${DEFAULT_CAPABILITIES_NOTE}`);
  for (const release of env.helm) {
    try {
      if (release.repository !== undefined) {
        const what = `helm release ${release.releaseName} chart ${release.chart} ${release.version ?? ''} from`;
        const location = { file: context.configFile ?? 'slipway.yaml', line: 0 };
        notes.push(checkRemote({ reference: release.repository, location, what }, env.name, env.allowRemote));
      }
      const rendered = await renderHelmRelease(release, {
        runner: context.runner,
        repo,
        helm: context.tools.helm,
        namespace: env.namespace ?? 'default',
        allowRemote: env.allowRemote,
        environment: env.name,
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
  await decryptManifests(
    manifests,
    context.sopsAgeKeys ?? [],
    context.onSecret ?? (() => undefined),
    fail,
    (file) => {
      try {
        return readManifestText(repo, file);
      } catch {
        return undefined;
      }
    },
  );
  context.logger.info(
    `${env.name}: rendered ${manifests.length} objects from ${tree.files.length} files, ${tree.kustomizations.length} kustomizations, ${env.helm.length} helm releases`,
  );
  return { environment: env.name, manifests, findings, notes };
}

/** The repo-relative kustomization file of a folder, by whichever name it has. */
function kustomizationPath(repo: RepoPaths, dir: string): string {
  const file = kustomizationFile(path.join(repo.root, dir));
  return file ? repo.relative(file) : path.posix.join(dir, 'kustomization.yaml');
}
