import https from 'node:https';
import http from 'node:http';
import { UserError } from '../core/errors.ts';

export interface Connection {
  readonly server: string;
  readonly agentOptions: https.AgentOptions;
  /** Called before requests to get fresh auth headers (exec plugins' tokens expire). */
  readonly headers: () => Promise<Record<string, string>>;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface RetryPolicy {
  /** Give up retrying after this long in total (ms). */
  readonly deadlineMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'EHOSTUNREACH',
]);

/**
 * One keep-alive connection pool with a concurrency limit, and retries with exponential backoff
 * and jitter for what is transient: 429, 5xx (except 501), and connection failures.
 */
export class HttpPool {
  private readonly connection: Connection;
  private readonly agent: https.Agent | http.Agent;
  private readonly limit: number;
  private readonly retry: RetryPolicy;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  requests = 0;
  /**
   * Set once a request has retried a connection failure for the whole deadline: the server is
   * gone, and every later request fails at once instead of waiting out its own deadline (a
   * thousand objects would otherwise take minutes to report one dead server).
   */
  private unreachable: Error | undefined;
  retries = 0;

  constructor(connection: Connection, concurrency: number, retry: RetryPolicy) {
    this.connection = connection;
    this.limit = Math.max(1, concurrency);
    this.retry = retry;
    const options = { keepAlive: true, maxSockets: this.limit, ...connection.agentOptions };
    this.agent = connection.server.startsWith('https:') ? new https.Agent(options) : new http.Agent(options);
  }

  close(): void {
    this.agent.destroy();
  }

  async request(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/json',
    accept = 'application/json',
  ): Promise<HttpResponse> {
    if (this.unreachable) throw this.unreachable;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse | undefined;
      let failure: unknown;
      try {
        response = await this.limited(() => this.once(method, path, body, contentType, accept));
      } catch (error) {
        failure = error;
      }
      const transient = response
        ? (response.status === 429 || (response.status >= 500 && response.status !== 501)) &&
          !isPermanentServerError(response)
        : isTransient(failure);
      if (!transient) {
        if (response) return response;
        throw connectionError(this.connection.server, failure);
      }
      const elapsed = Date.now() - started;
      const retryAfter = Number(response?.headers['retry-after']);
      const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
      const delay =
        Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(retryAfter * 1000, this.retry.maxDelayMs)
          : backoff / 2 + Math.random() * (backoff / 2);
      if (elapsed + delay > this.retry.deadlineMs) {
        if (response) return response;
        this.unreachable = connectionError(this.connection.server, failure, elapsed);
        throw this.unreachable;
      }
      this.retries++;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async once(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string,
    accept: string,
  ): Promise<HttpResponse> {
    this.requests++;
    const headers: Record<string, string> = {
      ...(await this.connection.headers()),
      Accept: accept,
      'User-Agent': 'slipway',
    };
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    // Plain concatenation keeps a server URL's own path prefix (e.g. a proxy's /k8s/clusters/x).
    const url = new URL(`${this.connection.server.replace(/\/$/, '')}${path}`);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(
        url,
        { method, headers, agent: this.agent, timeout: 60_000 },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: response.headers,
            });
          });
          response.on('error', reject);
        },
      );
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

/**
 * A 500 that retrying cannot fix: server-side apply of a field outside the schema is reported as
 * HTTP 500 "failed to create typed patch object" (kubernetes/kubernetes#139253), not 400.
 */
function isPermanentServerError(response: HttpResponse): boolean {
  return response.status === 500 && /failed to create typed (patch|live) object/.test(response.body);
}

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

function connectionError(server: string, error: unknown, elapsedMs?: number): UserError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  const waited = elapsedMs === undefined ? '' : ` (retried for ${(elapsedMs / 1000).toFixed(1)} s)`;
  return new UserError(
    'connection',
    `cannot reach the Kubernetes API server at ${server}${waited}: ${typeof code === 'string' ? code : detail}`,
    {
      hint: 'check that the cluster is up and the kubeconfig points at it; in CI, check the runner can reach the API server',
      cause: error,
    },
  );
}
