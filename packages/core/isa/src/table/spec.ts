/**
 * The shape of the declarative instruction table.
 *
 * An entry is written as a bit pattern (as in the spec's encoding diagrams,
 * most significant bit first, `-` for operand bits) plus an assembly syntax
 * whose identifiers name fields from `fields.ts`. Everything else — masks,
 * decode trees, encoders, printers, parsers — is derived.
 */

/** ISA extensions and groups an instruction can belong to. */
export type Extension =
  | "I"
  | "M"
  | "A"
  | "F"
  | "D"
  | "C"
  | "Zicsr"
  | "Zifencei"
  | "Priv" // machine/supervisor instructions: mret, sret, wfi, sfence.vma
  | "H"; // the hypervisor extension: hfence.*, hlv/hlvx/hsv

/** A 32-bit instruction as written in a table file. */
export interface Def32 {
  /** Mnemonic, lower case, as in the spec (`fadd.d`, `amoadd.w`). */
  readonly name: string;
  /** Bit pattern of 32 characters (spaces ignored): `0`/`1` fixed, `-` operand bits. */
  readonly bits: string;
  /** Assembly operand syntax, e.g. `xd,imm12(xs1)`. Empty for no operands. */
  readonly syntax: string;
  /** Atomic memory ordering bits (aq = 26, rl = 25) are printed as a `.aq`/`.rl`/`.aqrl` suffix. */
  readonly aqrl?: boolean;
}

/** A 16-bit compressed instruction as written in a table file. */
export interface Def16 {
  /** Mnemonic including the `c.` prefix. */
  readonly name: string;
  /** Bit pattern of 16 characters (spaces ignored). */
  readonly bits: string;
  /** Operand syntax over the FIELDS16 names, as llvm-objdump -M no-aliases prints it. */
  readonly syntax: string;
  /**
   * The 32-bit instruction it expands to: the target mnemonic, then one entry
   * per target operand in the target's syntax order, each either a FIELDS16
   * name or a constant.
   */
  readonly expand: readonly [target: string, ...args: (string | number)[]];
  /** Fields that must be non-zero for the encoding to be this instruction (otherwise reserved). */
  readonly nonzero?: readonly string[];
  /** Fields that must be zero (used to tell HINT space apart). */
  readonly zero?: readonly string[];
}

/** A pseudo-instruction (alias) recognised when printing and accepted when assembling. */
export interface AliasDef {
  /** The alias mnemonic, e.g. `mv`. */
  readonly name: string;
  /** The base instruction it stands for. */
  readonly of: string;
  /** Field constraints: a constant, or `=other` meaning equal to another field. */
  readonly when: Readonly<Record<string, number | string>>;
  /** Operand syntax of the alias over the base instruction's fields. */
  readonly syntax: string;
  /** Whether the disassembler prints it (false: accepted by the assembler only). */
  readonly print?: boolean;
  /**
   * Printed only for an expanded compressed instruction. LLVM expands c.mv to
   * `addi rd, rs2, 0` where the spec says `add rd, x0, rs2`; both mean the
   * same, and this keeps the printed form identical to llvm-objdump's.
   */
  readonly compressedOnly?: boolean;
}

/** Parse a bit pattern into its match and mask. */
export function parsePattern(bits: string, width: 16 | 32): { match: number; mask: number } {
  const s = bits.replace(/\s+/g, "");
  if (s.length !== width || /[^01-]/.test(s)) {
    throw new Error(`bad ${width}-bit pattern "${bits}"`);
  }
  let match = 0;
  let mask = 0;
  for (let i = 0; i < width; i++) {
    const c = s[width - 1 - i];
    if (c === "-") continue;
    mask |= 1 << i;
    if (c === "1") match |= 1 << i;
  }
  return { match: match >>> 0, mask: mask >>> 0 };
}
