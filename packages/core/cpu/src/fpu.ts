/**
 * The F and D extensions' computational instructions (RISC-V unprivileged spec,
 * chapters "F" and "D"; IEEE 754-2008), bit-exact in all five rounding modes.
 *
 * How results are made exact without a native fma or directed rounding: JavaScript
 * gives the binary64 round-to-nearest-even result r of one operation; an exact error
 * term (TwoSum for +, Dekker's TwoProduct for *, the remainder a - q*b for /, a - s*s
 * for sqrt) tells on which side of r the exact value lies and whether it is a tie, and
 * `dirD` moves r by one ulp where the rounding mode wants the other neighbour.
 * binary32 operations compute an exact double-double (or a double plus the sign of
 * the rest) and round it with `roundS`. Operands or results near the ends of the
 * binary64 exponent range, where the error terms stop being exact, take the BigInt
 * path in `fpu/exact.ts`.
 */
import {
  DZ,
  exactOut,
  exponent,
  NV,
  NX,
  OF,
  overflowValue,
  RDN,
  RMM,
  RNE,
  RTZ,
  RUP,
  roundExact,
  significand,
  UF,
} from "./fpu/exact.js";

export { DZ, NV, NX, OF, UF } from "./fpu/exact.js";

/** Veltkamp splitter for binary64: 2^27 + 1. */
const SPLIT = 134217729;
/** u(1 + 2u) for u = 2^-53: r + PHI*r is r's successor away from zero (see dirD). */
const PHI = 2 ** -53 + 2 ** -105;
const MAX_D = Number.MAX_VALUE;
const MAX_S = 3.4028234663852886e38;
/** Smallest normal binary32. */
const MIN_S = 2 ** -126;
/** Smallest subnormal binary32. */
const TINY_S = 2 ** -149;
/** The binary32 grid point past MAX_S, used while rounding. */
const TWO128 = 2 ** 128;
/** Fast-path bounds: inside them the error terms of * and / are exact binary64 values. */
const LOW = 2 ** -960;
const HIGH = 2 ** 960;
/** Fast-path bound on fma's product and addend: their sum and its neighbours stay finite. */
const BIG = 2 ** 1020;
/** Operand bound under which Veltkamp splitting cannot overflow. */
const SPLIT_MAX = 2 ** 995;
/** Scale factor for a stand-in error term: far below half an ulp, never zero. */
const STANDIN = 2 ** -60;
const INT32_LIMIT = 2147483648;
/** fma variants: negate the product (FNMSUB, FNMADD) and/or the addend (FMSUB, FNMADD). */
const NEG_PRODUCT = 1;
const NEG_C = 2;
const UINT32_LIMIT = 4294967296;
const INT64_LIMIT = 2 ** 63;
const UINT64_LIMIT = 2 ** 64;

/** Thrown once, at construction, on a host whose typed arrays are not little-endian. */
export class FpuError extends Error {
  override readonly name = "FpuError";
  /** Stable, machine-readable error code. */
  readonly code = "FPU_BIG_ENDIAN_HOST";
}

/**
 * The floating-point unit of one hart: 32 registers of 64 bits, fflags and frm, and one
 * method per F/D computational instruction. Methods that take an `rm` field return
 * false when the rounding mode is reserved (rm 5 or 6, or rm 7 with frm > 4): the CPU
 * then raises an illegal-instruction exception and nothing has changed.
 */
export class Fpu {
  /** The register file as binary64 values. */
  readonly f64: Float64Array;
  /** The register file as 32-bit words: u32[2i] low, u32[2i + 1] high. */
  readonly u32: Uint32Array;
  /** The hart's integer registers as (low, high) 32-bit word pairs. */
  readonly x: Int32Array;
  /** Accrued exception flags: NV 16, DZ 8, OF 4, UF 2, NX 1. */
  fflags = 0;
  /** Dynamic rounding mode (0 RNE, 1 RTZ, 2 RDN, 3 RUP, 4 RMM; 5..7 reserved). */
  frm = 0;

  private readonly sf = new Float32Array(1);
  private readonly su = new Uint32Array(this.sf.buffer);
  private readonly df = new Float64Array(1);
  private readonly du = new Uint32Array(this.df.buffer);

  /** Share the hart's integer registers `x` (Int32Array(64)). */
  constructor(x: Int32Array) {
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
      throw new FpuError(
        "hvkit's FPU lays registers out as little-endian words; run it on a little-endian host",
      );
    }
    const buf = new ArrayBuffer(32 * 8);
    this.f64 = new Float64Array(buf);
    this.u32 = new Uint32Array(buf);
    this.x = x;
  }

  /** Zero the registers, fflags and frm (hart reset). */
  reset(): void {
    this.f64.fill(0);
    this.fflags = 0;
    this.frm = 0;
  }

  // ---- register access for loads, stores and the CPU ----

  /** Write a binary32 bit pattern to f[rd], NaN-boxed (FLW, FMV.W.X). */
  writeSingleBits(rd: number, bits: number): void {
    this.u32[2 * rd] = bits;
    this.u32[2 * rd + 1] = 0xffffffff;
  }

  /** Write a binary64 bit pattern to f[rd] (FLD, FMV.D.X). */
  writeDoubleBits(rd: number, lo: number, hi: number): void {
    this.u32[2 * rd] = lo;
    this.u32[2 * rd + 1] = hi;
  }

  /** The low 32 bits of f[rs], unsigned, whether NaN-boxed or not (FSW stores them as is). */
  readSingleBits(rs: number): number {
    return this.u32[2 * rs];
  }

  /** The low word of f[rs] (FSD). */
  readDoubleLo(rs: number): number {
    return this.u32[2 * rs];
  }

  /** The high word of f[rs] (FSD). */
  readDoubleHi(rs: number): number {
    return this.u32[2 * rs + 1];
  }

  // ---- D: arithmetic ----

  /** FADD.D */
  faddD(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.addD(rd, rs1, rs2, false, rm);
    return true;
  }

  /** FSUB.D */
  fsubD(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.addD(rd, rs1, rs2, true, rm);
    return true;
  }

  /** FMUL.D */
  fmulD(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    let r = a * b;
    const ar = Math.abs(r);
    if (ar >= LOW && ar <= BIG && Math.abs(a) < SPLIT_MAX && Math.abs(b) < SPLIT_MAX) {
      let t = SPLIT * a;
      const ah = t - (t - a);
      const al = a - ah;
      t = SPLIT * b;
      const bh = t - (t - b);
      const bl = b - bh;
      const err = ah * bh - r + ah * bl + al * bh + al * bl;
      if (err !== 0) {
        this.fflags |= NX;
        if (rm !== RNE) r = this.dirD(r, err, rm);
      }
      this.f64[rd] = r;
    } else this.mulSlowD(rd, rs1, rs2, rm);
    return true;
  }

  /** FDIV.D */
  fdivD(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    let q = a / b;
    const aa = Math.abs(a);
    const ab = Math.abs(b);
    const aq = Math.abs(q);
    if (aa >= LOW && aa <= HIGH && ab >= LOW && ab <= HIGH && aq >= LOW && aq <= HIGH) {
      // a - q*b is exactly representable (no underflow here), and so is each step.
      let t = SPLIT * q;
      const qh = t - (t - q);
      const ql = q - qh;
      t = SPLIT * b;
      const bh = t - (t - b);
      const bl = b - bh;
      const p = q * b;
      const e = qh * bh - p + qh * bl + ql * bh + ql * bl;
      const rem = a - p - e;
      if (rem !== 0) {
        this.fflags |= NX;
        // A quotient in the normal range is never a tie: a stand-in error with rem's sign suffices.
        if (rm !== RNE) q = this.dirD(q, (rem > 0 === b > 0 ? aq : -aq) * STANDIN, rm);
      }
      this.f64[rd] = q;
    } else this.divSlowD(rd, rs1, rs2, rm);
    return true;
  }

  /** FSQRT.D */
  fsqrtD(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    let a = this.f64[rs1];
    if (a > 0 && a < Number.POSITIVE_INFINITY) {
      // Scale by an even power of two into the range where a - s*s is exact; sqrt of a
      // binary64 is always normal, so scaling back is exact.
      let back = 1;
      if (a < LOW) {
        a *= 2 ** 1000;
        back = 2 ** -500;
      } else if (a > HIGH) {
        a *= 2 ** -200;
        back = 2 ** 100;
      }
      let s = Math.sqrt(a);
      const t = SPLIT * s;
      const sh = t - (t - s);
      const sl = s - sh;
      const p = s * s;
      const e = sh * sh - p + 2 * sh * sl + sl * sl;
      const rem = a - p - e;
      if (rem !== 0) {
        this.fflags |= NX;
        // sqrt is never a tie.
        if (rm !== RNE) s = this.dirD(s, (rem > 0 ? s : -s) * STANDIN, rm);
      }
      this.f64[rd] = s * back;
    } else if (a === 0) {
      this.f64[rd] = a;
    } else if (a === Number.POSITIVE_INFINITY) {
      this.f64[rd] = a;
    } else {
      // NaN or negative: NV unless a quiet NaN.
      if (!Number.isNaN(a) || this.snanD(rs1)) this.fflags |= NV;
      this.nanD(rd);
    }
    return true;
  }

  /** FMADD.D: rs1*rs2 + rs3, rounded once. */
  fmaddD(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaD(rd, rs1, rs2, rs3, 0, rm);
    return true;
  }

  /** FMSUB.D: rs1*rs2 - rs3, rounded once. */
  fmsubD(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaD(rd, rs1, rs2, rs3, NEG_C, rm);
    return true;
  }

  /** FNMSUB.D: -(rs1*rs2) + rs3, rounded once. */
  fnmsubD(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaD(rd, rs1, rs2, rs3, NEG_PRODUCT, rm);
    return true;
  }

  /** FNMADD.D: -(rs1*rs2) - rs3, rounded once. */
  fnmaddD(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaD(rd, rs1, rs2, rs3, NEG_PRODUCT | NEG_C, rm);
    return true;
  }

  // ---- D: sign injection, min/max, compare, classify, moves ----

  /** FSGNJ.D (raw bits, no NaN canonicalization). */
  fsgnjD(rd: number, rs1: number, rs2: number): void {
    const u = this.u32;
    const hi = (u[2 * rs1 + 1] & 0x7fffffff) | (u[2 * rs2 + 1] & 0x80000000);
    u[2 * rd] = u[2 * rs1];
    u[2 * rd + 1] = hi;
  }

  /** FSGNJN.D */
  fsgnjnD(rd: number, rs1: number, rs2: number): void {
    const u = this.u32;
    const hi = (u[2 * rs1 + 1] & 0x7fffffff) | (~u[2 * rs2 + 1] & 0x80000000);
    u[2 * rd] = u[2 * rs1];
    u[2 * rd + 1] = hi;
  }

  /** FSGNJX.D */
  fsgnjxD(rd: number, rs1: number, rs2: number): void {
    const u = this.u32;
    const hi = u[2 * rs1 + 1] ^ (u[2 * rs2 + 1] & 0x80000000);
    u[2 * rd] = u[2 * rs1];
    u[2 * rd + 1] = hi;
  }

  /** FMIN.D (IEEE 754-2019 minimumNumber; -0 < +0). */
  fminD(rd: number, rs1: number, rs2: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if (Number.isNaN(a) || Number.isNaN(b)) this.minMaxNanD(rd, a, b, rs1, rs2);
    else this.f64[rd] = a < b || (a === b && 1 / a < 0) ? a : b;
  }

  /** FMAX.D (IEEE 754-2019 maximumNumber; +0 > -0). */
  fmaxD(rd: number, rs1: number, rs2: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if (Number.isNaN(a) || Number.isNaN(b)) this.minMaxNanD(rd, a, b, rs1, rs2);
    else this.f64[rd] = a > b || (a === b && 1 / a > 0) ? a : b;
  }

  /** FEQ.D: quiet compare, NV only for signaling NaNs. */
  feqD(rd: number, rs1: number, rs2: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if ((Number.isNaN(a) || Number.isNaN(b)) && (this.snanD(rs1) || this.snanD(rs2))) this.fflags |= NV;
    this.setX(rd, a === b ? 1 : 0, 0);
  }

  /** FLT.D: signaling compare, NV for any NaN. */
  fltD(rd: number, rs1: number, rs2: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if (Number.isNaN(a) || Number.isNaN(b)) this.fflags |= NV;
    this.setX(rd, a < b ? 1 : 0, 0);
  }

  /** FLE.D: signaling compare, NV for any NaN. */
  fleD(rd: number, rs1: number, rs2: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if (Number.isNaN(a) || Number.isNaN(b)) this.fflags |= NV;
    this.setX(rd, a <= b ? 1 : 0, 0);
  }

  /** FCLASS.D: the 10-bit class mask. */
  fclassD(rd: number, rs1: number): void {
    const hi = this.u32[2 * rs1 + 1];
    const frac = (hi & 0xfffff) | this.u32[2 * rs1];
    const e = (hi >>> 20) & 0x7ff;
    const neg = hi >>> 31 !== 0;
    let bit: number;
    if (e === 0x7ff) bit = frac === 0 ? (neg ? 0 : 7) : (hi & 0x80000) !== 0 ? 9 : 8;
    else if (e === 0) bit = frac === 0 ? (neg ? 3 : 4) : neg ? 2 : 5;
    else bit = neg ? 1 : 6;
    this.setX(rd, 1 << bit, 0);
  }

  /** FMV.X.D */
  fmvXD(rd: number, rs1: number): void {
    this.setX(rd, this.u32[2 * rs1] | 0, this.u32[2 * rs1 + 1] | 0);
  }

  /** FMV.D.X */
  fmvDX(rd: number, rs1: number): void {
    this.u32[2 * rd] = this.x[2 * rs1];
    this.u32[2 * rd + 1] = this.x[2 * rs1 + 1];
  }

  // ---- D: conversions ----

  /** FCVT.W.D */
  fcvtWD(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toW(rd, rs1, false, rm);
    return true;
  }

  /** FCVT.WU.D */
  fcvtWuD(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toWu(rd, rs1, false, rm);
    return true;
  }

  /** FCVT.L.D */
  fcvtLD(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toL(rd, rs1, false, rm);
    return true;
  }

  /** FCVT.LU.D */
  fcvtLuD(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toLu(rd, rs1, false, rm);
    return true;
  }

  /** FCVT.D.W (exact; rm is still checked for a legal encoding). */
  fcvtDW(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.f64[rd] = this.x[2 * rs1];
    return true;
  }

  /** FCVT.D.WU (exact). */
  fcvtDWu(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.f64[rd] = this.x[2 * rs1] >>> 0;
    return true;
  }

  /** FCVT.D.L */
  fcvtDL(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fromInt64D(rd, rs1, false, rm);
    return true;
  }

  /** FCVT.D.LU */
  fcvtDLu(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fromInt64D(rd, rs1, true, rm);
    return true;
  }

  /** FCVT.S.D */
  fcvtSD(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.f64[rs1];
    if (a - a === 0) this.setS(rd, this.roundS(a, 0, rm));
    else if (!Number.isNaN(a)) this.setS(rd, a);
    else {
      if (this.snanD(rs1)) this.fflags |= NV;
      this.nanS(rd);
    }
    return true;
  }

  /** FCVT.D.S (exact). */
  fcvtDS(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.valS(rs1);
    if (!Number.isNaN(a)) this.f64[rd] = a;
    else {
      if (this.snanS(rs1)) this.fflags |= NV;
      this.nanD(rd);
    }
    return true;
  }

  // ---- F: arithmetic ----

  /** FADD.S */
  faddS(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.addS(rd, rs1, rs2, false, rm);
    return true;
  }

  /** FSUB.S */
  fsubS(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.addS(rd, rs1, rs2, true, rm);
    return true;
  }

  /** FMUL.S */
  fmulS(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    const p = a * b; // exact: 24 x 24 bits
    if (p - p === 0) this.setS(rd, this.roundS(p, 0, rm));
    else if (!Number.isNaN(p)) this.setS(rd, p);
    else {
      if (this.snanS(rs1) || this.snanS(rs2) || (!Number.isNaN(a) && !Number.isNaN(b))) this.fflags |= NV;
      this.nanS(rd);
    }
    return true;
  }

  /** FDIV.S */
  fdivS(rd: number, rs1: number, rs2: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    if (a - a + (b - b) === 0 && b !== 0) {
      const q = a / b;
      let lo = 0;
      if (Math.fround(q) === q) {
        // q*b is exact (24 x 24 bits): compare it with a for the side of the exact quotient.
        // When q is not a binary32 value the rest cannot change the rounding: no binary32
        // value or midpoint lies within half a binary64 ulp of an inexact quotient.
        const p = q * b;
        if (p !== a) lo = (a - p > 0 === b > 0 ? q : -q) * STANDIN;
      }
      this.setS(rd, this.roundS(q, lo, rm));
    } else this.divSpecial(rd, a, b, rs1, rs2, true);
    return true;
  }

  /** FSQRT.S */
  fsqrtS(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    const a = this.valS(rs1);
    if (a > 0 && a < Number.POSITIVE_INFINITY) {
      const s = Math.sqrt(a);
      let lo = 0;
      if (Math.fround(s) === s) {
        const p = s * s;
        if (p !== a) lo = (a > p ? s : -s) * STANDIN;
      }
      this.setS(rd, this.roundS(s, lo, rm));
    } else if (a === 0 || a === Number.POSITIVE_INFINITY) {
      this.setS(rd, a);
    } else {
      if (!Number.isNaN(a) || this.snanS(rs1)) this.fflags |= NV;
      this.nanS(rd);
    }
    return true;
  }

  /** FMADD.S */
  fmaddS(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaS(rd, rs1, rs2, rs3, 0, rm);
    return true;
  }

  /** FMSUB.S */
  fmsubS(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaS(rd, rs1, rs2, rs3, NEG_C, rm);
    return true;
  }

  /** FNMSUB.S */
  fnmsubS(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaS(rd, rs1, rs2, rs3, NEG_PRODUCT, rm);
    return true;
  }

  /** FNMADD.S */
  fnmaddS(rd: number, rs1: number, rs2: number, rs3: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fmaS(rd, rs1, rs2, rs3, NEG_PRODUCT | NEG_C, rm);
    return true;
  }

  // ---- F: sign injection, min/max, compare, classify, moves ----

  /** FSGNJ.S (an input that is not NaN-boxed counts as the canonical NaN). */
  fsgnjS(rd: number, rs1: number, rs2: number): void {
    this.writeSingleBits(rd, (this.bitsS(rs1) & 0x7fffffff) | (this.bitsS(rs2) & 0x80000000));
  }

  /** FSGNJN.S */
  fsgnjnS(rd: number, rs1: number, rs2: number): void {
    this.writeSingleBits(rd, (this.bitsS(rs1) & 0x7fffffff) | (~this.bitsS(rs2) & 0x80000000));
  }

  /** FSGNJX.S */
  fsgnjxS(rd: number, rs1: number, rs2: number): void {
    this.writeSingleBits(rd, this.bitsS(rs1) ^ (this.bitsS(rs2) & 0x80000000));
  }

  /** FMIN.S */
  fminS(rd: number, rs1: number, rs2: number): void {
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    if (Number.isNaN(a) || Number.isNaN(b)) this.minMaxNanS(rd, a, b, rs1, rs2);
    else this.setS(rd, a < b || (a === b && 1 / a < 0) ? a : b);
  }

  /** FMAX.S */
  fmaxS(rd: number, rs1: number, rs2: number): void {
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    if (Number.isNaN(a) || Number.isNaN(b)) this.minMaxNanS(rd, a, b, rs1, rs2);
    else this.setS(rd, a > b || (a === b && 1 / a > 0) ? a : b);
  }

  /** FEQ.S */
  feqS(rd: number, rs1: number, rs2: number): void {
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    if ((Number.isNaN(a) || Number.isNaN(b)) && (this.snanS(rs1) || this.snanS(rs2))) this.fflags |= NV;
    this.setX(rd, a === b ? 1 : 0, 0);
  }

  /** FLT.S */
  fltS(rd: number, rs1: number, rs2: number): void {
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    if (Number.isNaN(a) || Number.isNaN(b)) this.fflags |= NV;
    this.setX(rd, a < b ? 1 : 0, 0);
  }

  /** FLE.S */
  fleS(rd: number, rs1: number, rs2: number): void {
    const a = this.valS(rs1);
    const b = this.valS(rs2);
    if (Number.isNaN(a) || Number.isNaN(b)) this.fflags |= NV;
    this.setX(rd, a <= b ? 1 : 0, 0);
  }

  /** FCLASS.S */
  fclassS(rd: number, rs1: number): void {
    const v = this.bitsS(rs1);
    const frac = v & 0x7fffff;
    const e = (v >>> 23) & 0xff;
    const neg = v >>> 31 !== 0;
    let bit: number;
    if (e === 0xff) bit = frac === 0 ? (neg ? 0 : 7) : (v & 0x400000) !== 0 ? 9 : 8;
    else if (e === 0) bit = frac === 0 ? (neg ? 3 : 4) : neg ? 2 : 5;
    else bit = neg ? 1 : 6;
    this.setX(rd, 1 << bit, 0);
  }

  /** FMV.X.W: the low 32 bits of f[rs1], sign-extended, whatever the NaN-boxing. */
  fmvXW(rd: number, rs1: number): void {
    const lo = this.u32[2 * rs1] | 0;
    this.setX(rd, lo, lo >> 31);
  }

  /** FMV.W.X */
  fmvWX(rd: number, rs1: number): void {
    this.writeSingleBits(rd, this.x[2 * rs1]);
  }

  // ---- F: conversions ----

  /** FCVT.W.S */
  fcvtWS(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toW(rd, rs1, true, rm);
    return true;
  }

  /** FCVT.WU.S */
  fcvtWuS(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toWu(rd, rs1, true, rm);
    return true;
  }

  /** FCVT.L.S */
  fcvtLS(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toL(rd, rs1, true, rm);
    return true;
  }

  /** FCVT.LU.S */
  fcvtLuS(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.toLu(rd, rs1, true, rm);
    return true;
  }

  /** FCVT.S.W */
  fcvtSW(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.setS(rd, this.roundS(this.x[2 * rs1], 0, rm));
    return true;
  }

  /** FCVT.S.WU */
  fcvtSWu(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.setS(rd, this.roundS(this.x[2 * rs1] >>> 0, 0, rm));
    return true;
  }

  /** FCVT.S.L */
  fcvtSL(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fromInt64S(rd, rs1, false, rm);
    return true;
  }

  /** FCVT.S.LU */
  fcvtSLu(rd: number, rs1: number, rm: number): boolean {
    if (rm === 7) rm = this.frm;
    if (rm > 4) return false;
    this.fromInt64S(rd, rs1, true, rm);
    return true;
  }

  // ---- internals: register helpers ----

  private setX(rd: number, lo: number, hi: number): void {
    if (rd !== 0) {
      this.x[2 * rd] = lo;
      this.x[2 * rd + 1] = hi;
    }
  }

  /** The binary32 bits of f[i], or the canonical NaN if f[i] is not NaN-boxed. */
  private bitsS(i: number): number {
    return this.u32[2 * i + 1] === 0xffffffff ? this.u32[2 * i] : 0x7fc00000;
  }

  /** The binary32 value of f[i] as a number (NaN if not NaN-boxed). */
  private valS(i: number): number {
    if (this.u32[2 * i + 1] !== 0xffffffff) return Number.NaN;
    this.su[0] = this.u32[2 * i];
    return this.sf[0];
  }

  /** Write a binary32 value (a number equal to a binary32 value, or +-Infinity), NaN-boxed. */
  private setS(rd: number, v: number): void {
    this.sf[0] = v;
    this.u32[2 * rd] = this.su[0];
    this.u32[2 * rd + 1] = 0xffffffff;
  }

  private nanS(rd: number): void {
    this.u32[2 * rd] = 0x7fc00000;
    this.u32[2 * rd + 1] = 0xffffffff;
  }

  private nanD(rd: number): void {
    this.u32[2 * rd] = 0;
    this.u32[2 * rd + 1] = 0x7ff80000;
  }

  /** Write a result that may be NaN (then the canonical NaN). */
  private setD(rd: number, v: number): void {
    if (!Number.isNaN(v)) this.f64[rd] = v;
    else this.nanD(rd);
  }

  private snanD(i: number): boolean {
    const hi = this.u32[2 * i + 1];
    return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | this.u32[2 * i]) !== 0;
  }

  private snanS(i: number): boolean {
    const v = this.u32[2 * i];
    return this.u32[2 * i + 1] === 0xffffffff && (v & 0x7fc00000) === 0x7f800000 && (v & 0x3fffff) !== 0;
  }

  // ---- internals: binary64 rounding ----

  /** The binary64 next to r (r finite) towards the sign of dir; may be +-Infinity. */
  private stepD(r: number, dir: number): number {
    if (r === 0) return dir > 0 ? 5e-324 : -5e-324;
    const du = this.du;
    this.df[0] = r;
    const lo = du[0];
    if (r > 0 === dir > 0) {
      du[0] = lo + 1;
      if (lo === 0xffffffff) du[1]++;
    } else {
      du[0] = lo - 1;
      if (lo === 0) du[1]--;
    }
    return this.df[0];
  }

  /**
   * Apply a directed or RMM mode to r = RNE(X), where sign(lo) = sign(X - r) (lo != 0)
   * and |lo| equals half the gap from r towards X exactly when X is a tie.
   */
  private dirD(r: number, lo: number, rm: number): number {
    // r +- PHI*|r| is exactly r's neighbour for |r| >= 2^-969 (Rump, Zimmermann, Boldo,
    // Melquiond, "Computing predecessor and successor in rounding to nearest", 2009).
    const step = Math.abs(r) >= LOW ? PHI * r : 0;
    let n: number;
    switch (rm) {
      case RTZ:
        if (r > 0 === lo > 0) return r;
        n = step !== 0 ? r - step : this.stepD(r, -r);
        break;
      case RDN:
        if (lo > 0) return r;
        n = step !== 0 ? r - Math.abs(step) : this.stepD(r, -1);
        break;
      case RUP:
        if (lo < 0) return r;
        n = step !== 0 ? r + Math.abs(step) : this.stepD(r, 1);
        break;
      default:
        if (r > 0 !== lo > 0) return r;
        n = step !== 0 ? r + step : this.stepD(r, r);
        if (n - r !== 2 * lo) return r;
    }
    if (n - n !== 0) this.fflags |= OF;
    return n;
  }

  // Internals take register indices, not doubles: a double argument to a call V8 does not
  // inline is boxed (an allocation).

  private addD(rd: number, rs1: number, rs2: number, sub: boolean, rm: number): void {
    const a = this.f64[rs1];
    const b = sub ? -this.f64[rs2] : this.f64[rs2];
    let r = a + b;
    if (r - r === 0) {
      const bv = r - a;
      const err = a - (r - bv) + (b - bv);
      if (err !== 0) {
        this.fflags |= NX;
        if (rm !== RNE) r = this.dirD(r, err, rm);
      } else if (r === 0 && rm === RDN && (1 / a < 0 || 1 / b < 0)) r = -0;
      this.f64[rd] = r;
    } else if (Number.isNaN(r)) {
      if (this.snanD(rs1) || this.snanD(rs2) || (!Number.isNaN(a) && !Number.isNaN(b))) this.fflags |= NV;
      this.nanD(rd);
    } else if (a - a === 0 && b - b === 0) {
      this.fflags |= OF | NX;
      this.f64[rd] = overflowValue(r < 0, rm, MAX_D);
    } else this.f64[rd] = r;
  }

  private mulSlowD(rd: number, rs1: number, rs2: number, rm: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (this.snanD(rs1) || this.snanD(rs2)) this.fflags |= NV;
      this.nanD(rd);
      return;
    }
    const r = a * b;
    if (Number.isNaN(r)) {
      this.fflags |= NV; // inf * 0
      this.nanD(rd);
    } else if (a === 0 || b === 0 || a - a !== 0 || b - b !== 0) {
      this.f64[rd] = r;
    } else {
      const v = roundExact(
        a < 0 !== b < 0,
        significand(a) * significand(b),
        exponent(a) + exponent(b),
        false,
        rm,
      );
      this.fflags |= exactOut.flags;
      this.f64[rd] = v;
    }
  }

  /** Division special cases shared by binary32 and binary64 (NaN, infinity, zero divisor). */
  private divSpecial(rd: number, a: number, b: number, rs1: number, rs2: number, single: boolean): void {
    const r = a / b;
    if (Number.isNaN(r)) {
      const snan = single ? this.snanS(rs1) || this.snanS(rs2) : this.snanD(rs1) || this.snanD(rs2);
      if (snan || (!Number.isNaN(a) && !Number.isNaN(b))) this.fflags |= NV; // sNaN, 0/0, inf/inf
      if (single) this.nanS(rd);
      else this.nanD(rd);
      return;
    }
    if (b === 0 && a - a === 0) this.fflags |= DZ;
    if (single) this.setS(rd, r);
    else this.f64[rd] = r;
  }

  private divSlowD(rd: number, rs1: number, rs2: number, rm: number): void {
    const a = this.f64[rs1];
    const b = this.f64[rs2];
    if (a - a + (b - b) !== 0 || b === 0 || a === 0) {
      this.divSpecial(rd, a, b, rs1, rs2, false);
      return;
    }
    const ma = significand(a) << 110n;
    const mb = significand(b);
    const q = ma / mb;
    const v = roundExact(a < 0 !== b < 0, q, exponent(a) - 110 - exponent(b), q * mb !== ma, rm);
    this.fflags |= exactOut.flags;
    this.f64[rd] = v;
  }

  /** rs1*rs2 + rs3 with the product and/or addend negated per `neg` (NEG_PRODUCT, NEG_C). */
  private fmaD(rd: number, rs1: number, rs2: number, rs3: number, neg: number, rm: number): void {
    const f = this.f64;
    const a = (neg & NEG_PRODUCT) !== 0 ? -f[rs1] : f[rs1];
    const b = f[rs2];
    const c = (neg & NEG_C) !== 0 ? -f[rs3] : f[rs3];
    const uh = a * b;
    const au = Math.abs(uh);
    // Fast path: a*b is in the range where Dekker's product is exact and nothing overflows
    // (a Veltkamp split that overflows makes ul NaN).
    let v = SPLIT * a;
    const ah = v - (v - a);
    const al = a - ah;
    v = SPLIT * b;
    const bh = v - (v - b);
    const bl = b - bh;
    const ul = ah * bh - uh + ah * bl + al * bh + al * bl;
    if (au >= LOW && au <= BIG && c <= BIG && c >= -BIG && ul - ul === 0) {
      // a*b = uh + ul exactly; then an exact expansion of uh + ul + c by TwoSums.
      const s = uh + c;
      v = s - uh;
      const e1 = uh - (s - v) + (c - v);
      const t = ul + e1;
      v = t - ul;
      const e2 = ul - (t - v) + (e1 - v);
      let r = s + t;
      v = r - s;
      const e3 = s - (r - v) + (t - v);
      // X = r + e3 + e2 exactly with r = RNE(s + t); |e2| is far below ulp(r) (e2 != 0 needs
      // e1 != 0, hence no cancellation in uh + c), so X is within one ulp of r.
      const d = e3 + e2;
      if (d === 0) {
        if (r === 0) r = rm === RDN ? -0 : 0; // exact cancellation
        this.f64[rd] = r;
        return;
      }
      if (r >= LOW || r <= -LOW) {
        this.fflags |= NX;
        let lo = d;
        // r + d rounds back to r when |d| is below half the gap towards X (or a tie and r
        // even), and r + 2d is exactly the neighbour only when |d| is exactly half the gap.
        if (r + d !== r || r + 2 * d - r === 2 * d) {
          r = this.fmaNearTieD(r, d, e3, e2);
          lo = this.nearTieLo;
        }
        if (rm !== RNE) r = this.dirD(r, lo, rm);
        this.f64[rd] = r;
        return;
      }
    }
    this.fmaRareD(rd, a, b, c, rs1, rs2, rs3, rm);
  }

  /** Second output of fmaNearTieD. */
  private nearTieLo = 0;

  /**
   * fma rounding when X = r + d + e4 (d = RNE(e3 + e2)) lies at or past the midpoint
   * between r and its neighbour towards X as seen by d: returns RNE(X) and leaves in
   * nearTieLo a stand-in for X minus it (its sign, and half the gap exactly on a tie).
   */
  private fmaNearTieD(r: number, d: number, e3: number, e2: number): number {
    const v = d - e3;
    const e4 = e3 - (d - v) + (e2 - v); // X = r + d + e4 exactly
    const half = r + 2 * d - r === 2 * d; // |d| is exactly half the gap
    const n = half ? r + 2 * d : r + d;
    if (half && (e4 === 0 || e4 > 0 !== d > 0)) {
      if (e4 !== 0) {
        this.nearTieLo = d * 0.5; // just short of the midpoint: r
        return r;
      }
      // An exact tie: RNE picks the even one, which r + d computed.
      if (r + d === r) {
        this.nearTieLo = d;
        return r;
      }
      this.nearTieLo = -d;
      return n;
    }
    // Past the midpoint: n is RNE(X), and X - n is below half a gap, opposite to d.
    this.nearTieLo = (r - n) * 0.25;
    return n;
  }

  /** fma outside the fast path: non-finite or zero operands, extreme exponents. */
  private fmaRareD(
    rd: number,
    a: number,
    b: number,
    c: number,
    rs1: number,
    rs2: number,
    rs3: number,
    rm: number,
  ): void {
    if (a - a + (b - b) + (c - c) !== 0) {
      this.fmaSpecial(rd, a, b, c, rs1, rs2, rs3, false);
      return;
    }
    const uh = a * b;
    let r: number;
    if (a === 0 || b === 0) {
      if (c !== 0) r = c;
      else if (rm === RDN) r = 1 / uh < 0 || 1 / c < 0 ? -0 : 0;
      else r = uh + c;
    } else if (Math.abs(c) >= LOW && Math.abs(uh) <= Math.abs(c) * 2 ** -102) {
      // The product is far below half an ulp of c: c is RNE(X), and X - c has the product's sign.
      this.fflags |= NX;
      r = rm === RNE ? c : this.dirD(c, (a < 0 !== b < 0 ? -1 : 1) * Math.abs(c) * 2 ** -110, rm);
    } else {
      this.fmaSlowD(rd, a, b, c, rm);
      return;
    }
    this.f64[rd] = r;
  }

  private fmaSlowD(rd: number, a: number, b: number, c: number, rm: number): void {
    const np = a < 0 !== b < 0;
    const mp = significand(a) * significand(b);
    const ep = exponent(a) + exponent(b);
    let v: number;
    if (c === 0) v = roundExact(np, mp, ep, false, rm);
    else {
      const ec = exponent(c);
      const e = Math.min(ep, ec);
      const p = mp << BigInt(ep - e);
      const q = significand(c) << BigInt(ec - e);
      const m = (np ? -p : p) + (c < 0 ? -q : q);
      if (m === 0n) {
        this.f64[rd] = rm === RDN ? -0 : 0;
        return;
      }
      v = m < 0n ? roundExact(true, -m, e, false, rm) : roundExact(false, m, e, false, rm);
    }
    this.fflags |= exactOut.flags;
    this.f64[rd] = v;
  }

  /** fma with a non-finite operand, for either format. */
  private fmaSpecial(
    rd: number,
    a: number,
    b: number,
    c: number,
    rs1: number,
    rs2: number,
    rs3: number,
    single: boolean,
  ): void {
    const snan = single
      ? this.snanS(rs1) || this.snanS(rs2) || this.snanS(rs3)
      : this.snanD(rs1) || this.snanD(rs2) || this.snanD(rs3);
    // inf * 0 is invalid even when the addend is a quiet NaN (RISC-V F, "FMADD").
    const infZero =
      (a === 0 && b - b !== 0 && !Number.isNaN(b)) || (b === 0 && a - a !== 0 && !Number.isNaN(a));
    // A finite product cannot meet c's infinity or NaN (a*b may overflow in JavaScript).
    let r = a - a === 0 && b - b === 0 ? c : a * b + c;
    if (snan || infZero || (Number.isNaN(r) && !Number.isNaN(a) && !Number.isNaN(b) && !Number.isNaN(c)))
      this.fflags |= NV;
    if (infZero) r = Number.NaN;
    if (single) {
      if (!Number.isNaN(r)) this.setS(rd, r);
      else this.nanS(rd);
    } else this.setD(rd, r);
  }

  private minMaxNanD(rd: number, a: number, b: number, rs1: number, rs2: number): void {
    if (this.snanD(rs1) || this.snanD(rs2)) this.fflags |= NV;
    if (!Number.isNaN(a)) this.f64[rd] = a;
    else if (!Number.isNaN(b)) this.f64[rd] = b;
    else this.nanD(rd);
  }

  private minMaxNanS(rd: number, a: number, b: number, rs1: number, rs2: number): void {
    if (this.snanS(rs1) || this.snanS(rs2)) this.fflags |= NV;
    if (!Number.isNaN(a)) this.setS(rd, a);
    else if (!Number.isNaN(b)) this.setS(rd, b);
    else this.nanS(rd);
  }

  // ---- internals: binary32 rounding ----

  /**
   * Round X to binary32 under rm, raising NX/UF/OF. X is hi + lo with hi = RNE64(X) and
   * |lo| at most half a binary64 ulp of hi (a double-double), or lo is any stand-in with
   * the sign of X - hi when no binary32 value or midpoint lies strictly between them.
   */
  private roundS(hi: number, lo: number, rm: number): number {
    const s = Math.fround(hi);
    if (s === hi && lo === 0) return s;
    if (rm === RNE) {
      // fround(hi) is RNE(X) unless hi is exactly a binary32 midpoint (then 2*hi - s, computed
      // exactly, is the other neighbour) and lo breaks the tie; normal results cannot underflow.
      const as = Math.abs(s);
      const t = 2 * hi - s;
      if (as > MIN_S && as <= MAX_S && (lo === 0 || s === hi || Math.fround(t) !== t)) {
        this.fflags |= NX;
        return s;
      }
    }
    return this.roundSInexact(hi, lo, s, rm);
  }

  private roundSInexact(hi: number, lo: number, s: number, rm: number): number {
    this.fflags |= NX;
    const ah = Math.abs(hi);
    if (ah >= TWO128 && (ah > TWO128 || lo === 0 || lo > 0 === hi > 0)) {
      this.fflags |= OF;
      return overflowValue(hi < 0, rm, MAX_S);
    }
    // s = RNE(hi) on the binary32 grid extended by 2^128 (where fround overflowed).
    if (s - s !== 0) s = s > 0 ? TWO128 : -TWO128;
    const diff = hi - s; // exact
    const up = diff !== 0 ? diff > 0 : lo > 0; // X > s
    const n = this.nextS(s, up);
    // X is before the midpoint of s and n (-1), on it (0) or past it (1).
    let pos = -1;
    if (diff !== 0 && diff === (n - s) * 0.5) pos = lo === 0 ? 0 : lo > 0 === up ? 1 : -1;
    let r: number;
    switch (rm) {
      case RNE:
        r = pos < 0 ? s : pos > 0 || this.oddS(s) ? n : s;
        break;
      case RMM:
        r = pos < 0 ? s : pos > 0 || Math.abs(n) > Math.abs(s) ? n : s;
        break;
      case RTZ:
        r = Math.abs(n) < Math.abs(s) ? n : s;
        break;
      case RDN:
        r = up ? s : n;
        break;
      default:
        r = up ? n : s;
    }
    const ar = Math.abs(r);
    if (ar === TWO128) {
      this.fflags |= OF;
      return r > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    }
    if (ar < MIN_S) {
      this.fflags |= UF;
      if (r === 0) return (s !== 0 ? s < 0 : !up) ? -0 : 0;
    } else if (ar === MIN_S && this.tinyS(hi, lo, rm)) this.fflags |= UF;
    return r;
  }

  /** The binary32 grid point next to s towards +inf (up) or -inf; 2^128 stands for overflow. */
  private nextS(s: number, up: boolean): number {
    if (s === 0) return up ? TINY_S : -TINY_S;
    this.sf[0] = s;
    if (s > 0 === up) this.su[0]++;
    else this.su[0]--;
    const n = this.sf[0];
    return n - n === 0 ? n : n > 0 ? TWO128 : -TWO128;
  }

  private oddS(s: number): boolean {
    this.sf[0] = s;
    return (this.su[0] & 1) !== 0;
  }

  /**
   * Whether X, inexact and rounded to +-MIN_S, is tiny after rounding: its rounding
   * with an unbounded exponent (24 bits, spacing 2^-150 below MIN_S) is below MIN_S.
   */
  private tinyS(hi: number, lo: number, rm: number): boolean {
    const neg = hi < 0;
    // Rounding towards zero gives MIN_S only for |X| >= MIN_S.
    if (rm === RTZ || rm === (neg ? RUP : RDN)) return false;
    const away = rm !== RNE && rm !== RMM;
    const d = Math.abs(hi) - (away ? MIN_S - 2 ** -150 : MIN_S - 2 ** -151); // exact
    const c = d !== 0 ? d : neg ? -lo : lo;
    return away ? c <= 0 : c < 0;
  }

  private addS(rd: number, rs1: number, rs2: number, sub: boolean, rm: number): void {
    const a = this.valS(rs1);
    const b = sub ? -this.valS(rs2) : this.valS(rs2);
    const hi = a + b;
    if (hi - hi === 0) {
      const bv = hi - a;
      const lo = a - (hi - bv) + (b - bv);
      let r = this.roundS(hi, lo, rm);
      if (hi === 0 && rm === RDN && (1 / a < 0 || 1 / b < 0)) r = -0;
      this.setS(rd, r);
    } else if (!Number.isNaN(hi)) this.setS(rd, hi);
    else {
      if (this.snanS(rs1) || this.snanS(rs2) || (!Number.isNaN(a) && !Number.isNaN(b))) this.fflags |= NV;
      this.nanS(rd);
    }
  }

  private fmaS(rd: number, rs1: number, rs2: number, rs3: number, neg: number, rm: number): void {
    const a = (neg & NEG_PRODUCT) !== 0 ? -this.valS(rs1) : this.valS(rs1);
    const b = this.valS(rs2);
    const c = (neg & NEG_C) !== 0 ? -this.valS(rs3) : this.valS(rs3);
    const p = a * b; // exact: 24 x 24 bits
    const hi = p + c;
    if (hi - hi === 0) {
      const v = hi - p;
      const lo = p - (hi - v) + (c - v);
      let r = this.roundS(hi, lo, rm);
      if (hi === 0 && rm === RDN && (1 / p < 0 || 1 / c < 0)) r = -0;
      this.setS(rd, r);
    } else this.fmaSpecial(rd, a, b, c, rs1, rs2, rs3, true);
  }

  // ---- internals: integer conversions ----

  /** Round a finite or infinite v to an integral value under rm. */
  private rint(v: number, rm: number): number {
    switch (rm) {
      case RTZ:
        return Math.trunc(v);
      case RDN:
        return Math.floor(v);
      case RUP:
        return Math.ceil(v);
      default: {
        // Nearest: work on |v|, where |v| - floor(|v|) is exact (v - floor(v) is not for -1 < v < 0).
        const av = Math.abs(v);
        let t = Math.floor(av);
        const d = av - t;
        if (d > 0.5 || (d === 0.5 && (rm === RMM || t % 2 !== 0))) t += 1;
        return v < 0 ? -t : t;
      }
    }
  }

  private toW(rd: number, rs1: number, single: boolean, rm: number): void {
    const v = single ? this.valS(rs1) : this.f64[rs1];
    let r: number;
    if (Number.isNaN(v)) {
      this.fflags |= NV;
      r = 0x7fffffff;
    } else {
      r = this.rint(v, rm);
      if (r >= INT32_LIMIT) {
        this.fflags |= NV;
        r = 0x7fffffff;
      } else if (r < -INT32_LIMIT) {
        this.fflags |= NV;
        r = -INT32_LIMIT;
      } else if (r !== v) this.fflags |= NX;
    }
    this.setX(rd, r | 0, r < 0 ? -1 : 0);
  }

  private toWu(rd: number, rs1: number, single: boolean, rm: number): void {
    const v = single ? this.valS(rs1) : this.f64[rs1];
    let r: number;
    if (Number.isNaN(v)) {
      this.fflags |= NV;
      r = -1;
    } else {
      r = this.rint(v, rm);
      if (r >= UINT32_LIMIT) {
        this.fflags |= NV;
        r = -1;
      } else if (r < 0) {
        this.fflags |= NV;
        r = 0;
      } else {
        if (r !== v) this.fflags |= NX;
        r |= 0; // the 32-bit result is sign-extended (RV64 F)
      }
    }
    this.setX(rd, r, r >> 31);
  }

  private toL(rd: number, rs1: number, single: boolean, rm: number): void {
    const v = single ? this.valS(rs1) : this.f64[rs1];
    if (Number.isNaN(v)) {
      this.fflags |= NV;
      this.setX(rd, -1, 0x7fffffff);
      return;
    }
    const r = this.rint(v, rm);
    if (r >= INT64_LIMIT) {
      this.fflags |= NV;
      this.setX(rd, -1, 0x7fffffff);
    } else if (r < -INT64_LIMIT) {
      this.fflags |= NV;
      this.setX(rd, 0, -INT32_LIMIT);
    } else {
      if (r !== v) this.fflags |= NX;
      const hi = Math.floor(r / UINT32_LIMIT);
      this.setX(rd, (r - hi * UINT32_LIMIT) | 0, hi | 0);
    }
  }

  private toLu(rd: number, rs1: number, single: boolean, rm: number): void {
    const v = single ? this.valS(rs1) : this.f64[rs1];
    if (Number.isNaN(v)) {
      this.fflags |= NV;
      this.setX(rd, -1, -1);
      return;
    }
    const r = this.rint(v, rm);
    if (r >= UINT64_LIMIT) {
      this.fflags |= NV;
      this.setX(rd, -1, -1);
    } else if (r < 0) {
      this.fflags |= NV;
      this.setX(rd, 0, 0);
    } else {
      if (r !== v) this.fflags |= NX;
      const hi = Math.floor(r / UINT32_LIMIT);
      this.setX(rd, (r - hi * UINT32_LIMIT) | 0, hi | 0);
    }
  }

  /** f[rd] = binary64(x[rs1]), signed or unsigned: exactly hi * 2^32 + lo, rounded once. */
  private fromInt64D(rd: number, rs1: number, unsigned: boolean, rm: number): void {
    const hi = (unsigned ? this.x[2 * rs1 + 1] >>> 0 : this.x[2 * rs1 + 1]) * UINT32_LIMIT;
    const lo = this.x[2 * rs1] >>> 0;
    let r = hi + lo;
    const bv = r - hi;
    const err = hi - (r - bv) + (lo - bv);
    if (err !== 0) {
      this.fflags |= NX;
      if (rm !== RNE) r = this.dirD(r, err, rm);
    }
    this.f64[rd] = r;
  }

  private fromInt64S(rd: number, rs1: number, unsigned: boolean, rm: number): void {
    const hi = (unsigned ? this.x[2 * rs1 + 1] >>> 0 : this.x[2 * rs1 + 1]) * UINT32_LIMIT;
    const lo = this.x[2 * rs1] >>> 0;
    const r = hi + lo;
    const bv = r - hi;
    this.setS(rd, this.roundS(r, hi - (r - bv) + (lo - bv), rm));
  }
}
