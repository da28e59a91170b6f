import {
  environmentOrThrow,
  loadConfig,
  type EnvironmentConfig,
  type SlipwayConfig,
} from './config/config.ts';
import { crdScopes, scopeOf } from './validate/kinds.ts';
import type { Finding, Manifest } from './yaml/manifest.ts';
import { RepoPaths } from './paths.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeError, UserError } from './errors.ts';
import type { CommandRunner, GitHistory, Logger } from './ports.ts';
import type { ClusterCapabilities } from './render/capabilities.ts';
import { renderEnvironment, type RenderResult } from './render/render.ts';
import type { Settings } from './settings.ts';
import { dangerLint, validateManifests } from './validate/validate.ts';
import { isSecret, secretEntries } from './plan/normalize.ts';

/** The previous revision renders quietly: its log lines would only confuse. */
const QUIET: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: (_title, work) => work(),
};

/** Rendered Secret values at least this long are masked in every output as well. */
export const MIN_MASKED_LENGTH = 8;

/** The repository as Slipway sees it: confined paths, the config, and rendering. */
export class Workspace {
  readonly repo: RepoPaths;
  readonly config: SlipwayConfig;
  private readonly settings: Settings;
  private readonly runner: CommandRunner;
  private readonly logger: Logger;
  private readonly secretSink: (value: string) => void;

  /**
   * `secretSink` receives every Secret value the render produces (decoded and base64), so the
   * adapter can mask it everywhere: even a server error message that echoes a value stays masked.
   */
  constructor(
    settings: Settings,
    runner: CommandRunner,
    logger: Logger,
    secretSink: (value: string) => void = () => undefined,
  ) {
    this.settings = settings;
    this.runner = runner;
    this.logger = logger;
    this.secretSink = secretSink;
    this.repo = new RepoPaths(settings.repo);
    this.config = loadConfig(this.repo, settings.configFile);
  }

  /** This repository's identity for inventories (Settings.repository). */
  get repository(): string | undefined {
    return this.settings.repository;
  }

  environment(name: string): EnvironmentConfig {
    return environmentOrThrow(this.config, name);
  }

  /** Renders and validates offline; findings with severity error mean "do not apply or prune". */
  async renderAndValidate(env: EnvironmentConfig, capabilities?: ClusterCapabilities): Promise<RenderResult> {
    const rendered = await renderEnvironment(env, {
      repo: this.repo,
      runner: this.runner,
      logger: this.logger,
      tools: this.settings.tools,
      ...(capabilities ? { capabilities } : {}),
      sopsAgeKeys: this.settings.sopsAgeKeys ?? [],
      onSecret: this.secretSink,
      configFile: this.config.file ?? 'slipway.yaml',
    });
    for (const manifest of rendered.manifests) {
      if (!isSecret(manifest.object)) continue;
      for (const encoded of secretEntries(manifest.object).values()) {
        // Short values ("shop", "admin") would mask ordinary words everywhere; values are never
        // printed by design, so this is a second line of defence for real secrets only.
        const decoded = Buffer.from(encoded, 'base64').toString('utf8');
        if (decoded.length >= MIN_MASKED_LENGTH) {
          this.secretSink(encoded);
          this.secretSink(decoded);
        }
      }
    }
    const findings: Finding[] = [...rendered.findings, ...validateManifests(rendered.manifests)];
    if (rendered.manifests.length === 0 && findings.length === 0) {
      findings.push({
        severity: 'error',
        rule: 'empty-environment',
        location: { file: env.path, line: 0 },
        message: `environment "${env.name}" renders no objects; an empty render would prune everything, so Slipway refuses it (add manifests, or remove the environment from slipway.yaml)`,
      });
    }
    return { ...rendered, findings };
  }

  /**
   * Changes known to fail or destroy data (a changed selector, a removed PVC…): the environment
   * as rendered at `base` against `current`. A base that cannot be rendered is a warning, not a
   * failure: the change may be what fixes it.
   */
  async previousRevisionFindings(
    env: EnvironmentConfig,
    current: readonly Manifest[],
    base: string,
    git: GitHistory,
  ): Promise<Finding[]> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-base-'));
    try {
      await git.checkoutTree(base, dir);
      const previous = new Workspace({ ...this.settings, repo: dir }, this.runner, QUIET);
      const old = previous.config.environments.get(env.name);
      if (!old) return [];
      const rendered = await previous.renderAndValidate(old);
      return dangerLint(rendered.manifests, current);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.logger.warn(`could not render ${base.slice(0, 12)} to compare with: ${describeError(error)}`);
      return [];
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}.index`, { force: true });
    }
  }
}

/**
 * Offline namespaces for `slipway render`, as the plan sets them: a default namespace on
 * namespaced kinds, none on cluster-scoped ones. Without a cluster only built-in kinds and CRDs in
 * the same render are known; other custom kinds are printed as rendered.
 */
export function withOfflineNamespaces(manifests: readonly Manifest[], env: EnvironmentConfig): Manifest[] {
  const crds = crdScopes(manifests.map((m) => m.object));
  return manifests.map((manifest) => {
    const { object } = manifest;
    const scope = scopeOf(object.apiVersion, object.kind, crds);
    if (scope === 'cluster' && object.metadata.namespace !== undefined) {
      const { namespace: _namespace, ...metadata } = object.metadata;
      return { ...manifest, object: { ...object, metadata } };
    }
    if (object.metadata.namespace || scope !== 'namespaced') return manifest;
    return {
      ...manifest,
      object: {
        ...object,
        metadata: { ...object.metadata, namespace: manifest.defaultNamespace ?? env.namespace ?? 'default' },
      },
    };
  });
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}
