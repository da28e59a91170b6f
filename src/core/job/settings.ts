/**
 * The defaults every entry shares, and the parsing of the one knob all three read from the
 * environment, so a GitHub job, a GitLab job and a laptop behave the same unless told otherwise.
 */
import { UserError } from '../errors.ts';
import { DEFAULT_CONCURRENCY } from '../settings.ts';
import type { JobSettings } from './types.ts';

/** Long enough for another run's apply and health wait to finish; short of a CI job's timeout. */
export const DEFAULT_LOCK_WAIT_SECONDS = 300;

export const DEFAULT_JOB_SETTINGS: JobSettings = {
  concurrency: DEFAULT_CONCURRENCY,
  lockWaitSeconds: DEFAULT_LOCK_WAIT_SECONDS,
  dryRun: false,
  prune: true,
  force: false,
  heal: false,
  timeoutSeconds: undefined,
  comment: true,
  requireReviewedPlan: false,
};

/** `SLIPWAY_LOCK_WAIT_SECONDS`: a whole number of seconds (0 gives up at once); empty means the default. */
export function parseLockWait(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_LOCK_WAIT_SECONDS;
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed))
    throw new UserError(
      'config',
      `SLIPWAY_LOCK_WAIT_SECONDS must be a whole number of seconds, got "${value}"`,
    );
  return Number(trimmed);
}

/** `true`/`false` of a CI variable (empty means `fallback`); anything else is a mistake worth stopping for. */
export function parseFlag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  const lower = value.trim().toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new UserError('config', `${name} must be true or false, got "${value}"`);
}
