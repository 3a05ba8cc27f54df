/**
 * Pseudo-instructions that expand to more than one instruction (RISC-V
 * assembly manual, "Pseudoinstructions"): `li` with any 64-bit constant,
 * `la`/`lla`, `call`, `tail`, `jump`, and loads/stores of a symbol.
 * Single-instruction aliases (`mv`, `j`, `ret`, ...) come from the table.
 */
import type { Ordering } from "../encoder.js";
import { FIELDS32 } from "../fields.js";
import { type Instruction, instructionByName } from "../table/index.js";
import type { Expr } from "./expr.js";
import { hi20, lo12 } from "./expr.js";
import type { Pos } from "./lexer.js";
import {
  type Form,
  type InsnContext,
  type Operand,
  type ParseContext,
  type Piece,
  parseRegister,
  parseValue,
} from "./operands.js";
import type { Shape } from "./shapes.js";

const insn = (name: string): Instruction => {
  const i = instructionByName(name);
  if (!i) throw new Error(`the table has no ${name}, which the assembler's pseudo-instructions need`);
  return i;
};
const LUI = insn("lui");
const AUIPC = insn("auipc");
const ADDI = insn("addi");
const ADDIW = insn("addiw");
const SLLI = insn("slli");
const SRLI = insn("srli");
const JALR = insn("jalr");

const RA = 1;
const T1 = 6;
const NONE: Ordering = {};
const piece = (i: Instruction, values: readonly number[] | undefined): Piece => ({
  insn: i,
  values,
  ordering: NONE,
  exact: false,
});

// ---------------------------------------------------------------------------
// li: materializing a 64-bit constant.

/** One step of a constant-materialization sequence. */
export interface LiStep {
  readonly op: "lui" | "addi" | "addiw" | "slli" | "srli";
  readonly imm: number;
}

const fitsSigned = (v: bigint, bits: number): boolean => BigInt.asIntN(bits, v) === v;

function trailingZeros(v: bigint): number {
  let n = 0;
  for (let u = BigInt.asUintN(64, v); u !== 0n && (u & 1n) === 0n; u >>= 1n) n++;
  return n;
}

function leadingZeros(v: bigint): number {
  let n = 0;
  for (let bit = 63n; bit >= 0n && ((BigInt.asUintN(64, v) >> bit) & 1n) === 0n; bit--) n++;
  return n;
}

/**
 * The plain recursive expansion: a 32-bit value is lui (the rounded upper 20
 * bits) plus addiw (the sign-extended low 12); a wider one is the expansion
 * of its upper part, shifted left over its trailing zeros, plus an addi of
 * its low 12 bits.
 */
function plain(v: bigint): LiStep[] {
  if (fitsSigned(v, 32)) {
    const hi = Number(hi20(v));
    const lo = Number(lo12(v));
    const steps: LiStep[] = [];
    if (hi !== 0) steps.push({ op: "lui", imm: hi });
    if (lo !== 0 || hi === 0) steps.push({ op: hi !== 0 ? "addiw" : "addi", imm: lo });
    return steps;
  }
  const lo = lo12(v);
  const rest = BigInt.asUintN(64, v - lo); // a multiple of 4096, and not zero since v is not a 12-bit value
  let shift = trailingZeros(rest);
  let upper = BigInt.asIntN(64 - shift, rest >> BigInt(shift));
  // Shifting by 12 less lets the upper part end in a lui (which supplies 12 zero bits) instead of needing addi.
  if (shift > 12 && !fitsSigned(upper, 12) && fitsSigned(upper << 12n, 32)) {
    shift -= 12;
    upper <<= 12n;
  }
  const steps = [...plain(upper), { op: "slli", imm: shift } as const];
  if (lo !== 0n) steps.push({ op: "addi", imm: Number(lo) });
  return steps;
}

/**
 * A short sequence of lui/addi/addiw/slli/srli that leaves `value` (taken as
 * a 64-bit two's-complement number) in a register: the plain expansion, or
 * when shorter a shifted variant (build the value moved to the top and
 * shift it down with srli, or build it without its trailing zeros and
 * shift it up with slli).
 */
export function liSequence(value: bigint): LiStep[] {
  const v = BigInt.asIntN(64, value);
  let best = plain(v);
  const consider = (steps: LiStep[]): void => {
    if (steps.length < best.length) best = steps;
  };
  if (best.length > 2 && v > 0n) {
    const lz = leadingZeros(v);
    const moved = BigInt.asIntN(64, v << BigInt(lz));
    const ones = (1n << BigInt(lz)) - 1n;
    consider([...plain(BigInt.asIntN(64, moved | ones)), { op: "srli", imm: lz }]);
    consider([...plain(moved), { op: "srli", imm: lz }]);
  }
  const tz = trailingZeros(v);
  if (best.length > 2 && tz > 0 && tz < 64) consider([...plain(v >> BigInt(tz)), { op: "slli", imm: tz }]);
  return best;
}

const STEP_INSN = { lui: LUI, addi: ADDI, addiw: ADDIW, slli: SLLI, srli: SRLI } as const;

/** The pieces of `li rd, value`. */
export function liPieces(rd: number, value: bigint): Piece[] {
  return liSequence(value).map((s, k) => {
    const i = STEP_INSN[s.op];
    if (s.op === "lui") return piece(i, [rd, s.imm]);
    return piece(i, [rd, k === 0 ? 0 : rd, s.imm]);
  });
}

// ---------------------------------------------------------------------------
// pc-relative pairs: auipc + (addi | jalr | load | store).

/** Largest distance auipc+12-bit can reach: (hi20 as signed) << 12 plus lo12. */
const PCREL_MIN = -(1n << 31n) - 0x800n;
const PCREL_MAX = (1n << 31n) - 0x801n;

function pcrelParts(
  ctx: InsnContext,
  target: Expr,
  name: string,
  pos: Pos,
): { hi: number; lo: number } | undefined {
  const t = ctx.value(target);
  if (t === undefined) return undefined;
  const off = BigInt.asIntN(64, t - ctx.pc);
  if (off < PCREL_MIN || off > PCREL_MAX) {
    ctx.error(
      "ISA_OPERAND_RANGE",
      pos,
      `${name}'s target is ${off} bytes away, beyond auipc's ±2 GiB reach; load the address with li and use jalr/addi`,
    );
    return undefined;
  }
  return { hi: Number(hi20(off)), lo: Number(lo12(off)) };
}

/** A form of auipc `temp` followed by `second`, given the low part. */
function pcrelForm(
  target: Expr,
  name: string,
  pos: Pos,
  temp: number,
  second: Instruction,
  secondValues: (lo: number) => number[],
): Form {
  return {
    generate(ctx) {
      const parts = pcrelParts(ctx, target, name, pos);
      return [piece(AUIPC, parts && [temp, parts.hi]), piece(second, parts && secondValues(parts.lo))];
    },
  };
}

// ---------------------------------------------------------------------------
// The pseudo-instruction table.

interface PseudoDef {
  /** Operand usage for messages. */
  readonly usage: string;
  /** Accepted operand counts. */
  readonly counts: readonly number[];
  /** Build the form; operands have the right count. */
  build(ops: readonly Operand[], pos: Pos, pc: ParseContext): Form | undefined;
}

const XD = FIELDS32.xd!;

function loadAddress(name: string): PseudoDef {
  return {
    usage: "rd, symbol",
    counts: [2],
    build(ops, pos, pc) {
      const rd = parseRegister(ops[0]!, XD, name, pc);
      const target = parseValue(ops[1]!, pc);
      if (rd === undefined || !target) return undefined;
      return pcrelForm(target, name, pos, rd, ADDI, (lo) => [rd, rd, lo]);
    },
  };
}

function jumpFar(name: string, link: number, temp: number | undefined): PseudoDef {
  return {
    usage: temp === undefined ? "symbol, rt" : "symbol",
    counts: [temp === undefined ? 2 : 1],
    build(ops, pos, pc) {
      const target = parseValue(ops[0]!, pc);
      const t = temp ?? parseRegister(ops[1]!, XD, name, pc);
      if (!target || t === undefined) return undefined;
      return pcrelForm(target, name, pos, t, JALR, (lo) => [link, lo, t]);
    },
  };
}

/** Multi-instruction pseudo-instructions by mnemonic. */
export const PSEUDOS: ReadonlyMap<string, PseudoDef> = new Map<string, PseudoDef>([
  [
    "li",
    {
      usage: "rd, imm",
      counts: [2],
      build(ops, _pos, pc) {
        const rd = parseRegister(ops[0]!, XD, "li", pc);
        const value = parseValue(ops[1]!, pc);
        if (rd === undefined || !value) return undefined;
        let last = 1; // length of the last sequence, the guess while the value is unknown
        return {
          generate(ctx) {
            const v = ctx.value(value);
            if (v === undefined) return Array.from({ length: last }, () => piece(ADDI, undefined));
            const pieces = liPieces(rd, v);
            last = pieces.length;
            return pieces;
          },
        };
      },
    },
  ],
  ["la", loadAddress("la")],
  ["lla", loadAddress("lla")],
  ["call", jumpFar("call", RA, RA)],
  ["tail", jumpFar("tail", 0, T1)],
  ["jump", jumpFar("jump", 0, undefined)],
]);

// ---------------------------------------------------------------------------
// Loads and stores of a symbol: `lw rd, sym`, `flw fd, sym, rt`, `sw rs, sym, rt`.

/** Major opcodes of loads and stores (unprivileged spec, "RV32/64G Instruction Set Listings"). */
const LOAD_OPCODES = new Set([0x03, 0x07]);
const STORE_OPCODES = new Set([0x23, 0x27]);

/** Whether `insn` (with `shapes`) is a load or store that has a symbol form. */
export function hasSymbolForm(i: Instruction, shapes: readonly Shape[]): boolean {
  const op = i.match & 0x7f;
  return i.length === 4 && shapes.length === 2 && (LOAD_OPCODES.has(op) || STORE_OPCODES.has(op));
}

/** Usage of the symbol form, for messages. */
export const symbolFormUsage = (i: Instruction): string =>
  STORE_OPCODES.has(i.match & 0x7f) ? "rs2, symbol, rt" : "rd, symbol[, rt]";

/**
 * Build `lw rd, sym` (auipc rd; lw rd, %pcrel_lo(rd)) or, with a temporary,
 * `flw fd, sym, rt` / `sw rs, sym, rt` (auipc rt; ... %pcrel_lo(rt)).
 */
export function symbolAccess(
  i: Instruction,
  ops: readonly Operand[],
  pos: Pos,
  pc: ParseContext,
): Form | undefined {
  const store = STORE_OPCODES.has(i.match & 0x7f);
  const reg = parseRegister(ops[0]!, i.fields[0]!, i.name, pc);
  const target = parseValue(ops[1]!, pc);
  const temp =
    ops.length === 3
      ? parseRegister(ops[2]!, XD, i.name, pc)
      : !store && i.fields[0]!.kind === "xreg"
        ? reg
        : undefined;
  if (ops.length === 2 && temp === undefined) {
    pc.diag.syntax(pos, `${i.name} of a symbol needs a temporary register: ${i.name} ${symbolFormUsage(i)}`);
    return undefined;
  }
  if (reg === undefined || temp === undefined || !target) return undefined;
  return pcrelForm(target, i.name, pos, temp, i, (lo) => [reg, lo, temp]);
}
