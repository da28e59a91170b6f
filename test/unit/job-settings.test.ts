// The knobs every entry parses the same way (src/core/job/settings.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { DEFAULT_LOCK_WAIT_SECONDS, parseFlag, parseLockWait } from '../../src/core/job/settings.ts';

describe('SLIPWAY_LOCK_WAIT_SECONDS', () => {
  test('unset or empty is the shared default; whole seconds are taken as they are', () => {
    assert.equal(parseLockWait(undefined), DEFAULT_LOCK_WAIT_SECONDS);
    assert.equal(parseLockWait(' '), DEFAULT_LOCK_WAIT_SECONDS);
    assert.equal(DEFAULT_LOCK_WAIT_SECONDS, 300);
    assert.equal(parseLockWait('0'), 0);
    assert.equal(parseLockWait(' 45 '), 45);
  });

  test('anything else is refused, naming the variable', () => {
    for (const value of ['5m', '-1', '1.5', 'soon'])
      assert.throws(
        () => parseLockWait(value),
        (error: unknown) =>
          error instanceof UserError &&
          error.message.includes(
            `SLIPWAY_LOCK_WAIT_SECONDS must be a whole number of seconds, got "${value}"`,
          ),
      );
  });
});

describe('CI variable flags', () => {
  test('true/false in any case, 1/0, empty means the fallback; anything else is an error', () => {
    assert.equal(parseFlag('X', 'TRUE', false), true);
    assert.equal(parseFlag('X', '0', true), false);
    assert.equal(parseFlag('X', '', true), true);
    assert.equal(parseFlag('X', undefined, false), false);
    assert.throws(
      () => parseFlag('SLIPWAY_IN_CLUSTER', 'yes', false),
      /SLIPWAY_IN_CLUSTER must be true or false, got "yes"/,
    );
  });
});
