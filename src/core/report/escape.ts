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
