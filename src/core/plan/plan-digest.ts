import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical.ts';
import type { Manifest } from '../yaml/manifest.ts';
import { isSecret, normalizeForDiff, secretEntries } from './normalize.ts';
import { objectKey, type KubeObject } from '../objects.ts';
import type { Plan } from './plan.ts';

/**
 * What a plan showed, as two SHA-256 digests, so the apply after the merge can tell whether it is
 * about to do what reviewers saw, and if not, whether the repository's render or the cluster moved:
 * - `render`: every rendered object after normalization (normalize.ts), in canonical JSON;
 * - `changes`: each create/update/delete/orphan/error row with the lines its diff adds or removes.
 * Secret values enter neither in the clear nor hashed (a published hash of a short password can be
 * tested offline against guesses): a Secret counts by its key names, and by whether a value changes.
 *
 * A read-only plan's diffs are estimates (plan-mode.ts): without the server's defaults they differ
 * from a dry-run's for the same render and cluster, so its `changes` cannot equal a dry-run plan's.
 * Such a digest says so (`fidelity`), and the apply compares it with a read-only estimate of its
 * own plan, made the same way from the same live objects (job/reviewed-plan.ts), never with its
 * dry-run. The hash of a server plan is as it always was.
 */
export interface PlanDigest {
  readonly render: string;
  readonly changes: string;
  /** Set when some of the plan's objects were estimated rather than dry-run. */
  readonly fidelity?: 'read-only-estimate';
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function planDigest(manifests: readonly Manifest[], plan: Plan): PlanDigest {
  const objects = manifests.map((m) => canonicalJson(withoutSecretValues(normalizeForDiff(m.object)))).sort();
  const changes = plan.objects
    .filter((o) => o.action !== 'unchanged')
    .map((o) =>
      canonicalJson({
        action: o.action,
        object: objectKey(o.ref),
        // Context lines show live fields a controller may move between plan and apply: only the
        // lines the change itself adds or removes count.
        diff: o.diff.split('\n').filter((line) => /^[-+](?![-+]{2} )/.test(line)),
      }),
    )
    .sort();
  return {
    render: sha256(`[${objects.join(',')}]`),
    changes: sha256(`[${changes.join(',')}]`),
    ...(plan.fidelity ? { fidelity: 'read-only-estimate' as const } : {}),
  };
}

function withoutSecretValues(object: KubeObject): KubeObject {
  if (!isSecret(object)) return object;
  const { data: _data, stringData: _stringData, ...rest } = object;
  return { ...rest, secretKeys: [...secretEntries(object).keys()].sort() };
}

/** The short form people compare by eye: the first 12 hex digits of sha256(render + changes). */
export function shortDigest(digest: PlanDigest): string {
  return sha256(`${digest.render}:${digest.changes}`).slice(0, 12);
}

const MARKER = /^<!-- slipway:digest (\{[^\n]*?\}) -->$/m;

/** The hidden line a plan comment carries its digest in. */
export function digestLine(digest: PlanDigest): string {
  const { render, changes, fidelity } = digest;
  return `<!-- slipway:digest ${JSON.stringify({ render, changes, ...(fidelity ? { fidelity } : {}) })} -->`;
}

/** The digest a plan comment recorded, or undefined (an older comment, or none was made). */
export function readDigest(body: string): PlanDigest | undefined {
  const json = MARKER.exec(body)?.[1];
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as { render?: unknown; changes?: unknown; fidelity?: unknown };
    const hex = /^[0-9a-f]{64}$/;
    if (typeof value.render !== 'string' || typeof value.changes !== 'string') return undefined;
    if (!hex.test(value.render) || !hex.test(value.changes)) return undefined;
    const estimated =
      value.fidelity === 'read-only-estimate' ? { fidelity: 'read-only-estimate' as const } : {};
    return { render: value.render, changes: value.changes, ...estimated };
  } catch {
    return undefined;
  }
}
