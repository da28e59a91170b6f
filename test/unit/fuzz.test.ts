// Property-based tests: whatever text a repository holds, reading it never crashes; whatever a
// plan holds, the pull-request comment it becomes stays well-formed and within GitHub's limit.
//
// Seeds: every run draws a fresh random seed. On failure fast-check reports the shrunk
// counterexample with `seed` and `path`; replay exactly that case with
//   FC_SEED=<seed> FC_PATH=<path> node --test test/unit/fuzz.test.ts
// (FC_SEED alone replays the whole run). FC_RUNS=<n> changes the number of runs per property.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { parseManifests, type Finding } from '../../src/core/yaml/manifest.ts';
import type { Plan, PlanAction, PlannedObject } from '../../src/core/plan/plan.ts';
import { describeRef } from '../../src/core/objects.ts';
import { escapeInline } from '../../src/core/report/escape.ts';
import { composeComment, extractSections, type EnvironmentReport } from '../../src/core/report/markdown.ts';

const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 300;
const PARAMETERS: fc.Parameters<unknown> = {
  numRuns: RUNS,
  // Bounded time even on a slow machine: stop drawing new cases after 20 s per property.
  plugins: [fc.interruptAfterTimeLimit(20_000)],
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
  ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
};

const FILE = 'clusters/prod/fuzz.yaml';

/** The contract of parseManifests: problems come back as findings, never as exceptions. */
function assertWellFormedResult(text: string): void {
  let result;
  try {
    result = parseManifests(text, FILE);
  } catch (error) {
    assert.fail(`parseManifests threw ${String(error)} for ${JSON.stringify(text)}`);
  }
  for (const finding of result.findings) assertFinding(finding);
  for (const manifest of result.manifests) {
    assert.equal(typeof manifest.object.apiVersion, 'string');
    assert.equal(typeof manifest.object.kind, 'string');
    assert.equal(typeof manifest.object.metadata.name, 'string');
    assert.equal(manifest.source.file, FILE);
    assert.ok(Number.isInteger(manifest.source.line) && manifest.source.line >= 1);
  }
}

function assertFinding(finding: Finding): void {
  assert.ok((['error', 'warning'] as unknown[]).includes(finding.severity), finding.severity);
  assert.equal(finding.location.file, FILE);
  assert.ok(
    Number.isInteger(finding.location.line) && finding.location.line >= 0,
    `${finding.location.line}`,
  );
  assert.equal(typeof finding.message, 'string');
  assert.ok(finding.message.length > 0);
  assert.equal(typeof finding.rule, 'string');
}

const YAML_FRAGMENTS = [
  '---',
  '...',
  '\n',
  '\r\n',
  ' ',
  '  ',
  '\t',
  ':',
  ': ',
  '-',
  '- ',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '<<: *a',
  '"',
  "'",
  '{',
  '}',
  '[',
  ']',
  ',',
  '#',
  '|',
  '>-',
  '? ',
  '!!str ',
  '!!binary ',
  '!custom ',
  '%YAML 1.2\n',
  '%TAG ! tag:x,2024:\n',
  'key',
  'apiVersion: v1',
  'kind: List',
  'kind: ConfigMap',
  'items:',
  'metadata:',
  '  name: x',
  'namespace: 7',
  'null',
  '~',
  '0x1F',
  '1e999',
  '\\u0000',
  '\u0000',
  '\uFEFF',
  '\u2028',
  'é',
  '😀',
];

describe('parseManifests never crashes', () => {
  test('arbitrary unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        assertWellFormedResult(text);
      }),
      PARAMETERS,
    );
  });

  test('YAML-ish text built from syntax fragments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...YAML_FRAGMENTS), { maxLength: 80 }).map((parts) => parts.join('')),
        (text) => {
          assertWellFormedResult(text);
        },
      ),
      PARAMETERS,
    );
  });

  test('random JSON documents dumped as YAML, alone or several in one file', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 5 }), { minLength: 1, maxLength: 4 }), (values) => {
        const text = values.map((value) => dump(value)).join('---\n');
        assertWellFormedResult(text);
      }),
      PARAMETERS,
    );
  });

  test('valid objects with random contents come back exactly as written, on the line they start', () => {
    const manifest = fc.record({
      apiVersion: fc.constantFrom('v1', 'apps/v1', 'example.com/v1beta1'),
      kind: fc.constantFrom('ConfigMap', 'Deployment', 'Widget'),
      metadata: fc.record({
        name: fc.string({ minLength: 1, maxLength: 20 }),
        labels: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      }),
      data: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
    });
    fc.assert(
      fc.property(fc.array(manifest, { minLength: 1, maxLength: 4 }), (objects) => {
        const documents = objects.map((object) => dump(object));
        const text = documents.join('---\n');
        const result = parseManifests(text, FILE);
        assert.deepEqual(result.findings, []);
        // JSON.parse(JSON.stringify) on both sides: -0 and 0 are the same value in a manifest.
        assert.deepEqual(
          JSON.parse(JSON.stringify(result.manifests.map((m) => m.object))),
          JSON.parse(JSON.stringify(objects)),
        );
        let line = 1;
        documents.forEach((document, index) => {
          assert.equal(
            result.manifests[index]?.source.line,
            line,
            `document ${index} starts on line ${line}`,
          );
          line += document.split('\n').length; // its lines, and the `---` after it
        });
      }),
      PARAMETERS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The comment

/** Text that tries to break out of wherever it is shown. */
const HOSTILE = [
  '```',
  '````',
  '``````````',
  '`',
  '</details>',
  '<details>',
  '<details open>',
  '</summary>',
  '<!--',
  '-->',
  '<!-- slipway:section:prod:end -->',
  '<!-- slipway:section:zz:start -->',
  '<!-- slipway:row:zz {"environment":"zz"} -->',
  '<script>',
  '|',
  '[x](https://evil)',
  '@octocat',
  '*',
  '_',
  '&amp;',
  '\n',
  '\r\n',
  '    ',
  '# ',
  '+',
  '-',
  '--- ',
  '@@ ',
];

const hostileText = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...HOSTILE),
        fc.string({ maxLength: 8 }),
        fc.string({ unit: 'binary', maxLength: 4 }),
      ),
      {
        maxLength,
      },
    )
    .map((parts) => parts.join(''));

const ACTIONS: PlanAction[] = ['create', 'update', 'delete', 'orphan', 'unchanged', 'error'];

const plannedObject = (index: number): fc.Arbitrary<PlannedObject> =>
  fc
    .record({
      suffix: hostileText(4),
      kind: fc.oneof(fc.constantFrom('ConfigMap', 'Deployment', 'Secret'), hostileText(2)),
      namespace: fc.option(hostileText(2), { nil: undefined }),
      action: fc.constantFrom(...ACTIONS),
      note: fc.option(hostileText(6), { nil: undefined }),
      diffLines: fc.array(hostileText(4), { maxLength: 40 }),
      taken: fc.array(
        fc.record({ manager: hostileText(2), fields: fc.array(hostileText(2), { maxLength: 25 }) }),
        {
          maxLength: 2,
        },
      ),
      file: hostileText(2),
    })
    .map((o): PlannedObject => ({
      // A unique prefix, so the raw name cannot turn up anywhere else by chance.
      ref: { apiVersion: 'v1', kind: o.kind, namespace: o.namespace, name: `obj${index}q${o.suffix}` },
      action: o.action,
      diff: o.action === 'unchanged' ? '' : o.diffLines.join('\n'),
      source: { file: `${o.file}.yaml`, line: index + 1 },
      note: o.note,
      taken: o.taken,
      desired: undefined,
      live: undefined,
      deferred: false,
    }));

const plannedObjects: fc.Arbitrary<PlannedObject[]> = fc
  .integer({ min: 0, max: 30 })
  .chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => plannedObject(i))));

const finding: fc.Arbitrary<Finding> = fc.record({
  severity: fc.constantFrom('error' as const, 'warning' as const),
  rule: fc.constant('fuzz'),
  location: fc.record({ file: hostileText(2), line: fc.nat(100) }),
  message: hostileText(5),
});

const report = (environment: string): fc.Arbitrary<EnvironmentReport> =>
  fc
    .record({
      objects: fc.option(plannedObjects, { nil: undefined, freq: 5 }),
      findings: fc.array(finding, { maxLength: 15 }),
      // Sometimes a failure longer than any comment (a tool's whole output).
      failure: fc.option(
        fc.oneof(
          hostileText(10),
          fc.tuple(hostileText(3), fc.integer({ min: 100, max: 20_000 })).map(([t, n]) => `${t} `.repeat(n)),
        ),
        { nil: undefined },
      ),
      note: fc.option(hostileText(3), { nil: undefined }),
    })
    .map(({ objects, findings, failure, note }) => ({
      environment,
      plan: objects ? planOf(environment, objects) : undefined,
      findings,
      failure,
      ...(note === undefined ? {} : { note }),
    }));

function planOf(environment: string, objects: PlannedObject[]): Plan {
  const summary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 };
  for (const o of objects) summary[o.action]++;
  return { environment, objects, summary, requests: 1, durationMs: 1 };
}

/**
 * Reads markdown line by line as CommonMark does for fences: a line of three or more backticks
 * (up to three spaces in) opens a block that only a line of at least as many backticks closes.
 * Fails when a block is left open or `<details>` tags outside blocks do not pair up; returns the
 * text outside code blocks.
 */
function checkMarkdown(markdown: string): string {
  const outside: string[] = [];
  let fence = 0;
  let depth = 0;
  for (const [number, line] of markdown.split('\n').entries()) {
    if (fence > 0) {
      const close = /^ {0,3}(`{3,})[ \t]*$/.exec(line);
      if (close?.[1] && close[1].length >= fence) fence = 0;
      continue;
    }
    const open = /^ {0,3}(`{3,})[^`]*$/.exec(line);
    if (open?.[1]) {
      fence = open[1].length;
      continue;
    }
    outside.push(line);
    for (const tag of line.matchAll(/<(\/?)details\b/g)) {
      depth += tag[1] ? -1 : 1;
      assert.ok(depth >= 0, `</details> without <details> on line ${number + 1}: ${line}`);
    }
  }
  assert.equal(fence, 0, 'a code block is never closed');
  assert.equal(depth, 0, '<details> and </details> do not pair up');
  return outside.join('\n');
}

const OUR_COMMENTS = /^<!-- slipway:(plan|section:[a-z0-9-]+:(start|end)|row:[a-z0-9-]+ \{.*\}) -->$/;

describe('composeComment stays well-formed for any plan', () => {
  test('fences and <details> balance, the limit holds, names are escaped outside code', () => {
    fc.assert(
      fc.property(
        report('prod'),
        fc.option(report('dev'), { nil: undefined }),
        fc.integer({ min: 2_000, max: 70_000 }),
        fc.option(fc.webUrl(), { nil: undefined }),
        (ours, other, limit, fullDiffUrl) => {
          const options = { limit, fullDiffUrl, commit: 'abc' };
          const existing = other ? composeComment([], other, options) : [];
          const bodies = composeComment(existing, ours, options);
          const environments = other ? ['dev', 'prod'] : ['prod'];
          assert.deepEqual([...extractSections(bodies).keys()].sort(), environments);
          for (const body of bodies) {
            assert.ok(body.length <= limit, `${body.length} > ${limit}`);
            const text = checkMarkdown(body);
            for (const comment of text.match(/<!--.*?(-->|$)/gm) ?? [])
              assert.match(comment, OUR_COMMENTS, 'only our own markers are HTML comments');
            // A raw name may be a prefix of its own escaped form (`a&amp;` → `a&amp;amp;`): look for
            // it only once every escaped name is taken out.
            const names = [ours, ...(other ? [other] : [])]
              .flatMap((r) => r.plan?.objects ?? [])
              .map((o) => o.ref.name);
            let rest = text;
            for (const name of names) rest = rest.split(escapeInline(name)).join('\u0000');
            for (const name of names) {
              if (escapeInline(name) !== name)
                assert.ok(!rest.includes(name), `raw name ${JSON.stringify(name)} outside a code block`);
            }
          }
          // When nothing had to be shortened, every changed object is listed by its escaped name.
          const all = bodies.join('\n');
          if (!all.includes('shortened') && !all.includes('(truncated)')) {
            for (const object of ours.plan?.objects ?? []) {
              if (object.action !== 'unchanged')
                assert.ok(all.includes(escapeInline(describeRef(object.ref))), describeRef(object.ref));
            }
          }
        },
      ),
      { ...PARAMETERS, numRuns: process.env.FC_RUNS ? RUNS : 200 },
    );
  });
});
