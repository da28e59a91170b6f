// Registry credentials as CI has them: docker credential helpers (`credHelpers`, `credsStore`),
// identity tokens, GitLab's CI_REGISTRY_* login. A real registry (Debian's docker-registry) behind
// the token gate; the helpers are real executables on a temporary PATH that log every call.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import {
  credentialLookup,
  parseDockerConfigFile,
  platformCredentials,
} from '../../src/registry/credentials.ts';
import { askCredentialHelper } from '../../src/registry/helper.ts';
import { startGitLabServer } from '../fakes/gitlab-server.ts';
import { pushImage, startTokenGate, type TokenGate } from '../support/oci.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import { runSlipway, scratch, type Scratch } from './support.ts';

const SECRET = 'helper-s3cret-9f8e7d';
const REFRESH = 'identity-refresh-token-5a4b3c';
let registry: LocalRegistry;
let gate: TokenGate;
const scratches: Scratch[] = [];

before(async () => {
  const s = scratch('slipway-images-credentials-');
  scratches.push(s);
  registry = await startRegistry(s.dir);
  for (const tag of ['1.0.0', '1.2.0']) await pushImage(registry.host, 'team/web', tag);
  gate = await startTokenGate(registry.host, 'robot', SECRET, 'bearer', REFRESH);
});

after(async () => {
  await gate.close();
  registry.stop();
  for (const s of scratches) s.cleanup();
});

type Answer = { username: string; secret: string } | { fail: string };

/**
 * Writes `docker-credential-<name>`, a POSIX sh script following the helper protocol: the server
 * address on stdin, JSON on stdout. Each call is logged as `<action> <server> | <env names>`.
 */
function helperDir(name: string, answers: Record<string, Answer>): { bin: string; calls: () => string[] } {
  const s = scratch('slipway-helper-');
  scratches.push(s);
  const bin = path.join(s.dir, 'bin');
  mkdirSync(bin);
  const log = path.join(s.dir, 'calls.log');
  const arms = Object.entries(answers).map(([server, answer]) =>
    'fail' in answer
      ? `  '${server}') echo '${answer.fail}'; exit 1 ;;`
      : `  '${server}') printf '%s' '${JSON.stringify({ ServerURL: server, Username: answer.username, Secret: answer.secret })}' ;;`,
  );
  const script = `#!/bin/sh
server=$(cat)
printf '%s %s | %s\\n' "$1" "$server" "$(env | sed 's/=.*//' | sort | tr '\\n' ' ')" >> '${log}'
case "$server" in
${arms.join('\n')}
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
`;
  const file = path.join(bin, `docker-credential-${name}`);
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return {
    bin,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}

function repoWith(config: unknown): { repo: string; app: string; configFile: string } {
  const s = scratch('slipway-images-credentials-repo-');
  scratches.push(s);
  const repo = path.join(s.dir, 'repo');
  mkdirSync(path.join(repo, 'clusters/staging'), { recursive: true });
  writeFileSync(
    path.join(repo, 'slipway.yaml'),
    `environments:\n  staging:\n    path: clusters/staging\nimage-policies:\n  web:\n    image: ${gate.host}/team/web\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
  );
  const app = path.join(repo, 'clusters/staging/app.yaml');
  writeFileSync(app, `image: ${gate.host}/team/web:1.0.0\n`);
  const configFile = path.join(s.dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  return { repo, app, configFile };
}

/** The job's environment: cloud settings a helper needs, and tokens it must never see. */
function envFor(bin: string, configFile: string): Record<string, string | undefined> {
  return {
    PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    HOME: process.env['HOME'],
    SLIPWAY_DOCKER_CONFIG: configFile,
    SLIPWAY_DEBUG: '1',
    AWS_REGION: 'eu-west-1',
    AWS_SECRET_ACCESS_KEY: 'aws-secret-for-the-helper',
    GOOGLE_APPLICATION_CREDENTIALS: '/tmp/gcp.json',
    GITHUB_TOKEN: 'ghp-not-for-helpers',
    CI_JOB_TOKEN: 'glcbt-not-for-helpers',
    KUBECONFIG: '/tmp/kubeconfig',
  };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const updateLine = (): string => `clusters/staging/app.yaml:1  ${gate.host}/team/web  1.0.0 → 1.2.0  (web)\n`;

describe('docker credential helpers against a real registry', () => {
  test('credHelpers for the host wins over its auths entry; the helper gets cloud env, no tokens', async () => {
    const helper = helperDir('testhelper', { [gate.host]: { username: 'robot', secret: SECRET } });
    const { repo, configFile } = repoWith({
      auths: { [`https://${gate.host}`]: { auth: Buffer.from('robot:wrong-password').toString('base64') } },
      credHelpers: { [gate.host]: 'testhelper' },
    });
    gate.seen.length = 0;
    const run = await runSlipway(['images', '--repo', repo], {
      cwd: repo,
      env: envFor(helper.bin, configFile),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, updateLine());
    const calls = helper.calls();
    assert.equal(calls.length, 1, 'asked once for the host, for the tag list and the digest');
    const [call = ''] = calls;
    assert.ok(call.startsWith(`get ${gate.host} | `), call);
    const names = call.split(' | ')[1]?.split(' ') ?? [];
    for (const name of [
      'PATH',
      'HOME',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'GOOGLE_APPLICATION_CREDENTIALS',
    ])
      assert.ok(names.includes(name), `${name} reaches the helper`);
    for (const name of ['GITHUB_TOKEN', 'CI_JOB_TOKEN', 'KUBECONFIG', 'SLIPWAY_DOCKER_CONFIG'])
      assert.ok(!names.includes(name), `${name} stays behind`);
    assert.ok(gate.seen.some((r) => r.path.startsWith('/token?') && r.auth === 'Basic'));
    assert.match(
      run.stderr,
      new RegExp(`registry ${escape(gate.host)}: credentials from docker-credential-testhelper`),
    );
    assert.ok(!`${run.stdout}${run.stderr}`.includes(SECRET), 'the helper secret never reaches the output');
  });

  test('on a laptop, ~/.docker/config.json is read when no config is named (as docker reads it)', async () => {
    const { repo, configFile } = repoWith({
      auths: { [gate.host]: { auth: Buffer.from(`robot:${SECRET}`).toString('base64') } },
    });
    const home = scratch('slipway-home-');
    scratches.push(home);
    mkdirSync(path.join(home.dir, '.docker'));
    writeFileSync(path.join(home.dir, '.docker', 'config.json'), readFileSync(configFile));
    const env = { PATH: process.env['PATH'], HOME: home.dir };
    const run = await runSlipway(['images', '--repo', repo], { cwd: repo, env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, updateLine());
    const anonymous = await runSlipway(['images', '--repo', repo], {
      cwd: repo,
      env: { ...env, HOME: scratches[0]?.dir },
    });
    assert.equal(anonymous.code, 1, 'no config.json in HOME: anonymous, and the gate refuses');
    assert.match(anonymous.stderr, new RegExp(escape(gate.host)));
  });

  test('credsStore answers for every host; only hosts that ask for credentials run it', async () => {
    const helper = helperDir('storehelper', { [gate.host]: { username: 'robot', secret: SECRET } });
    const { repo, configFile } = repoWith({ auths: { [gate.host]: {} }, credsStore: 'storehelper' });
    writeFileSync(path.join(repo, 'clusters/staging/open.yaml'), `image: ${registry.host}/team/web:1.0.0\n`);
    writeFileSync(
      path.join(repo, 'slipway.yaml'),
      `${readFileSync(path.join(repo, 'slipway.yaml'), 'utf8')}  open:\n    image: ${registry.host}/team/web\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
    );
    const run = await runSlipway(['images', '--repo', repo, '--write'], {
      cwd: repo,
      env: envFor(helper.bin, configFile),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      helper.calls().map((call) => call.split(' | ')[0]),
      [`get ${gate.host}`],
      'the registry without auth never triggers the helper',
    );
    assert.equal(
      readFileSync(path.join(repo, 'clusters/staging/app.yaml'), 'utf8'),
      `image: ${gate.host}/team/web:1.2.0\n`,
    );
    assert.ok(!`${run.stdout}${run.stderr}`.includes(SECRET));
  });

  test('an identity token (Username <token>, or auths identitytoken) is exchanged by OAuth2 POST', async () => {
    const helper = helperDir('idhelper', { [gate.host]: { username: '<token>', secret: REFRESH } });
    for (const config of [
      { credHelpers: { [gate.host]: 'idhelper' } },
      {
        auths: {
          [gate.host]: { auth: Buffer.from('robot:stale').toString('base64'), identitytoken: REFRESH },
        },
      },
    ]) {
      const { repo, configFile } = repoWith(config);
      gate.seen.length = 0;
      const run = await runSlipway(['images', '--repo', repo], {
        cwd: repo,
        env: envFor(helper.bin, configFile),
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, updateLine());
      const tokenCalls = gate.seen.filter((r) => r.path.startsWith('/token'));
      assert.deepEqual(
        tokenCalls.map((r) => `${r.method} ${r.path} ${r.auth}`),
        ['POST /token '],
        'the refresh token goes in a form body, never as a password',
      );
      assert.ok(!`${run.stdout}${run.stderr}`.includes(REFRESH));
    }
    assert.equal(helper.calls().length, 1);
  });

  test('a helper missing from PATH is an error naming it, the registry and what to install', async () => {
    const helper = helperDir('unused', {});
    const { repo, app, configFile } = repoWith({
      auths: { [gate.host]: { username: 'robot', password: SECRET } },
      credHelpers: { [gate.host]: 'ecr-login' },
    });
    const run = await runSlipway(['images', '--repo', repo, '--write'], {
      cwd: repo,
      env: envFor(helper.bin, configFile),
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `image policy "web": ${escape(gate.host)}: the docker config.json names the credential helper docker-credential-ecr-login, which is not on PATH \\(install amazon-ecr-credential-helper`,
      ),
    );
    assert.equal(readFileSync(app, 'utf8'), `image: ${gate.host}/team/web:1.0.0\n`);
  });

  test('a helper without credentials for the host: anonymous, then the 401 names the registry', async () => {
    const helper = helperDir('emptyhelper', {});
    // As docker: once a helper is configured for the host, its auths entry is not used.
    const { repo, app, configFile } = repoWith({
      auths: { [gate.host]: { username: 'robot', password: SECRET } },
      credsStore: 'emptyhelper',
    });
    gate.seen.length = 0;
    const run = await runSlipway(['images', '--repo', repo, '--write'], {
      cwd: repo,
      env: envFor(helper.bin, configFile),
    });
    assert.equal(run.code, 1);
    const host = escape(gate.host);
    assert.match(
      run.stderr,
      new RegExp(
        `registry ${host}: docker-credential-emptyhelper has no credentials for it; asking without credentials`,
      ),
    );
    assert.match(
      run.stderr,
      new RegExp(
        `${host}: the token service http://${host} answered 401 for repository:team/web:pull \\(the registry needs credentials for ${host}`,
      ),
    );
    assert.ok(
      gate.seen.some((r) => r.path.startsWith('/token?') && r.auth === ''),
      'asked anonymously',
    );
    assert.equal(readFileSync(app, 'utf8'), `image: ${gate.host}/team/web:1.0.0\n`);
    assert.ok(!run.stderr.includes(SECRET));
  });

  test('a helper that fails otherwise is an error quoting it', async () => {
    const helper = helperDir('brokenhelper', {
      [gate.host]: { fail: 'error getting credentials - keychain locked' },
    });
    const { repo, configFile } = repoWith({ credHelpers: { [gate.host]: 'brokenhelper' } });
    const run = await runSlipway(['images', '--repo', repo], {
      cwd: repo,
      env: envFor(helper.bin, configFile),
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `${escape(gate.host)}: docker-credential-brokenhelper get failed \\(exit 1\\): error getting credentials - keychain locked`,
      ),
    );
  });
});

describe('platform registry logins', () => {
  test("GitLab's CI_REGISTRY_USER/CI_REGISTRY_PASSWORD for CI_REGISTRY; 429 waits Retry-After", async () => {
    const { repo } = repoWith({});
    gate.seen.length = 0;
    gate.throttle(1, '1');
    const started = Date.now();
    const run = await runSlipway(['images', '--repo', repo], {
      cwd: repo,
      env: {
        PATH: process.env['PATH'],
        SLIPWAY_DEBUG: '1',
        CI_REGISTRY: gate.host,
        CI_REGISTRY_USER: 'robot',
        CI_REGISTRY_PASSWORD: SECRET,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, updateLine());
    assert.ok(Date.now() - started >= 1000, 'Retry-After: 1 was waited');
    assert.match(run.stderr, /429, retrying in 1000 ms/);
    assert.ok(!run.stderr.includes(SECRET));
  });
});

describe('GitLab scheduled image job', () => {
  test('slipway ci --mode images logs in to CI_REGISTRY with the job registry login', async () => {
    const gitlab = await startGitLabServer({ mergeRequests: [] });
    try {
      const s = scratch('slipway-images-credentials-gitlab-');
      scratches.push(s);
      const content = {
        'slipway.yaml': `environments:\n  beta:\n    path: clusters/beta\nimage-policies:\n  web:\n    image: ${gate.host}/team/web\n    policy:\n      semver:\n        range: '^1.0.0'\n    insecure: true\n`,
        'clusters/beta/app.yaml': `image: ${gate.host}/team/web:1.0.0\n`,
      };
      for (const [relative, text] of Object.entries(content)) {
        mkdirSync(path.dirname(path.join(s.dir, relative)), { recursive: true });
        writeFileSync(path.join(s.dir, relative), text);
      }
      const sha = gitlab.git.seedBranch('main', content);
      const run = await runSlipway(['ci', '--mode', 'images', '--repo', s.dir], {
        cwd: s.dir,
        env: {
          PATH: process.env['PATH'],
          GITLAB_CI: 'true',
          CI_API_V4_URL: gitlab.apiUrl,
          CI_PROJECT_ID: String(gitlab.projectId),
          CI_PIPELINE_SOURCE: 'schedule',
          CI_COMMIT_SHA: sha,
          CI_COMMIT_BRANCH: 'main',
          CI_DEFAULT_BRANCH: 'main',
          CI_PROJECT_DIR: s.dir,
          SLIPWAY_GITLAB_TOKEN: gitlab.token,
          CI_REGISTRY: gate.host,
          CI_REGISTRY_USER: 'robot',
          CI_REGISTRY_PASSWORD: SECRET,
        },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(gitlab.git.mergeRequests.length, 1);
      assert.equal(
        gitlab.git.filesOf('slipway/images/beta')?.get('clusters/beta/app.yaml'),
        `image: ${gate.host}/team/web:1.2.0\n`,
      );
      assert.ok(!`${run.stdout}${run.stderr}`.includes(SECRET));
      assert.deepEqual(gitlab.takeViolations(), []);
    } finally {
      await gitlab.close();
    }
  });
});

describe('docker config.json parts', () => {
  test('Docker Hub keys alias to one host; helpers are asked for https://index.docker.io/v1/', async () => {
    const helper = helperDir('hubhelper', {
      'https://index.docker.io/v1/': { username: 'hubuser', secret: 'hub-secret-value' },
    });
    const config = JSON.stringify({
      auths: { 'https://index.docker.io/v1/': {}, 'ghcr.io': { username: 'me', password: 'ghcr-pat' } },
      credHelpers: { 'https://index.docker.io/v1/': 'hubhelper' },
    });
    const parsed = parseDockerConfigFile(config, 'config.json');
    assert.deepEqual([...parsed.credHelpers], [['registry-1.docker.io', 'hubhelper']]);
    const masked: string[] = [];
    const lookup = credentialLookup({
      config: { text: config, file: 'config.json' },
      platform: [],
      env: { PATH: `${helper.bin}:${process.env['PATH'] ?? ''}` },
      mask: (secret) => masked.push(secret),
      log: () => undefined,
    });
    assert.deepEqual(await lookup('registry-1.docker.io'), {
      username: 'hubuser',
      password: 'hub-secret-value',
    });
    assert.deepEqual(await lookup('ghcr.io'), { username: 'me', password: 'ghcr-pat' });
    assert.deepEqual(
      helper.calls().map((call) => call.split(' | ')[0]),
      ['get https://index.docker.io/v1/'],
    );
    assert.deepEqual(masked.sort(), ['ghcr-pat', 'hub-secret-value']);
  });

  test('a helper that hangs is stopped at the timeout, with an error naming it', async () => {
    const s = scratch('slipway-helper-slow-');
    scratches.push(s);
    const file = path.join(s.dir, 'docker-credential-slow');
    writeFileSync(file, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(file, 0o755);
    const started = Date.now();
    await assert.rejects(
      askCredentialHelper(
        'slow',
        'ghcr.io',
        'ghcr.io',
        { PATH: `${s.dir}:${process.env['PATH'] ?? ''}` },
        300,
      ),
      /ghcr\.io: docker-credential-slow get did not answer within 0\.3 s/,
    );
    assert.ok(Date.now() - started < 10_000);
  });

  test("the platform logins: the job's GITHUB_TOKEN wins for ghcr.io; GitLab's CI_REGISTRY login", () => {
    const gitlab = { CI_REGISTRY: 'registry.example.com:5050', CI_REGISTRY_USER: 'gitlab-ci-token' };
    assert.deepEqual(platformCredentials({ GITHUB_TOKEN: 'job-token' }, 'app-token'), [
      { host: 'ghcr.io', username: 'x-access-token', password: 'job-token' },
    ]);
    assert.deepEqual(platformCredentials({ ...gitlab, CI_REGISTRY_PASSWORD: 'job' }, 'app-token'), [
      { host: 'ghcr.io', username: 'x-access-token', password: 'app-token' },
      { host: 'registry.example.com:5050', username: 'gitlab-ci-token', password: 'job' },
    ]);
    assert.deepEqual(platformCredentials(gitlab), [], 'no password, no login');
  });

  test('a helper name that is not a plain name is a config error', () => {
    for (const bad of ['../../bin/sh', '', 'a b'])
      assert.throws(
        () => parseDockerConfigFile(JSON.stringify({ credHelpers: { 'ghcr.io': bad } }), 'config.json'),
        (error: unknown) =>
          error instanceof UserError &&
          /config\.json: credHelpers\["ghcr\.io"\] must name a credential helper/.test(error.message),
      );
    assert.throws(
      () => parseDockerConfigFile('{"credsStore": "/usr/bin/x"}', 'c.json'),
      /credsStore must name/,
    );
  });
});
