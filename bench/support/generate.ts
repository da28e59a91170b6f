// The synthetic environment of the speed benchmark: N objects of eight kinds (ConfigMap, Secret,
// Service, Deployment, ServiceAccount, Role, RoleBinding and a custom resource) spread over a few
// namespaces, written as multi-document YAML files of 50 documents each.
//
// Objects come in groups of eight that share a namespace and a name suffix (the Role grants the
// ServiceAccount access, the RoleBinding binds them, the Service selects the Deployment), so the
// mix reads like a real application's folder. `changed` returns the same objects with every tenth
// one edited the way a pull request would (an image tag, a config value, a port, a rule).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump } from 'js-yaml';

export const CRD_GROUP = 'bench.slipway.dev';
export const DOCS_PER_FILE = 50;

export interface BenchObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** The REST collection of each generated kind: `/api/v1` or `/apis/<group>/<version>`, and plural. */
export const KINDS = [
  { kind: 'ConfigMap', prefix: '/api/v1', plural: 'configmaps' },
  { kind: 'Secret', prefix: '/api/v1', plural: 'secrets' },
  { kind: 'Service', prefix: '/api/v1', plural: 'services' },
  { kind: 'Deployment', prefix: '/apis/apps/v1', plural: 'deployments' },
  { kind: 'ServiceAccount', prefix: '/api/v1', plural: 'serviceaccounts' },
  { kind: 'Role', prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles' },
  { kind: 'RoleBinding', prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings' },
  { kind: 'Widget', prefix: `/apis/${CRD_GROUP}/v1`, plural: 'widgets' },
] as const;

/** The server path of an object (for raw requests). */
export function objectPath(object: BenchObject): string {
  const info = KINDS.find((k) => k.kind === object.kind);
  if (!info) throw new Error(`unknown kind ${object.kind}`);
  return `${info.prefix}/namespaces/${object.metadata.namespace}/${info.plural}/${object.metadata.name}`;
}

/** How many namespaces N objects spread over: 4 up to 2,000 objects, then one per 500, at most 10. */
export function namespaceCount(size: number): number {
  return Math.min(10, Math.max(4, Math.ceil(size / 500)));
}

export function namespaceNames(prefix: string, size: number): string[] {
  return Array.from({ length: namespaceCount(size) }, (_, i) => `${prefix}-${i}`);
}

/** Whether object `index` is among the 10% a change edits. */
export function isChanged(index: number): boolean {
  return index % 10 === 3;
}

/** A deterministic pseudo-random hex string (no Math.random: runs must send the same bodies). */
function pseudoHex(seed: number, length: number): string {
  let x = (seed * 2654435761) >>> 0;
  let out = '';
  while (out.length < length) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Object `index` of an environment whose namespaces are `namespaces`. */
export function benchObject(index: number, namespaces: readonly string[], changed: boolean): BenchObject {
  const group = Math.floor(index / KINDS.length);
  const namespace = namespaces[group % namespaces.length] ?? 'default';
  const app = `app-${String(group).padStart(4, '0')}`;
  const edit = changed && isChanged(index);
  const labels = { app, team: `team-${group % 7}`, tier: group % 3 === 0 ? 'frontend' : 'backend' };
  const kind = KINDS[index % KINDS.length]?.kind;
  switch (kind) {
    case 'ConfigMap':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name: `${app}-config`, namespace, labels },
        data: {
          LOG_LEVEL: edit ? 'debug' : 'info',
          FEATURE_FLAGS: 'search,checkout,recommendations',
          'application.properties': [
            `server.port=8080`,
            `server.shutdown=graceful`,
            `spring.application.name=${app}`,
            `spring.datasource.url=jdbc:postgresql://db-${group % 5}.${namespace}.svc:5432/${app.replace(/-/g, '_')}`,
            `spring.datasource.hikari.maximum-pool-size=${10 + (group % 10)}`,
            `management.endpoints.web.exposure.include=health,info,prometheus`,
            `cache.ttl.seconds=${300 + group}`,
            '',
          ].join('\n'),
        },
      };
    case 'Secret':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name: `${app}-credentials`, namespace, labels },
        type: 'Opaque',
        data: {
          username: b64(`${app}-user`),
          password: b64(pseudoHex(group + (edit ? 7_919 : 0), 32)),
          'api-key': b64(pseudoHex(group * 31 + 1, 48)),
        },
      };
    case 'Service':
      return {
        apiVersion: 'v1',
        kind,
        // Headless: the benchmark cluster's service range is a /24, too small for thousands of IPs.
        metadata: { name: app, namespace, labels },
        spec: {
          clusterIP: 'None',
          selector: { app },
          ports: [
            { name: 'http', port: 80, targetPort: edit ? 8081 : 8080, protocol: 'TCP' },
            { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' },
          ],
        },
      };
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata: {
          name: app,
          namespace,
          labels,
          annotations: { 'bench.slipway.dev/owner': `team-${group % 7}@example.com` },
        },
        spec: {
          replicas: (group % 3) + 1,
          revisionHistoryLimit: 5,
          selector: { matchLabels: { app } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: { labels: { app, tier: labels.tier } },
            spec: {
              serviceAccountName: `${app}-sa`,
              containers: [
                {
                  name: 'main',
                  image: `registry.example/${app}:1.${group % 10}.${edit ? 1 : 0}`,
                  ports: [
                    { name: 'http', containerPort: 8080 },
                    { name: 'metrics', containerPort: 9090 },
                  ],
                  env: [
                    {
                      name: 'LOG_LEVEL',
                      valueFrom: { configMapKeyRef: { name: `${app}-config`, key: 'LOG_LEVEL' } },
                    },
                    {
                      name: 'DB_PASSWORD',
                      valueFrom: { secretKeyRef: { name: `${app}-credentials`, key: 'password' } },
                    },
                    { name: 'JAVA_OPTS', value: '-XX:MaxRAMPercentage=75' },
                  ],
                  resources: {
                    requests: { cpu: '100m', memory: '128Mi' },
                    limits: { cpu: '500m', memory: '512Mi' },
                  },
                  readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: '/livez', port: 'http' }, initialDelaySeconds: 15 },
                  volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }],
                },
              ],
              volumes: [{ name: 'config', configMap: { name: `${app}-config` } }],
            },
          },
        },
      };
    case 'ServiceAccount':
      return {
        apiVersion: 'v1',
        kind,
        metadata: {
          name: `${app}-sa`,
          namespace,
          labels,
          annotations: { 'bench.slipway.dev/rotation': edit ? 'quarterly' : 'yearly' },
        },
        automountServiceAccountToken: false,
      };
    case 'Role':
      return {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind,
        metadata: { name: `${app}-reader`, namespace, labels },
        rules: [
          {
            apiGroups: [''],
            resources: ['configmaps', 'secrets'],
            resourceNames: [`${app}-config`, `${app}-credentials`],
            verbs: edit ? ['get', 'list', 'watch'] : ['get', 'list'],
          },
          { apiGroups: [CRD_GROUP], resources: ['widgets'], verbs: ['get', 'list', 'watch'] },
        ],
      };
    case 'RoleBinding':
      return {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind,
        metadata: { name: `${app}-reader`, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${app}-reader` },
        subjects: [
          { kind: 'ServiceAccount', name: `${app}-sa`, namespace },
          ...(edit ? [{ kind: 'ServiceAccount', name: 'default', namespace }] : []),
        ],
      };
    case 'Widget':
      return {
        apiVersion: `${CRD_GROUP}/v1`,
        kind,
        metadata: { name: app, namespace, labels },
        spec: {
          size: edit ? 'large' : 'medium',
          replicas: (group % 5) + 1,
          color: ['red', 'green', 'blue'][group % 3],
          tags: ['bench', `team-${group % 7}`],
          backend: { service: app, port: 80 },
        },
      };
    case undefined:
      throw new Error(`no kind for object ${index}`);
  }
}

export function benchObjects(size: number, namespaces: readonly string[], changed = false): BenchObject[] {
  return Array.from({ length: size }, (_, i) => benchObject(i, namespaces, changed));
}

/** Writes objects as `part-0001.yaml`… of DOCS_PER_FILE documents each into `dir` (created). */
export function writeManifests(dir: string, objects: readonly BenchObject[]): void {
  mkdirSync(dir, { recursive: true });
  for (let start = 0, part = 1; start < objects.length; start += DOCS_PER_FILE, part++) {
    const docs = objects
      .slice(start, start + DOCS_PER_FILE)
      .map((object) => dump(object, { lineWidth: -1, noRefs: true }));
    writeFileSync(path.join(dir, `part-${String(part).padStart(4, '0')}.yaml`), docs.join('---\n'));
  }
}

/** The CustomResourceDefinition of Widget (created before any measurement, for both tools). */
export const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${CRD_GROUP}` },
  spec: {
    group: CRD_GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'string', enum: ['small', 'medium', 'large'] },
                  replicas: { type: 'integer', minimum: 0 },
                  color: { type: 'string' },
                  tags: { type: 'array', items: { type: 'string' } },
                  backend: {
                    type: 'object',
                    properties: { service: { type: 'string' }, port: { type: 'integer' } },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};
