/**
 * Helpers that translated code calls for the operations too long to inline:
 * 64-bit multiplication and division (over the interpreter's alu64) and
 * shifts by a register amount. Each writes its result straight into the
 * register file at `rd` (the low word's index; the sink for x0), so nothing
 * is returned through module state the generated code cannot see.
 */
import { divs64, divu64, hi64, mul64, mulh64, mulhsu64, mulhu64, remHi, remLo } from "../alu64.js";

/** x[rd] = (hi, lo) << s for s in 0..63. */
export function sll(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (s < 32) {
    x[rd + 1] = (hi << s) | (lo >>> (32 - s));
    x[rd] = lo << s;
  } else {
    x[rd + 1] = lo << (s - 32);
    x[rd] = 0;
  }
}

/** x[rd] = (hi, lo) >>> s (logical). */
export function srl(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (s < 32) {
    x[rd] = (lo >>> s) | (hi << (32 - s));
    x[rd + 1] = hi >>> s;
  } else {
    x[rd] = hi >>> (s - 32);
    x[rd + 1] = 0;
  }
}

/** x[rd] = (hi, lo) >> s (arithmetic). */
export function sra(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (s < 32) {
    x[rd] = (lo >>> s) | (hi << (32 - s));
    x[rd + 1] = hi >> s;
  } else {
    x[rd] = hi >> (s - 32);
    x[rd + 1] = hi >> 31;
  }
}

/** mul: low 64 bits of the product. */
export function mul(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  x[rd] = mul64(ah, al, bh, bl);
  x[rd + 1] = hi64;
}

/** mulh: high 64 bits, signed x signed. */
export function mulh(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  x[rd] = mulh64(ah, al, bh, bl);
  x[rd + 1] = hi64;
}

/** mulhsu: high 64 bits, signed x unsigned. */
export function mulhsu(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  x[rd] = mulhsu64(ah, al, bh, bl);
  x[rd + 1] = hi64;
}

/** mulhu: high 64 bits, unsigned x unsigned. */
export function mulhu(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  x[rd] = mulhu64(ah, al, bh, bl);
  x[rd + 1] = hi64;
}

/** div (signed; the spec's corner cases). */
export function div(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  x[rd] = divs64(ah, al, bh, bl);
  x[rd + 1] = hi64;
}

/** divu. */
export function divu(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  x[rd] = divu64(ah, al, bh, bl);
  x[rd + 1] = hi64;
}

/** rem (signed). */
export function rem(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  divs64(ah, al, bh, bl);
  x[rd] = remLo;
  x[rd + 1] = remHi;
}

/** remu. */
export function remu(x: Int32Array, rd: number, ah: number, al: number, bh: number, bl: number): void {
  divu64(ah, al, bh, bl);
  x[rd] = remLo;
  x[rd + 1] = remHi;
}

/** The helpers by the names generated code uses. */
export const RUNTIME_HELPERS = {
  SLL: sll,
  SRL: srl,
  SRA: sra,
  MUL: mul,
  MULH: mulh,
  MULHSU: mulhsu,
  MULHU: mulhu,
  DIV: div,
  DIVU: divu,
  REM: rem,
  REMU: remu,
} as const;
