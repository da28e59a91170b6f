/**
 * Shortens a unified diff by keeping only `context` unchanged lines around each change. Header and
 * hunk lines stay; the result is still readable as a diff (hunk counts become approximate).
 */
export function trimContext(diff: string, context: number): string {
  const lines = diff.split('\n');
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((line, i) => {
    if (line.startsWith('---') || line.startsWith('+++') || line.startsWith('@@') || line.startsWith('#'))
      keep[i] = true;
    else if (line.startsWith('+') || line.startsWith('-')) {
      for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++)
        keep[j] = true;
    }
  });
  const out: string[] = [];
  let skipped = false;
  lines.forEach((line, i) => {
    if (keep[i]) {
      out.push(line);
      skipped = false;
    } else if (!skipped) {
      out.push(' …');
      skipped = true;
    }
  });
  return out.join('\n');
}

/** At most `max` lines, with a note of how many were left out. */
export function truncateLines(text: string, max: number, note: string): string {
  const lines = text.split('\n');
  if (lines.length <= max) return text;
  return `${lines.slice(0, max).join('\n')}\n# … ${lines.length - max} more lines ${note}`;
}
