/**
 * `slipway rbac`: the two identities of an environment, as manifests a cluster admin applies once.
 *
 * - apply: what apply, prune and the health wait need in the environment's namespaces, the
 *   Namespace objects it renders by name, and its inventory (ConfigMap) and lock (Lease) in its
 *   state namespace (`state-namespace`, default slipway-system).
 * - plan: reads, plus the create/patch/update a server-side dry-run is authorized as, and a
 *   ValidatingAdmissionPolicy that denies every request of the plan identity that is not a dry-run:
 *   RBAC cannot tell a dry-run from a write, admission can (`request.dryRun`).
 *
 * Cluster-scoped objects other than the Namespaces (CRDs, ClusterRoles, webhooks) are not covered:
 * an environment that renders them needs rules an admin writes on purpose. An environment that
 * renders no Namespace object gets no ClusterRole at all: Roles and RoleBindings only (discovery
 * and SelfSubjectReview are every authenticated user's by the API server's default bindings).
 */
import { dump } from 'js-yaml';
import type { KubeObject } from '../objects.ts';
import { DEFAULT_STATE_NAMESPACE } from '../config/config.ts';
import { inventoryName } from '../inventory/inventory.ts';

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
  /** Where its inventory and lock live (`state-namespace`; default slipway-system). */
  readonly stateNamespace?: string;
  /**
   * Of `namespaces`, those the environment renders as Namespace objects: the only cluster-scoped
   * rights granted, on those names. Undefined: all of `namespaces` (not known without a render).
   */
  readonly namespaceObjects?: readonly string[];
  /**
   * `read-only`: the plan identity gets get/list/watch only and plans read-only (plan-mode.ts);
   * default `dry-run`: also the verbs server-side dry-runs are authorized as.
   */
  readonly planAccess?: 'dry-run' | 'read-only';
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
    `#     its inventory (ConfigMap) and lock (Lease) in ${request.stateNamespace ?? DEFAULT_STATE_NAMESPACE} (state-namespace).`,
    `#   plan:  ${request.planUsers.join(', ')}`,
    ...(request.planAccess === 'read-only'
      ? [
          '#     reads only (get, list, watch): it plans read-only from the live objects (plan-mode),',
          '#     without defaults and webhooks; the ValidatingAdmissionPolicy below still denies any',
          '#     write it may get from another binding.',
        ]
      : [
          '#     reads, plus create/patch/update so that server-side dry-runs are authorized; the',
          '#     ValidatingAdmissionPolicy below denies all its requests that are not dry-runs.',
        ]),
    '# Apply with a cluster admin: kubectl apply -f -',
  ];
  const namespaceObjects = request.namespaceObjects ?? request.namespaces;
  if (namespaceObjects.length === 0)
    header.push('# No ClusterRole: the environment renders no Namespace object, so Roles suffice.');
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
  const state = request.stateNamespace ?? DEFAULT_STATE_NAMESPACE;
  const namespaceObjects = [...new Set(request.namespaceObjects ?? namespaces)].sort();
  // The Roles need their namespaces; the state namespace may be shared by every environment and,
  // existing, needs creating by neither identity.
  const objects: KubeObject[] = [...new Set([state, ...namespaces])].map((namespace) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
  }));
  for (const [identity, usernames, verbs] of [
    ['apply', [request.applyUser], [...READ, ...WRITE]],
    ['plan', request.planUsers, request.planAccess === 'read-only' ? READ : [...READ, ...DRY_RUN]],
  ] as const) {
    // The Namespace objects it renders, by name (a server-side apply names what it creates).
    if (namespaceObjects.length > 0)
      objects.push(
        {
          apiVersion: RBAC,
          kind: 'ClusterRole',
          metadata: meta(name(identity)),
          rules: [{ apiGroups: [''], resources: ['namespaces'], resourceNames: namespaceObjects, verbs }],
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
    // In one of the environment's namespaces, its Role there already covers them.
    if (namespaces.includes(state)) continue;
    objects.push(
      {
        apiVersion: RBAC,
        kind: 'Role',
        metadata: meta(name(identity), state),
        rules:
          identity === 'apply'
            ? [
                { apiGroups: [''], resources: ['configmaps'], verbs: [...READ, 'create', 'update', 'patch'] },
                // Its own inventory only: deleted when state-namespace moves it elsewhere.
                {
                  apiGroups: [''],
                  resources: ['configmaps'],
                  resourceNames: [inventoryName(env)],
                  verbs: ['delete'],
                },
                // No delete: a lock is released by clearing its holder, never deleted.
                {
                  apiGroups: ['coordination.k8s.io'],
                  resources: ['leases'],
                  verbs: [...READ, 'create', 'update', 'patch'],
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
        metadata: meta(name(identity), state),
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
