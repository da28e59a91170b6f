import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretMasker } from '../../src/core/secrets.ts';

test('masks a value in plain, base64 and URL-encoded form', () => {
  const masker = new SecretMasker();
  masker.add('p@ss w0rd/+?');
  const text = `a p@ss w0rd/+? b ${Buffer.from('p@ss w0rd/+?').toString('base64')} c ${encodeURIComponent('p@ss w0rd/+?')}`;
  assert.equal(masker.mask(text), 'a *** b *** c ***');
});

test('masks a value with a quote, a backslash or a newline where JSON output escaped them', () => {
  const masker = new SecretMasker();
  const value = 'pa"ss\\word\nline2';
  masker.add(value);
  assert.equal(masker.mask(JSON.stringify({ diff: `+ dsn: ${value}@db` })), '{"diff":"+ dsn: ***@db"}');
});

test('longer values win over values they contain, and regex characters are literal', () => {
  const masker = new SecretMasker();
  masker.add('abcd');
  masker.add('abcd.efgh(1)');
  assert.equal(masker.mask('x abcd.efgh(1) y abcd z abcdXefgh(1)'), 'x *** y *** z ***Xefgh(1)');
});

test('values added later are masked too; short values are not (they would eat ordinary words)', () => {
  const masker = new SecretMasker();
  assert.equal(masker.mask('nothing yet'), 'nothing yet');
  masker.add('late-secret');
  masker.add('abc');
  assert.equal(masker.mask('late-secret abc'), '*** abc');
});
