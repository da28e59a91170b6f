// Image references as container runtimes read them: `[registry/]path[:tag][@digest]`, where the
// registry is the first component only when it looks like a host (has `.` or `:`, or is localhost).

export interface ImageReference {
  /** The repository as written (`nginx`, `ghcr.io/acme/web`). */
  readonly name: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

export function parseImageReference(text: string): ImageReference {
  const at = text.indexOf('@');
  const digest = at >= 0 ? text.slice(at + 1) : undefined;
  const rest = at >= 0 ? text.slice(0, at) : text;
  const colon = rest.lastIndexOf(':');
  // A colon before the last slash is a registry port, not a tag.
  if (colon > rest.lastIndexOf('/'))
    return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, tag: undefined, digest };
}

/** `nginx` → `docker.io/library/nginx`: the form two spellings of one repository share. */
export function canonicalRepository(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (hasRegistry) {
    const host = first === 'index.docker.io' || first === 'registry-1.docker.io' ? 'docker.io' : first;
    const path = name.slice(slash + 1);
    return host === 'docker.io' && !path.includes('/') ? `docker.io/library/${path}` : `${host}/${path}`;
  }
  return slash < 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
}

/** Where to ask: the registry host for the API and the repository path inside it. */
export function registryLocation(name: string): { readonly host: string; readonly path: string } {
  const canonical = canonicalRepository(name);
  const slash = canonical.indexOf('/');
  const host = canonical.slice(0, slash);
  return { host: host === 'docker.io' ? 'registry-1.docker.io' : host, path: canonical.slice(slash + 1) };
}

/** A tag as the distribution spec allows it; anything else is never written. */
export const VALID_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const VALID_DIGEST = /^sha256:[a-f0-9]{64}$/;
