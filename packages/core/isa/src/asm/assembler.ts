/**
 * The assembler driver: layout passes until addresses settle, then one
 * final pass that emits bytes and reports value errors.
 *
 * Every pass walks the statements in order with the addresses of the
 * previous pass for forward references, so forward labels, `.equ` of later
 * labels, `li` of label differences and compression of branches all work
 * without relocations. Compression only ever grows an instruction back to
 * 32 bits (a "sticky" decision), so the passes converge.
 */
import { allCsrs } from "../csr.js";
import { encodeInstruction } from "../encoder.js";
import { IsaError } from "../errors.js";
import { compress, mayCompress } from "./compress.js";
import { type Diagnostics, suggestion } from "./diagnostics.js";
import { type EvalEnv, evaluate } from "./expr.js";
import type { Pos } from "./lexer.js";
import type { InsnContext, Piece } from "./operands.js";
import { LOCAL_MARK, type Program, type SectionDecl, type SectionFlags } from "./parser.js";

/** Options of {@link assemble}. */
export interface AsmOptions {
  /** Name used in error messages (default `<asm>`). */
  fileName?: string;
  /** Address of the first section (default 0x80000000, where QEMU's virt board and most RISC-V boards start RAM). */
  base?: bigint;
  /**
   * Compress eligible instructions to their 16-bit forms where `.option rvc`
   * is in effect (the default state). Default false: emit only what is written.
   */
  compress?: boolean;
}

/** One section of the assembled image. */
export interface AsmSection {
  /** Section name, e.g. `.text`. */
  name: string;
  /** Load address. */
  address: bigint;
  /** Contents (zeros for a nobits section). */
  data: Uint8Array;
  /** Permissions. */
  flags: SectionFlags;
  /** Zero-initialised (`.bss`): in ELF output it takes no file space. */
  nobits?: boolean;
}

/** What {@link assemble} returns. */
export interface AsmResult {
  /** Flat image of all sections from `base` (gaps and nobits sections zero-filled). */
  bytes: Uint8Array;
  /** `_start` if defined, else `base`. */
  entry: bigint;
  /** Every label and `.equ`/`.set` symbol (numeric local labels excluded). */
  symbols: Map<string, bigint>;
  /** Non-empty sections in address order. */
  sections: AsmSection[];
}

/** Default load address. */
export const DEFAULT_BASE = 0x8000_0000n;

/** Every section starts at least this aligned, so `.dword` data after odd-sized code stays aligned. */
const MIN_SECTION_ALIGN = 8;

/** Give up when layout has not settled after this many passes (each growth is permanent, so this is generous). */
const MAX_PASSES = 64;

/** The canonical nop (addi x0, x0, 0) and compressed nop, for padding in code. */
const NOP = 0x0000_0013;
const C_NOP = 0x0001;

class ByteWriter {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Append `n` bytes of `value`, little-endian. */
  int(value: bigint, n: number): void {
    this.reserve(n);
    for (let i = 0; i < n; i++) this.buf[this.length++] = Number((value >> BigInt(8 * i)) & 0xffn);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  fill(n: number, byte: number): void {
    this.reserve(n);
    this.buf.fill(byte, this.length, this.length + n);
    this.length += n;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** What one pass learns, and what the next pass uses for forward references. */
interface Layout {
  readonly bases: ReadonlyMap<string, bigint>;
  readonly sizes: ReadonlyMap<string, number>;
  readonly symbols: ReadonlyMap<string, bigint>;
  /** Section of each label (absent for `.equ` symbols). */
  readonly labelSections: ReadonlyMap<string, string>;
  readonly pcrel: ReadonlyMap<bigint, bigint>;
}

const EMPTY_LAYOUT: Layout = {
  bases: new Map(),
  sizes: new Map(),
  symbols: new Map(),
  labelSections: new Map(),
  pcrel: new Map(),
};

const alignUp = (v: bigint, a: number): bigint => ((v + BigInt(a) - 1n) / BigInt(a)) * BigInt(a);

/**
 * Place sections: progbits in order of first mention, then nobits; the
 * first at `base`, each later one aligned to its largest alignment.
 */
function placeSections(
  sections: readonly SectionDecl[],
  sizes: ReadonlyMap<string, number>,
  aligns: ReadonlyMap<string, number>,
  base: bigint,
): Map<string, bigint> {
  const ordered = [...sections.filter((s) => !s.nobits), ...sections.filter((s) => s.nobits)];
  const bases = new Map<string, bigint>();
  let at = base;
  for (const [k, s] of ordered.entries()) {
    // The first section starts exactly at base; the caller chose it.
    if (k > 0) at = alignUp(at, aligns.get(s.name) ?? MIN_SECTION_ALIGN);
    bases.set(s.name, at);
    at += BigInt(sizes.get(s.name) ?? 0);
  }
  return bases;
}

function sameMap<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

const CSR_NAMES = allCsrs().map(([, name]) => name);

/** Display a symbol name for messages: numeric local labels as written (`1f`). */
const describeLocal = (display: string): string =>
  display.endsWith("f")
    ? `local label "${display}" has no "${display.slice(0, -1)}:" after it`
    : `local label "${display}" has no "${display.slice(0, -1)}:" before it`;

/** State kept across passes. */
interface Memory {
  /** Pieces ("statement:piece") found not compressible: they stay 32-bit from then on. */
  readonly long: Set<string>;
}

interface PassOutput {
  readonly layout: Layout;
  /** Whether a compression decision changed (then another pass is needed). */
  readonly grew: boolean;
  readonly data?: ReadonlyMap<string, Uint8Array>;
}

function runPass(
  prog: Program,
  prev: Layout,
  base: bigint,
  compressOption: boolean,
  memory: Memory,
  diag: Diagnostics | undefined,
): PassOutput {
  const sectionList = [...prog.sections.values()];
  const final = diag !== undefined;
  const offsets = new Map(sectionList.map((s) => [s.name, 0]));
  const aligns = new Map(sectionList.map((s) => [s.name, MIN_SECTION_ALIGN]));
  const writers = final ? new Map(sectionList.map((s) => [s.name, new ByteWriter()])) : undefined;
  const symbols = new Map<string, bigint>();
  const labelPlaces = new Map<string, readonly [string, number]>();
  const pcrel = new Map<bigint, bigint>();
  let section = prog.sections.get(".text")!;
  let rvc = true;
  const rvcStack: boolean[] = [];
  let grew = false;
  const symbolNames = (): string[] =>
    [...prog.definitions.keys(), ...prev.symbols.keys()].filter((n) => !n.includes(LOCAL_MARK));

  const report = (code: Parameters<Diagnostics["report"]>[0], pos: Pos, what: string): void =>
    diag?.report(code, pos, what);
  const here = (): bigint => (prev.bases.get(section.name) ?? base) + BigInt(offsets.get(section.name)!);
  const writer = (): ByteWriter | undefined => writers?.get(section.name);
  const advance = (n: number): void => {
    offsets.set(section.name, offsets.get(section.name)! + n);
  };

  const env = (pc: bigint, csr = false): EvalEnv => ({
    pc,
    symbol(name, display, pos) {
      const v = symbols.get(name) ?? prev.symbols.get(name);
      if (v !== undefined || !final || prog.definitions.has(name)) return v;
      if (name.includes(LOCAL_MARK)) {
        report("ISA_ASM_UNDEFINED_SYMBOL", pos, `${describeLocal(display)}; define it or fix the direction`);
      } else if (csr) {
        report(
          "ISA_ASM_UNDEFINED_SYMBOL",
          pos,
          `unknown CSR "${name}"; ${suggestion(name.toLowerCase(), CSR_NAMES, "write its number, or define it with .equ")}`,
        );
      } else {
        report(
          "ISA_ASM_UNDEFINED_SYMBOL",
          pos,
          `undefined symbol "${name}"; ${suggestion(name, symbolNames(), "define it as a label or with .equ")}`,
        );
      }
      return undefined;
    },
    pcrelHi: (address) => pcrel.get(address) ?? prev.pcrel.get(address),
    notePcrelHi(offset) {
      pcrel.set(pc, offset);
    },
    error: report,
  });

  /** Check and write a data value of `width` bytes. */
  const emitValue = (v: bigint | undefined, width: number, pos: Pos, what: string): void => {
    if (v !== undefined) {
      const bits = BigInt(8 * width);
      if (width < 8 && (v < -(1n << (bits - 1n)) || v >= 1n << bits)) {
        report(
          "ISA_OPERAND_RANGE",
          pos,
          `value ${v} does not fit ${what} (${-(1n << (bits - 1n))}..${(1n << bits) - 1n}); use a wider directive such as .dword`,
        );
      } else if (section.nobits && v !== 0n) {
        report(
          "ISA_ASM_SYNTAX",
          pos,
          `${section.name} holds only zeros; put initialised data in .data or .rodata, or use .zero`,
        );
      }
    }
    writer()?.int(v ?? 0n, width);
    advance(width);
  };

  prog.statements.forEach((st, index) => {
    switch (st.kind) {
      case "label":
        symbols.set(st.name, here());
        labelPlaces.set(st.name, [section.name, offsets.get(section.name)!]);
        return;
      case "set": {
        const v = evaluate(st.expr, env(here()));
        if (v !== undefined) symbols.set(st.name, v);
        else symbols.delete(st.name);
        return;
      }
      case "section":
        section = prog.sections.get(st.name)!;
        return;
      case "option":
        if (st.option === "rvc" || st.option === "norvc") rvc = st.option === "rvc";
        else if (st.option === "push") rvcStack.push(rvc);
        else if (rvcStack.length > 0) rvc = rvcStack.pop()!;
        else report("ISA_ASM_SYNTAX", st.pos, ".option pop without a matching .option push");
        return;
      case "data":
        for (const { value, pos } of st.values) {
          emitValue(evaluate(value, env(here())), st.width, pos, `a ${st.width}-byte value`);
        }
        return;
      case "bytes":
        if (section.nobits && st.bytes.some((b) => b !== 0)) {
          report(
            "ISA_ASM_SYNTAX",
            st.pos,
            `${section.name} holds only zeros; put strings in .data or .rodata`,
          );
        }
        writer()?.bytes(st.bytes);
        advance(st.bytes.length);
        return;
      case "space": {
        const n = evaluate(st.size, env(here()));
        const fill = st.fill ? evaluate(st.fill, env(here())) : 0n;
        if (n !== undefined && (n < 0n || n > 0x1000_0000n)) {
          report("ISA_OPERAND_RANGE", st.pos, `space of ${n} bytes is negative or larger than 256 MiB`);
          return;
        }
        if (fill !== undefined && (fill < -128n || fill > 255n)) {
          report("ISA_OPERAND_RANGE", st.pos, `fill value ${fill} does not fit a byte (-128..255)`);
        }
        if (section.nobits && fill !== undefined && fill !== 0n) {
          report("ISA_ASM_SYNTAX", st.pos, `${section.name} holds only zeros; drop the fill value`);
        }
        const size = Number(n ?? 0n);
        writer()?.fill(size, Number(BigInt.asUintN(8, fill ?? 0n)));
        advance(size);
        return;
      }
      case "align": {
        const amount = evaluate(st.amount, env(here()));
        if (amount === undefined) return;
        const bad = st.log2 ? amount < 0n || amount > 30n : amount < 0n || (amount & (amount - 1n)) !== 0n;
        if (bad || amount > 1n << 30n) {
          report(
            "ISA_OPERAND_RANGE",
            st.pos,
            st.log2
              ? `alignment 2^${amount} is out of range; .align and .p2align take the log2 of the alignment (0..30)`
              : `.balign ${amount} is not a power of two; use .balign 8 or .align 3`,
          );
          return;
        }
        const bytes = st.log2 ? 1 << Number(amount) : Math.max(1, Number(amount));
        const off = offsets.get(section.name)!;
        const pad = (bytes - (off % bytes)) % bytes;
        const max = st.max ? evaluate(st.max, env(here())) : undefined;
        if (max !== undefined && BigInt(pad) > max) return;
        aligns.set(section.name, Math.max(aligns.get(section.name)!, bytes));
        const w = writer();
        if (w) {
          const fill = st.fill ? evaluate(st.fill, env(here())) : undefined;
          if (fill !== undefined || section.flags !== "rx") {
            w.fill(pad, Number(BigInt.asUintN(8, fill ?? 0n)));
          } else {
            // Code: zero bytes up to 2-byte alignment, nops, then a c.nop (when C is on) for
            // a 2-byte remainder, in llvm-mc's order.
            w.fill(pad % 2, 0);
            for (let left = pad - (pad % 2); left >= 4; left -= 4) w.int(BigInt(NOP), 4);
            if (pad % 4 >= 2) {
              if (rvc) w.int(BigInt(C_NOP), 2);
              else w.fill(2, 0);
            }
          }
        }
        advance(pad);
        return;
      }
      case "instruction": {
        const pc = here();
        const ctx: InsnContext = {
          pc,
          value: (e, csr) => evaluate(e, env(pc, csr)),
          error: report,
        };
        const pieces = st.form.generate(ctx);
        if (section.nobits)
          report("ISA_ASM_SYNTAX", st.pos, `${section.name} cannot hold instructions; switch to .text`);
        pieces.forEach((p, k) => {
          let half: number | undefined;
          const key = `${index}:${k}`;
          if (!p.exact && compressOption && rvc && !memory.long.has(key)) {
            if (p.values) {
              half = compress(p.insn, p.values, p.ordering);
              if (half === undefined) {
                memory.long.add(key);
                grew = true;
              }
            } else if (!final && mayCompress(p.insn)) {
              half = 0; // unknown yet: assume it compresses; a later pass grows it if not
            }
          }
          const length = half !== undefined ? 2 : p.insn.length;
          const w = writer();
          if (w) {
            if (half !== undefined) w.int(BigInt(half), 2);
            else if (p.values) w.int(BigInt(encodeChecked(p, st.pos, report)), length);
            else w.fill(length, 0);
          }
          advance(length);
        });
        return;
      }
    }
  });

  const bases = placeSections(sectionList, offsets, aligns, base);
  const finalSymbols = new Map(symbols);
  for (const [name, [sec, off]] of labelPlaces) finalSymbols.set(name, bases.get(sec)! + BigInt(off));
  const layout: Layout = {
    bases,
    sizes: offsets,
    symbols: finalSymbols,
    labelSections: new Map([...labelPlaces].map(([n, [s]]) => [n, s])),
    pcrel,
  };
  return writers
    ? { layout, grew, data: new Map([...writers].map(([n, w]) => [n, w.result()])) }
    : { layout, grew };
}

/** Encode a piece whose values were range-checked; a remaining encoder complaint is reported, not thrown. */
function encodeChecked(
  p: Piece,
  pos: Pos,
  report: (code: "ISA_OPERAND_RANGE", pos: Pos, what: string) => void,
): number {
  try {
    return encodeInstruction(p.insn, p.values!, p.ordering);
  } catch (e) {
    if (!(e instanceof IsaError)) throw e;
    report("ISA_OPERAND_RANGE", pos, e.message);
    return 0;
  }
}

/** The result of assembling, with what ELF output needs beyond {@link AsmResult}. */
export interface Assembled extends AsmResult {
  /** Section of each label. */
  readonly labelSections: ReadonlyMap<string, string>;
}

/** Run layout passes to a fixed point, then the emitting pass. Throws {@link AsmError} via `diag`. */
export function assembleProgram(prog: Program, options: AsmOptions, diag: Diagnostics): Assembled {
  const base = options.base ?? DEFAULT_BASE;
  const compressOption = options.compress ?? false;
  const memory: Memory = { long: new Set() };
  let layout = EMPTY_LAYOUT;
  let settled = false;
  for (let pass = 0; pass < MAX_PASSES && !settled; pass++) {
    const out = runPass(prog, layout, base, compressOption, memory, undefined);
    settled =
      !out.grew &&
      sameMap(out.layout.bases, layout.bases) &&
      sameMap(out.layout.symbols, layout.symbols) &&
      sameMap(out.layout.pcrel, layout.pcrel);
    layout = out.layout;
  }
  if (!settled) {
    diag.report(
      "ISA_ASM_SYNTAX",
      { line: 1, col: 1 },
      `layout did not settle after ${MAX_PASSES} passes (a size depends on itself, e.g. li of a label difference across the li); make the value a constant`,
    );
  }
  const out = runPass(prog, layout, base, compressOption, memory, diag);
  diag.throwIfAny();

  const sections: AsmSection[] = [];
  let end = base;
  for (const [name, data] of out.data!) {
    const decl = prog.sections.get(name)!;
    const size = out.layout.sizes.get(name) ?? 0;
    if (size === 0) continue;
    const address = out.layout.bases.get(name)!;
    const s: AsmSection = {
      name,
      address,
      data: decl.nobits ? new Uint8Array(size) : data,
      flags: decl.flags,
    };
    if (decl.nobits) s.nobits = true;
    sections.push(s);
    if (address + BigInt(size) > end) end = address + BigInt(size);
  }
  sections.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const bytes = new Uint8Array(Number(end - base));
  for (const s of sections) bytes.set(s.data, Number(s.address - base));
  const symbols = new Map<string, bigint>();
  for (const [name, v] of out.layout.symbols) if (!name.includes(LOCAL_MARK)) symbols.set(name, v);
  return {
    bytes,
    entry: symbols.get("_start") ?? base,
    symbols,
    sections,
    labelSections: out.layout.labelSections,
  };
}
