/**
 * The one way Slipway's GitLab adapters talk to the REST API v4: a JSON request with the token in
 * `PRIVATE-TOKEN`, retried on 429, 5xx and network failures with exponential backoff or the
 * server's `retry-after` (a longer one than `maxRetryAfterMs` is not waited for); other 4xx are
 * never retried. Callers turn the last answer into their own errors.
 */
import { VERSION } from '../core/version.ts';

export interface GitLabRetryOptions {
  /** Attempts in all, including the first; default 3. */
  readonly attempts?: number;
  /** First backoff delay; doubles each retry. Default 1000 ms. */
  readonly baseDelayMs?: number;
  /** A longer `retry-after` is not waited for: the error is reported instead. Default 60 s. */
  readonly maxRetryAfterMs?: number;
  /** Replaceable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface GitLabReply {
  readonly status: number;
  /** Parsed JSON; the text when it is not JSON (a proxy's HTML page); undefined when empty. */
  readonly data: unknown;
  readonly headers: Headers;
}

export interface GitLabRequest {
  readonly method: string;
  readonly url: URL | string;
  readonly token: string;
  readonly body?: unknown;
  /** Per attempt; default 30 s. */
  readonly timeoutMs?: number;
  /** Replaceable for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The last answer, or what stopped the last attempt reaching GitLab at all. */
export type GitLabOutcome =
  | { readonly reply: GitLabReply; readonly error?: undefined }
  | { readonly reply: undefined; readonly error: unknown };

/** Sends `request`, retrying as above; never throws for an answer, nor for a network failure. */
export async function requestGitLab(
  request: GitLabRequest,
  retry: GitLabRetryOptions = {},
): Promise<GitLabOutcome> {
  const attempts = Math.max(1, retry.attempts ?? 3);
  const baseDelayMs = retry.baseDelayMs ?? 1000;
  const maxRetryAfterMs = retry.maxRetryAfterMs ?? 60_000;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    let outcome: GitLabOutcome;
    try {
      outcome = { reply: await send(request) };
    } catch (error) {
      outcome = { reply: undefined, error };
    }
    const { reply } = outcome;
    const retryable = reply === undefined || reply.status === 429 || reply.status >= 500;
    const hinted = reply ? retryAfterMs(reply.headers.get('retry-after')) : undefined;
    if (attempt >= attempts || !retryable || (hinted !== undefined && hinted > maxRetryAfterMs))
      return outcome;
    await sleep(hinted ?? baseDelayMs * 2 ** (attempt - 1));
  }
}

async function send(request: GitLabRequest): Promise<GitLabReply> {
  const { body } = request;
  const response = await (request.fetch ?? fetch)(request.url, {
    method: request.method,
    headers: {
      'PRIVATE-TOKEN': request.token,
      Accept: 'application/json',
      'User-Agent': `slipway/${VERSION}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let data: unknown = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text; // not JSON (an HTML error page from a proxy): keep the text
    }
  }
  return { status: response.status, data, headers: response.headers };
}

/** Seconds or an HTTP date, in milliseconds from now. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The network failure's own words (fetch hides them in `cause`). */
export function networkMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}
