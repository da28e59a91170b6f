// `slipway rbac`'s manifests, pure: what each identity may do, and the policy's CEL. The real API
// server's verdicts on them are in test/integration/rbac.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs } from '../../src/cli/args.ts';
import { rbacManifests, rbacYaml } from '../../src/core/rbac/manifests.ts';

const request = {
  environment: 'live',
  namespaces: ['shop', 'jobs', 'shop'],
  applyUser: 'github:repo:acme/deploys:environment:live',
  planUsers: ['github:repo:acme/deploys:pull_request', 'weird "user"\\name'],
};

type Rule = { resources: string[]; verbs: string[]; resourceNames?: string[] };

describe('slipway rbac manifests', () => {
  const objects = rbacManifests(request);
  const rolesOf = (identity: string): Rule[] =>
    objects
      .filter(
        (o) =>
          (o.kind === 'Role' || o.kind === 'ClusterRole') && o.metadata.name === `slipway-live-${identity}`,
      )
      .flatMap((o) => o.rules as Rule[]);

  test('namespaces first (the Roles need them), each once', () => {
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
      ['slipway-system', 'jobs', 'shop'],
    );
    assert.equal(objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'shop').length, 2);
  });

  test('only the apply identity deletes or writes the inventory and lock', () => {
    const plan = rolesOf('plan');
    assert.ok(plan.every((r) => !r.verbs.includes('delete')));
    assert.deepEqual(
      plan
        .filter((r) => r.resources.includes('configmaps') || r.resources.includes('leases'))
        .flatMap((r) => r.verbs),
      ['get', 'list', 'watch', 'get', 'list', 'watch'],
    );
    assert.ok(rolesOf('apply').some((r) => r.resources.includes('leases') && r.verbs.includes('create')));
  });

  test('the policy matches the plan user exactly, as a CEL string literal', () => {
    const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy');
    const spec = policy?.spec as {
      matchConditions: { expression: string }[];
      validations: { expression: string }[];
    };
    assert.equal(
      spec.matchConditions[0]?.expression,
      'request.userInfo.username in ["github:repo:acme/deploys:pull_request","weird \\"user\\"\\\\name"]',
    );
    assert.equal(spec.validations[0]?.expression, 'request.dryRun == true');
    const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    assert.deepEqual(binding?.spec, {
      policyName: 'slipway-live-plan-dry-run-only',
      validationActions: ['Deny'],
    });
  });

  test('cluster-scoped objects it does not cover are listed in the header', () => {
    const yaml = rbacYaml({ ...request, clusterScoped: ['ClusterRole reader'] });
    assert.match(yaml, /# NOT covered: .*\n# {3}ClusterRole reader\n/);
  });
});

describe('slipway rbac with a state namespace', () => {
  const scoped = { ...request, namespaces: ['team-a'], stateNamespace: 'team-a', namespaceObjects: [] };

  test('a namespace-scoped environment gets Roles and RoleBindings only, one each per identity', () => {
    const objects = rbacManifests(scoped);
    assert.deepEqual(
      objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`),
      [
        'Namespace /team-a',
        'Role team-a/slipway-live-apply',
        'RoleBinding team-a/slipway-live-apply',
        'Role team-a/slipway-live-plan',
        'RoleBinding team-a/slipway-live-plan',
        'ValidatingAdmissionPolicy /slipway-live-plan-dry-run-only',
        'ValidatingAdmissionPolicyBinding /slipway-live-plan-dry-run-only',
      ],
    );
    assert.match(rbacYaml(scoped), /lock \(Lease\) in team-a \(state-namespace\)[\s\S]*# No ClusterRole/);
  });

  test('Namespace objects the environment renders are the only cluster-scoped grant, by name', () => {
    const objects = rbacManifests({
      ...scoped,
      namespaces: ['team-a', 'team-b'],
      namespaceObjects: ['team-b'],
    });
    const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
    assert.equal(clusterRoles.length, 2);
    for (const role of clusterRoles)
      assert.deepEqual(
        (role.rules as Rule[]).map((r) => [r.resources, r.resourceNames]),
        [[['namespaces'], ['team-b']]],
      );
  });

  test('elsewhere, the apply identity may delete only its own inventory there (to move it)', () => {
    const objects = rbacManifests({ ...scoped, stateNamespace: 'ops' });
    const apply = objects.find(
      (o) => o.kind === 'Role' && o.metadata.namespace === 'ops' && o.metadata.name === 'slipway-live-apply',
    );
    const deletes = (apply?.rules as Rule[]).filter(
      (r) => r.resources.includes('configmaps') && r.verbs.includes('delete'),
    );
    assert.deepEqual(
      deletes.map((r) => r.resourceNames),
      [['slipway-live']],
    );
  });
});

describe('slipway rbac arguments', () => {
  test('namespaces are a comma list; identities are flags', () => {
    const command = parseArgs(['rbac', '--env', 'live', '--github', 'acme/deploys', '--namespaces', 'a, b,']);
    assert.deepEqual(command, {
      name: 'rbac',
      common: {
        repo: '.',
        config: undefined,
        kubeconfig: undefined,
        context: undefined,
        concurrency: undefined,
      },
      env: 'live',
      namespaces: ['a', 'b'],
      github: 'acme/deploys',
      applyUser: undefined,
      planUsers: undefined,
      stateNamespace: undefined,
    });
    assert.throws(() => parseArgs(['rbac', '--github', 'acme/deploys']), /needs --env/);
  });
});
