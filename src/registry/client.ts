// An OCI Distribution API client: tags (paginated) and manifest digests, with bearer-token and basic
// auth, bounded retries on 429/5xx (Retry-After honoured). Plain node:http/https, no dependency.

import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.ts';
import { registryLocation } from '../core/images/reference.ts';
import { parseChallenge } from './challenge.ts';
import { IDENTITY_TOKEN_USER, type Credential, type CredentialLookup } from './credentials.ts';
import { send, type Method, type Reply } from './http.ts';

export interface RegistryOptions {
  readonly credentials: CredentialLookup;
  /** Attempts per request (1 = no retry). */
  readonly attempts?: number;
  /** First back-off; doubles each retry. */
  readonly baseDelayMs?: number;
  /** Longest wait, also the cap on a Retry-After. */
  readonly maxDelayMs?: number;
  /** Tags asked per page (`n`). */
  readonly pageSize?: number;
  readonly debug?: (message: string) => void;
  /** Receives every token a token service hands out, to mask it. */
  readonly onSecret?: (secret: string) => void;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
// Tag lists are small; a registry answering more than this is not one to trust.
const MAX_PAGES = 10_000;

export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly options: Required<Omit<RegistryOptions, 'debug' | 'onSecret'>> &
    Pick<RegistryOptions, 'debug' | 'onSecret'>;

  constructor(options: RegistryOptions) {
    this.options = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, pageSize: 100, ...options };
  }

  /** Every tag of `repository` (`ghcr.io/acme/web`), following the Link header page by page. */
  async tags(repository: string, insecure: boolean): Promise<string[]> {
    const { host, path } = registryLocation(repository);
    const origin = `${insecure ? 'http' : 'https'}://${host}`;
    let url: string | undefined = `${origin}/v2/${path}/tags/list?n=${this.options.pageSize}`;
    const tags: string[] = [];
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES) throw this.failure(repository, `more than ${MAX_PAGES} pages of tags`);
      const reply = await this.get(url, host, `repository:${path}:pull`, 'application/json', 'GET');
      if (reply.status === 404) throw this.failure(repository, 'the repository does not exist (404)');
      if (reply.status !== 200)
        throw this.failure(repository, `listing tags answered ${reply.status}`, reply);
      let body: unknown;
      try {
        body = JSON.parse(reply.body.toString('utf8'));
      } catch {
        throw this.failure(repository, 'the tag list is not JSON');
      }
      const pageTags = (body as { tags?: unknown }).tags;
      if (pageTags !== null && pageTags !== undefined && !Array.isArray(pageTags))
        throw this.failure(repository, 'the tag list has no `tags` array');
      for (const tag of pageTags ?? []) if (typeof tag === 'string') tags.push(tag);
      url = nextPage(reply.headers['link'], url, origin);
    }
    return tags;
  }

  /** The manifest digest (`sha256:…`) `tag` points at: the index's for a multi-platform image. */
  async digest(repository: string, tag: string, insecure: boolean): Promise<string> {
    const { host, path } = registryLocation(repository);
    const url = `${insecure ? 'http' : 'https'}://${host}/v2/${path}/manifests/${encodeURIComponent(tag)}`;
    const scope = `repository:${path}:pull`;
    const head = await this.get(url, host, scope, MANIFEST_TYPES, 'HEAD');
    if (head.status === 404) throw this.failure(repository, `tag ${tag} does not exist (404)`);
    const header = head.headers['docker-content-digest'];
    if (head.status === 200 && typeof header === 'string' && header !== '') return header;
    // Some registries omit the header on HEAD: the digest is the hash of the manifest's bytes.
    const got = await this.get(url, host, scope, MANIFEST_TYPES, 'GET');
    if (got.status !== 200)
      throw this.failure(repository, `reading the manifest of ${tag} answered ${got.status}`, got);
    return `sha256:${createHash('sha256').update(got.body).digest('hex')}`;
  }

  private failure(repository: string, message: string, reply?: Reply): UserError {
    const detail = reply ? errorDetail(reply) : '';
    return new UserError('registry', `${repository}: ${message}${detail}`, {
      hint:
        reply?.status === 401 || reply?.status === 403
          ? "give credentials in a docker config.json (SLIPWAY_DOCKER_CONFIG, the action's registry-config)"
          : undefined,
    });
  }

  /** A GET/HEAD that answers a 401 challenge once: bearer token or basic credentials. */
  private async get(
    url: string,
    host: string,
    scope: string,
    accept: string,
    method: 'GET' | 'HEAD',
  ): Promise<Reply> {
    const headers: Record<string, string> = { accept };
    const cached = this.tokens.get(`${host} ${scope}`) ?? this.tokens.get(host);
    if (cached) headers['authorization'] = cached;
    let reply = await this.retrying(url, method, headers);
    if (reply.status !== 401) return reply;
    const challenge = parseChallenge(header(reply, 'www-authenticate'));
    const credential = await this.options.credentials(host);
    let authorization: string | undefined;
    let key = host;
    if (challenge?.scheme === 'bearer') {
      const realm = challenge.params['realm'];
      if (!realm) return reply;
      key = `${host} ${scope}`;
      const service = challenge.params['service'];
      const wanted = challenge.params['scope'] ?? scope;
      authorization = `Bearer ${await this.token(host, { realm, service, scope: wanted, from: url }, credential)}`;
    } else if (challenge?.scheme === 'basic' && credential) {
      authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
    if (!authorization) return reply;
    this.tokens.set(key, authorization);
    reply = await this.retrying(url, method, { ...headers, authorization });
    return reply;
  }

  private async token(host: string, ask: TokenRequest, credential: Credential | undefined): Promise<string> {
    const url = new URL(ask.realm, ask.from);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new UserError('registry', `${host}: token realm ${ask.realm} is not http(s)`);
    // Credentials go to the realm the registry named, and only over https unless the registry is plain http too.
    const given =
      credential && (url.protocol === 'https:' || ask.from.startsWith('http:')) ? credential : undefined;
    const reply =
      given?.username === IDENTITY_TOKEN_USER
        ? await this.refreshTokenGrant(url, ask, given.password)
        : await this.retrying(tokenUrl(url, ask), 'GET', basicHeaders(given));
    if (reply.status !== 200)
      throw new UserError(
        'registry',
        `${host}: the token service ${url.origin} answered ${reply.status} for ${ask.scope}`,
        {
          hint: credential
            ? 'check the registry credentials'
            : `the registry needs credentials for ${host}: give a docker config.json (SLIPWAY_DOCKER_CONFIG, the action's registry-config) with an auths entry or a credential helper`,
        },
      );
    let body: { token?: unknown; access_token?: unknown; refresh_token?: unknown };
    try {
      body = JSON.parse(reply.body.toString('utf8')) as typeof body;
    } catch {
      throw new UserError('registry', `${host}: the token service ${url.origin} did not answer JSON`);
    }
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '')
      throw new UserError('registry', `${host}: the token service ${url.origin} answered no token`);
    this.options.onSecret?.(token);
    if (typeof body.refresh_token === 'string') this.options.onSecret?.(body.refresh_token);
    return token;
  }

  /**
   * An identity token is an OAuth2 refresh token, exchanged by POST as docker does (the distribution
   * spec's OAuth2 token authentication), never sent as a password.
   */
  private refreshTokenGrant(url: URL, ask: TokenRequest, refreshToken: string): Promise<Reply> {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      service: ask.service ?? '',
      scope: ask.scope,
      client_id: 'slipway',
    });
    return this.retrying(
      url.toString(),
      'POST',
      { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      form.toString(),
    );
  }

  /** Retries 429 and 5xx and network errors, `attempts` times in all, waiting Retry-After or backing off. */
  private async retrying(
    url: string,
    method: Method,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Reply> {
    const { attempts, baseDelayMs, maxDelayMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      let reply: Reply | undefined;
      let failure: unknown;
      try {
        reply = await send(url, method, headers, body);
        if (reply.status !== 429 && reply.status < 500) return reply;
      } catch (error) {
        failure = error;
      }
      if (attempt >= attempts) {
        if (reply) return reply;
        throw new UserError('registry', `${new URL(url).host}: ${(failure as Error).message}`, {
          hint: 'check the registry address, and `insecure: true` for a plain-HTTP registry',
        });
      }
      const after = reply ? retryAfterMs(header(reply, 'retry-after')) : undefined;
      const wait = Math.min(after ?? baseDelayMs * 2 ** (attempt - 1), maxDelayMs);
      this.options.debug?.(
        `registry ${method} ${new URL(url).pathname}: ${reply ? reply.status : 'network error'}, retrying in ${wait} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

interface TokenRequest {
  readonly realm: string;
  readonly service: string | undefined;
  readonly scope: string;
  /** The registry URL that was challenged: the realm is resolved against it. */
  readonly from: string;
}

function tokenUrl(realm: URL, ask: TokenRequest): string {
  const url = new URL(realm);
  if (ask.service) url.searchParams.set('service', ask.service);
  url.searchParams.set('scope', ask.scope);
  return url.toString();
}

function basicHeaders(credential: Credential | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credential)
    headers['authorization'] =
      `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
  return headers;
}

function header(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The `rel="next"` target of a Link header, on the same origin only (credentials go nowhere else). */
export function nextPage(
  link: string | string[] | undefined,
  current: string,
  origin: string,
): string | undefined {
  const text = Array.isArray(link) ? link.join(',') : link;
  const match = text ? /<([^>]+)>\s*;\s*rel="?next"?/i.exec(text) : null;
  if (!match?.[1]) return undefined;
  const next = new URL(match[1], current);
  return next.origin === origin ? next.toString() : undefined;
}

function errorDetail(reply: Reply): string {
  try {
    const body = JSON.parse(reply.body.toString('utf8')) as {
      errors?: { code?: string; message?: string }[];
    };
    const first = body.errors?.[0];
    return first ? `: ${first.code ?? ''} ${first.message ?? ''}`.trimEnd() : '';
  } catch {
    return '';
  }
}
