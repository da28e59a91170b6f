// How kubectl reads one YAML scalar. kubectl, Helm and Flux turn YAML into JSON with
// sigs.k8s.io/yaml, which decodes with go-yaml v2: YAML 1.1 resolution with go-yaml's own quirks
// (`0400` is octal, `08` is the float 8, `yes`/`on`/`y` are booleans, `1e400` stays a string).
// These rules are read off go-yaml v2's resolve.go and sigs.k8s.io/yaml's key conversion; the
// integration test yaml11.test.ts checks them against the built kubectl.

/** A resolved scalar, typed as go-yaml types it (the JSON value and a key's spelling differ by type). */
export type Scalar =
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'null' }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'uint'; readonly value: bigint }
  | { readonly type: 'float'; readonly value: number };

export const TAG_PREFIX = 'tag:yaml.org,2002:';
const STR = `${TAG_PREFIX}str`;
const BINARY = `${TAG_PREFIX}binary`;
const TIMESTAMP = `${TAG_PREFIX}timestamp`;
const RESOLVABLE = new Set([
  '',
  STR,
  `${TAG_PREFIX}bool`,
  `${TAG_PREFIX}int`,
  `${TAG_PREFIX}float`,
  `${TAG_PREFIX}null`,
  TIMESTAMP,
]);

const WORDS = new Map<string, Scalar>();
const word = (scalar: Scalar, ...spellings: string[]): void => spellings.forEach((s) => WORDS.set(s, scalar));
word({ type: 'bool', value: true }, 'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON');
word(
  { type: 'bool', value: false },
  'n',
  'N',
  'no',
  'No',
  'NO',
  'false',
  'False',
  'FALSE',
  'off',
  'Off',
  'OFF',
);
word({ type: 'null' }, '', '~', 'null', 'Null', 'NULL');
word({ type: 'float', value: NaN }, '.nan', '.NaN', '.NAN');
word({ type: 'float', value: Infinity }, '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF');
word({ type: 'float', value: -Infinity }, '-.inf', '-.Inf', '-.INF');

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
// Go's ParseFloat on text starting with '.': underscores only between digits.
const DOT_FLOAT = /^\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?$/;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Thrown for a scalar kubectl refuses; the caller adds file and line. */
export class ScalarError extends Error {}

/**
 * Resolves a scalar as go-yaml v2 does: `tag` is the full tag ('' when none), `plain` whether the
 * scalar was written without quotes or block style.
 */
export function resolveScalar(text: string, tag: string, plain: boolean): Scalar {
  if (tag === '' && !plain) return { type: 'str', value: text };
  if (tag === BINARY) return { type: 'str', value: decodeBase64(text) };
  // A tag go-yaml does not know (`!foo`, `!`, `!!set`) leaves the text as it is.
  if (!RESOLVABLE.has(tag)) return { type: 'str', value: text };
  const resolved = tag === STR ? ({ type: 'str', value: text } as const) : implicit(text, tag);
  return checkTag(resolved, tag, text);
}

function implicit(text: string, tag: string): Scalar | { type: 'timestamp' } {
  const hint = text === '' ? 'N' : hintOf(text.charCodeAt(0));
  if (hint === '') return { type: 'str', value: text };
  const known = WORDS.get(text);
  if (known) return known;
  if (hint === '.') {
    if (DOT_FLOAT.test(text)) {
      const value = Number(text.replaceAll('_', ''));
      if (Number.isFinite(value)) return { type: 'float', value };
    }
    return { type: 'str', value: text };
  }
  if (hint !== 'D') return { type: 'str', value: text };
  if ((tag === '' || tag === TIMESTAMP) && isTimestamp(text)) return { type: 'timestamp' };
  return number(text.replaceAll('_', '')) ?? { type: 'str', value: text };
}

function hintOf(code: number): '' | 'D' | '.' | 'M' {
  if ((code >= 48 && code <= 57) || code === 43 || code === 45) return 'D'; // digits and signs
  if (code === 46) return '.';
  return 'yYnNtTfFoO~'.includes(String.fromCharCode(code)) ? 'M' : '';
}

function number(plain: string): Scalar | undefined {
  const signed = parseGoInt(plain);
  if (signed !== undefined) return { type: 'int', value: signed };
  const unsigned = parseGoUint(plain, 0);
  if (unsigned !== undefined) return { type: 'uint', value: unsigned };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const value = Number(plain);
    if (Number.isFinite(value)) return { type: 'float', value };
  }
  // go-yaml's own `0b` fallback parses the rest in base 2, sign included (`0b-101` is -5).
  if (plain.startsWith('0b')) {
    const rest = plain.slice(2);
    const binary = parseSigned(rest, 2);
    if (binary !== undefined) return { type: 'int', value: binary };
    const big = parseGoUint(rest, 2);
    if (big !== undefined) return { type: 'uint', value: big };
  } else if (plain.startsWith('-0b')) {
    const binary = parseSigned(`-${plain.slice(3)}`, 2);
    if (binary !== undefined) return { type: 'int', value: binary };
  }
  return undefined;
}

/** Go's strconv.ParseInt(s, 0, 64). */
function parseGoInt(s: string): bigint | undefined {
  return parseSigned(s, 0);
}

function parseSigned(s: string, base: 0 | 2): bigint | undefined {
  const negative = s.startsWith('-');
  const digits = s.startsWith('-') || s.startsWith('+') ? s.slice(1) : s;
  const magnitude = parseGoUint(digits, base);
  if (magnitude === undefined) return undefined;
  if (negative ? magnitude > INT64_MAX + 1n : magnitude > INT64_MAX) return undefined;
  return negative ? -magnitude : magnitude;
}

/** Go's strconv.ParseUint(s, base, 64) for base 0 (prefixes `0x`, `0o`, `0b`, `0`) or 2; no sign. */
function parseGoUint(s: string, base: 0 | 2): bigint | undefined {
  if (s === '') return undefined;
  let radix = base === 2 ? 2 : 10;
  let digits = s;
  if (base === 0 && s.startsWith('0')) {
    const prefix = s.length >= 3 ? s[1]?.toLowerCase() : undefined;
    radix = prefix === 'b' ? 2 : prefix === 'o' ? 8 : prefix === 'x' ? 16 : 8;
    digits = prefix === 'b' || prefix === 'o' || prefix === 'x' ? s.slice(2) : s.slice(1);
  }
  const valid = { 2: /^[01]*$/, 8: /^[0-7]*$/, 10: /^[0-9]*$/, 16: /^[0-9a-fA-F]*$/ }[radix];
  if (!valid?.test(digits)) return undefined;
  if (digits === '') return radix === 8 ? 0n : undefined; // "0" alone
  const prefix = { 2: '0b', 8: '0o', 10: '', 16: '0x' }[radix] ?? '';
  const value = BigInt(`${prefix}${digits}`);
  return value > UINT64_MAX ? undefined : value;
}

// go-yaml tries Go's time.Parse with "2006-1-2T15:4:5.999999999Z07:00" (and lower-case t),
// "2006-1-2 15:4:5.999999999" and "2006-1-2". Into a JSON value a timestamp stays its text, so
// this only decides whether an explicit `!!timestamp` is accepted.
const TIMESTAMP_FORMS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[-+]\d{2}:\d{2})$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2})$/,
];

function isTimestamp(text: string): boolean {
  for (const form of TIMESTAMP_FORMS) {
    const match = form.exec(text);
    if (!match) continue;
    const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
      .slice(1, 7)
      .map((part: string | undefined) => Number(part ?? 0));
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (month >= 1 && month <= 12 && day >= 1 && day <= days && hour < 24 && minute < 60 && second < 60)
      return true;
  }
  return false;
}

function checkTag(resolved: Scalar | { type: 'timestamp' }, tag: string, text: string): Scalar {
  const result: Scalar = resolved.type === 'timestamp' ? { type: 'str', value: text } : resolved;
  if (tag === '' || tag === STR) return result;
  const got = resolved.type === 'uint' ? 'int' : resolved.type;
  const wanted = tag.slice(TAG_PREFIX.length);
  if (got === wanted) return result;
  if (wanted === 'float' && resolved.type === 'int') return { type: 'float', value: Number(resolved.value) };
  throw new ScalarError(`cannot decode !!${got} \`${text}\` as a !!${wanted}`);
}

function decodeBase64(text: string): string {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new ScalarError('!!binary value contains invalid base64 data');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The JSON value kubectl makes of a scalar; NaN and infinities cannot be JSON. */
export function jsonValue(scalar: Scalar, text: string): unknown {
  switch (scalar.type) {
    case 'str':
    case 'bool':
      return scalar.value;
    case 'null':
      return null;
    case 'int':
    case 'uint':
      return Number(scalar.value);
    case 'float':
      if (!Number.isFinite(scalar.value)) {
        throw new ScalarError(
          `\`${text}\` is ${String(scalar.value)}, which JSON cannot carry (kubectl refuses it too)`,
        );
      }
      return scalar.value === 0 ? 0 : scalar.value; // -0 is 0 in JSON
  }
}

/** The string a map key becomes (sigs.k8s.io/yaml): `yes:` is "true", `0400:` is "256". */
export function keyString(scalar: Scalar, text: string): string {
  switch (scalar.type) {
    case 'str':
      return scalar.value;
    case 'bool':
      return String(scalar.value);
    case 'int':
      return scalar.value.toString();
    case 'float':
      return formatFloat32(scalar.value);
    case 'null':
    case 'uint':
      throw new ScalarError(
        `the key \`${text}\` reads as ${scalar.type === 'null' ? 'null' : 'an integer above 2^63'}, which kubectl refuses as a key; quote it`,
      );
  }
}

/** Go's strconv.FormatFloat(value, 'g', -1, 32), with go-yaml's names for the special values. */
export function formatFloat32(value: number): string {
  const single = Math.fround(value);
  if (Number.isNaN(single)) return '.nan';
  if (single === Infinity) return '.inf';
  if (single === -Infinity) return '-.inf';
  if (single === 0) return Object.is(single, -0) ? '-0' : '0';
  let exponential = single.toExponential();
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = single.toExponential(digits - 1);
    if (Math.fround(Number(candidate)) === single) {
      exponential = candidate;
      break;
    }
  }
  const [mantissa = '', exp = '0'] = exponential.split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace(/[-.]/g, '');
  const exponent = Number(exp);
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 6) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0] ?? ''}${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}
