import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { workflowTemplates } from './templates.ts';

/**
 * `slipway init`: finds the environment folders (clusters/<name>, or top-level folders named
 * like `<name>-cluster`/`<name>-env`), writes slipway.yaml and the five workflows. Existing files
 * are left alone unless `force`.
 */
export function runInit(repo: string, force: boolean, stdout: (text: string) => void): number {
  const environments = discoverEnvironments(repo);
  if (environments.length === 0) {
    throw new UserError(
      'config',
      'no environment folders found (looked for clusters/<name>/ and top-level <name>-cluster/ folders)',
      {
        hint: 'write slipway.yaml by hand: see the configuration reference in the README',
      },
    );
  }
  const files: Record<string, string> = { 'slipway.yaml': configText(environments) };
  for (const [name, text] of Object.entries(workflowTemplates(environments.map((e) => e.name))))
    files[`.github/workflows/${name}`] = text;
  let skipped = 0;
  for (const [file, text] of Object.entries(files)) {
    const target = path.join(repo, file);
    if (existsSync(target) && !force) {
      stdout(`kept ${file} (exists; --force overwrites)\n`);
      skipped++;
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    stdout(`wrote ${file}\n`);
  }
  stdout(
    `environments: ${environments.map((e) => `${e.name} (${e.path})`).join(', ')}\nnext: add each cluster's kubeconfig as the secret KUBECONFIG of a GitHub Environment of the same name\n`,
  );
  return skipped === Object.keys(files).length ? 1 : 0;
}

interface Discovered {
  readonly name: string;
  readonly path: string;
}

export function discoverEnvironments(repo: string): Discovered[] {
  const dirs = (dir: string): string[] => {
    try {
      return readdirSync(path.join(repo, dir), { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
  };
  const found: Discovered[] = dirs('clusters').map((name) => ({
    name: slug(name),
    path: `clusters/${name}`,
  }));
  for (const name of dirs('.')) {
    const match = /^(.+?)[-_](cluster|env|environment)$/.exec(name);
    if (match?.[1]) found.push({ name: slug(match[1]), path: name });
  }
  return found;
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function configText(environments: readonly Discovered[]): string {
  const lines = [
    '# Slipway: one entry per environment folder. Reference: the README of Slipway.',
    'environments:',
  ];
  for (const env of environments) lines.push(`  ${env.name}:`, `    path: ${env.path}`);
  return `${lines.join('\n')}\n`;
}
