import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump } from 'js-yaml';
import { KUBECTL_DUMP_SCHEMA } from '../yaml/yaml.ts';
import { UserError } from '../errors.ts';
import type { HelmReleaseConfig } from '../config/config.ts';
import { parseManifests, type Finding, type Manifest } from '../yaml/manifest.ts';
import { valuesTracer } from './helm-values-trace.ts';
import { SourceFiles } from './source-files.ts';
import type { CommandRunner } from '../ports.ts';
import type { RepoPaths } from '../paths.ts';
import type { ClusterCapabilities } from './capabilities.ts';
import { makeScratch, prepareChart } from './helm-deps.ts';
import { hookDecision } from './helm-hooks.ts';

export interface HelmContext {
  readonly runner: CommandRunner;
  readonly repo: RepoPaths;
  readonly helm: string;
  /** Fallback namespace when the release names none. */
  readonly namespace: string;
  /** From the cluster when connected, so `.Capabilities` checks behave as they do under Flux. */
  readonly capabilities?: ClusterCapabilities;
  readonly env?: Readonly<Record<string, string>>;
  /** The environment's `remote: allow`: whether chart dependencies may be pulled from repositories. */
  readonly allowRemote?: boolean;
  readonly environment?: string;
}

export interface HelmRender {
  readonly manifests: Manifest[];
  readonly findings: Finding[];
  /** One line per hook: which, and whether it is applied or skipped (shown in the plan). */
  readonly notes: string[];
}

/**
 * Renders one release with `helm template` as Flux and Argo CD would: the cluster's version and
 * APIs as `.Capabilities`, chart dependencies built (never inside the repository), test hooks
 * left out and every other hook named in the plan (see helm-hooks.ts for which are applied).
 */
export async function renderHelmRelease(
  release: HelmReleaseConfig,
  context: HelmContext,
): Promise<HelmRender> {
  const namespace = release.targetNamespace ?? context.namespace;
  const scratch = makeScratch();
  const env = { HELM_CACHE_HOME: path.join(scratch, 'cache'), ...context.env };
  try {
    const findings: Finding[] = [];
    const args = ['template', release.releaseName];
    let localSubcharts: ReadonlyMap<string, string> = new Map();
    if (release.localChart !== undefined) {
      context.repo.resolve(release.localChart, `helm chart "${release.chart}"`);
      const prepared = await prepareChart(release.localChart, {
        runner: context.runner,
        repo: context.repo,
        helm: context.helm,
        scratch,
        env,
        plainHttp: release.insecure,
        allowRemote: context.allowRemote ?? false,
        environment: context.environment ?? '',
      });
      findings.push(...prepared.findings);
      localSubcharts = prepared.localSubcharts;
      args.push(prepared.dir);
    } else if (release.repository?.startsWith('oci://')) {
      args.push(`${release.repository.replace(/\/$/, '')}/${release.chart}`);
    } else {
      args.push(release.chart, '--repo', release.repository ?? '');
    }
    if (release.version !== undefined) args.push('--version', release.version);
    if (release.insecure && release.repository?.startsWith('oci://')) args.push('--plain-http');
    args.push('--namespace', namespace, '--include-crds', '--skip-tests');
    args.push(...capabilityArgs(context.capabilities));
    for (const file of release.valuesFiles) args.push('--values', context.repo.resolve(file, 'values file'));
    if (Object.keys(release.values).length > 0) {
      const inline = path.join(scratch, 'values.yaml');
      // Helm reads values as YAML 1.1 (like kubectl): write strings such as `0x1f` quoted.
      writeFileSync(inline, dump(release.values, { schema: KUBECTL_DUMP_SCHEMA }), { mode: 0o600 });
      args.push('--values', inline);
    }
    const result = await context.runner.run(context.helm, args, {
      cwd: context.repo.root,
      env,
      timeoutMs: 300_000,
    });
    if (result.exitCode !== 0) {
      throw new UserError(
        'render',
        `helm could not render release "${release.releaseName}" (chart ${release.chart}): ${firstLines(result.stderr)}`,
        {
          hint: 'run the same `helm template` locally to see the chart error; check the chart version and values',
        },
      );
    }
    const parsed = parseRelease(
      result.stdout,
      release,
      namespace,
      localSubcharts,
      new SourceFiles(context.repo),
    );
    return { ...parsed, findings: [...findings, ...parsed.findings] };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `--kube-version` and `--api-versions` from discovery; none without a cluster (helm's defaults). */
export function capabilityArgs(capabilities: ClusterCapabilities | undefined): string[] {
  if (!capabilities) return [];
  const args: string[] = [];
  if (capabilities.kubeVersion) args.push('--kube-version', capabilities.kubeVersion);
  if (capabilities.apiVersions.length > 0) args.push('--api-versions', capabilities.apiVersions.join(','));
  return args;
}

/** Helm's output as manifests pointing at their template files, hooks sorted out with a note each. */
function parseRelease(
  output: string,
  release: HelmReleaseConfig,
  namespace: string,
  localSubcharts: ReadonlyMap<string, string>,
  files: SourceFiles,
): HelmRender {
  const manifests: Manifest[] = [];
  const findings: Finding[] = [];
  const notes: string[] = [];
  const via = `helm release ${release.releaseName}`;
  const traceValues = valuesTracer(files, release.valuesFiles, via);
  for (const part of splitHelmSources(output)) {
    const file = templateFile(part.source, release, localSubcharts);
    const parsed = parseManifests(part.text, file, via);
    findings.push(...parsed.findings);
    for (const manifest of parsed.manifests) {
      // Lines in helm's output are not the template's lines: name the template file only.
      const source = { ...manifest.source, line: 0 };
      const hook = hookDecision(manifest.object);
      if (hook) {
        notes.push(
          `${via}: hook ${manifest.object.kind}/${manifest.object.metadata.name ?? ''} (${hook.events.join(', ')}, ${file}) ${hook.apply ? 'applied' : 'skipped'}: ${hook.reason}`,
        );
        if (!hook.apply) continue;
      }
      manifests.push({
        object: manifest.object,
        source,
        defaultNamespace: namespace,
        fieldSource: traceValues(manifest.object),
      });
    }
  }
  return { manifests, findings, notes };
}

/**
 * `# Source: <chart name>/templates/x.yaml` → the file in the repository (the chart's name need
 * not be its folder's); a `file://` subchart's templates → that chart's own folder.
 */
function templateFile(
  source: string | undefined,
  release: HelmReleaseConfig,
  localSubcharts: ReadonlyMap<string, string>,
): string {
  if (!release.localChart) return release.chart;
  if (!source) return release.localChart;
  const inChart = source.slice(source.indexOf('/') + 1);
  const sub = /^charts\/([^/]+)\/(.+)$/.exec(inChart);
  if (sub) {
    const folder = localSubcharts.get(sub[1] ?? '');
    if (folder && !sub[2]?.startsWith('charts/')) return path.posix.join(folder, sub[2] ?? '');
    return path.posix.join(release.localChart, 'Chart.yaml');
  }
  return path.posix.join(release.localChart, inChart);
}

export function firstLines(text: string, count = 6): string {
  return text.trim().split('\n').slice(0, count).join(' ').slice(0, 1500);
}

/** Helm prints `# Source: chart/templates/x.yaml` above each document; keep it as provenance. */
export function splitHelmSources(
  output: string,
): { source: string | undefined; text: string; lineOffset: number }[] {
  const parts: { source: string | undefined; text: string; lineOffset: number }[] = [];
  const lines = output.split('\n');
  let current: string[] = [];
  let source: string | undefined;
  let start = 0;
  const flush = (): void => {
    if (current.some((line) => line.trim() !== '' && !line.startsWith('#')))
      parts.push({ source, text: current.join('\n'), lineOffset: start });
  };
  lines.forEach((line, index) => {
    if (line === '---' || line.startsWith('--- ')) {
      flush();
      current = [];
      source = undefined;
      start = index + 1;
      return;
    }
    const match = /^# Source: (.+)$/.exec(line);
    if (match && source === undefined) source = match[1];
    current.push(line);
  });
  flush();
  return parts;
}
