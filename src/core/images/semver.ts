// Semantic versions and ranges as Flux's ImagePolicy reads them (Masterminds/semver): a leading
// `v` is allowed, comparators are ANDed by spaces or commas and ORed by `||`, with `^`, `~`, x-ranges
// and `a - b` hyphen ranges. A pre-release only satisfies a range that names a pre-release itself.

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

const VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** A strict `MAJOR.MINOR.PATCH[-pre][+build]` (with an optional `v`), or undefined. */
export function parseSemVer(text: string): SemVer | undefined {
  const match = VERSION.exec(text);
  if (!match) return undefined;
  const numbers = [match[1], match[2], match[3]].map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  const prerelease = match[4] ? match[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { major: numbers[0] ?? 0, minor: numbers[1] ?? 0, patch: numbers[2] ?? 0, prerelease };
}

export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 || b.prerelease.length === 0)
    return b.prerelease.length - a.prerelease.length === 0
      ? 0
      : Math.sign(a.prerelease.length === 0 ? 1 : -1);
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return Math.sign(x - y);
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';
interface Comparator {
  readonly op: Operator;
  readonly version: SemVer;
}
/** OR of ANDs. */
export type SemVerRange = readonly (readonly Comparator[])[];

const PARTIAL =
  /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z-.]+))?(?:\+[0-9A-Za-z-.]+)?$/;

/** Parses a range; throws an Error whose message says what is wrong. */
export function parseSemVerRange(text: string): SemVerRange {
  const alternatives = text.split('||').map((alt) => alt.trim());
  return alternatives.map((alt) => {
    if (alt === '' || alt === '*' || alt === 'x' || alt === 'X') return [];
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(alt);
    if (hyphen) return [...bound('>=', hyphen[1] ?? ''), ...bound('<=', hyphen[2] ?? '')];
    // `>= 1.2` is one comparator: glue operators to their version before splitting.
    const tokens = alt
      .replace(/([<>=~^!]+)\s+/g, '$1')
      .split(/[\s,]+/)
      .filter(Boolean);
    return tokens.flatMap(comparators);
  });
}

function comparators(token: string): Comparator[] {
  const match = /^(\^|~>?|[<>]=?|=|!=)?(.*)$/.exec(token);
  const op = match?.[1] ?? '';
  const rest = match?.[2] ?? '';
  switch (op) {
    case '^':
      return caret(rest);
    case '~':
    case '~>':
      return tilde(rest);
    case '!=':
      throw new Error(`"${token}": != is not supported; use a range that excludes the version`);
    case '':
    case '=':
      return bound('=', rest);
    default:
      return bound(op as Operator, rest);
  }
}

interface Partial {
  readonly parts: readonly (number | undefined)[];
  readonly prerelease: readonly (string | number)[];
}

function partial(text: string): Partial {
  const match = PARTIAL.exec(text);
  if (!match) throw new Error(`"${text}" is not a version`);
  const part = (s: string | undefined): number | undefined =>
    s === undefined || /^[xX*]$/.test(s) ? undefined : Number(s);
  const parts = [part(match[1]), part(match[2]), part(match[3])];
  // `1.x.3` means `1.x`: anything after a wildcard is a wildcard too.
  const firstWild = parts.indexOf(undefined);
  const normal = firstWild < 0 ? parts : parts.map((p, i) => (i >= firstWild ? undefined : p));
  const prerelease = match[4] ? match[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { parts: normal, prerelease };
}

const v = (
  major: number,
  minor: number,
  patch: number,
  prerelease: readonly (string | number)[] = [],
): SemVer => ({
  major,
  minor,
  patch,
  prerelease,
});

function bound(op: Operator, text: string): Comparator[] {
  const { parts, prerelease } = partial(text);
  const [major, minor, patch] = parts;
  if (major === undefined) return [];
  if (minor !== undefined && patch !== undefined)
    return [{ op, version: v(major, minor, patch, prerelease) }];
  // A partial version is the range it stands for: `<1.2` is `<1.2.0`, `<=1.2` is `<1.3.0`.
  const low = v(major, minor ?? 0, 0);
  const high = minor === undefined ? v(major + 1, 0, 0) : v(major, minor + 1, 0);
  switch (op) {
    case '=':
      return [
        { op: '>=', version: low },
        { op: '<', version: high },
      ];
    case '<':
    case '>=':
      return [{ op, version: low }];
    case '<=':
      return [{ op: '<', version: high }];
    case '>':
      return [{ op: '>=', version: high }];
  }
}

function caret(text: string): Comparator[] {
  const { parts, prerelease } = partial(text);
  const [major, minor, patch] = parts;
  if (major === undefined) return [];
  const low = v(major, minor ?? 0, patch ?? 0, prerelease);
  let high: SemVer;
  if (major > 0 || minor === undefined) high = v(major + 1, 0, 0);
  else if (minor > 0 || patch === undefined) high = v(0, minor + 1, 0);
  else high = v(0, 0, patch + 1);
  return [
    { op: '>=', version: low },
    { op: '<', version: high },
  ];
}

function tilde(text: string): Comparator[] {
  const { parts, prerelease } = partial(text);
  const [major, minor, patch] = parts;
  if (major === undefined) return [];
  const low = v(major, minor ?? 0, patch ?? 0, prerelease);
  const high = minor === undefined ? v(major + 1, 0, 0) : v(major, minor + 1, 0);
  return [
    { op: '>=', version: low },
    { op: '<', version: high },
  ];
}

function holds(comparator: Comparator, version: SemVer): boolean {
  const c = compareSemVer(version, comparator.version);
  switch (comparator.op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '=':
      return c === 0;
  }
}

export function satisfies(version: SemVer, range: SemVerRange): boolean {
  return range.some((all) => {
    if (!all.every((c) => holds(c, version))) return false;
    if (version.prerelease.length === 0) return true;
    // As npm and Masterminds do: a pre-release only matches a comparator on the same version.
    return all.some(
      (c) =>
        c.version.prerelease.length > 0 &&
        c.version.major === version.major &&
        c.version.minor === version.minor &&
        c.version.patch === version.patch,
    );
  });
}
