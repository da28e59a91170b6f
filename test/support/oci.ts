// Test-side OCI Distribution writes (push a tiny image, delete a tag) and a bearer-token gate in
// front of a real registry: no docker needed.

import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function uploadBlob(host: string, repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start answered ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`blob upload answered ${put.status}: ${await put.text()}`);
  return digest;
}

/**
 * Pushes a one-layer image as `repository:tag`; each push has its own config, so its own digest
 * (a tag pushed again moves to a new digest). Returns the manifest digest.
 */
export async function pushImage(host: string, repository: string, tag: string): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Labels: { nonce: randomBytes(8).toString('hex') } },
    }),
  );
  const layer = Buffer.from(`layer of ${repository}`);
  const configDigest = await uploadBlob(host, repository, config);
  const layerDigest = await uploadBlob(host, repository, layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
    ],
  });
  const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (put.status !== 201) throw new Error(`manifest push answered ${put.status}: ${await put.text()}`);
  return sha256(manifest);
}

/** Pushes many tags of one manifest quickly (pagination tests): one manifest, many tag PUTs. */
export async function pushTags(host: string, repository: string, tags: readonly string[]): Promise<void> {
  const first = tags[0];
  if (first === undefined) return;
  await pushImage(host, repository, first);
  const manifest = await fetch(`http://${host}/v2/${repository}/manifests/${first}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const body = await manifest.text();
  for (const tag of tags.slice(1)) {
    const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    if (put.status !== 201) throw new Error(`tag ${tag} answered ${put.status}`);
  }
}

/** Deletes the manifest `digest` (and so every tag on it). */
export async function deleteManifest(host: string, repository: string, digest: string): Promise<void> {
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
  if (response.status !== 202)
    throw new Error(`delete answered ${response.status}: ${await response.text()}`);
}

export interface TokenGate {
  /** `127.0.0.1:<port>`: the registry as clients see it, behind the gate. */
  readonly host: string;
  /** Every request the gate saw: method, path and the Authorization scheme. */
  readonly seen: { method: string; path: string; auth: string }[];
  /** Answer the next `count` registry requests 429 with this Retry-After. */
  throttle(count: number, retryAfter: string): void;
  close(): Promise<void>;
}

/**
 * Pages a tag list as distribution v3, GHCR and Docker Hub do (`n`, `last`, a `Link: <…>; rel="next"`
 * header): Debian's docker-registry 2.8 ignores `n` and `last` and answers every tag at once.
 */
async function paginate(upstream: string, url: URL, response: http.ServerResponse): Promise<void> {
  const all = await fetch(`http://${upstream}${url.pathname}`);
  const body = (await all.json()) as { name: string; tags: string[] };
  const sorted = [...body.tags].sort();
  const n = Number(url.searchParams.get('n'));
  const last = url.searchParams.get('last');
  const from = last === null ? 0 : sorted.findIndex((tag) => tag > last);
  const page = from < 0 ? [] : sorted.slice(from, from + n);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const end = page.at(-1);
  if (from >= 0 && from + n < sorted.length && end !== undefined)
    headers['link'] = `<${url.pathname}?last=${encodeURIComponent(end)}&n=${n}>; rel="next"`;
  response.writeHead(200, headers).end(JSON.stringify({ name: body.name, tags: page }));
}

/** The distribution spec's OAuth2 token endpoint, refresh-token grant only. */
async function oauthGrant(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  refreshToken: string | undefined,
  token: string,
): Promise<void> {
  let body = '';
  for await (const chunk of request) body += (chunk as Buffer).toString();
  if (refreshToken === undefined) {
    response.writeHead(404).end();
    return;
  }
  const form = new URLSearchParams(body);
  const valid =
    request.headers['content-type'] === 'application/x-www-form-urlencoded' &&
    form.get('grant_type') === 'refresh_token' &&
    form.get('refresh_token') === refreshToken &&
    form.get('service') === 'gate' &&
    Boolean(form.get('scope')) &&
    Boolean(form.get('client_id'));
  if (!valid) {
    response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    return;
  }
  response
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ access_token: token, expires_in: 300, scope: form.get('scope') }));
}

/**
 * A bearer-token front for a real registry, doing the handshake Docker Hub, GHCR and GitLab do:
 * without a token, 401 with `WWW-Authenticate: Bearer realm=…/token,service=…,scope=…`; the token
 * endpoint checks basic credentials `user:password` and returns `{"token": …}`; with the token,
 * requests pass through to `upstream`, tag lists paged. With `basic`, the gate asks for basic
 * credentials instead (`WWW-Authenticate: Basic`, as ECR and htpasswd-protected registries do).
 * With `refreshToken`, the token endpoint also takes the OAuth2 refresh-token grant (POST, form
 * body) that docker sends for an identity token; without it a POST answers 404, as registries
 * without OAuth2 do.
 */
export async function startTokenGate(
  upstream: string,
  user: string,
  password: string,
  scheme: 'bearer' | 'basic' = 'bearer',
  refreshToken?: string,
): Promise<TokenGate> {
  const token = randomBytes(16).toString('hex');
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const seen: TokenGate['seen'] = [];
  let throttled = 0;
  let retryAfter = '0';
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://gate');
    const auth = request.headers.authorization ?? '';
    seen.push({
      method: request.method ?? '',
      path: url.pathname + url.search,
      auth: auth.split(' ')[0] ?? '',
    });
    if (url.pathname === '/token' && request.method === 'POST') {
      void oauthGrant(request, response, refreshToken, token);
      return;
    }
    if (url.pathname === '/token') {
      const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      if (auth !== expected || url.searchParams.get('service') !== 'gate' || !url.searchParams.get('scope')) {
        response.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    if (auth !== (scheme === 'bearer' ? `Bearer ${token}` : basic)) {
      const name = /^\/v2\/(.+)\/(tags|manifests)\//.exec(url.pathname)?.[1] ?? '';
      response
        .writeHead(401, {
          'www-authenticate':
            scheme === 'bearer'
              ? `Bearer realm="http://${host}/token",service="gate",scope="repository:${name}:pull"`
              : 'Basic realm="gate"',
          'content-type': 'application/json',
        })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (throttled > 0) {
      throttled--;
      response.writeHead(429, { 'retry-after': retryAfter }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
      return;
    }
    if (/\/tags\/list$/.test(url.pathname) && url.searchParams.has('n')) {
      void paginate(upstream, url, response);
      return;
    }
    const forward = http.request(
      `http://${upstream}${url.pathname}${url.search}`,
      { method: request.method, headers: { accept: request.headers.accept ?? '*/*' } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forward.on('error', () => response.writeHead(502).end());
    forward.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    seen,
    throttle(count, after) {
      throttled = count;
      retryAfter = after;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
