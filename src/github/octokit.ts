/**
 * The one Octokit setup every GitHub adapter uses: requests failing with 5xx or 429 (network
 * failures surface as 500) are retried with exponential backoff or the server's `retry-after`;
 * other 4xx are never retried.
 */
import { getOctokit } from '@actions/github';

export type Octokit = ReturnType<typeof getOctokit>;

export interface RetryOptions {
  /** Attempts in all, including the first; default 3. */
  readonly attempts?: number;
  /** First backoff delay; doubles each retry. Default 1000 ms. */
  readonly baseDelayMs?: number;
  /** A longer `retry-after` is not waited for: the error is reported instead. Default 60 s. */
  readonly maxRetryAfterMs?: number;
  /** Replaceable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface HttpFailure {
  readonly status: number;
  readonly response?: {
    readonly headers?: Record<string, string | number | undefined>;
    readonly data?: unknown;
  };
}

export function isHttpFailure(error: unknown): error is HttpFailure {
  return (
    typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number'
  );
}

export function header(error: HttpFailure, name: string): string | undefined {
  const value = error.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** Seconds or an HTTP date, in milliseconds from now. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** An Octokit for `apiUrl` (GITHUB_API_URL on Enterprise Server) that retries as above. */
export function retryingOctokit(token: string, apiUrl: string, options: RetryOptions = {}): Octokit {
  const octokit = getOctokit(token, { baseUrl: apiUrl.replace(/\/+$/, '') });
  const attempts = Math.max(1, options.attempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  octokit.hook.wrap('request', async (request, requestOptions) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        if (attempt >= attempts || !isHttpFailure(error) || (error.status !== 429 && error.status < 500))
          throw error;
        const hinted = retryAfterMs(header(error, 'retry-after'));
        if (hinted !== undefined && hinted > maxRetryAfterMs) throw error;
        await sleep(hinted ?? baseDelayMs * 2 ** (attempt - 1));
      }
    }
  });
  return octokit;
}
