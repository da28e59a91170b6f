import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/config.ts';
import { UserError } from '../../src/core/errors.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { locateTags } from '../../src/core/images/locate.ts';
import { parseImagePolicies, type ImagePolicy } from '../../src/core/images/policy.ts';
import { canonicalRepository, parseImageReference } from '../../src/core/images/reference.ts';
import { isNewer, selectLatest } from '../../src/core/images/select.ts';
import { parseSemVer, parseSemVerRange, satisfies } from '../../src/core/images/semver.ts';
import { applyUpdates, planUpdates, type PolicyResult } from '../../src/core/images/updates.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { parseChallenge } from '../../src/registry/challenge.ts';
import { parseDockerConfig } from '../../src/registry/credentials.ts';
import { nextPage, retryAfterMs } from '../../src/registry/client.ts';

function policy(raw: Record<string, unknown>): ImagePolicy {
  const problems: string[] = [];
  const [parsed] = parseImagePolicies({ p: raw }, (at, message) => problems.push(`${at}: ${message}`));
  assert.deepEqual(problems, []);
  assert.ok(parsed);
  return parsed;
}

const inRange = (range: string, version: string): boolean => {
  const parsed = parseSemVer(version);
  assert.ok(parsed, version);
  return satisfies(parsed, parseSemVerRange(range));
};

describe('semver ranges (Flux/Masterminds syntax)', () => {
  const cases: [string, string[], string[]][] = [
    ['>=1.0.0 <2.0.0', ['1.0.0', '1.9.9', 'v1.2.3'], ['0.9.9', '2.0.0', '1.5.0-rc.1']],
    ['>=1.0.0, <2.0.0', ['1.4.0'], ['2.0.0']],
    ['^1.2.3', ['1.2.3', '1.9.0'], ['1.2.2', '2.0.0']],
    ['^0.2.3', ['0.2.9'], ['0.3.0']],
    ['~1.2.3', ['1.2.9'], ['1.3.0']],
    ['1.x', ['1.0.0', '1.99.0'], ['2.0.0']],
    ['1.2.x || 2.0.0', ['1.2.7', '2.0.0'], ['1.3.0', '2.0.1']],
    ['1.0.0 - 1.4', ['1.0.0', '1.4.9'], ['1.5.0']],
    ['*', ['0.0.1', '9.9.9'], ['1.0.0-alpha']],
    ['>=1.0.0-rc.1 <1.0.1', ['1.0.0-rc.2', '1.0.0'], ['1.0.0-beta']],
    ['> 1.2', ['1.3.0'], ['1.2.9']],
  ];
  for (const [range, yes, no] of cases)
    test(range, () => {
      for (const v of yes) assert.ok(inRange(range, v), `${v} in ${range}`);
      for (const v of no) assert.ok(!inRange(range, v), `${v} not in ${range}`);
    });
  test('a bad range is an error naming it', () => {
    const problems: string[] = [];
    parseImagePolicies({ web: { image: 'nginx', policy: { semver: { range: '>=one' } } } }, (at, m) =>
      problems.push(`${at}: ${m}`),
    );
    assert.deepEqual(problems, [
      'image-policies.web.policy.semver: semver range ">=one": "one" is not a version',
    ]);
  });
});

describe('policies', () => {
  test('semver picks the greatest in range; pre-releases and out-of-range tags are ignored', () => {
    const p = policy({ image: 'ghcr.io/acme/web', policy: { semver: { range: '^1.0.0' } } });
    assert.equal(
      selectLatest(p, ['1.0.0', '1.10.0', '1.9.0', '2.0.0', '1.11.0-rc.1', 'latest'])?.tag,
      '1.10.0',
    );
  });
  test('numerical over an extracted group (Go (?P<name>) syntax), desc and asc', () => {
    const raw = {
      image: 'ghcr.io/acme/api',
      policy: { numerical: { order: 'asc' } },
      filterTags: { pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts' },
    };
    const tags = ['main-abc-100', 'main-def-99', 'main-0a1-1000', 'pr-5-2000'];
    assert.equal(selectLatest(policy(raw), tags)?.tag, 'main-0a1-1000');
    assert.equal(
      selectLatest(policy({ ...raw, policy: { numerical: { order: 'desc' } } }), tags)?.tag,
      'main-def-99',
    );
  });
  test('alphabetical compares bytes like Go', () => {
    const p = policy({
      image: 'x/y',
      policy: { alphabetical: { order: 'asc' } },
      filterTags: { pattern: '^RELEASE\\.' },
    });
    assert.equal(
      selectLatest(p, ['RELEASE.2024-01-02T00-00-00Z', 'RELEASE.2024-11-01T00-00-00Z', 'other'])?.tag,
      'RELEASE.2024-11-01T00-00-00Z',
    );
  });
  test('never backwards, even from a version outside the range; an unknown current tag is replaced', () => {
    const p = policy({ image: 'x/y', policy: { semver: { range: '<2.0.0' } } });
    const latest = selectLatest(p, ['1.5.0']);
    assert.ok(latest);
    assert.equal(isNewer(p, '1.6.0', latest), false);
    assert.equal(isNewer(p, '2.1.0', latest), false);
    assert.equal(isNewer(p, '1.4.0', latest), true);
    assert.equal(isNewer(p, 'latest', latest), true);
  });
  test('every problem in image-policies is reported at its key', () => {
    const problems: string[] = [];
    parseImagePolicies(
      {
        Bad_Name: { image: 'nginx:1.0', policy: { semver: {}, numerical: {} }, extra: 1 },
        ok: {
          image: 'nginx',
          policy: { numerical: { order: 'up' } },
          pinDigest: 'yes',
          filterTags: { pattern: '(' },
        },
      },
      (at) => problems.push(at),
    );
    assert.deepEqual(problems, [
      'image-policies.Bad_Name',
      'image-policies.Bad_Name.extra',
      'image-policies.Bad_Name.image',
      'image-policies.Bad_Name.policy',
      'image-policies.ok.policy.numerical',
      'image-policies.ok.filterTags.pattern',
      'image-policies.ok.pinDigest',
    ]);
  });
});

describe('image references', () => {
  test('registry ports, digests and Docker Hub spellings', () => {
    assert.deepEqual(parseImageReference('localhost:5000/a/b:1.0@sha256:ab'), {
      name: 'localhost:5000/a/b',
      tag: '1.0',
      digest: 'sha256:ab',
    });
    assert.deepEqual(parseImageReference('localhost:5000/a/b'), {
      name: 'localhost:5000/a/b',
      tag: undefined,
      digest: undefined,
    });
    assert.equal(canonicalRepository('nginx'), 'docker.io/library/nginx');
    assert.equal(canonicalRepository('index.docker.io/library/nginx'), 'docker.io/library/nginx');
    assert.equal(canonicalRepository('bitnami/redis'), 'docker.io/bitnami/redis');
    assert.equal(canonicalRepository('ghcr.io/acme/web'), 'ghcr.io/acme/web');
  });
});

describe('locating and editing tags', () => {
  const text = `# top comment
spec:
  containers:
    - image: nginx:1.25.0 # trailing
    - image: 'ghcr.io/acme/web:1.0.0'
    - image: ghcr.io/acme/untagged
    - image: ghcr.io/acme/pinned@sha256:${'a'.repeat(64)}
    - image: >-
        ghcr.io/acme/web:0.1.0
images:
  - name: nginx
    newName: ghcr.io/acme/web
    newTag: "1.0.0"
helm:
  image: {repository: ghcr.io/acme/api, tag: 1.10}
version: 1.0.0 # {"$imagepolicy": "flux-system:web:tag"}
full: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}
`;
  test('image fields, Kustomize entries, Helm repository/tag, and Flux setter markers', () => {
    const found = locateTags(text, 'f.yaml').map(
      (l) => `${l.line} ${l.via} ${l.field} ${l.repository ?? '-'} ${l.policy ?? '-'} ${l.currentTag ?? '-'}`,
    );
    assert.deepEqual(found, [
      '4 image: reference nginx - 1.25.0',
      '5 image: reference ghcr.io/acme/web - 1.0.0',
      '6 image: reference ghcr.io/acme/untagged - -',
      '13 newTag tag ghcr.io/acme/web - 1.0.0',
      '15 tag tag ghcr.io/acme/api - 1.10',
      '16 marker tag - web 1.0.0',
      '17 marker reference ghcr.io/acme/web web 1.0.0',
    ]);
  });
  test('only the tag bytes change; a tag that would read as a number is quoted', () => {
    const web = policy({ image: 'ghcr.io/acme/web', policy: { semver: { range: '*' } } });
    const api = { ...policy({ image: 'ghcr.io/acme/api', policy: { semver: { range: '*' } } }), name: 'api' };
    const results = new Map<string, PolicyResult>([
      [
        'p',
        {
          policy: { ...web, name: 'web' },
          latest: { tag: '1.2.0', value: '1.2.0' },
          digest: `sha256:${'b'.repeat(64)}`,
        },
      ],
    ]);
    const apiLoose = { ...api, order: { kind: 'alphabetical', order: 'asc' } as const };
    results.set('api', {
      policy: apiLoose,
      latest: { tag: '1.20', value: '1.20' },
      digest: `sha256:${'c'.repeat(64)}`,
    });
    const updates = planUpdates(locateTags(text, 'f.yaml'), results);
    const out = applyUpdates(text, updates);
    const expected = text
      .replace("'ghcr.io/acme/web:1.0.0'", "'ghcr.io/acme/web:1.2.0'")
      .replace('newTag: "1.0.0"', 'newTag: "1.2.0"')
      .replace('tag: 1.10}', 'tag: "1.20"}')
      .replace('version: 1.0.0', 'version: 1.2.0')
      .replace('full: ghcr.io/acme/web:1.0.0', 'full: ghcr.io/acme/web:1.2.0');
    assert.equal(out, expected);
  });
});

describe('registry protocol pieces', () => {
  test('WWW-Authenticate challenges', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/web:pull"',
      ),
      {
        scheme: 'bearer',
        params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:acme/web:pull' },
      },
    );
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    assert.equal(parseChallenge(undefined), undefined);
  });
  test('Link header: next page on the same origin only', () => {
    const current = 'https://r.example/v2/a/tags/list?n=100';
    assert.equal(
      nextPage('</v2/a/tags/list?last=x&n=100>; rel="next"', current, 'https://r.example'),
      'https://r.example/v2/a/tags/list?last=x&n=100',
    );
    assert.equal(
      nextPage('<https://evil.example/v2/a/tags/list?last=x>; rel="next"', current, 'https://r.example'),
      undefined,
    );
    assert.equal(nextPage(undefined, current, 'https://r.example'), undefined);
  });
  test('Retry-After in seconds or as a date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(undefined), undefined);
    assert.ok((retryAfterMs(new Date(Date.now() + 5000).toUTCString()) ?? 0) > 3000);
  });
  test('docker config.json: auth, username/password, Docker Hub keys', () => {
    const creds = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') },
          'ghcr.io': { username: 'me', password: 'tok' },
          'https://registry.gitlab.com/v1/': { identitytoken: 'it' },
        },
        credsStore: 'desktop',
      }),
      'config.json',
    );
    assert.deepEqual(Object.fromEntries(creds), {
      'registry-1.docker.io': { username: 'hub', password: 'pw:with:colons' },
      'ghcr.io': { username: 'me', password: 'tok' },
      'registry.gitlab.com': { username: '<token>', password: 'it' },
    });
  });
});

describe('slipway images arguments', () => {
  test('--env, --write and --format json; other formats refused', () => {
    assert.deepEqual(parseArgs(['images', '--env', 'beta', '--write', '--format', 'json']), {
      name: 'images',
      common: {
        repo: '.',
        config: undefined,
        kubeconfig: undefined,
        context: undefined,
        concurrency: undefined,
      },
      env: 'beta',
      write: true,
      format: 'json',
    });
    assert.throws(() => parseArgs(['images', '--format', 'markdown']), /--format must be text or json/);
    assert.throws(() => parseArgs(['images', '--dry-run']), /does not apply to `slipway images`/);
  });
});

describe('a digest beside the tag', () => {
  test('Kustomize `digest:` moves with newTag; the pin is not doubled into newTag', () => {
    const text = `images:
  - name: ghcr.io/acme/web
    newTag: 1.0.0
    digest: sha256:${'a'.repeat(64)}
`;
    const web = {
      ...policy({ image: 'ghcr.io/acme/web', policy: { semver: { range: '*' } }, pinDigest: true }),
      name: 'web',
    };
    const digest = `sha256:${'b'.repeat(64)}`;
    const results = new Map<string, PolicyResult>([
      ['web', { policy: web, latest: { tag: '1.1.0', value: '1.1.0' }, digest }],
    ]);
    const out = applyUpdates(text, planUpdates(locateTags(text, 'k.yaml'), results));
    assert.equal(out, text.replace('newTag: 1.0.0', 'newTag: 1.1.0').replace('a'.repeat(64), 'b'.repeat(64)));
    // Never backwards: with 1.1.0 in the file and 1.0.0 the newest left, neither field moves.
    const older = new Map<string, PolicyResult>([
      ['web', { policy: web, latest: { tag: '1.0.0', value: '1.0.0' }, digest }],
    ]);
    assert.deepEqual(
      planUpdates(locateTags(out.replace('b'.repeat(64), 'c'.repeat(64)), 'k.yaml'), older),
      [],
    );
  });
});

describe('image-policies in slipway.yaml', () => {
  test('a policy naming an unknown environment is a config error with its line', () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'slipway-images-config-'));
    try {
      mkdirSync(path.join(repo, 'clusters', 'beta'), { recursive: true });
      writeFileSync(
        path.join(repo, 'slipway.yaml'),
        `environments:\n  beta:\n    path: clusters/beta\nimage-policies:\n  web:\n    image: nginx\n    policy:\n      semver:\n        range: '1.x'\n    environments: [betta]\n`,
      );
      assert.throws(
        () => loadConfig(new RepoPaths(repo)),
        (error: unknown) =>
          error instanceof UserError &&
          /image policy "web" names unknown environment "betta"/.test(error.message) &&
          error.location?.line === 10,
      );
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
