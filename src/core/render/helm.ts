import { mkdtempSync, readdirSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { UserError } from '../errors.ts';
import type { HelmReleaseConfig } from '../config.ts';
import type { CommandRunner } from '../ports.ts';
import type { RepoPaths } from '../paths.ts';

export interface HelmContext {
  readonly runner: CommandRunner;
  readonly repo: RepoPaths;
  readonly helm: string;
  /** Fallback namespace when the release names none. */
  readonly namespace: string;
  /** From the cluster when known, so `.Capabilities` checks in charts behave as they will live. */
  readonly kubeVersion?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Renders one release with `helm template`. Hooks are left out (`--no-hooks`): Slipway applies
 * the chart's resources and runs no hook. Returns the multi-document YAML helm printed.
 */
export async function renderHelmRelease(release: HelmReleaseConfig, context: HelmContext): Promise<string> {
  const namespace = release.targetNamespace ?? context.namespace;
  const args = ['template', release.releaseName];
  if (release.localChart !== undefined) {
    const chartDir = context.repo.resolve(release.localChart, `helm chart "${release.chart}"`);
    assertNoEscapingLinks(context.repo, chartDir);
    args.push(chartDir);
  } else if (release.repository?.startsWith('oci://')) {
    args.push(`${release.repository.replace(/\/$/, '')}/${release.chart}`);
  } else {
    args.push(release.chart, '--repo', release.repository ?? '');
  }
  if (release.version !== undefined) args.push('--version', release.version);
  if (release.insecure && release.repository?.startsWith('oci://')) args.push('--plain-http');
  args.push('--namespace', namespace, '--include-crds', '--skip-tests', '--no-hooks');
  if (context.kubeVersion) args.push('--kube-version', context.kubeVersion);
  for (const file of release.valuesFiles) args.push('--values', context.repo.resolve(file, 'values file'));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-helm-'));
  try {
    if (Object.keys(release.values).length > 0) {
      const inline = path.join(scratch, 'values.yaml');
      writeFileSync(inline, dump(release.values), { mode: 0o600 });
      args.push('--values', inline);
    }
    const result = await context.runner.run(context.helm, args, {
      cwd: context.repo.root,
      env: { HELM_CACHE_HOME: path.join(scratch, 'cache'), ...context.env },
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
    return result.stdout;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function assertNoEscapingLinks(repo: RepoPaths, dir: string): void {
  for (const name of readdirSync(dir)) {
    const absolute = path.join(dir, name);
    const stat = lstatSync(absolute);
    if (stat.isSymbolicLink()) repo.assertRealInside(absolute, 'symlink in helm chart');
    else if (stat.isDirectory()) assertNoEscapingLinks(repo, absolute);
  }
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
