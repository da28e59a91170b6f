// The pull-request comment, job summary and CLI output of a plan: what fits, what is dropped first,
// and that nothing an object contains can break out of the place it is shown in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../src/core/yaml/manifest.ts';
import type { Plan, PlanAction, PlannedObject } from '../../src/core/plan/plan.ts';
import { codeBlock, escapeInline } from '../../src/core/report/escape.ts';
import {
  COMMENT_MARKER,
  composeComment,
  extractSections,
  renderSection,
  type CommentOptions,
  type EnvironmentReport,
} from '../../src/core/report/markdown.ts';
import { planSummary, SUMMARY_BUDGET } from '../../src/core/report/summary.ts';
import { planAsJson, planAsText } from '../../src/core/report/text.ts';
import { trimContext, truncateLines } from '../../src/core/report/trim.ts';

const RUN_URL = 'https://github.com/acme/deploy/actions/runs/42';
const OPTIONS: CommentOptions = { limit: 65_536, fullDiffUrl: RUN_URL, commit: '0123456789abcdef' };

/**
 * A unified diff of `changes` changed keys, each after `context` unchanged lines, so the lines
 * each level keeps are known: `-  key<c>: old` / `+  key<c>: new`, preceded by ` c<c>-ctx<j>: same`.
 */
function diffOf(name: string, changes: number, context: number): string {
  const lines = [`--- live/${name}`, `+++ git/${name}`, `@@ -1,${changes * (context + 1)} @@`];
  for (let c = 0; c < changes; c++) {
    for (let j = 0; j < context; j++) lines.push(` ${name}-c${c}-ctx${j}: same`);
    lines.push(`-  ${name}-key${c}: old`, `+  ${name}-key${c}: new`);
  }
  return lines.join('\n');
}

function object(
  name: string,
  action: PlanAction = 'update',
  diff = '',
  extra: Partial<PlannedObject> = {},
): PlannedObject {
  return {
    ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name },
    action,
    diff,
    source: { file: 'clusters/prod/app.yaml', line: 1 },
    note: undefined,
    taken: [],
    desired: undefined,
    live: undefined,
    deferred: false,
    ...extra,
  };
}

function planOf(environment: string, objects: PlannedObject[]): Plan {
  const summary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 };
  for (const o of objects) summary[o.action]++;
  return { environment, objects, summary, requests: objects.length + 1, durationMs: 1234 };
}

function reportOf(
  environment: string,
  objects: PlannedObject[] | undefined,
  extra: Partial<EnvironmentReport> = {},
): EnvironmentReport {
  return {
    environment,
    plan: objects ? planOf(environment, objects) : undefined,
    findings: [],
    failure: undefined,
    ...extra,
  };
}

/**
 * `count` updated ConfigMaps, each with a diff of `changes` changes after `context` lines, each
 * from a folder of its own (so they are never grouped: see the grouping tests).
 */
function updates(count: number, changes: number, context: number): PlannedObject[] {
  return Array.from({ length: count }, (_, i) =>
    object(`cm-${i}`, 'update', diffOf(`cm-${i}`, changes, context), {
      source: { file: `clusters/prod/app-${i}/cm.yaml`, line: 1 },
    }),
  );
}

/** Lines outside fenced code blocks, so assertions about markup are not fooled by diff content. */
function outsideCode(markdown: string): string {
  const out: string[] = [];
  let fence = 0;
  for (const line of markdown.split('\n')) {
    const run = /^(`{3,})/.exec(line)?.[1]?.length ?? 0;
    if (fence === 0 && run >= 3) fence = run;
    else if (fence > 0 && run >= fence && line.trim() === '`'.repeat(run)) fence = 0;
    else if (fence === 0) out.push(line);
  }
  assert.equal(fence, 0, 'every code block is closed');
  return out.join('\n');
}

function assertBalancedDetails(markdown: string): void {
  const text = outsideCode(markdown);
  const opened = text.match(/<details[ >]/g)?.length ?? 0;
  const closed = text.match(/<\/details>/g)?.length ?? 0;
  assert.equal(opened, closed, 'every <details> is closed');
}

/** The object lines of a section without bodies: `- 🟡 update ConfigMap shop/cm-3 — …`. */
function rowLines(section: string): string[] {
  return section.split('\n').filter((line) => /^- \S+ (create|update|delete|orphan|error) /.test(line));
}

describe('renderSection: the richest level that fits', () => {
  test('a plan that fits shows every diff whole, with all context and no shortening note', () => {
    const objects = updates(3, 4, 6);
    const [body, ...more] = composeComment([], reportOf('prod', objects), OPTIONS);
    assert.equal(more.length, 0);
    assert.ok(body);
    for (const o of objects) {
      for (const line of o.diff.split('\n')) assert.ok(body.includes(line), `missing diff line ${line}`);
    }
    assert.ok(!body.includes('shortened'), 'nothing was shortened');
    assert.ok(!body.includes(' …'), 'no context was trimmed');
  });

  test('first fallback: context trimmed to one line around each change, bodies kept', () => {
    const report = reportOf('prod', updates(10, 5, 20));
    const full = renderSection(report, Infinity, OPTIONS);
    const budget = Math.floor(full.length / 2);
    const section = renderSection(report, budget, OPTIONS);
    assert.ok(section.length <= budget, `${section.length} > ${budget}`);
    assert.ok(section.includes('```diff'), 'diff bodies are still shown');
    assert.equal(section.match(/<details><summary>🟡 update/g)?.length, 10, 'one body per object');
    for (let c = 0; c < 5; c++) {
      assert.ok(section.includes(`-  cm-7-key${c}: old`), 'every change is kept');
      assert.ok(section.includes(`+  cm-7-key${c}: new`), 'every change is kept');
      assert.ok(section.includes(` cm-7-c${c}-ctx19: same`), 'the line before a change is kept');
      assert.ok(!section.includes(` cm-7-c${c}-ctx10: same`), 'context far from a change is dropped');
    }
    assert.ok(section.includes('\n …\n'), 'dropped context is marked');
    assert.ok(section.includes('_Diffs shortened to fit the comment.'));
    assert.ok(section.includes(`[Full diff](${RUN_URL})`));
  });

  test('first fallback also caps each diff at 60 lines, saying how many were left out', () => {
    const report = reportOf('prod', [
      object('huge', 'update', diffOf('huge', 300, 0)),
      ...updates(5, 60, 30),
    ]);
    const section = renderSection(report, 40_000, OPTIONS);
    assert.ok(section.length <= 40_000);
    assert.ok(section.includes('```diff'));
    assert.match(section, /# … \d+ more lines \(see the full diff\)/);
    assert.ok(section.includes('-  huge-key0: old'));
    assert.ok(!section.includes('-  huge-key200: old'), 'lines past the cap are not shown');
  });

  test('second fallback: no diff bodies, one line per changed object, all of them', () => {
    const report = reportOf('prod', updates(40, 100, 1));
    const section = renderSection(report, 10_000, OPTIONS);
    assert.ok(section.length <= 10_000);
    assert.ok(!section.includes('```'), 'no diff bodies');
    const rows = rowLines(section);
    assert.equal(rows.length, 40);
    assert.ok(rows[0]?.startsWith('- 🟡 update ConfigMap shop/cm-0'));
    assert.ok(section.includes('Diffs shortened to fit the comment.'));
    assert.ok(section.includes(`[Full diff](${RUN_URL})`));
  });

  test('third fallback: the first 50 objects, then how many more, with the full plan linked', () => {
    const report = reportOf('prod', updates(300, 50, 1));
    const section = renderSection(report, 8_000, OPTIONS);
    assert.ok(section.length <= 8_000);
    assert.equal(rowLines(section).length, 50);
    assert.ok(section.includes(`- … and 250 more changed objects ([full plan](${RUN_URL}))`));
    assert.ok(section.includes('Diffs shortened to fit the comment.'));
  });

  test('last fallback: only the counts', () => {
    const report = reportOf('prod', [
      ...updates(300, 50, 1),
      object('fresh', 'create', diffOf('fresh', 3, 0)),
    ]);
    const section = renderSection(report, 1_500, OPTIONS);
    assert.ok(section.length <= 1_500, `${section.length}`);
    assert.equal(rowLines(section).length, 0);
    assert.ok(section.includes('<b>prod</b>: 1 to create, 300 to update, 0 unchanged'), section);
    assert.ok(section.includes('- … and 301 more changed objects'));
    assert.ok(section.includes(`[Full diff](${RUN_URL})`));
  });

  test('without a link the note points at the job summary', () => {
    const report = reportOf('prod', updates(40, 100, 1));
    const section = renderSection(report, 10_000, { limit: 65_536 });
    assert.ok(section.includes('The full diff is in the job summary.'));
    assert.ok(!section.includes('[Full diff]'));
  });

  test('at every comment limit the comment fits, keeps the table and a whole section', () => {
    const report = reportOf('prod', updates(400, 40, 4));
    for (const limit of [65_536, 40_000, 20_000, 8_000, 3_000]) {
      const bodies = composeComment([], report, { ...OPTIONS, limit });
      assert.equal(bodies.length, 1, `one comment at limit ${limit}`);
      const body = bodies[0]!;
      assert.ok(body.length <= limit, `${body.length} > ${limit}`);
      assert.ok(body.startsWith(COMMENT_MARKER));
      assert.ok(body.includes('| prod | 0 | 400 | 0 | 0 | 0 | 🟡 changes |'));
      assert.ok(extractSections([body]).has('prod'), `section intact at limit ${limit}`);
      assert.ok(body.includes('Diffs shortened to fit the comment.'));
      assertBalancedDetails(body);
    }
  });
});

describe('composeComment: one section per environment', () => {
  const devReport = reportOf('dev', [object('a', 'create', diffOf('a', 1, 1)), object('b', 'unchanged')]);
  const stagingReport = reportOf('staging', [object('c', 'delete', diffOf('c', 2, 0))]);

  function existingWith(...reports: EnvironmentReport[]): string[] {
    let bodies: string[] = [];
    for (const report of reports) bodies = composeComment(bodies, report, OPTIONS);
    return bodies;
  }

  test('other environments are kept as they were and every section is ordered by name', () => {
    const existing = existingWith(stagingReport, devReport);
    const before = extractSections(existing);
    const [body] = composeComment(existing, reportOf('prod', updates(2, 1, 1)), OPTIONS);
    assert.ok(body);
    const after = extractSections([body]);
    assert.deepEqual([...after.keys()].sort(), ['dev', 'prod', 'staging']);
    assert.equal(after.get('dev'), before.get('dev'), 'dev is untouched');
    assert.equal(after.get('staging'), before.get('staging'), 'staging is untouched');
    const positions = ['dev', 'prod', 'staging'].map((env) =>
      body.indexOf(`<!-- slipway:section:${env}:start -->`),
    );
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      'sections in name order',
    );
  });

  test('the summary table is rebuilt from every section, in name order', () => {
    const existing = existingWith(stagingReport, devReport);
    const [body] = composeComment(existing, reportOf('prod', [object('x', 'unchanged')]), OPTIONS);
    const rows = body!.split('\n').filter((line) => /^\| (dev|prod|staging) \|/.test(line));
    assert.deepEqual(rows, [
      '| dev | 1 | 0 | 0 | 1 | 0 | 🟡 changes |',
      '| prod | 0 | 0 | 0 | 1 | 0 | ✅ in sync |',
      '| staging | 0 | 0 | 1 | 0 | 0 | 🟡 changes |',
    ]);
    assert.ok(body!.includes('For commit `0123456789ab`.'));
  });

  test("a new plan replaces the environment's old section, not the others", () => {
    const existing = existingWith(devReport, reportOf('prod', updates(5, 1, 1)));
    const [body] = composeComment(existing, reportOf('prod', [object('x', 'unchanged')]), OPTIONS);
    assert.ok(body);
    assert.ok(!body.includes('cm-4'), 'the old prod section is gone');
    assert.equal(body.match(/<!-- slipway:section:prod:start -->/g)?.length, 1);
    assert.ok(body.includes('No changes: the cluster already matches Git.'));
    assert.ok(body.includes('| dev | 1 | 0 | 0 | 1 | 0 | 🟡 changes |'));
    assert.ok(body.includes('| prod | 0 | 0 | 0 | 1 | 0 | ✅ in sync |'));
  });

  test('"No changes" and a headline of counts when everything is unchanged', () => {
    const [body] = composeComment(
      [],
      reportOf('prod', [object('a', 'unchanged'), object('b', 'unchanged')]),
      OPTIONS,
    );
    assert.ok(body!.includes('<b>prod</b>: no changes, 2 unchanged'));
    assert.ok(body!.includes('No changes: the cluster already matches Git.'));
    assert.ok(!body!.includes('shortened'));
  });

  test('a failed plan shows its error, opened, and stays in the comment when others update it', () => {
    const failed = reportOf('prod', undefined, {
      failure: 'cannot reach the cluster: connect ECONNREFUSED <10.0.0.1:6443>',
    });
    const [body] = composeComment([], failed, OPTIONS);
    assert.ok(body);
    assert.ok(body.includes('<details open><summary><b>prod</b>: plan failed</summary>'));
    assert.ok(
      body.includes(
        '**The plan failed:** cannot reach the cluster: connect ECONNREFUSED &lt;10.0.0.1:6443&gt;',
      ),
    );
    assert.ok(body.includes('| prod | – | – | – | – | – | ❌ failed |'));
    const [later] = composeComment([body], devReport, OPTIONS);
    assert.ok(later!.includes('**The plan failed:** cannot reach the cluster'), 'still shown');
    assert.ok(later!.includes('| prod | – | – | – | – | – | ❌ failed |'));
  });

  test('a failure too long for the comment is cut, but the section stays whole and parseable', () => {
    const failure = `helm template failed:\n${'Error: template: chart/templates/x.yaml:3:4: bad value\n'.repeat(3_000)}`;
    const [body, ...more] = composeComment([], reportOf('prod', undefined, { failure }), OPTIONS);
    assert.equal(more.length, 0);
    assert.ok(body!.length <= OPTIONS.limit);
    assert.ok(body!.includes('**The plan failed:** helm template failed:'));
    assert.ok(body!.includes('| prod | – | – | – | – | – | ❌ failed |'));
    assert.ok(extractSections([body!]).has('prod'), 'start and end markers survive the cut');
    assertBalancedDetails(body!);
    // Another environment's job keeps the failed section rather than dropping it.
    const later = composeComment([body!], devReport, OPTIONS);
    for (const each of later) assert.ok(each.length <= OPTIONS.limit);
    assert.ok(later.join('\n').includes('**The plan failed:** helm template failed:'));
    assert.deepEqual([...extractSections(later).keys()].sort(), ['dev', 'prod']);
  });

  test('findings: errors and warnings listed; an error marks the environment failed', () => {
    const findings: Finding[] = [
      {
        severity: 'error',
        rule: 'missing-kind',
        location: { file: 'apps/web.yaml', line: 4 },
        message: 'missing `kind`',
      },
      { severity: 'warning', rule: 'x', location: { file: 'apps/db.yaml', line: 0 }, message: 'latest tag' },
    ];
    const [body] = composeComment([], reportOf('prod', [object('a', 'unchanged')], { findings }), OPTIONS);
    assert.ok(body!.includes('**Errors**\n\n- `apps/web.yaml:4` missing &#96;kind&#96;'));
    assert.ok(body!.includes('**Warnings**\n\n- `apps/db.yaml` latest tag'));
    assert.ok(body!.includes('<details open>'));
    assert.ok(body!.includes('| prod | 0 | 0 | 0 | 1 | 0 | ❌ failed |'));
  });

  test('sections that cannot share one comment are split over several, each within the limit', () => {
    // dev alone nearly fills a comment with whole diffs; prod then gets its share of one.
    const existing = composeComment([], reportOf('dev', updates(12, 30, 6)), OPTIONS);
    assert.equal(existing.length, 1);
    assert.ok(existing[0]!.length > OPTIONS.limit * 0.8);
    const bodies = composeComment(existing, reportOf('prod', updates(12, 30, 6)), OPTIONS);
    assert.ok(bodies.length >= 2, 'split');
    for (const body of bodies) {
      assert.ok(body.length <= OPTIONS.limit, `${body.length}`);
      assert.ok(body.startsWith(COMMENT_MARKER));
      assertBalancedDetails(body);
    }
    assert.ok(bodies[1]!.includes('_(continued)_'));
    assert.deepEqual([...extractSections(bodies).keys()].sort(), ['dev', 'prod']);
    assert.equal(extractSections(bodies).get('dev'), extractSections(existing).get('dev'));
  });
});

describe('escapeInline', () => {
  test('HTML cannot open a tag', () => {
    assert.equal(escapeInline('<script>alert(1)</script>'), '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.equal(escapeInline('</details><details open>'), '&lt;/details&gt;&lt;details open&gt;');
  });

  test('an ampersand is escaped first, so an entity in the input stays literal', () => {
    assert.equal(escapeInline('&lt;b&gt;'), '&amp;lt;b&amp;gt;');
  });

  test('markdown has no effect: table pipes, code, links, emphasis, mentions, line breaks', () => {
    const escaped = escapeInline('a|b `code` [x](https://evil) *bold* _em_ @octocat\nnext');
    for (const character of ['|', '`', '[', ']', '*', '_', '@', '\n'])
      assert.ok(!escaped.includes(character), `${JSON.stringify(character)} left in ${escaped}`);
    assert.equal(
      escaped,
      'a&#124;b &#96;code&#96; &#91;x&#93;(https://evil) &#42;bold&#42; &#95;em&#95; &#64;octocat next',
    );
  });

  test('CRLF becomes one space', () => {
    assert.equal(escapeInline('one\r\ntwo'), 'one two');
  });
});

describe('codeBlock', () => {
  test('ordinary content gets a three-backtick fence with the language and a final newline', () => {
    assert.equal(codeBlock('a: 1', 'diff'), '```diff\na: 1\n```');
    assert.equal(codeBlock('a: 1\n', 'yaml'), '```yaml\na: 1\n```');
  });

  test('the fence is longer than any backtick run in the content', () => {
    for (const run of [3, 4, 7]) {
      const content = `before\n${'`'.repeat(run)}\ninside ${'`'.repeat(run)}js\nafter`;
      const block = codeBlock(content);
      const fence = '`'.repeat(run + 1);
      assert.ok(block.startsWith(`${fence}\n`), block);
      assert.ok(block.endsWith(`\n${fence}`), block);
    }
    assert.ok(codeBlock('one ` two `` three').startsWith('```\n'), 'short runs keep the minimum of three');
  });

  test('content cannot forge a section or row marker', () => {
    const block = codeBlock('<!-- slipway:section:prod:end -->\n<!-- slipway:row:evil {"a":1} -->');
    assert.ok(!block.includes('<!--'));
    assert.ok(block.includes('slipway:section:prod:end'), 'the text itself is still shown');
  });

  test('a diff that forges markers neither ends its own section early nor adds a table row', () => {
    const forged = [
      '--- live/x',
      '+++ git/x',
      '+ note: |',
      '+   <!-- slipway:section:prod:end -->',
      '+   <!-- slipway:section:aaa:start -->',
      '+   <!-- slipway:row:aaa {"environment":"aaa","summary":null,"failed":true,"findings":9} -->',
      '+   <!-- slipway:section:aaa:end -->',
      '+   ````',
      '+   </details>',
    ].join('\n');
    const [body] = composeComment([], reportOf('prod', [object('x', 'create', forged)]), OPTIONS);
    const sections = extractSections([body!]);
    assert.deepEqual([...sections.keys()], ['prod']);
    assert.ok(sections.get('prod')!.includes('</details>\n<!-- slipway:section:prod:end -->'));
    assert.ok(!body!.includes('| aaa |'), 'no forged table row');
    assertBalancedDetails(body!);
  });
});

describe('trimContext and truncateLines', () => {
  test('trimContext keeps headers, changes and `context` lines around them; runs collapse to one marker', () => {
    const diff = [
      '--- a',
      '+++ b',
      '@@ -1 +1 @@',
      ' 1',
      ' 2',
      ' 3',
      '-x',
      '+y',
      ' 4',
      ' 5',
      ' 6',
      '# note',
    ].join('\n');
    assert.equal(
      trimContext(diff, 1),
      ['--- a', '+++ b', '@@ -1 +1 @@', ' …', ' 3', '-x', '+y', ' 4', ' …', '# note'].join('\n'),
    );
    assert.equal(
      trimContext(diff, 0),
      ['--- a', '+++ b', '@@ -1 +1 @@', ' …', '-x', '+y', ' …', '# note'].join('\n'),
    );
  });

  test('truncateLines keeps the first lines and counts the rest', () => {
    assert.equal(truncateLines('a\nb\nc\nd', 2, '(more)'), 'a\nb\n# … 2 more lines (more)');
    assert.equal(truncateLines('a\nb', 2, '(more)'), 'a\nb');
  });
});

describe('planAsJson and planAsText', () => {
  const plan = planOf('prod', [
    object('web', 'update', '--- live/x\n+++ git/x\n-a\n+b', {
      ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
      note: 'takes replicas',
      taken: [{ manager: 'kubectl-edit', fields: ['.spec.replicas'] }],
      desired: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } },
    }),
    object('admin', 'create', '+x', {
      ref: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'admin' },
      source: undefined,
    }),
    object('same', 'unchanged'),
  ]);

  test('field names other tools rely on', () => {
    const json = JSON.parse(JSON.stringify(planAsJson(plan))) as {
      environment: string;
      summary: Record<string, number>;
      refusals: unknown[];
      objects: Record<string, unknown>[];
    };
    assert.deepEqual(Object.keys(json).sort(), [
      'environment',
      'notes',
      'objects',
      'refusals',
      'risks',
      'summary',
    ]);
    assert.equal(json.environment, 'prod');
    // Why the plan may not be applied (prune budget, another repository's inventory): none here.
    assert.deepEqual(json.refusals, []);
    assert.deepEqual(json.summary, { create: 1, update: 1, delete: 0, unchanged: 1, error: 0, orphan: 0 });
    assert.deepEqual(json.objects[0], {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      action: 'update',
      diff: '--- live/x\n+++ git/x\n-a\n+b',
      source: 'clusters/prod/app.yaml:1',
      note: 'takes replicas',
      takes: [{ manager: 'kubectl-edit', fields: ['.spec.replicas'] }],
    });
    assert.deepEqual(json.objects[1], {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      name: 'admin',
      action: 'create',
      diff: '+x',
    });
    assert.equal(json.objects.length, 3, 'unchanged objects are listed too');
    for (const o of json.objects) {
      assert.ok(!('desired' in o) && !('live' in o), 'no raw objects (they may hold Secret values)');
      for (const key of ['apiVersion', 'kind', 'name', 'action', 'diff']) assert.ok(key in o, key);
    }
  });

  test('text: a header per changed object, colour only on a terminal', () => {
    const plain = planAsText(plan, false);
    assert.ok(!plain.includes('\u001b['));
    assert.ok(plain.startsWith('prod: 1 to create, 1 to update, 1 unchanged\n'));
    assert.ok(
      plain.includes('\nupdate Deployment.apps shop/web (clusters/prod/app.yaml:1)\n  takes replicas\n'),
    );
    assert.ok(plain.includes('  takes from kubectl-edit: .spec.replicas'));
    assert.ok(plain.includes('\ncreate ClusterRole.rbac.authorization.k8s.io admin\n'));
    assert.ok(!plain.includes('same'), 'unchanged objects are not listed');
    const coloured = planAsText(plan, true);
    assert.ok(coloured.includes('\u001b[32m+b\u001b[0m'));
    assert.ok(coloured.includes('\u001b[31m-a\u001b[0m'));
  });
});

describe('planSummary (the job summary)', () => {
  test('thousands of objects stay under the default budget, with a count of the rest', () => {
    const objects = Array.from({ length: 12_000 }, (_, i) =>
      object(`cm-${i}`, 'update', diffOf(`cm-${i}`, 2, 1)),
    );
    const summary = planSummary(reportOf('prod', objects));
    assert.ok(summary.length <= SUMMARY_BUDGET, `${summary.length} > ${SUMMARY_BUDGET}`);
    const shown = summary.match(/^### update /gm)?.length ?? 0;
    const rest = /_(\d+) more changed objects not shown: the summary is limited to 1 MiB\._/.exec(summary);
    assert.ok(rest, 'says how many were left out');
    assert.equal(shown + Number(rest[1]), 12_000);
    assert.ok(shown > 1_000, 'fills the room it has');
  });

  test('a smaller budget holds too, for every size of plan', () => {
    for (const count of [10, 100, 1_000, 5_000]) {
      const objects = Array.from({ length: count }, (_, i) => object(`o${i}`, 'create', `+ k${i}: v`));
      const summary = planSummary(reportOf('prod', objects), 20_000);
      assert.ok(summary.length <= 20_000, `${count} objects: ${summary.length}`);
    }
  });

  test('one huge object is cut at 2000 lines inside its block', () => {
    const summary = planSummary(reportOf('prod', [object('big', 'update', diffOf('big', 3_000, 0))]));
    assert.match(summary, /# … \d+ more lines \(object too large to show\)\n```/);
    assert.ok(summary.includes('### update ConfigMap shop/big'));
  });

  test('failure and findings come first', () => {
    const summary = planSummary(
      reportOf('prod', undefined, {
        failure: 'cluster <unreachable>',
        findings: [{ severity: 'error', rule: 'r', location: { file: 'a.yaml', line: 2 }, message: 'bad' }],
      }),
    );
    assert.ok(summary.startsWith('## Slipway plan: prod\n\n**Failed:** cluster &lt;unreachable&gt;\n'));
    assert.ok(summary.includes('- error: `a.yaml:2` bad'));
  });
});
