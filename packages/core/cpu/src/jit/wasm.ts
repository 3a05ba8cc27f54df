/**
 * The WebAssembly backend of the block translator: a region (the blocks of
 * one physical page for one context) becomes one WebAssembly module, with a
 * function per block, that runs on the hart's own state where the machine
 * put it, in the WebAssembly memory that also holds guest RAM (a
 * {@link WasmArena}): the registers as native i64 values (each held in a
 * local once read, written through), loads and stores through the TLB
 * arrays to RAM, the slow paths, out-of-line instructions and the
 * strategy's inline emulations as calls of JavaScript functions (through
 * forwarders in the dispatcher's module: a region module imports no
 * function, see WasmBackend.imports). A
 * block goes on to the next by a tail call (`return_call`), so a chain
 * within the page never returns.
 *
 * Why WebAssembly rather than generated JavaScript: V8 compiles a module
 * with its baseline compiler in microseconds and tiers hot functions up in
 * the background, with no speculation and so no deoptimization; JavaScript
 * ran unoptimized until TurboFan had compiled it (~0.2-0.5 ms of CPU per
 * guest instruction) and deoptimized on paths it had not seen. Measurements
 * in the README of @hvkit/binary-translation.
 *
 * A block function keeps the JavaScript backend's contract (see compileJs
 * in translator.ts), precise faults and steps counted per block, with the
 * steps so far in and out: `(steps, budget, page VA, TLB set base, blocks
 * run) -> steps`; a run leaves the pc in the jit words unless a slow path
 * or callout left it in the hart, and how it left (JW_PC_KIND). Every block
 * function has a slot in one function table and every translated page a
 * block map (the slot of the block at each offset), so the chain function
 * and the dispatcher's loop (both in a module of their own) go from any
 * block to any other without returning to JavaScript.
 */
import { BLOCK_MAP_BYTES, type WasmArena } from "../memory.js";
import {
  JC_ENTRIES,
  JC_ENTRY_BYTES,
  JW_BLOCKS_LO,
  JW_DBASE,
  JW_PC_HI,
  JW_PC_KIND,
  JW_PC_LO,
  JW_RESV,
  JW_STALE_PAGE,
  jumpCacheOffset,
  ST_JW,
  ST_X,
  TLB_ARRAYS,
  TLB_SET_BITS,
  TLB_SET_ENTRIES,
  tlbOffset,
} from "./layout.js";
import type { Block, BlockInsn, Region } from "./translator.js";

/** A `WebAssembly.Table` of functions. */
interface WasmTable {
  readonly length: number;
  grow(delta: number): number;
  set(index: number, value: unknown): void;
}

/** The part of the WebAssembly JavaScript API the backend uses (no DOM types in isomorphic builds). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { readonly exports: Record<string, unknown> };
  Table: new (descriptor: { element: "anyfunc"; initial: number; maximum?: number }) => WasmTable;
}

/** The dispatcher's loop: `(block's table slot, budget, page VA low, VA high, TLB set base, context + 1) -> steps`. */
export type WasmDispatch = (
  slot: number,
  budget: number,
  vLo: number,
  vHi: number,
  dBase: number,
  ctx1: number,
) => number;

/** The runtime's WebAssembly API, if it has one. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** What the backend needs from the hart. */
export interface WasmHost {
  readonly arena: WasmArena;
  /** Byte offset of RAM in the arena's memory. */
  readonly ramOffset: number;
  /** Entries per TLB array. */
  readonly tlbEntries: number;
  /**
   * The translation directory in the arena, two words per RAM page: the
   * context + 1 of the page's translated code that other translated code
   * may chain to (0: none), and the byte address of its block map.
   */
  readonly directory: Int32Array;
  /**
   * The block maps in the arena (a pool of {@link BLOCK_MAP_BYTES} each): for
   * a page in the directory, the function-table slot + 1 of the region with
   * a block at each 2-byte offset (0: none).
   */
  readonly blockMaps: Uint16Array;
  /** Function-table slots the block maps can name (the most regions at once). */
  readonly slots: number;
  /** The interpreter's operation numbers by name. */
  readonly ops: Readonly<Record<string, number>>;
  /** The hart's jitLoad / jitStore: (lo, hi, decode word, pc lo, pc hi, steps) -> 1 to end the run. */
  readonly load: (lo: number, hi: number, a: number, pcLo: number, pcHi: number, steps: number) => number;
  readonly store: (lo: number, hi: number, a: number, pcLo: number, pcHi: number, steps: number) => number;
  /** The hart's jitSystem: (a, b, pc lo, pc hi, steps) -> 1 to end the run. */
  readonly system: (a: number, b: number, pcLo: number, pcHi: number, steps: number) => number;
  /** Ops that always leave the block (a trap, a return), by op number: 1. */
  readonly stops: Uint8Array;
  /** The generated-code environment (names and values) inline emulations are compiled against. */
  readonly envNames: readonly string[];
  readonly envValues: readonly unknown[];
}

// Opcodes (WebAssembly core specification 1.0 plus sign extension, section 5.4).
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const BR = 0x0c;
const BR_TABLE = 0x0e;
const RETURN = 0x0f;
const CALL = 0x10;
const CALL_INDIRECT = 0x11;
const RETURN_CALL = 0x12;
const RETURN_CALL_INDIRECT = 0x13;
const UNREACHABLE = 0x00;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_LOAD = 0x28;
const I64_LOAD = 0x29;
const I32_LOAD16_U = 0x2f;
const I32_STORE = 0x36;
const I64_STORE = 0x37;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_EQZ = 0x45;
const I32_EQ = 0x46;
const I32_NE = 0x47;
const I32_GE_S = 0x4e;
const I32_LE_U = 0x4d;
const I32_GT_S = 0x4a;
const I64_EQZ = 0x50;
const I64_EQ = 0x51;
const I64_NE = 0x52;
const I64_LT_S = 0x53;
const I64_LT_U = 0x54;
const I64_GE_S = 0x59;
const I64_GE_U = 0x5a;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_DIV_S = 0x6d;
const I32_DIV_U = 0x6e;
const I32_REM_S = 0x6f;
const I32_REM_U = 0x70;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_SHR_S = 0x75;
const I32_SHR_U = 0x76;
const I64_ADD = 0x7c;
const I64_SUB = 0x7d;
const I64_MUL = 0x7e;
const I64_DIV_S = 0x7f;
const I64_DIV_U = 0x80;
const I64_REM_S = 0x81;
const I64_REM_U = 0x82;
const I64_AND = 0x83;
const I64_OR = 0x84;
const I64_XOR = 0x85;
const I64_SHL = 0x86;
const I64_SHR_S = 0x87;
const I64_SHR_U = 0x88;
const I32_WRAP_I64 = 0xa7;
const I64_EXTEND_I32_S = 0xac;
const I64_EXTEND_I32_U = 0xad;
const I64_EXTEND32_S = 0xc4;
const SELECT = 0x1b;
const T_I32 = 0x7f;
const T_I64 = 0x7e;
const T_VOID = 0x40;

// Sized loads and stores.
const I64_LOAD8_S = 0x30;
const I64_LOAD8_U = 0x31;
const I64_LOAD16_S = 0x32;
const I64_LOAD16_U = 0x33;
const I64_LOAD32_S = 0x34;
const I64_LOAD32_U = 0x35;
const I64_STORE8 = 0x3c;
const I64_STORE16 = 0x3d;
const I64_STORE32 = 0x3e;

// Parameters of a block function: the steps of the chain so far, the budget, the page's virtual
// base, the TLB set base and the blocks run so far in this region (see WasmBackend.functions).
const B_N = 0;
const B_LIM = 1;
const B_VB = 2;
const B_DB = 3;
const B_NB = 4;
// Its locals: i32 scratch, then i64 scratch, then one i64 per guest register it uses.
const L_LO = 5;
const L_HI = 6;
const L_I = 7;
const L_O = 8;
const L_T = 9;
const I32_LOCALS = 5; // L_LO .. L_T
const L_A = 10;
const L_B = 11;
/** The first register local (registers get locals in the order a block first uses them). */
const L_REGS = 12;

// The dispatcher module's functions a region calls, by index in the table of them it imports (`e.f`,
// see WasmBackend.imports): the load and store slow paths, the system path (forwarders to the
// hart's), the chain, and the inline emulations' call `(id, vLo, vHi, n)` (see inlineCall).
const K_LD = 0;
const K_ST = 1;
const K_SYS = 2;
/** The chain (shared by every region: see chainFunction). */
const K_CHAIN = 3;
const K_INLINE = 4;
/** The chain to another region's block on the region's own page (see pageChainFunction). */
const K_PAGE = 5;
/** Entries of the table of the dispatcher's functions. */
const K_ENTRIES = 6;
// A region module imports no functions. Its own: the exit,
// the three high-product helpers, then one function per block in address order (each exported,
// by block number, for its table slot).
const OWN_EXIT = 0;
const OWN_MULHU = 1;
/** The load and store slow paths' calls (see slowFunction), then the exit of a slow path that ended the run. */
const OWN_LD = 4;
const OWN_ST = 5;
const OWN_EXIT_HART = 6;
const OWN_BLOCKS = 7;

// Exit kinds (JW_PC_KIND).
/** A control transfer: the dispatcher's loop may chain to the target's region. */
const EXIT_CHAIN = 0;
/** The pc is in the hart (a slow path, a callout, an out-of-line instruction ended the run). */
const EXIT_HART = 1;
/** Back to the hart's dispatcher with the pc in the jit words (the budget, a resync). */
const EXIT_STOP = 2;
/** As EXIT_STOP, and the translations of page JW_STALE_PAGE are stale (see straddleGuard). */
const EXIT_STALE = 3;
/** Function table slots added at a time. */
const TABLE_GROWTH = 256;

/** The magic number and version of a WebAssembly binary module. */
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00] as const;

/** Bytes of a size reserved ahead of its content (see Body.reserve): a padded u32 LEB128. */
const SIZE_BYTES = 5;

/**
 * A module under construction, written straight into one growable byte
 * buffer that the backend reuses from module to module (building regions is
 * on the main thread's critical path: number arrays and their copies cost
 * ~0.4 s of Debian's boot), with the structured-control nesting of the
 * function being written. A label is the nesting level its construct
 * opened at, so a branch depth is a subtraction.
 */
class Body {
  private buf = new Uint8Array(1 << 16);
  /** Bytes written. */
  len = 0;
  /** Open control constructs of the current function. */
  private open = 0;

  /** Start a new module (the buffer is kept). */
  reset(): void {
    this.len = 0;
    this.open = 0;
  }

  /** The module's bytes, valid until the next reset (WebAssembly.Module copies them). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  op(b: number): void {
    if (this.len === this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }
  /** Raw bytes. */
  raw(a: ArrayLike<number>): void {
    if (this.len + a.length > this.buf.length) this.grow(a.length);
    for (let i = 0; i < a.length; i++) this.buf[this.len++] = a[i]!;
  }
  /** The unsigned LEB128 encoding of `v` (< 2^32). */
  uleb(v: number): void {
    let x = v >>> 0;
    while (x >= 0x80) {
      this.op((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    this.op(x);
  }
  /** The signed LEB128 encoding of the integer `v` (|v| < 2^53). */
  sleb(v: number): void {
    if (v === (v | 0)) {
      let x = v;
      for (;;) {
        const byte = x & 0x7f;
        x >>= 7;
        if ((x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0)) {
          this.op(byte);
          return;
        }
        this.op(byte | 0x80);
      }
    }
    let x = v;
    for (;;) {
      const byte = ((x % 128) + 128) % 128;
      x = Math.floor(x / 128);
      if ((x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0)) {
        this.op(byte);
        return;
      }
      this.op(byte | 0x80);
    }
  }
  /** A name (import module, field, export), ASCII only, as a vector of bytes. */
  name(t: string): void {
    this.uleb(t.length);
    for (let i = 0; i < t.length; i++) this.op(t.charCodeAt(i));
  }
  /** Reserve a size to write once its content is (see sized); returns its position. */
  reserve(): number {
    const at = this.len;
    for (let i = 0; i < SIZE_BYTES; i++) this.op(0);
    return at;
  }
  /** Write at `at` (reserved) the size of everything after it, as a padded LEB128 (valid WebAssembly). */
  sized(at: number): void {
    let x = this.len - at - SIZE_BYTES;
    for (let i = 0; i < SIZE_BYTES - 1; i++) {
      this.buf[at + i] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    this.buf[at + SIZE_BYTES - 1] = x;
  }
  /** Overwrite the byte at `at`. */
  patch(at: number, b: number): void {
    this.buf[at] = b;
  }
  /** Section `id`, its content written by `content`. */
  section(id: number, content: () => void): void {
    this.op(id);
    const at = this.reserve();
    content();
    this.sized(at);
  }
  /** Start a function body: its size, then its locals, (count, type) pairs. */
  fn(...locals: number[]): number {
    const at = this.reserve();
    this.uleb(locals.length >>> 1);
    for (let i = 0; i < locals.length; i += 2) {
      this.uleb(locals[i]!);
      this.op(locals[i + 1]!);
    }
    this.open = 0;
    return at;
  }
  /** End the function started at `at` (its final `end` is written here). */
  endFn(at: number): void {
    this.op(END);
    this.sized(at);
  }

  i32(v: number): void {
    this.op(I32_CONST);
    this.sleb(v | 0);
  }
  i64(v: number): void {
    this.op(I64_CONST);
    this.sleb(v);
  }
  get(l: number): void {
    this.op(LOCAL_GET);
    this.uleb(l);
  }
  set(l: number): void {
    this.op(LOCAL_SET);
    this.uleb(l);
  }
  tee(l: number): void {
    this.op(LOCAL_TEE);
    this.uleb(l);
  }
  /** A memory access with alignment hint `align` (log2) at constant address `offset` plus the address on the stack. */
  mem(opcode: number, align: number, offset: number): void {
    this.op(opcode);
    this.uleb(align);
    this.uleb(offset);
  }
  call(f: number): void {
    this.op(CALL);
    this.uleb(f);
  }
  /** A tail call: the callee's result is this function's. */
  returnCall(f: number): void {
    this.op(RETURN_CALL);
    this.uleb(f);
  }
  /** A call through table 0 with type `type`; as a tail call with `tail`. */
  callIndirect(type: number, tail: boolean): void {
    this.op(tail ? RETURN_CALL_INDIRECT : CALL_INDIRECT);
    this.uleb(type);
    this.op(0);
  }
  /** Open a block; returns its label. */
  block(type = T_VOID): number {
    this.op(BLOCK);
    this.op(type);
    return this.open++;
  }
  /** Open a loop; returns its label. */
  loop(): number {
    this.op(LOOP);
    this.op(T_VOID);
    return this.open++;
  }
  if(type = T_VOID): void {
    this.op(IF);
    this.op(type);
    this.open++;
  }
  else(): void {
    this.op(ELSE);
  }
  end(): void {
    this.op(END);
    this.open--;
  }
  /** Branch depth of `label` from here. */
  private depth(label: number): number {
    if (label < 0 || label >= this.open) throw new Error("wasm backend: branch to a label not in scope");
    return this.open - 1 - label;
  }
  br(label: number): void {
    this.op(BR);
    this.uleb(this.depth(label));
  }
  brTable(labels: readonly number[], fallback: number): void {
    this.op(BR_TABLE);
    this.uleb(labels.length);
    for (const l of labels) this.uleb(this.depth(l));
    this.uleb(this.depth(fallback));
  }
}

/** Kinds of operation the generator knows, by the interpreter's op number. */
enum G {
  OTHER,
  LUI,
  AUIPC,
  IMM,
  IMMW,
  REG,
  REGW,
  MULH,
  DIV,
  DIVW,
  LOAD,
  STORE,
  FENCE,
  JAL,
  JALR,
  BRANCH,
  LR,
  SC,
  AMO,
}

/** AMO functions (funct5) the generator does inline: all of RV64A's. */
const AMO_ADD = 0x00;
const AMO_SWAP = 0x01;
const AMO_XOR = 0x04;
const AMO_OR = 0x08;
const AMO_AND = 0x0c;
const AMO_MIN = 0x10;
const AMO_MAX = 0x14;
const AMO_MINU = 0x18;
const AMO_MAXU = 0x1c;
const AMO_FUNCTIONS = new Set([
  AMO_ADD,
  AMO_SWAP,
  AMO_XOR,
  AMO_OR,
  AMO_AND,
  AMO_MIN,
  AMO_MAX,
  AMO_MINU,
  AMO_MAXU,
]);

/** What each op does: [kind, wasm opcode or helper, extra]. */
const OP_TABLE: Record<string, readonly [G, number, number]> = {
  LUI: [G.LUI, 0, 0],
  AUIPC: [G.AUIPC, 0, 0],
  ADDI: [G.IMM, I64_ADD, 0],
  SLTI: [G.IMM, I64_LT_S, 1],
  SLTIU: [G.IMM, I64_LT_U, 1],
  XORI: [G.IMM, I64_XOR, 0],
  ORI: [G.IMM, I64_OR, 0],
  ANDI: [G.IMM, I64_AND, 0],
  SLLI: [G.IMM, I64_SHL, 0],
  SRLI: [G.IMM, I64_SHR_U, 0],
  SRAI: [G.IMM, I64_SHR_S, 0],
  ADD: [G.REG, I64_ADD, 0],
  SUB: [G.REG, I64_SUB, 0],
  SLL: [G.REG, I64_SHL, 0],
  SRL: [G.REG, I64_SHR_U, 0],
  SRA: [G.REG, I64_SHR_S, 0],
  SLT: [G.REG, I64_LT_S, 1],
  SLTU: [G.REG, I64_LT_U, 1],
  XOR: [G.REG, I64_XOR, 0],
  OR: [G.REG, I64_OR, 0],
  AND: [G.REG, I64_AND, 0],
  MUL: [G.REG, I64_MUL, 0],
  ADDIW: [G.IMMW, I32_ADD, 0],
  SLLIW: [G.IMMW, I32_SHL, 0],
  SRLIW: [G.IMMW, I32_SHR_U, 0],
  SRAIW: [G.IMMW, I32_SHR_S, 0],
  ADDW: [G.REGW, I32_ADD, 0],
  SUBW: [G.REGW, I32_SUB, 0],
  SLLW: [G.REGW, I32_SHL, 0],
  SRLW: [G.REGW, I32_SHR_U, 0],
  SRAW: [G.REGW, I32_SHR_S, 0],
  MULW: [G.REGW, I32_MUL, 0],
  // High products: the module's own helper functions (after the imports), by number.
  MULHU: [G.MULH, 0, 0],
  MULH: [G.MULH, 1, 0],
  MULHSU: [G.MULH, 2, 0],
  // Division: opcode, and 1 for remainders, 2 for unsigned, 4 for the signed overflow case.
  DIV: [G.DIV, I64_DIV_S, 4],
  DIVU: [G.DIV, I64_DIV_U, 2],
  REM: [G.DIV, I64_REM_S, 1],
  REMU: [G.DIV, I64_REM_U, 3],
  DIVW: [G.DIVW, I32_DIV_S, 4],
  DIVUW: [G.DIVW, I32_DIV_U, 2],
  REMW: [G.DIVW, I32_REM_S, 1],
  REMUW: [G.DIVW, I32_REM_U, 3],
  // Loads: opcode, alignment (log2); stores the same.
  LB: [G.LOAD, I64_LOAD8_S, 0],
  LBU: [G.LOAD, I64_LOAD8_U, 0],
  LH: [G.LOAD, I64_LOAD16_S, 1],
  LHU: [G.LOAD, I64_LOAD16_U, 1],
  LW: [G.LOAD, I64_LOAD32_S, 2],
  LWU: [G.LOAD, I64_LOAD32_U, 2],
  LD: [G.LOAD, I64_LOAD, 3],
  SB: [G.STORE, I64_STORE8, 0],
  SH: [G.STORE, I64_STORE16, 1],
  SW: [G.STORE, I64_STORE32, 2],
  SD: [G.STORE, I64_STORE, 3],
  // Atomics: the access's opcode (AMOs: none, see atomic), alignment (log2).
  LR_W: [G.LR, I64_LOAD32_S, 2],
  LR_D: [G.LR, I64_LOAD, 3],
  SC_W: [G.SC, I64_STORE32, 2],
  SC_D: [G.SC, I64_STORE, 3],
  AMO_W: [G.AMO, 0, 2],
  AMO_D: [G.AMO, 0, 3],
  FENCE: [G.FENCE, 0, 0],
  FENCE_I: [G.FENCE, 0, 0],
  JAL: [G.JAL, 0, 0],
  JALR: [G.JALR, 0, 0],
  BEQ: [G.BRANCH, I64_EQ, 0],
  BNE: [G.BRANCH, I64_NE, 0],
  BLT: [G.BRANCH, I64_LT_S, 0],
  BGE: [G.BRANCH, I64_GE_S, 0],
  BLTU: [G.BRANCH, I64_LT_U, 0],
  BGEU: [G.BRANCH, I64_GE_U, 0],
};

/**
 * Function types of a region's module: 0 block (the table's signature), 1
 * load/store slow path, 2 system, 3 inline emulation, 4 (i64, i64) -> i64,
 * 5 exit, 6 chain, 7 load/store slow path call, 8 exit of a slow path.
 */
const TYPES: readonly (readonly [readonly number[], readonly number[]])[] = [
  // (n, lim, vb, dB, nb)
  [[T_I32, T_I32, T_I64, T_I32, T_I32], [T_I32]],
  [[T_I32, T_I32, T_I32, T_I32, T_I32, T_I32], [T_I32]],
  [[T_I32, T_I32, T_I32, T_I32, T_I32], [T_I32]],
  // (inline emulation id, vLo, vHi, n)
  [[T_I32, T_I32, T_I32, T_I32], [T_I32]],
  [[T_I64, T_I64], [T_I64]],
  // (pc, kind, n, nb)
  [[T_I64, T_I32, T_I32, T_I32], [T_I32]],
  // (pc, n, lim, dB, nb, ctx)
  [[T_I64, T_I32, T_I32, T_I32, T_I32, T_I32], [T_I32]],
  // (lo, hi, a, offset | k << 12, n, vb)
  [[T_I32, T_I32, T_I32, T_I32, T_I32, T_I64], [T_I32]],
  // (n, nb)
  [[T_I32, T_I32], [T_I32]],
  // (pc, n, lim, dB, nb, ctx, page)
  [[T_I64, T_I32, T_I32, T_I32, T_I32, T_I32, T_I32], [T_I32]],
];
const TYPE_BLOCK = 0;
const TYPE_LD_ST = 1;
const TYPE_SYS = 2;
const TYPE_INLINE = 3;
const TYPE_MUL = 4;
const TYPE_EXIT = 5;
const TYPE_CHAIN = 6;
const TYPE_SLOW = 7;
const TYPE_EXIT_HART = 8;
const TYPE_PAGE = 9;
/** Types of a region's own functions before its blocks (see OWN_EXIT). */
const OWN_TYPES = [TYPE_EXIT, TYPE_MUL, TYPE_MUL, TYPE_MUL, TYPE_SLOW, TYPE_SLOW, TYPE_EXIT_HART] as const;

/** Write the import of the memory (`e.m`, no minimum size): every module's first. */
function importMemory(w: Body): void {
  w.name("e");
  w.name("m");
  w.raw([0x02, 0x00, 0x00]);
}

/** Write a function type. */
function typeEntry(w: Body, [params, results]: readonly [readonly number[], readonly number[]]): void {
  w.op(0x60);
  w.uleb(params.length);
  w.raw(params);
  w.uleb(results.length);
  w.raw(results);
}

/** Write the high-product helpers (mulhu, mulh, mulhsu), type 4, as functions `base` to `base + 2`. */
function mulHelpers(u: Body, base: number): void {
  // mulhu: 32x32 partial products. Locals: 2 al, 3 ah, 4 bl, 5 bh, 6 mid.
  const at = u.fn(5, T_I64);
  const M = 0xffffffff;
  u.get(0);
  u.i64(M);
  u.op(I64_AND);
  u.set(2);
  u.get(0);
  u.i64(32);
  u.op(I64_SHR_U);
  u.set(3);
  u.get(1);
  u.i64(M);
  u.op(I64_AND);
  u.set(4);
  u.get(1);
  u.i64(32);
  u.op(I64_SHR_U);
  u.set(5);
  // mid = (al*bl >>> 32) + (al*bh & M) + (ah*bl & M)
  u.get(2);
  u.get(4);
  u.op(I64_MUL);
  u.i64(32);
  u.op(I64_SHR_U);
  u.get(2);
  u.get(5);
  u.op(I64_MUL);
  u.i64(M);
  u.op(I64_AND);
  u.op(I64_ADD);
  u.get(3);
  u.get(4);
  u.op(I64_MUL);
  u.i64(M);
  u.op(I64_AND);
  u.op(I64_ADD);
  u.set(6);
  // ah*bh + (al*bh >>> 32) + (ah*bl >>> 32) + (mid >>> 32)
  u.get(3);
  u.get(5);
  u.op(I64_MUL);
  u.get(2);
  u.get(5);
  u.op(I64_MUL);
  u.i64(32);
  u.op(I64_SHR_U);
  u.op(I64_ADD);
  u.get(3);
  u.get(4);
  u.op(I64_MUL);
  u.i64(32);
  u.op(I64_SHR_U);
  u.op(I64_ADD);
  u.get(6);
  u.i64(32);
  u.op(I64_SHR_U);
  u.op(I64_ADD);
  u.endFn(at);
  // mulh = mulhu - ((a >> 63) & b) - ((b >> 63) & a); mulhsu = mulhu - ((a >> 63) & b).
  for (const both of [true, false]) {
    const s = u;
    const at2 = s.fn();
    s.get(0);
    s.get(1);
    s.call(base);
    s.get(0);
    s.i64(63);
    s.op(I64_SHR_S);
    s.get(1);
    s.op(I64_AND);
    s.op(I64_SUB);
    if (both) {
      s.get(1);
      s.i64(63);
      s.op(I64_SHR_S);
      s.get(0);
      s.op(I64_AND);
      s.op(I64_SUB);
    }
    s.endFn(at2);
  }
}

/** How {@link emitChainLookup} finds its operands and what it does where the target is unknown. */
interface ChainLookup {
  /** Push the target pc's low and high words. */
  pcLo(): void;
  pcHi(): void;
  /** Push the fetch TLB set's first entry (the fetch mode, the context's low 3 bits, times TLB_SET_ENTRIES). */
  set(): void;
  /** Push the context + 1 a directory entry must hold. */
  ctx1(): void;
  /** Locals (i32): the TLB entry's byte index, the directory entry's, and (out) the target's table slot. */
  readonly tlbIdx: number;
  readonly dirIdx: number;
  readonly slot: number;
  /** Leave (return or tail-call): the target's page is not in the TLB, or has no block there for the context. */
  miss(): void;
  /**
   * The jump cache (see JC_ENTRIES), if the lookup uses it: `idx` an i32
   * local for the entry's byte index, `pc` pushes the target pc as an i64.
   */
  readonly jc?: { readonly idx: number; pc(): void };
}

/**
 * The lookup that validates a chain to a block on any page (the
 * dispatcher's loop and a region's own chain make the same one): the fetch
 * TLB entry of the target's page, the directory entry of its physical page,
 * then the entry of the target's offset in the page's block map. Falls
 * through with the table slot of the region that has the block in `slot`.
 */
function emitChainLookup(f: Body, L: WasmBackend["layout"], o: ChainLookup): void {
  const found = f.block();
  o.pcLo();
  f.i32(12);
  f.op(I32_SHR_U);
  f.i32(TLB_SET_ENTRIES - 1);
  f.op(I32_AND);
  o.set();
  f.op(I32_ADD);
  f.i32(2);
  f.op(I32_SHL);
  f.tee(o.tlbIdx);
  f.mem(I32_LOAD, 2, L.tlb.itag);
  o.pcLo();
  f.i32(-4096);
  f.op(I32_AND);
  f.op(I32_XOR);
  f.get(o.tlbIdx);
  f.mem(I32_LOAD, 2, L.tlb.itagHi);
  o.pcHi();
  f.op(I32_XOR);
  f.op(I32_OR);
  f.if();
  o.miss();
  f.end();
  const jc = o.jc;
  if (jc !== undefined) {
    // The entry of pc holds its slot if it names the same pc, physical page and context.
    o.pcLo();
    f.i32(1);
    f.op(I32_SHR_U);
    f.i32(JC_ENTRIES - 1);
    f.op(I32_AND);
    f.i32(4);
    f.op(I32_SHL);
    f.tee(jc.idx);
    f.mem(I64_LOAD, 3, L.JC);
    jc.pc();
    f.op(I64_EQ);
    f.get(jc.idx);
    f.mem(I32_LOAD, 2, L.JC + 8);
    f.get(o.tlbIdx);
    f.mem(I32_LOAD, 2, L.tlb.ioff);
    o.ctx1();
    f.op(I32_OR);
    f.op(I32_EQ);
    f.op(I32_AND);
    f.if();
    f.get(jc.idx);
    f.mem(I32_LOAD, 2, L.JC + 12);
    f.set(o.slot);
    f.br(found);
    f.end();
  }
  f.get(o.tlbIdx);
  f.mem(I32_LOAD, 2, L.tlb.ioff);
  f.i32(12);
  f.op(I32_SHR_U);
  f.i32(3);
  f.op(I32_SHL);
  f.tee(o.dirIdx);
  f.mem(I32_LOAD, 2, L.DIR);
  o.ctx1();
  f.op(I32_NE);
  f.if();
  o.miss();
  f.end();
  f.get(o.dirIdx);
  f.mem(I32_LOAD, 2, L.DIR + 4);
  o.pcLo();
  f.i32(4094);
  f.op(I32_AND);
  f.op(I32_ADD);
  f.mem(I32_LOAD16_U, 1, 0);
  f.tee(o.slot);
  f.op(I32_EQZ);
  f.if();
  o.miss();
  f.end();
  if (jc !== undefined) {
    f.get(jc.idx);
    jc.pc();
    f.mem(I64_STORE, 3, L.JC);
    f.get(jc.idx);
    f.get(o.tlbIdx);
    f.mem(I32_LOAD, 2, L.tlb.ioff);
    o.ctx1();
    f.op(I32_OR);
    f.mem(I32_STORE, 2, L.JC + 8);
    f.get(jc.idx);
    f.get(o.slot);
    f.mem(I32_STORE, 2, L.JC + 12);
  }
  f.end();
}

/**
 * A store to the LR reservation's 8-byte granule drops it: the RAM offset
 * of a byte stored is on the stack (consumed), `resv` the reservation's
 * jit word's byte address. (None is -1: -1 ^ offset has bit 31 set, RAM
 * offsets being below 2^31, so it never matches.)
 */
function dropReservationAt(f: Body, resv: number): void {
  f.i32(0);
  f.mem(I32_LOAD, 2, resv);
  f.op(I32_XOR);
  f.i32(-8);
  f.op(I32_AND);
  f.op(I32_EQZ);
  f.if();
  f.i32(0);
  f.i32(-1);
  f.mem(I32_STORE, 2, resv);
  f.end();
}

/**
 * In a slow path's forwarder: push the register file byte offset of the
 * register field at bit `shift` of the decode word (param 2), `mask` wide
 * (rd's field holds 32 for x0, whose writes go to the sink after x31).
 */
function registerAt(f: Body, shift: number, mask: number): void {
  f.get(2);
  f.i32(shift);
  f.op(I32_SHR_U);
  f.i32(mask);
  f.op(I32_AND);
  f.i32(3);
  f.op(I32_SHL);
}

/** In a slow path's forwarder: push the RAM offset of the access (param 0) through TLB entry local 6 (`off` its offsets array). */
function ramOffsetAt(f: Body, off: number): void {
  f.get(6);
  f.mem(I32_LOAD, 2, off);
  f.get(0);
  f.i32(4095);
  f.op(I32_AND);
  f.op(I32_ADD);
}

/** The WebAssembly backend of one hart's translator. */
export class WasmBackend {
  private readonly api: WasmApi;
  private readonly host: WasmHost;
  private readonly kind = new Uint8Array(256);
  private readonly opc = new Int32Array(256);
  private readonly extra = new Int32Array(256);
  /** Byte addresses in the memory. */
  private readonly X: number;
  private readonly JW: number;
  private readonly JC: number;
  private readonly RAM: number;
  /** The jump cache (emptied whenever a region leaves the cache). */
  private readonly jumpCache: Int32Array;
  private readonly tlb: Record<(typeof TLB_ARRAYS)[number], number>;
  /**
   * A region module's imports: the memory and the dispatcher module's
   * functions, never JavaScript's. (V8 compiles a wrapper for each
   * JavaScript import's signature in every module that imports one, with
   * its optimizing compiler: ~0.35 ms of the ~0.6 ms a region's module took
   * to compile. The dispatcher's module imports the hart's slow paths and
   * the inline emulations' call once, and forwards to them.)
   */
  private readonly imports: Record<string, Record<string, unknown>>;
  /** The inline emulations of live regions, by id (see inlineCall); null where free. */
  private readonly inlineFns: (InlineEmulation | null)[] = [null];
  private readonly freeInlines: number[] = [];
  /** The function table: a slot per live region. */
  private readonly table: WasmTable;
  private readonly freeSlots: number[] = [];
  /** The next table slot never used (slot 0 is no region's: 0 in a block map is none). */
  private nextSlot = 1;
  /** The dispatcher's loop (see dispatcherModule). */
  readonly dispatch: WasmDispatch;
  /** The module being written (its buffer is reused). */
  private readonly w = new Body();
  /** The start of every region's module: the header and the type section. */
  private readonly prefix: Uint8Array;
  /** The import section's entries of every region's module: the memory and the table of the dispatcher's functions. */
  private readonly fixedImports: Uint8Array;

  constructor(api: WasmApi, host: WasmHost) {
    this.api = api;
    this.host = host;
    for (const [name, [k, opcode, extra]] of Object.entries(OP_TABLE)) {
      const op = host.ops[name];
      if (op === undefined) throw new Error(`wasm backend: the interpreter has no op ${name}`);
      this.kind[op] = k;
      this.opc[op] = opcode;
      this.extra[op] = extra;
    }
    const s = host.arena.stateOffset;
    this.X = s + ST_X;
    this.JW = s + ST_JW;
    this.JC = s + jumpCacheOffset(host.tlbEntries);
    // (Entries an earlier translator on this arena left would name another table's slots.)
    this.jumpCache = new Int32Array(host.arena.memory.buffer, this.JC, (JC_ENTRIES * JC_ENTRY_BYTES) / 4);
    this.jumpCache.fill(0);
    this.RAM = host.ramOffset;
    const tlb = {} as Record<(typeof TLB_ARRAYS)[number], number>;
    TLB_ARRAYS.forEach((name, k) => {
      tlb[name] = s + tlbOffset(k, host.tlbEntries);
    });
    this.tlb = tlb;
    this.table = new api.Table({ element: "anyfunc", initial: TABLE_GROWTH });
    const inlineFns = this.inlineFns;
    const d = new api.Instance(new api.Module(this.dispatcherModule()), {
      e: {
        m: host.arena.memory,
        t: this.table,
        ld: host.load,
        st: host.store,
        sys: host.system,
        in: (id: number, vLo: number, vHi: number, n: number): number => inlineFns[id]!(vLo, vHi, n),
      },
    });
    this.dispatch = d.exports.d as WasmDispatch;
    const x = d.exports;
    const fns = new api.Table({ element: "anyfunc", initial: K_ENTRIES, maximum: K_ENTRIES });
    fns.set(K_LD, x.ld);
    fns.set(K_ST, x.st);
    fns.set(K_SYS, x.sys);
    fns.set(K_CHAIN, x.c);
    fns.set(K_PAGE, x.p);
    fns.set(K_INLINE, x.in);
    this.imports = { e: { m: host.arena.memory, f: fns } };
    const w = this.w;
    w.reset();
    w.raw(WASM_HEADER);
    w.section(1, () => {
      w.uleb(TYPES.length);
      for (const t of TYPES) typeEntry(w, t);
    });
    this.prefix = w.bytes().slice();
    w.reset();
    importMemory(w);
    // The table of the dispatcher's functions (`e.f`, funcref, exactly K_ENTRIES).
    w.name("e");
    w.name("f");
    w.raw([0x01, 0x70, 0x01, K_ENTRIES, K_ENTRIES]);
    this.fixedImports = w.bytes().slice();
  }

  /** Put a block's function in the table (a free slot) and return the slot, -1 when the table is full. */
  private place(fn: unknown): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.nextSlot >= this.host.slots) return -1;
      slot = this.nextSlot++;
      if (slot >= this.table.length) this.table.grow(TABLE_GROWTH);
    }
    this.table.set(slot, fn);
    return slot;
  }

  /** Region `r` left the cache: free its blocks' slots (the block maps no longer name them). */
  release(r: Region): void {
    for (const id of r.inlines) {
      this.inlineFns[id] = null;
      this.freeInlines.push(id);
    }
    r.inlines = [];
    const slots = r.slots;
    if (slots === null) return;
    // The jump cache may name its slots (and they may be reused).
    this.jumpCache.fill(0);
    for (const slot of slots) {
      if (slot < 0) continue;
      this.table.set(slot, null);
      this.freeSlots.push(slot);
    }
    r.slots = null;
  }

  /**
   * The dispatcher's loop, in its own module over the function table: call
   * the block in `slot`; while translated code leaves by a control transfer
   * (kind 0) with budget left, look its target up in the fetch TLB (the set
   * of the fetch mode, the context's low 3 bits), the directory and the
   * page's block map, and call that block in turn. Anything else, or a
   * target the TLB, the directory or the map do not know, goes back to the
   * hart's dispatcher. A chain is valid as long as the fetch TLB maps the
   * page: the TLB is the hart's, flushed with it. (Blocks make the same
   * lookup themselves to chain on directly, see chainFunction; the loop
   * takes the transfers they leave to it: misses, targets not translated
   * yet.)
   */
  private dispatcherModule(): Uint8Array {
    const L = this.layout;
    const f = this.w;
    f.reset();
    f.raw(WASM_HEADER);
    // Types: 0 a block, 1 the loop (and the load and store slow paths: six i32 to i32), 2 the chain,
    // 3 the system path, 4 the inline emulations' call, 5 the in-page chain.
    f.section(1, () => {
      f.op(6);
      typeEntry(f, TYPES[TYPE_BLOCK]!);
      typeEntry(f, TYPES[TYPE_LD_ST]!);
      typeEntry(f, TYPES[TYPE_CHAIN]!);
      typeEntry(f, TYPES[TYPE_SYS]!);
      typeEntry(f, TYPES[TYPE_INLINE]!);
      typeEntry(f, TYPES[TYPE_PAGE]!);
    });
    const forwards = [
      ["ld", 1],
      ["st", 1],
      ["sys", 3],
      ["in", 4],
    ] as const;
    f.section(2, () => {
      f.op(2 + forwards.length);
      importMemory(f);
      // The function table (`e.t`, funcref, no minimum size): this module's alone (see module).
      f.name("e");
      f.name("t");
      f.raw([0x01, 0x70, 0x00, 0x00]);
      for (const [field, type] of forwards) {
        f.name("e");
        f.name(field);
        f.op(0x00);
        f.op(type);
      }
    });
    // The loop, the chain, a forwarder per JavaScript import, then the in-page chain.
    const own = forwards.length;
    f.section(3, () => f.raw([3 + forwards.length, 1, 2, ...forwards.map(([, type]) => type), 5]));
    f.section(7, () => {
      f.op(3 + forwards.length);
      f.name("d");
      f.raw([0x00, own]);
      f.name("c");
      f.raw([0x00, own + 1]);
      forwards.forEach(([field], i) => {
        f.name(field);
        f.raw([0x00, own + 2 + i]);
      });
      f.name("p");
      f.raw([0x00, own + 2 + forwards.length]);
    });
    f.op(10);
    const code = f.reserve();
    f.op(3 + forwards.length);
    // Params: 0 slot, 1 lim, 2 vLo, 3 vHi, 4 dB, 5 ctx1.
    // Locals: 6 n, 7 r (the last call's steps), 8 pcLo, 9 pcHi, 10 TLB index, 11 directory index,
    // 12 kind, 13 n after.
    const at = f.fn(8, T_I32);
    // The run's data TLB set, for the slow paths' forwarders (see misalignedLoads).
    f.i32(0);
    f.get(4);
    f.mem(I32_STORE, 2, L.JW + JW_DBASE * 4);
    const top = f.loop();
    f.get(6);
    f.get(1);
    f.get(3);
    f.op(I64_EXTEND_I32_U);
    f.i64(32);
    f.op(I64_SHL);
    f.get(2);
    f.op(I64_EXTEND_I32_U);
    f.op(I64_OR);
    f.get(4);
    f.i32(0);
    f.get(0);
    f.callIndirect(0, false);
    f.tee(13);
    f.get(6);
    f.op(I32_SUB);
    f.set(7);
    f.get(13);
    f.set(6);
    f.i32(0);
    f.mem(I32_LOAD, 2, L.JW + JW_PC_KIND * 4);
    f.set(12);
    // Back to the hart unless a control transfer (EXIT_CHAIN, 0) with budget left; a call that ran
    // nothing stopped at the budget.
    f.get(12);
    f.get(7);
    f.op(I32_EQZ);
    f.op(I32_OR);
    f.get(6);
    f.get(1);
    f.op(I32_GE_S);
    f.op(I32_OR);
    f.if();
    f.get(6);
    f.op(RETURN);
    f.end();
    f.i32(0);
    f.mem(I32_LOAD, 2, L.JW + JW_PC_LO * 4);
    f.set(8);
    f.i32(0);
    f.mem(I32_LOAD, 2, L.JW + JW_PC_HI * 4);
    f.set(9);
    emitChainLookup(f, L, {
      pcLo: () => f.get(8),
      pcHi: () => f.get(9),
      set: () => {
        f.get(5);
        f.i32(1);
        f.op(I32_SUB);
        f.i32(7);
        f.op(I32_AND);
        f.i32(TLB_SET_BITS);
        f.op(I32_SHL);
      },
      ctx1: () => f.get(5),
      tlbIdx: 10,
      dirIdx: 11,
      slot: 0,
      miss: () => {
        f.get(6);
        f.op(RETURN);
      },
    });
    f.get(8);
    f.i32(-4096);
    f.op(I32_AND);
    f.set(2);
    f.get(9);
    f.set(3);
    f.br(top);
    f.end();
    f.op(UNREACHABLE);
    f.endFn(at);
    this.chainFunction(f);
    forwards.forEach(([name, type], i) => {
      const fwd = f.fn(2, T_I32);
      if (name === "ld") this.misalignedLoads(f);
      if (name === "st") this.misalignedStores(f);
      const params = type === 1 ? 6 : type === 3 ? 5 : 4;
      for (let p = 0; p < params; p++) f.get(p);
      f.call(i);
      f.endFn(fwd);
    });
    this.pageChainFunction(f);
    f.sized(code);
    return f.bytes();
  }

  /**
   * Compile region `r` (its blocks, numbered by `r.idx`) and put each
   * block's function in a table slot (`r.slots`); false when the table is
   * full; throws if the runtime refuses the module.
   */
  compile(r: Region): boolean {
    const inlines: number[] = [];
    r.inlines = inlines;
    let exports: Record<string, unknown>;
    try {
      exports = new this.api.Instance(new this.api.Module(this.module(r, inlines)), this.imports).exports;
    } catch (e) {
      this.release(r);
      throw e;
    }
    const slots = new Int32Array(r.blocks.length);
    r.slots = slots;
    for (let i = 0; i < slots.length; i++) {
      slots[i] = this.place(exports[i]);
      if (slots[i]! < 0) {
        slots.fill(-1, i);
        this.release(r);
        return false;
      }
    }
    return true;
  }

  /**
   * The region's module (imports: the memory and the table of the
   * dispatcher's functions, `K_*`), its functions in function-index order:
   *
   * - the exit: leaves the pc, how the region left and the blocks run in
   *   the jit words, and returns the steps;
   * - the high-product helpers;
   * - the load and store slow paths' calls, and the exit after one;
   * - a function per block, in address order, exported by block number (0
   *   based) for its table slot, which ends in a tail call: of the next
   *   block's function (a chain within the region), of the chain (entry
   *   K_CHAIN: a jump through a register, or out of the region) or of the exit.
   *
   * A function per block, not one for the region: V8 compiles each lazily,
   * at its first call, and optimizes only those that run hot (measured on
   * Debian's boot: optimizing whole regions took ~90 us of background CPU
   * per guest instruction, ~5 s in all, for code mostly lukewarm). A block
   * that branches to itself loops inside its function. The ids of the
   * inline emulations the blocks call are pushed on `inlines`.
   */
  private module(r: Region, inlines: number[]): Uint8Array {
    const blocks = r.blocks;
    // Address order: position p's function is OWN_BLOCKS + p.
    const order = blocks.map((_, i) => i).sort((a, b) => blocks[a]!.off - blocks[b]!.off);
    /** Position in `order` of the block numbered `no` (1-based), by block number. */
    const pos = new Int32Array(blocks.length + 1);
    order.forEach((i, p) => {
      pos[i + 1] = p;
    });
    const frame: RegionFrame = {
      pos,
      mulBase: OWN_MULHU,
      exit: OWN_EXIT,
      exitHart: OWN_EXIT_HART,
      loadSlow: OWN_LD,
      storeSlow: OWN_ST,
      blocks: OWN_BLOCKS,
    };
    const w = this.w;
    w.reset();
    w.raw(this.prefix);
    // Imports: the memory and the table of the dispatcher's functions. (Not the function table of
    // the blocks: V8 initializes an instance's view of an imported table entry by entry, and updates
    // every importer's at each table.set, ~3% of the boot's main thread with all regions importing
    // it. The table of the dispatcher's functions is never set after it is made.)
    w.section(2, () => {
      w.op(2);
      w.raw(this.fixedImports);
    });
    // Function types.
    w.section(3, () => {
      w.uleb(OWN_BLOCKS + order.length);
      w.raw(OWN_TYPES);
      for (let p = 0; p < order.length; p++) w.op(TYPE_BLOCK);
    });
    // Export the blocks by number.
    w.section(7, () => {
      w.uleb(order.length);
      for (let i = 0; i < blocks.length; i++) {
        w.name(String(i));
        w.op(0x00);
        w.uleb(frame.blocks + pos[i + 1]!);
      }
    });
    // Code.
    w.op(10);
    const code = w.reserve();
    w.uleb(OWN_BLOCKS + order.length);
    this.exitFunction();
    mulHelpers(w, frame.mulBase);
    this.slowFunction(K_LD, TYPE_LD_ST);
    this.slowFunction(K_ST, TYPE_LD_ST);
    this.exitHartFunction(frame.exit);
    const gen = new RegionGen(this, r, frame, inlines, w);
    for (let p = 0; p < order.length; p++) gen.block(blocks[order[p]!]!, p);
    w.sized(code);
    return w.bytes();
  }

  /**
   * The chain, in the dispatcher's module and shared by every region: `(pc,
   * n, lim, dB, nb, ctx)`, a control transfer to `pc` outside a region of
   * context `ctx`. Where the fetch TLB maps pc's page (the set of the
   * context's fetch mode) and the page's block map has a block of this
   * context at pc, a tail call of that block's function, as the
   * dispatcher's loop would make, without returning to it; else it leaves
   * as a region's exit does (the loop looks again and the hart's dispatcher
   * interprets). The target checks the budget.
   */
  private chainFunction(f: Body): void {
    const L = this.layout;
    // Locals: 6 pc low, 7 TLB byte index, 8 directory byte index then the target's slot, 9 pc high,
    // 10 jump cache byte index.
    const at = f.fn(5, T_I32);
    const leave = (): void => this.chainLeave(f);
    f.get(0);
    f.op(I32_WRAP_I64);
    f.set(6);
    f.get(0);
    f.i64(32);
    f.op(I64_SHR_U);
    f.op(I32_WRAP_I64);
    f.set(9);
    emitChainLookup(f, L, {
      pcLo: () => f.get(6),
      pcHi: () => f.get(9),
      set: () => {
        f.get(5);
        f.i32(7);
        f.op(I32_AND);
        f.i32(TLB_SET_BITS);
        f.op(I32_SHL);
      },
      ctx1: () => {
        f.get(5);
        f.i32(1);
        f.op(I32_ADD);
      },
      tlbIdx: 7,
      dirIdx: 8,
      slot: 8,
      miss: leave,
      jc: { idx: 10, pc: () => f.get(0) },
    });
    this.chainCall(f, 8);
    f.endFn(at);
  }

  /**
   * The start of the load slow path's forwarder `(lo, hi, a, pcLo, pcHi,
   * steps)`, locals 6 and 7 i32: a misaligned load inside one page that the
   * load TLB maps (plain RAM) is done here, rd written in the register file,
   * and returns 0, as the hart's jitLoad would after reading the bytes one
   * by one (Debian's boot makes ~317 K misaligned 8-byte loads, and as many
   * stores, from translated code: a call into JavaScript each, ~0.1 us).
   * Anything else falls through to the hart.
   */
  private misalignedLoads(f: Body): void {
    for (const [op, size, opc] of this.wideAccesses(G.LOAD)) {
      this.misalignedInPage(f, op, size, this.tlb.rtag, this.tlb.rtagHi);
      // X[rd] = the bytes.
      registerAt(f, 8, 63);
      ramOffsetAt(f, this.tlb.roff);
      f.mem(opc, 0, this.RAM);
      f.mem(I64_STORE, 3, this.X);
      f.i32(0);
      f.op(RETURN);
      f.end();
      f.end();
    }
  }

  /**
   * The store slow path's forwarder's start, as {@link misalignedLoads}: the
   * value from the register file (rs2), and the LR reservation dropped if
   * either 8-byte granule the store touches holds it (the hart's ramWritten;
   * a page the store TLB maps holds no code and is not watched).
   */
  private misalignedStores(f: Body): void {
    for (const [op, size, opc] of this.wideAccesses(G.STORE)) {
      this.misalignedInPage(f, op, size, this.tlb.wtag, this.tlb.wtagHi);
      // Local 7: the RAM offset written.
      ramOffsetAt(f, this.tlb.woff);
      f.tee(7);
      registerAt(f, 19, 31);
      f.mem(I64_LOAD, 3, this.X);
      f.mem(opc, 0, this.RAM);
      // Its first and last bytes' granules.
      for (const last of [0, size - 1]) {
        f.get(7);
        if (last !== 0) {
          f.i32(last);
          f.op(I32_ADD);
        }
        dropReservationAt(f, this.JW + JW_RESV * 4);
      }
      f.i32(0);
      f.op(RETURN);
      f.end();
      f.end();
    }
  }

  /** The loads or stores (`kind`) wider than a byte, from {@link OP_TABLE}: [op number, size, opcode]. */
  private wideAccesses(kind: G.LOAD | G.STORE): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (const [name, [k, opcode, align]] of Object.entries(OP_TABLE))
      if (k === kind && align > 0) out.push([this.host.ops[name]!, 1 << align, opcode]);
    return out;
  }

  /**
   * Open two ifs (the caller closes them): the forwarder's access (param 0
   * lo, 1 hi, 2 the decode word) is operation `op`, misaligned inside one
   * page, and the TLB (`tag`, `tagHi`, the set of the run's data mode, see
   * JW_DBASE) maps that page; local 6 then holds the entry's byte index.
   */
  private misalignedInPage(f: Body, op: number, size: number, tag: number, tagHi: number): void {
    f.get(2);
    f.i32(0xff);
    f.op(I32_AND);
    f.i32(op);
    f.op(I32_EQ);
    f.get(0);
    f.i32(size - 1);
    f.op(I32_AND);
    f.i32(0);
    f.op(I32_NE);
    f.op(I32_AND);
    f.get(0);
    f.i32(4095);
    f.op(I32_AND);
    f.i32(4096 - size);
    f.op(I32_LE_U);
    f.op(I32_AND);
    f.if();
    f.i32(0);
    f.mem(I32_LOAD, 2, this.JW + JW_DBASE * 4);
    f.get(0);
    f.i32(12);
    f.op(I32_SHR_U);
    f.i32(TLB_SET_ENTRIES - 1);
    f.op(I32_AND);
    f.op(I32_ADD);
    f.i32(2);
    f.op(I32_SHL);
    f.tee(6);
    f.mem(I32_LOAD, 2, tag);
    f.get(0);
    f.i32(-4096);
    f.op(I32_AND);
    f.op(I32_XOR);
    f.get(6);
    f.mem(I32_LOAD, 2, tagHi);
    f.get(1);
    f.op(I32_XOR);
    f.op(I32_OR);
    f.op(I32_EQZ);
    f.if();
  }

  /**
   * The in-page chain, in the dispatcher's module: `(pc, n, lim, dB, nb, ctx,
   * page)`, a control transfer from a region of RAM page `page` to an offset
   * of the same page where the region has no block (another region of the
   * page may: a page gets regions one profile at a time). The target is on
   * the page the running code was fetched from, through the mapping it was
   * entered by (every change of mapping ends a run), so the fetch TLB and
   * the jump cache need no look: the page's directory entry (a map of this
   * context) and block map do. On Debian's boot ~27 M transfers a boot go
   * this way, 63% of those that left a region.
   */
  private pageChainFunction(f: Body): void {
    const L = this.layout;
    // Local 7: the directory byte index, then the target's slot.
    const at = f.fn(1, T_I32);
    const leave = (): void => this.chainLeave(f);
    f.get(6);
    f.i32(3);
    f.op(I32_SHL);
    f.tee(7);
    f.mem(I32_LOAD, 2, L.DIR);
    f.get(5);
    f.i32(1);
    f.op(I32_ADD);
    f.op(I32_NE);
    f.if();
    leave();
    f.end();
    f.get(7);
    f.mem(I32_LOAD, 2, L.DIR + 4);
    f.get(0);
    f.op(I32_WRAP_I64);
    f.i32(4094);
    f.op(I32_AND);
    f.op(I32_ADD);
    f.mem(I32_LOAD16_U, 1, 0);
    f.tee(7);
    f.op(I32_EQZ);
    f.if();
    leave();
    f.end();
    this.chainCall(f, 7);
    f.endFn(at);
  }

  /**
   * A chain's end (in the chain functions, params 0 pc, 1 n, 2 lim, 3 dB, 4
   * nb): a tail call of the target block in table slot `slot` (a local), with
   * the blocks run so far counted on.
   */
  private chainCall(f: Body, slot: number): void {
    f.get(1);
    f.get(2);
    f.get(0);
    f.i64(-4096);
    f.op(I64_AND);
    f.get(3);
    f.get(4);
    f.get(slot);
    f.callIndirect(TYPE_BLOCK, true);
    f.op(UNREACHABLE);
  }

  /**
   * A chain's miss (in the chain functions, params 0 pc, 1 n and 4 nb): leave
   * as a region's exit does, the target pc in the jit words (kind
   * EXIT_CHAIN: the loop looks again and the hart's dispatcher interprets).
   */
  private chainLeave(f: Body): void {
    f.i32(0);
    f.get(0);
    f.mem(I64_STORE, 3, this.JW + JW_PC_LO * 4);
    f.i32(0);
    f.i32(EXIT_CHAIN);
    f.mem(I32_STORE, 2, this.JW + JW_PC_KIND * 4);
    this.countBlocks(f, 4);
    f.get(1);
    f.op(RETURN);
  }

  /** The exit: `(pc, kind, n, nb)`: the pc, the kind and the blocks run into the jit words; returns n. */
  private exitFunction(): void {
    const f = this.w;
    const at = f.fn();
    f.i32(0);
    f.get(0);
    f.mem(I64_STORE, 3, this.JW + JW_PC_LO * 4);
    f.i32(0);
    f.get(1);
    f.mem(I32_STORE, 2, this.JW + JW_PC_KIND * 4);
    this.countBlocks(f, 3);
    f.get(2);
    f.endFn(at);
  }

  /**
   * A load or store slow path's call (entry `k` of the dispatcher's functions), shared by a module's
   * loads or stores so each site passes 6 short operands rather than
   * computing the pc and the steps itself (~11 bytes less per site, ~5% of
   * a module): `(lo, hi, a, offset | k << 12, n, vb)`, the import's
   * `(lo, hi, a, pc lo, pc hi, n + k)`.
   */
  private slowFunction(k: number, type: number): void {
    const f = this.w;
    const at = f.fn();
    f.get(0);
    f.get(1);
    f.get(2);
    f.get(5);
    f.op(I32_WRAP_I64);
    f.get(3);
    f.i32(4095);
    f.op(I32_AND);
    f.op(I32_OR);
    f.get(5);
    f.i64(32);
    f.op(I64_SHR_U);
    f.op(I32_WRAP_I64);
    f.get(4);
    f.get(3);
    f.i32(12);
    f.op(I32_SHR_U);
    f.op(I32_ADD);
    f.i32(k);
    f.callIndirect(type, false);
    f.endFn(at);
  }

  /** The exit of a run a slow path ended (the pc is in the hart): `(n, nb)`. */
  private exitHartFunction(exit: number): void {
    const f = this.w;
    const at = f.fn();
    f.i64(0);
    f.i32(EXIT_HART);
    f.get(0);
    f.get(1);
    f.returnCall(exit);
    f.endFn(at);
  }

  /** Add the i32 local `nb` (blocks a region ran) to the jit words' blocks counter. */
  private countBlocks(f: Body, nb: number): void {
    f.i32(0);
    f.i32(0);
    f.mem(I64_LOAD, 3, this.JW + JW_BLOCKS_LO * 4);
    f.get(nb);
    f.op(I64_EXTEND_I32_U);
    f.op(I64_ADD);
    f.mem(I64_STORE, 3, this.JW + JW_BLOCKS_LO * 4);
  }

  /** Internal (RegionGen): addresses and op tables. */
  get layout() {
    return {
      X: this.X,
      JW: this.JW,
      JC: this.JC,
      DIR: this.host.directory.byteOffset,
      RAM: this.RAM,
      tlb: this.tlb,
      kind: this.kind,
      opc: this.opc,
      extra: this.extra,
      stops: this.host.stops,
    };
  }

  /**
   * Internal (RegionGen): compile the inline emulation `insn` and return its
   * id, the first operand of the inline emulations' call (import `in`).
   */
  inlineCall(insn: BlockInsn): number {
    const fn = this.inlineFunction(insn);
    let id = this.freeInlines.pop();
    if (id === undefined) {
      id = this.inlineFns.length;
      this.inlineFns.push(fn);
    } else this.inlineFns[id] = fn;
    return id;
  }

  /** The inline emulation `insn` as a JavaScript function (vLo, vHi, n) -> 0 go on, 1 resync, 2 callout. */
  private inlineFunction(insn: BlockInsn): InlineEmulation {
    const rw = insn.inline!;
    const o = insn.off;
    const k = insn.k;
    // As the JavaScript backend's callout: pc on the instruction, the steps so far counted.
    const callout =
      rw.callout === undefined
        ? ""
        : `{H.pcLo=vLo|${o};H.pcHi=vHi;H.stepsInRun=n+${k};H.retiredInRun=n+${k - 1};${rw.callout};` +
          "H.jitShort=1;H.resync=true;return 2;}";
    const code = rw.code.split("$CALLOUT").join(callout);
    const src = `"use strict";return function inline_${o}(vLo,vHi,n){{${code}}return H.resync?1:0;};`;
    return new Function(...this.host.envNames, src)(...this.host.envValues) as InlineEmulation;
  }
}

/** A compiled inline emulation: (page VA low, high, steps) -> 0 go on, 1 resync, 2 callout. */
type InlineEmulation = (vLo: number, vHi: number, n: number) => number;

/** The numbering of a region's functions (see WasmBackend.functions). */
interface RegionFrame {
  /** Position in address order by block number (1-based). */
  readonly pos: Int32Array;
  /** Function index of the mulhu helper (mulh, mulhsu follow). */
  readonly mulBase: number;
  /** Function index of the exit and of the exit of a slow path. */
  readonly exit: number;
  readonly exitHart: number;
  /** Function indices of the load and store slow paths' calls (see slowFunction). */
  readonly loadSlow: number;
  readonly storeSlow: number;
  /** Function index of the block at position 0 in address order (the others follow). */
  readonly blocks: number;
}

/** Code generation for one region's blocks, a function each. */
class RegionGen {
  /** The module the functions are written into. */
  private readonly f: Body;
  /** Registers (bit per register) whose locals hold their current value. */
  private cached = 0;
  /** Each guest register's local in the current function (0: none yet). */
  private readonly regLocal = new Int32Array(32);
  /** Register locals of the current function. */
  private regLocals = 0;
  /** The loop label of a block that branches to itself, else -1. */
  private self = -1;
  private readonly L: WasmBackend["layout"];

  constructor(
    private readonly be: WasmBackend,
    private readonly r: Region,
    private readonly frame: RegionFrame,
    /** Ids of the inline emulations the region calls (see WasmBackend.inlineCall). */
    private readonly inlines: number[],
    w: Body,
  ) {
    this.L = be.layout;
    this.f = w;
  }

  /** Leave with pc = page base + `off` (may be past the page), `k` more steps, exit kind `kind`. */
  private exitAt(off: number, k: number, kind = EXIT_CHAIN): void {
    const f = this.f;
    f.get(B_VB);
    f.i64(off);
    f.op(I64_ADD);
    if (kind === EXIT_CHAIN) {
      this.chainTo(k);
      return;
    }
    f.i32(kind);
    this.steps(k);
    f.get(B_NB);
    f.returnCall(this.frame.exit);
  }

  /** Go on at the pc on the stack (a control transfer out of the region), `k` more steps: the chain. */
  private chainTo(k: number): void {
    const f = this.f;
    this.steps(k);
    f.get(B_LIM);
    f.get(B_DB);
    f.get(B_NB);
    f.i32(this.r.ctx);
    f.i32(K_CHAIN);
    f.callIndirect(TYPE_CHAIN, true);
  }

  /** Leave with pc already in the hart (a slow path, a callout or an out-of-line instruction ended the run). */
  private exitHart(k: number): void {
    const f = this.f;
    this.steps(k);
    f.get(B_NB);
    f.returnCall(this.frame.exitHart);
  }

  /** Push the steps so far plus `k`. */
  private steps(k: number): void {
    this.f.get(B_N);
    if (k !== 0) {
      this.f.i32(k);
      this.f.op(I32_ADD);
    }
  }

  /** Push the page's virtual base, low and high words (the pc of an instruction is low | offset). */
  private vLo(off: number): void {
    const f = this.f;
    f.get(B_VB);
    f.op(I32_WRAP_I64);
    if (off !== 0) {
      f.i32(off);
      f.op(I32_OR);
    }
  }
  private vHi(): void {
    const f = this.f;
    f.get(B_VB);
    f.i64(32);
    f.op(I64_SHR_U);
    f.op(I32_WRAP_I64);
  }

  /** The local of guest register r in the current function. */
  private reg(r: number): number {
    let l = this.regLocal[r]!;
    if (l === 0) {
      l = L_REGS + this.regLocals++;
      this.regLocal[r] = l;
    }
    return l;
  }

  /** Push guest register r (i64); x0 is 0. Called outside if arms only (what it caches holds on every path). */
  private src(r: number): void {
    const f = this.f;
    if (r === 0) {
      f.i64(0);
      return;
    }
    if (this.cached & (1 << r)) {
      f.get(this.reg(r));
      return;
    }
    f.i32(0);
    f.mem(I64_LOAD, 3, this.L.X + 8 * r);
    f.tee(this.reg(r));
    this.cached |= 1 << r;
  }

  /** Pop the value into guest register r (1-31), written through to the register file. */
  private dst(r: number): void {
    const f = this.f;
    const l = this.reg(r);
    f.set(l);
    f.i32(0);
    f.get(l);
    f.mem(I64_STORE, 3, this.L.X + 8 * r);
    this.cached |= 1 << r;
  }

  /** Reload register r's local from the register file (a slow path wrote it). */
  private reload(r: number): void {
    const f = this.f;
    f.i32(0);
    f.mem(I64_LOAD, 3, this.L.X + 8 * r);
    f.set(this.reg(r));
    this.cached |= 1 << r;
  }

  /** Write the function of block `b`, at position `p` in address order: `(n, lim, vb, dB, nb) -> steps`. */
  block(b: Block, p: number): void {
    const f = this.f;
    this.cached = 0;
    this.regLocal.fill(0);
    this.regLocals = 0;
    // Locals: the i32 scratch (L_LO .. L_T), then the i64 ones (L_A, L_B and the registers), their
    // count patched at the end (a single LEB128 byte: at most 2 + 31).
    const at = f.fn(I32_LOCALS, T_I32, 2, T_I64);
    const i64Count = f.len - 2;
    const e = b.end;
    const loops =
      (e.kind === "link" && e.target === b.off) ||
      (e.kind === "branch" && !e.far && (e.target === b.off || e.fall === b.off));
    this.self = loops ? f.loop() : -1;
    // The step budget: a block runs only if it fits.
    f.get(B_N);
    f.get(B_LIM);
    f.i32(b.count);
    f.op(I32_SUB);
    f.op(I32_GT_S);
    f.if();
    this.exitAt(b.off, 0, EXIT_STOP);
    f.end();
    f.get(B_NB);
    f.i32(1);
    f.op(I32_ADD);
    f.set(B_NB);
    const insns = b.insns;
    const last =
      b.end.kind === "jalr" || b.end.kind === "branch" || b.end.kind === "far" ? insns.length - 1 : -1;
    for (let i = 0; i < insns.length; i++) {
      if (i === last) break;
      this.insn(insns[i]!);
    }
    f.get(B_N);
    f.i32(b.count);
    f.op(I32_ADD);
    f.set(B_N);
    this.terminator(b, p, last >= 0 ? insns[last]! : null);
    if (this.self >= 0) f.end();
    // Every path has left by a tail call.
    f.op(UNREACHABLE);
    f.patch(i64Count, 2 + this.regLocals);
    f.endFn(at);
  }

  /** Continue at in-page offset `target` (a block start or not), from the block at position `p`. */
  private link(target: number, p: number): void {
    const f = this.f;
    if (target >= 4096) {
      // Past the page end (after an instruction straddling it, the next page's offset 2).
      this.exitAt(target, 0);
      return;
    }
    const no = this.r.idx[target >>> 1]!;
    if (no === 0) {
      // Not a block of this region: the in-page chain (another region's block, or back to the loop).
      const f = this.f;
      f.get(B_VB);
      f.i64(target);
      f.op(I64_ADD);
      f.get(B_N);
      f.get(B_LIM);
      f.get(B_DB);
      f.get(B_NB);
      f.i32(this.r.ctx);
      f.i32(this.r.page);
      f.i32(K_PAGE);
      f.callIndirect(TYPE_PAGE, true);
      return;
    }
    const q = this.frame.pos[no]!;
    if (q === p && this.self >= 0) {
      // The cached registers hold at the loop's top only if nothing is cached there (see src).
      this.cached = 0;
      f.br(this.self);
      return;
    }
    f.get(B_N);
    f.get(B_LIM);
    f.get(B_VB);
    f.get(B_DB);
    f.get(B_NB);
    f.returnCall(this.frame.blocks + q);
  }

  private terminator(b: Block, p: number, insn: BlockInsn | null): void {
    const f = this.f;
    const e = b.end;
    switch (e.kind) {
      case "link":
        // (A jal within the page wrote its link in insn().)
        this.link(e.target, p);
        return;
      case "far": {
        // jal out of the page: link, then leave at pc + imm.
        this.insn(insn!);
        this.exitAt(insn!.off + e.imm, 0);
        return;
      }
      case "branch": {
        const i = insn!;
        const r1 = (i.a >>> 14) & 31;
        const r2 = (i.a >>> 19) & 31;
        this.src(r1);
        this.src(r2);
        f.op(this.L.opc[i.a & 0xff]!);
        f.if();
        if (e.far) this.exitAt(i.off + e.imm, 0);
        else this.link(e.target, p);
        f.end();
        this.link(e.fall, p);
        return;
      }
      case "jalr": {
        const i = insn!;
        const r1 = (i.a >>> 14) & 31;
        const rd = (i.a >>> 8) & 63;
        // Target first (rs1 may be rd), then the link.
        this.src(r1);
        if (i.b !== 0) {
          f.i64(i.b);
          f.op(I64_ADD);
        }
        f.i64(-2);
        f.op(I64_AND);
        f.set(L_A);
        if (rd !== 32) {
          f.get(B_VB);
          f.i64(i.off + i.len);
          f.op(I64_ADD);
          this.dst(rd);
        }
        // The chain, whatever the page: the block maps find a block of any region (an in-page
        // dispatch by br_table cost up to 2048 table entries per region, ~0.75 MB of the boot's
        // modules, for ~4 M in-page returns).
        f.get(L_A);
        this.chainTo(0);
        return;
      }
      default:
      // "none": the last instruction left the block (system() emitted its exits); nothing follows.
    }
  }

  /** Code for one instruction (not a block's control transfer). */
  private insn(i: BlockInsn): void {
    const f = this.f;
    const L = this.L;
    const a = i.a;
    const op = a & 0xff;
    const rd = (a >>> 8) & 63; // 32: x0 (writes go to the sink)
    const r1 = (a >>> 14) & 31;
    const r2 = (a >>> 19) & 31;
    const imm = i.b;
    if (i.upper !== undefined) this.straddleGuard(i);
    if (i.inline !== undefined) {
      this.inline(i);
      return;
    }
    const kind = L.kind[op]!;
    const opc = L.opc[op]!;
    const extra = L.extra[op]!;
    switch (kind) {
      case G.LUI:
        if (rd === 32) return;
        f.i64(imm);
        this.dst(rd);
        return;
      case G.AUIPC:
        if (rd === 32) return;
        f.get(B_VB);
        f.i64(i.off + imm);
        f.op(I64_ADD);
        this.dst(rd);
        return;
      case G.IMM:
        if (rd === 32) return;
        this.src(r1);
        f.i64(imm);
        f.op(opc);
        if (extra === 1) f.op(I64_EXTEND_I32_U);
        this.dst(rd);
        return;
      case G.REG:
        if (rd === 32) return;
        this.src(r1);
        this.src(r2);
        f.op(opc);
        if (extra === 1) f.op(I64_EXTEND_I32_U);
        this.dst(rd);
        return;
      case G.IMMW:
        if (rd === 32) return;
        this.src(r1);
        f.op(I32_WRAP_I64);
        f.i32(imm);
        f.op(opc);
        f.op(I64_EXTEND_I32_S);
        this.dst(rd);
        return;
      case G.REGW:
        if (rd === 32) return;
        this.src(r1);
        f.op(I32_WRAP_I64);
        this.src(r2);
        f.op(I32_WRAP_I64);
        f.op(opc);
        f.op(I64_EXTEND_I32_S);
        this.dst(rd);
        return;
      case G.MULH:
        if (rd === 32) return;
        this.src(r1);
        this.src(r2);
        f.call(this.frame.mulBase + opc);
        this.dst(rd);
        return;
      case G.DIV:
        if (rd === 32) return;
        this.div(r1, r2, opc, extra, false);
        this.dst(rd);
        return;
      case G.DIVW:
        if (rd === 32) return;
        this.div(r1, r2, opc, extra, true);
        this.dst(rd);
        return;
      case G.LOAD:
        this.load(i, rd, r1, opc, extra);
        return;
      case G.STORE:
        this.store(i, r1, r2, opc, extra);
        return;
      case G.LR:
      case G.SC:
      case G.AMO:
        this.atomic(i, kind, rd, r1, r2, opc, extra);
        return;
      case G.FENCE:
        // The hart keeps decode caches and translations coherent with every store.
        return;
      case G.JAL:
        if (rd === 32) return;
        f.get(B_VB);
        f.i64(i.off + i.len);
        f.op(I64_ADD);
        this.dst(rd);
        return;
      default:
        // (jalr and branches end their block: the terminator generates them.)
        this.system(i);
    }
  }

  /** Division and remainder with the spec's results for a zero divisor and signed overflow (no wasm trap). */
  private div(r1: number, r2: number, opc: number, extra: number, word: boolean): void {
    const f = this.f;
    const rem = (extra & 1) !== 0;
    const signedDiv = extra === 4;
    this.src(r1);
    if (word) {
      f.op(I32_WRAP_I64);
      f.set(L_LO);
    } else f.set(L_A);
    this.src(r2);
    if (word) {
      f.op(I32_WRAP_I64);
      f.tee(L_HI);
      f.op(I32_EQZ);
    } else {
      f.tee(L_B);
      f.op(I64_EQZ);
    }
    const t = word ? T_I32 : T_I64;
    f.if(t);
    // x / 0 = -1 (all ones), x % 0 = x.
    if (rem) f.get(word ? L_LO : L_A);
    else if (word) f.i32(-1);
    else f.i64(-1);
    f.else();
    if (signedDiv) {
      // x / -1 = -x (wraps for the most negative x, where the wasm instruction would trap).
      if (word) {
        f.get(L_HI);
        f.i32(-1);
        f.op(I32_EQ);
      } else {
        f.get(L_B);
        f.i64(-1);
        f.op(I64_EQ);
      }
      f.if(t);
      if (word) {
        f.i32(0);
        f.get(L_LO);
        f.op(I32_SUB);
      } else {
        f.i64(0);
        f.get(L_A);
        f.op(I64_SUB);
      }
      f.else();
      f.get(word ? L_LO : L_A);
      f.get(word ? L_HI : L_B);
      f.op(opc);
      f.end();
    } else {
      f.get(word ? L_LO : L_A);
      f.get(word ? L_HI : L_B);
      f.op(opc);
    }
    f.end();
    if (word) f.op(I64_EXTEND_I32_S);
  }

  /** The effective address x[rs1] + imm into L_LO/L_HI, and the TLB entry's byte index (dB + page index) * 4 into L_I. */
  private address(r1: number, imm: number): void {
    const f = this.f;
    this.src(r1);
    if (imm !== 0) {
      f.i64(imm);
      f.op(I64_ADD);
    }
    f.tee(L_A);
    f.op(I32_WRAP_I64);
    f.tee(L_LO);
    f.get(L_A);
    f.i64(32);
    f.op(I64_SHR_U);
    f.op(I32_WRAP_I64);
    f.set(L_HI);
    f.i32(12);
    f.op(I32_SHR_U);
    f.i32(TLB_SET_ENTRIES - 1);
    f.op(I32_AND);
    f.get(B_DB);
    f.op(I32_ADD);
    f.i32(2);
    f.op(I32_SHL);
    f.set(L_I);
  }

  /** The TLB check of the address in L_LO/L_HI against arrays `tag`/`tagHi`: an access of 2^align bytes, aligned, in one page. */
  private tlbHit(tag: number, tagHi: number, align: number): void {
    const f = this.f;
    // Both words equal: (tag ^ lo') | (tagHi ^ hi) is 0, one test (two compares gave two setcc).
    f.get(L_I);
    f.mem(I32_LOAD, 2, tag);
    f.get(L_LO);
    f.i32(-4096 + (1 << align) - 1);
    f.op(I32_AND);
    f.op(I32_XOR);
    f.get(L_I);
    f.mem(I32_LOAD, 2, tagHi);
    f.get(L_HI);
    f.op(I32_XOR);
    f.op(I32_OR);
    f.op(I32_EQZ);
  }

  /** The slow path's arguments (see slowFunction): (lo, hi, decode word, offset | k << 12, n, vb). */
  private slowArgs(i: BlockInsn): void {
    const f = this.f;
    f.get(L_LO);
    f.get(L_HI);
    f.i32(i.a);
    f.i32(i.off | (i.k << 12));
    f.get(B_N);
    f.get(B_VB);
  }

  private load(i: BlockInsn, rd: number, r1: number, opc: number, align: number): void {
    const f = this.f;
    const L = this.L;
    this.address(r1, i.b);
    this.tlbHit(L.tlb.rtag, L.tlb.rtagHi, align);
    f.if();
    if (rd !== 32) {
      f.get(L_I);
      f.mem(I32_LOAD, 2, L.tlb.roff);
      f.get(L_LO);
      f.i32(4095);
      f.op(I32_AND);
      f.op(I32_ADD);
      f.mem(opc, align, L.RAM);
      this.dst(rd);
    }
    f.else();
    this.slowArgs(i);
    f.call(this.frame.loadSlow);
    f.if();
    this.exitHart(i.k);
    f.end();
    if (rd !== 32) this.reload(rd);
    f.end();
  }

  private store(i: BlockInsn, r1: number, r2: number, opc: number, align: number): void {
    const f = this.f;
    const L = this.L;
    this.address(r1, i.b);
    this.src(r2);
    f.set(L_B);
    this.tlbHit(L.tlb.wtag, L.tlb.wtagHi, align);
    f.if();
    f.get(L_I);
    f.mem(I32_LOAD, 2, L.tlb.woff);
    f.get(L_LO);
    f.i32(4095);
    f.op(I32_AND);
    f.op(I32_ADD);
    f.tee(L_O);
    f.get(L_B);
    f.mem(opc, align, L.RAM);
    f.get(L_O);
    dropReservationAt(f, L.JW + JW_RESV * 4);
    f.else();
    this.slowArgs(i);
    f.call(this.frame.storeSlow);
    f.if();
    this.exitHart(i.k);
    f.end();
    f.end();
  }

  /**
   * Before an instruction straddling the page end: the fetch TLB (the set of
   * the region's fetch mode) must map the next virtual page, to a page that
   * starts with the upper half the instruction was translated with. Else
   * leave before it, for the interpreter (which fetches it afresh, walking
   * or faulting as the fetch requires); when the TLB maps another half
   * there, the page's translations are dropped too, to be made again.
   */
  private straddleGuard(i: BlockInsn): void {
    const f = this.f;
    const L = this.L;
    f.get(B_VB);
    f.i64(4096);
    f.op(I64_ADD);
    f.set(L_A);
    f.get(L_A);
    f.op(I32_WRAP_I64);
    f.set(L_LO);
    f.get(L_A);
    f.i64(32);
    f.op(I64_SHR_U);
    f.op(I32_WRAP_I64);
    f.set(L_HI);
    f.get(L_LO);
    f.i32(12);
    f.op(I32_SHR_U);
    f.i32(TLB_SET_ENTRIES - 1);
    f.op(I32_AND);
    f.i32((this.r.ctx & 7) << TLB_SET_BITS);
    f.op(I32_ADD);
    f.i32(2);
    f.op(I32_SHL);
    f.tee(L_I);
    f.mem(I32_LOAD, 2, L.tlb.itag);
    f.get(L_LO);
    f.op(I32_XOR);
    f.get(L_I);
    f.mem(I32_LOAD, 2, L.tlb.itagHi);
    f.get(L_HI);
    f.op(I32_XOR);
    f.op(I32_OR);
    f.if();
    this.exitAt(i.off, i.k - 1, EXIT_STOP);
    f.end();
    // Another half there (the code or the mapping changed): this translation is stale.
    f.get(L_I);
    f.mem(I32_LOAD, 2, L.tlb.ioff);
    f.mem(I32_LOAD16_U, 1, L.RAM);
    f.i32(i.upper!);
    f.op(I32_NE);
    f.if();
    f.i32(0);
    f.i32(this.r.page);
    f.mem(I32_STORE, 2, L.JW + JW_STALE_PAGE * 4);
    this.exitAt(i.off, i.k - 1, EXIT_STALE);
    f.end();
  }

  /**
   * LR, SC or an AMO (`kind`) of 2^`align` bytes, `opc` its load or store:
   * where the TLB maps the (aligned) address, in WebAssembly as the hart's
   * atomic() does it on RAM (a single hart: nothing to lock); else the
   * hart's out-of-line path (misaligned, a TLB miss, an AMO function it
   * rejects). On Debian's boot ~500 K a boot (LR/SC 297 K, AMOs 207 K),
   * each a call into JavaScript before.
   */
  private atomic(
    i: BlockInsn,
    kind: G,
    rd: number,
    r1: number,
    r2: number,
    opc: number,
    align: number,
  ): void {
    const f = this.f;
    const L = this.L;
    const fn = i.b;
    if (kind === G.AMO && !AMO_FUNCTIONS.has(fn)) {
      this.system(i);
      return;
    }
    const resv = L.JW + JW_RESV * 4;
    this.address(r1, 0);
    if (kind !== G.LR) {
      this.src(r2);
      f.set(L_B);
    }
    if (kind === G.LR) this.tlbHit(L.tlb.rtag, L.tlb.rtagHi, align);
    else this.tlbHit(L.tlb.wtag, L.tlb.wtagHi, align);
    f.if();
    // L_O: the RAM offset.
    f.get(L_I);
    f.mem(I32_LOAD, 2, kind === G.LR ? L.tlb.roff : L.tlb.woff);
    f.get(L_LO);
    f.i32(4095);
    f.op(I32_AND);
    f.op(I32_ADD);
    f.set(L_O);
    if (kind === G.LR) {
      if (rd !== 32) {
        f.get(L_O);
        f.mem(opc, align, L.RAM);
        this.dst(rd);
      }
      f.i32(0);
      f.get(L_O);
      f.mem(I32_STORE, 2, resv);
    } else if (kind === G.SC) {
      // L_T: the reservation is on this address; either way it is gone.
      f.i32(0);
      f.mem(I32_LOAD, 2, resv);
      f.get(L_O);
      f.op(I32_EQ);
      f.set(L_T);
      f.i32(0);
      f.i32(-1);
      f.mem(I32_STORE, 2, resv);
      f.get(L_T);
      f.if();
      f.get(L_O);
      f.get(L_B);
      f.mem(opc, align, L.RAM);
      f.end();
      if (rd !== 32) {
        f.get(L_T);
        f.op(I32_EQZ);
        f.op(I64_EXTEND_I32_U);
        this.dst(rd);
      }
    } else {
      // L_A: the old value (a word sign-extended, as rd gets it); the operand too.
      const word = align === 2;
      f.get(L_O);
      f.mem(word ? I64_LOAD32_S : I64_LOAD, align, L.RAM);
      f.set(L_A);
      if (word) {
        f.get(L_B);
        f.op(I64_EXTEND32_S);
        f.set(L_B);
      }
      f.get(L_O);
      this.amoValue(fn);
      f.mem(word ? I64_STORE32 : I64_STORE, align, L.RAM);
      f.get(L_O);
      dropReservationAt(f, resv);
      if (rd !== 32) {
        f.get(L_A);
        this.dst(rd);
      }
    }
    f.else();
    this.system(i);
    f.end();
    // The slow path may have written rd: its local is stale there.
    this.cached = 0;
  }

  /** Push an AMO's new value from the old one (L_A) and the operand (L_B), `fn` its funct5. */
  private amoValue(fn: number): void {
    const f = this.f;
    if (fn === AMO_SWAP) {
      f.get(L_B);
      return;
    }
    if (fn >= AMO_MIN) {
      // min, max, minu, maxu: one of the two, by (old < operand).
      const pickOld = fn === AMO_MIN || fn === AMO_MINU;
      f.get(pickOld ? L_A : L_B);
      f.get(pickOld ? L_B : L_A);
      f.get(L_A);
      f.get(L_B);
      f.op(fn >= AMO_MINU ? I64_LT_U : I64_LT_S);
      f.op(SELECT);
      return;
    }
    f.get(L_A);
    f.get(L_B);
    f.op(fn === AMO_ADD ? I64_ADD : fn === AMO_XOR ? I64_XOR : fn === AMO_AND ? I64_AND : I64_OR);
  }

  /** An instruction the hart executes out of line (system, CSR, atomics, floating point). */
  private system(i: BlockInsn): void {
    const f = this.f;
    f.i32(i.a);
    f.i32(i.b);
    this.vLo(i.off);
    this.vHi();
    this.steps(i.k);
    f.i32(K_SYS);
    f.callIndirect(TYPE_SYS, false);
    f.if();
    this.exitHart(i.k);
    f.end();
    // It may have written any register.
    this.cached = 0;
    // One that normally traps or changes mode ends the block either way (an ISA profile may make it a no-op).
    if (this.L.stops[i.a & 0xff] === 1) this.exitAt(i.off + i.len, i.k, EXIT_STOP);
  }

  /** A sensitive instruction the strategy emulates inline: a call of its code, compiled as JavaScript. */
  private inline(i: BlockInsn): void {
    const f = this.f;
    const id = this.be.inlineCall(i);
    this.inlines.push(id);
    f.i32(id);
    this.vLo(0);
    this.vHi();
    f.get(B_N);
    f.i32(K_INLINE);
    f.callIndirect(TYPE_INLINE, false);
    f.tee(L_T);
    f.if();
    f.get(L_T);
    f.i32(1);
    f.op(I32_EQ);
    f.if();
    this.exitAt(i.off + i.len, i.k, EXIT_STOP);
    f.end();
    this.exitHart(i.k);
    f.end();
    this.cached = 0;
  }
}
