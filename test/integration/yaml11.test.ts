// Issue 12, item 1: Slipway reads manifests exactly as kubectl does (sigs.k8s.io/yaml over go-yaml
// v2, YAML 1.1). The built kubectl is the oracle: a corpus of files under test/fixtures/yaml11/ and
// generated scalars are read by both, and the objects must be the same. Last, a Secret volume
// `defaultMode: 0400` applied through Slipway must be 256 (mode 0400) on the live object.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Cluster } from '../cluster/cluster.ts';
import { parseManifests } from '../../src/core/yaml/manifest.ts';
import {
  envRepo,
  kubectl,
  slipway,
  sharedCluster,
  stopSharedCluster,
  unique,
  type TestRepo,
} from './harness.ts';

const CORPUS = fileURLToPath(new URL('../fixtures/yaml11/', import.meta.url));
const GROUP = 'yaml11.slipway.dev';

let cluster: Cluster;
const cleanup: (() => void)[] = [];

before(
  async () => {
    cluster = await sharedCluster();
    kubectl(cluster, ['apply', '-f', '-'], `${crd('Widget', 'Namespaced')}---\n${crd('Gadget', 'Cluster')}`);
    kubectl(cluster, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      `crd/widgets.${GROUP}`,
      `crd/gadgets.${GROUP}`,
    ]);
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const step of cleanup) step();
  await stopSharedCluster();
});

/** A CRD that keeps whatever its objects carry, so kubectl and the server can take any value. */
function crd(kind: string, scope: 'Namespaced' | 'Cluster'): string {
  const plural = `${kind.toLowerCase()}s`;
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.${GROUP}
spec:
  group: ${GROUP}
  scope: ${scope}
  names: {plural: ${plural}, singular: ${kind.toLowerCase()}, kind: ${kind}, listKind: ${kind}List}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
}

interface KubectlRead {
  /** Objects kubectl printed, in file and document order. */
  readonly objects: Record<string, unknown>[];
  /** kubectl's stderr: one `error parsing FILE` line per file it refused. */
  readonly stderr: string;
}

/**
 * `kubectl create --dry-run=client -o json -f <path>`: kubectl reads the files (all YAML and JSON
 * files of a folder, in name order), flattens `kind: List`, and prints each object as it read it,
 * without defaults and without sending it (client dry run). Client-side schema validation is off
 * so that values the API server would refuse (a boolean in ConfigMap data) still show how they
 * were read. It keeps going past a file it cannot read (`ContinueOnError`), naming it on stderr.
 */
function kubectlRead(target: string): KubectlRead {
  const run = spawnSync(
    cluster.kubectl,
    [
      '--kubeconfig',
      cluster.adminKubeconfig,
      'create',
      '--dry-run=client',
      '--validate=false',
      '-o',
      'json',
      '-f',
      target,
    ],
    { encoding: 'utf8', env: { ...process.env, ...cluster.env }, maxBuffer: 64 * 1024 * 1024 },
  );
  return { objects: jsonStream(run.stdout), stderr: run.stderr };
}

/** kubectl prints one indented JSON object per input object, one after the other. */
function jsonStream(text: string): Record<string, unknown>[] {
  return text
    .split(/^(?=\{)/m)
    .filter((part) => part.trim() !== '')
    .map((part) => JSON.parse(part) as Record<string, unknown>);
}

/**
 * kubectl fills in the namespace of its context (`default`) on a namespaced object that names none;
 * Slipway fills in the environment's namespace later, when it prepares objects, not when it reads
 * them. That field is the only one kubectl adds.
 */
function withoutDefaultNamespace(
  ours: Record<string, unknown>,
  theirs: Record<string, unknown> | undefined,
): unknown {
  const metadata = theirs?.['metadata'] as Record<string, unknown> | undefined;
  const named = (ours['metadata'] as Record<string, unknown> | undefined)?.['namespace'] !== undefined;
  if (!theirs || !metadata || named || metadata['namespace'] !== 'default') return theirs;
  const { namespace: _default, ...rest } = metadata;
  return { ...theirs, metadata: rest };
}

/** What Slipway read from a file: its objects (as JSON would carry them), or its error findings. */
function slipwayRead(file: string): { objects: Record<string, unknown>[]; errors: string[] } {
  const parsed = parseManifests(readFileSync(file, 'utf8'), path.basename(file));
  return {
    // Through JSON, as Slipway sends objects to the API server.
    objects: parsed.manifests.map((m) => JSON.parse(JSON.stringify(m.object)) as Record<string, unknown>),
    errors: parsed.findings.filter((f) => f.severity === 'error').map((f) => f.message),
  };
}

describe('the YAML corpus reads the same in Slipway and in kubectl', () => {
  test('every document of every file, at least 60, equals what kubectl prints', () => {
    const files = readdirSync(CORPUS)
      .filter((name) => /\.(ya?ml|json)$/.test(name))
      .sort()
      .map((name) => path.join(CORPUS, name));
    const theirs = kubectlRead(CORPUS);
    assert.equal(theirs.stderr.trim(), '', 'kubectl reads every file of the corpus');
    const ours = files.flatMap((file) => {
      const read = slipwayRead(file);
      assert.deepEqual(read.errors, [], `Slipway reads ${path.basename(file)} without errors`);
      return read.objects.map((object) => ({ file: path.basename(file), object }));
    });
    assert.ok(ours.length >= 60, `the corpus has ${ours.length} documents`);
    assert.equal(theirs.objects.length, ours.length, 'as many objects as kubectl read');
    ours.forEach(({ file, object }, index) => {
      const name = (object['metadata'] as { name?: string } | undefined)?.name;
      assert.deepEqual(
        object,
        withoutDefaultNamespace(object, theirs.objects[index]),
        `${file}: ${String(object['kind'])}/${String(name)}`,
      );
    });
  });

  test('the corners go-yaml reads in its own way are in the corpus, and Slipway reads them so', () => {
    const byName = new Map(
      readdirSync(CORPUS)
        .flatMap((name) => slipwayRead(path.join(CORPUS, name)).objects)
        .map((o) => [(o['metadata'] as { name: string }).name, o] as const),
    );
    const spec = (name: string): Record<string, unknown> =>
      byName.get(name)?.['spec'] as Record<string, unknown>;
    const volumes = (spec('octal-secret-volume')['volumes'] as { secret: { defaultMode: number } }[])[0];
    assert.equal(volumes?.secret.defaultMode, 0o400);
    assert.equal(spec('integers')['octalOld'], 0o755);
    assert.equal(
      spec('integers')['leadingZeroNotOctal'],
      8,
      '08 is not octal: go-yaml reads it as the float 8',
    );
    assert.equal(spec('floats')['tooHuge'], '1e400', 'a float out of range stays text');
    assert.equal(spec('booleans-true')['a'], true, '`y` is true');
    assert.deepEqual(spec('booleans-that-are-not')['mixedCase'], [
      'yEs',
      'nO',
      'tRUE',
      'fALSE',
      'oN',
      'oFF',
      'yES',
      'On-call',
      'no-op',
      'yes',
      'no',
      'on',
      'off',
    ]);
    assert.equal((byName.get('sexagesimal')?.['data'] as Record<string, unknown>)['duration'], '1:20:30');
    assert.deepEqual(
      (spec('merge-order')['before'] as Record<string, unknown>)['a'],
      1,
      'a merge overrides the key above it',
    );
    assert.deepEqual(
      spec('merge-order')['list'],
      { a: 1, b: 20, c: 3, d: 40 },
      'the first map of a merge list wins',
    );
    assert.equal(spec('non-string-keys')['256'], 'octal key');
    assert.equal(spec('non-string-keys')['3.1415927'], 'float32 precision');
  });
});

describe('files kubectl refuses, Slipway refuses too (with the line)', () => {
  const refused: Record<string, string> = {
    'infinity-value': 'spec:\n  limit: .inf\n',
    'nan-value': 'spec:\n  ratio: .NaN\n',
    'null-key': 'spec:\n  ~: x\n',
    'huge-key': 'spec:\n  18446744073709551615: x\n',
    'tagged-int': 'spec:\n  size: !!int many\n',
    'tagged-bool': 'spec:\n  on: !!bool 1\n',
    'merge-of-a-scalar': 'spec:\n  <<: 5\n',
    'merge-list-with-a-list': 'spec:\n  <<: [[a]]\n',
    'bad-binary': 'spec:\n  data: !!binary not*base64\n',
    'self-alias': 'spec: &s\n  again: *s\n',
    'map-as-key': 'spec:\n  ? {a: 1}\n  : x\n',
    // Top-level metadata is decoded into its typed form: a label or annotation must be a string.
    'label-yes': 'spec: {}\n',
    'annotation-number': 'spec: {}\n',
    // kubectl cuts files at lines starting with `---` before it reads any YAML.
    'separator-with-content': 'spec: {}\n--- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n',
    'four-dashes': 'spec: {}\n----\n',
    'yaml-directive': 'spec: {}\n',
  };
  const metadata: Record<string, string> = {
    'label-yes': '  labels:\n    monitored: yes\n',
    'annotation-number': '  annotations:\n    prometheus.io/port: 09100\n',
  };
  const prefix: Record<string, string> = { 'yaml-directive': '%YAML 1.1\n---\n' };
  test('each of them: kubectl names the file, Slipway reports an error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-yaml11-refused-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, body] of Object.entries(refused)) {
      const header = `${prefix[name] ?? ''}apiVersion: ${GROUP}/v1\nkind: Widget\nmetadata:\n  name: ${name}\n${metadata[name] ?? ''}`;
      writeFileSync(path.join(dir, `${name}.yaml`), header + body);
    }
    const theirs = kubectlRead(dir);
    for (const name of Object.keys(refused)) {
      const file = path.join(dir, `${name}.yaml`);
      assert.ok(theirs.stderr.includes(file), `kubectl refuses ${name}:\n${theirs.stderr}`);
      assert.ok(slipwayRead(file).errors.length > 0, `Slipway refuses ${name}`);
    }
    assert.equal(theirs.objects.length, 0);
  });

  test('a document after `...` with no `---` line, which kubectl silently skips, is an error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-yaml11-skipped-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'two.yaml');
    const widget = (name: string): string =>
      `apiVersion: ${GROUP}/v1\nkind: Widget\nmetadata:\n  name: ${name}\n`;
    writeFileSync(file, `${widget('first')}...\n${widget('second')}`);
    const theirs = kubectlRead(file);
    assert.equal(theirs.stderr, '');
    assert.deepEqual(
      theirs.objects.map((o) => (o['metadata'] as { name: string }).name),
      ['first'],
      'kubectl reads only the first document',
    );
    assert.match(slipwayRead(file).errors.join('\n'), /kubectl would silently skip it/);
  });
});

// --- generated scalars ----------------------------------------------------------------------------

const signs = fc.constantFrom('', '', '+', '-');
const digits = fc.stringMatching(/^[0-9_]{1,6}$/);
/** Text that looks like a number in some YAML, JSON or Go dialect. */
const numberLike = fc
  .tuple(
    signs,
    fc.constantFrom('', '', '0', '00', '0x', '0X', '0o', '0O', '0b', '0B', '.'),
    digits,
    fc.constantFrom('', '', '.', '.5', '._5', '.0_1'),
    fc.constantFrom('', '', 'e3', 'E-2', 'e+400', 'e', 'e_1', 'e1_0'),
  )
  .map((parts) => parts.join(''));
const caseMix = (word: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    // The words are ASCII: one UTF-16 unit per letter.
    .map((upper) =>
      Array.from({ length: word.length }, (_, i) =>
        upper[i] ? word.charAt(i).toUpperCase() : word.charAt(i),
      ).join(''),
    );
const wordLike = fc
  .constantFrom(
    'y',
    'yes',
    'n',
    'no',
    'on',
    'off',
    'true',
    'false',
    'null',
    '~',
    '.inf',
    '-.inf',
    '+.inf',
    '.nan',
  )
  .chain(caseMix);
const otherLike = fc.oneof(
  fc.constantFrom(
    '1:20',
    '190:20:30.15',
    '-1:30',
    '2001-12-14',
    '2001-12-14t21:59:43.10-05:00',
    '2002-1-2',
    '2001-02-30',
  ),
  fc.constantFrom('0x', '0b', '0o', '0b-101', '0b2', '1_', '_1', '.', '+', '1.2.3', '10.0.0.1', 'x0400'),
  fc.stringMatching(/^[0-9][0-9a-fA-FxXoObB_.eE+-]{0,8}$/),
);
const scalarText = fc
  .oneof(numberLike, wordLike, otherLike)
  .filter((s) => s !== '' && !/^-$|^[-+]?_*$/.test(s));
const written = fc.tuple(
  scalarText,
  fc.constantFrom(
    'plain',
    'plain',
    'plain',
    'single',
    'double',
    '!!str',
    '!!int',
    '!!float',
    '!!bool',
    '!!null',
  ),
);

function yamlScalar([text, style]: [string, string]): string {
  if (style === 'plain') return text;
  if (style === 'single') return `'${text}'`;
  if (style === 'double') return JSON.stringify(text);
  return `${style} ${text}`;
}

describe('generated scalars read the same in Slipway and in kubectl (one kubectl run)', () => {
  test('as values and as keys, plain, quoted and tagged', () => {
    const seed = Number(process.env['SLIPWAY_FC_SEED'] ?? Date.now() % 1_000_000);
    const samples = fc.sample(written, { numRuns: 400, seed });
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-yaml11-scalars-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const files: { file: string; name: string; sample: [string, string] }[] = [];
    samples.forEach((sample, index) => {
      const scalar = yamlScalar(sample);
      for (const [form, body] of [
        ['value', `spec:\n  v: ${scalar}\n  list: [${scalar}]\n`],
        ['key', `spec:\n  ${scalar}: k\n`],
      ] as const) {
        const name = `s${String(index).padStart(3, '0')}-${form}`;
        const file = path.join(dir, `${name}.yaml`);
        writeFileSync(file, `apiVersion: ${GROUP}/v1\nkind: Widget\nmetadata:\n  name: ${name}\n${body}`);
        files.push({ file, name, sample });
      }
    });
    const started = Date.now();
    const theirs = kubectlRead(dir);
    const seconds = (Date.now() - started) / 1000;
    const byName = new Map(theirs.objects.map((o) => [(o['metadata'] as { name: string }).name, o] as const));
    const outcomes = new Map<string, number>();
    const count = (outcome: string): void => void outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    for (const { file, name, sample } of files) {
      const ours = slipwayRead(file);
      const context = `seed ${seed}: ${JSON.stringify(yamlScalar(sample))} (${name})`;
      const refusedByKubectl = theirs.stderr.includes(`${file}:`) || theirs.stderr.includes(`"${file}"`);
      if (refusedByKubectl) {
        assert.ok(ours.errors.length > 0, `kubectl refuses, Slipway must too: ${context}\n${theirs.stderr}`);
        count('refused');
        continue;
      }
      assert.deepEqual(ours.errors, [], `kubectl reads it, Slipway must too: ${context}`);
      const object = ours.objects[0] ?? {};
      assert.deepEqual(object, withoutDefaultNamespace(object, byName.get(name)), context);
      const value = (object['spec'] as Record<string, unknown>)['v'];
      if (name.endsWith('-value')) count(value === null ? 'null' : typeof value);
    }
    // The generator reaches every outcome, so the comparison above covers each way of reading.
    for (const outcome of ['refused', 'number', 'boolean', 'string', 'null']) {
      assert.ok((outcomes.get(outcome) ?? 0) > 0, `seed ${seed}: no sample read as ${outcome}`);
    }
    assert.ok(seconds < 30, `one kubectl run for ${files.length} files took ${seconds.toFixed(1)} s`);
  });
});

// --- on the live object ---------------------------------------------------------------------------

describe('a Secret volume mode written in octal is applied as kubectl applies it', () => {
  let repo: TestRepo | undefined;
  after(() => repo?.remove());

  test('`defaultMode: 0400` is 256 (owner read only) on the live Deployment', async () => {
    const env = unique('octal');
    const namespace = unique('octal-ns');
    repo = envRepo(env, namespace, {
      'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      'deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: keys
spec:
  selector:
    matchLabels: {app: keys}
  template:
    metadata:
      labels: {app: keys}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0
      volumes:
        - name: tls
          secret:
            secretName: tls
            defaultMode: 0400
            items:
              - {key: tls.key, path: tls.key, mode: 0600}
`,
    });
    const run = await slipway(cluster, repo, ['apply', '--env', env]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const live = JSON.parse(
      kubectl(cluster, ['get', 'deployment', 'keys', '-n', namespace, '-o', 'json']),
    ) as {
      spec: {
        template: { spec: { volumes: { secret: { defaultMode: number; items: { mode: number }[] } }[] } };
      };
    };
    const secret = live.spec.template.spec.volumes[0]?.secret;
    assert.equal(secret?.defaultMode, 256, 'mode 0400, not decimal 400 (mode 0620)');
    assert.equal(secret.items[0]?.mode, 384, 'mode 0600');
  });
});
