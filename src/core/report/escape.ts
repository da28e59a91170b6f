/** Text safe inside HTML/markdown inline context (a <summary>, a table cell). */
export function escapeInline(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/`/g, '&#96;')
    .replace(/\[/g, '&#91;')
    .replace(/\]/g, '&#93;')
    .replace(/\*/g, '&#42;')
    .replace(/_/g, '&#95;')
    .replace(/@/g, '&#64;')
    .replace(/\r?\n/g, ' ');
}

/**
 * A fenced code block whose fence is longer than any backtick run inside, so content can never
 * close it early; a trailing newline is guaranteed before the closing fence.
 */
export function codeBlock(raw: string, language = ''): string {
  // Our own section markers are HTML comments; object content must never be able to forge one.
  const content = raw.replace(/<!--/g, '<!\u200b--');
  let longest = 0;
  for (const match of content.matchAll(/`+/g)) longest = Math.max(longest, match[0].length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${content.endsWith('\n') ? content : `${content}\n`}${fence}`;
}

/**
 * An inline code span in markdown: entities are not decoded inside one, so the text goes in as it
 * is, between backtick fences longer than any run inside (and padded where it starts or ends with
 * a backtick or space, which CommonMark would otherwise eat).
 * `<code>` with escaped text reads the same in markdown and inside raw HTML (see htmlCode).
 */
export function codeSpan(raw: string): string {
  // Text that looks like HTML goes in an HTML element instead: harmless either way to a renderer,
  // but a raw `<details>` in the markdown would confuse anything that reads it as text.
  if (/[<>&]/.test(raw)) return htmlCode(raw);
  const text = raw.replace(/\r?\n/g, ' ').replace(/<!--/g, '<!\u200b--');
  let longest = 0;
  for (const match of text.matchAll(/`+/g)) longest = Math.max(longest, match[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Code inside raw HTML (a <summary>): markdown is not read there, so it is an HTML element. */
export function htmlCode(text: string): string {
  return `<code>${escapeInline(text)}</code>`;
}
