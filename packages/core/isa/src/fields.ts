/**
 * Instruction fields.
 *
 * Every operand that appears in the instruction table's syntax strings is a
 * named {@link Field}: where its bits live in the instruction word, how they
 * map to a value, and what kind of value it is. The decoder, encoder,
 * disassembler and assembler are all derived from these descriptions.
 *
 * The hot-path extractors at the bottom (`rd`, `immI`, ...) are hand-written
 * for the interpreter; the test suite checks them against the declarative
 * descriptions so the two cannot drift.
 */

/** What an operand denotes, which decides how it is printed and parsed. */
export type FieldKind =
  | "xreg" // integer register x0..x31
  | "freg" // floating-point register f0..f31
  | "imm" // an immediate, printed in decimal
  | "uimm20" // a U-type immediate, printed as an unsigned 20-bit decimal
  | "target" // a pc-relative offset, printed as an absolute address
  | "csr" // a CSR number, printed by name when known
  | "rm" // a floating-point rounding mode
  | "fence"; // a fence predecessor/successor set (iorw)

/** One run of contiguous instruction bits: bits [hi:lo] hold value bits starting at `to`. */
export type Segment = readonly [hi: number, lo: number, to: number];

/** A named operand field of an instruction encoding. */
export interface Field {
  /** Name used in the table's syntax strings. */
  readonly name: string;
  /** How the value is printed and parsed. */
  readonly kind: FieldKind;
  /** Where the bits live. */
  readonly segments: readonly Segment[];
  /** Width of the value in bits (after scaling), used for sign extension and range checks. */
  readonly width: number;
  /** Whether the value is sign-extended from `width` bits. */
  readonly signed: boolean;
  /** Added to the raw value (compressed 3-bit register fields start at x8/f8). */
  readonly offset: number;
  /** Value bits below this are always zero (e.g. 2 for word-scaled offsets). */
  readonly align: number;
}

function field(
  name: string,
  kind: FieldKind,
  segments: readonly Segment[],
  opts: { signed?: boolean; offset?: number } = {},
): Field {
  let width = 0;
  let align = 64;
  for (const [hi, lo, to] of segments) {
    width = Math.max(width, to + hi - lo + 1);
    align = Math.min(align, to);
  }
  return { name, kind, segments, width, signed: opts.signed ?? false, offset: opts.offset ?? 0, align };
}

/** Extract a field's value from an instruction word. */
export function getField(f: Field, word: number): number {
  let v = 0;
  for (const [hi, lo, to] of f.segments) {
    const n = hi - lo + 1;
    v |= ((word >>> lo) & ((1 << n) - 1)) << to;
  }
  if (f.signed) {
    const s = 32 - f.width;
    v = (v << s) >> s;
  } else {
    v >>>= 0;
  }
  return v + f.offset;
}

/** Whether `value` can be encoded in the field (range, alignment, register class). */
export function fitsField(f: Field, value: number): boolean {
  const raw = value - f.offset;
  if (!Number.isInteger(raw)) return false;
  if (f.align > 0 && raw % (1 << f.align) !== 0) return false;
  if (f.signed) return raw >= -(2 ** (f.width - 1)) && raw < 2 ** (f.width - 1);
  return raw >= 0 && raw < 2 ** f.width;
}

/** Insert a value into a field of `word`; the caller checks {@link fitsField} first. */
export function setField(f: Field, word: number, value: number): number {
  const raw = value - f.offset;
  for (const [hi, lo, to] of f.segments) {
    const n = hi - lo + 1;
    const mask = ((1 << n) - 1) << lo;
    word = (word & ~mask) | (((raw >> to) << lo) & mask);
  }
  return word >>> 0;
}

const X = "xreg";
const F = "freg";

/** Fields of 32-bit instructions. */
export const FIELDS32: Readonly<Record<string, Field>> = {
  xd: field("xd", X, [[11, 7, 0]]),
  xs1: field("xs1", X, [[19, 15, 0]]),
  xs2: field("xs2", X, [[24, 20, 0]]),
  fd: field("fd", F, [[11, 7, 0]]),
  fs1: field("fs1", F, [[19, 15, 0]]),
  fs2: field("fs2", F, [[24, 20, 0]]),
  fs3: field("fs3", F, [[31, 27, 0]]),
  imm12: field("imm12", "imm", [[31, 20, 0]], { signed: true }),
  simm12: field(
    "simm12",
    "imm",
    [
      [31, 25, 5],
      [11, 7, 0],
    ],
    { signed: true },
  ),
  boff: field(
    "boff",
    "target",
    [
      [31, 31, 12],
      [7, 7, 11],
      [30, 25, 5],
      [11, 8, 1],
    ],
    { signed: true },
  ),
  uimm20: field("uimm20", "uimm20", [[31, 12, 0]]),
  joff: field(
    "joff",
    "target",
    [
      [31, 31, 20],
      [19, 12, 12],
      [20, 20, 11],
      [30, 21, 1],
    ],
    { signed: true },
  ),
  shamt6: field("shamt6", "imm", [[25, 20, 0]]),
  shamt5: field("shamt5", "imm", [[24, 20, 0]]),
  csr: field("csr", "csr", [[31, 20, 0]]),
  uimm5: field("uimm5", "imm", [[19, 15, 0]]),
  rm: field("rm", "rm", [[14, 12, 0]]),
  pred: field("pred", "fence", [[27, 24, 0]]),
  succ: field("succ", "fence", [[23, 20, 0]]),
};

/** Fields of 16-bit (C extension) instructions; primed registers start at x8/f8. */
export const FIELDS16: Readonly<Record<string, Field>> = {
  crd: field("crd", X, [[11, 7, 0]]),
  crs1: field("crs1", X, [[11, 7, 0]]),
  crs2: field("crs2", X, [[6, 2, 0]]),
  cfd: field("cfd", F, [[11, 7, 0]]),
  cfs2: field("cfs2", F, [[6, 2, 0]]),
  crdp: field("crdp", X, [[4, 2, 0]], { offset: 8 }),
  crs1p: field("crs1p", X, [[9, 7, 0]], { offset: 8 }),
  crs2p: field("crs2p", X, [[4, 2, 0]], { offset: 8 }),
  cfdp: field("cfdp", F, [[4, 2, 0]], { offset: 8 }),
  cfs2p: field("cfs2p", F, [[4, 2, 0]], { offset: 8 }),
  // CI immediates: imm[5] at bit 12, imm[4:0] at bits 6:2.
  cimm6: field(
    "cimm6",
    "imm",
    [
      [12, 12, 5],
      [6, 2, 0],
    ],
    { signed: true },
  ),
  cshamt: field("cshamt", "imm", [
    [12, 12, 5],
    [6, 2, 0],
  ]),
  // c.lui: nzimm[17] at 12, nzimm[16:12] at 6:2; printed like lui's 20-bit field.
  clui: field(
    "clui",
    "uimm20",
    [
      [12, 12, 5],
      [6, 2, 0],
    ],
    { signed: true },
  ),
  caddi16sp: field(
    "caddi16sp",
    "imm",
    [
      [12, 12, 9],
      [6, 6, 4],
      [5, 5, 6],
      [4, 3, 7],
      [2, 2, 5],
    ],
    { signed: true },
  ),
  caddi4spn: field("caddi4spn", "imm", [
    [12, 11, 4],
    [10, 7, 6],
    [6, 6, 2],
    [5, 5, 3],
  ]),
  clwsp: field("clwsp", "imm", [
    [12, 12, 5],
    [6, 4, 2],
    [3, 2, 6],
  ]),
  cldsp: field("cldsp", "imm", [
    [12, 12, 5],
    [6, 5, 3],
    [4, 2, 6],
  ]),
  cswsp: field("cswsp", "imm", [
    [12, 9, 2],
    [8, 7, 6],
  ]),
  csdsp: field("csdsp", "imm", [
    [12, 10, 3],
    [9, 7, 6],
  ]),
  clw: field("clw", "imm", [
    [12, 10, 3],
    [6, 6, 2],
    [5, 5, 6],
  ]),
  cld: field("cld", "imm", [
    [12, 10, 3],
    [6, 5, 6],
  ]),
  cjoff: field(
    "cjoff",
    "target",
    [
      [12, 12, 11],
      [11, 11, 4],
      [10, 9, 8],
      [8, 8, 10],
      [7, 7, 6],
      [6, 6, 7],
      [5, 3, 1],
      [2, 2, 5],
    ],
    { signed: true },
  ),
  cboff: field(
    "cboff",
    "target",
    [
      [12, 12, 8],
      [11, 10, 3],
      [6, 5, 6],
      [4, 3, 1],
      [2, 2, 5],
    ],
    { signed: true },
  ),
};

// ---------------------------------------------------------------------------
// Hot-path extractors for the interpreter. Each takes the 32-bit instruction
// word (as an int32 or uint32) and returns an int32. Checked against FIELDS32
// by the test suite.

/** Destination register, bits 11:7. */
export const rd = (w: number): number => (w >>> 7) & 31;
/** First source register, bits 19:15. */
export const rs1 = (w: number): number => (w >>> 15) & 31;
/** Second source register, bits 24:20. */
export const rs2 = (w: number): number => (w >>> 20) & 31;
/** Third source register (R4 type), bits 31:27. */
export const rs3 = (w: number): number => w >>> 27;
/** funct3, bits 14:12. */
export const funct3 = (w: number): number => (w >>> 12) & 7;
/** funct7, bits 31:25. */
export const funct7 = (w: number): number => w >>> 25;
/** I-type immediate, sign-extended. */
export const immI = (w: number): number => w >> 20;
/** S-type immediate, sign-extended. */
export const immS = (w: number): number => ((w >> 20) & ~31) | ((w >>> 7) & 31);
/** B-type offset, sign-extended. */
export const immB = (w: number): number =>
  ((w >> 19) & ~0xfff) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e);
/** U-type immediate, already shifted into bits 31:12 (sign-extended as int32). */
export const immU = (w: number): number => w & ~0xfff;
/** J-type offset, sign-extended. */
export const immJ = (w: number): number =>
  ((w >> 11) & ~0xfffff) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe);
/** CSR number, bits 31:20. */
export const csrNum = (w: number): number => w >>> 20;
