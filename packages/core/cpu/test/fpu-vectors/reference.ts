/**
 * An independent, slow reference for IEEE 754 rounding in all five RISC-V modes,
 * written directly from the standard's definitions with exact rational arithmetic on
 * BigInt. It shares no code with the FPU. The tests check it against the hardware
 * vectors in the four modes x86 has, then use it as the oracle for RMM.
 */

/** A binary format: precision p (with the implicit bit), exponent range, field widths. */
export interface Format {
  p: number;
  emin: number;
  emax: number;
  expBits: number;
}

export const BINARY32: Format = { p: 24, emin: -126, emax: 127, expBits: 8 };
export const BINARY64: Format = { p: 53, emin: -1022, emax: 1023, expBits: 11 };

/** An exact value num / den with den > 0; `negZero` gives the sign when num is 0. */
export interface Exact {
  num: bigint;
  den: bigint;
  negZero?: boolean;
}

/** The result of rounding: encoded bits (BigInt) and RISC-V fflags. */
export interface Rounded {
  bits: bigint;
  flags: number;
}

const bitlen = (v: bigint): number => (v === 0n ? 0 : v.toString(2).length);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Decode a finite binary value to an exact rational; undefined for inf/NaN. */
export function decode(bits: bigint, f: Format): Exact | undefined {
  const fracBits = BigInt(f.p - 1);
  const expMask = (1n << BigInt(f.expBits)) - 1n;
  const neg = (bits >> (fracBits + BigInt(f.expBits))) & 1n;
  const e = (bits >> fracBits) & expMask;
  const frac = bits & ((1n << fracBits) - 1n);
  if (e === expMask) return undefined;
  const bias = BigInt(f.emax);
  const m = e === 0n ? frac : frac | (1n << fracBits);
  const scale = (e === 0n ? 1n : e) - bias - fracBits; // value = m * 2^scale
  let num = m;
  let den = 1n;
  if (scale >= 0n) num <<= scale;
  else den <<= -scale;
  return { num: neg ? -num : num, den, negZero: neg === 1n };
}

/** Is num/den >= 2^k ? (num, den > 0) */
function atLeastPow2(num: bigint, den: bigint, k: number): boolean {
  return k >= 0 ? num >= den << BigInt(k) : num << BigInt(-k) >= den;
}

/**
 * Round a/den (a > 0) to an integer multiple of 2^q under rm; returns the multiplier and
 * whether it was inexact.
 */
function roundToMultiple(a: bigint, den: bigint, q: number, neg: boolean, rm: number): [bigint, boolean] {
  let n = a;
  let d = den;
  if (q >= 0) d <<= BigInt(q);
  else n <<= BigInt(-q);
  const k = n / d;
  const r = n - k * d;
  if (r === 0n) return [k, false];
  const twice = 2n * r;
  let up: boolean;
  if (rm === 0) up = twice > d || (twice === d && (k & 1n) === 1n);
  else if (rm === 1) up = false;
  else if (rm === 2) up = neg;
  else if (rm === 3) up = !neg;
  else up = twice >= d;
  return [up ? k + 1n : k, true];
}

/** Round an exact value into format f under rm (0 RNE, 1 RTZ, 2 RDN, 3 RUP, 4 RMM). */
export function roundExactValue(x: Exact, f: Format, rm: number): Rounded {
  const signShift = BigInt(f.p - 1 + f.expBits);
  if (x.num === 0n) return { bits: x.negZero ? 1n << signShift : 0n, flags: 0 };
  const neg = x.num < 0n;
  const a = abs(x.num);
  const sign = neg ? 1n << signShift : 0n;
  // E with 2^E <= |x| < 2^(E+1)
  let e = bitlen(a) - bitlen(x.den);
  if (!atLeastPow2(a, x.den, e)) e--;
  const q = Math.max(e, f.emin) - f.p + 1;
  const first = roundToMultiple(a, x.den, q, neg, rm);
  let m = first[0];
  const inexact = first[1];
  let flags = inexact ? 1 : 0;
  const expMax = (1n << BigInt(f.expBits)) - 1n;
  const fracBits = BigInt(f.p - 1);
  if (bitlen(m) + q - 1 > f.emax) {
    // Overflow: infinity, or the largest finite value when rounding towards zero from it.
    const toInf = rm === 0 || rm === 4 || (rm === 2 && neg) || (rm === 3 && !neg);
    const maxFinite = ((expMax - 1n) << fracBits) | ((1n << fracBits) - 1n);
    return { bits: sign | (toInf ? expMax << fracBits : maxFinite), flags: 4 | 1 };
  }
  if (inexact && e < f.emin) {
    // Tiny after rounding: the result rounded to p bits with an unbounded exponent.
    const qu = e - f.p + 1;
    const [mu] = roundToMultiple(a, x.den, qu, neg, rm);
    if (bitlen(mu) + qu - 1 < f.emin) flags |= 2;
  }
  if (m === 0n) return { bits: sign, flags };
  let qq = q;
  if (bitlen(m) > f.p) {
    m >>= 1n;
    qq++;
  }
  if (bitlen(m) === f.p) {
    const biased = BigInt(qq + f.p - 1 + f.emax);
    return { bits: sign | (biased << fracBits) | (m - (1n << fracBits)), flags };
  }
  return { bits: sign | m, flags };
}

/** Exact sum of two rationals. */
export function add(x: Exact, y: Exact): Exact {
  return { num: x.num * y.den + y.num * x.den, den: x.den * y.den };
}

/** Exact product. */
export function mul(x: Exact, y: Exact): Exact {
  return {
    num: x.num * y.num,
    den: x.den * y.den,
    negZero: (x.num < 0n || !!x.negZero) !== (y.num < 0n || !!y.negZero),
  };
}

/** Exact quotient (y != 0). */
export function div(x: Exact, y: Exact): Exact {
  const num = x.num * y.den;
  const den = x.den * y.num;
  return den < 0n ? { num: -num, den: -den } : { num, den };
}

/** Negation. */
export function neg(x: Exact): Exact {
  return { num: -x.num, den: x.den, negZero: !x.negZero };
}

/**
 * sqrt(x) for x > 0 with a denominator that is a power of two, as an exact value or a
 * stand-in that rounds identically in every mode: floor(sqrt) scaled to at least p + 3
 * bits, plus one half when inexact (the rounding point is never that close).
 */
export function sqrt(x: Exact, f: Format): Exact {
  let k = bitlen(x.den) - 1; // x = num / 2^k
  let n = x.num;
  if (k % 2 !== 0) {
    n <<= 1n;
    k++;
  }
  const extra = 2 * (f.p + 8) + Math.max(0, bitlen(x.den) - bitlen(n));
  n <<= BigInt(2 * extra);
  k += 2 * extra;
  // Integer square root by Newton's iteration from an overestimate.
  let s = 1n << BigInt((bitlen(n) + 1) >> 1);
  for (;;) {
    const t = (s + n / s) >> 1n;
    if (t >= s) break;
    s = t;
  }
  while (s * s > n) s--;
  while ((s + 1n) * (s + 1n) <= n) s++;
  const half = k / 2;
  if (s * s === n) return { num: s, den: 1n << BigInt(half) };
  return { num: 2n * s + 1n, den: 1n << BigInt(half + 1) };
}

/**
 * Round an exact value to an integer under rm, for conversions: the integer and
 * whether it was inexact.
 */
export function roundToInteger(x: Exact, rm: number): [bigint, boolean] {
  if (x.num === 0n) return [0n, false];
  const negative = x.num < 0n;
  const [m, inexact] = roundToMultiple(abs(x.num), x.den, 0, negative, rm);
  return [negative ? -m : m, inexact];
}
