// Manifests are read as kubectl reads them (YAML 1.1 by go-yaml v2). The built kubectl checks the
// values themselves in test/integration/yaml11.test.ts; these are the parts kubectl cannot show:
// lines in messages, copies instead of shared aliases, Slipway's own files staying YAML 1.2.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests } from '../../src/core/yaml/manifest.ts';
import { dump } from 'js-yaml';
import fc from 'fast-check';
import { KUBECTL_DUMP_SCHEMA, parseYamlDocuments } from '../../src/core/yaml/yaml.ts';
import { formatFloat32 } from '../../src/core/yaml/yaml11.ts';

const HEADER = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';

function read(body: string): ReturnType<typeof parseManifests> {
  return parseManifests(`${HEADER}${body}`, 'app.yaml');
}

describe('values as kubectl reads them', () => {
  test('octal modes, YAML 1.1 booleans, merges: the corners users meet', () => {
    const { manifests, findings } = read(
      'spec:\n  defaultMode: 0400\n  mode: 0644\n  enabled: yes\n  off: on\n  eight: 08\n  base: &b {a: 1}\n  merged: {a: 0, <<: *b, c: 2}\n',
    );
    assert.deepEqual(findings, []);
    assert.deepEqual(manifests[0]?.object['spec'], {
      defaultMode: 256,
      mode: 420,
      enabled: true,
      false: true,
      eight: 8,
      base: { a: 1 },
      merged: { a: 1, c: 2 },
    });
  });

  test('an alias is a copy: changing one place (as Slipway does with labels) leaves the other alone', () => {
    const { manifests } = read('spec:\n  labels: &l {app: web}\n  selector: *l\n');
    const spec = manifests[0]?.object['spec'] as {
      labels: Record<string, string>;
      selector: Record<string, string>;
    };
    spec.labels['slipway.dev/environment'] = 'prod';
    assert.deepEqual(spec.selector, { app: 'web' });
  });

  test('an integer a JavaScript number cannot hold is read, and warned about on its line', () => {
    const { manifests, findings } = read('spec:\n  exact: 9007199254740992\n  id: 9223372036854775807\n');
    assert.equal(manifests.length, 1);
    assert.deepEqual(
      findings.map((f) => [f.severity, f.rule, f.location.line]),
      [['warning', 'yaml-precision', 7]],
    );
    assert.match(
      findings.map((f) => f.message).join(''),
      /9223372036854775807 is above 2\^53.*quote it if it is text/,
    );
  });

  test('a key named __proto__ is data, not the prototype', () => {
    const { manifests } = read('data:\n  __proto__: polluted\n');
    const data = manifests[0]?.object['data'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), ['__proto__']);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
  });

  test('float keys are spelled as sigs.k8s.io/yaml spells them (32-bit, Go %g)', () => {
    const cases: [number, string][] = [
      [1000, '1000'],
      [1.5, '1.5'],
      [0.1, '0.1'],
      [3.14159265358979, '3.1415927'],
      [1e10, '1e+10'],
      [123456789, '1.2345679e+08'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [-0, '-0'],
      [1e39, '.inf'],
    ];
    for (const [value, spelled] of cases) assert.equal(formatFloat32(value), spelled, String(value));
  });
});

describe('what kubectl refuses is an error on its line', () => {
  const cases: [string, string, RegExp][] = [
    ['an infinite number', 'data:\n  a: b\n  limit: .inf\n', /Infinity/],
    ['a null key', 'data:\n  a: b\n  ~: x\n', /null/],
    [
      'a tag that does not fit',
      'data:\n  a: b\n  size: !!int many\n',
      /cannot decode !!str `many` as a !!int/,
    ],
    [
      'two keys that become the same string',
      'data:\n  a: b\n  yes: 1\n  true: 2\n',
      /duplicated mapping key "true"/,
    ],
  ];
  for (const [name, body, message] of cases) {
    test(name, () => {
      const { manifests, findings } = read(body);
      assert.deepEqual(manifests, []);
      const [finding, ...more] = findings;
      assert.ok(finding && more.length === 0, JSON.stringify(findings));
      assert.equal(finding.rule, 'yaml-syntax');
      assert.match(finding.message, message);
      assert.equal(finding.location.line, body.split('\n').length - 1 + 4, 'the last line of the body');
    });
  }

  test('a label that YAML 1.1 makes a boolean is named, with its line and how to fix it', () => {
    const { manifests, findings } = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    monitored: yes\n',
      'app.yaml',
    );
    assert.deepEqual(manifests, []);
    const [finding] = findings;
    assert.ok(finding);
    assert.equal(finding.rule, 'metadata-not-string');
    assert.equal(finding.location.line, 6);
    assert.match(finding.message, /label "monitored" is the boolean true.*quote the value/);
  });
});

describe("Slipway's own files stay YAML 1.2", () => {
  test('slipway.yaml and kustomization files are not read with kubectl rules', () => {
    const [document] = parseYamlDocuments('timeout: 0400\nprune: yes\n', 'slipway.yaml');
    assert.deepEqual(document?.value, { timeout: 400, prune: 'yes' });
  });
});

describe('YAML written for kubectl and Helm', () => {
  test('a string dumped with KUBECTL_DUMP_SCHEMA is read back by kubectl rules as the same string', () => {
    const numberish = fc.stringMatching(/^[-+.]?[0-9][0-9a-fA-FxXoObB_.eE+:-]{0,7}$/);
    const words = fc.constantFrom(
      'y',
      'N',
      'yes',
      'Off',
      'ON',
      '~',
      'Null',
      '.inf',
      '-.Inf',
      '.NaN',
      '<<',
      '0X1f',
      '.5_5',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(numberish, words, fc.string({ maxLength: 8 })), { maxLength: 8 }),
        (strings) => {
          const object = { list: strings, map: Object.fromEntries(strings.map((s, i) => [s, i])) };
          const [document] = parseYamlDocuments(dump(object, { schema: KUBECTL_DUMP_SCHEMA }), 'x.yaml', {
            kubectl: true,
          });
          assert.deepEqual(document?.value, JSON.parse(JSON.stringify(object)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
