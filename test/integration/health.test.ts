// Issue 12 item 9, health's escape hatch and custom rules, on the real local control plane:
// `slipway.dev/wait: disabled` lets a LoadBalancer Service (no load-balancer controller here) be
// applied without blocking, and slipway.yaml `health-checks:` (CEL, as Flux's healthCheckExprs)
// decide when a custom resource is Current or Failed from the status its controller writes (set
// here with kubectl through the status subresource).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../cluster/cluster.ts';
import {
  envRepo,
  kubectl,
  slipway,
  sharedCluster,
  stopSharedCluster,
  unique,
  type CliRun,
  type TestRepo,
} from './harness.ts';
import { configMap } from './fixtures.ts';

let cluster: Cluster;
const repos: TestRepo[] = [];

before(
  async () => {
    cluster = await sharedCluster();
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const repo of repos) repo.remove();
  await stopSharedCluster();
});

function repoFor(env: string, ns: string, files: Record<string, string>, extra: string[] = []): TestRepo {
  const repo = envRepo(env, ns, files, extra);
  repos.push(repo);
  return repo;
}

function apply(repo: TestRepo, env: string, timeout: string): Promise<CliRun> {
  return slipway(cluster, repo, ['apply', '--env', env, '--timeout', timeout]);
}

function loadBalancer(name: string, annotations = ''): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
${annotations ? `  annotations:\n${annotations}` : ''}spec:
  type: LoadBalancer
  selector: {app: ${name}}
  ports:
    - port: 80
      targetPort: 8080
`;
}

/** A namespaced CRD `gadgets.<group>` (kind Gadget) with a status subresource, as operators ship. */
function gadgetCrd(group: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
            status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
}

const GADGET_RULES = (group: string): string[] => [
  'health-checks:',
  `  - apiVersion: ${group}/v1`,
  '    kind: Gadget',
  `    current: "status.phase == 'Ready'"`,
  `    failed: "status.phase == 'Failed'"`,
];

/**
 * Starts an apply, waits until it has created the Gadget and is still running two seconds later
 * (kstatus alone would call a Gadget without conditions Current at once), then plays the
 * controller: sets `status` through the status subresource. Returns the finished run.
 */
async function applyWhileControllerSets(
  repo: TestRepo,
  env: string,
  ns: string,
  group: string,
  status: Record<string, unknown>,
): Promise<{ run: CliRun; elapsed: number }> {
  const started = Date.now();
  const state = { finished: false };
  const running = apply(repo, env, '120s').finally(() => (state.finished = true));
  const deadline = Date.now() + 60_000;
  while (!exists(`gadgets.${group}`, 'first', ns)) {
    assert.ok(!state.finished && Date.now() < deadline, 'the apply never created the Gadget');
    await sleep(200);
  }
  await sleep(2000);
  assert.equal(state.finished, false, 'the apply did not wait for the health-checks rule');
  kubectl(cluster, [
    'patch',
    `gadgets.${group}`,
    'first',
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  const run = await running;
  return { run, elapsed: Date.now() - started };
}

function exists(resource: string, name: string, ns: string): boolean {
  try {
    kubectl(cluster, ['get', resource, name, '-n', ns, '-o', 'name']);
    return true;
  } catch {
    return false;
  }
}

test(
  'a LoadBalancer Service without a load-balancer controller blocks the apply until the timeout',
  { timeout: 120_000 },
  async () => {
    const env = unique('health-lb-wait');
    const ns = unique('health-lb-wait');
    kubectl(cluster, ['create', 'namespace', ns]);
    const repo = repoFor(env, ns, { 'lb.yaml': loadBalancer('front') });
    const run = await apply(repo, env, '3s');
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^${env}: FAILED`));
    assert.match(
      run.stdout,
      new RegExp(`create Service ${ns}/front \\[InProgress: waiting for a load balancer address\\]`),
    );
    assert.match(run.stderr, new RegExp(`Service ${ns}/front not ready after 3 s`));
    assert.match(run.stderr, /annotate it slipway\.dev\/wait: disabled/);
  },
);

test(
  'slipway.dev/wait: disabled applies the LoadBalancer Service without waiting for it, and says so',
  { timeout: 120_000 },
  async () => {
    const env = unique('health-lb-optout');
    const ns = unique('health-lb-optout');
    kubectl(cluster, ['create', 'namespace', ns]);
    const repo = repoFor(env, ns, {
      'lb.yaml': loadBalancer('front', '    slipway.dev/wait: disabled\n'),
      'settings.yaml': configMap('settings', { a: '1' }),
    });
    const started = Date.now();
    const run = await apply(repo, env, '120s');
    const elapsed = Date.now() - started;
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^${env}: applied`));
    assert.match(
      run.stdout,
      new RegExp(
        `create Service ${ns}/front \\[Skipped: not waited for: annotation slipway\\.dev/wait: disabled\\]`,
      ),
    );
    // The other objects are still waited for as usual.
    assert.match(run.stdout, new RegExp(`create ConfigMap ${ns}/settings \\[Current: `));
    assert.match(run.stderr, new RegExp(`Service ${ns}/front not waited for: annotation`));
    assert.ok(elapsed < 30_000, `apply took ${elapsed} ms`);
    // Applied all the same, with the annotation, and still without an address.
    assert.equal(
      kubectl(cluster, ['get', 'service', 'front', '-n', ns, '-o', 'jsonpath={.spec.type}']),
      'LoadBalancer',
    );
    assert.equal(
      kubectl(cluster, [
        'get',
        'service',
        'front',
        '-n',
        ns,
        '-o',
        'jsonpath={.status.loadBalancer.ingress}',
      ]),
      '',
    );
  },
);

test(
  'a health-checks rule keeps the apply waiting until the custom resource status says Ready, then reports Current',
  { timeout: 180_000 },
  async () => {
    const env = unique('health-cel-ready');
    const ns = unique('health-cel-ready');
    const group = `${env}.slipway.test`;
    kubectl(cluster, ['create', 'namespace', ns]);
    const gadget = `apiVersion: ${group}/v1\nkind: Gadget\nmetadata:\n  name: first\nspec:\n  size: 1\n`;
    const repo = repoFor(
      env,
      ns,
      { 'crd.yaml': gadgetCrd(group), 'gadget.yaml': gadget },
      GADGET_RULES(group),
    );
    const { run } = await applyWhileControllerSets(repo, env, ns, group, { phase: 'Ready' });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      new RegExp(`create Gadget ${ns}/first \\[Current: health-checks current: status\\.phase == 'Ready'\\]`),
    );
  },
);

test(
  'a health-checks failed rule fails the apply as soon as the status says Failed',
  { timeout: 180_000 },
  async () => {
    const env = unique('health-cel-failed');
    const ns = unique('health-cel-failed');
    const group = `${env}.slipway.test`;
    kubectl(cluster, ['create', 'namespace', ns]);
    const gadget = `apiVersion: ${group}/v1\nkind: Gadget\nmetadata:\n  name: first\nspec:\n  size: 1\n`;
    const repo = repoFor(
      env,
      ns,
      { 'crd.yaml': gadgetCrd(group), 'gadget.yaml': gadget },
      GADGET_RULES(group),
    );
    const { run, elapsed } = await applyWhileControllerSets(repo, env, ns, group, {
      phase: 'Failed',
    });
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^${env}: FAILED`));
    assert.match(
      run.stdout,
      new RegExp(`create Gadget ${ns}/first \\[Failed: health-checks failed: status\\.phase == 'Failed'\\]`),
    );
    assert.match(
      run.stderr,
      new RegExp(`Gadget\\.${group.replace(/\./g, '\\.')} ${ns}/first failed: health-checks failed`),
    );
    // Fail fast: far inside the 120 s timeout.
    assert.ok(elapsed < 60_000, `apply took ${elapsed} ms`);
  },
);

test('a bad health-checks expression stops the apply before anything is applied, naming file and line', async () => {
  const env = unique('health-cel-bad');
  const ns = unique('health-cel-bad');
  kubectl(cluster, ['create', 'namespace', ns]);
  const repo = repoFor(env, ns, { 'settings.yaml': configMap('settings', { a: '1' }) }, [
    'health-checks:',
    '  - apiVersion: example.com/v1',
    '    kind: Gadget',
    `    current: "status.phase = 'Ready'"`,
  ]);
  const run = await apply(repo, env, '10s');
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, /slipway\.yaml:5: health-checks item 1 "current" is not a valid CEL expression/);
  assert.equal(exists('configmap', 'settings', ns), false);
});
