// How kubectl cuts a file into documents (k8s.io/apimachinery's YAMLReader), before any YAML is
// parsed: at every line starting with `---`, refusing such a line with more than a comment after
// it; go-yaml then reads only the first document of each piece. Slipway parses the whole file at
// once, so what that cut refuses, or would silently drop, is checked here and made an error.
import type { Event } from 'js-yaml';
import { EVENT, KubectlYamlError } from './yaml-kubectl.ts';

const SEPARATOR_HINT =
  'kubectl cuts a file into documents at each line starting with `---`, before reading any YAML';

/** A `---` line with more than a comment after it, which kubectl refuses. */
export function assertKubectlSeparators(text: string): void {
  for (const match of text.matchAll(/^---([^\n]*)$/gm)) {
    const rest = (match[1] ?? '').trim();
    if (rest !== '' && !rest.startsWith('#')) {
      throw new KubectlYamlError(
        `kubectl refuses a line starting with \`---\` and followed by anything but a comment ("${rest.slice(0, 40)}")`,
        match.index,
        `${SEPARATOR_HINT}: put the document on the next line`,
      );
    }
  }
}

/** Documents kubectl cannot read, or would silently skip, after the cut at `---` lines. */
export function assertKubectlDocuments(events: Event[]): void {
  let seen = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event?.type !== EVENT.DOCUMENT) continue;
    const offset = contentOffset(events, i + 1);
    if (event.directives.length > 0) {
      throw new KubectlYamlError(
        'kubectl cannot read a `%YAML` or `%TAG` directive',
        offset,
        `${SEPARATOR_HINT}: remove the directive`,
      );
    }
    if (seen > 0 && !event.explicitStart) {
      throw new KubectlYamlError(
        'a document after `...` with no `---` line: kubectl would silently skip it (it reads one document per `---`)',
        offset,
        `${SEPARATOR_HINT}: start the document with \`---\``,
      );
    }
    seen++;
  }
}

function contentOffset(events: Event[], from: number): number {
  const event = events[from];
  if (!event) return 0;
  if (event.type === EVENT.SCALAR) return event.valueStart;
  if (event.type === EVENT.MAPPING || event.type === EVENT.SEQUENCE) return event.start;
  if (event.type === EVENT.ALIAS) return event.anchorStart;
  return 0;
}
