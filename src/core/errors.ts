/**
 * Two kinds of failure: a UserError is something the user fixes in their repository, config or
 * cluster (it carries where and what to do); anything else is an internal failure, a Slipway bug.
 */

export interface SourceLocation {
  readonly file: string;
  /** 1-based; 0 when the whole file is meant. */
  readonly line: number;
}

export type UserErrorKind =
  | 'config'
  | 'path'
  | 'yaml'
  | 'manifest'
  | 'render'
  | 'tool'
  | 'git'
  | 'cluster'
  /** The API server cannot be reached at all: the run stops rather than fail object by object. */
  | 'connection'
  | 'permission'
  | 'conflict'
  | 'apply'
  | 'prune'
  | 'lock'
  | 'health'
  | 'platform'
  /** A container registry refused or failed a request (image updates). */
  | 'registry'
  | 'usage';

export class UserError extends Error {
  override readonly name = 'UserError';
  readonly kind: UserErrorKind;
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;

  constructor(
    kind: UserErrorKind,
    message: string,
    options: { location?: SourceLocation; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.location = options.location;
    this.hint = options.hint;
  }
}

/** A failure Slipway did not expect: worth a bug report. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

export function formatLocation(location: SourceLocation | undefined): string {
  if (!location) return '';
  return location.line > 0 ? `${location.file}:${location.line}` : location.file;
}

/** One line a user can act on: where, what, and what to do. */
export function describeError(error: unknown): string {
  if (error instanceof UserError) {
    const where = formatLocation(error.location);
    return `${where ? `${where}: ` : ''}${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  }
  return errorMessage(error);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

export function assertNever(value: never): never {
  throw new InternalError(`unexpected value: ${JSON.stringify(value)}`);
}
