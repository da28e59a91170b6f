/**
 * `slipway rbac --env NAME`: prints the RBAC (and the admission policy) of the environment's apply
 * and plan identities, for a cluster admin to review and apply. The namespaces are those the
 * environment renders into unless --namespaces names them; the render also says which Namespace
 * objects it creates (the only cluster-scoped rights granted). The inventory and lock namespace is
 * the environment's `state-namespace` unless --state-namespace names one.
 */
import type { EnvironmentConfig } from '../core/config/config.ts';
import { UserError } from '../core/errors.ts';
import { rbacYaml } from '../core/rbac/manifests.ts';
import { scopeOf, crdScopes } from '../core/validate/kinds.ts';
import { withOfflineNamespaces, type Workspace } from '../core/workspace.ts';

export interface RbacCommand {
  readonly env: string;
  readonly namespaces: readonly string[] | undefined;
  /** `OWNER/REPO`: the users GitHub OIDC subjects map to (README, Keyless). */
  readonly github: string | undefined;
  /** Overrides --github's. */
  readonly applyUser: string | undefined;
  /** Overrides --github's (`…:pull_request`): a drift job's or a plan environment's subject too. */
  readonly planUsers: readonly string[] | undefined;
  /** Overrides the environment's `state-namespace`. */
  readonly stateNamespace?: string | undefined;
  /** `--plan-access read-only`: a plan identity with get/list/watch only (read-only plans). */
  readonly planAccess?: 'dry-run' | 'read-only' | undefined;
}

interface RenderedScope {
  readonly namespaces: string[];
  readonly namespaceObjects: string[];
  readonly clusterScoped: string[];
}

export async function runRbac(
  command: RbacCommand,
  workspace: Workspace,
  stdout: (text: string) => void,
): Promise<number> {
  const env = workspace.environment(command.env);
  const { applyUser, planUsers } = identities(command);
  let scope: RenderedScope | undefined;
  try {
    scope = await renderedScope(workspace, env);
  } catch (error) {
    // Named namespaces need no render; without one every named namespace may be a Namespace object.
    if (!(error instanceof UserError) || command.namespaces === undefined) throw error;
  }
  const namespaces = command.namespaces ?? scope?.namespaces ?? [];
  if (namespaces.length === 0)
    throw new UserError('usage', `environment ${env.name} renders into no namespace: pass --namespaces a,b`);
  stdout(
    rbacYaml({
      environment: env.name,
      namespaces,
      applyUser,
      planUsers,
      clusterScoped: scope?.clusterScoped ?? [],
      stateNamespace: command.stateNamespace ?? env.stateNamespace,
      ...(command.planAccess ? { planAccess: command.planAccess } : {}),
      ...(scope ? { namespaceObjects: scope.namespaceObjects } : {}),
    }),
  );
  return 0;
}

async function renderedScope(workspace: Workspace, env: EnvironmentConfig): Promise<RenderedScope> {
  const result = await workspace.renderAndValidate(env);
  const objects = withOfflineNamespaces(result.manifests, env).map((m) => m.object);
  const crds = crdScopes(objects);
  const found = new Set<string>(env.namespace ? [env.namespace] : []);
  const namespaceObjects: string[] = [];
  const clusterScoped: string[] = [];
  for (const object of objects) {
    if (object.apiVersion === 'v1' && object.kind === 'Namespace') {
      found.add(object.metadata.name ?? '');
      namespaceObjects.push(object.metadata.name ?? '');
    } else if (object.metadata.namespace) found.add(object.metadata.namespace);
    else if (scopeOf(object.apiVersion, object.kind, crds) !== 'namespaced')
      clusterScoped.push(`${object.kind} ${object.metadata.name ?? ''}`);
  }
  return {
    namespaces: [...found].filter(Boolean),
    namespaceObjects: namespaceObjects.filter(Boolean),
    clusterScoped,
  };
}

function identities(command: RbacCommand): { applyUser: string; planUsers: readonly string[] } {
  let applyUser = command.applyUser;
  let planUsers = command.planUsers;
  if (command.github !== undefined) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(command.github))
      throw new UserError('usage', `--github must be OWNER/REPO, got "${command.github}"`);
    // The usernames the README's AuthenticationConfiguration maps GitHub's `sub` claims to.
    applyUser ??= `github:repo:${command.github}:environment:${command.env}`;
    planUsers ??= [`github:repo:${command.github}:pull_request`];
  }
  if (applyUser === undefined || planUsers === undefined || planUsers.length === 0)
    throw new UserError('usage', '`slipway rbac` needs the two identities', {
      hint: 'pass --github OWNER/REPO (GitHub OIDC subjects, see the README section "Keyless (OIDC)"), or --apply-user USER and --plan-user USER[,USER…] as `kubectl auth whoami` shows them',
    });
  if (planUsers.includes(applyUser))
    throw new UserError('usage', `${applyUser} cannot be both identities: the plan one cannot write`);
  return { applyUser, planUsers };
}
