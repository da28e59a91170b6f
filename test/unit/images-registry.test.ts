// `slipway images` against a real OCI registry (Debian's docker-registry) holding images the test
// pushes through the Distribution API; bearer auth through a token gate in front of that registry.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deleteManifest, pushImage, pushTags, startTokenGate, type TokenGate } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import { execFileSync } from 'node:child_process';
import { pinnedTools, runSlipway, scratch, type Scratch } from './support.ts';

let registry: LocalRegistry;
let gate: TokenGate;
const scratches: Scratch[] = [];
const digests = new Map<string, string>();

before(async () => {
  const s = scratch('slipway-images-registry-');
  scratches.push(s);
  registry = await startRegistry(s.dir);
  for (const tag of ['1.0.0', '1.1.0', '1.2.0', '2.0.0', '1.3.0-rc.1', 'latest'])
    digests.set(`web:${tag}`, await pushImage(registry.host, 'team/web', tag));
  for (const tag of ['main-aaaa-100', 'main-bbbb-205', 'main-cccc-99', 'feature-x-300'])
    digests.set(`api:${tag}`, await pushImage(registry.host, 'team/api', tag));
  // 130 build tags sort before the v1.0.x ones: the release tags are on the second page of 100,
  // so the client must follow the Link header (the token gate pages, see startTokenGate).
  await pushTags(registry.host, 'team/many', [
    ...Array.from({ length: 130 }, (_, i) => `build-${String(i).padStart(3, '0')}`),
    ...Array.from({ length: 6 }, (_, i) => `v1.0.${i}`),
  ]);
  gate = await startTokenGate(registry.host, 'robot', 's3cret-registry-password');
});

after(async () => {
  await gate.close();
  registry.stop();
  for (const s of scratches) s.cleanup();
});

function repoWith(files: Record<string, string>): string {
  const s = scratch('slipway-images-repo-');
  scratches.push(s);
  const repo = path.join(s.dir, 'repo');
  for (const [relative, text] of Object.entries(files)) {
    const file = path.join(repo, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return repo;
}

const policies = (host: string, extra = ''): string => `environments:
  staging:
    path: clusters/staging
image-policies:
  web:
    image: ${host}/team/web
    policy:
      semver:
        range: '>=1.0.0 <2.0.0'
    insecure: true${extra}
  api:
    image: ${host}/team/api
    policy:
      numerical:
        order: asc
    filterTags:
      pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'
      extract: '$ts'
    insecure: true
`;

const deployment = (host: string, web = '1.0.0', api = 'main-aaaa-100'): string => `# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: ${host}/team/web:${web}   # bumped by slipway images
        - name: api
          image: "${host}/team/api:${api}"
        - name: sidecar
          image: docker.io/library/busybox:1.36
`;

const kustomization = (host: string): string => `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deploy.yaml
images:
  - name: ${host}/team/web
    newTag: 1.0.0 # pinned here too
`;

const values = (host: string): string => `image:
  repository: ${host}/team/api
  tag: 'main-aaaa-100'
extra:
  webVersion: 1.1.0 # {"$imagepolicy": "flux-system:web:tag"}
`;

function fixture(host: string, extra = ''): string {
  return repoWith({
    'slipway.yaml': policies(host, extra),
    'clusters/staging/deploy.yaml': deployment(host),
    'clusters/staging/kustomization.yaml': kustomization(host),
    'clusters/staging/values.yaml': values(host),
  });
}

const env = { PATH: process.env['PATH'] };

describe('slipway images against a real registry', () => {
  test('semver and regex policies propose the newest allowed tag, at each file line', async () => {
    const host = registry.host;
    const repo = fixture(host);
    const run = await runSlipway(['images', '--repo', repo], { cwd: repo, env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      run.stdout.trim().split('\n').sort(),
      [
        `clusters/staging/deploy.yaml:13  ${host}/team/api  main-aaaa-100 → main-bbbb-205  (api)`,
        `clusters/staging/kustomization.yaml:7  ${host}/team/web  1.0.0 → 1.2.0  (web)`,
        `clusters/staging/values.yaml:3  ${host}/team/api  main-aaaa-100 → main-bbbb-205  (api)`,
        `clusters/staging/values.yaml:5  ${host}/team/web  1.1.0 → 1.2.0  (web)`,
      ].sort(),
    );
    // The kustomization's `images:` entry sets web's tag: the resource's own web line is not edited.
    assert.match(
      run.stderr,
      /clusters\/staging\/deploy\.yaml:11: not edited: .*clusters\/staging\/kustomization\.yaml:7/,
    );
    // Without --write nothing changes.
    assert.equal(readFileSync(path.join(repo, 'clusters/staging/deploy.yaml'), 'utf8'), deployment(host));
  });

  test('--format json carries the registry digest of each new tag', async () => {
    const repo = fixture(registry.host);
    const run = await runSlipway(['images', '--repo', repo, '--env', 'staging', '--format', 'json'], {
      cwd: repo,
      env,
    });
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      environments: { environment: string; updates: { to: string; digest: string; policy: string }[] }[];
    };
    const [staging] = out.environments;
    assert.ok(staging);
    assert.equal(staging.environment, 'staging');
    const web = staging.updates.find((u) => u.policy === 'web');
    assert.ok(web);
    assert.equal(web.to, '1.2.0');
    assert.equal(web.digest, digests.get('web:1.2.0'));
  });

  test('--write changes only the tag tokens, byte for byte; a second run proposes nothing', async () => {
    const host = registry.host;
    const repo = fixture(host);
    const run = await runSlipway(['images', '--repo', repo, '--write'], { cwd: repo, env });
    assert.equal(run.code, 0, run.stderr);
    const read = (file: string): string => readFileSync(path.join(repo, 'clusters/staging', file), 'utf8');
    assert.equal(read('deploy.yaml'), deployment(host, '1.0.0', 'main-bbbb-205'));
    assert.equal(read('kustomization.yaml'), kustomization(host).replace('newTag: 1.0.0', 'newTag: 1.2.0'));
    assert.equal(
      read('values.yaml'),
      values(host)
        .replace("'main-aaaa-100'", "'main-bbbb-205'")
        .replace('webVersion: 1.1.0', 'webVersion: 1.2.0'),
    );
    const again = await runSlipway(['images', '--repo', repo], { cwd: repo, env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
  });

  test('a tag going backwards is ignored, and a deleted tag is not proposed', async () => {
    const host = registry.host;
    await pushImage(host, 'team/web', '1.1.5');
    const at120 = repoWith({
      'slipway.yaml': policies(host),
      'clusters/staging/deploy.yaml': deployment(host, '1.2.0', 'main-bbbb-205'),
    });
    const before = await runSlipway(['images', '--repo', at120], { cwd: at120, env });
    assert.equal(before.stdout, '', 'a newly pushed 1.1.5 is older than 1.2.0');
    await deleteManifest(host, 'team/web', digests.get('web:1.2.0') ?? '');
    try {
      const still = await runSlipway(['images', '--repo', at120], { cwd: at120, env });
      assert.equal(still.code, 0, still.stderr);
      assert.equal(still.stdout, '', 'with 1.2.0 deleted the newest is 1.1.5: never a downgrade');
      const at100 = fixture(host);
      const run = await runSlipway(['images', '--repo', at100, '--format', 'json'], { cwd: at100, env });
      const out = JSON.parse(run.stdout) as { environments: { updates: { policy: string; to: string }[] }[] };
      assert.deepEqual(
        [...new Set(out.environments[0]?.updates.filter((u) => u.policy === 'web').map((u) => u.to))],
        ['1.1.5'],
      );
    } finally {
      digests.set('web:1.2.0', await pushImage(host, 'team/web', '1.2.0'));
    }
  });

  test('pinDigest writes tag@digest, and a tag pushed again moves the pin', async () => {
    const host = registry.host;
    const repo = repoWith({
      'slipway.yaml': policies(host, '\n    pinDigest: true'),
      'clusters/staging/deploy.yaml': deployment(host),
    });
    const first = await runSlipway(['images', '--repo', repo, '--write'], { cwd: repo, env });
    assert.equal(first.code, 0, first.stderr);
    const pinned = `${host}/team/web:1.2.0@${digests.get('web:1.2.0') ?? ''}`;
    const file = path.join(repo, 'clusters/staging/deploy.yaml');
    assert.ok(readFileSync(file, 'utf8').includes(`image: ${pinned}   # bumped`));
    const moved = await pushImage(host, 'team/web', '1.2.0');
    digests.set('web:1.2.0', moved);
    const second = await runSlipway(['images', '--repo', repo], { cwd: repo, env });
    assert.match(second.stdout, new RegExp(`1\\.2\\.0@sha256:[a-f0-9]{64} → 1\\.2\\.0@${moved}  \\(web\\)`));
  });

  test('kustomize renders the written newTag@digest (kustomize as the oracle)', async () => {
    const host = registry.host;
    const repo = repoWith({
      'slipway.yaml': policies(host, '\n    pinDigest: true'),
      'clusters/staging/kustomization.yaml': `resources: [pod.yaml]
images:
  - name: web-placeholder
    newName: ${host}/team/web
    newTag: 1.0.0
`,
      'clusters/staging/pod.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: web-placeholder
`,
    });
    const run = await runSlipway(['images', '--repo', repo, '--write'], { cwd: repo, env });
    assert.equal(run.code, 0, run.stderr);
    const { kustomize } = await pinnedTools();
    const rendered = execFileSync(kustomize, ['build', path.join(repo, 'clusters/staging')], {
      encoding: 'utf8',
    });
    assert.match(
      rendered,
      new RegExp(`image: ${host}/team/web:1\\.2\\.0@${digests.get('web:1.2.0') ?? 'missing'}\n`),
    );
  });

  test('a registry that fails: its tags are left alone, the others written, exit 1', async () => {
    const host = registry.host;
    const repo = repoWith({
      // Nothing listens on port 9 of this machine: the api policy's registry cannot be reached.
      'slipway.yaml': policies(host).replace(`image: ${host}/team/api`, 'image: 127.0.0.1:9/team/api'),
      'clusters/staging/deploy.yaml': deployment(host).replace(`${host}/team/api`, '127.0.0.1:9/team/api'),
    });
    const run = await runSlipway(['images', '--repo', repo, '--write'], { cwd: repo, env });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /image policy "api": 127\.0\.0\.1:9: .*ECONNREFUSED/);
    assert.equal(
      readFileSync(path.join(repo, 'clusters/staging/deploy.yaml'), 'utf8'),
      deployment(host, '1.2.0').replace(`${host}/team/api`, '127.0.0.1:9/team/api'),
    );
  });

  test('an environment at the repository root: slipway.yaml itself is never edited', async () => {
    const host = registry.host;
    const config = policies(host).replace('path: clusters/staging', 'path: .');
    const repo = repoWith({ 'slipway.yaml': config, 'app.yaml': `image: ${host}/team/web:1.0.0\n` });
    const run = await runSlipway(['images', '--repo', repo, '--write'], { cwd: repo, env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `app.yaml:1  ${host}/team/web  1.0.0 → 1.2.0  (web)\n`);
    assert.equal(readFileSync(path.join(repo, 'slipway.yaml'), 'utf8'), config);
  });

  test('a marker naming a policy slipway.yaml lacks is an error with its line', async () => {
    const host = registry.host;
    const repo = repoWith({
      'slipway.yaml': policies(host),
      'clusters/staging/app.yaml': `a: 1\nversion: 1.0.0 # {"$imagepolicy": "flux-system:wbe:tag"}\n`,
    });
    const run = await runSlipway(['images', '--repo', repo], { cwd: repo, env });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /clusters\/staging\/app\.yaml:2: the marker names image policy "wbe"/);
  });

  test('bearer token auth from a docker config.json, pagination past 100 tags, 429 retried', async () => {
    const repo = repoWith({
      'slipway.yaml': `environments:
  staging:
    path: clusters/staging
image-policies:
  many:
    image: ${gate.host}/team/many
    policy:
      semver:
        range: '^1.0.0'
    insecure: true
`,
      'clusters/staging/app.yaml': `image: ${gate.host}/team/many:v1.0.3\n`,
    });
    const noCredentials = await runSlipway(['images', '--repo', repo, '--write'], { cwd: repo, env });
    assert.equal(noCredentials.code, 1);
    assert.match(noCredentials.stderr, /token service .* answered 401/);
    assert.equal(
      readFileSync(path.join(repo, 'clusters/staging/app.yaml'), 'utf8'),
      `image: ${gate.host}/team/many:v1.0.3\n`,
    );

    const config = path.join(path.dirname(repo), 'docker-config.json');
    const auth = Buffer.from('robot:s3cret-registry-password').toString('base64');
    writeFileSync(config, JSON.stringify({ auths: { [`http://${gate.host}`]: { auth } } }));
    gate.seen.length = 0;
    gate.throttle(2, '0');
    const run = await runSlipway(['images', '--repo', repo, '--write'], {
      cwd: repo,
      env: { ...env, SLIPWAY_DOCKER_CONFIG: config, SLIPWAY_DEBUG: '1' },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      `clusters/staging/app.yaml:1  ${gate.host}/team/many  v1.0.3 → v1.0.5  (many)\n`,
    );
    assert.equal(
      readFileSync(path.join(repo, 'clusters/staging/app.yaml'), 'utf8'),
      `image: ${gate.host}/team/many:v1.0.5\n`,
    );
    assert.ok(gate.seen.some((r) => r.path.startsWith('/token?') && r.auth === 'Basic'));
    const pages = gate.seen.filter((r) => r.path.includes('/tags/list') && r.auth === 'Bearer');
    // Two answered 429 first (retried), then the two pages.
    assert.deepEqual(
      pages.map((r) => r.path),
      [
        ...Array<string>(3).fill('/v2/team/many/tags/list?n=100'),
        '/v2/team/many/tags/list?last=build-099&n=100',
      ],
    );
    assert.equal(
      gate.seen.filter((r) => r.path === '/token?service=gate&scope=repository%3Ateam%2Fmany%3Apull').length,
      1,
    );
    assert.match(run.stderr, /429, retrying/);
    assert.ok(!run.stderr.includes('s3cret-registry-password'));
  });
});

test('basic auth (WWW-Authenticate: Basic) with credentials from a docker config.json', async () => {
  const basicGate = await startTokenGate(registry.host, 'robot', 'basic-registry-password', 'basic');
  try {
    const repo = repoWith({
      'slipway.yaml': policies(basicGate.host).replace(
        `image: ${basicGate.host}/team/api`,
        `image: ${registry.host}/team/api`,
      ),
      'clusters/staging/app.yaml': `image: ${basicGate.host}/team/web:1.0.0\n`,
    });
    const without = await runSlipway(['images', '--repo', repo], { cwd: repo, env });
    assert.equal(without.code, 1);
    assert.match(
      without.stderr,
      /listing tags answered 401: UNAUTHORIZED authentication required \(give credentials/,
    );
    const config = path.join(path.dirname(repo), 'docker-config.json');
    writeFileSync(
      config,
      JSON.stringify({
        auths: { [basicGate.host]: { username: 'robot', password: 'basic-registry-password' } },
      }),
    );
    const run = await runSlipway(['images', '--repo', repo], {
      cwd: repo,
      env: { ...env, SLIPWAY_DOCKER_CONFIG: config },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      `clusters/staging/app.yaml:1  ${basicGate.host}/team/web  1.0.0 → 1.2.0  (web)\n`,
    );
    assert.ok(basicGate.seen.some((r) => r.auth === 'Basic' && r.path.includes('/tags/list')));
  } finally {
    await basicGate.close();
  }
});
