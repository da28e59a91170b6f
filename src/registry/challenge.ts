// `WWW-Authenticate` as registries send it: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Pure: parses one challenge (registries send one); undefined when the header is absent or empty. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  const match = header ? /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header) : null;
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pair = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = pair.exec(match[2] ?? ''); m; m = pair.exec(match[2] ?? ''))
    params[(m[1] ?? '').toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}
