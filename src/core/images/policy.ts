// `image-policies:` in slipway.yaml, named and shaped after Flux's ImagePolicy (spec.policy.semver.range,
// alphabetical.order, numerical.order, filterTags.pattern/extract) so a policy copies across.

import { isPlainObject } from '../objects.ts';
import { parseSemVerRange, type SemVerRange } from './semver.ts';

export type TagOrder =
  | { readonly kind: 'semver'; readonly range: string; readonly parsed: SemVerRange }
  | { readonly kind: 'alphabetical' | 'numerical'; readonly order: 'asc' | 'desc' };

export interface ImagePolicy {
  /** The key under `image-policies:`; what a `{"$imagepolicy": "ns:name"}` marker names. */
  readonly name: string;
  /** Image repository without tag (`ghcr.io/acme/web`, `nginx`). */
  readonly image: string;
  readonly order: TagOrder;
  /** Only tags matching this are candidates (Go's `(?P<name>…)` groups accepted). */
  readonly pattern: RegExp | undefined;
  /** What of the match is compared: `$name`, `${name}` or `$1`; the whole tag when absent. */
  readonly extract: string | undefined;
  /** Write `tag@sha256:…` so the deployed image cannot change under the same tag. */
  readonly pinDigest: boolean;
  /** Talk plain HTTP to the registry (Flux's `insecure`). */
  readonly insecure: boolean;
  /** Environments the policy applies to; every environment when absent. */
  readonly environments: readonly string[] | undefined;
}

const POLICY_KEYS = new Set(['image', 'policy', 'filterTags', 'pinDigest', 'insecure', 'environments']);
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IMAGE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

type Problem = (keyPath: string, message: string) => void;

/** Pure: the `image-policies:` mapping → policies, reporting each problem at its key path. */
export function parseImagePolicies(raw: unknown, problem: Problem): ImagePolicy[] {
  if (raw === undefined || raw === null) return [];
  if (!isPlainObject(raw)) {
    problem('image-policies', '`image-policies:` must map policy names to { image, policy }');
    return [];
  }
  const policies: ImagePolicy[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const policy = parsePolicy(name, value, `image-policies.${name}`, problem);
    if (policy) policies.push(policy);
  }
  return policies;
}

function parsePolicy(name: string, value: unknown, at: string, problem: Problem): ImagePolicy | undefined {
  if (!NAME.test(name) || name.length > 63)
    problem(at, `image policy name "${name}" must be lowercase letters, digits and '-'`);
  if (!isPlainObject(value)) {
    problem(at, `image policy "${name}" must be a mapping with \`image:\` and \`policy:\``);
    return undefined;
  }
  for (const key of Object.keys(value))
    if (!POLICY_KEYS.has(key))
      problem(
        `${at}.${key}`,
        `unknown key "${key}" in image policy "${name}" (allowed: ${[...POLICY_KEYS].join(', ')})`,
      );
  const image = value['image'];
  if (typeof image !== 'string' || !IMAGE.test(image) || image.includes('@')) {
    problem(
      `${at}.image`,
      `image policy "${name}" needs \`image:\`, a repository without tag (ghcr.io/acme/web)`,
    );
  }
  const order = parseOrder(value['policy'], `${at}.policy`, name, problem);
  const { pattern, extract } = parseFilter(value['filterTags'], `${at}.filterTags`, name, problem);
  const pinDigest = flag(value, 'pinDigest', at, problem);
  const insecure = flag(value, 'insecure', at, problem);
  const envs = value['environments'];
  if (envs !== undefined && (!Array.isArray(envs) || !envs.every((e) => typeof e === 'string')))
    problem(`${at}.environments`, '`environments` must be a list of environment names');
  if (typeof image !== 'string' || !order) return undefined;
  return {
    name,
    image,
    order,
    pattern,
    extract,
    pinDigest,
    insecure,
    environments: Array.isArray(envs) ? envs.map(String) : undefined,
  };
}

function flag(value: Record<string, unknown>, key: string, at: string, problem: Problem): boolean {
  const raw = value[key];
  if (raw !== undefined && typeof raw !== 'boolean')
    problem(`${at}.${key}`, `\`${key}\` must be true or false`);
  return raw === true;
}

function parseOrder(raw: unknown, at: string, name: string, problem: Problem): TagOrder | undefined {
  const kinds = isPlainObject(raw) ? Object.keys(raw) : [];
  if (!isPlainObject(raw) || kinds.length !== 1) {
    problem(
      at,
      `image policy "${name}" needs \`policy:\` with exactly one of semver, alphabetical, numerical`,
    );
    return undefined;
  }
  const kind = kinds[0] ?? '';
  const body = raw[kind];
  if (kind === 'semver') {
    const range = isPlainObject(body) ? body['range'] : undefined;
    if (typeof range !== 'string') {
      problem(`${at}.semver`, '`semver:` needs `range:` (for example ">=1.0.0 <2.0.0")');
      return undefined;
    }
    try {
      return { kind, range, parsed: parseSemVerRange(range) };
    } catch (error) {
      problem(
        `${at}.semver`,
        `semver range "${range}": ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    }
  }
  if (kind === 'alphabetical' || kind === 'numerical') {
    const order = isPlainObject(body) ? (body['order'] ?? 'asc') : body === null ? 'asc' : undefined;
    if (order !== 'asc' && order !== 'desc') {
      problem(`${at}.${kind}`, '`order` must be asc or desc');
      return undefined;
    }
    return { kind, order };
  }
  problem(`${at}.${kind}`, `unknown policy "${kind}" (allowed: semver, alphabetical, numerical)`);
  return undefined;
}

function parseFilter(
  raw: unknown,
  at: string,
  name: string,
  problem: Problem,
): { pattern: RegExp | undefined; extract: string | undefined } {
  if (raw === undefined) return { pattern: undefined, extract: undefined };
  if (!isPlainObject(raw) || typeof raw['pattern'] !== 'string') {
    problem(at, `image policy "${name}": \`filterTags\` needs \`pattern:\`, a regular expression`);
    return { pattern: undefined, extract: undefined };
  }
  const extract = raw['extract'];
  if (extract !== undefined && typeof extract !== 'string')
    problem(`${at}.extract`, '`extract` must be a string such as $version');
  let pattern: RegExp | undefined;
  try {
    // Flux's patterns are Go regular expressions: `(?P<name>…)` is `(?<name>…)` here.
    pattern = new RegExp(raw['pattern'].replaceAll('(?P<', '(?<'), 'u');
  } catch (error) {
    problem(`${at}.pattern`, `invalid pattern: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { pattern, extract: typeof extract === 'string' ? extract : undefined };
}
