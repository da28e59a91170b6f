// Issue "Plan": `slipway diff` against the real local control plane. Every test has its own
// environment and namespaces, and asserts what a user sees: exit codes, the JSON/text/markdown
// output, error text, and the cluster itself through kubectl.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../cluster/cluster.ts';
import {
  kubectl,
  slipway,
  stopSharedCluster,
  sharedCluster,
  TestRepo,
  unique,
  type CliRun,
  envConfig,
  inEnv,
  envRepo as makeEnvRepo,
} from './harness.ts';
import { configMap, widgetCrd } from './fixtures.ts';

let cluster: Cluster;
const repos: TestRepo[] = [];

before(
  async () => {
    cluster = await sharedCluster();
  },
  // The first run on a machine builds the control plane (minutes); later runs start in seconds.
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const repo of repos) repo.remove();
  await stopSharedCluster();
});

// --- helpers -----------------------------------------------------------------------------------

interface JsonRow {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  action: 'create' | 'update' | 'unchanged' | 'delete' | 'orphan' | 'error';
  diff: string;
  source?: string;
  note?: string;
  takes?: { manager: string; fields: string[] }[];
}

interface JsonPlan {
  environment: string;
  summary: Record<'create' | 'update' | 'delete' | 'unchanged' | 'error' | 'orphan', number>;
  objects: JsonRow[];
}

/** A repository with one environment, removed after the file's tests. */
function envRepo(
  env: string,
  namespace: string,
  files: Record<string, string>,
  extra: string[] = [],
): TestRepo {
  const repo = makeEnvRepo(env, namespace, files, extra);
  repos.push(repo);
  return repo;
}

async function diffJson(
  repo: TestRepo,
  env: string,
  args: string[] = [],
): Promise<{ run: CliRun; plan: JsonPlan }> {
  const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json', ...args]);
  let plan: JsonPlan;
  try {
    plan = JSON.parse(run.stdout) as JsonPlan;
  } catch {
    assert.fail(`diff printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { run, plan };
}

function row(plan: JsonPlan, kind: string, name: string): JsonRow {
  const found = plan.objects.find((o) => o.kind === kind && o.name === name);
  assert.ok(
    found,
    `no row for ${kind} ${name} in ${JSON.stringify(plan.objects.map((o) => `${o.kind}/${o.name}`))}`,
  );
  return found;
}

async function apply(repo: TestRepo, env: string, args: string[] = []): Promise<CliRun> {
  const run = await slipway(cluster, repo, ['apply', '--env', env, ...args]);
  assert.equal(run.code, 0, `apply failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

function createNamespace(name: string): void {
  kubectl(cluster, ['create', 'namespace', name]);
}

function deployment(name: string, replicas: number, extraSpec = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: app
          image: registry.invalid/app:1.0.0
${extraSpec}`;
}

/** Lines of a unified diff that start with `-` or `+` (not the file headers). */
function changedLines(diff: string): string[] {
  return diff.split('\n').filter((line) => /^[-+]/.test(line) && !/^(---|\+\+\+) /.test(line));
}

// --- tests -------------------------------------------------------------------------------------

test('create, then unchanged after apply; a changed field is an update; a removed key is a - line', async () => {
  const env = unique('plan-basic');
  const ns = unique('plan-basic');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'app.yaml': configMap('settings', { color: 'blue', size: 'large' }) });

  let { run, plan } = await diffJson(repo, env);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(plan.summary, { create: 1, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 });
  const created = row(plan, 'ConfigMap', 'settings');
  assert.equal(created.action, 'create');
  assert.equal(created.namespace, ns);
  assert.equal(created.source, `envs/${env}/app.yaml:1`);
  assert.ok(changedLines(created.diff).includes('+  color: blue'), created.diff);
  // A diff is not an apply.
  assert.throws(() => kubectl(cluster, ['get', 'configmap', 'settings', '-n', ns]), /NotFound/);

  await apply(repo, env);
  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(row(plan, 'ConfigMap', 'settings').action, 'unchanged');
  assert.equal(row(plan, 'ConfigMap', 'settings').diff, '');
  assert.deepEqual(plan.summary, { create: 0, update: 0, delete: 0, unchanged: 1, error: 0, orphan: 0 });

  // Change one value and drop one key: exactly those lines change.
  repo.commit(inEnv(env, { 'app.yaml': configMap('settings', { color: 'green' }) }), 'change');
  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 0, run.stderr);
  const updated = row(plan, 'ConfigMap', 'settings');
  assert.equal(updated.action, 'update');
  assert.deepEqual(
    changedLines(updated.diff).sort(),
    ['+  color: green', '-  color: blue', '-  size: large'].sort(),
    updated.diff,
  );
  assert.match(
    updated.diff,
    new RegExp(`^--- live/${ns}/configmap/settings\n\\+\\+\\+ git/${ns}/configmap/settings`),
  );

  // The text format says the same to a terminal.
  const text = await slipway(cluster, repo, ['diff', '--env', env]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^${env}: 1 to update, 0 unchanged`));
  // The row points at its first changed field's line (data.color), then at each change's line.
  assert.match(text.stdout, new RegExp(`update ConfigMap ${ns}/settings \\(envs/${env}/app\\.yaml:6\\)`));
  assert.match(text.stdout, new RegExp(`^  from envs/${env}/app\\.yaml:6: data\\.color$`, 'm'));
  // A removed key is traced to its parent's line.
  assert.match(text.stdout, new RegExp(`^  from envs/${env}/app\\.yaml:5: data\\.size$`, 'm'));
  assert.match(text.stdout, /^- {2}size: large$/m);
  // And the live object is untouched by all of this.
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.size}']),
    'large',
  );
});

test('objects the server rejects are error rows with the server message and their file:line; exit 1', async () => {
  const env = unique('plan-reject');
  const ns = unique('plan-reject');
  createNamespace(ns);
  const good = configMap('good', { a: '1' });
  const unknownField = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unknown-field\ndata:\n  a: "1"\nspec:\n  replicas: 3\n`;
  const invalidValue = deployment('negative', -1);
  const repo = envRepo(env, ns, { 'app.yaml': [good, unknownField, invalidValue].join('---\n') });

  const started = Date.now();
  const { run, plan } = await diffJson(repo, env);
  const elapsed = Date.now() - started;
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.equal(plan.summary.error, 2);
  assert.equal(row(plan, 'ConfigMap', 'good').action, 'create');

  const unknown = row(plan, 'ConfigMap', 'unknown-field');
  assert.equal(unknown.action, 'error');
  assert.equal(unknown.source, `envs/${env}/app.yaml:8`);
  assert.match(unknown.note ?? '', /\.spec: field not declared in schema/);
  assert.equal(unknown.diff, '');

  const invalid = row(plan, 'Deployment', 'negative');
  assert.equal(invalid.action, 'error');
  assert.equal(invalid.source, `envs/${env}/app.yaml:17`);
  assert.match(invalid.note ?? '', /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);

  // A schema error is permanent: it is reported at once, not retried like a transient 500
  // (the harness allows 5 s of retries; a real run, 30 s).
  assert.ok(elapsed < 4_000, `the plan took ${elapsed} ms`);

  // The text format shows the same error under the object, with --exit-code still 1 (not 2).
  const text = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code']);
  assert.equal(text.code, 1);
  assert.match(
    text.stdout,
    new RegExp(
      `error Deployment\\.apps ${ns}/negative \\(envs/${env}/app\\.yaml:17\\)\n  .*must be greater than or equal to 0`,
    ),
  );
});

test('a CRD and a custom resource of it in one change: the CR is a create "validated after its CRD exists"', async () => {
  const env = unique('plan-crd');
  const ns = unique('plan-crd');
  const group = `${env}.slipway.test`;
  createNamespace(ns);
  const crd = widgetCrd(group);
  const widget = `apiVersion: ${group}/v1\nkind: Widget\nmetadata:\n  name: first\nspec:\n  size: 3\n`;
  const repo = envRepo(env, ns, { 'crd.yaml': crd, 'widget.yaml': widget });

  let { run, plan } = await diffJson(repo, env);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.equal(row(plan, 'CustomResourceDefinition', `widgets.${group}`).action, 'create');
  const cr = row(plan, 'Widget', 'first');
  assert.equal(cr.action, 'create');
  assert.equal(cr.note, 'validated after its CRD exists');
  assert.equal(cr.namespace, ns, 'the CR gets the environment namespace from the rendered CRD scope');
  assert.equal(cr.source, `envs/${env}/widget.yaml:1`);
  assert.ok(changedLines(cr.diff).includes('+  size: 3'), cr.diff);

  await apply(repo, env);
  assert.equal(
    kubectl(cluster, ['get', `widgets.${group}`, 'first', '-n', ns, '-o', 'jsonpath={.spec.size}']),
    '3',
  );

  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(plan.summary, { create: 0, update: 0, delete: 0, unchanged: 2, error: 0, orphan: 0 });
});

test('a new Namespace and objects in it: the objects are creates "validated after its namespace exists"', async () => {
  const env = unique('plan-ns');
  const ns = unique('plan-ns');
  const namespace = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`;
  const repo = envRepo(env, ns, {
    'namespace.yaml': namespace,
    'app.yaml': [configMap('settings', { a: '1' }), deployment('web', 1)].join('---\n'),
  });

  let { run, plan } = await diffJson(repo, env);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.deepEqual(plan.summary, { create: 3, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 });
  const nsRow = row(plan, 'Namespace', ns);
  assert.equal(nsRow.action, 'create');
  assert.equal(nsRow.note, undefined);
  for (const [kind, name] of [
    ['ConfigMap', 'settings'],
    ['Deployment', 'web'],
  ] as const) {
    const r = row(plan, kind, name);
    assert.equal(r.action, 'create');
    assert.equal(r.namespace, ns);
    assert.equal(r.note, 'validated after its namespace exists');
  }
  assert.throws(() => kubectl(cluster, ['get', 'namespace', ns]), /NotFound/);

  // Once the namespace exists, the same objects are validated by the server as usual.
  createNamespace(ns);
  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(row(plan, 'ConfigMap', 'settings').action, 'create');
  assert.equal(row(plan, 'ConfigMap', 'settings').note, undefined);
});

test('Secret values never appear in any diff output, in plain, base64 or URL-encoded form', async () => {
  const env = unique('plan-secret');
  const ns = unique('plan-secret');
  createNamespace(ns);
  const cores = Array.from({ length: 4 }, () => randomBytes(9).toString('hex'));
  const [plainOld, dataOld, plainNew, dataNew] = ['pw-old', 'tok-old', 'pw-new', 'tok-new'].map(
    (label, i) => `${label}-${cores[i] ?? ''}/+&=?`,
  ) as [string, string, string, string];
  const secret = (password: string, token: string): string =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData:\n  password: ${JSON.stringify(password)}\ndata:\n  token: ${Buffer.from(token).toString('base64')}\n`;
  // Its only object is deleted below: 100% of the inventory, over the default 50% prune budget.
  const repo = envRepo(env, ns, { 'secret.yaml': secret(plainOld, dataOld) }, [
    'prune-budget:',
    '  max-percent: 100',
  ]);
  const planted = [plainOld, dataOld, plainNew, dataNew, ...cores];

  const outputs: string[] = [];
  const collect = async (args: string[]): Promise<CliRun> => {
    const run = await slipway(cluster, repo, args);
    outputs.push(run.stdout, run.stderr);
    return run;
  };
  for (const format of ['text', 'markdown', 'json'])
    assert.equal((await collect(['diff', '--env', env, '--format', format])).code, 0);
  const applied = await apply(repo, env);
  outputs.push(applied.stdout, applied.stderr);
  assert.equal(
    Buffer.from(
      kubectl(cluster, ['get', 'secret', 'creds', '-n', ns, '-o', 'jsonpath={.data.password}']),
      'base64',
    ).toString(),
    plainOld,
    'the apply wrote the secret',
  );

  // Applied and unchanged: stringData folded into data is not a perpetual diff.
  let { plan } = await diffJson(repo, env);
  assert.equal(row(plan, 'Secret', 'creds').action, 'unchanged');

  repo.commit(inEnv(env, { 'secret.yaml': secret(plainNew, dataNew) }), 'rotate');
  const text = await collect(['diff', '--env', env, '--format', 'text']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, new RegExp(`update Secret ${ns}/creds`));
  assert.match(text.stdout, /changed password, token/);
  for (const format of ['markdown', 'json'])
    assert.equal((await collect(['diff', '--env', env, '--format', format])).code, 0);
  ({ plan } = await diffJson(repo, env));
  const rotated = row(plan, 'Secret', 'creds');
  assert.equal(rotated.action, 'update');
  assert.match(rotated.diff, /^# secret keys: changed password, token \(values are never shown\)/);
  assert.ok(
    changedLines(rotated.diff).includes('-  password: "*** (before)"') ||
      changedLines(rotated.diff).includes("-  password: '*** (before)'"),
    rotated.diff,
  );

  // Removed from Git, the Secret is a delete row: still masked.
  repo.commit(
    inEnv(env, { 'secret.yaml': null, 'other.yaml': configMap('other', { a: '1' }) }),
    'remove the secret',
  );
  for (const format of ['text', 'markdown', 'json'])
    assert.equal((await collect(['diff', '--env', env, '--format', format])).code, 0);
  ({ plan } = await diffJson(repo, env));
  assert.equal(row(plan, 'Secret', 'creds').action, 'delete');
  assert.match(row(plan, 'Secret', 'creds').diff, /removed password, token/);

  assertNoneLeaked(outputs.join('\n'), planted);
});

test('a last-applied-configuration annotation holding a secret value never reaches the diff', async () => {
  const env = unique('plan-lastapplied');
  const ns = unique('plan-lastapplied');
  createNamespace(ns);
  const [oldCore, newCore] = [randomBytes(9).toString('hex'), randomBytes(9).toString('hex')];
  const [oldValue, newValue] = [`legacy-${oldCore}/+&=`, `rotated-${newCore}/+&=`];
  const secret = (password: string, extra = ''): string =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\n  namespace: ${ns}${extra}\ntype: Opaque\nstringData:\n  password: ${JSON.stringify(password)}\n`;
  const config = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy-config\n  namespace: ${ns}\ndata:\n  note: "plain"\n`;
  // Created the old way: client-side kubectl apply copies the whole object into the annotation.
  kubectl(cluster, ['apply', '-f', '-'], `${secret(oldValue)}---\n${config}`);
  const annotation = kubectl(cluster, [
    'get',
    'secret',
    'legacy',
    '-n',
    ns,
    '-o',
    'jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}',
  ]);
  // (JSON-encoded by kubectl, which writes `&` as \u0026.)
  assert.ok(annotation.includes(oldCore), 'the planted annotation carries the value');

  // Git adopts both objects, first unchanged, then with a rotated value.
  const repo = envRepo(env, ns, { 'secret.yaml': secret(oldValue), 'config.yaml': config });
  const outputs: string[] = [];
  for (const format of ['text', 'markdown', 'json']) {
    const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', format]);
    assert.equal(run.code, 0, run.stderr);
    outputs.push(run.stdout, run.stderr);
  }
  const { plan } = await diffJson(repo, env);
  assert.equal(row(plan, 'Secret', 'legacy').action, 'update', 'adoption adds the ownership labels');
  assert.doesNotMatch(row(plan, 'Secret', 'legacy').diff, /last-applied-configuration/);
  const applied = await apply(repo, env);
  outputs.push(applied.stdout, applied.stderr);

  repo.commit(inEnv(env, { 'secret.yaml': secret(newValue) }), 'rotate');
  for (const format of ['text', 'markdown', 'json']) {
    const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', format]);
    assert.equal(run.code, 0, run.stderr);
    outputs.push(run.stdout, run.stderr);
  }
  const rotated = (await diffJson(repo, env)).plan;
  assert.match(row(rotated, 'Secret', 'legacy').diff, /changed password/);
  // The apply adopted kubectl's fields, the stale annotation with them, so it is gone now...
  assert.ok(
    !kubectl(cluster, ['get', 'secret', 'legacy', '-n', ns, '-o', 'yaml']).includes(
      'last-applied-configuration',
    ),
  );
  // ...and was never printed.
  assertNoneLeaked(outputs.join('\n'), [oldValue, newValue, oldCore, newCore]);
});

function assertNoneLeaked(output: string, values: readonly string[]): void {
  for (const value of values) {
    for (const [form, encoded] of [
      ['plain', value],
      ['base64', Buffer.from(value).toString('base64')],
      ['URL-encoded', encodeURIComponent(value)],
      ['JSON-escaped', JSON.stringify(value).slice(1, -1)],
    ] as const) {
      assert.ok(!output.includes(encoded), `the ${form} form of a secret value leaked into the output`);
    }
  }
}

test('--exit-code: 2 when there are changes, 0 when there are none', async () => {
  const env = unique('plan-exit');
  const ns = unique('plan-exit');
  createNamespace(ns);
  const repo = envRepo(env, ns, { 'app.yaml': configMap('settings', { a: '1' }) });

  let run = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code']);
  assert.equal(run.code, 2, run.stderr);
  run = await slipway(cluster, repo, ['diff', '--env', env]);
  assert.equal(run.code, 0, 'without --exit-code changes are not a failure');

  await apply(repo, env);
  run = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code']);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /no changes, 1 unchanged/);

  repo.commit(inEnv(env, { 'app.yaml': configMap('settings', { a: '2' }) }), 'change');
  run = await slipway(cluster, repo, ['diff', '--env', env, '--exit-code', '--format', 'json']);
  assert.equal(run.code, 2);
});

test('fields another manager set: `takes` names the manager and field; with force-conflicts: false the row is a conflict error', async () => {
  const env = unique('plan-takes');
  const ns = unique('plan-takes');
  createNamespace(ns);
  const repo = envRepo(env, ns, {
    'app.yaml': [deployment('web', 2), configMap('settings', { mode: 'git' })].join('---\n'),
  });
  await apply(repo, env);

  kubectl(cluster, ['scale', 'deployment/web', '-n', ns, '--replicas=5']);
  kubectl(cluster, [
    'patch',
    'configmap/settings',
    '-n',
    ns,
    '--field-manager=kubectl-edit',
    '-p',
    '{"data":{"mode":"hand-edited"}}',
  ]);

  let { run, plan } = await diffJson(repo, env);
  assert.equal(run.code, 0, run.stderr);
  const web = row(plan, 'Deployment', 'web');
  assert.equal(web.action, 'update');
  assert.deepEqual(changedLines(web.diff), ['-  replicas: 5', '+  replicas: 2']);
  assert.deepEqual(web.takes, [{ manager: 'kubectl', fields: ['.spec.replicas'] }]);
  const settings = row(plan, 'ConfigMap', 'settings');
  assert.equal(settings.action, 'update');
  assert.deepEqual(settings.takes, [{ manager: 'kubectl-edit', fields: ['.data.mode'] }]);
  const text = await slipway(cluster, repo, ['diff', '--env', env]);
  assert.match(text.stdout, /takes from kubectl-edit: \.data\.mode/);

  // Without forcing, the same plan is a 409 conflict that names the manager and the field.
  repo.commit({ 'slipway.yaml': envConfig(env, ns, ['force-conflicts: false']) }, 'do not force');
  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  const conflict = row(plan, 'ConfigMap', 'settings');
  assert.equal(conflict.action, 'error');
  assert.match(conflict.note ?? '', /conflict with "kubectl-edit"/);
  assert.match(conflict.note ?? '', /\.data\.mode/);
  const scaled = row(plan, 'Deployment', 'web');
  assert.equal(scaled.action, 'error');
  assert.match(scaled.note ?? '', /conflict with "kubectl"/);
  assert.match(scaled.note ?? '', /\.spec\.replicas/);
  // The plan changed nothing.
  assert.equal(
    kubectl(cluster, ['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.mode}']),
    'hand-edited',
  );
});

test('50 ConfigMaps in one namespace: create, unchanged after apply, then one update and one delete', async () => {
  const env = unique('plan-many');
  const ns = unique('plan-many');
  createNamespace(ns);
  const names = Array.from({ length: 50 }, (_, i) => `cm-${String(i).padStart(2, '0')}`);
  const docs = (value: (name: string) => string, only = names): string =>
    only.map((name) => configMap(name, { value: value(name) })).join('---\n');
  const repo = envRepo(env, ns, { 'many.yaml': docs(() => 'one') });

  let started = Date.now();
  let { run, plan } = await diffJson(repo, env);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(plan.summary.create, 50);
  assert.equal(plan.objects.length, 50);
  // Each row points at its own document: 6 lines per document plus the separator.
  assert.equal(row(plan, 'ConfigMap', 'cm-00').source, `envs/${env}/many.yaml:1`);
  assert.equal(row(plan, 'ConfigMap', 'cm-49').source, `envs/${env}/many.yaml:${1 + 49 * 7}`);

  await apply(repo, env);
  started = Date.now();
  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 0, run.stderr);
  assert.ok(Date.now() - started < 30_000);
  assert.deepEqual(plan.summary, { create: 0, update: 0, delete: 0, unchanged: 50, error: 0, orphan: 0 });

  repo.commit(
    inEnv(env, {
      'many.yaml': docs(
        (name) => (name === 'cm-07' ? 'two' : 'one'),
        names.filter((n) => n !== 'cm-42'),
      ),
    }),
    'one change, one removal',
  );
  ({ run, plan } = await diffJson(repo, env));
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(plan.summary, { create: 0, update: 1, delete: 1, unchanged: 48, error: 0, orphan: 0 });
  assert.deepEqual(changedLines(row(plan, 'ConfigMap', 'cm-07').diff), ['-  value: one', '+  value: two']);
  const removed = row(plan, 'ConfigMap', 'cm-42');
  assert.equal(removed.action, 'delete');
  assert.equal(removed.source, undefined);
  assert.match(removed.diff, /^--- live\/.*\/configmap\/cm-42\n\+\+\+ \/dev\/null/);
});
