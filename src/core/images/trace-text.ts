// Text-level fallbacks of the trace: where no image field names the repository, the scalar on the
// traced line that holds exactly the rendered tag (a Helm values `version:`), or the rendered
// reference written once beside it (a JSON 6902 patch's `value:`, also inside an inline patch).

import { getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { TagLocation } from './locate.ts';
import { lineOf, lineStarts } from '../yaml/yaml.ts';
import type { ImageReference } from './reference.ts';

const SCALAR = 4;
const EDITABLE_STYLES = new Set([1, 2, 3]); // plain, single- and double-quoted
/** A JSON 6902 operation's keys (`op`, `path`, `value`) sit within this many lines of each other. */
const NEAR = 2;
const REFERENCE_CHAR = /[A-Za-z0-9_.:/@-]/;

/** A quoted or plain scalar on `line` whose whole value is the rendered tag or image reference. */
export function scalarOnLine(
  text: string,
  file: string,
  line: number,
  ref: ImageReference,
): TagLocation | undefined {
  let events: Event[];
  try {
    events = parseEvents(text, { filename: file });
  } catch {
    return undefined;
  }
  const starts = lineStarts(text);
  const pin = ref.digest ? `@${ref.digest}` : '';
  const reference = `${ref.name}${ref.tag === undefined ? '' : `:${ref.tag}`}${pin}`;
  for (const scalar of events) {
    if (scalar.type !== SCALAR) continue;
    if (!EDITABLE_STYLES.has(scalar.style) || lineOf(starts, scalar.valueStart) !== line) continue;
    const value = getScalarValue(text, scalar);
    const isTag = ref.tag !== undefined && value === `${ref.tag}${pin}`;
    if (!isTag && value !== reference) continue;
    return {
      file,
      line,
      start: scalar.valueStart,
      end: scalar.valueEnd,
      plain: scalar.style === 1,
      raw: value,
      field: isTag ? 'tag' : 'reference',
      repository: ref.name,
      policy: undefined,
      currentTag: ref.tag,
      currentDigest: ref.digest,
      via: 'traced',
    };
  }
  return undefined;
}

/**
 * The rendered reference (`repo:tag`, with its digest if any) written exactly once within two lines
 * of the traced one, as a whole token and not in a comment. A JSON 6902 patch is traced to its
 * `path:` line, its `value:` is beside it; inside an inline patch (a block scalar) the bytes are
 * the patch's own, so the same token edit applies. Never quoted on edit: a reference is a string.
 */
export function referenceNear(
  text: string,
  file: string,
  line: number,
  ref: ImageReference,
): TagLocation | undefined {
  if (ref.tag === undefined) return undefined;
  const reference = `${ref.name}:${ref.tag}${ref.digest ? `@${ref.digest}` : ''}`;
  const lines = text.split('\n');
  const found: { line: number; start: number }[] = [];
  let offset = 0;
  lines.forEach((content, index) => {
    const number = index + 1;
    if (Math.abs(number - line) <= NEAR) {
      const comment = content.search(/(^|\s)#/);
      for (let at = content.indexOf(reference); at >= 0; at = content.indexOf(reference, at + 1)) {
        const whole =
          !REFERENCE_CHAR.test(content[at - 1] ?? ' ') &&
          !REFERENCE_CHAR.test(content[at + reference.length] ?? ' ');
        if (whole && (comment < 0 || at < comment)) found.push({ line: number, start: offset + at });
      }
    }
    offset += content.length + 1;
  });
  const only = found.length === 1 ? found[0] : undefined;
  if (!only) return undefined;
  return {
    file,
    line: only.line,
    start: only.start,
    end: only.start + reference.length,
    plain: false,
    raw: reference,
    field: 'reference',
    repository: ref.name,
    policy: undefined,
    currentTag: ref.tag,
    currentDigest: ref.digest,
    via: 'traced',
  };
}
