import { UserError, type SourceLocation } from '../errors.ts';

/** A read from outside the repository: a remote kustomize base or a Helm chart repository. */
export interface RemoteRead {
  readonly reference: string;
  readonly location: SourceLocation;
  /** What reads it: `kustomize resource`, `helm release web`, `helm dependency db`. */
  readonly what: string;
}

/** True for what kustomize fetches itself: URLs, `github.com/…` shorthands, ssh remotes. */
export function isRemoteReference(reference: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(reference) ||
    reference.startsWith('git@') ||
    reference.startsWith('git::')
  );
}

/**
 * The plan's note for an allowed remote read; refused (a UserError naming the file and line) unless
 * the environment says `remote: allow`, because what it renders is not in the reviewed commit.
 */
export function checkRemote(read: RemoteRead, environment: string, allowed: boolean): string {
  if (!allowed) {
    throw new UserError(
      'path',
      `${read.what} "${read.reference}" is read from outside the repository, which environment "${environment}" does not allow`,
      {
        location: read.location,
        hint: `vendor it into the repository, or set \`remote: allow\` on environment "${environment}" in slipway.yaml (pin a tag or version: the plan cannot show what a moving reference will be at apply time)`,
      },
    );
  }
  return `reads from outside the repository: ${read.what} ${read.reference} (${read.location.file}${read.location.line ? `:${read.location.line}` : ''})`;
}
