import { UserError } from '../core/errors.ts';
import { isPlainObject } from '../core/objects.ts';

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** A refusal from the API server, with its HTTP status and the Status object's reason and causes. */
export class KubeApiError extends UserError {
  readonly status: number;
  readonly reason: string;
  readonly causes: readonly StatusCause[];

  constructor(
    status: number,
    reason: string,
    message: string,
    causes: readonly StatusCause[],
    hint?: string,
  ) {
    super(
      status === 403 || status === 401 ? 'permission' : status === 409 ? 'conflict' : 'cluster',
      message,
      hint ? { hint } : {},
    );
    this.status = status;
    this.reason = reason;
    this.causes = causes;
  }
}

/** Builds the error for a non-2xx response, keeping the server's own words (they name the field). */
export function apiError(status: number, body: string, what: string): KubeApiError {
  let reason = '';
  let message = body.trim().slice(0, 2000);
  let causes: StatusCause[] = [];
  try {
    const parsed: unknown = JSON.parse(body);
    if (isPlainObject(parsed)) {
      reason = typeof parsed.reason === 'string' ? parsed.reason : '';
      if (typeof parsed.message === 'string') message = parsed.message;
      const details = parsed.details;
      if (isPlainObject(details) && Array.isArray(details.causes))
        causes = details.causes.filter(isPlainObject);
    }
  } catch {
    // not a Status object: keep the raw text
  }
  const hint =
    status === 401
      ? 'the credentials were refused: check the kubeconfig or token'
      : status === 403 && message.includes('ValidatingAdmissionPolicy')
        ? "an admission policy denied it, not RBAC; `slipway rbac`'s policy lets a plan identity make dry-runs only: apply with the environment's apply identity"
        : status === 403
          ? 'grant this identity the missing RBAC permission (server-side dry-run needs the same write verbs as apply)'
          : undefined;
  return new KubeApiError(status, reason, `${what}: ${message || `HTTP ${status}`}`, causes, hint);
}
