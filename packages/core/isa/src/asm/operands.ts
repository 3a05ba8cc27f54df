/**
 * What an instruction statement turns into, and the operand parsing and
 * range checking shared by table instructions and multi-instruction pseudos.
 *
 * Parsing (registers, names, expression syntax) happens once, when the
 * statement is read; values are computed on every layout pass, because they
 * may depend on addresses that are still moving.
 */
import type { Ordering } from "../encoder.js";
import type { IsaErrorCode } from "../errors.js";
import type { Field } from "../fields.js";
import { FREG_NAMES, XREG_NAMES } from "../registers.js";
import type { Instruction } from "../table/index.js";
import { type Diagnostics, suggestion } from "./diagnostics.js";
import { type Expr, type LocalResolver, parseExpression } from "./expr.js";
import type { Pos, Token } from "./lexer.js";
import { displayName, registerOf, soleIdent } from "./shapes.js";

/** One written operand: its tokens and where it starts. */
export interface Operand {
  readonly tokens: readonly Token[];
  readonly pos: Pos;
}

/** One machine instruction produced by a statement. */
export interface Piece {
  /** The instruction to encode. */
  readonly insn: Instruction;
  /** Operand values in the instruction's syntax order; undefined while some symbol is unknown. */
  readonly values: readonly number[] | undefined;
  /** aq/rl bits of an atomic. */
  readonly ordering: Ordering;
  /** Emit exactly this instruction: never compress it (it was written as `c.*`, or is a 16-bit one already). */
  readonly exact: boolean;
}

/** What a statement's code generator sees on each pass. */
export interface InsnContext {
  /** Address of the statement's first byte. */
  readonly pc: bigint;
  /**
   * Evaluate an expression at this statement (`.` is `pc`); undefined while a
   * symbol is unknown. `csr` marks a CSR operand, so an unknown name is
   * reported as an unknown CSR.
   */
  value(e: Expr, csr?: boolean): bigint | undefined;
  /** Report a problem; only the final pass reports, layout passes ignore it. */
  error(code: IsaErrorCode, pos: Pos, what: string): void;
}

/** A parsed instruction statement: generates its pieces on every pass. */
export interface Form {
  generate(ctx: InsnContext): Piece[];
}

/** What operand parsing needs from the parser. */
export interface ParseContext {
  readonly diag: Diagnostics;
  readonly resolveLocal: LocalResolver;
}

/** The source text of an operand, for messages. */
export const operandText = (op: Operand): string => op.tokens.map((t) => t.text).join("");

const REGISTER_NAMES = [...XREG_NAMES, ...FREG_NAMES, "fp", ...XREG_NAMES.map((_, i) => `x${i}`)];

const CLASS_NAME = {
  xreg: "an integer register (x0..x31 or an ABI name such as a0)",
  freg: "a floating-point register (f0..f31 or an ABI name such as fa0)",
} as const;

/** Parse a register operand for `field` (an xreg or freg field) of `insn`; reports and returns undefined on error. */
export function parseRegister(
  op: Operand,
  field: Field,
  insnName: string,
  pc: ParseContext,
): number | undefined {
  const kind = field.kind === "freg" ? "freg" : "xreg";
  const what = `${insnName}'s ${displayName(field)}`;
  const ident = soleIdent(op.tokens);
  if (!ident) {
    pc.diag.syntax(op.pos, `expected ${CLASS_NAME[kind]} for ${what}, got "${operandText(op)}"`);
    return undefined;
  }
  const reg = registerOf(ident.text);
  if (!reg) {
    pc.diag.syntax(
      op.pos,
      `unknown register "${ident.text}"; ${suggestion(ident.text.toLowerCase(), REGISTER_NAMES, `${what} must be ${CLASS_NAME[kind]}`)}`,
    );
    return undefined;
  }
  if (reg.kind !== kind) {
    pc.diag.syntax(op.pos, `${ident.text} is not ${CLASS_NAME[kind]}, which ${what} must be`);
    return undefined;
  }
  const raw = reg.num - field.offset;
  if (raw < 0 || raw >= 2 ** field.width) {
    const lo = field.offset;
    const hi = field.offset + 2 ** field.width - 1;
    const names = kind === "xreg" ? XREG_NAMES : FREG_NAMES;
    const prefix = kind === "xreg" ? "x" : "f";
    pc.diag.report(
      "ISA_OPERAND_RANGE",
      op.pos,
      `${what} must be one of ${prefix}${lo}..${prefix}${hi} (${names[lo]}..${names[hi]}), and ${ident.text} is ${prefix}${reg.num}; use the 32-bit instruction for other registers`,
    );
    return undefined;
  }
  return reg.num;
}

/** Parse an operand as an expression. */
export function parseValue(op: Operand, pc: ParseContext): Expr | undefined {
  return parseExpression(op.tokens, pc.diag, pc.resolveLocal);
}

/** How a value is used, which decides the wording and advice of a range error. */
export type Role = "value" | "offset";

const ALU_IMMEDIATE = new Set(["addi", "addiw", "andi", "ori", "xori", "slti", "sltiu"]);

const show = (v: bigint): string =>
  v > -0x10000n && v < 0x10000n ? String(v) : `${v} (0x${BigInt.asUintN(64, v).toString(16)})`;

function advice(insn: Instruction, f: Field, role: Role): string {
  if (f.kind === "target") {
    if (insn.length === 2) return `use the 32-bit ${insn.expand!.target.name}`;
    return f.name === "boff" ? "invert the condition and branch over a j" : "use call or tail (auipc+jalr)";
  }
  if (insn.length === 2) return "use the 32-bit instruction";
  if (f.kind === "uimm20") return "use li for a full constant, or %hi/%pcrel_hi for an address";
  if (f.kind === "csr") return "CSR numbers are 12 bits";
  if (role === "offset") return "add the high part to the base register first (lui or auipc, then %lo)";
  if (ALU_IMMEDIATE.has(insn.name)) return "use li";
  return "use a smaller value";
}

/**
 * Convert a value to what the encoder takes for `field`, checking range and
 * alignment: for a `target` field the value is the offset from the
 * instruction. Reports through `ctx` and returns undefined on a problem.
 */
export function fieldValue(
  ctx: InsnContext,
  insn: Instruction,
  f: Field,
  v: bigint,
  pos: Pos,
  role: Role = "value",
): number | undefined {
  // A U-type immediate may be written as a negative 20-bit value, and a
  // compressed one (c.lui) as the unsigned 20-bit value the disassembler prints.
  if (f.kind === "uimm20") {
    if (!f.signed && v < 0n && v >= -(1n << 19n)) v += 1n << 20n;
    if (f.signed && v >= 1n << 19n && v < 1n << 20n) v -= 1n << 20n;
  }
  const w = BigInt(f.width);
  const off = BigInt(f.offset);
  const lo = (f.signed ? -(1n << (w - 1n)) : 0n) + off;
  const hi = (f.signed ? (1n << (w - 1n)) - 1n : (1n << w) - 1n) + off;
  const step = 1n << BigInt(f.align);
  const name = insn.name;
  if (v < lo || v > hi) {
    const top = hi - ((hi - off) % step); // the largest aligned value
    const range = `${lo}..${top}${step > 1n ? `, a multiple of ${step}` : ""}`;
    const msg =
      f.kind === "target"
        ? `target is ${show(v)} bytes away, out of ${name}'s range (${range})`
        : `${f.kind === "csr" ? "CSR number" : role === "offset" ? "offset" : f.name.includes("shamt") ? "shift amount" : "immediate"} ${show(v)} does not fit ${name}'s ${f.width}-bit ${f.signed ? "signed" : "unsigned"} field (${range})`;
    ctx.error("ISA_OPERAND_RANGE", pos, `${msg}; ${advice(insn, f, role)}`);
    return undefined;
  }
  if ((v - off) % step !== 0n) {
    const what = f.kind === "target" ? "target offset" : role === "offset" ? "offset" : "immediate";
    ctx.error(
      "ISA_OPERAND_RANGE",
      pos,
      `${what} ${show(v)} is not a multiple of ${step}, as ${name} requires`,
    );
    return undefined;
  }
  return Number(v);
}

/** Report a non-zero constraint violation (reserved encodings of compressed instructions). */
export function checkNonzero(
  ctx: InsnContext,
  insn: Instruction,
  values: readonly number[],
  pos: Pos,
): boolean {
  for (const f of insn.nonzero) {
    const i = insn.fields.indexOf(f);
    if (i >= 0 && values[i] === 0) {
      ctx.error(
        "ISA_OPERAND_RANGE",
        pos,
        `${insn.name}'s ${displayName(f)} must not be ${f.kind === "xreg" ? "x0" : "zero"} (that encoding is reserved); use the 32-bit ${insn.expand?.target.name ?? "instruction"}`,
      );
      return false;
    }
  }
  return true;
}
