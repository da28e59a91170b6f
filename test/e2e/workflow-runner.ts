// Runs a whole workflow file the way GitHub Actions does, far enough to test the shipped examples:
// the `on:` filter, jobs in `needs` order, job `if:`, matrices, `environment:` (its secrets and
// whether it has required reviewers), `permissions:`, `concurrency:`, and every step — checkout
// (the test repository is already checked out), the Slipway action (run as GitHub runs it, through
// runner.ts), and `run:` scripts. Expressions are evaluated by GitHub's own evaluator
// (@actions/expressions). After each job, every request it sent to the GitHub fake is checked
// against the GITHUB_TOKEN permissions the job declared.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { load } from 'js-yaml';
import type { FakeGitHub } from '../fakes/github-server.ts';
import { runAction, type ActionCall, type ActionRun } from './runner.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface Environment {
  readonly secrets: Record<string, string>;
  /** Required reviewers: every job that names it waits for an approval. */
  readonly reviewers?: boolean;
}

export interface World {
  readonly github: FakeGitHub;
  /** The checked-out repository (GITHUB_WORKSPACE). */
  readonly workspace: string;
  readonly environments: Record<string, Environment>;
  /** Extra variables for the action's process (PATH with the tools). */
  readonly env: Record<string, string>;
  readonly token: string;
}

export interface Trigger {
  readonly event: ActionCall['event'];
  readonly payload: Record<string, unknown>;
  readonly sha: string;
  readonly ref: string;
  /** workflow_dispatch inputs, typed as the workflow declares them. */
  readonly inputs?: Record<string, unknown>;
}

export interface JobRun {
  readonly id: string;
  readonly matrix: Record<string, unknown>;
  readonly environment: string | undefined;
  readonly waitedForApproval: boolean;
  readonly concurrency: { group: string; cancelInProgress: boolean } | undefined;
  readonly steps: ActionRun[];
  readonly ok: boolean;
  /** Requests the job sent that its `permissions:` do not allow. */
  readonly forbidden: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Step = {
  uses?: string;
  run?: string;
  id?: string;
  with?: Record<string, Json>;
  env?: Record<string, Json>;
};
type Job = {
  needs?: string | string[];
  if?: string | boolean;
  strategy?: { matrix?: Json };
  environment?: Json;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  outputs?: Record<string, string>;
  steps: Step[];
};
type Workflow = {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
};

/** `${{ expr }}` evaluated with GitHub's evaluator; a string that is one expression keeps its type. */
export function evaluate(value: Json, context: Record<string, Json>): Json {
  if (typeof value !== 'string') return value;
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(value.trim());
  if (whole && !whole[1]?.includes('}}')) return expression(whole[1] ?? '', context);
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr: string) => {
    const result = expression(expr, context);
    return result === null ? '' : typeof result === 'object' ? JSON.stringify(result) : String(result);
  });
}

function expression(source: string, context: Record<string, Json>): Json {
  const lexed = new Lexer(source.trim()).lex();
  const parsed = new Parser(lexed.tokens, Object.keys(context), []).parse();
  const dictionary = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  const result = new Evaluator(parsed, dictionary).evaluate();
  return JSON.parse(JSON.stringify(result, data.replacer)) as Json;
}

/** A value as it appears in an input, a variable or a script: objects as JSON, null as empty. */
function text(value: Json): string {
  if (value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function deepEvaluate(value: Json, context: Record<string, Json>): Json {
  if (Array.isArray(value)) return value.map((v) => deepEvaluate(v, context));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepEvaluate(v, context)]));
  return evaluate(value, context);
}

/** The GITHUB_TOKEN permission each fake operation needs; alternatives are separated by `|`. */
const NEEDS: Record<string, string> = {
  'issues/list-comments': 'pull-requests: read|issues: read',
  'issues/create-comment': 'pull-requests: write|issues: write',
  'issues/update-comment': 'pull-requests: write|issues: write',
  'issues/delete-comment': 'pull-requests: write|issues: write',
  'issues/list-for-repo': 'issues: read',
  'issues/get': 'issues: read',
  'issues/create': 'issues: write',
  'issues/update': 'issues: write',
  'checks/create': 'checks: write',
  'checks/update': 'checks: write',
  'checks/get': 'checks: read',
  'repos/create-deployment': 'deployments: write',
  'repos/create-deployment-status': 'deployments: write',
  'repos/list-deployments': 'deployments: read',
  'repos/list-deployment-statuses': 'deployments: read',
  'repos/create-commit-status': 'statuses: write',
  'repos/list-pull-requests-associated-with-commit': 'pull-requests: read|contents: read',
};

function allowed(permissions: Record<string, string>, need: string): boolean {
  return need.split('|').some((alternative) => {
    const [scope = '', level = ''] = alternative.split(': ');
    const granted = permissions[scope];
    return granted === 'write' || (level === 'read' && granted === 'read');
  });
}

function orderByNeeds(jobs: Record<string, Job>): string[] {
  const done: string[] = [];
  const visit = (id: string): void => {
    if (done.includes(id)) return;
    const needs = jobs[id]?.needs;
    for (const need of typeof needs === 'string' ? [needs] : (needs ?? [])) visit(need);
    done.push(id);
  };
  for (const id of Object.keys(jobs)) visit(id);
  return done;
}

/** The matrix's combinations (one key with a list of values, as the examples use). */
function combinations(matrix: Json): Record<string, Json>[] {
  if (matrix === null) return [{}];
  if (typeof matrix !== 'object' || Array.isArray(matrix)) throw new Error('matrix must be a mapping');
  let out: Record<string, Json>[] = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    if (!Array.isArray(values))
      throw new Error(`matrix.${key} must be a list, got ${JSON.stringify(values)}`);
    out = out.flatMap((partial) => values.map((value) => ({ ...partial, [key]: value })));
  }
  return out;
}

export async function runWorkflow(file: string, trigger: Trigger, world: World): Promise<JobRun[]> {
  const workflow = load(readFileSync(path.join(root, file), 'utf8')) as Workflow;
  if (!(trigger.event in workflow.on)) return [];
  const github: Json = {
    event_name: trigger.event,
    event: trigger.payload as Json,
    sha: trigger.sha,
    ref: trigger.ref,
    repository: `${world.github.owner}/${world.github.repo}`,
    run_id: '4242',
  };
  const inputs = (trigger.inputs ?? {}) as Json;
  const results = new Map<string, { ok: boolean; outputs: Record<string, Json> }>();
  const runs: JobRun[] = [];
  for (const id of orderByNeeds(workflow.jobs)) {
    const job = workflow.jobs[id] as Job;
    const needIds = typeof job.needs === 'string' ? [job.needs] : (job.needs ?? []);
    const needs: Record<string, Json> = Object.fromEntries(
      needIds.map((n) => [
        n,
        { result: results.get(n)?.ok ? 'success' : 'failure', outputs: results.get(n)?.outputs ?? {} },
      ]),
    );
    const base = { github, inputs, needs };
    const prerequisitesOk = needIds.every((n) => results.get(n)?.ok);
    const condition =
      job.if === undefined
        ? true
        : evaluate(
            typeof job.if === 'boolean' ? job.if : job.if.includes('${{') ? job.if : `\${{ ${job.if} }}`,
            base,
          );
    if (!prerequisitesOk || !condition) {
      results.set(id, { ok: prerequisitesOk, outputs: {} });
      continue;
    }
    const outputs: Record<string, Json> = {};
    let ok = true;
    for (const matrix of combinations(deepEvaluate(job.strategy?.matrix ?? null, base))) {
      const run = await runJob(id, job, workflow, { ...base, matrix }, world, trigger);
      runs.push(run);
      ok &&= run.ok;
      Object.assign(outputs, run.outputs);
    }
    results.set(id, { ok, outputs });
  }
  return runs;
}

async function runJob(
  id: string,
  job: Job,
  workflow: Workflow,
  context: Record<string, Json>,
  world: World,
  trigger: Trigger,
): Promise<JobRun & { outputs: Record<string, Json> }> {
  const environmentValue = evaluate(job.environment ?? null, context);
  const environment =
    typeof environmentValue === 'string' && environmentValue !== '' ? environmentValue : undefined;
  const declared = world.environments[environment ?? ''];
  const secrets: Json = environment ? (declared?.secrets ?? {}) : {};
  const permissions = job.permissions ?? workflow.permissions ?? {};
  const concurrency = job.concurrency
    ? {
        group: text(evaluate(job.concurrency.group, context)),
        cancelInProgress: job.concurrency['cancel-in-progress'] ?? false,
      }
    : undefined;
  const steps: Record<string, Json> = {};
  const ran: ActionRun[] = [];
  const firstRequest = world.github.requests.length;
  let ok = true;
  for (const step of job.steps) {
    const stepContext = { ...context, secrets, steps };
    if (step.uses?.startsWith('actions/checkout@')) continue; // the repository is checked out already
    if (step.uses === './' || step.uses?.startsWith('slipway-dev/slipway@')) {
      const withInputs = Object.fromEntries(
        Object.entries(step.with ?? {}).map(([k, v]) => [k, text(evaluate(v, stepContext))]),
      );
      const run = await runAction({
        event: trigger.event,
        payload: trigger.payload,
        sha: trigger.sha,
        ref: trigger.ref,
        workspace: world.workspace,
        apiUrl: world.github.url,
        env: world.env,
        inputs: { 'github-token': world.token, ...withInputs },
      });
      ran.push(run);
      if (step.id) steps[step.id] = { outputs: run.outputs, outcome: run.code === 0 ? 'success' : 'failure' };
      if (run.code !== 0) {
        ok = false;
        break;
      }
    } else if (step.run) {
      const env = Object.fromEntries(
        Object.entries(step.env ?? {}).map(([k, v]) => [k, text(evaluate(v, stepContext))]),
      );
      try {
        execFileSync('bash', ['-e', '-c', text(evaluate(step.run, stepContext))], {
          cwd: world.workspace,
          env: { ...process.env, ...env },
          stdio: 'pipe',
        });
      } catch {
        ok = false;
        break;
      }
    } else throw new Error(`job ${id}: step ${JSON.stringify(step)} is not understood by the test runner`);
  }
  const forbidden = world.github.requests
    .slice(firstRequest)
    .filter((r) => r.operationId !== undefined)
    .filter((r) => {
      const need = NEEDS[r.operationId ?? ''];
      return need === undefined || !allowed(permissions, need);
    })
    .map((r) => `${r.operationId ?? ''} needs ${NEEDS[r.operationId ?? ''] ?? '(unknown)'}`);
  const outputs = Object.fromEntries(
    Object.entries(job.outputs ?? {}).map(([k, v]) => [k, evaluate(v, { ...context, steps })]),
  );
  return {
    id,
    matrix: (context.matrix ?? {}) as Record<string, unknown>,
    environment,
    waitedForApproval: declared?.reviewers === true,
    concurrency,
    steps: ran,
    ok,
    forbidden: [...new Set(forbidden)],
    outputs,
  };
}
