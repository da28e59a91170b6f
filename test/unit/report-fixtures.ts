// Plans a reviewer meets, as fixtures for the golden and rendering tests of the comment, the job
// summary and the terminal output (test/unit/report-golden.test.ts).

import type { KubeObject } from '../../src/core/objects.ts';
import type { Plan, PlanAction, PlannedObject } from '../../src/core/plan/plan.ts';
import type { EnvironmentReport } from '../../src/core/report/markdown.ts';
import { assessRisks } from '../../src/core/risk/assess.ts';

type Ref = PlannedObject['ref'];

function row(ref: Ref, action: PlanAction, diff: string, extra: Partial<PlannedObject> = {}): PlannedObject {
  return {
    ref,
    action,
    diff,
    source: { file: `clusters/prod/${ref.kind.toLowerCase()}_${ref.name}.yaml`, line: 3 },
    note: undefined,
    taken: [],
    desired: undefined,
    live: undefined,
    deferred: false,
    ...extra,
  };
}

function plan(environment: string, objects: PlannedObject[], extra: Partial<Plan> = {}): Plan {
  const summary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 } as Plan['summary'];
  for (const o of objects) summary[o.action]++;
  const adopt = objects.filter((o) => o.adoptOnly).length;
  if (adopt) summary.adopt = adopt;
  const risks = assessRisks(
    objects,
    {},
    {
      enabled: true,
      budget: { maxObjects: 100, maxPercent: 50 },
      inventorySize: objects.length,
    },
  );
  return { environment, objects, summary, requests: 12, durationMs: 2300, risks, ...extra };
}

const cm = (name: string, ns = 'shop'): Ref => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name });

function deployment(replicas: number, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } },
    },
  };
}

const LOG_DIFF = [
  '--- live/shop/configmap/app_settings',
  '+++ git/shop/configmap/app_settings',
  '@@ -1,4 +1,4 @@',
  ' data:',
  '-  LOG_LEVEL: info',
  '+  LOG_LEVEL: debug',
  '   MAX_CONN: "10"',
  '   NOTE: "use `kubectl` *carefully* <b>|</b> @team"',
].join('\n');

/** A small everyday change: underscores, backticks and HTML in names and diffs; findings. */
export function everyday(): EnvironmentReport {
  const web = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
  return {
    environment: 'prod',
    findings: [
      {
        severity: 'warning',
        rule: 'namespace-on-cluster-scoped',
        location: { file: 'clusters/prod/rbac_roles.yaml', line: 7 },
        message: 'ClusterRole is cluster-scoped: its metadata.namespace "shop" is ignored',
      },
    ],
    failure: undefined,
    note: 'Planned against https://127.0.0.1:6443 (context kind_prod).',
    plan: plan('prod', [
      row(cm('app_settings'), 'update', LOG_DIFF, {
        taken: [{ manager: 'kubectl_edit', fields: ['.data.LOG_LEVEL'] }],
      }),
      row(
        web,
        'update',
        '--- live/shop/deployment/web\n+++ git/shop/deployment/web\n@@ -1,1 +1,1 @@\n-  replicas: 2\n+  replicas: 0',
        {
          live: deployment(2, 'app:1.0'),
          desired: deployment(0, 'app:latest'),
          note: 'restarts pods (config changed: checksum/config)',
        },
      ),
      row(
        cm('shared'),
        'update',
        '--- live/shop/configmap/shared\n+++ git/shop/configmap/shared\n@@ -1,2 +1,3 @@\n metadata:\n   labels:\n+    slipway.dev/environment: prod',
        { adoptOnly: true },
      ),
      row(cm('old'), 'delete', '--- live/shop/configmap/old\n+++ /dev/null\n@@ -1,1 +1,0 @@\n-data: {}', {
        live: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old', namespace: 'shop' } },
      }),
      row({ apiVersion: 'v1', kind: 'Namespace', name: 'legacy' }, 'delete', '', {
        live: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy' } },
      }),
      row(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'ops' },
        'create',
        '+++ git/clusterrole/ops',
        {
          desired: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRole',
            metadata: { name: 'ops' },
            rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
          },
        },
      ),
      row(cm('same'), 'unchanged', ''),
    ]),
  };
}

/** 400 ConfigMaps created from one folder, and a few other changes: read in groups. */
export function bulk(): EnvironmentReport {
  const objects: PlannedObject[] = [];
  for (let i = 0; i < 400; i++)
    objects.push(
      row(cm(`bulk-${String(i).padStart(3, '0')}`), 'create', `+++ git/bulk-${i}\n+data: {i: "${i}"}`, {
        source: { file: `live-cluster/bulk/cm-${i}.yaml`, line: 1 },
      }),
    );
  objects.push(
    row({ apiVersion: 'v1', kind: 'Namespace', name: 'bulk' }, 'create', '+++ git/namespace/bulk'),
  );
  objects.push(
    row(
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: 'widgets.example.com',
      },
      'create',
      '+++ git/crd',
    ),
  );
  return { environment: 'bulk', findings: [], failure: undefined, plan: plan('bulk', objects) };
}

/** A plan that failed: the failure first, opened. */
export function failed(): EnvironmentReport {
  return {
    environment: 'staging',
    findings: [
      {
        severity: 'error',
        rule: 'immutable-selector',
        location: { file: 'clusters/staging/web_app.yaml', line: 12 },
        message: 'Deployment.apps shop/web: spec.selector is immutable; the apply will be refused',
      },
    ],
    failure: '1 error in the manifests; nothing can be planned until they are fixed',
    plan: undefined,
  };
}

export const FIXTURES = { everyday, bulk, failed } as const;
