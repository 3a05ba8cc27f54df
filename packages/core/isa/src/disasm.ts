/**
 * The disassembler, derived from the instruction table. Its output follows
 * llvm-objdump's: ABI register names, decimal immediates, pseudo-instruction
 * aliases, compressed instructions shown through their expansion (or as
 * `c.*` mnemonics with `aliases: false`, like `-M no-aliases`), and
 * pc-relative targets as absolute addresses.
 */
import { csrPrintedName } from "./csr.js";
import { decode, expandCompressed, ILLEGAL, instructionLength } from "./decoder.js";
import { type Field, getField } from "./fields.js";
import { FREG_NAMES, ROUNDING_MODES, XREG_NAMES } from "./registers.js";
import { ALIAS_TABLE, type Alias, INSTRUCTIONS, type Instruction, type SyntaxToken } from "./table/index.js";
import { parsePattern } from "./table/spec.js";

/** Options for {@link disassemble}. */
export interface DisasmOptions {
  /** Print pseudo-instructions and expanded compressed forms (default true), like llvm-objdump without `-M no-aliases`. */
  aliases?: boolean;
  /** Names an address for `0x1234 <sym+0x10>` style targets; return undefined for none. */
  symbolize?: (address: bigint) => string | undefined;
}

/** One disassembled instruction. */
export interface Disassembled {
  /** Instruction id in the table, or -1 for an unknown encoding. */
  readonly id: number;
  /** Encoding length in bytes. */
  readonly length: 2 | 4;
  /** The raw instruction bits (16 or 32 of them). */
  readonly bits: number;
  /** Printed mnemonic (an alias when one applies), or `<unknown>`. */
  readonly mnemonic: string;
  /** Printed operands, comma-and-space separated. */
  readonly operands: string;
  /**
   * Whether the printed form is a pseudo-instruction (or `<unknown>`).
   * llvm-objdump prints a real instruction as mnemonic, tab, operands even
   * when there are no operands (`ecall<tab>`), an alias or `<unknown>`
   * without the tab (`ret`).
   */
  readonly alias: boolean;
  /** Branch or jump target, when the instruction has a pc-relative one. */
  readonly target?: bigint;
}

const MASK64 = (1n << 64n) - 1n;

/**
 * Aliases LLVM defines as instructions of their own, which it therefore
 * prints like real instructions (with the tab after the mnemonic).
 */
const LLVM_REAL = new Set(["unimp"]);

/**
 * Encodings the instruction set accepts but llvm-objdump 14 prints as
 * `<unknown>`, as the stricter bit patterns LLVM decodes them with. FENCE
 * and FENCE.I ignore their reserved fields (unprivileged spec 2.7 and
 * "Zifencei": implementations shall ignore rs1, rd and unknown fm), and the
 * exact conversions ignore rm, but LLVM requires them to be zero.
 */
const LLVM_STRICT: ReadonlyMap<string, { mask: number; match: number }> = new Map(
  (
    [
      ["fence", "0000 ---- ---- 00000 000 00000 0001111"],
      ["fence.i", "000000000000 00000 001 00000 0001111"],
      ["fcvt.d.w", "11010 01 00000 ----- 000 ----- 1010011"],
      ["fcvt.d.wu", "11010 01 00001 ----- 000 ----- 1010011"],
      ["fcvt.d.s", "01000 01 00000 ----- 000 ----- 1010011"],
    ] as const
  ).map(([name, bits]) => [name, parsePattern(bits, 32)]),
);

/** Whether llvm-objdump would print this 32-bit instruction as `<unknown>`. */
function llvmRejects(insn: Instruction, w: number): boolean {
  const strict = LLVM_STRICT.get(insn.name);
  return strict !== undefined && (w & strict.mask) >>> 0 !== strict.match;
}

const aliasesByBase = new Map<number, Alias[]>();
for (const a of ALIAS_TABLE) {
  if (!a.print) continue;
  const l = aliasesByBase.get(a.of.id) ?? [];
  l.push(a);
  aliasesByBase.set(a.of.id, l);
}

function fenceSet(v: number): string {
  const s = `${v & 8 ? "i" : ""}${v & 4 ? "o" : ""}${v & 2 ? "r" : ""}${v & 1 ? "w" : ""}`;
  return s === "" ? "0" : s;
}

interface PrintState {
  pc: bigint;
  target?: bigint;
  symbolize: DisasmOptions["symbolize"];
}

function formatValue(f: Field, v: number, st: PrintState): string {
  switch (f.kind) {
    case "xreg":
      return XREG_NAMES[v]!;
    case "freg":
      return FREG_NAMES[v]!;
    case "imm":
      return String(v);
    case "uimm20":
      return String(v & 0xfffff);
    case "csr":
      return csrPrintedName(v) ?? String(v);
    case "rm":
      return ROUNDING_MODES[v] || String(v);
    case "fence":
      return fenceSet(v);
    case "target": {
      const t = (st.pc + BigInt(v)) & MASK64;
      st.target = t;
      const sym = st.symbolize?.(t);
      return `0x${t.toString(16)}${sym ? ` <${sym}>` : ""}`;
    }
  }
}

function printOperands(
  tokens: readonly SyntaxToken[],
  value: (f: Field) => number,
  st: PrintState,
  omitDynamicRm: boolean,
): string {
  let out = "";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ("text" in t) {
      const next = tokens[i + 1];
      // A trailing ",rm" is dropped when the rounding mode is dynamic (LLVM's alias).
      if (omitDynamicRm && t.text === "," && next && "field" in next && next.field.kind === "rm") {
        if (value(next.field) === 7) {
          i++;
          continue;
        }
      }
      out += t.text === "," ? ", " : t.text;
    } else {
      out += formatValue(t.field, value(t.field), st);
    }
  }
  return out;
}

function aqrlSuffix(insn: Instruction, w: number): string {
  if (!insn.aqrl) return "";
  const aq = (w >>> 26) & 1;
  const rl = (w >>> 25) & 1;
  return aq && rl ? ".aqrl" : aq ? ".aq" : rl ? ".rl" : "";
}

function aliasMatches(a: Alias, w: number, compressed: boolean): boolean {
  if (a.compressedOnly && !compressed) return false;
  for (const [f, v] of a.constants) if (getField(f, w) !== v) return false;
  for (const [f, g] of a.equal) if (getField(f, w) !== getField(g, w)) return false;
  return true;
}

/**
 * Disassemble the instruction whose first bits are `bits` (a compressed
 * instruction uses only the low 16) located at address `pc`.
 */
export function disassemble(bits: number, pc = 0n, options: DisasmOptions = {}): Disassembled {
  const aliases = options.aliases ?? true;
  const length = instructionLength(bits & 0xffff);
  const raw = length === 2 ? bits & 0xffff : bits >>> 0;
  const id = decode(raw);
  if (id === ILLEGAL) {
    // The all-zero halfword is illegal by definition (unprivileged spec,
    // "C" chapter); assemblers and llvm-objdump spell it unimp / c.unimp.
    if (raw === 0 && length === 2) {
      return { id, length, bits: raw, mnemonic: aliases ? "unimp" : "c.unimp", operands: "", alias: false };
    }
    return { id, length, bits: raw, mnemonic: "<unknown>", operands: "", alias: true };
  }
  let insn = INSTRUCTIONS[id]!;
  if (length === 4 && llvmRejects(insn, raw)) {
    return { id: ILLEGAL, length, bits: raw, mnemonic: "<unknown>", operands: "", alias: true };
  }
  const st: PrintState = { pc, symbolize: options.symbolize };
  let word = raw;
  const compressed = length === 2;
  if (compressed && aliases) {
    word = expandCompressed(raw) >>> 0;
    insn = insn.expand!.target;
  }
  let mnemonic = insn.name;
  let syntax = insn.syntax;
  let alias = false;
  if (aliases) {
    for (const a of aliasesByBase.get(insn.id) ?? []) {
      if (aliasMatches(a, word, compressed)) {
        mnemonic = a.name;
        syntax = a.syntax;
        alias = !LLVM_REAL.has(a.name);
        break;
      }
    }
  }
  mnemonic += aqrlSuffix(insn, word);
  const operands = printOperands(syntax, (f) => getField(f, word), st, aliases);
  return st.target === undefined
    ? { id, length, bits: raw, mnemonic, operands, alias }
    : { id, length, bits: raw, mnemonic, operands, alias, target: st.target };
}

/**
 * Disassemble to one line of text: mnemonic, a tab, operands. (llvm-objdump
 * also puts the tab after an operand-less real instruction; listings that
 * must match it byte for byte use {@link Disassembled.alias} to do the same.)
 */
export function disassembleText(bits: number, pc = 0n, options: DisasmOptions = {}): string {
  const d = disassemble(bits, pc, options);
  return d.operands ? `${d.mnemonic}\t${d.operands}` : d.mnemonic;
}
