/**
 * The FPU's exact slow path: round a value given as an arbitrary-precision integer
 * significand times a power of two. Used only where the double-double fast paths in
 * `fpu.ts` cannot decide (operands or results near the ends of the exponent range),
 * so BigInt allocation here is acceptable.
 */

/** fflags bits (RISC-V unprivileged spec, "Accrued exceptions"). */
export const NV = 16;
export const DZ = 8;
export const OF = 4;
export const UF = 2;
export const NX = 1;

/** Rounding modes by rm value. */
export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;

const df = new Float64Array(1);
const du = new Uint32Array(df.buffer);

/** Integer significand of a finite nonzero double: |v| = significand(v) * 2^exponent(v). */
export function significand(v: number): bigint {
  df[0] = v;
  const hi = du[1];
  let m = (hi & 0xfffff) * 4294967296 + du[0];
  if ((hi & 0x7ff00000) !== 0) m += 4503599627370496;
  return BigInt(m);
}

/** Exponent of the significand's least significant bit for a finite nonzero double. */
export function exponent(v: number): number {
  df[0] = v;
  const ef = (du[1] >>> 20) & 0x7ff;
  return ef === 0 ? -1074 : ef - 1075;
}

function bitLength(m: bigint): number {
  return m.toString(2).length;
}

/** The result of an overflow under `rm`: infinity or the largest finite value, by sign. */
export function overflowValue(neg: boolean, rm: number, max: number): number {
  switch (rm) {
    case RTZ:
      return neg ? -max : max;
    case RDN:
      return neg ? Number.NEGATIVE_INFINITY : max;
    case RUP:
      return neg ? -max : Number.POSITIVE_INFINITY;
    default:
      return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
}

/** Round the magnitude m (> 0) at bit `shift` (> 0) under rm; returns the rounded quotient. */
function roundAt(m: bigint, shift: number, neg: boolean, rm: number): bigint {
  const s = BigInt(shift);
  let q = m >> s;
  const rem = m - (q << s);
  if (rem === 0n) return q;
  const half = 1n << (s - 1n);
  let up: boolean;
  switch (rm) {
    case RNE:
      up = rem > half || (rem === half && (q & 1n) === 1n);
      break;
    case RTZ:
      up = false;
      break;
    case RDN:
      up = neg;
      break;
    case RUP:
      up = !neg;
      break;
    default:
      up = rem >= half;
  }
  if (up) q += 1n;
  return q;
}

/** Flags raised by the last `roundExact` call. */
export const exactOut = { flags: 0 };

/**
 * Round (-1)^neg * (m + (sticky ? a positive amount below one unit : 0)) * 2^e (m > 0)
 * to binary64 under rm. Returns the result (+-Infinity on overflow when rm says so) and
 * sets `exactOut.flags` (NX, UF with tininess detected after rounding, OF), as IEEE
 * 754-2008 section 7 specifies.
 */
export function roundExact(neg: boolean, m: bigint, e: number, sticky: boolean, rm: number): number {
  const p = 53;
  const emin = -1022;
  const emax = 1023;
  let n = bitLength(m);
  if (sticky) {
    // Append a 1 bit far enough below the rounding position to act only as a sticky bit.
    const sh = Math.max(0, p + 3 - n) + 1;
    m = (m << BigInt(sh)) | 1n;
    e -= sh;
    n += sh;
  }
  const top = e + n - 1; // exponent of the most significant bit
  const qe = Math.max(top - p + 1, emin - p + 1); // exponent of the result's unit in the last place
  let q: bigint;
  let flags = 0;
  if (qe <= e) {
    q = m << BigInt(e - qe);
  } else {
    q = roundAt(m, qe - e, neg, rm);
    if (q << BigInt(qe - e) !== m) flags = NX;
  }
  // Overflow is judged on the result rounded with an unbounded exponent range.
  if (q !== 0n && bitLength(q) + qe - 1 > emax) {
    exactOut.flags = OF | NX;
    return overflowValue(neg, rm, Number.MAX_VALUE);
  }
  if (flags !== 0 && top < emin) {
    // Tininess after rounding: round to p bits with an unbounded exponent and compare with 2^emin.
    const qeu = top - p + 1;
    if (qeu <= e || bitLength(roundAt(m, qeu - e, neg, rm)) + qeu - 1 < emin) flags |= UF;
  }
  exactOut.flags = flags;
  const v = Number(q) * 2 ** qe;
  return neg ? -v : v;
}
