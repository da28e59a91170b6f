/**
 * `slipway rbac --env NAME`: prints the RBAC (and the admission policy) of the environment's apply
 * and plan identities, for a cluster admin to review and apply. The namespaces are those the
 * environment renders into unless --namespaces names them.
 */
import { UserError } from '../core/errors.ts';
import { rbacYaml } from '../core/rbac/manifests.ts';
import { scopeOf, crdScopes } from '../core/kinds.ts';
import { withOfflineNamespaces, type Workspace } from '../core/workspace.ts';

export interface RbacCommand {
  readonly env: string;
  readonly namespaces: readonly string[] | undefined;
  /** `OWNER/REPO`: the users GitHub OIDC subjects map to (README, Keyless). */
  readonly github: string | undefined;
  readonly applyUser: string | undefined;
  readonly planUser: string | undefined;
}

export async function runRbac(
  command: RbacCommand,
  workspace: Workspace,
  stdout: (text: string) => void,
): Promise<number> {
  const env = workspace.environment(command.env);
  const { applyUser, planUser } = identities(command);
  let namespaces = command.namespaces;
  const clusterScoped: string[] = [];
  if (namespaces === undefined) {
    const result = await workspace.renderAndValidate(env);
    const objects = withOfflineNamespaces(result.manifests, env).map((m) => m.object);
    const crds = crdScopes(objects);
    const found = new Set<string>(env.namespace ? [env.namespace] : []);
    for (const object of objects) {
      if (object.apiVersion === 'v1' && object.kind === 'Namespace') found.add(object.metadata.name ?? '');
      else if (object.metadata.namespace) found.add(object.metadata.namespace);
      else if (scopeOf(object.apiVersion, object.kind, crds) !== 'namespaced')
        clusterScoped.push(`${object.kind} ${object.metadata.name ?? ''}`);
    }
    namespaces = [...found].filter(Boolean);
  }
  if (namespaces.length === 0)
    throw new UserError('usage', `environment ${env.name} renders into no namespace: pass --namespaces a,b`);
  stdout(rbacYaml({ environment: env.name, namespaces, applyUser, planUser, clusterScoped }));
  return 0;
}

function identities(command: RbacCommand): { applyUser: string; planUser: string } {
  if (command.github !== undefined) {
    if (command.applyUser !== undefined || command.planUser !== undefined)
      throw new UserError('usage', '--github names both identities: drop --apply-user and --plan-user');
    if (!/^[\w.-]+\/[\w.-]+$/.test(command.github))
      throw new UserError('usage', `--github must be OWNER/REPO, got "${command.github}"`);
    // The usernames the README's AuthenticationConfiguration maps GitHub's `sub` claims to.
    return {
      applyUser: `github:repo:${command.github}:environment:${command.env}`,
      planUser: `github:repo:${command.github}:pull_request`,
    };
  }
  if (command.applyUser === undefined || command.planUser === undefined)
    throw new UserError('usage', '`slipway rbac` needs the two identities', {
      hint: 'pass --github OWNER/REPO (GitHub OIDC subjects, see the README section "Keyless (OIDC)"), or --apply-user USER and --plan-user USER as `kubectl auth whoami` shows them',
    });
  if (command.applyUser === command.planUser)
    throw new UserError('usage', 'the apply and plan identities must differ: the plan one cannot write');
  return { applyUser: command.applyUser, planUser: command.planUser };
}
