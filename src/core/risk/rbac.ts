import { isPlainObject, type KubeObject } from '../objects.ts';

/** Roles that grant (nearly) everything: binding anyone to them is worth a reviewer's eye. */
export const POWERFUL_ROLES = new Set(['cluster-admin', 'admin', 'edit']);

/** One permission: verb on resource in API group (resource names narrow it; empty = all). */
interface Grant {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  readonly names: readonly string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function rulesOf(role: KubeObject | undefined): Record<string, unknown>[] {
  const rules = role?.rules;
  return Array.isArray(rules) ? rules.filter(isPlainObject) : [];
}

function grantsOf(role: KubeObject | undefined): Grant[] {
  const grants: Grant[] = [];
  for (const rule of rulesOf(role)) {
    const groups = strings(rule.apiGroups);
    const urls = strings(rule.nonResourceURLs);
    for (const verb of strings(rule.verbs)) {
      for (const url of urls) grants.push({ group: '', resource: url, verb, names: [] });
      for (const group of groups.length ? groups : ['']) {
        for (const resource of strings(rule.resources))
          grants.push({ group, resource, verb, names: strings(rule.resourceNames) });
      }
    }
  }
  return grants;
}

function covers(held: Grant, wanted: Grant): boolean {
  const match = (have: string, want: string): boolean => have === '*' || have === want;
  return (
    match(held.group, wanted.group) &&
    match(held.resource, wanted.resource) &&
    match(held.verb, wanted.verb) &&
    (held.names.length === 0 || wanted.names.every((name) => held.names.includes(name)))
  );
}

function describeGrant(grant: Grant): string {
  const resource = grant.group ? `${grant.resource}.${grant.group}` : grant.resource;
  const names = grant.names.length ? ` (${grant.names.join(', ')})` : '';
  return `${grant.verb} ${resource}${names}`;
}

/** Permissions a Role or ClusterRole grants that its live version does not. */
export function roleGrowth(live: KubeObject | undefined, desired: KubeObject): string[] {
  const held = grantsOf(live);
  const added = grantsOf(desired).filter((grant) => !held.some((h) => covers(h, grant)));
  return [...new Set(added.map(describeGrant))];
}

/** Whether a role's rules include `*` on `*` (what cluster-admin is). */
export function grantsEverything(role: KubeObject | undefined): boolean {
  return grantsOf(role).some((g) => g.verb === '*' && g.resource === '*' && g.group === '*');
}

function subjectsOf(binding: KubeObject | undefined): string[] {
  const subjects = binding?.subjects;
  if (!Array.isArray(subjects)) return [];
  return subjects.filter(isPlainObject).map((s) => {
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    return `${text(s.kind)} ${s.namespace ? `${text(s.namespace)}/` : ''}${text(s.name)}`;
  });
}

export function roleRefName(binding: KubeObject | undefined): string | undefined {
  const ref = binding?.roleRef;
  return isPlainObject(ref) && typeof ref.name === 'string' ? ref.name : undefined;
}

/** Subjects a (Cluster)RoleBinding gives its role that the live binding did not. */
export function bindingGrowth(live: KubeObject | undefined, desired: KubeObject): string[] {
  const before = new Set(roleRefName(live) === roleRefName(desired) ? subjectsOf(live) : []);
  return subjectsOf(desired).filter((subject) => !before.has(subject));
}
