import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests, type Finding, type ParsedManifests } from '../../src/core/yaml/manifest.ts';
import { validateManifests } from '../../src/core/validate/validate.ts';

function parse(text: string, file = 'clusters/prod/app.yaml'): ParsedManifests {
  return parseManifests(text, file);
}

/** The names of the parsed objects with the line each starts on. */
function placed(result: ParsedManifests): [string, number][] {
  return result.manifests.map((m) => [`${m.object.kind}/${m.object.metadata.name ?? ''}`, m.source.line]);
}

function only(findings: Finding[]): Finding {
  assert.equal(findings.length, 1, JSON.stringify(findings, null, 2));
  return findings[0]!;
}

const CONFIG_MAP = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

/**
 * A "billion laughs" document: `levels` anchors, each a list of nine aliases of the one before,
 * so a few dozen aliases stand for 9^levels strings.
 */
function aliasBomb(levels: number): string {
  const lines = [
    ...CONFIG_MAP('lol').split('\n').filter(Boolean),
    'data:',
    '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ];
  for (let level = 1; level < levels; level++)
    lines.push(
      `  a${level}: &a${level} [${Array(9)
        .fill(`*a${level - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('documents and lines', () => {
  test('every document of a multi-document file keeps the line it starts on', () => {
    const text = [
      '# The first object; comments and blank lines do not count as its start.',
      '',
      ...CONFIG_MAP('first').trimEnd().split('\n'), // lines 3-6
      '---',
      '# second',
      ...CONFIG_MAP('second').trimEnd().split('\n'), // lines 9-12
      '--- # a comment after the marker',
      ...CONFIG_MAP('third').trimEnd().split('\n'), // lines 14-17
    ].join('\n');
    const result = parse(text);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(placed(result), [
      ['ConfigMap/first', 3],
      ['ConfigMap/second', 9],
      ['ConfigMap/third', 14],
    ]);
    assert.deepEqual(
      result.manifests.map((m) => m.source.file),
      ['clusters/prod/app.yaml', 'clusters/prod/app.yaml', 'clusters/prod/app.yaml'],
    );
    assert.equal(
      result.manifests[1]?.keyLine?.('metadata.name'),
      12,
      'key lines are lines of the file, not of the document',
    );
  });

  test('empty documents between markers, and a file of only comments, give nothing and no error', () => {
    const result = parse(`---\n---\n# nothing here\n---\n${CONFIG_MAP('only')}---\n\n---\n`);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(placed(result), [['ConfigMap/only', 5]]);
    assert.deepEqual(parse('# just a comment\n'), { manifests: [], findings: [] });
    assert.deepEqual(parse(''), { manifests: [], findings: [] });
  });

  test('a JSON file is read like YAML', () => {
    const result = parse(
      '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {"name": "from-json"},\n  "data": {"a": "1"}\n}\n',
      'clusters/prod/cm.json',
    );
    assert.deepEqual(result.findings, []);
    assert.deepEqual(placed(result), [['ConfigMap/from-json', 1]]);
    assert.deepEqual(result.manifests[0]?.object.data, { a: '1' });
    assert.equal(result.manifests[0].source.file, 'clusters/prod/cm.json');
  });

  test('values are read as kubectl reads them (YAML 1.1): quoted ones stay strings, `NO` is false', () => {
    const result = parse(`${CONFIG_MAP('types')}data:\n  enabled: "yes"\n  country: NO\n  version: "1.10"\n`);
    assert.deepEqual(result.manifests[0]?.object.data, { enabled: 'yes', country: false, version: '1.10' });
  });
});

describe('syntax errors', () => {
  test('a tab used for indentation is an error on its line', () => {
    const finding = only(parse('apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n').findings);
    assert.equal(finding.rule, 'yaml-syntax');
    assert.equal(finding.severity, 'error');
    assert.deepEqual(finding.location, { file: 'clusters/prod/app.yaml', line: 4 });
    assert.match(finding.message, /tab/);
  });

  test('a duplicate key is an error on the line of the second one, and nothing from the file is kept', () => {
    const result = parse(
      `${CONFIG_MAP('ok')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {}\n  name: b\n`,
    );
    const finding = only(result.findings);
    assert.equal(finding.rule, 'yaml-syntax');
    assert.equal(finding.location.line, 11);
    assert.match(finding.message, /duplicated mapping key/);
    assert.deepEqual(
      result.manifests,
      [],
      'a file with a syntax error yields no objects at all, so nothing half-read is applied',
    );
  });

  test('a duplicate key in JSON is an error too', () => {
    const finding = only(
      parse(
        '{"apiVersion": "v1", "kind": "ConfigMap",\n "metadata": {"name": "a"},\n "kind": "Secret"}\n',
        'x.json',
      ).findings,
    );
    assert.equal(finding.location.line, 3);
    assert.match(finding.message, /duplicated mapping key/);
  });

  test('a "billion laughs" alias bomb is refused quickly, without expanding it', () => {
    for (const levels of [9, 10]) {
      const started = process.cpuUsage();
      const result = parse(aliasBomb(levels));
      // What happens next to the parsed objects must not explode either.
      const findings = [...result.findings, ...validateManifests(result.manifests)];
      const cpu = process.cpuUsage(started);
      const ms = (cpu.user + cpu.system) / 1000;
      assert.deepEqual(result.manifests, [], `${levels} levels: the bomb must not come out as an object`);
      assert.ok(
        findings.some((f) => f.severity === 'error' && f.rule === 'yaml-syntax' && /alias/i.test(f.message)),
        JSON.stringify(findings),
      );
      assert.ok(ms < 2000, `${levels} levels took ${ms.toFixed(0)} ms of CPU`);
    }
  });

  test('too many aliases in one document is refused', () => {
    const aliases = Array.from({ length: 150 }, (_, i) => `  k${i}: *v`).join('\n');
    const finding = only(parse(`${CONFIG_MAP('many')}data:\n  k: &v value\n${aliases}\n`).findings);
    assert.equal(finding.rule, 'yaml-syntax');
    assert.match(finding.message, /alias/);
  });

  test('an alias that refers to its own ancestor is refused, not followed forever', () => {
    const result = parse(`${CONFIG_MAP('loop')}data: &self\n  again: *self\n`);
    assert.deepEqual(result.manifests, []);
    assert.match(only(result.findings).message, /alias/);
  });

  test('a few ordinary anchors and aliases are fine', () => {
    const result = parse(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: &labels {app: web}\nspec:\n  selector:\n    matchLabels: *labels\n  template:\n    metadata:\n      labels: *labels\n',
    );
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.manifests[0]?.object['spec'], {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } } },
    });
    assert.deepEqual(validateManifests(result.manifests), []);
  });

  test('a deeply nested document is refused with its file and line', () => {
    const deep = `${CONFIG_MAP('deep')}data:\n  x: ${'['.repeat(500)}${']'.repeat(500)}\n`;
    const finding = only(parse(deep).findings);
    assert.equal(finding.rule, 'yaml-syntax');
    assert.equal(finding.location.line, 6);
    assert.match(finding.message, /depth/i);

    const indented = Array.from({ length: 80 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
    const block = only(parse(`${indented} leaf\n`).findings);
    assert.equal(block.rule, 'yaml-syntax');
    assert.ok(block.location.line > 1 && block.location.line <= 80, `line ${block.location.line}`);
  });
});

describe('documents that are not Kubernetes objects', () => {
  test('a scalar document is an error on its line', () => {
    const finding = only(parse(`${CONFIG_MAP('a')}---\njust some text\n`).findings);
    assert.equal(finding.rule, 'not-an-object');
    assert.equal(finding.location.line, 6);
    assert.match(finding.message, /this document is a string, not a Kubernetes object/);
  });

  test('a document that is a list is an error, and the objects around it are still read', () => {
    const result = parse(
      `${CONFIG_MAP('before')}---\n- apiVersion: v1\n  kind: ConfigMap\n---\n${CONFIG_MAP('after')}`,
    );
    const finding = only(result.findings);
    assert.equal(finding.rule, 'not-an-object');
    assert.equal(finding.location.line, 6);
    assert.match(finding.message, /a list, not a Kubernetes object/);
    assert.deepEqual(placed(result), [
      ['ConfigMap/before', 1],
      ['ConfigMap/after', 9],
    ]);
  });

  test('a list where metadata (an object) belongs is reported at that key', () => {
    const finding = only(parse('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  - name: listed\n').findings);
    assert.equal(finding.rule, 'missing-name');
    assert.equal(finding.location.line, 3);
  });

  test('a missing apiVersion, kind or name is reported at the right line', () => {
    const text = [
      '# 1: no apiVersion',
      'kind: ConfigMap',
      'metadata:',
      '  name: a',
      '---',
      'apiVersion: v1', // 6
      'metadata:',
      '  name: b',
      '---',
      'apiVersion: v1', // 10
      'kind: ConfigMap',
      'metadata:', // 12
      '  labels: {app: c}',
      '---',
      'apiVersion: v1', // 15
      'kind: ConfigMap',
      'data: {}',
      '---',
      'apiVersion: apps/v1', // 19
      'kind: deployment',
      'metadata: {name: d}',
    ].join('\n');
    const result = parse(text);
    assert.deepEqual(result.manifests, []);
    const got = result.findings.map((f) => [f.rule, f.location.line]);
    assert.deepEqual(got, [
      ['missing-api-version', 2],
      ['missing-kind', 6],
      ['missing-name', 12],
      ['missing-name', 15],
      ['invalid-kind', 20],
    ]);
    const byRule = new Map(result.findings.map((f) => [f.rule, f.message]));
    assert.match(byRule.get('missing-api-version') ?? '', /missing `apiVersion`/);
    assert.match(byRule.get('missing-kind') ?? '', /missing `kind`/);
    assert.match(byRule.get('missing-name') ?? '', /missing `metadata\.name`/);
  });

  test('generateName is refused with advice to use a fixed name', () => {
    const finding = only(
      parse('apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n').findings,
    );
    assert.equal(finding.rule, 'missing-name');
    assert.match(finding.message, /generateName.*fixed `metadata\.name`/);
  });
});

describe('kind: List', () => {
  test('its items become objects, each pointing at the List', () => {
    const result = parse(
      `${CONFIG_MAP('before')}---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: one}\n  - apiVersion: v1\n    kind: Secret\n    metadata: {name: two}\n    stringData: {k: v}\n`,
    );
    assert.deepEqual(result.findings, []);
    assert.deepEqual(placed(result), [
      ['ConfigMap/before', 1],
      ['ConfigMap/one', 6],
      ['Secret/two', 6],
    ]);
  });

  test('a broken item is reported and its siblings are kept', () => {
    const result = parse(
      'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: good}\n  - kind: ConfigMap\n    metadata: {name: no-version}\n  - 42\n',
    );
    assert.deepEqual(placed(result), [['ConfigMap/good', 1]]);
    assert.deepEqual(
      result.findings.map((f) => f.rule),
      ['missing-api-version', 'not-an-object'],
    );
  });
});
