/**
 * `slipway rbac`: the two identities of an environment, as manifests a cluster admin applies once.
 *
 * - apply: what apply, prune and the health wait need in the environment's namespaces, its own
 *   Namespace objects by name, and its inventory (ConfigMap) and lock (Lease) in slipway-system.
 * - plan: reads, plus the create/patch/update a server-side dry-run is authorized as, and a
 *   ValidatingAdmissionPolicy that denies every request of the plan identity that is not a dry-run:
 *   RBAC cannot tell a dry-run from a write, admission can (`request.dryRun`).
 *
 * Cluster-scoped objects other than the Namespaces (CRDs, ClusterRoles, webhooks) are not covered:
 * an environment that renders them needs rules an admin writes on purpose.
 */
import { dump } from 'js-yaml';
import type { KubeObject } from '../objects.ts';
import { INVENTORY_NAMESPACE } from '../inventory.ts';

export interface RbacRequest {
  readonly environment: string;
  /** Namespaces the environment's objects live in. */
  readonly namespaces: readonly string[];
  /** Usernames as the API server sees them (`kubectl auth whoami`). */
  readonly applyUser: string;
  /** One or more: e.g. the pull-request subject and the drift job's. */
  readonly planUsers: readonly string[];
  /** Cluster-scoped objects the environment renders (other than Namespaces): not covered. */
  readonly clusterScoped?: readonly string[];
}

const RBAC = 'rbac.authorization.k8s.io/v1';
const ADMISSION = 'admissionregistration.k8s.io/v1';
const READ = ['get', 'list', 'watch'];
/**
 * Server-side apply is a patch, one that creates is also authorized as create; previewing the
 * adoption of an object kubectl applied client-side is a dry-run update (adopt.ts).
 */
const DRY_RUN = ['create', 'patch', 'update'];
const WRITE = ['create', 'patch', 'update', 'delete'];

/** The manifests as one YAML stream, with a header saying what they grant. */
export function rbacYaml(request: RbacRequest): string {
  const header = [
    `# Slipway identities for the environment "${request.environment}" (slipway rbac).`,
    `#   apply: ${request.applyUser}`,
    `#     reads and writes (create, patch, update, delete) in ${request.namespaces.join(', ')};`,
    `#     its inventory (ConfigMap) and lock (Lease) in ${INVENTORY_NAMESPACE}.`,
    `#   plan:  ${request.planUsers.join(', ')}`,
    '#     reads, plus create/patch/update so that server-side dry-runs are authorized; the',
    '#     ValidatingAdmissionPolicy below denies all its requests that are not dry-runs.',
    '# Apply with a cluster admin: kubectl apply -f -',
  ];
  const uncovered = request.clusterScoped ?? [];
  if (uncovered.length > 0)
    header.push(
      '# NOT covered: the environment renders cluster-scoped objects; grant them on purpose:',
      ...uncovered.map((object) => `#   ${object}`),
    );
  const docs = rbacManifests(request).map((object) => dump(object, { lineWidth: -1, noRefs: true }));
  return `${header.join('\n')}\n---\n${docs.join('---\n')}`;
}

export function rbacManifests(request: RbacRequest): KubeObject[] {
  const env = request.environment;
  const name = (identity: 'apply' | 'plan'): string => `slipway-${env}-${identity}`;
  const labels = { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/environment': env };
  const meta = (n: string, namespace?: string): KubeObject['metadata'] => ({
    name: n,
    ...(namespace === undefined ? {} : { namespace }),
    labels,
  });
  const users = (usernames: readonly string[]): Record<string, string>[] =>
    usernames.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }));
  const namespaces = [...new Set(request.namespaces)].sort();
  // The Roles need their namespaces; slipway-system is shared by every environment and, existing,
  // needs creating by neither identity.
  const objects: KubeObject[] = [INVENTORY_NAMESPACE, ...namespaces].map((namespace) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
  }));
  for (const [identity, usernames, verbs] of [
    ['apply', [request.applyUser], [...READ, ...WRITE]],
    ['plan', request.planUsers, [...READ, ...DRY_RUN]],
  ] as const) {
    // The Namespace objects themselves, by name (a server-side apply names what it creates).
    objects.push(
      {
        apiVersion: RBAC,
        kind: 'ClusterRole',
        metadata: meta(name(identity)),
        rules: [
          {
            apiGroups: [''],
            resources: ['namespaces'],
            resourceNames: namespaces,
            verbs,
          },
          // Apply checks that its inventory's namespace exists before writing there.
          {
            apiGroups: [''],
            resources: ['namespaces'],
            resourceNames: [INVENTORY_NAMESPACE],
            verbs: ['get'],
          },
        ],
      },
      {
        apiVersion: RBAC,
        kind: 'ClusterRoleBinding',
        metadata: meta(name(identity)),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: name(identity) },
        subjects: users(usernames),
      },
    );
    for (const namespace of namespaces)
      objects.push(
        {
          apiVersion: RBAC,
          kind: 'Role',
          metadata: meta(name(identity), namespace),
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs }],
        },
        {
          apiVersion: RBAC,
          kind: 'RoleBinding',
          metadata: meta(name(identity), namespace),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: name(identity) },
          subjects: users(usernames),
        },
      );
    // The inventory and lock: apply writes them, a plan reads the inventory to find deletions.
    objects.push(
      {
        apiVersion: RBAC,
        kind: 'Role',
        metadata: meta(name(identity), INVENTORY_NAMESPACE),
        rules:
          identity === 'apply'
            ? [
                { apiGroups: [''], resources: ['configmaps'], verbs: [...READ, 'create', 'update', 'patch'] },
                {
                  apiGroups: ['coordination.k8s.io'],
                  resources: ['leases'],
                  verbs: [...READ, 'create', 'update', 'patch', 'delete'],
                },
              ]
            : [
                { apiGroups: [''], resources: ['configmaps'], verbs: READ },
                { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: READ },
              ],
      },
      {
        apiVersion: RBAC,
        kind: 'RoleBinding',
        metadata: meta(name(identity), INVENTORY_NAMESPACE),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: name(identity) },
        subjects: users(usernames),
      },
    );
  }
  objects.push(...dryRunOnly(env, request.planUsers, meta));
  return objects;
}

/** The policy that makes the plan identity unable to write: every non-dry-run request is denied. */
function dryRunOnly(
  env: string,
  planUsers: readonly string[],
  meta: (name: string) => KubeObject['metadata'],
): KubeObject[] {
  const policy = `slipway-${env}-plan-dry-run-only`;
  return [
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicy',
      metadata: meta(policy),
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['*'],
              apiVersions: ['*'],
              // Every resource and every subresource.
              resources: ['*/*'],
              operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'],
            },
          ],
        },
        matchConditions: [
          {
            name: 'plan-identity',
            // JSON strings are CEL string literals.
            expression: `request.userInfo.username in ${JSON.stringify(planUsers)}`,
          },
        ],
        validations: [
          {
            expression: 'request.dryRun == true',
            message: `Slipway's plan identity for "${env}": only dry-run requests are allowed`,
            messageExpression: `request.userInfo.username + ${JSON.stringify(` is Slipway's plan identity for "${env}": only dry-run requests are allowed`)}`,
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: meta(policy),
      spec: { policyName: policy, validationActions: ['Deny'] },
    },
  ];
}
