// Writes docs/plan-comment.png: the `everyday` fixture's plan comment (test/unit/report-fixtures.ts)
// rendered with markdown-it, as GitHub renders comments, and photographed by headless Chromium.
// Run: node scripts/plan-screenshot.ts (needs `chromium` on PATH). The Mermaid block stays code here:
// GitHub and GitLab draw it, a static page does not.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { planComment } from '../src/core/report/comment.ts';
import { FIXTURES } from '../test/unit/report-fixtures.ts';

const body = planComment(FIXTURES.everyday(), { commit: '0123456789abcdef', run: 1 }, { limit: 65_536 });
// Open the environment and its first two objects, as a reviewer would.
let opened = 0;
const html = new MarkdownIt({ html: true })
  .render(body)
  .replace(/<details(?: open)?>/g, (tag) => (opened++ < 3 || tag.includes('open') ? '<details open>' : tag));
const page = `<!doctype html><meta charset="utf-8"><style>
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; color: #1f2328; margin: 24px; max-width: 960px; }
code, pre { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #f6f8fa; border-radius: 6px; }
code { padding: .2em .4em; } pre { padding: 12px; overflow: auto; } pre code { padding: 0; }
table { border-collapse: collapse; } th, td { border: 1px solid #d1d9e0; padding: 4px 12px; }
details { margin: 4px 0; } summary { cursor: pointer; } a { color: #0969da; text-decoration: none; }
</style><div class="markdown-body">${html}</div>`;
const dir = mkdtempSync(path.join(tmpdir(), 'slipway-shot-'));
try {
  writeFileSync(path.join(dir, 'comment.html'), page);
  const out = path.resolve(import.meta.dirname, '..', 'docs', 'plan-comment.png');
  execFileSync('chromium', [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--hide-scrollbars',
    '--window-size=1000,1030',
    `--screenshot=${out}`,
    `file://${path.join(dir, 'comment.html')}`,
  ]);
  process.stdout.write(`wrote ${out}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
