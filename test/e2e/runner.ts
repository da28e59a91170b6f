// Runs the bundled action exactly as a GitHub runner does: `node dist/index.js` with GITHUB_* and
// INPUT_* variables, an event payload file, and files for outputs and the step summary.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
// dist/ copied away from the repository, as a runner downloads it: proves the bundle needs nothing
// from node_modules.
const dist = path.join(mkdtempSync(path.join(tmpdir(), 'slipway-action-')), 'dist');
cpSync(path.join(root, 'dist'), dist, { recursive: true });
process.on('exit', () => rmSync(path.dirname(dist), { recursive: true, force: true }));

/**
 * The entry to run: the bundle, or with SLIPWAY_E2E_SOURCE=1 the TypeScript source itself (Node
 * strips the types), to run the e2e tests of a change before dist/ is rebuilt.
 */
export function entry(name: 'index' | 'cli'): string {
  return process.env.SLIPWAY_E2E_SOURCE === '1'
    ? path.join(root, 'src', `${name}.ts`)
    : path.join(dist, `${name}.js`);
}

export interface ActionRun {
  readonly code: number;
  readonly log: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

export interface ActionCall {
  readonly event: 'pull_request' | 'push' | 'workflow_dispatch' | 'schedule' | 'merge_group';
  readonly payload: Record<string, unknown>;
  readonly sha: string;
  readonly ref: string;
  readonly inputs: Record<string, string>;
  readonly workspace: string;
  readonly apiUrl: string;
  readonly env: Record<string, string>;
  readonly repository?: string;
}

export function runAction(call: ActionCall): Promise<ActionRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-runner-'));
  const eventPath = path.join(dir, 'event.json');
  const outputPath = path.join(dir, 'output');
  const summaryPath = path.join(dir, 'summary');
  writeFileSync(eventPath, JSON.stringify(call.payload));
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');
  const env: Record<string, string> = {
    PATH: call.env.PATH ?? process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: call.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: call.repository ?? 'acme/deploys',
    GITHUB_SHA: call.sha,
    GITHUB_REF: call.ref,
    GITHUB_WORKSPACE: call.workspace,
    GITHUB_API_URL: call.apiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    RUNNER_TEMP: dir,
    ...call.env,
  };
  // Defaults as the runner fills them from action.yml, then the workflow's `with:`.
  const defaults: Record<string, string> = {
    command: 'auto',
    config: 'slipway.yaml',
    concurrency: '16',
    'dry-run': 'false',
    prune: 'true',
    force: 'false',
    comment: 'true',
    heal: 'false',
    'working-directory': '.',
    'comment-author': 'github-actions[bot]',
  };
  for (const [name, value] of Object.entries({ ...defaults, ...call.inputs }))
    env[`INPUT_${name.toUpperCase()}`] = value;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry('index')],
      { env, cwd: call.workspace, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({
          code,
          log: stdout + stderr,
          outputs: parseOutputs(readFileSync(outputPath, 'utf8')),
          summary: readFileSync(summaryPath, 'utf8'),
        });
      },
    );
  });
}

/** GITHUB_OUTPUT's format: `name<<DELIMITER\nvalue\nDELIMITER`. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!match?.[1] || !match[2]) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i] ?? '');
    outputs[match[1]] = value.join('\n');
  }
  return outputs;
}

export function pullRequestPayload(
  number: number,
  base: string,
  head: string,
  repository = 'acme/deploys',
  headRepository = repository,
): Record<string, unknown> {
  return {
    action: 'synchronize',
    number,
    pull_request: {
      number,
      base: { sha: base, ref: 'main', repo: { full_name: repository } },
      head: { sha: head, ref: 'feature', repo: { full_name: headRepository } },
    },
    repository: { full_name: repository, default_branch: 'main' },
  };
}

export function pushPayload(
  before: string,
  after: string,
  repository = 'acme/deploys',
): Record<string, unknown> {
  return {
    ref: 'refs/heads/main',
    before,
    after,
    repository: { full_name: repository, default_branch: 'main' },
  };
}
