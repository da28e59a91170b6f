// SOPS-encrypted manifests: Slipway's in-process decryption against the real `sops` (the oracle,
// built from the Go module proxy with age-keygen), then a real apply of an encrypted Secret.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { load } from 'js-yaml';
import { ensureTools, type Tools } from '../cluster/build.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { decryptSops } from '../../src/core/render/sops.ts';
import { parseAgeKeys } from '../../src/core/render/decrypt.ts';
import { envRepo, kubectl, sharedCluster, slipway, stopSharedCluster, unique } from './harness.ts';

let tools: Tools;
let cluster: Cluster;
let scratch: string;
let key: string;
let recipient: string;

before(async () => {
  tools = await ensureTools();
  cluster = await sharedCluster();
  scratch = mkdtempSync(path.join(tmpdir(), 'slipway-sops-'));
  ({ key, recipient } = ageKey('key.txt'));
});

after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await stopSharedCluster();
});

function ageKey(file: string): { key: string; recipient: string } {
  const keyFile = path.join(scratch, file);
  execFileSync(tools.ageKeygen, ['-o', keyFile], { stdio: 'pipe' });
  const text = readFileSync(keyFile, 'utf8');
  return {
    key: parseAgeKeys(text)[0] ?? '',
    recipient: /public key: (age1\w+)/.exec(text)?.[1] ?? '',
  };
}

/**
 * `sops encrypt` of a plaintext YAML document. `flags` are encrypt's flags (e.g. --encrypted-regex);
 * `rule` is a .sops.yaml creation rule for what has no flag (mac_only_encrypted).
 */
function encrypt(plain: string, flags: string[] = [], rule?: string): string {
  const file = path.join(scratch, `${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(file, plain);
  if (rule === undefined) {
    return execFileSync(tools.sops, ['encrypt', '--age', recipient, ...flags, file], { encoding: 'utf8' });
  }
  const config = `${file}.sops.yaml`;
  writeFileSync(config, `creation_rules:\n  - age: ${recipient}\n${rule.replace(/^/gm, '    ')}\n`);
  return execFileSync(tools.sops, ['--config', config, 'encrypt', ...flags, file], { encoding: 'utf8' });
}

/** `sops -d` as JSON: what Slipway must produce. */
function sopsDecrypt(encrypted: string): unknown {
  const file = path.join(scratch, `${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(file, encrypted);
  const out = execFileSync(tools.sops, ['decrypt', '--output-type', 'json', file], {
    encoding: 'utf8',
    env: { ...process.env, SOPS_AGE_KEY: key },
  });
  return JSON.parse(out);
}

async function slipwayDecrypt(
  encrypted: string,
  keys = [key],
  onSecret: (v: string) => void = () => undefined,
) {
  return decryptSops(load(encrypted) as object, keys, { file: 'envs/x/secret.yaml', line: 0 }, onSecret);
}

const FIXTURES: [string, string, string[], string?][] = [
  [
    'a Secret with Flux encrypted_regex',
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  labels: {app: db}\ntype: Opaque\nstringData:\n  password: hunter2-ünïcode\n  multi: |\n    line one\n    line two\ndata:\n  token: c2VjcmV0LXRva2Vu\n',
    ['--encrypted-regex', '^(data|stringData)$'],
  ],
  [
    'a fully encrypted ConfigMap with every scalar type, lists and an unencrypted suffix',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  n: 3\n  neg: -17\n  f: 1.5\n  yes: true\n  no: false\n  empty: ""\n  list: [a, b, {deep: c}]\n  nested:\n    x_unencrypted: plain\n    y: encrypted\n',
    [],
  ],
  [
    'mac_only_encrypted with an unencrypted regex',
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: m\nstringData:\n  a: one-value\n  public_b: two\n',
    [],
    'unencrypted_regex: ^(apiVersion|kind|metadata|name|public_b)$\nmac_only_encrypted: true',
  ],
];

for (const [name, plain, flags, rule] of FIXTURES) {
  test(`SOPS: Slipway decrypts ${name} exactly as sops -d does`, async () => {
    const encrypted = encrypt(plain, flags, rule);
    if (rule) assert.match(encrypted, /mac_only_encrypted: true/);
    assert.match(encrypted, /ENC\[AES256_GCM/);
    assert.deepEqual(await slipwayDecrypt(encrypted), sopsDecrypt(encrypted));
  });
}

test('SOPS: decrypted values reach the masker; a tampered, swapped or unkeyed file is refused', async () => {
  const encrypted = encrypt(FIXTURES[0]?.[1] ?? '', FIXTURES[0]?.[2]);
  const seen: string[] = [];
  await slipwayDecrypt(encrypted, [key], (v) => seen.push(v));
  assert.ok(seen.includes('hunter2-ünïcode'));

  // A value moved to another key: its GCM tag binds it to its path.
  const doc = load(encrypted) as { stringData: Record<string, string> };
  const swapped = encrypted.replace(doc.stringData['password'] ?? '', doc.stringData['multi'] ?? '');
  await assert.rejects(slipwayDecrypt(swapped), /does not decrypt/);
  // An unencrypted field changed after encryption: the MAC catches it.
  await assert.rejects(slipwayDecrypt(encrypted.replace('name: db', 'name: evil')), /MAC mismatch/);
  await assert.rejects(slipwayDecrypt(encrypted, []), /no age key was given.*|SOPS-encrypted/);
  const other = ageKey('other.txt');
  await assert.rejects(slipwayDecrypt(encrypted, [other.key]), /cannot decrypt the SOPS data key/);
});

test('SOPS: a file in a kustomization (keys re-sorted, namespace set by kustomize) is verified on its file and applied decrypted', async () => {
  const env = unique('sopsk');
  const namespace = unique('sopsk-ns');
  const password = `kpw-${randomBytes(12).toString('hex')}`;
  const secret = encrypt(
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: kdb\ntype: Opaque\nstringData:\n  password: ${password}\n`,
    ['--encrypted-regex', '^(data|stringData)$'],
  );
  const repo = envRepo(env, namespace, {
    'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    'app/kustomization.yaml': `namespace: ${namespace}\nresources:\n  - secret.enc.yaml\n`,
    'app/secret.enc.yaml': secret,
  });
  try {
    const keyEnv = { SOPS_AGE_KEY: key };
    const applied = await slipway(cluster, repo, ['apply', '--env', env], keyEnv);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const live = kubectl(cluster, [
      'get',
      'secret',
      'kdb',
      '-n',
      namespace,
      '-o',
      'jsonpath={.data.password}',
    ]);
    assert.equal(Buffer.from(live, 'base64').toString(), password);
    assert.ok(!(applied.stdout + applied.stderr).includes(password));

    // The file edited after encryption (an unencrypted field): its MAC fails, nothing is applied.
    repo.commit(
      { [`envs/${env}/app/secret.enc.yaml`]: secret.replace('type: Opaque', 'type: kubernetes.io/tls') },
      'tamper',
    );
    const tampered = await slipway(cluster, repo, ['diff', '--env', env], keyEnv);
    assert.notEqual(tampered.code, 0);
    assert.match(tampered.stdout + tampered.stderr, /MAC mismatch/);
  } finally {
    kubectl(cluster, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    repo.remove();
  }
});

test('SOPS: an encrypted Secret applies decrypted on the real control plane, and no output shows a value', async () => {
  const env = unique('sops');
  const namespace = unique('sops-ns');
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const secret = encrypt(
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-db\ntype: Opaque\nstringData:\n  password: ${password}\n`,
    ['--encrypted-regex', '^(data|stringData)$'],
  );
  const repo = envRepo(env, namespace, {
    'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    'secret.enc.yaml': secret,
  });
  try {
    const noKey = await slipway(cluster, repo, ['diff', '--env', env], { SOPS_AGE_KEY: '' });
    assert.notEqual(noKey.code, 0);
    assert.match(noKey.stdout + noKey.stderr, /secret\.enc\.yaml.*no age key was given/s);

    const keyEnv = { SOPS_AGE_KEY: `# created: now\n${key}\n` };
    const diff = await slipway(cluster, repo, ['diff', '--env', env], keyEnv);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /app-db/);
    const applied = await slipway(cluster, repo, ['apply', '--env', env], keyEnv);
    assert.equal(applied.code, 0, applied.stderr);
    const live = JSON.parse(kubectl(cluster, ['get', 'secret', 'app-db', '-n', namespace, '-o', 'json'])) as {
      data: Record<string, string>;
    };
    assert.equal(Buffer.from(live.data['password'] ?? '', 'base64').toString(), password);
    assert.equal('sops' in live, false);
    const output = [noKey, diff, applied].map((r) => r.stdout + r.stderr).join('\n');
    for (const form of [
      password,
      Buffer.from(password).toString('base64'),
      encodeURIComponent(password),
      key,
    ])
      assert.ok(!output.includes(form), 'an output shows a decrypted value or the age key');
  } finally {
    kubectl(cluster, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    repo.remove();
  }
});
