/**
 * Kubernetes resource quantities (`250m`, `0.25`, `1Gi`, `1024Mi`, `1e3`) compared by value: the API
 * server stores them in a canonical form (`0.25` becomes `250m`, `1024Mi` becomes `1Gi`), so Git's
 * spelling and the live one differ while the apply would change nothing.
 */

const SUFFIXES: ReadonlyMap<string, { base: bigint; power: number }> = new Map([
  ['n', { base: 10n, power: -9 }],
  ['u', { base: 10n, power: -6 }],
  ['m', { base: 10n, power: -3 }],
  ['', { base: 10n, power: 0 }],
  ['k', { base: 10n, power: 3 }],
  ['M', { base: 10n, power: 6 }],
  ['G', { base: 10n, power: 9 }],
  ['T', { base: 10n, power: 12 }],
  ['P', { base: 10n, power: 15 }],
  ['E', { base: 10n, power: 18 }],
  ['Ki', { base: 1024n, power: 1 }],
  ['Mi', { base: 1024n, power: 2 }],
  ['Gi', { base: 1024n, power: 3 }],
  ['Ti', { base: 1024n, power: 4 }],
  ['Pi', { base: 1024n, power: 5 }],
  ['Ei', { base: 1024n, power: 6 }],
]);

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** The value as a fraction, or undefined when it is not a quantity. */
function parse(value: unknown): { num: bigint; den: bigint } | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, sign = '', digits = '', exponent, suffix = ''] = match;
  const [whole = '', fraction = ''] = digits.split('.');
  let num = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  const { base, power } = exponent
    ? { base: 10n, power: Number(exponent.slice(1)) }
    : (SUFFIXES.get(suffix) ?? { base: 10n, power: 0 });
  if (power >= 0) num *= base ** BigInt(power);
  else den *= base ** BigInt(-power);
  return { num, den };
}

const DECIMAL_SUFFIX: ReadonlyMap<number, string> = new Map([
  [-9, 'n'],
  [-6, 'u'],
  [-3, 'm'],
  [0, ''],
  [3, 'k'],
  [6, 'M'],
  [9, 'G'],
  [12, 'T'],
  [15, 'P'],
  [18, 'E'],
]);
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/**
 * The form the API server stores a quantity in (apimachinery's `CanonicalizeBytes`): rounded up to
 * a nano, or with `milli` to a milli (core v1 defaults every ResourceList, requests/limits/hard…,
 * that way: `SetDefaults_ResourceList`); Ki/Mi/… kept binary when whole and at least 1024, as the largest power of 1024 that
 * divides it; otherwise the largest power of 1000 (`n` … `E`, or `eN` for a quantity written with
 * an exponent) that leaves a whole mantissa. Undefined when it is not a quantity.
 */
export function canonicalQuantity(value: unknown, milli = false): string | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = QUANTITY.exec(text.trim());
  const parsed = parse(text);
  if (!match || !parsed) return undefined;
  const exponentForm = match[3] !== undefined;
  const binary = (match[4] ?? '').endsWith('i');
  const negative = parsed.num < 0n;
  const magnitude = negative ? -parsed.num : parsed.num;
  // Nanos, rounded up (away from zero), as the server rounds what it cannot hold.
  const step = milli ? 1_000_000n : 1n;
  let nanos = ((magnitude * 1_000_000_000n + parsed.den * step - 1n) / (parsed.den * step)) * step;
  const sign = negative && nanos > 0n ? '-' : '';
  const whole = nanos % 1_000_000_000n === 0n;
  if (binary && whole && nanos >= 1024n * 1_000_000_000n) {
    let units = nanos / 1_000_000_000n;
    let power = 0;
    while (power < 6 && units % 1024n === 0n) {
      units /= 1024n;
      power++;
    }
    return `${sign}${units}${BINARY_SUFFIX[power] ?? ''}`;
  }
  let exponent = -9;
  while (exponent < 18 && nanos !== 0n && nanos % 1000n === 0n) {
    nanos /= 1000n;
    exponent += 3;
  }
  if (nanos === 0n) return '0';
  if (exponentForm) return `${sign}${nanos}${exponent === 0 ? '' : `e${exponent}`}`;
  return `${sign}${nanos}${DECIMAL_SUFFIX.get(exponent) ?? ''}`;
}
