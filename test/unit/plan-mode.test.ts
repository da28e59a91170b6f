// Read-only plans around the estimate: the `plan-mode` setting in slipway.yaml, the flag and the
// input; what a reviewer reads (comment, terminal, JSON, job summary); the digest; `slipway rbac
// --plan-access read-only`. The plan itself is proved on the real control plane
// (test/integration/read-only-plan.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseArgs } from '../../src/cli/args.ts';
import { parseConfig } from '../../src/core/config/config.ts';
import { UserError } from '../../src/core/errors.ts';
import type { Manifest } from '../../src/core/yaml/manifest.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import type { Plan, PlannedObject } from '../../src/core/plan/plan.ts';
import { digestLine, planDigest, readDigest, shortDigest } from '../../src/core/plan/plan-digest.ts';
import { fidelitySummary, parsePlanMode, PlanFidelity } from '../../src/core/plan/plan-mode.ts';
import type { KubeObject } from '../../src/core/objects.ts';
import { RecordingLogger } from './support.ts';
import { rbacManifests, rbacYaml } from '../../src/core/rbac/manifests.ts';
import { renderSection, type CommentOptions } from '../../src/core/report/markdown.ts';
import { planSummary } from '../../src/core/report/summary.ts';
import { planAsJson, planAsText } from '../../src/core/report/text.ts';
import { parseInputs } from '../../src/github/inputs.ts';

const repo = mkdtempSync(path.join(tmpdir(), 'slipway-plan-mode-'));
after(() => rmSync(repo, { recursive: true, force: true }));

function config(env: Record<string, unknown>): ReturnType<typeof parseConfig> {
  return parseConfig(
    { environments: { prod: { path: 'envs/prod', ...env } } },
    'slipway.yaml',
    new Map(),
    new RepoPaths(repo),
  );
}

describe('plan-mode settings', () => {
  test('slipway.yaml: auto by default, server and read-only accepted, anything else refused', () => {
    assert.equal(config({}).environments.get('prod')?.planMode, 'auto');
    assert.equal(config({ 'plan-mode': 'read-only' }).environments.get('prod')?.planMode, 'read-only');
    assert.equal(config({ 'plan-mode': 'server' }).environments.get('prod')?.planMode, 'server');
    assert.throws(
      () => config({ 'plan-mode': 'readonly' }),
      (e: unknown) =>
        e instanceof UserError &&
        /plan-mode must be one of server, read-only, auto, got "readonly"/.test(e.message),
    );
  });

  test('`slipway diff --plan-mode`, the action input and the GitLab variable', () => {
    const diff = parseArgs(['diff', '--env', 'prod', '--plan-mode', 'read-only']);
    assert.equal(diff.name === 'diff' && diff.planMode, 'read-only');
    const plain = parseArgs(['diff']);
    assert.ok(plain.name === 'diff' && !('planMode' in plain), 'no flag: slipway.yaml decides');
    assert.throws(() => parseArgs(['diff', '--plan-mode', 'offline']), /--plan-mode must be one of/);
    assert.throws(() => parseArgs(['apply', '--env', 'prod', '--plan-mode', 'read-only']), UserError);
    const inputs = (values: Record<string, string>) => (name: string) => values[name] ?? '';
    assert.equal(parseInputs(inputs({ 'plan-mode': 'server' })).planMode, 'server');
    assert.equal(parseInputs(inputs({})).planMode, undefined);
    assert.throws(() => parseInputs(inputs({ 'plan-mode': 'yes' })), /input "plan-mode" must be one of/);
    assert.equal(parsePlanMode('SLIPWAY_PLAN_MODE', ' '), undefined);
    assert.equal(parsePlanMode('SLIPWAY_PLAN_MODE', 'auto'), 'auto');
  });
});

const ref = (name: string): PlannedObject['ref'] => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: 'shop',
  name,
});
const row = (
  name: string,
  action: PlannedObject['action'],
  extra: Partial<PlannedObject> = {},
): PlannedObject => ({
  ref: ref(name),
  action,
  diff:
    action === 'unchanged'
      ? ''
      : `--- live/shop/configmap/${name}\n+++ git/shop/configmap/${name}\n@@ -1,1 +1,1 @@\n-  a: "1"\n+  a: "2"`,
  source: { file: `envs/prod/${name}.yaml`, line: 1 },
  note: undefined,
  taken: [],
  desired: undefined,
  live: undefined,
  deferred: false,
  ...extra,
});

function planOf(objects: PlannedObject[]): Plan {
  const summary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 };
  for (const o of objects) summary[o.action]++;
  const fidelity = fidelitySummary(objects);
  return {
    environment: 'prod',
    objects,
    summary,
    requests: 3,
    durationMs: 10,
    ...(fidelity ? { fidelity } : {}),
  };
}

const estimated = planOf([
  row('a', 'update', { fidelity: 'read-only-estimate' }),
  row('b', 'update', { fidelity: 'server-dry-run' }),
  row('c', 'unchanged', { fidelity: 'read-only-estimate' }),
  row('d', 'delete'),
]);
const server = planOf([
  row('a', 'update', { fidelity: 'server-dry-run' }),
  row('c', 'unchanged', { fidelity: 'server-dry-run' }),
]);
const report = (plan: Plan) => ({ environment: 'prod', plan, findings: [], failure: undefined });
const OPTIONS: CommentOptions = { limit: 65_536 };

describe('what a reviewer reads', () => {
  test('the comment: a fidelity line above the rows, a marker on each estimated row', () => {
    const section = renderSection(report(estimated), Infinity, OPTIONS);
    assert.match(
      section,
      /\*\*Fidelity:\*\* read-only estimate for 2 of 3 objects: defaults and webhooks not applied/,
    );
    assert.match(section, /🟡 update \(estimate\) ConfigMap shop\/a/);
    assert.match(section, /🟡 update ConfigMap shop\/b/);
    const plain = renderSection(report(server), Infinity, OPTIONS);
    assert.doesNotMatch(plain, /Fidelity|estimate/, 'a server-only plan reads as before');
  });

  test('terminal, JSON and job summary', () => {
    const text = planAsText(estimated, false);
    assert.match(
      text,
      /^fidelity: read-only estimate for 2 of 3 objects: defaults and webhooks not applied$/m,
    );
    assert.match(text, /^update \(estimate\) ConfigMap shop\/a/m);
    assert.doesNotMatch(planAsText(server, false), /estimate/);
    const json = planAsJson(estimated) as {
      fidelity: unknown;
      objects: { name: string; fidelity?: string }[];
    };
    assert.deepEqual(json.fidelity, { compared: 3, estimated: 2 });
    assert.deepEqual(
      json.objects.map((o) => [o.name, o.fidelity]),
      [
        ['a', 'read-only-estimate'],
        ['b', 'server-dry-run'],
        ['c', 'read-only-estimate'],
        ['d', undefined],
      ],
    );
    const summary = planSummary(report(estimated));
    assert.match(summary, /\*\*Fidelity:\*\* read-only estimate for 2 of 3 objects/);
    assert.match(summary, /### update \(estimate\) ConfigMap shop\/a/);
  });
});

describe('the digest of a read-only plan', () => {
  const manifests: Manifest[] = [
    {
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'shop' } },
      source: { file: 'a.yaml', line: 1 },
    },
  ];

  test('says it is an estimate, round-trips through the comment; a server plan’s digest is as before', () => {
    const digest = planDigest(manifests, estimated);
    assert.equal(digest.fidelity, 'read-only-estimate');
    assert.deepEqual(readDigest(`x\n${digestLine(digest)}\ny`), digest);
    const plain = planDigest(manifests, server);
    assert.equal(plain.fidelity, undefined);
    assert.doesNotMatch(digestLine(plain), /fidelity/);
    assert.deepEqual(readDigest(digestLine(plain)), plain);
  });

  test('the same rows hash the same whatever their fidelity: only what they show counts', () => {
    const a = planDigest(manifests, planOf([row('a', 'update', { fidelity: 'read-only-estimate' })]));
    const b = planDigest(manifests, planOf([row('a', 'update', { fidelity: 'server-dry-run' })]));
    assert.equal(shortDigest(a), shortDigest(b));
  });
});

describe('slipway rbac --plan-access read-only', () => {
  const request = {
    environment: 'prod',
    namespaces: ['shop'],
    applyUser: 'deployer',
    planUsers: ['reviewer'],
    stateNamespace: 'slipway-system',
  };
  const planVerbs = (objects: ReturnType<typeof rbacManifests>): string[] =>
    objects
      .filter(
        (o) =>
          o.kind.endsWith('Role') && !o.kind.endsWith('Binding') && o.metadata.name === 'slipway-prod-plan',
      )
      .flatMap((o) => (o.rules as { verbs: string[] }[]).flatMap((r) => r.verbs));

  test('the plan identity gets get/list/watch only; by default also the dry-run verbs', () => {
    const readOnly = planVerbs(rbacManifests({ ...request, planAccess: 'read-only' }));
    assert.ok(readOnly.length > 0);
    assert.deepEqual([...new Set(readOnly)].sort(), ['get', 'list', 'watch']);
    assert.deepEqual([...new Set(planVerbs(rbacManifests(request)))].sort(), [
      'create',
      'get',
      'list',
      'patch',
      'update',
      'watch',
    ]);
    assert.match(
      rbacYaml({ ...request, planAccess: 'read-only' }),
      /reads only \(get, list, watch\): it plans read-only/,
    );
    assert.equal(parseArgs(['rbac', '--env', 'prod', '--plan-access', 'read-only']).name, 'rbac');
    assert.throws(
      () => parseArgs(['rbac', '--env', 'prod', '--plan-access', 'none']),
      /--plan-access must be dry-run or read-only/,
    );
  });
});

describe('auto: which refusal falls back to the estimate', () => {
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'shop' },
    data: { a: '1' },
  };
  const rbac = new UserError(
    'permission',
    'apply ConfigMap shop/c: configmaps "c" is forbidden: User "reviewer" cannot patch resource "configmaps" in API group "" in the namespace "shop"',
  );
  const webhook = new UserError(
    'permission',
    'apply ConfigMap shop/c: admission webhook "validation.gatekeeper.sh" denied the request: [no-colour] colour is not allowed',
  );
  const refuse = (error: Error) => () => Promise.reject(error);

  test('an RBAC refusal: the estimate, then no more dry-runs, one warning', async () => {
    const logger = new RecordingLogger();
    const fidelity = new PlanFidelity('auto', 'prod', logger);
    assert.equal(fidelity.current, 'server-dry-run');
    const first = await fidelity.result(object, undefined, refuse(rbac));
    assert.deepEqual(first, { object, created: true, fidelity: 'read-only-estimate' });
    let asked = 0;
    const second = await fidelity.result(object, undefined, () => {
      asked++;
      return Promise.resolve({ object, created: true });
    });
    assert.equal(asked, 0, 'no dry-run after the first refusal');
    assert.equal(second.fidelity, 'read-only-estimate');
    assert.equal(fidelity.current, 'read-only-estimate');
    await fidelity.result(object, undefined, refuse(rbac));
    assert.deepEqual(
      logger.lines.filter((line) => line.includes('plan identity may not patch (403 on dry-run)')).length,
      1,
    );
  });

  test('an admission denial is what the apply would meet: it stays an error, in every mode', async () => {
    for (const mode of ['auto', 'server'] as const) {
      const fidelity = new PlanFidelity(mode, 'prod', new RecordingLogger());
      await assert.rejects(fidelity.result(object, undefined, refuse(webhook)), /denied the request/);
    }
    await assert.rejects(
      new PlanFidelity('server', 'prod', new RecordingLogger()).result(object, undefined, refuse(rbac)),
      /cannot patch/,
    );
  });

  test('read-only never asks the server', async () => {
    const fidelity = new PlanFidelity('read-only', 'prod', new RecordingLogger());
    const result = await fidelity.result(object, undefined, () => assert.fail('a dry-run was sent'));
    assert.equal(result.fidelity, 'read-only-estimate');
  });
});
