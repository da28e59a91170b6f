// Issue 15: the comment, job summary and terminal output of fixture plans, compared with golden
// files (UPDATE_GOLDEN=1 rewrites them), and every markdown body rendered with a CommonMark/GFM
// renderer (markdown-it, as GitHub and GitLab read it) and checked as HTML: no entity text where a
// reader would see it, readable <summary> lines, balanced fences and <details>, within the limits.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import MarkdownIt from 'markdown-it';
import { planComment } from '../../src/core/report/comment.ts';
import { composeComment, type EnvironmentReport } from '../../src/core/report/markdown.ts';
import { environmentsSummary, planSummary } from '../../src/core/report/summary.ts';
import { plansAsText, planAsText } from '../../src/core/report/text.ts';
import { FIXTURES } from './report-fixtures.ts';

const GOLDEN = path.join(import.meta.dirname, '..', 'fixtures', 'report');
const STAMP = { commit: '0123456789abcdef0123', run: 7 };
const URL = 'https://github.com/acme/deploy/actions/runs/42';

/** The build line changes with every build: the goldens hold a placeholder. */
function stable(text: string): string {
  return text.replace(/<sub>slipway [^<]*<\/sub>/g, '<sub>slipway (build)</sub>');
}

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

const md = new MarkdownIt({ html: true, linkify: false });

/** Every check a reader would notice, on the HTML GitHub/GitLab make of `markdown`. */
function checkHtml(markdown: string, limit: number): string {
  assert.ok(markdown.length <= limit, `${markdown.length} > ${limit}`);
  const html = md.render(markdown);
  // Entity text shown literally (what escapeInline did inside code spans: `.data.LOG&#95;LEVEL`).
  assert.doesNotMatch(html, /&amp;(#\d+|#x[0-9a-f]+|lt|gt|amp|quot);/i, 'entity text visible');
  for (const code of html.matchAll(/<code[^>]*>([\s\S]*?)<\/code>/g))
    assert.doesNotMatch(code[1] ?? '', /&amp;#/, `entity inside <code>: ${code[0]}`);
  for (const summary of html.matchAll(/<summary>([\s\S]*?)<\/summary>/g)) {
    const text = summary[1] ?? '';
    assert.ok(!text.includes('`'), `backticks GitHub would show in <summary>: ${text}`);
    assert.doesNotMatch(text, /\*\*|&amp;/, `markdown or entity text in <summary>: ${text}`);
  }
  // A fence left open swallows what follows: closing tags would show as text in a <pre>.
  assert.doesNotMatch(html, /&lt;\/?details/, 'a <details> tag ended up as text');
  const open = html.match(/<details/g)?.length ?? 0;
  assert.equal(open, html.match(/<\/details>/g)?.length ?? 0, 'unbalanced <details>');
  assert.equal(html.match(/<pre>/g)?.length ?? 0, html.match(/<\/pre>/g)?.length ?? 0);
  for (const pre of html.matchAll(/<pre>([\s\S]*?)<\/pre>/g))
    assert.doesNotMatch(pre[1] ?? '', /slipway:(section|row)/, 'a section marker inside a code block');
  return html;
}

describe('report goldens and rendering', () => {
  for (const [name, make] of Object.entries(FIXTURES)) {
    const report: EnvironmentReport = make();

    test(`${name}: the comment, at every size, renders cleanly; golden at full size`, () => {
      for (const limit of [65_536, 20_000, 6_000]) {
        const body = planComment(report, STAMP, { limit, fullDiffUrl: URL });
        checkHtml(body, limit);
        if (limit === 65_536) golden(`${name}.comment.md`, stable(body));
      }
      const combined = composeComment([], report, { limit: 65_536, fullDiffUrl: URL });
      for (const body of combined) checkHtml(body, 65_536);
    });

    test(`${name}: the job summary renders cleanly; golden`, () => {
      const summary = planSummary(report);
      checkHtml(summary, 1024 * 1024);
      golden(`${name}.summary.md`, summary);
    });

    if (report.plan) {
      const plan = report.plan;
      test(`${name}: the terminal output; golden`, () => {
        golden(`${name}.txt`, planAsText(plan, false));
      });
    }
  }

  test('escaped text inside code reads as typed: .data.LOG_LEVEL, file names with underscores', () => {
    // As a browser reads it: character references in raw HTML (<summary>) are decoded.
    const html = md
      .render(planComment(FIXTURES.everyday(), STAMP, { limit: 65_536 }))
      .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
    assert.ok(html.includes('<code>.data.LOG_LEVEL</code>'), 'taken field in a code span');
    assert.ok(
      html.includes('<code>clusters/prod/configmap_app_settings.yaml:3</code>'),
      'source in <summary>',
    );
    assert.ok(html.includes('<code>clusters/prod/rbac_roles.yaml:7</code>'), 'finding location');
    assert.ok(html.includes('LOG_LEVEL: debug'), 'the diff as it is');
  });

  test('risks come first, above the table, each linking to its object', () => {
    const body = planComment(FIXTURES.everyday(), STAMP, { limit: 65_536 });
    const risks = body.indexOf('**Risks**');
    assert.ok(risks > 0 && risks < body.indexOf('| Environment |'), 'above the table');
    const html = md.render(body);
    const link = /<a href="#(slipway-prod-[a-z0-9-]+)">Deployment\.apps shop\/web<\/a> scales to zero/.exec(
      html,
    );
    assert.ok(link, 'the risk links to the object');
    assert.ok(html.includes(`<a name="${link[1]}"></a>`), 'and the object has that anchor');
    assert.match(
      html,
      /<strong>delete<\/strong>: <a href="#slipway-prod-namespace-legacy">Namespace legacy<\/a> is deleted and everything in it/,
    );
  });

  test('a large plan reads in groups; the apply order is a Mermaid diagram; the summary has a bar', () => {
    const body = planComment(FIXTURES.bulk(), STAMP, { limit: 65_536 });
    const html = md.render(body);
    assert.match(html, /<summary>🟢 400 ConfigMaps in live-cluster\/bulk\/ \(create\)<\/summary>/);
    assert.ok(html.includes('<code class="language-mermaid">'), 'mermaid block');
    assert.ok(body.length < 20_000, `${body.length}: grouped, the plan is short`);
    const summary = planSummary(FIXTURES.bulk());
    assert.match(summary, /^🟩{20} 402 create · 0 update · 0 delete · 0 unchanged$/mu);
    assert.match(summary, /a0\["CustomResourceDefinitions<br\/>1 to apply"\][\s\S]*a0 --> a1 --> a3/);
    // When the budget is tight the diagram goes first.
    assert.ok(!planComment(FIXTURES.bulk(), STAMP, { limit: 3_000 }).includes('```mermaid'));
  });

  test('identical changes in several environments are shown once, × N environments', () => {
    const a = FIXTURES.everyday().plan!;
    const b = { ...FIXTURES.everyday().plan!, environment: 'prod-eu' };
    const text = plansAsText([a, b], false);
    assert.match(text, /update ConfigMap shop\/app_settings × 2 environments \(prod, prod-eu\)/);
    assert.equal(text.match(/LOG_LEVEL: debug/g)?.length, 1, 'the diff once');
  });

  test('the job summary of several environments: a bar each, shared changes once; golden', () => {
    const prod = FIXTURES.everyday();
    const eu: EnvironmentReport = {
      ...prod,
      environment: 'prod-eu',
      plan: prod.plan && { ...prod.plan, environment: 'prod-eu' },
    };
    const summary = environmentsSummary([prod, eu, FIXTURES.failed()]);
    checkHtml(summary, 1024 * 1024);
    assert.match(summary, /^\| prod \| 🟩+🟨+🟥+⬜+ 1 create · 3 update · 2 delete · 1 unchanged \|$/mu);
    assert.match(summary, /^\| staging \| not planned: failed \|$/m);
    assert.match(summary, /- update ConfigMap shop\/app&#95;settings × 2 environments \(prod, prod-eu\)/);
    assert.equal(environmentsSummary([FIXTURES.everyday()]), '', 'one environment has its own summary');
    golden('environments.summary.md', summary);
  });

  test('risk links always land: risky rows stay out of groups, and a comment without details links nowhere', () => {
    const report = FIXTURES.bulk();
    const plan = report.plan!;
    const first = plan.objects[0]!;
    const risky = {
      ...report,
      plan: {
        ...plan,
        risks: [{ id: 'delete' as const, level: 'warning' as const, ref: first.ref, message: 'is risky' }],
      },
    };
    const body = planComment(risky, STAMP, { limit: 65_536 });
    assert.match(body, /🟢 399 ConfigMaps in live-cluster\/bulk\/ \(create\)/);
    assert.ok(body.includes(`<a name="slipway-bulk-configmap-shop-bulk-000"></a>`));
    const short = planComment(risky, STAMP, { limit: 1_500 });
    assert.ok(!short.includes('<a name='), 'no details at this size');
    assert.ok(short.includes('**delete**: ConfigMap shop/bulk-000 is risky'), 'the risk, unlinked');
    checkHtml(short, 1_500);
  });
});
