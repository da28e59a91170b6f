// The README's "Keyless (OIDC)" AuthenticationConfiguration is one kube-apiserver 1.37 accepts:
// the API server is restarted with it (it validates the file, CEL included, at start) and serves.
// Then the same configuration with only the issuers' URLs (and their CA) pointed at the harness's
// issuer: its claim mappings and validation rule give the usernames the README promises.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { kubeRequest, startCluster, type Cluster, type ClusterOidc } from '../cluster/cluster.ts';

const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
let cluster: Cluster;

before(async () => {
  // Its own control plane: the shared one's API server must keep trusting the test issuer.
  cluster = await startCluster({
    controllerManager: false,
    scheduler: false,
    kwok: false,
    log: () => undefined,
  });
});

after(async () => {
  await cluster.stop();
});

test(
  "the README's AuthenticationConfiguration starts kube-apiserver",
  { skip: process.env.SLIPWAY_TEST_KUBECONFIG ? 'an existing cluster' : false },
  async () => {
    const block = /```yaml\n(apiVersion: apiserver\.config\.k8s\.io\/v1\n[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the README shows an AuthenticationConfiguration');
    assert.match(block, /url: https:\/\/token\.actions\.githubusercontent\.com/);
    assert.match(block, /prefix: 'github:'/);
    await cluster.stopApiServer();
    writeFileSync(path.join(cluster.dir, 'pki', 'authentication-config.yaml'), block);
    await cluster.startApiServer();
    const kubeconfig = readFileSync(cluster.adminKubeconfig, 'utf8');
    const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
    const ca = Buffer.from(
      /certificate-authority-data: (\S+)/.exec(kubeconfig)?.[1] ?? '',
      'base64',
    ).toString();
    const readyz = await kubeRequest({ server: cluster.server, ca, token }, 'GET', '/readyz');
    assert.equal(readyz.body.trim(), 'ok');
  },
);

/** The README's block with GitHub's and GitLab's issuer URLs replaced by the harness's two issuers. */
function withTestIssuers(block: string, oidc: ClusterOidc): string {
  const ca = oidc.ca
    .trimEnd()
    .split('\n')
    .map((line) => `        ${line}`)
    .join('\n');
  const issuer = (url: string): string => `url: ${url}\n      certificateAuthority: |\n${ca}`;
  const out = block
    .replace('url: https://token.actions.githubusercontent.com', issuer(oidc.issuer))
    .replace(/url: https:\/\/gitlab\.com.*/, issuer(`${oidc.issuer}/gitlab`))
    .replaceAll('- https://kubernetes.live.example.com', `- ${oidc.audience}`);
  assert.equal(out.split(oidc.issuer).length, 3, 'both issuers replaced');
  return out;
}

test(
  "the README's claim mappings give github:repo:OWNER/REPO:environment:ENV and gitlab:project_path:…; other owners are refused",
  { skip: process.env.SLIPWAY_TEST_KUBECONFIG ? 'an existing cluster' : false },
  async () => {
    const oidc = cluster.oidc;
    assert.ok(oidc);
    const block =
      /```yaml\n(apiVersion: apiserver\.config\.k8s\.io\/v1\n[\s\S]*?)```/.exec(readme)?.[1] ?? '';
    await cluster.stopApiServer();
    writeFileSync(path.join(cluster.dir, 'pki', 'authentication-config.yaml'), withTestIssuers(block, oidc));
    await cluster.startApiServer();
    const whoami = async (token: string): Promise<{ status: number; username?: string }> => {
      const review = await kubeRequest(
        { server: cluster.server, ca: oidc.serverCa, token },
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      );
      if (review.status !== 201) return { status: review.status };
      const body = JSON.parse(review.body) as { status: { userInfo: { username: string } } };
      return { status: review.status, username: body.status.userInfo.username };
    };
    const github = (subject: string, owner: string): string =>
      oidc.token({ subject, audience: oidc.audience, claims: { repository_owner: owner } });
    assert.deepEqual(await whoami(github('repo:acme/deploys:environment:live', 'acme')), {
      status: 201,
      username: 'github:repo:acme/deploys:environment:live',
    });
    assert.deepEqual(await whoami(github('repo:acme/deploys:pull_request', 'acme')), {
      status: 201,
      username: 'github:repo:acme/deploys:pull_request',
    });
    // `claims.repository_owner == 'acme'`: another owner's workflow is not even authenticated.
    assert.deepEqual(await whoami(github('repo:mallory/deploys:environment:live', 'mallory')), {
      status: 401,
    });
    const gitlab = oidc.token({
      subject: 'project_path:acme/deploys:ref_type:branch:ref:main',
      audience: oidc.audience,
      issuer: 'gitlab',
    });
    assert.deepEqual(await whoami(gitlab), {
      status: 201,
      username: 'gitlab:project_path:acme/deploys:ref_type:branch:ref:main',
    });
  },
);
