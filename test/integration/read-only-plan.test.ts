// Read-only plans on the real control plane: a plan identity with get/list/watch only (printed by
// `slipway rbac --plan-access read-only`) gets a plan estimated from the live objects, labelled so;
// the estimate is checked against the server's dry-run of the same change made by the admin; the
// identity cannot apply; `auto` falls back after one 403, `server` shows the refusals.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster, ClusterOidc } from '../cluster/cluster.ts';
import { envRepo, inEnv, kubectl, slipway, sharedCluster, stopSharedCluster, unique } from './harness.ts';

const WITHOUT_ISSUER = process.env.SLIPWAY_TEST_KUBECONFIG
  ? 'an existing cluster (SLIPWAY_TEST_KUBECONFIG) does not trust the test OIDC issuer'
  : false;
let cluster: Cluster;
let oidc: ClusterOidc;

before(async () => {
  cluster = await sharedCluster();
  if (cluster.oidc) oidc = cluster.oidc;
});

after(async () => {
  await stopSharedCluster();
});

const deployment = (image: string, env: string, labels: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
${labels}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ${image}
          ports:
            - containerPort: 80
          env:
${env}
`;
const configMap = (name: string, value: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: ${value}\n`;
const service = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
`;

interface JsonRow {
  kind: string;
  name: string;
  action: string;
  fidelity?: string;
  diff: string;
  note?: string;
  changes?: { field: string }[];
}
interface JsonPlan {
  summary: Record<string, number>;
  fidelity?: { compared: number; estimated: number };
  objects: JsonRow[];
}

const changedLines = (diff: string): string[] =>
  diff.split('\n').filter((line) => /^[-+](?![-+]{2} )/.test(line));

describe('read-only plans', { skip: WITHOUT_ISSUER }, () => {
  test('an identity with get/list/watch only plans from live objects; the estimate matches the dry-run', async () => {
    const env = unique('ro').replace(/-/g, '');
    const namespace = unique('readonly');
    kubectl(cluster, ['create', 'namespace', namespace]);
    const repo = envRepo(
      env,
      namespace,
      {
        'web.yaml': deployment(
          'nginx:1.0',
          '            - name: A\n              value: "1"\n            - name: B\n              value: "2"',
          '    tier: front',
        ),
        'settings.yaml': configMap('settings', 'blue'),
        'same.yaml': configMap('same', 'grey'),
      },
      ['wait: false'],
    );
    const first = await slipway(cluster, repo, ['apply', '--env', env]);
    assert.equal(first.code, 0, first.stderr);

    // The identity: get/list/watch only.
    const user = `github:repo:acme/${env}:pull_request`;
    const printed = await slipway(cluster, repo, [
      'rbac',
      '--env',
      env,
      '--apply-user',
      `github:repo:acme/${env}:environment:${env}`,
      '--plan-user',
      user,
      '--plan-access',
      'read-only',
    ]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /reads only \(get, list, watch\)/);
    kubectl(cluster, ['apply', '-f', '-'], printed.stdout);
    const planAs = oidc.kubeconfig(
      `${env}-plan`,
      oidc.token({ subject: `repo:acme/${env}:pull_request`, audience: oidc.audience }),
    );
    const can = (verb: string): string =>
      kubectl(cluster, ['auth', 'can-i', verb, 'deployments', '-n', namespace, '--as', user]).trim();
    assert.deepEqual(
      ['get', 'list', 'watch', 'patch', 'create'].map((verb) => {
        try {
          return can(verb);
        } catch {
          return 'no';
        }
      }),
      ['yes', 'yes', 'yes', 'no', 'no'],
    );

    // The change under review: an image, a dropped env var and label, a colour, two new objects.
    repo.commit(
      inEnv(env, {
        'web.yaml': deployment('nginx:2.0', '            - name: A\n              value: "1"', ''),
        'settings.yaml': configMap('settings', 'green'),
        'extra.yaml': configMap('extra', 'red'),
        'service.yaml': service,
      }),
      'change',
    );
    const diff = async (
      mode: string | undefined,
      kubeconfig?: string,
    ): Promise<{ code: number; plan: JsonPlan; stderr: string }> => {
      const r = await slipway(
        cluster,
        repo,
        ['diff', '--env', env, '--format', 'json', ...(mode ? ['--plan-mode', mode] : [])],
        {},
        kubeconfig,
      );
      return {
        code: r.code,
        stderr: r.stderr,
        plan: JSON.parse(r.stdout || '{"objects":[],"summary":{}}') as JsonPlan,
      };
    };

    const estimate = await diff('read-only', planAs);
    assert.equal(estimate.code, 0, estimate.stderr);
    const rows = estimate.plan.objects;
    assert.deepEqual(rows.map((r) => `${r.action} ${r.kind}/${r.name}`).sort(), [
      'create ConfigMap/extra',
      'create Service/web',
      'unchanged ConfigMap/same',
      'update ConfigMap/settings',
      'update Deployment/web',
    ]);
    for (const row of rows) assert.equal(row.fidelity, 'read-only-estimate', `${row.kind}/${row.name}`);
    assert.deepEqual(estimate.plan.fidelity, { compared: 5, estimated: 5 });
    const web = rows.find((r) => r.kind === 'Deployment');
    assert.ok(web);
    assert.match(web.diff, /^-\s+image: nginx:1\.0$/m);
    assert.match(web.diff, /^\+\s+image: nginx:2\.0$/m);
    assert.match(web.diff, /^-\s+- name: B$/m, 'the env var Slipway applied and Git dropped is removed');
    assert.match(web.diff, /^-\s+tier: front$/m, 'the label Slipway applied and Git dropped is removed');
    assert.doesNotMatch(estimate.stderr, /forbidden|may not patch/i);
    const text = await slipway(cluster, repo, ['diff', '--env', env, '--plan-mode', 'read-only'], {}, planAs);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /fidelity: read-only estimate for all 5 objects: defaults and webhooks not applied/,
    );
    assert.match(text.stdout, /^update \(estimate\) Deployment/m);

    // The oracle: the server's dry-run of the same change, as the admin.
    const server = await diff('server');
    assert.equal(server.code, 0, server.stderr);
    let equalActions = 0;
    let equalDiffs = 0;
    let subsetDiffs = 0;
    let equalFields = 0;
    for (const row of rows) {
      const twin = server.plan.objects.find((r) => r.kind === row.kind && r.name === row.name);
      assert.ok(twin, `${row.kind}/${row.name} in the dry-run plan`);
      assert.equal(twin.fidelity, 'server-dry-run');
      assert.equal(row.action, twin.action, `${row.kind}/${row.name}`);
      equalActions++;
      const mine = changedLines(row.diff);
      const theirs = new Set(changedLines(twin.diff));
      if (mine.length === theirs.size && mine.every((l) => theirs.has(l))) equalDiffs++;
      if (row.action === 'update') {
        assert.ok(
          mine.every((line) => theirs.has(line)),
          `${row.kind}/${row.name}: estimated lines not in the dry-run: ${mine.filter((l) => !theirs.has(l)).join(' | ')}`,
        );
        subsetDiffs++;
        const fields = (r: JsonRow): string => JSON.stringify((r.changes ?? []).map((c) => c.field).sort());
        assert.equal(fields(row), fields(twin), `${row.kind}/${row.name}: changed fields`);
        equalFields++;
      }
    }
    console.log(
      `read-only estimate vs server dry-run: ${rows.length} rows compared, ${equalActions} equal actions, ` +
        `${equalDiffs} equal diffs (changed lines), ${subsetDiffs} updates with estimate ⊆ dry-run, ${equalFields} equal changed-field sets`,
    );
    // Everything matches line for line but the Service's create: the server defaults its
    // clusterIP, protocol, type…, which is what the label says an estimate lacks.
    const differing = rows.filter((row) => {
      const twin = server.plan.objects.find((r) => r.kind === row.kind && r.name === row.name);
      return twin && changedLines(row.diff).join('\n') !== changedLines(twin.diff).join('\n');
    });
    assert.deepEqual(
      differing.map((r) => `${r.action} ${r.kind}/${r.name}`),
      ['create Service/web'],
    );
    assert.equal(equalDiffs, rows.length - 1);

    // `auto` (the default) as this identity: one 403 on a dry-run, one log line, then estimates.
    const auto = await diff(undefined, planAs);
    assert.equal(auto.code, 0, auto.stderr);
    assert.equal(
      auto.stderr.match(/plan identity may not patch \(403 on dry-run\)/g)?.length,
      1,
      auto.stderr,
    );
    assert.equal(auto.plan.summary.error ?? 0, 0);
    for (const row of auto.plan.objects.filter((r) => r.action !== 'unchanged'))
      assert.equal(row.fidelity, 'read-only-estimate', `${row.kind}/${row.name}`);

    // `server` as this identity: the refusals, as before.
    const refused = await diff('server', planAs);
    assert.equal(refused.code, 1);
    const errors = refused.plan.objects.filter((r) => r.action === 'error');
    assert.equal(errors.length, 4, JSON.stringify(refused.plan.summary));
    for (const row of errors) assert.match(row.note ?? '', /forbidden|cannot patch/i);

    // The identity cannot apply: an apply always dry-runs, and that is refused; nothing written.
    const apply = await slipway(cluster, repo, ['apply', '--env', env], {}, planAs);
    assert.notEqual(apply.code, 0);
    assert.match(apply.stderr, /forbidden|cannot/i);
    assert.doesNotMatch(apply.stderr, /planning read-only/);
    assert.equal(
      kubectl(cluster, [
        'get',
        'deployment',
        'web',
        '-n',
        namespace,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ]),
      'nginx:1.0',
    );
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'settings', '-n', namespace, '-o', 'jsonpath={.data.color}']),
      'blue',
    );
    assert.doesNotMatch(kubectl(cluster, ['get', 'configmaps', '-n', namespace, '-o', 'name']), /extra/);
  });

  test('auto: a dry-run an admission policy denies (403 too) stays an error row, never an estimate', async () => {
    const env = unique('deny').replace(/-/g, '');
    const namespace = unique('denied');
    kubectl(cluster, ['create', 'namespace', namespace]);
    const policy = `${env}-no-black`;
    kubectl(
      cluster,
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ${policy}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        resources: ["configmaps"]
        operations: ["CREATE", "UPDATE"]
  validations:
    - expression: "!has(object.data) || !('color' in object.data) || object.data.color != 'black'"
      message: black is not a colour here
      # 403, like an RBAC refusal (the default reason is Invalid, 422).
      reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: ${policy}
spec:
  policyName: ${policy}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: ${namespace}
`,
    );
    try {
      const repo = envRepo(env, namespace, { 'settings.yaml': configMap('settings', 'black') }, [
        'wait: false',
      ]);
      // The policy takes a moment to be enforced: wait until a server dry-run is denied.
      let r = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
      for (let i = 0; i < 20 && r.code === 0; i++) {
        await new Promise((done) => setTimeout(done, 500));
        r = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
      }
      assert.equal(r.code, 1, r.stderr);
      const plan = JSON.parse(r.stdout) as JsonPlan;
      const row = plan.objects.find((o) => o.name === 'settings');
      assert.equal(row?.action, 'error');
      assert.match(row.note ?? '', /black is not a colour here/);
      assert.match(row.note ?? '', /forbidden/i, 'denied with 403');
      assert.equal(row.fidelity, undefined);
      assert.doesNotMatch(r.stderr, /planning read-only/);
    } finally {
      kubectl(cluster, ['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policy]);
    }
  });
});
