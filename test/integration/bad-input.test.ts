// The bad-input corpus: each case is a small repository with one mistake. For every case the
// user gets the right error class at the right FILE:LINE, no stack trace, and nothing is applied
// or pruned: the cluster is exactly as before (no namespace, no inventory, no object).
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl, sharedCluster, slipway, stopSharedCluster, TestRepo, unique } from './harness.ts';

let cluster: Cluster;
before(async () => {
  cluster = await sharedCluster();
});
after(async () => {
  await stopSharedCluster();
});

const cm = (name: string, extra = ''): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;
const outside = mkdtempSync(path.join(tmpdir(), 'slipway-outside-'));
const OUTSIDE_SECRET = 'outside-the-repo-content-91b2';
writeFileSync(path.join(outside, 'leak.yaml'), cm('leak', `data:\n  value: ${OUTSIDE_SECRET}\n`));
mkdirSync(path.join(outside, 'dir'), { recursive: true });
writeFileSync(path.join(outside, 'dir', 'leak.yaml'), cm('leak2', `data:\n  value: ${OUTSIDE_SECRET}\n`));

interface Case {
  readonly name: string;
  /** Files of the environment folder `env/` (or of the repo root when starting with `/`). */
  readonly files: Record<string, string>;
  /** Expected text in the output: the error's words and its FILE:LINE. */
  readonly expect: RegExp[];
  readonly config?: string;
  readonly setup?: (dir: string) => void;
  readonly args?: string[];
}

const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const bomb = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...'bcdefghi'.split('').map(
    (c, i) =>
      `${c}: &${c} [${Array(9)
        .fill(`*${String.fromCharCode(97 + i)}`)
        .join(',')}]`,
  ),
].join('\n');

const cases: Case[] = [
  {
    name: 'malformed YAML',
    files: { 'a.yaml': cm('a', 'data:\n  k: [unclosed\n') },
    expect: [/env\/a\.yaml:\d+.*invalid YAML/],
  },
  {
    name: 'tab indentation',
    files: { 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n' },
    expect: [/env\/a\.yaml:4.*invalid YAML/],
  },
  {
    name: 'duplicate keys',
    files: { 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: a\n' },
    expect: [/env\/a\.yaml:3.*invalid YAML.*duplicat/i],
  },
  {
    name: 'alias bomb (billion laughs)',
    files: { 'a.yaml': `${bomb}\n` },
    expect: [/env\/a\.yaml:\d+.*invalid YAML/],
  },
  {
    name: 'deeply nested document',
    files: { 'a.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: ${nested(500)}\n` },
    expect: [/env\/a\.yaml:\d+.*invalid YAML/],
  },
  {
    name: 'a scalar document',
    files: { 'a.yaml': cm('ok') + '---\njust a string\n' },
    expect: [/env\/a\.yaml:6.*not a Kubernetes object/],
  },
  {
    name: 'a list where an object belongs',
    files: { 'a.yaml': '- apiVersion: v1\n  kind: ConfigMap\n' },
    expect: [/env\/a\.yaml:1.*a list, not a Kubernetes object/],
  },
  {
    name: 'missing apiVersion',
    files: { 'a.yaml': 'kind: ConfigMap\nmetadata:\n  name: a\n' },
    expect: [/env\/a\.yaml:1.*missing `apiVersion`/],
  },
  {
    name: 'invalid apiVersion',
    files: { 'a.yaml': 'apiVersion: apps/V1beta\nkind: Deployment\nmetadata:\n  name: a\n' },
    expect: [/env\/a\.yaml:1.*invalid apiVersion/],
  },
  {
    name: 'missing kind',
    files: { 'a.yaml': 'apiVersion: v1\nmetadata:\n  name: a\n' },
    expect: [/env\/a\.yaml:1.*missing `kind`/],
  },
  {
    name: 'missing name',
    files: { 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n' },
    expect: [/env\/a\.yaml:3.*missing `metadata.name`/],
  },
  {
    name: 'generateName only',
    files: { 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: a-\n' },
    expect: [/env\/a\.yaml:3.*generateName/],
  },
  { name: 'invalid name', files: { 'a.yaml': cm('Bad_Name') }, expect: [/env\/a\.yaml:4.*DNS subdomain/] },
  {
    name: 'invalid Service name (DNS label)',
    files: {
      'a.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a.b\nspec:\n  ports: [{port: 80}]\n',
    },
    expect: [/env\/a\.yaml:4.*DNS label/],
  },
  {
    name: 'invalid namespace',
    files: { 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: Not_OK\n' },
    expect: [/env\/a\.yaml:5.*namespace "Not_OK" is not a valid name/],
  },
  {
    name: 'duplicate objects across files',
    files: { 'a.yaml': cm('same'), 'b.yaml': cm('same') },
    expect: [/env\/b\.yaml:1.*defined twice.*env\/a\.yaml:1/],
  },
  {
    name: 'object over 1.5 MiB',
    files: { 'a.yaml': cm('big', `data:\n  blob: "${'x'.repeat(1_700_000)}"\n`) },
    expect: [/env\/a\.yaml:1.*1\.5 MiB/],
  },
  {
    name: 'file over the size limit',
    files: { 'a.yaml': `# ${'x'.repeat(9 * 1024 * 1024)}\n` },
    expect: [/env\/a\.yaml.*MiB, over Slipway's 8 MiB limit/],
  },
  {
    name: 'binary file named .yaml',
    files: { 'a.yaml': 'apiVersion: v1\u0000\u0001\u0002' },
    expect: [/env\/a\.yaml.*binary file/],
  },
  {
    name: 'Secret data that is not base64',
    files: {
      'a.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: not base64!\n',
    },
    expect: [/env\/a\.yaml:1.*not base64; put plain text under stringData/],
  },
  { name: 'empty environment', files: { 'README.md': 'nothing here\n' }, expect: [/renders no objects/] },
  {
    name: 'kustomization referencing a missing file',
    files: { 'kustomization.yaml': 'resources:\n  - missing.yaml\n' },
    expect: [/env\/kustomization\.yaml:1.*missing\.yaml.*does not exist/],
  },
  {
    name: 'kustomization reaching outside the repository',
    files: { 'kustomization.yaml': `resources:\n  - ${path.relative('/tmp/x/y/env', outside)}/leak.yaml\n` },
    expect: [/env\/kustomization\.yaml:1.*outside the repository/],
  },
  {
    name: 'a Helm chart that fails to render',
    files: {
      '/chart/Chart.yaml': 'apiVersion: v2\nname: broken\nversion: 0.1.0\n',
      '/chart/templates/x.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.field }}\n',
      'a.yaml': cm('a'),
    },
    config:
      'environments:\n  ENV:\n    path: env\n    helm:\n      - releaseName: broken\n        chart: chart\n',
    expect: [/helm could not render release "broken"/],
  },
  {
    name: 'slipway.yaml with an unknown key',
    files: { 'a.yaml': cm('a') },
    config: 'environments:\n  ENV:\n    path: env\n    prnue: false\n',
    expect: [/slipway\.yaml:4.*unknown key "prnue"/],
  },
  {
    name: 'slipway.yaml with a wrong type',
    files: { 'a.yaml': cm('a') },
    config: 'environments:\n  ENV:\n    path: env\n    prune: "no"\n',
    expect: [/slipway\.yaml:4.*"prune" must be true or false/],
  },
  {
    name: 'an unknown environment',
    files: { 'a.yaml': cm('a') },
    args: ['apply', '--env', 'nope'],
    expect: [/unknown environment "nope" \(known: /],
  },
  {
    name: 'an environment path escaping the repository',
    files: { 'a.yaml': cm('a') },
    config: 'environments:\n  ENV:\n    path: ../../etc\n',
    expect: [/slipway\.yaml:3.*outside the repository/],
  },
  {
    name: 'a symlinked file pointing outside the repository',
    files: { 'a.yaml': cm('a') },
    setup: (dir) => symlinkSync(path.join(outside, 'leak.yaml'), path.join(dir, 'env', 'link.yaml')),
    expect: [/env\/link\.yaml.*symlink that resolves outside the repository/],
  },
  {
    name: 'a symlinked folder pointing outside the repository',
    files: { 'a.yaml': cm('a') },
    setup: (dir) => symlinkSync(path.join(outside, 'dir'), path.join(dir, 'env', 'linked')),
    expect: [/env\/linked.*symlink that resolves outside the repository/],
  },
  {
    name: 'a custom resource without its CRD',
    files: { 'a.yaml': 'apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n' },
    expect: [/does not know Gadget in example\.com\/v1.*install the CRD first/],
  },
  {
    name: 'an unknown field rejected by the server',
    files: { 'a.yaml': cm('a', 'data:\n  k: v\nspecc: {}\n') },
    expect: [/specc.*(field not declared in schema|unknown field)/],
  },
];

describe('bad input: a clear error, nothing applied or pruned', () => {
  test('the corpus has at least 30 cases', () => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
  });

  for (const c of cases) {
    test(c.name, async () => {
      const env = unique('bad').replace(/-/g, '');
      const namespace = unique('badns');
      const files: Record<string, string> = {
        'slipway.yaml': (
          c.config ?? `environments:\n  ENV:\n    path: env\n    namespace: ${namespace}\n`
        ).replace('ENV', env),
      };
      for (const [name, text] of Object.entries(c.files))
        files[name.startsWith('/') ? name.slice(1) : `env/${name}`] = text;
      const repo = new TestRepo(files);
      try {
        mkdirSync(path.join(repo.dir, 'env'), { recursive: true });
        c.setup?.(repo.dir);
        const result = await slipway(cluster, repo, c.args ?? ['apply', '--env', env]);
        const output = result.stdout + result.stderr;
        assert.equal(result.code, 1, output);
        for (const pattern of c.expect) assert.match(output, pattern);
        assert.doesNotMatch(output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
        assert.doesNotMatch(output, /internal error/);
        assert.ok(!output.includes(OUTSIDE_SECRET), 'content from outside the repository never shows');
        // Nothing applied, nothing recorded.
        assert.equal(
          kubectl(cluster, ['get', 'namespace', namespace, '--ignore-not-found', '-o', 'name']).trim(),
          '',
        );
        assert.equal(
          kubectl(cluster, [
            'get',
            'configmap',
            '-n',
            'slipway-system',
            `slipway-${env}`,
            '--ignore-not-found',
            '-o',
            'name',
          ]).trim(),
          '',
        );
        assert.equal(
          kubectl(cluster, [
            'get',
            'configmaps',
            '-A',
            '-l',
            `slipway.dev/environment=${env}`,
            '-o',
            'name',
          ]).trim(),
          '',
        );
      } finally {
        repo.remove();
      }
    });
  }

  test('markdown and HTML in manifests cannot break the comment', async () => {
    const env = unique('md').replace(/-/g, '');
    const namespace = unique('mdns');
    const nasty =
      '```\n</details><img src=x onerror=alert(1)> | col | [link](http://evil) @here <!-- slipway:section:x:end -->';
    const repo = new TestRepo({
      'slipway.yaml': `environments:\n  ${env}:\n    path: env\n    namespace: ${namespace}\n`,
      'env/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      'env/a.yaml': cm('a', `data:\n  note: ${JSON.stringify(nasty)}\n`),
    });
    try {
      const result = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'markdown']);
      assert.equal(result.code, 0, result.stderr);
      const md = result.stdout;
      // Outside code blocks: no raw HTML from the object, balanced <details>, fences closed.
      let fence = '';
      let outsideText = '';
      for (const line of md.split('\n')) {
        const match = /^(`{3,})/.exec(line);
        if (fence) {
          if (match?.[1] && match[1].length >= fence.length && line.trim() === match[1]) fence = '';
        } else if (match?.[1]) fence = match[1];
        else outsideText += `${line}\n`;
      }
      assert.equal(fence, '', 'every code fence is closed');
      assert.ok(!outsideText.includes('<img'), 'no raw HTML from the object outside code blocks');
      assert.equal(
        (outsideText.match(/<details/g) ?? []).length,
        (outsideText.match(/<\/details>/g) ?? []).length,
      );
      assert.equal((md.match(/<!-- slipway:section:x:end -->/g) ?? []).length, 0, 'no forged section marker');
    } finally {
      repo.remove();
    }
  });
});
