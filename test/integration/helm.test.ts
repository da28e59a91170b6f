// Issue 12 item 8 on the real control plane: helm's `.Capabilities` come from the cluster, as
// under Flux (helm's own `--dry-run=server` render, which asks the same cluster, is the oracle),
// and chart hooks are named in the plan and handled as documented.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseManifests } from '../../src/core/yaml/manifest.ts';
import { clusterCapabilities } from '../../src/core/render/capabilities.ts';
import { Workspace } from '../../src/core/workspace.ts';
import { connect } from '../../src/kube/connect.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { RecordingLogger } from '../unit/support.ts';
import {
  envConfig,
  kubectl,
  sharedCluster,
  slipway,
  stopSharedCluster,
  TestRepo,
  unique,
} from './harness.ts';

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

const SERVICE_MONITOR_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {plural: servicemonitors, singular: servicemonitor, kind: ServiceMonitor, listKind: ServiceMonitorList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

/** A chart written the way public charts guard optional integrations. */
const CAPABILITY_CHART = {
  'charts/mon/Chart.yaml': 'apiVersion: v2\nname: mon\nversion: 1.0.0\n',
  'charts/mon/templates/monitor.yaml': `{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: mon
spec:
  selector:
    matchLabels: {app: mon}
  endpoints:
    - port: http
{{- end }}
`,
  'charts/mon/templates/caps.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: mon-caps
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  hasServiceMonitorKind: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" | quote }}
`,
};

function helmRepo(env: string, namespace: string, files: Record<string, string>): TestRepo {
  const repo = new TestRepo({
    'slipway.yaml': envConfig(env, namespace, ['helm:', '  - releaseName: mon', '    chart: ./charts/mon']),
    [`envs/${env}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    ...files,
  });
  repos.push(repo);
  return repo;
}

/** Slipway's render of the release with the cluster's capabilities (what plan and apply use). */
async function slipwayRender(repo: TestRepo, env: string): Promise<string[]> {
  const connected = await connect({
    kubeconfig: cluster.adminKubeconfig,
    concurrency: 4,
    retryDeadlineMs: 5000,
  });
  try {
    const workspace = new Workspace(
      {
        repo: repo.dir,
        configFile: undefined,
        kubeconfig: undefined,
        context: undefined,
        concurrency: 4,
        retrySeconds: 0,
        tools: {
          helm: path.join(cluster.binDir, 'helm'),
          kustomize: path.join(cluster.binDir, 'kustomize'),
          kubectl: cluster.kubectl,
        },
      },
      new ProcessRunner({ ...process.env, ...cluster.env }),
      new RecordingLogger(),
    );
    const result = await workspace.renderAndValidate(
      workspace.environment(env),
      await clusterCapabilities(connected.client),
    );
    assert.deepEqual(
      result.findings.filter((f) => f.severity === 'error'),
      [],
    );
    return result.manifests
      .filter((m) => m.source.via === 'helm release mon')
      .map((m) => JSON.stringify(m.object))
      .sort();
  } finally {
    connected.close();
  }
}

/** The oracle: helm itself, reading capabilities from the same cluster (`--dry-run=server`). */
function helmServerRender(repo: TestRepo, namespace: string): string[] {
  const output = execFileSync(
    path.join(cluster.binDir, 'helm'),
    [
      'template',
      'mon',
      path.join(repo.dir, 'charts/mon'),
      '--namespace',
      namespace,
      '--include-crds',
      '--skip-tests',
      '--dry-run=server',
      '--kubeconfig',
      cluster.adminKubeconfig,
    ],
    { encoding: 'utf8', env: { ...process.env, ...cluster.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return parseManifests(output, 'oracle')
    .manifests.map((m) => JSON.stringify(m.object))
    .sort();
}

function kinds(objects: string[]): string[] {
  return objects.map((o) => (JSON.parse(o) as { kind: string }).kind).sort();
}

interface JsonPlan {
  objects: { kind: string; name: string; action: string }[];
  notes: string[];
  summary: Record<string, number>;
}

async function diffJson(repo: TestRepo, env: string): Promise<JsonPlan> {
  const run = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as JsonPlan;
}

test('.Capabilities come from the cluster: an object behind APIVersions.Has renders only once its CRD is served, exactly as helm renders against the cluster', async () => {
  kubectl(cluster, [
    'delete',
    'crd',
    'servicemonitors.monitoring.coreos.com',
    '--ignore-not-found',
    '--wait',
  ]);
  const env = unique('caps');
  const namespace = unique('caps');
  const repo = helmRepo(env, namespace, CAPABILITY_CHART);
  const serverVersion = (
    JSON.parse(kubectl(cluster, ['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } }
  ).serverVersion.gitVersion;

  const without = await slipwayRender(repo, env);
  assert.deepEqual(kinds(without), ['ConfigMap']);
  assert.deepEqual(without, helmServerRender(repo, namespace));
  assert.deepEqual((JSON.parse(without[0] ?? '{}') as { data: unknown }).data, {
    kubeVersion: serverVersion,
    hasServiceMonitorKind: 'false',
  });
  const before = await diffJson(repo, env);
  assert.ok(!before.objects.some((o) => o.kind === 'ServiceMonitor'), JSON.stringify(before.objects));

  kubectl(cluster, ['apply', '-f', '-'], SERVICE_MONITOR_CRD);
  kubectl(cluster, [
    'wait',
    '--for=condition=Established',
    'crd/servicemonitors.monitoring.coreos.com',
    '--timeout=60s',
  ]);

  const withCrd = await slipwayRender(repo, env);
  assert.deepEqual(kinds(withCrd), ['ConfigMap', 'ServiceMonitor']);
  assert.deepEqual(withCrd, helmServerRender(repo, namespace));
  const after = await diffJson(repo, env);
  assert.deepEqual(
    after.objects
      .filter((o) => o.kind !== 'Namespace')
      .map((o) => `${o.action} ${o.kind}/${o.name}`)
      .sort(),
    ['create ConfigMap/mon-caps', 'create ServiceMonitor/mon'],
  );

  // Without a cluster (`slipway render`), the output says whose Capabilities were used.
  const offline = await slipway(cluster, repo, ['render', '--env', env]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(
    offline.stdout,
    /^# no cluster connected: helm charts render with helm's default Capabilities/,
  );
  assert.ok(
    !offline.stdout.includes('kind: ServiceMonitor'),
    "helm's default API list has no monitoring.coreos.com",
  );
});

test('hooks are named in the plan; a plain install hook is applied, a Job hook is not, and the plan after apply is empty', async () => {
  const env = unique('hooks');
  const namespace = unique('hooks');
  const repo = helmRepo(env, namespace, {
    'charts/mon/Chart.yaml': 'apiVersion: v2\nname: mon\nversion: 1.0.0\n',
    'charts/mon/templates/app.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mon-app\ndata:\n  a: "1"\n',
    'charts/mon/templates/settings.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mon-settings\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\ndata:\n  b: "2"\n',
    'charts/mon/templates/migrate.yaml':
      'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: mon-migrate\n  annotations:\n    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: migrate\n          image: registry.invalid/migrate:1\n',
  });
  const text = await slipway(cluster, repo, ['diff', '--env', env]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /^note: helm release mon: hook Job\/mon-migrate \(post-install, post-upgrade, charts\/mon\/templates\/migrate\.yaml\) skipped: Slipway runs no hooks/m,
  );
  assert.match(
    text.stdout,
    /^note: helm release mon: hook ConfigMap\/mon-settings \(pre-install, pre-upgrade, charts\/mon\/templates\/settings\.yaml\) applied: /m,
  );
  const markdown = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'markdown']);
  assert.match(
    markdown.stdout,
    /_Note: helm release mon: hook Job\/mon-migrate \(post-install, post-upgrade/,
  );

  const applied = await slipway(cluster, repo, ['apply', '--env', env]);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  assert.match(
    kubectl(cluster, ['get', 'configmap', 'mon-settings', '-n', namespace, '-o', 'name']),
    /mon-settings/,
  );
  assert.equal(
    kubectl(cluster, ['get', 'jobs', '-n', namespace, '-o', 'name']).trim(),
    '',
    'the Job hook was not run',
  );
  const again = await diffJson(repo, env);
  assert.equal(again.summary['create'] ?? 0, 0);
  assert.equal(again.summary['update'] ?? 0, 0);
  assert.equal(again.summary['delete'] ?? 0, 0);
});
