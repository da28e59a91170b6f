// The `auth` inputs and the token helpers behind keyless (OIDC) authentication: pure parts only;
// the real API server's answers are in test/e2e/oidc.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClusterAuth } from '../../src/github/cluster-auth.ts';
import { requestIdToken } from '../../src/github/id-token.ts';
import { parseInputs } from '../../src/github/inputs.ts';
import { certificateAuthorityPem, describeToken, refreshingToken } from '../../src/kube/token.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}

function parse(values: Record<string, string>, others = { kubeconfig: false, inCluster: false }) {
  const problems: string[] = [];
  const auth = parseClusterAuth((name) => values[name], others, problems);
  return { auth, problems };
}

describe('auth inputs', () => {
  test('github-oidc with a server and CA (PEM or base64)', () => {
    for (const ca of [PEM, Buffer.from(PEM).toString('base64')]) {
      const { auth, problems } = parse({
        auth: 'github-oidc',
        audience: 'k8s',
        server: 'https://api.example.com:6443',
        'certificate-authority': ca,
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(auth, {
        kind: 'github-oidc',
        audience: 'k8s',
        server: 'https://api.example.com:6443',
        certificateAuthority: `${PEM}\n`,
      });
    }
  });

  test('every mistake is reported at once', () => {
    const { problems } = parse(
      { auth: 'github-oidc', server: 'http://api', 'certificate-authority': 'not a cert' },
      { kubeconfig: true, inCluster: true },
    );
    assert.deepEqual(problems, [
      'input "audience" is required with "auth: github-oidc" (an audience the cluster\'s AuthenticationConfiguration lists)',
      'inputs "auth: github-oidc" and "in-cluster: true" exclude each other',
      'inputs "server" and "kubeconfig" both name the cluster: choose one',
      'input "server" must be an https:// URL, got "http://api"',
      'input "certificate-authority" must be a PEM certificate (or its base64)',
    ]);
  });

  test('OIDC inputs without auth: github-oidc are a mistake, not ignored', () => {
    assert.deepEqual(parse({ audience: 'k8s' }).problems, [
      'input "audience" is used only with "auth: github-oidc"',
    ]);
    assert.match(parse({ auth: 'aws' }).problems[0] ?? '', /must be one of kubeconfig, github-oidc/);
  });

  test('parseInputs carries it, and needs the cluster named somehow', () => {
    const inputs: Record<string, string> = { auth: 'github-oidc', audience: 'k8s' };
    assert.throws(
      () => parseInputs((name) => inputs[name] ?? ''),
      /needs the cluster: the "server" input \(with "certificate-authority"\), or a "kubeconfig" without credentials/,
    );
    inputs.kubeconfig = 'apiVersion: v1\nkind: Config\n';
    assert.equal(parseInputs((name) => inputs[name] ?? '').auth.kind, 'github-oidc');
  });
});

describe('tokens', () => {
  test('a refused token is described by its claims, never shown', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const token = jwt({ sub: 'repo:o/r:pull_request', aud: 'k8s', iss: 'https://i', exp: now / 1000 - 90 });
    const text = describeToken(token, now);
    assert.equal(
      text,
      'subject repo:o/r:pull_request, audience k8s, issuer https://i, EXPIRED 90s ago (2026-01-01T11:58:30.000Z)',
    );
    assert.ok(!text.includes(token.split('.')[1] ?? ''));
    assert.equal(describeToken('opaque-token'), 'a token that is not a JWT');
  });

  test('a token is fetched again only when it has less than a minute left', async () => {
    let fetched = 0;
    const masked: string[] = [];
    let exp = Date.now() / 1000 + 600;
    const source = refreshingToken(
      () => Promise.resolve(jwt({ n: ++fetched, exp })),
      (t) => masked.push(t),
    );
    const first = await source();
    assert.equal(await source(), first);
    exp = Date.now() / 1000 + 600;
    // Pretend time passed: the cached one now has 30 s left.
    const stale = refreshingToken(
      () => Promise.resolve(jwt({ n: ++fetched, exp: Date.now() / 1000 + 30 })),
      (t) => masked.push(t),
    );
    await stale();
    await stale();
    assert.equal(fetched, 3);
    assert.equal(masked.length, 3, 'every token is masked before use');
  });

  test('requests in flight share one refresh', async () => {
    let fetched = 0;
    const source = refreshingToken(
      () => Promise.resolve(jwt({ n: ++fetched, exp: Date.now() / 1000 + (fetched === 1 ? 10 : 600) })),
      () => undefined,
    );
    await source();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => source()));
    assert.equal(fetched, 2);
    assert.equal(new Set(tokens).size, 1);
  });

  test('the runner is asked with its request token, for the audience', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const token = await requestIdToken(
      { url: 'http://runner.example/idtoken?api-version=2.0', requestToken: 'rt' },
      'https://k8s.example',
      (url, init) => {
        seen.push({
          url: url instanceof Request ? url.url : url.toString(),
          auth: new Headers(init?.headers).get('authorization'),
        });
        return Promise.resolve(new Response(JSON.stringify({ value: 'a.b.c' })));
      },
    );
    assert.equal(token, 'a.b.c');
    assert.deepEqual(seen, [
      {
        url: 'http://runner.example/idtoken?api-version=2.0&audience=https%3A%2F%2Fk8s.example',
        auth: 'Bearer rt',
      },
    ]);
    await assert.rejects(
      requestIdToken({ url: 'http://runner.example/idtoken', requestToken: 'rt' }, 'a', () =>
        Promise.resolve(new Response('nope', { status: 403 })),
      ),
      /refused the request for audience "a": HTTP 403/,
    );
  });

  test('a CA is PEM or base64 PEM, nothing else', () => {
    assert.equal(certificateAuthorityPem(PEM), `${PEM}\n`);
    assert.equal(certificateAuthorityPem('bm90IGEgY2VydA=='), undefined);
  });
});
