/**
 * The hart: one RISC-V RV64GC hardware thread with M, S and U modes, and
 * with the opt-in H extension (option `hypervisor`) VS and VU modes.
 *
 * `run(budget)` interprets up to `budget` steps and returns an exit reason
 * (details in `hart.exit`). Which events leave `run()` and which are
 * delivered architecturally is set through the exit controls, the way
 * KVM_RUN returns to user space. The hart knows no device addresses: RAM is
 * one buffer, every other physical address goes to the device bus.
 *
 * Hot-path design (see STYLE.md):
 *  - registers are (lo, hi) int32 pairs in one Int32Array; x0 reads as zero
 *    and writes to it are redirected at decode time to a sink register 32;
 *  - a decode cache per physical RAM page holds two int32 per halfword slot
 *    (packed operation + operands, immediate), so steady-state execution
 *    never decodes; pages with decoded code are kept out of the store TLB, so
 *    a store to code takes the slow path and invalidates that page's cache;
 *  - direct-mapped software TLBs for fetch, load and store, one set per
 *    effective privilege level, map a virtual page straight to its RAM offset;
 *    the tag includes the alignment bits, so a misaligned access simply
 *    misses into the slow path. With the H extension two more sets (VU, VS)
 *    cache guest virtual pages straight to RAM through both stages, so a
 *    guest runs on the same fast path and a change of V flushes nothing;
 *  - faults are data: slow paths record a pending exception and the loop
 *    takes it; nothing throws and nothing allocates per instruction.
 */

import type {
  CsrReadMaskedOverride,
  CsrReadThroughOverride,
  CsrWriteIgnoreOverride,
  IsaProfile,
} from "@hvkit/isa";
import {
  compressedExpansionTable,
  csrPrivilege,
  csrReadOnly,
  decode32,
  INSTRUCTIONS,
  ILLEGAL as ISA_ILLEGAL,
  STANDARD_PROFILE,
} from "@hvkit/isa";
import { divs64, divu64, hi64, mul64, mulh64, mulhsu64, mulhu64, remHi, remLo } from "./alu64.js";
import { Cause, ExitReason, HSTATUS, Irq, MSTATUS, MSTATUS_HI, PRV_M, PRV_S, PRV_U } from "./constants.js";
import { csrImplemented, readCsr, writeCsr } from "./csr.js";
import { CpuError } from "./errors.js";
import { HartExit } from "./exit.js";
import { executeFloat } from "./fp-exec.js";
import { Fpu } from "./fpu.js";
import { GuestExitControls, GuestInstruction, GuestStat } from "./guest.js";
import {
  JW_BLOCKS_HI,
  JW_BLOCKS_LO,
  JW_PC_HI,
  JW_PC_KIND,
  JW_PC_LO,
  JW_RESV,
  JW_SIZE,
  JW_STALE_PAGE,
  ST_JW,
  ST_X,
  stateBytes,
  TLB_ARRAYS,
  TLB_SET_ENTRIES,
  tlbOffset,
} from "./jit/layout.js";
import {
  BlockTranslator,
  SAMPLE_STEPS,
  type SensitiveRewriter,
  type TranslationOptions,
  type TranslatorHost,
} from "./jit/translator.js";
import {
  ARENA_BLOCK_MAPS,
  ARENA_BLOCK_SLOTS,
  arenaStateBytes,
  BLOCK_MAP_BYTES,
  type DeviceBus,
  HART_STATE_BYTES,
  type HartMemory,
  type WasmArena,
} from "./memory.js";
import { primeInterpreter } from "./prime.js";
import { K, S } from "./state.js";

/** Interpreter operations. Numbers are internal (the decode cache stores them). */
enum O {
  NONE = 0,
  ILLEGAL,
  LUI,
  AUIPC,
  JAL,
  JALR,
  BEQ,
  BNE,
  BLT,
  BGE,
  BLTU,
  BGEU,
  LB,
  LH,
  LW,
  LD,
  LBU,
  LHU,
  LWU,
  SB,
  SH,
  SW,
  SD,
  ADDI,
  SLTI,
  SLTIU,
  XORI,
  ORI,
  ANDI,
  SLLI,
  SRLI,
  SRAI,
  ADD,
  SUB,
  SLL,
  SLT,
  SLTU,
  XOR,
  SRL,
  SRA,
  OR,
  AND,
  ADDIW,
  SLLIW,
  SRLIW,
  SRAIW,
  ADDW,
  SUBW,
  SLLW,
  SRLW,
  SRAW,
  FENCE,
  FENCE_I,
  ECALL,
  EBREAK,
  CSRRW,
  CSRRS,
  CSRRC,
  CSRRWI,
  CSRRSI,
  CSRRCI,
  MUL,
  MULH,
  MULHSU,
  MULHU,
  DIV,
  DIVU,
  REM,
  REMU,
  MULW,
  DIVW,
  DIVUW,
  REMW,
  REMUW,
  LR_W,
  SC_W,
  AMO_W,
  LR_D,
  SC_D,
  AMO_D,
  FLW,
  FSW,
  FLD,
  FSD,
  FP,
  SRET,
  MRET,
  WFI,
  SFENCE_VMA,
  HYPERVISOR,
}

/** Interpreter operation of every ISA instruction, by ISA id (0: not handled here). */
const OP_OF_ISA = new Uint8Array(INSTRUCTIONS.length);
/** Whether the operation's rd names a floating-point register (so x0 redirection does not apply). */
const RD_IS_FLOAT = new Uint8Array(256);
{
  const byName: Record<string, O> = {
    lui: O.LUI,
    auipc: O.AUIPC,
    jal: O.JAL,
    jalr: O.JALR,
    beq: O.BEQ,
    bne: O.BNE,
    blt: O.BLT,
    bge: O.BGE,
    bltu: O.BLTU,
    bgeu: O.BGEU,
    lb: O.LB,
    lh: O.LH,
    lw: O.LW,
    ld: O.LD,
    lbu: O.LBU,
    lhu: O.LHU,
    lwu: O.LWU,
    sb: O.SB,
    sh: O.SH,
    sw: O.SW,
    sd: O.SD,
    addi: O.ADDI,
    slti: O.SLTI,
    sltiu: O.SLTIU,
    xori: O.XORI,
    ori: O.ORI,
    andi: O.ANDI,
    slli: O.SLLI,
    srli: O.SRLI,
    srai: O.SRAI,
    add: O.ADD,
    sub: O.SUB,
    sll: O.SLL,
    slt: O.SLT,
    sltu: O.SLTU,
    xor: O.XOR,
    srl: O.SRL,
    sra: O.SRA,
    or: O.OR,
    and: O.AND,
    addiw: O.ADDIW,
    slliw: O.SLLIW,
    srliw: O.SRLIW,
    sraiw: O.SRAIW,
    addw: O.ADDW,
    subw: O.SUBW,
    sllw: O.SLLW,
    srlw: O.SRLW,
    sraw: O.SRAW,
    fence: O.FENCE,
    "fence.tso": O.FENCE,
    "fence.i": O.FENCE_I,
    ecall: O.ECALL,
    ebreak: O.EBREAK,
    csrrw: O.CSRRW,
    csrrs: O.CSRRS,
    csrrc: O.CSRRC,
    csrrwi: O.CSRRWI,
    csrrsi: O.CSRRSI,
    csrrci: O.CSRRCI,
    mul: O.MUL,
    mulh: O.MULH,
    mulhsu: O.MULHSU,
    mulhu: O.MULHU,
    div: O.DIV,
    divu: O.DIVU,
    rem: O.REM,
    remu: O.REMU,
    mulw: O.MULW,
    divw: O.DIVW,
    divuw: O.DIVUW,
    remw: O.REMW,
    remuw: O.REMUW,
    "lr.w": O.LR_W,
    "sc.w": O.SC_W,
    "lr.d": O.LR_D,
    "sc.d": O.SC_D,
    flw: O.FLW,
    fsw: O.FSW,
    fld: O.FLD,
    fsd: O.FSD,
    sret: O.SRET,
    mret: O.MRET,
    wfi: O.WFI,
    "sfence.vma": O.SFENCE_VMA,
  };
  for (const insn of INSTRUCTIONS) {
    if (insn.length !== 4) continue;
    let op = byName[insn.name];
    if (op === undefined && insn.name.startsWith("amo")) op = insn.name.endsWith(".w") ? O.AMO_W : O.AMO_D;
    if (op === undefined && (insn.ext === "F" || insn.ext === "D")) op = O.FP;
    if (op === undefined && insn.ext === "H") op = O.HYPERVISOR;
    if (op === undefined) throw new Error(`cpu: no interpreter operation for ${insn.name}`);
    OP_OF_ISA[insn.id] = op;
  }
  RD_IS_FLOAT[O.FLW] = 1;
  RD_IS_FLOAT[O.FLD] = 1;
  RD_IS_FLOAT[O.FP] = 1; // FP ops handle rd themselves (they know which file it names)
}

// Decode-cache slot layout, word A:
//   bits 0-7 op | 8-13 rd (0 redirected to 32) | 14-18 rs1 | 19-23 rs2 | 24 compressed | 25-29 rs3
// word B: the immediate (or, per operation, the CSR number, AMO function, ISA id...).
const A_COMPRESSED = 1 << 24;
/**
 * Bit 31 of word A marks a slot where translated code starts (engine
 * "translator"): the interpreter hands over to the dispatcher there, at no
 * cost on its fast path (it already tests word A for 0, an empty slot).
 */
const JIT_MARK = 1 << 31;
/** With JIT_MARK: the slot is not a block start but counted (a page being profiled for translation). */
const JIT_COUNT = 1 << 30;
const JIT_UNMARK = ~(JIT_MARK | JIT_COUNT);

/**
 * What an entry into the interpreter under the translated engine (from
 * translated code, a trap) counts for in its page's hotness, in steps: a
 * round trip costs ~0.3 us, ~20-30 interpreted steps, so code entered often
 * for a few steps at a time gets hot sooner. Counted on Debian's boot
 * (deterministic): 0: 86.6 M steps interpreted in 1.82 M stretches, 44.3 K
 * instructions translated; 32: 76.8 M in 1.55 M, 48.3 K; 64: 71.8 M in 1.49
 * M, 51.0 K; 128: 66.6 M in 1.43 M, 56.9 K. Past 32 each interpreted step
 * saved costs about as much translation as it saves.
 */
export const ENTRY_STEPS = 32;
/** Entries per TLB set (see TLB_SET_ENTRIES). */
const TLB_SIZE = TLB_SET_ENTRIES;
/**
 * TLB sets are indexed by the effective mode: 0 U, 1 S, 3 M (2 unused), and
 * with the H extension 4 VU and 5 VS, whose entries cache combined
 * guest-virtual to supervisor-physical translations. Keeping guest entries in
 * sets of their own means V changes flush nothing.
 */
const HOST_SETS = 4;
const GUEST_SETS = 6;
/** Mode index of VU-mode (V=1, U); VS-mode is MODE_VU + 1. */
const MODE_VU = 4;
/** 2^64, for unsigned 64-bit values held (approximately) in doubles. */
const TWO64 = 2 ** 64;
/** Placeholder for the TLB arrays until the constructor sizes them. */
const NO_TLB = new Int32Array(0);
const TLB_MASK = TLB_SIZE - 1;
/** A tag value no page-aligned address can equal (its low bits are set). */
const TLB_INVALID = 1;

// Tag masks: page bits plus the alignment bits of the access size, so a
// misaligned address never hits.
const PAGE_MASK = ~0xfff;
const TAG_MASK_2 = ~0xfff | 1;
const TAG_MASK_4 = ~0xfff | 3;
const TAG_MASK_8 = ~0xfff | 7;

/** Access kinds for translation. */
const ACC_FETCH = 0;
const ACC_LOAD = 1;
const ACC_STORE = 2;

/** Interrupts of the H extension (VSSI, VSTI, VSEI): always delegated past M-mode (mideleg reads them as 1). */
const VS_IRQS = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);
/** menvcfg/henvcfg high-word bit 31: STCE (Sstc enable). */
const STCE = 0x80000000 | 0;
/** Pending-exception code (exc - 1) of an exit already written to `exit` by a slow path. */
const EXC_EXIT = 63;
/** htinst/mtinst pseudoinstructions for guest-page faults of VS-level page-table accesses (RV64). */
const TINST_PT_READ = 0x3000;
const TINST_PT_WRITE = 0x3020;

/** Page flags. */
const PF_CODE = 1; // the page has a decode cache
const PF_WATCH = 2; // stores must take the slow path (watchpoints, dirty logging)

/** Index of the first interrupt in `trapStats`. */
export const TRAP_STATS_INTERRUPT = 32;
/** Index of the mret count in `trapStats`. */
export const TRAP_STATS_MRET = 64;
/** Index of the sret count in `trapStats`. */
export const TRAP_STATS_SRET = 65;

/**
 * Most steps one call of the interpreter loop runs. When V8 deoptimizes the
 * loop mid-call (a path seen for the first time, e.g. Linux reaching new
 * code), the rest of that call runs in the bytecode interpreter, ~50x slower,
 * until on-stack replacement: a 4 M-step call was measured taking 2.9 s
 * instead of 0.08 s. Returning every 64 K steps bounds that tail to ~50 ms;
 * the extra returns cost nothing measurable.
 */
const INTERPRET_SLICE = 1 << 16;

/** pmpPagePerm marker: a PMP region boundary cuts the page, so each access is checked. */
const PMP_PAGE_SPLIT = 0x80;

/**
 * Most steps one call of translated code runs. A region that returns often
 * is optimized by V8 for its next call; one that loops for a whole slice
 * gets an extra on-stack-replacement compile as well (measured: half of the
 * background compile time went to those).
 */
const REGION_SLICE = 4096;
/** Steps the interpreter runs when the budget ends inside a translated block. */
const MISS_CHUNK = 32;

/** Execution engines. */
export type HartEngine = "interpreter" | "translator";

/** Options for constructing a hart. */
export interface HartOptions {
  /** RAM and devices. */
  memory: HartMemory;
  /** mhartid. */
  hartId?: number;
  /** Number of PMP entries (0 or 16). With 0, physical memory protection is absent. Default 16. */
  pmpEntries?: 0 | 16;
  /** Steps per tick of the time CSR (deterministic timebase): time = cycles / stepsPerTick. Default 10. */
  stepsPerTick?: number;
  /**
   * The ISA profile (@hvkit/isa). The standard profile (default) traps every
   * sensitive operation in U-mode; the opt-in non-virtualizable one lets a few
   * complete in U-mode without trapping, as x86's PUSHF/POPF/SGDT did.
   */
  isaProfile?: IsaProfile;
  /**
   * Implement the H extension (hypervisor, version 1.0): misa.H, VS/VU
   * modes, the hypervisor and VS CSRs, two-stage translation, hlv/hsv and
   * hfence, plus the guest-mode exit controls of {@link Hart.guestExits}.
   * Default false: then every H instruction and CSR is illegal.
   */
  hypervisor?: boolean;
  /**
   * The execution engine: "interpreter" (default, the reference) or
   * "translator" (hot code translated into JavaScript by a basic-block
   * translator, cold code interpreted; the same results step for step).
   */
  engine?: HartEngine;
  /** Tuning of the translator (engine "translator"). */
  translation?: TranslationOptions;
}

/** A RISC-V RV64GC hart. */
export class Hart {
  /** Integer registers as (lo, hi) pairs; index 64/65 is the sink for writes to x0. */
  readonly x: Int32Array;
  /**
   * The words translated code leaves for the dispatcher and the LR
   * reservation (slots JW_*), beside the registers in the state block.
   */
  private readonly jw: Int32Array;
  /** The WebAssembly memory holding RAM and this hart's state, if any (translated code is then WebAssembly). */
  readonly arena: WasmArena | null;
  /** The floating-point unit and its register file. */
  readonly fpu: Fpu;
  /** CSR state, by the slots of {@link S}. */
  readonly csr = new Int32Array(S.SIZE);
  /** Counters, by the slots of {@link K}. */
  readonly counters = new Float64Array(K.SIZE);
  /** Where `run()` stopped. */
  readonly exit = new HartExit();
  /** Exit controls: per privilege mode (index 0..3), a bitmask of exception causes that exit instead of trapping. */
  readonly exitOnException = new Int32Array(4);
  /** Exit instead of taking an interrupt (V=0; guest mode uses {@link guestExits}). */
  exitOnInterrupt = false;
  /** Exit controls for guest mode (V=1), programmed by a VMM like a VMCS (H extension). */
  readonly guestExits = new GuestExitControls();
  /** Guest-mode events, by the slots of {@link GuestStat}: VM entries, exits by reason, two-stage walks. */
  readonly guestStats = new Float64Array(GuestStat.SIZE);
  /**
   * Traps delivered architecturally and trap returns: [cause] for exceptions,
   * [32 + irq] for interrupts, [64] mret, [65] sret. Exits are not counted here.
   */
  readonly trapStats = new Float64Array(66);

  /** Program counter, low word. */
  pcLo = 0;
  /** Program counter, high word. */
  pcHi = 0;
  /** Current privilege level (PRV_U, PRV_S, PRV_M). */
  priv: number = PRV_M;
  /** Virtualization mode V (H extension): 1 in VS-mode and VU-mode. Change it with {@link setMode}. */
  virt = 0;
  /** Whether the hart implements the H extension (option `hypervisor`). */
  readonly hypervisor: boolean;
  /** mhartid. */
  readonly hartId: number;
  /** Steps per tick of the time CSR. */
  readonly stepsPerTick: number;
  /** Number of implemented PMP entries. */
  readonly pmpEntries: number;
  /** The ISA profile this hart implements. */
  readonly isaProfile: IsaProfile;
  // Non-trapping U-mode operations of the profile.
  private readonly uCsrReads = new Map<number, CsrReadMaskedOverride | CsrReadThroughOverride>();
  private readonly uCsrWrites = new Map<number, CsrWriteIgnoreOverride>();
  private uSretNop = false;

  // Memory.
  readonly ram: Uint8Array;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly bus: DeviceBus;
  private readonly ram8: Int8Array;
  private readonly ram16: Int16Array;
  private readonly ramU16: Uint16Array;
  private readonly ram32: Int32Array;
  private readonly pageFlags: Uint8Array;
  // PMP, derived from the pmpcfg/pmpaddr CSRs (recomputed lazily after a write).
  private readonly pmpLo = new Float64Array(16);
  private readonly pmpHi = new Float64Array(16);
  private readonly pmpPagePerm: Uint8Array;
  private pmpValid = false;
  /**
   * Superpage regions (keyed by level and VA >> (12 + 9 * level)) whose 4 KiB
   * pieces may sit in the TLBs: an address-specific sfence.vma inside one of
   * them must flush everything, since the pieces live under other indices.
   */
  private readonly superpages = new Set<number>();
  /** The same for VS-stage superpages, whose pieces sit in the guest sets (sfence.vma at V=1, hfence.vvma). */
  private readonly guestSuperpages = new Set<number>();
  private readonly codeCache: (Int32Array | undefined)[];

  // TLBs: [set (effective mode index) * TLB_SIZE + index]; 4 sets, 6 with the H extension.
  // (Initialized with an Int32Array, replaced in the constructor: a field that first held
  // undefined loses V8's field-type tracking, which cost the interpreter ~4% measured.)
  private readonly itag: Int32Array = NO_TLB;
  private readonly itagHi: Int32Array = NO_TLB;
  private readonly ioff: Int32Array = NO_TLB;
  private readonly rtag: Int32Array = NO_TLB;
  private readonly rtagHi: Int32Array = NO_TLB;
  private readonly roff: Int32Array = NO_TLB;
  private readonly wtag: Int32Array = NO_TLB;
  private readonly wtagHi: Int32Array = NO_TLB;
  private readonly woff: Int32Array = NO_TLB;
  /** TLB set base for data accesses (effective mode with MPRV/MPV, or hlv/hsv). */
  private dBase = PRV_M * TLB_SIZE;
  /** The effective mode index of data accesses: dBase / TLB_SIZE. */
  private dMode = PRV_M;
  /** Set while an hlvx access runs: execute permission replaces read permission, and the TLBs are bypassed. */
  private hlvx = false;

  // The current fetch page.
  private fTag = TLB_INVALID;
  private fTagHi = 0;
  private fOff = 0;
  private fCache: Int32Array = new Int32Array(4096);

  // Pending exception raised by a slow path.
  /** Pending exception cause + 1 (0: none). */
  private exc = 0;
  private excTvalLo = 0;
  private excTvalHi = 0;
  /** Pending exception: the trap value is a guest virtual address (GVA). */
  private excGva = 0;
  /** Pending guest-page fault: the guest physical address (for htval/mtval2, exit.gpa). */
  private excGpaLo = 0;
  private excGpaHi = 0;
  /** Pending guest-page fault: a pseudoinstruction for htinst/mtinst (VS-level page-table access), else 0. */
  private excTinst = 0;
  /** Pending guest-page fault: the guest physical address is in an MMIO range. */
  private excMmio = 0;
  // Extra information for the next trap delivery or exit (set from the pending exception).
  private trapGva = 0;
  private trapGpaLo = 0;
  private trapGpaHi = 0;
  private trapTinst = 0;
  // The instruction behind the last CSR, MMIO or instruction exit (for completeExit).
  /** 0 none, 1 CSR (rd gets the value), 2 MMIO load (rd gets the value, extended), 3 nothing to write. */
  private completeKind = 0;
  private completeSize = 0;
  private completeSigned = false;
  // Results of slow paths.
  /** High word of the last 8-byte load. */
  private ldHi = 0;
  /** Word B of a freshly decoded (possibly uncacheable) instruction. */
  private decB = 0;

  /** Set when the inner loop must stop to re-check interrupts, translation and exits. */
  private resync = false;
  /** Steps executed in the current inner loop, for counters read mid-run (internal). */
  stepsInRun = 0;
  /** Instructions retired in the current inner loop before the current one (internal). */
  retiredInRun = 0;
  /** Set by `requestHalt()`. */
  private haltRequested = false;
  /** Called after a store to a watched RAM page, with the physical address and size. */
  onWatchedStore: ((pa: number, size: number) => void) | null = null;
  /** Called by {@link ramChanged} with the RAM range written behind the hart's back (dirty-page logging). */
  onRamChanged: ((pa: number, length: number) => void) | null = null;
  /** Optional per-instruction trace (see `runTraced`). */
  trace: ((pcLo: number, pcHi: number, insn: number) => void) | null = null;

  private readonly expand = compressedExpansionTable();

  // The translator engine (setEngine("translator")).
  private jit: BlockTranslator | null = null;
  /** Set while the translated engine's dispatcher runs the interpreter: it hands back at translated code and credits each page its steps. */
  private jitActive = false;
  /** The interpreter's step count where it entered the current fetch page (see creditPage). */
  private creditFrom = 0;
  /** The interpreter handed back to the dispatcher at a page entry. */
  private jitPageStop = false;
  /** Internal (translated code): decode word of the instruction that faulted. */
  jitA = 0;
  /** Internal (translated code): steps of the last translated run that did not retire (a fault, a callout). */
  jitShort = 0;
  /** Steps (all retired) of the last translated run already counted, before its callout. */
  private jitSettled = 0;
  /** Instructions decoded (decode-cache fills, by the interpreter or the translator). */
  decodedInstructions = 0;

  constructor(options: HartOptions) {
    const { ram, ramBase, bus } = options.memory;
    if (ram.length % 4096 !== 0 || ram.length > 0x80000000) {
      throw new RangeError("hart: RAM size must be a multiple of 4 KiB and at most 2 GiB");
    }
    if (ramBase % 4096 !== 0 || ramBase < 0 || ramBase + ram.length > 2 ** 32) {
      throw new RangeError("hart: RAM must be page-aligned and below 4 GiB");
    }
    this.ram = ram;
    this.ramBase = ramBase;
    this.hypervisor = options.hypervisor ?? false;
    const tlbEntries = (this.hypervisor ? GUEST_SETS : HOST_SETS) * TLB_SIZE;
    // The state block: in the WebAssembly memory beside RAM when the machine gave one, else on its own.
    const arena = options.memory.arena;
    let state: ArrayBuffer;
    let base = 0;
    if (
      arena !== undefined &&
      arena.memory.buffer === ram.buffer &&
      arena.stateOffset % 8 === 0 &&
      (arena.stateOffset >= ram.byteOffset + ram.length ||
        arena.stateOffset + arenaStateBytes(ram.length) <= ram.byteOffset) &&
      arena.stateOffset + arenaStateBytes(ram.length) <= ram.buffer.byteLength &&
      stateBytes(tlbEntries) <= HART_STATE_BYTES
    ) {
      state = ram.buffer;
      base = arena.stateOffset;
      this.arena = arena;
    } else {
      state = new ArrayBuffer(stateBytes(tlbEntries));
      this.arena = null;
    }
    this.x = new Int32Array(state, base + ST_X, 66);
    this.jw = new Int32Array(state, base + ST_JW, JW_SIZE);
    this.jw[JW_RESV] = -1;
    const tlb = (name: (typeof TLB_ARRAYS)[number]): Int32Array =>
      new Int32Array(state, base + tlbOffset(TLB_ARRAYS.indexOf(name), tlbEntries), tlbEntries);
    this.itag = tlb("itag");
    this.itagHi = tlb("itagHi");
    this.ioff = tlb("ioff");
    this.rtag = tlb("rtag");
    this.rtagHi = tlb("rtagHi");
    this.roff = tlb("roff");
    this.wtag = tlb("wtag");
    this.wtagHi = tlb("wtagHi");
    this.woff = tlb("woff");
    this.ramSize = ram.length;
    this.bus = bus;
    this.ram8 = new Int8Array(ram.buffer, ram.byteOffset, ram.length);
    this.ram16 = new Int16Array(ram.buffer, ram.byteOffset, ram.length >> 1);
    this.ramU16 = new Uint16Array(ram.buffer, ram.byteOffset, ram.length >> 1);
    this.ram32 = new Int32Array(ram.buffer, ram.byteOffset, ram.length >> 2);
    this.pageFlags = new Uint8Array(ram.length >>> 12);
    this.pmpPagePerm = new Uint8Array(ram.length >>> 12);
    this.codeCache = new Array(ram.length >>> 12).fill(undefined);
    this.hartId = options.hartId ?? 0;
    this.stepsPerTick = options.stepsPerTick ?? 10;
    this.pmpEntries = options.pmpEntries ?? 16;
    this.isaProfile = options.isaProfile ?? STANDARD_PROFILE;
    for (const o of this.isaProfile.nonTrapping) {
      // Only U-mode (V=0) overrides apply: the profiles define none for VS or VU.
      if (o.mode !== "U") continue;
      if (o.kind === "instruction") {
        if (o.instruction !== "sret" || o.behaviour !== "nop") {
          throw new CpuError(
            "CPU_BAD_OPTION",
            `ISA profile ${this.isaProfile.name}: the hart cannot make ${o.instruction} a ${o.behaviour}`,
          );
        }
        this.uSretNop = true;
      } else if (o.access === "read") this.uCsrReads.set(o.csr, o);
      else this.uCsrWrites.set(o.csr, o);
    }
    this.fpu = new Fpu(this.x);
    this.reset(0n);
    // The first hart of the process primes the interpreter's type feedback (see prime.ts).
    primeInterpreter((memory) => new Hart({ memory, hypervisor: true }));
    if ((options.engine ?? "interpreter") !== "interpreter") {
      this.setEngine(options.engine ?? "interpreter", options.translation);
    }
  }

  /** The execution engine in use. */
  get engine(): HartEngine {
    return this.jit === null ? "interpreter" : "translator";
  }

  /** The block translator (engine "translator"), or null. */
  get translator(): BlockTranslator | null {
    return this.jit;
  }

  /**
   * Select the execution engine. "translator" starts with an empty
   * translation cache; `rewriter` lets a strategy rewrite sensitive
   * instructions in translated code (binary translation). Returns the
   * translator, or null for the interpreter.
   */
  setEngine(
    engine: HartEngine,
    options: TranslationOptions = {},
    rewriter: SensitiveRewriter | null = null,
  ): BlockTranslator | null {
    if (engine !== "interpreter" && engine !== "translator") {
      throw new CpuError("CPU_BAD_OPTION", `engine "${engine}": use "interpreter" or "translator"`);
    }
    // Translations and their marks in the decode caches start afresh.
    if (this.jit !== null) this.jit.flush();
    if (engine === "interpreter") {
      this.jit = null;
      return null;
    }
    const host: TranslatorHost = {
      hart: this,
      x: this.x,
      ram: this.ram,
      ram8: this.ram8,
      ram16: this.ram16,
      ramU16: this.ramU16,
      ram32: this.ram32,
      rtag: this.rtag,
      rtagHi: this.rtagHi,
      roff: this.roff,
      wtag: this.wtag,
      wtagHi: this.wtagHi,
      woff: this.woff,
      ops: O as unknown as Readonly<Record<string, number>>,
      pages: this.ramSize >>> 12,
      decode: (page, slot) => this.decodeForTranslation(page, slot),
      decodeStraddler: (page, mode) => this.decodeStraddler(page, mode),
      straddleUpper: () => this.straddleUpper,
      decodedB: () => this.decB,
      load: (lo, hi, a, vLo, off, vHi, n, k) => this.jitLoad(lo, hi, a, vLo | off, vHi, n + k) !== 0,
      store: (lo, hi, a, vLo, off, vHi, n, k) => this.jitStore(lo, hi, a, vLo | off, vHi, n + k) !== 0,
      jitWords: this.jw,
      ...(this.arena !== null
        ? {
            wasm: {
              arena: this.arena,
              ramOffset: this.ram.byteOffset,
              tlbEntries: this.rtag.length,
              blockMaps: new Uint16Array(
                this.arena.memory.buffer,
                this.arena.stateOffset + HART_STATE_BYTES,
                (ARENA_BLOCK_MAPS * BLOCK_MAP_BYTES) / 2,
              ),
              slots: ARENA_BLOCK_SLOTS,
              directory: new Int32Array(
                this.arena.memory.buffer,
                this.arena.stateOffset + HART_STATE_BYTES + ARENA_BLOCK_MAPS * BLOCK_MAP_BYTES,
                (this.ramSize >>> 12) * 2,
              ),
              load: (lo, hi, a, pcLo, pcHi, steps) => this.jitLoad(lo, hi, a, pcLo, pcHi, steps),
              store: (lo, hi, a, pcLo, pcHi, steps) => this.jitStore(lo, hi, a, pcLo, pcHi, steps),
              system: (a, b, pcLo, pcHi, steps) => this.jitSystem(a, b, pcLo, pcHi, steps),
              blocksExecuted: () => (this.jw[JW_BLOCKS_LO]! >>> 0) + this.jw[JW_BLOCKS_HI]! * 2 ** 32,
            },
          }
        : {}),
      executed: (page, slot) => {
        const c = this.codeCache[page];
        return c !== undefined && c[slot << 1] !== 0;
      },
      mark: (page, slot, kind) => {
        const c = this.codeCache[page];
        const a = c === undefined ? 0 : c[slot << 1]!;
        if (a === 0) return;
        const plain = a & JIT_UNMARK;
        if (kind === 1) c![slot << 1] = plain | JIT_MARK;
        else if (kind === 2)
          c![slot << 1] = (a & (JIT_MARK | JIT_COUNT)) === JIT_MARK ? a : plain | JIT_MARK | JIT_COUNT;
        else c![slot << 1] = plain;
      },
    };
    this.jit = new BlockTranslator(host, options, rewriter);
    this.jw[JW_BLOCKS_LO] = 0;
    this.jw[JW_BLOCKS_HI] = 0;
    return this.jit;
  }

  /** Reset the hart (privileged spec 3.4): M-mode, MIE=0, MPRV=0, pc = `pc`. RAM is untouched. */
  reset(pc: bigint): void {
    this.x.fill(0);
    this.csr.fill(0);
    // H extension: mideleg bits VSSI, VSTI and VSEI are read-only one.
    if (this.hypervisor) this.csr[S.MIDELEG] = VS_IRQS;
    this.counters.fill(0);
    this.trapStats.fill(0);
    this.guestStats.fill(0);
    this.completeKind = 0;
    this.pmpValid = false;
    this.fpu.reset();
    this.priv = PRV_M;
    this.virt = 0;
    this.setPc(pc);
    this.jw[JW_RESV] = -1;
    this.exc = 0;
    this.haltRequested = false;
    this.flushTlb();
  }

  /** Set the program counter. */
  setPc(pc: bigint): void {
    this.pcLo = Number(pc & 0xffffffffn) | 0;
    this.pcHi = Number((pc >> 32n) & 0xffffffffn) | 0;
  }

  /** The program counter as a bigint. */
  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  /** Read integer register `i` as a signed bigint (for tools and tests). */
  getX(i: number): bigint {
    return BigInt.asIntN(64, (BigInt(this.x[2 * i + 1]! >>> 0) << 32n) | BigInt(this.x[2 * i]! >>> 0));
  }

  /** Write integer register `i` (for tools, loaders and tests; x0 stays zero). */
  setX(i: number, v: bigint): void {
    if (i === 0) return;
    this.x[2 * i] = Number(BigInt.asIntN(32, v));
    this.x[2 * i + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }

  /**
   * Drop the LR reservation, as a trap does (a VMM that reflects a trap into its
   * guest itself, instead of letting the hart deliver it, calls this).
   */
  clearReservation(): void {
    this.jw[JW_RESV] = -1;
  }

  /** The LR reservation as a RAM offset, -1 when none (snapshots save and restore it). */
  get reservationOffset(): number {
    return this.jw[JW_RESV]!;
  }
  set reservationOffset(off: number) {
    this.jw[JW_RESV] = Number.isInteger(off) && off >= -1 && off < this.ramSize ? off : -1;
  }

  /** Ask a running hart to stop at the next instruction boundary (from a device callback). */
  requestHalt(): void {
    this.haltRequested = true;
    this.resync = true;
  }

  /** Mark that interrupt inputs or state changed; the hart re-checks before the next instruction. */
  interruptsChanged(): void {
    this.resync = true;
  }

  /** Drive device interrupt lines (MSIP, MTIP, MEIP, SEIP; VSEIP for a platform's VS-level line): set or clear bit `irq` of the hardware-pending set. */
  setInterruptLine(irq: number, level: boolean): void {
    const bit = 1 << irq;
    const c = this.csr;
    c[S.MIP_HW] = level ? c[S.MIP_HW]! | bit : c[S.MIP_HW]! & ~bit;
    this.resync = true;
  }

  /** Current time CSR value (ticks of the deterministic timebase). */
  time(): number {
    const k = this.counters;
    return Math.floor((k[K.CYCLES]! + this.stepsInRun) / this.stepsPerTick) + k[K.TIME_OFFSET]!;
  }

  /** Advance time by `ticks` without executing (the host skipping an idle WFI). */
  skipTime(ticks: number): void {
    this.counters[K.TIME_OFFSET]! += ticks;
    this.resync = true;
  }

  /** Steps executed so far (the cycle counter). */
  get cycles(): number {
    return this.counters[K.CYCLES]!;
  }

  /** Instructions retired so far. */
  get instret(): number {
    return this.counters[K.INSTRET]!;
  }

  // ---------------------------------------------------------------------------
  // Running.

  /**
   * Execute up to `budget` steps (instructions retired plus traps taken) and
   * return the exit reason; details are in {@link exit}.
   */
  run(budget: number): number {
    const exit = this.exit;
    this.completeKind = 0;
    if (this.virt !== 0) this.guestStats[GuestStat.ENTRIES]! += 1;
    let remaining = budget;
    while (remaining > 0) {
      if (this.haltRequested) {
        this.haltRequested = false;
        return this.exitWith(ExitReason.HALT);
      }
      this.resync = false;
      if (this.checkInterrupts()) return ExitReason.INTERRUPT;
      let limit = Math.min(remaining, INTERPRET_SLICE);
      const deadline = this.stepsToTimerDeadline();
      if (deadline < limit) limit = deadline;
      const steps = this.jit !== null ? this.execute(limit) : this.interpret(limit);
      remaining -= steps;
      if (exit.reason !== ExitReason.BUDGET) return exit.reason;
    }
    if (this.haltRequested) {
      this.haltRequested = false;
      return this.exitWith(ExitReason.HALT);
    }
    exit.reason = ExitReason.BUDGET;
    exit.pcLo = this.pcLo;
    exit.pcHi = this.pcHi;
    exit.mode = this.priv;
    exit.virt = this.virt;
    if (this.virt !== 0) this.guestStats[GuestStat.EXITS + ExitReason.BUDGET]! += 1;
    return ExitReason.BUDGET;
  }

  /** Like {@link run}, single-stepping and calling `trace` before each instruction. */
  runTraced(budget: number): number {
    const trace = this.trace;
    for (let i = 0; i < budget; i++) {
      if (trace) trace(this.pcLo, this.pcHi, this.peekInstruction());
      const r = this.run(1);
      if (r !== ExitReason.BUDGET) return r;
    }
    return ExitReason.BUDGET;
  }

  private exitWith(reason: number): number {
    const e = this.exit;
    e.reason = reason;
    e.pcLo = this.pcLo;
    e.pcHi = this.pcHi;
    e.mode = this.priv;
    e.virt = this.virt;
    e.gpaLo = 0;
    e.gpaHi = 0;
    e.csr = 0;
    e.read = 0;
    e.write = 0;
    e.size = 0;
    e.dataLo = 0;
    e.dataHi = 0;
    e.rd = 0;
    if (this.virt !== 0) this.guestStats[GuestStat.EXITS + reason]! += 1;
    return reason;
  }

  /**
   * Set the privilege mode and virtualization mode (for hosts and loaders:
   * a VMM entering a guest uses `setMode(PRV_S, 1)`), re-deriving the
   * translation context. V=1 needs the H extension and a mode below M.
   */
  setMode(priv: number, virt = 0): void {
    if ((priv !== PRV_U && priv !== PRV_S && priv !== PRV_M) || (virt !== 0 && virt !== 1)) {
      throw new CpuError(
        "CPU_BAD_OPTION",
        `mode ${priv}/V=${virt}: the privilege is 0 (U), 1 (S) or 3 (M) and V is 0 or 1`,
      );
    }
    if (virt === 1 && (!this.hypervisor || priv === PRV_M)) {
      throw new CpuError(
        "CPU_BAD_OPTION",
        this.hypervisor
          ? "V=1 exists only in VS-mode and VU-mode: give PRV_S or PRV_U"
          : "V=1 needs the H extension: create the hart with `hypervisor: true`",
      );
    }
    this.priv = priv;
    this.virt = virt;
    this.privilegeChanged();
  }

  /** Steps until the Sstc timer (stimecmp, or vstimecmp) fires, or Infinity. */
  private stepsToTimerDeadline(): number {
    const c = this.csr;
    if ((c[S.MENVCFG + 1]! & 0x80000000) === 0) return Number.POSITIVE_INFINITY; // STCE off
    const cmp = (c[S.STIMECMP + 1]! >>> 0) * 4294967296 + (c[S.STIMECMP]! >>> 0);
    const now = this.time();
    // Already pending: the level stays until stimecmp is rewritten.
    let target = now >= cmp ? Number.POSITIVE_INFINITY : cmp;
    if (this.hypervisor && (c[S.HENVCFG + 1]! & STCE) !== 0) {
      const t = this.vsTimerTarget(now);
      if (t < target) target = t;
    }
    if (target === Number.POSITIVE_INFINITY) return target;
    const k = this.counters;
    const steps = (target - k[K.TIME_OFFSET]!) * this.stepsPerTick;
    return Math.max(1, Math.ceil(steps - k[K.CYCLES]!));
  }

  /**
   * Whether the VS-level timer fires (Sstc with H): (time + htimedelta) mod
   * 2^64 >= vstimecmp, unsigned, computed exactly on 32-bit halves.
   */
  vsTimerPending(): boolean {
    const c = this.csr;
    const now = this.time();
    const nowHi = Math.floor(now / 4294967296);
    const sumLo = now - nowHi * 4294967296 + (c[S.HTIMEDELTA]! >>> 0);
    const lo = sumLo >>> 0;
    const hi = (nowHi + (c[S.HTIMEDELTA + 1]! >>> 0) + (sumLo >= 4294967296 ? 1 : 0)) >>> 0;
    const cHi = c[S.VSTIMECMP + 1]! >>> 0;
    return hi > cHi || (hi === cHi && lo >= c[S.VSTIMECMP]! >>> 0);
  }

  /** The host time (ticks) at which vstimecmp fires, or Infinity when it is pending already or out of reach. */
  private vsTimerTarget(now: number): number {
    if (this.vsTimerPending()) return Number.POSITIVE_INFINITY;
    const c = this.csr;
    const cmp = (c[S.VSTIMECMP + 1]! >>> 0) * 4294967296 + (c[S.VSTIMECMP]! >>> 0);
    const delta = c[S.HTIMEDELTA + 1]! * 4294967296 + (c[S.HTIMEDELTA]! >>> 0); // signed
    let t = cmp - delta;
    if (t >= TWO64) t -= TWO64;
    else if (t < 0) t += TWO64;
    return t > now ? t : Number.POSITIVE_INFINITY;
  }

  /** Effective pending interrupts (mip as read by software). */
  mip(): number {
    const c = this.csr;
    let p = c[S.MIP_SW]! | c[S.MIP_HW]!;
    if ((c[S.MENVCFG + 1]! & 0x80000000) !== 0) {
      const cmp = (c[S.STIMECMP + 1]! >>> 0) * 4294967296 + (c[S.STIMECMP]! >>> 0);
      p = this.time() >= cmp ? p | (1 << Irq.STI) : p & ~(1 << Irq.STI);
      // hip.VSTIP is hvip.VSTIP ORed with the vstimecmp timer.
      if (this.hypervisor && (c[S.HENVCFG + 1]! & STCE) !== 0 && this.vsTimerPending()) p |= 1 << Irq.VSTI;
    }
    return p;
  }

  /**
   * Take the highest-priority enabled interrupt, if any (privileged spec
   * 3.1.9). Returns true when the hart must exit instead.
   */
  private checkInterrupts(): boolean {
    if (this.hypervisor) return this.checkInterruptsH();
    const c = this.csr;
    const pending = this.mip() & c[S.MIE]!;
    if (pending === 0) return false;
    const mideleg = c[S.MIDELEG]!;
    const mstatus = c[S.MSTATUS]!;
    const mEnabled = this.priv < PRV_M || (mstatus & MSTATUS.MIE) !== 0;
    const sEnabled = this.priv < PRV_S || (this.priv === PRV_S && (mstatus & MSTATUS.SIE) !== 0);
    let take = 0;
    const m = pending & ~mideleg;
    if (mEnabled && m !== 0) take = m;
    else {
      const s = pending & mideleg;
      if (sEnabled && s !== 0) take = s;
    }
    if (take === 0) return false;
    // Priority: MEI, MSI, MTI, SEI, SSI, STI.
    let irq: number;
    if (take & (1 << Irq.MEI)) irq = Irq.MEI;
    else if (take & (1 << Irq.MSI)) irq = Irq.MSI;
    else if (take & (1 << Irq.MTI)) irq = Irq.MTI;
    else if (take & (1 << Irq.SEI)) irq = Irq.SEI;
    else if (take & (1 << Irq.SSI)) irq = Irq.SSI;
    else if (take & (1 << Irq.STI)) irq = Irq.STI;
    else irq = 31 - Math.clz32(take);
    if (this.exitOnInterrupt) {
      this.exitWith(ExitReason.INTERRUPT);
      this.exit.cause = irq;
      return true;
    }
    this.deliverTrap(irq, true, 0, 0);
    this.counters[K.CYCLES]! += 1;
    return false;
  }

  /**
   * Interrupts with the H extension ("Hypervisor Interrupt Registers", "Trap
   * Entry"): M-level first (undelegated, taken when below M or MIE), then
   * HS-level (delegated by mideleg, not by hideleg; taken when V=1, in U, or
   * in HS with SIE), then VS-level (delegated by both; taken only when V=1,
   * in VU or in VS with vsstatus.SIE). HS priority: SEI, SSI, STI, SGEI,
   * VSEI, VSSI, VSTI.
   */
  private checkInterruptsH(): boolean {
    const c = this.csr;
    const pending = this.mip() & c[S.MIE]!;
    if (pending === 0) return false;
    const mideleg = c[S.MIDELEG]!;
    const hideleg = c[S.HIDELEG]! & mideleg;
    const ms = c[S.MSTATUS]!;
    const p = this.priv;
    const v = this.virt;
    let take = pending & ~mideleg;
    if (take === 0 || (p === PRV_M && (ms & MSTATUS.MIE) === 0)) {
      take = pending & mideleg & ~hideleg;
      if (take === 0 || !(v !== 0 || p < PRV_S || (p === PRV_S && (ms & MSTATUS.SIE) !== 0))) {
        take = pending & hideleg;
        if (take === 0 || v === 0 || (p === PRV_S && (c[S.VSSTATUS]! & MSTATUS.SIE) === 0)) return false;
      }
    }
    let irq: number;
    if (take & (1 << Irq.MEI)) irq = Irq.MEI;
    else if (take & (1 << Irq.MSI)) irq = Irq.MSI;
    else if (take & (1 << Irq.MTI)) irq = Irq.MTI;
    else if (take & (1 << Irq.SEI)) irq = Irq.SEI;
    else if (take & (1 << Irq.SSI)) irq = Irq.SSI;
    else if (take & (1 << Irq.STI)) irq = Irq.STI;
    else if (take & (1 << Irq.SGEI)) irq = Irq.SGEI;
    else if (take & (1 << Irq.VSEI)) irq = Irq.VSEI;
    else if (take & (1 << Irq.VSSI)) irq = Irq.VSSI;
    else if (take & (1 << Irq.VSTI)) irq = Irq.VSTI;
    else irq = 31 - Math.clz32(take);
    if (v !== 0 ? ((this.guestExits.interrupts >>> irq) & 1) !== 0 : this.exitOnInterrupt) {
      this.exitWith(ExitReason.INTERRUPT);
      this.exit.cause = irq;
      return true;
    }
    this.deliverTrap(irq, true, 0, 0);
    this.counters[K.CYCLES]! += 1;
    return false;
  }

  /**
   * Deliver a trap architecturally (privileged spec 3.1.6.1, 4.1.1): to S-mode
   * when delegated and not from M-mode, else to M-mode; with the H extension
   * from V=1 to VS-mode when hedeleg/hideleg delegate it further. pc must
   * hold the address the trap returns to.
   */
  deliverTrap(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number): void {
    if (this.hypervisor) {
      this.deliverTrapH(cause, interrupt, tvalLo, tvalHi);
      return;
    }
    const c = this.csr;
    const deleg = interrupt ? c[S.MIDELEG]! : c[S.MEDELEG]!;
    const prev = this.priv;
    let ms = c[S.MSTATUS]!;
    this.jw[JW_RESV] = -1;
    this.trapStats[interrupt ? TRAP_STATS_INTERRUPT + cause : cause]! += 1;
    if (prev <= PRV_S && ((deleg >>> cause) & 1) !== 0) {
      c[S.SCAUSE] = cause;
      c[S.SCAUSE + 1] = interrupt ? 0x80000000 | 0 : 0;
      c[S.SEPC] = this.pcLo;
      c[S.SEPC + 1] = this.pcHi;
      c[S.STVAL] = tvalLo;
      c[S.STVAL + 1] = tvalHi;
      ms = (ms & ~(MSTATUS.SPP | MSTATUS.SPIE | MSTATUS.SIE)) | (prev << 8) | ((ms & MSTATUS.SIE) << 4);
      c[S.MSTATUS] = ms;
      this.priv = PRV_S;
      this.jumpToVector(c[S.STVEC]!, c[S.STVEC + 1]!, interrupt, cause);
    } else {
      c[S.MCAUSE] = cause;
      c[S.MCAUSE + 1] = interrupt ? 0x80000000 | 0 : 0;
      c[S.MEPC] = this.pcLo;
      c[S.MEPC + 1] = this.pcHi;
      c[S.MTVAL] = tvalLo;
      c[S.MTVAL + 1] = tvalHi;
      ms = (ms & ~(MSTATUS.MPP | MSTATUS.MPIE | MSTATUS.MIE)) | (prev << 11) | ((ms & MSTATUS.MIE) << 4);
      c[S.MSTATUS] = ms;
      this.priv = PRV_M;
      this.jumpToVector(c[S.MTVEC]!, c[S.MTVEC + 1]!, interrupt, cause);
    }
    this.privilegeChanged();
  }

  /**
   * Trap entry with the H extension ("Trap Entry"): from V=1 a trap delegated
   * by medeleg/mideleg and then by hedeleg/hideleg goes to VS-mode (V stays
   * 1; VSSI/VSTI/VSEI become SSI/STI/SEI in vscause); delegated by
   * medeleg/mideleg only, to HS-mode (V=0, hstatus SPV/SPVP/GVA, htval,
   * htinst); else to M-mode (V=0, MPV, GVA, mtval2, mtinst).
   */
  private deliverTrapH(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number): void {
    const c = this.csr;
    const prev = this.priv;
    const pv = this.virt;
    const gva = this.trapGva;
    // htval/mtval2: the guest physical address >> 2 (0 for other traps).
    const tval2Lo = (this.trapGpaLo >>> 2) | (this.trapGpaHi << 30);
    const tval2Hi = this.trapGpaHi >>> 2;
    const tinst = this.trapTinst;
    this.trapGva = 0;
    this.trapGpaLo = 0;
    this.trapGpaHi = 0;
    this.trapTinst = 0;
    let ms = c[S.MSTATUS]!;
    this.jw[JW_RESV] = -1;
    this.trapStats[interrupt ? TRAP_STATS_INTERRUPT + cause : cause]! += 1;
    const deleg = interrupt ? c[S.MIDELEG]! : c[S.MEDELEG]!;
    if (prev <= PRV_S && ((deleg >>> cause) & 1) !== 0) {
      const hdeleg = interrupt ? c[S.HIDELEG]! : c[S.HEDELEG]!;
      if (pv !== 0 && ((hdeleg >>> cause) & 1) !== 0) {
        // Into VS-mode: hideleg holds only VSSI, VSTI, VSEI, each one above its S-level twin.
        const vcause = interrupt ? cause - 1 : cause;
        c[S.VSCAUSE] = vcause;
        c[S.VSCAUSE + 1] = interrupt ? 0x80000000 | 0 : 0;
        c[S.VSEPC] = this.pcLo;
        c[S.VSEPC + 1] = this.pcHi;
        c[S.VSTVAL] = tvalLo;
        c[S.VSTVAL + 1] = tvalHi;
        const vs = c[S.VSSTATUS]!;
        c[S.VSSTATUS] =
          (vs & ~(MSTATUS.SPP | MSTATUS.SPIE | MSTATUS.SIE)) | (prev << 8) | ((vs & MSTATUS.SIE) << 4);
        this.priv = PRV_S;
        this.jumpToVector(c[S.VSTVEC]!, c[S.VSTVEC + 1]!, interrupt, vcause);
        this.privilegeChanged();
        return;
      }
      c[S.SCAUSE] = cause;
      c[S.SCAUSE + 1] = interrupt ? 0x80000000 | 0 : 0;
      c[S.SEPC] = this.pcLo;
      c[S.SEPC + 1] = this.pcHi;
      c[S.STVAL] = tvalLo;
      c[S.STVAL + 1] = tvalHi;
      c[S.HTVAL] = tval2Lo;
      c[S.HTVAL + 1] = tval2Hi;
      c[S.HTINST] = tinst;
      c[S.HTINST + 1] = 0;
      let hs = c[S.HSTATUS]! & ~(HSTATUS.SPV | HSTATUS.GVA);
      if (pv !== 0) hs = (hs & ~HSTATUS.SPVP) | HSTATUS.SPV | (prev << 8);
      c[S.HSTATUS] = hs | (gva !== 0 ? HSTATUS.GVA : 0);
      ms = (ms & ~(MSTATUS.SPP | MSTATUS.SPIE | MSTATUS.SIE)) | (prev << 8) | ((ms & MSTATUS.SIE) << 4);
      c[S.MSTATUS] = ms;
      this.priv = PRV_S;
      this.jumpToVector(c[S.STVEC]!, c[S.STVEC + 1]!, interrupt, cause);
    } else {
      c[S.MCAUSE] = cause;
      c[S.MCAUSE + 1] = interrupt ? 0x80000000 | 0 : 0;
      c[S.MEPC] = this.pcLo;
      c[S.MEPC + 1] = this.pcHi;
      c[S.MTVAL] = tvalLo;
      c[S.MTVAL + 1] = tvalHi;
      c[S.MTVAL2] = tval2Lo;
      c[S.MTVAL2 + 1] = tval2Hi;
      c[S.MTINST] = tinst;
      c[S.MTINST + 1] = 0;
      c[S.MSTATUS_HI] = (pv !== 0 ? MSTATUS_HI.MPV : 0) | (gva !== 0 ? MSTATUS_HI.GVA : 0);
      ms = (ms & ~(MSTATUS.MPP | MSTATUS.MPIE | MSTATUS.MIE)) | (prev << 11) | ((ms & MSTATUS.MIE) << 4);
      c[S.MSTATUS] = ms;
      this.priv = PRV_M;
      this.jumpToVector(c[S.MTVEC]!, c[S.MTVEC + 1]!, interrupt, cause);
    }
    if (pv !== 0) this.guestStats[GuestStat.TRAPS_OUT]! += 1;
    this.virt = 0;
    this.privilegeChanged();
  }

  private jumpToVector(lo: number, hi: number, interrupt: boolean, cause: number): void {
    const base = lo & ~3;
    if (interrupt && (lo & 3) === 1) {
      const t = (base + 4 * cause) | 0;
      this.pcHi = (hi + (t >>> 0 < base >>> 0 ? 1 : 0)) | 0;
      this.pcLo = t;
    } else {
      this.pcLo = base;
      this.pcHi = hi;
    }
  }

  /**
   * Raise a synchronous exception at the current pc: exit or deliver per the
   * exit controls (`exitOnException[priv]` when V=0, `guestExits.exceptions`
   * when V=1). Returns true if it exits.
   */
  raiseException(cause: number, tvalLo: number, tvalHi: number, insn: number, insnLength: number): boolean {
    const selected = this.virt !== 0 ? this.guestExits.exceptions : this.exitOnException[this.priv]!;
    if (((selected >>> cause) & 1) !== 0) {
      const e = this.exit;
      this.exitWith(ExitReason.TRAP);
      e.cause = cause;
      e.tvalLo = tvalLo;
      e.tvalHi = tvalHi;
      e.insn = insn;
      e.insnLength = insnLength;
      e.gpaLo = this.trapGpaLo;
      e.gpaHi = this.trapGpaHi;
      this.trapGva = 0;
      this.trapGpaLo = 0;
      this.trapGpaHi = 0;
      this.trapTinst = 0;
      return true;
    }
    this.deliverTrap(cause, false, tvalLo, tvalHi);
    return false;
  }

  /** Return from a trap: MRET (privileged spec 3.3.2; H extension "Trap Return": V = MPV unless MPP = M). */
  private mret(): void {
    this.trapStats[TRAP_STATS_MRET]! += 1;
    const c = this.csr;
    let ms = c[S.MSTATUS]!;
    const mpp = (ms >>> 11) & 3;
    // MIE = MPIE, MPIE = 1, MPP = U (least-privileged supported), MPRV = 0 if MPP != M.
    ms = (ms & ~(MSTATUS.MIE | MSTATUS.MPP)) | ((ms & MSTATUS.MPIE) >>> 4) | MSTATUS.MPIE;
    if (mpp !== PRV_M) ms &= ~MSTATUS.MPRV;
    c[S.MSTATUS] = ms;
    if (this.hypervisor) {
      const mpv = c[S.MSTATUS_HI]! & MSTATUS_HI.MPV;
      c[S.MSTATUS_HI]! &= ~MSTATUS_HI.MPV;
      if (mpv !== 0 && mpp !== PRV_M) {
        this.virt = 1;
        this.guestStats[GuestStat.ENTRIES]! += 1;
      }
    }
    this.priv = mpp;
    this.pcLo = c[S.MEPC]!;
    this.pcHi = c[S.MEPC + 1]!;
    this.privilegeChanged();
  }

  /** Return from a supervisor trap: SRET (from HS/M: V = hstatus.SPV; from VS: through vsstatus and vsepc). */
  private sret(): void {
    this.trapStats[TRAP_STATS_SRET]! += 1;
    const c = this.csr;
    if (this.virt !== 0) {
      const vs = c[S.VSSTATUS]!;
      c[S.VSSTATUS] = (vs & ~(MSTATUS.SIE | MSTATUS.SPP)) | ((vs & MSTATUS.SPIE) >>> 4) | MSTATUS.SPIE;
      this.priv = (vs >>> 8) & 1;
      this.pcLo = c[S.VSEPC]!;
      this.pcHi = c[S.VSEPC + 1]!;
      this.privilegeChanged();
      return;
    }
    let ms = c[S.MSTATUS]!;
    const spp = (ms >>> 8) & 1;
    ms = (ms & ~(MSTATUS.SIE | MSTATUS.SPP)) | ((ms & MSTATUS.SPIE) >>> 4) | MSTATUS.SPIE;
    ms &= ~MSTATUS.MPRV; // SRET to a mode below M clears MPRV (priv spec 1.12)
    c[S.MSTATUS] = ms;
    if (this.hypervisor && (c[S.HSTATUS]! & HSTATUS.SPV) !== 0) {
      c[S.HSTATUS]! &= ~HSTATUS.SPV;
      this.virt = 1;
      this.guestStats[GuestStat.ENTRIES]! += 1;
    }
    this.priv = spp;
    this.pcLo = c[S.SEPC]!;
    this.pcHi = c[S.SEPC + 1]!;
    this.privilegeChanged();
  }

  /** Re-derive translation context after a change of privilege, V, MPRV/MPP/MPV, SUM/MXR or satp. */
  privilegeChanged(): void {
    const c = this.csr;
    const ms = c[S.MSTATUS]!;
    let d = this.virt !== 0 ? MODE_VU + this.priv : this.priv;
    if (this.priv === PRV_M && (ms & MSTATUS.MPRV) !== 0) {
      // MPRV: data accesses as though in mode MPP, and with the H extension V = MPV (MPP != M).
      d = (ms >>> 11) & 3;
      if (d !== PRV_M && (c[S.MSTATUS_HI]! & MSTATUS_HI.MPV) !== 0) d += MODE_VU;
    }
    this.dMode = d;
    this.dBase = d * TLB_SIZE;
    this.fTag = TLB_INVALID;
    this.resync = true;
  }

  /** Flush all TLBs and the current fetch page (satp write, sfence.vma, PMP or mstatus translation bits). */
  flushTlb(): void {
    this.itag.fill(TLB_INVALID);
    this.rtag.fill(TLB_INVALID);
    this.wtag.fill(TLB_INVALID);
    this.superpages.clear();
    this.guestSuperpages.clear();
    this.tlbFlushes++;
    this.fTag = TLB_INVALID;
    this.resync = true;
    this.privilegeChanged();
  }

  /**
   * Flush the guest (VS/VU) TLB sets: cached guest-virtual to
   * supervisor-physical translations (vsatp, hgatp, vsstatus SUM/MXR writes;
   * sfence.vma at V=1, hfence.vvma, hfence.gvma).
   */
  flushGuestTlb(): void {
    if (!this.hypervisor) return;
    const from = MODE_VU * TLB_SIZE;
    this.itag.fill(TLB_INVALID, from);
    this.rtag.fill(TLB_INVALID, from);
    this.wtag.fill(TLB_INVALID, from);
    this.guestSuperpages.clear();
    this.tlbFlushes++;
    this.fTag = TLB_INVALID;
    this.resync = true;
  }

  /**
   * Drop cached translations of the page holding virtual address (lo, hi)
   * (sfence.vma with rs1 != x0). The TLBs cache 4 KiB pieces only, so when the
   * address may lie in a superpage whose other pieces are cached, flush all.
   */
  flushTlbPage(lo: number, hi: number): void {
    const sp = this.superpages;
    if (
      sp.size !== 0 &&
      (sp.has(superpageKey(lo, hi, 1)) || sp.has(superpageKey(lo, hi, 2)) || sp.has(superpageKey(lo, hi, 3)))
    ) {
      this.flushTlb();
      return;
    }
    this.tlbPageFlushes++;
    this.dropPage(lo, hi, 0, HOST_SETS);
  }

  /** Drop cached guest translations of guest virtual address (lo, hi): sfence.vma at V=1, hfence.vvma with an address. */
  flushGuestTlbPage(lo: number, hi: number): void {
    const sp = this.guestSuperpages;
    if (
      sp.size !== 0 &&
      (sp.has(superpageKey(lo, hi, 1)) || sp.has(superpageKey(lo, hi, 2)) || sp.has(superpageKey(lo, hi, 3)))
    ) {
      this.flushGuestTlb();
      return;
    }
    this.tlbPageFlushes++;
    this.dropPage(lo, hi, MODE_VU, GUEST_SETS);
  }

  private dropPage(lo: number, hi: number, fromSet: number, toSet: number): void {
    const page = lo & PAGE_MASK;
    for (let set = fromSet; set < toSet; set++) {
      const i = set * TLB_SIZE + ((lo >>> 12) & TLB_MASK);
      if (this.itag[i] === page && this.itagHi[i] === hi) this.itag[i] = TLB_INVALID;
      if (this.rtag[i] === page && this.rtagHi[i] === hi) this.rtag[i] = TLB_INVALID;
      if (this.wtag[i] === page && this.wtagHi[i] === hi) this.wtag[i] = TLB_INVALID;
    }
    // The current fetch page may be a host or a guest one: drop it either way.
    if (this.fTag === page && this.fTagHi === hi) this.fTag = TLB_INVALID;
    this.resync = true;
  }

  /** Full TLB flushes (satp writes, sfence.vma with rs1 = x0, PMP and mstatus changes). */
  tlbFlushes = 0;
  /** Single-page TLB flushes (sfence.vma with an address). */
  tlbPageFlushes = 0;

  // ---------------------------------------------------------------------------
  // Address translation (privileged spec 4.3-4.5, 3.7).

  /**
   * Translate virtual address (hi, lo) for an access of kind `acc` at
   * privilege `prv`. Returns the physical address (uint32) or -1 with a
   * pending exception.
   */
  private translate(lo: number, hi: number, acc: number, prv: number): number {
    const c = this.csr;
    const satpHi = c[S.SATP + 1]!;
    const mode = satpHi >>> 28;
    if (prv === PRV_M || mode === 0) {
      if (hi !== 0) return this.accessFault(acc, lo, hi);
      return lo >>> 0;
    }
    this.pageWalks++;
    const levels = mode === 8 ? 3 : mode === 9 ? 4 : 0;
    if (levels === 0) return this.accessFault(acc, lo, hi);
    // The upper address bits must be a sign extension of bit 38 (Sv39) or 47 (Sv48).
    const vaBits = 12 + 9 * levels; // 39 or 48
    const signHi = vaBits - 1 - 32; // bit index within hi
    const upper = hi >> signHi; // arithmetic: 0 or -1 if canonical
    if (upper !== 0 && upper !== -1) return this.pageFault(acc, lo, hi);
    const ms = c[S.MSTATUS]!;
    const sum = (ms & MSTATUS.SUM) !== 0;
    const mxr = (ms & MSTATUS.MXR) !== 0;
    // Root table physical address: satp.PPN (44 bits) << 12.
    const ppnLo = c[S.SATP]!;
    const ppnHi = satpHi & 0xfff;
    if (ppnHi !== 0 || ppnLo >>> 20 !== 0) return this.accessFault(acc, lo, hi);
    let table = (ppnLo << 12) >>> 0;
    const ram32 = this.ram32;
    for (let level = levels - 1; level >= 0; level--) {
      const shift = 12 + 9 * level;
      const vpn =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + 9 > 32
            ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff
            : (lo >>> shift) & 0x1ff;
      const pteAddr = table + vpn * 8;
      const off = pteAddr - this.ramBase;
      if (off < 0 || off >= this.ramSize || !this.pmpAllows(pteAddr, 8, ACC_LOAD, PRV_S)) {
        return this.accessFault(acc, lo, hi);
      }
      let pteLo = ram32[off >> 2]!;
      const pteHi = ram32[(off >> 2) + 1]!;
      // V=0, or W without R, or reserved/PBMT/N bits set: page fault.
      if ((pteLo & 1) === 0 || (pteLo & 6) === 4 || (pteHi & 0xffc00000) !== 0) {
        return this.pageFault(acc, lo, hi);
      }
      const ppnL = (pteLo >>> 10) | (pteHi << 22); // low 32 bits of PPN
      const ppnH = (pteHi >>> 10) & 0xfff; // PPN bits 32..43
      if ((pteLo & 0xa) === 0) {
        // Pointer to the next level (R=X=0). D, A, U must be zero in a non-leaf PTE.
        if ((pteLo & 0xd0) !== 0 || level === 0) return this.pageFault(acc, lo, hi);
        if (ppnH !== 0 || ppnL >>> 20 !== 0) return this.accessFault(acc, lo, hi);
        table = (ppnL << 12) >>> 0;
        continue;
      }
      // Leaf: permission checks.
      const r = (pteLo & 2) !== 0;
      const w = (pteLo & 4) !== 0;
      const xx = (pteLo & 8) !== 0;
      const u = (pteLo & 16) !== 0;
      if (prv === PRV_U ? !u : u && (acc === ACC_FETCH || !sum)) return this.pageFault(acc, lo, hi);
      if (acc === ACC_FETCH ? !xx : acc === ACC_LOAD ? !(r || (mxr && xx)) : !w)
        return this.pageFault(acc, lo, hi);
      // Superpage alignment: the PPN bits below this level must be zero.
      if (level > 0 && (ppnL & ((1 << (9 * level)) - 1)) !== 0) return this.pageFault(acc, lo, hi);
      // Hardware A/D update.
      const need = acc === ACC_STORE ? 0xc0 : 0x40;
      if ((pteLo & need) !== need) {
        if (!this.pmpAllows(pteAddr, 8, ACC_STORE, PRV_S)) return this.accessFault(acc, lo, hi);
        pteLo |= need;
        ram32[off >> 2] = pteLo;
        this.ramWritten(off, 8);
      }
      if (ppnH !== 0) return this.accessFault(acc, lo, hi);
      if (level > 0) this.superpages.add(superpageKey(lo, hi, level));
      // Physical address: PPN with the low levels taken from the VA for superpages.
      const lowMask = level === 0 ? 0 : (1 << (9 * level)) - 1;
      const vpnLow = ((lo >>> 12) | (hi << 20)) & lowMask;
      const ppn = (ppnL & ~lowMask) | vpnLow;
      if (ppn >>> 20 !== 0) return this.accessFault(acc, lo, hi);
      return ((ppn << 12) | (lo & 0xfff)) >>> 0;
    }
    return this.pageFault(acc, lo, hi);
  }

  /** Translate for effective mode index `mode` (0 U, 1 S, 3 M, 4 VU, 5 VS). */
  private xlate(lo: number, hi: number, acc: number, mode: number): number {
    return mode >= MODE_VU
      ? this.translateGuest(lo, hi, acc, mode - MODE_VU)
      : this.translate(lo, hi, acc, mode);
  }

  /**
   * Two-stage translation (H extension 1.0, "Two-Stage Address
   * Translation"): guest virtual address (lo, hi) to a guest physical address
   * through vsatp (VS-stage), then to a supervisor physical address through
   * hgatp (G-stage), with the G-stage translation of every VS-level
   * page-table access. `prv` is the nominal privilege (PRV_S for VS-mode,
   * PRV_U for VU-mode). Returns the physical address (uint32) or -1 with a
   * pending exception.
   */
  private translateGuest(lo: number, hi: number, acc: number, prv: number): number {
    const c = this.csr;
    const stats = this.guestStats;
    stats[GuestStat.WALKS]! += 1;
    const satpHi = c[S.VSATP + 1]!;
    const mode = satpHi >>> 28;
    const hlvx = this.hlvx;
    if (mode === 0) return this.gstage(lo, hi, hlvx ? ACC_FETCH : acc, acc, lo, hi, 0);
    const levels = mode === 8 ? 3 : 4; // vsatp holds only Bare, Sv39 and Sv48
    const upper = hi >> (12 + 9 * levels - 33); // sign extension of bit 38 or 47
    if (upper !== 0 && upper !== -1) return this.pageFault(acc, lo, hi);
    const vs = c[S.VSSTATUS]!;
    const sum = (vs & MSTATUS.SUM) !== 0;
    // vsstatus.MXR and the HS-level MXR both make executable pages readable at this stage.
    const mxr = ((vs | c[S.MSTATUS]!) & MSTATUS.MXR) !== 0;
    // Root table guest physical address: vsatp.PPN (44 bits) << 12.
    const root = c[S.VSATP]!;
    let tLo = root << 12;
    let tHi = (root >>> 20) | ((satpHi & 0xfff) << 12);
    const ram32 = this.ram32;
    for (let level = levels - 1; level >= 0; level--) {
      const shift = 12 + 9 * level;
      const vpn =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + 9 > 32
            ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff
            : (lo >>> shift) & 0x1ff;
      // The PTE's guest physical address (tLo is page-aligned: no carry), then its G-stage translation.
      const pteGpa = (tLo + vpn * 8) | 0;
      const spa = this.gstage(pteGpa, tHi, ACC_LOAD, acc, lo, hi, TINST_PT_READ);
      if (spa < 0) return -1;
      const off = spa - this.ramBase;
      if (off < 0 || off >= this.ramSize || !this.pmpAllows(spa, 8, ACC_LOAD, PRV_S)) {
        return this.accessFault(acc, lo, hi);
      }
      stats[GuestStat.WALK_STEPS]! += 1;
      let pteLo = ram32[off >> 2]!;
      const pteHi = ram32[(off >> 2) + 1]!;
      if ((pteLo & 1) === 0 || (pteLo & 6) === 4 || (pteHi & 0xffc00000) !== 0) {
        return this.pageFault(acc, lo, hi);
      }
      const ppnL = (pteLo >>> 10) | (pteHi << 22);
      const ppnH = (pteHi >>> 10) & 0xfff;
      if ((pteLo & 0xa) === 0) {
        if ((pteLo & 0xd0) !== 0 || level === 0) return this.pageFault(acc, lo, hi);
        tLo = ppnL << 12;
        tHi = (ppnL >>> 20) | (ppnH << 12);
        continue;
      }
      const r = (pteLo & 2) !== 0;
      const w = (pteLo & 4) !== 0;
      const xx = (pteLo & 8) !== 0;
      const u = (pteLo & 16) !== 0;
      if (prv === PRV_U ? !u : u && (acc === ACC_FETCH || !sum)) return this.pageFault(acc, lo, hi);
      // hlvx needs execute permission instead of read permission.
      if (acc === ACC_FETCH ? !xx : acc === ACC_LOAD ? !(hlvx ? xx : r || (mxr && xx)) : !w) {
        return this.pageFault(acc, lo, hi);
      }
      if (level > 0 && (ppnL & ((1 << (9 * level)) - 1)) !== 0) return this.pageFault(acc, lo, hi);
      const need = acc === ACC_STORE ? 0xc0 : 0x40;
      if ((pteLo & need) !== need) {
        // Setting A/D is an implicit store: it needs G-stage write permission for the PTE's page.
        const wpa = this.gstage(pteGpa, tHi, ACC_STORE, acc, lo, hi, TINST_PT_WRITE);
        if (wpa < 0) return -1;
        if (!this.pmpAllows(wpa, 8, ACC_STORE, PRV_S)) return this.accessFault(acc, lo, hi);
        pteLo |= need;
        ram32[off >> 2] = pteLo;
        this.ramWritten(off, 8);
      }
      if (level > 0) this.guestSuperpages.add(superpageKey(lo, hi, level));
      // Guest physical address: PPN with the low levels taken from the VA for superpages.
      const lowMask = level === 0 ? 0 : (1 << (9 * level)) - 1;
      const vpnLow = ((lo >>> 12) | (hi << 20)) & lowMask;
      const ppn = (ppnL & ~lowMask) | vpnLow;
      const gLo = (ppn << 12) | (lo & 0xfff);
      const gHi = (ppn >>> 20) | (ppnH << 12);
      return this.gstage(gLo, gHi, hlvx ? ACC_FETCH : acc, acc, lo, hi, 0);
    }
    return this.pageFault(acc, lo, hi);
  }

  /**
   * G-stage translation ("Guest Physical Address Translation") of guest
   * physical address (gLo, gHi) through hgatp: Sv39x4 or Sv48x4 (41- or
   * 50-bit addresses, an 11-bit root index in a 16 KiB root table), every
   * access checked as a U-mode access. `perm` is the permission checked
   * (ACC_LOAD for a VS-level page-table read, ACC_STORE for its A/D update,
   * ACC_FETCH for hlvx), `acc` the access type a fault reports, (vaLo, vaHi)
   * the guest virtual address for the trap value, and `tinst` the
   * pseudoinstruction of a page-table access (0 for the access itself).
   */
  private gstage(
    gLo: number,
    gHi: number,
    perm: number,
    acc: number,
    vaLo: number,
    vaHi: number,
    tinst: number,
  ): number {
    const c = this.csr;
    const atpHi = c[S.HGATP + 1]!;
    const mode = atpHi >>> 28;
    if (mode === 0) {
      // Bare: guest physical = supervisor physical, below 2^32 on this hart.
      if (gHi !== 0) return this.accessFault(acc, vaLo, vaHi);
      return gLo >>> 0;
    }
    const levels = mode === 8 ? 3 : 4; // hgatp holds only Bare, Sv39x4 and Sv48x4
    // Address bits 63:41 (Sv39x4) or 63:50 (Sv48x4) must be zero.
    if (gHi >>> (levels === 3 ? 9 : 18) !== 0) return this.guestPageFault(acc, vaLo, vaHi, gLo, gHi, tinst);
    // The HS-level MXR applies to explicit loads at this stage (vsstatus.MXR does not).
    const mxr = tinst === 0 && (c[S.MSTATUS]! & MSTATUS.MXR) !== 0;
    const root = c[S.HGATP]!; // PPN[1:0] read as zero: the root is 16 KiB aligned
    if ((atpHi & 0xfff) !== 0 || root >>> 20 !== 0) return this.accessFault(acc, vaLo, vaHi);
    let table = (root << 12) >>> 0;
    const ram32 = this.ram32;
    const stats = this.guestStats;
    for (let level = levels - 1; level >= 0; level--) {
      const shift = 12 + 9 * level;
      const mask = level === levels - 1 ? 0x7ff : 0x1ff;
      const vpn =
        shift >= 32 ? (gHi >>> (shift - 32)) & mask : ((gLo >>> shift) | (gHi << (32 - shift))) & mask;
      const pteAddr = table + vpn * 8;
      const off = pteAddr - this.ramBase;
      if (off < 0 || off >= this.ramSize || !this.pmpAllows(pteAddr, 8, ACC_LOAD, PRV_S)) {
        return this.accessFault(acc, vaLo, vaHi);
      }
      stats[GuestStat.WALK_STEPS]! += 1;
      stats[GuestStat.GSTAGE_STEPS]! += 1;
      let pteLo = ram32[off >> 2]!;
      const pteHi = ram32[(off >> 2) + 1]!;
      if ((pteLo & 1) === 0 || (pteLo & 6) === 4 || (pteHi & 0xffc00000) !== 0) {
        return this.guestPageFault(acc, vaLo, vaHi, gLo, gHi, tinst);
      }
      const ppnL = (pteLo >>> 10) | (pteHi << 22);
      const ppnH = (pteHi >>> 10) & 0xfff;
      if ((pteLo & 0xa) === 0) {
        if ((pteLo & 0xd0) !== 0 || level === 0) return this.guestPageFault(acc, vaLo, vaHi, gLo, gHi, tinst);
        if (ppnH !== 0 || ppnL >>> 20 !== 0) return this.accessFault(acc, vaLo, vaHi);
        table = (ppnL << 12) >>> 0;
        continue;
      }
      // Leaf. G-stage accesses are U-mode accesses: U must be set (the G bit is ignored).
      const r = (pteLo & 2) !== 0;
      const w = (pteLo & 4) !== 0;
      const xx = (pteLo & 8) !== 0;
      if (
        (pteLo & 16) === 0 ||
        (perm === ACC_FETCH ? !xx : perm === ACC_LOAD ? !(r || (mxr && xx)) : !w) ||
        (level > 0 && (ppnL & ((1 << (9 * level)) - 1)) !== 0)
      ) {
        return this.guestPageFault(acc, vaLo, vaHi, gLo, gHi, tinst);
      }
      const need = perm === ACC_STORE ? 0xc0 : 0x40;
      if ((pteLo & need) !== need) {
        if (!this.pmpAllows(pteAddr, 8, ACC_STORE, PRV_S)) return this.accessFault(acc, vaLo, vaHi);
        pteLo |= need;
        ram32[off >> 2] = pteLo;
        this.ramWritten(off, 8);
      }
      if (ppnH !== 0) return this.accessFault(acc, vaLo, vaHi);
      const lowMask = level === 0 ? 0 : (1 << (9 * level)) - 1;
      const vpnLow = ((gLo >>> 12) | (gHi << 20)) & lowMask;
      const ppn = (ppnL & ~lowMask) | vpnLow;
      if (ppn >>> 20 !== 0) return this.accessFault(acc, vaLo, vaHi);
      return ((ppn << 12) | (gLo & 0xfff)) >>> 0;
    }
    return this.guestPageFault(acc, vaLo, vaHi, gLo, gHi, tinst);
  }

  /** Pend a guest-page fault (causes 20, 21, 23): tval = the guest virtual address, htval/mtval2 = gpa >> 2. */
  private guestPageFault(
    acc: number,
    vaLo: number,
    vaHi: number,
    gLo: number,
    gHi: number,
    tinst: number,
  ): number {
    const cause =
      acc === ACC_FETCH
        ? Cause.FETCH_GUEST_PAGE_FAULT
        : acc === ACC_LOAD
          ? Cause.LOAD_GUEST_PAGE_FAULT
          : Cause.STORE_GUEST_PAGE_FAULT;
    this.pend(cause, vaLo, vaHi);
    this.excGva = 1;
    this.excGpaLo = gLo;
    this.excGpaHi = gHi;
    this.excTinst = tinst;
    const g = this.guestExits;
    if (tinst === 0 && acc !== ACC_FETCH && g.mmioCount !== 0 && g.isMmio(gLo, gHi)) this.excMmio = 1;
    return -1;
  }

  private pageFault(acc: number, lo: number, hi: number): number {
    const cause =
      acc === ACC_FETCH
        ? Cause.FETCH_PAGE_FAULT
        : acc === ACC_LOAD
          ? Cause.LOAD_PAGE_FAULT
          : Cause.STORE_PAGE_FAULT;
    this.pend(cause, lo, hi);
    this.excGva = this.guestAccess(acc);
    return -1;
  }

  private accessFault(acc: number, lo: number, hi: number): number {
    const cause =
      acc === ACC_FETCH ? Cause.FETCH_ACCESS : acc === ACC_LOAD ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS;
    this.pend(cause, lo, hi);
    this.excGva = this.guestAccess(acc);
    return -1;
  }

  /** 1 when an access of kind `acc` now is a guest access (its faults report a guest virtual address: GVA). */
  private guestAccess(acc: number): number {
    return (acc === ACC_FETCH ? this.virt !== 0 : this.dMode >= MODE_VU) ? 1 : 0;
  }

  private pend(cause: number, lo: number, hi: number): number {
    this.exc = cause + 1;
    this.excTvalLo = lo;
    this.excTvalHi = hi;
    this.excGva = 0;
    this.excGpaLo = 0;
    this.excGpaHi = 0;
    this.excTinst = 0;
    this.excMmio = 0;
    return -1;
  }

  /**
   * Physical memory protection (privileged spec 3.7): whether an access of
   * `size` bytes at `pa` is allowed at privilege `prv`.
   */
  pmpAllows(pa: number, size: number, acc: number, prv: number): boolean {
    const n = this.pmpEntries;
    if (n === 0) return true;
    if (!this.pmpValid) this.computePmp();
    const bit = acc === ACC_FETCH ? 4 : acc === ACC_LOAD ? 1 : 2;
    if (prv !== PRV_M) {
      // RAM pages have a precomputed answer unless a region boundary cuts them.
      const off = pa - this.ramBase;
      if (off >= 0 && off + size <= this.ramSize && (off & 0xfff) + size <= 4096) {
        const p = this.pmpPagePerm[off >>> 12]!;
        if ((p & PMP_PAGE_SPLIT) === 0) return (p & bit) !== 0;
      }
    }
    const lo = this.pmpLo;
    const hi = this.pmpHi;
    const cfgs = this.csr;
    const end = pa + size;
    for (let i = 0; i < n; i++) {
      const l = lo[i]!;
      const h = hi[i]!;
      // Entries that are off, and TOR entries whose bottom is not below their top, match nothing.
      if (end <= l || pa >= h || l >= h) continue;
      if (pa < l || end > h) return false; // partial match fails (priv spec 3.7.1.3)
      const cfg = cfgs[S.PMPCFG + i]!;
      if (prv === PRV_M && (cfg & 0x80) === 0) return true;
      return (cfg & bit) !== 0;
    }
    return prv === PRV_M;
  }

  /** Recompute PMP entry ranges and the per-page table after a PMP CSR write (privileged spec 3.7.1). */
  private computePmp(): void {
    const c = this.csr;
    const n = this.pmpEntries;
    let prevTop = 0;
    for (let i = 0; i < n; i++) {
      const cfg = c[S.PMPCFG + i]!;
      const aLo = c[S.PMPADDR + 2 * i]! >>> 0;
      const aHi = c[S.PMPADDR + 2 * i + 1]! & 0x3fffff;
      // pmpaddr holds address bits 55:2; this hart's physical addresses are below 2^32,
      // so inexact doubles above 2^53 still compare correctly against them.
      const addr = aHi * 4294967296 + aLo;
      const a = (cfg >>> 3) & 3;
      let lo = 0;
      let hi = 0;
      if (a === 1) {
        lo = prevTop;
        hi = addr * 4;
      } else if (a === 2) {
        lo = addr * 4;
        hi = lo + 4;
      } else if (a === 3) {
        // NAPOT: the trailing ones of pmpaddr encode the size, 2^(ones+3) bytes. Counted on
        // the integer halves: pmpaddr can be 54 bits of ones, beyond a double's exact range.
        const ones = aLo === 0xffffffff ? 32 + trailingOnes(aHi) : trailingOnes(aLo);
        if (ones >= 32) {
          const baseHi = ones - 32 >= 22 ? 0 : aHi & ~((1 << (ones - 32)) - 1);
          lo = baseHi * 17179869184; // (baseHi << 32) << 2
        } else {
          lo = (aHi * 4294967296 + ((aLo & ~((2 ** ones - 1) | 0)) >>> 0)) * 4;
        }
        hi = lo + 2 ** (ones + 3);
      }
      prevTop = addr * 4;
      this.pmpLo[i] = lo;
      this.pmpHi[i] = a === 0 ? 0 : hi;
    }
    // Per RAM page, for S and U: the R/W/X bits of the first entry covering the whole page,
    // 0 when none matches, PMP_PAGE_SPLIT when an entry covers only part of it.
    const perm = this.pmpPagePerm;
    const base = this.ramBase;
    for (let page = 0; page < perm.length; page++) {
      const pa = base + page * 4096;
      const end = pa + 4096;
      let p = 0;
      for (let i = 0; i < n; i++) {
        const l = this.pmpLo[i]!;
        const h = this.pmpHi[i]!;
        if (end <= l || pa >= h || l >= h) continue;
        p = pa < l || end > h ? PMP_PAGE_SPLIT : c[S.PMPCFG + i]! & 7;
        break;
      }
      perm[page] = p;
    }
    this.pmpValid = true;
  }

  /** PMP registers changed: recompute the regions, drop cached translations. */
  pmpChanged(): void {
    this.pmpValid = false;
    this.flushTlb();
  }

  /**
   * Whether every access inside a 4 KiB page is allowed, so the page may be
   * cached in a TLB: one entry matches the whole page and permits `acc`
   * (a page that is only partly covered, or denied, stays on the slow path).
   */
  private pmpPageUniform(page: number, acc: number, prv: number): boolean {
    if (this.pmpEntries === 0) return true;
    if (prv === PRV_M && !this.anyPmpLocked()) return true;
    return this.pmpAllows(page, 4096, acc, prv);
  }

  private anyPmpLocked(): boolean {
    const c = this.csr;
    for (let i = 0; i < this.pmpEntries; i++) if ((c[S.PMPCFG + i]! & 0x80) !== 0) return true;
    return false;
  }

  /** The effective mode index of instruction fetch: 0 U, 1 S, 3 M, 4 VU, 5 VS. */
  private fetchMode(): number {
    return this.virt !== 0 ? MODE_VU + this.priv : this.priv;
  }

  // ---------------------------------------------------------------------------
  // Memory slow paths. Each returns the value (loads) and leaves a pending
  // exception in `exc` on failure.

  /** Translate and check one data access that stays inside a page; returns the physical address or -1. */
  private dataPa(lo: number, hi: number, size: number, acc: number): number {
    // The TLBs first: atomics, misaligned accesses and watched pages come here on
    // every access (measured on Linux's boot: 90% of the calls, mostly AMOs and LR/SC).
    const idx = this.dBase + ((lo >>> 12) & TLB_MASK);
    const page = lo & PAGE_MASK;
    if (acc === ACC_LOAD) {
      // hlvx needs execute permission, which the load TLB does not record.
      if (this.rtag[idx] === page && this.rtagHi[idx] === hi && !this.hlvx)
        return this.ramBase + this.roff[idx]! + (lo & 0xfff);
    } else if (this.wtag[idx] === page && this.wtagHi[idx] === hi) {
      return this.ramBase + this.woff[idx]! + (lo & 0xfff);
    }
    const mode = this.dMode;
    const prv = mode & 3; // nominal privilege (VS is S, VU is U) for PMP
    const pa = this.xlate(lo, hi, acc, mode);
    if (pa < 0) return -1;
    if (!this.pmpAllows(pa, size, acc, prv)) return this.accessFault(acc, lo, hi);
    // Cache the page in the load/store TLB when it is plain RAM.
    const off = pa - this.ramBase;
    if (
      off >= 0 &&
      off < this.ramSize &&
      !this.hlvx &&
      this.pmpPageUniform((pa & PAGE_MASK) >>> 0, acc, prv)
    ) {
      const pageOff = off & PAGE_MASK;
      if (acc === ACC_LOAD) {
        this.rtag[idx] = lo & PAGE_MASK;
        this.rtagHi[idx] = hi;
        this.roff[idx] = pageOff;
      } else if ((this.pageFlags[pageOff >>> 12]! & (PF_CODE | PF_WATCH)) === 0) {
        this.wtag[idx] = lo & PAGE_MASK;
        this.wtagHi[idx] = hi;
        this.woff[idx] = pageOff;
      }
    }
    return pa;
  }

  /** Load `size` (1, 2, 4, 8) bytes, zero-extended into (return, ldHi). */
  private loadSlow(lo: number, hi: number, size: number): number {
    const pageOffset = lo & 0xfff;
    if ((lo & (size - 1)) !== 0) {
      if (pageOffset + size <= 4096) {
        // Misaligned inside one page of plain RAM (its TLB entry says so once the first byte is
        // translated): the bytes at once, as the bytewise loop below would read them. (Linux's
        // boot makes ~320 K misaligned 8-byte loads, and as many stores; WebAssembly translated
        // code does those itself once the TLB maps the page, see the backend's misalignedLoads.)
        const pa = this.dataPa(lo, hi, 1, ACC_LOAD);
        if (pa < 0) return 0;
        const idx = this.dBase + ((lo >>> 12) & TLB_MASK);
        if (this.rtag[idx] === (lo & PAGE_MASK) && this.rtagHi[idx] === hi && !this.hlvx) {
          const ram = this.ram;
          const off = pa - this.ramBase;
          let vLo = 0;
          let vHi = 0;
          for (let i = 0; i < size; i++) {
            if (i < 4) vLo |= ram[off + i]! << (8 * i);
            else vHi |= ram[off + i]! << (8 * (i - 4));
          }
          this.ldHi = vHi;
          return vLo;
        }
      }
      // Misaligned: done bytewise, each byte translated (handles page crossing).
      if (pageOffset + size > 4096) {
        // Check both pages first so the fault reports the failing portion.
        if (this.dataPa(lo, hi, 1, ACC_LOAD) < 0) return 0;
        const lo2 = (lo + size - 1) | 0;
        const hi2 = (hi + (lo2 >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        if (this.dataPa(lo2 & PAGE_MASK, hi2, 1, ACC_LOAD) < 0) return 0;
      }
      let vLo = 0;
      let vHi = 0;
      for (let i = 0; i < size; i++) {
        const l = (lo + i) | 0;
        const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        const b = this.loadSlowAligned(l, h, 1);
        if (this.exc !== 0) return 0;
        if (i < 4) vLo |= b << (8 * i);
        else vHi |= b << (8 * (i - 4));
      }
      this.ldHi = vHi;
      return vLo;
    }
    return this.loadSlowAligned(lo, hi, size);
  }

  private loadSlowAligned(lo: number, hi: number, size: number): number {
    const pa = this.dataPa(lo, hi, size, ACC_LOAD);
    if (pa < 0) return 0;
    const off = pa - this.ramBase;
    if (off >= 0 && off < this.ramSize) {
      switch (size) {
        case 1:
          return this.ram[off]!;
        case 2:
          return this.ramU16[off >> 1]!;
        case 4:
          return this.ram32[off >> 2]!;
        default:
          this.ldHi = this.ram32[(off >> 2) + 1]!;
          return this.ram32[off >> 2]!;
      }
    }
    const bus = this.bus;
    if (!bus.load(pa, size as 1 | 2 | 4 | 8)) return this.accessFault(ACC_LOAD, lo, hi) & 0;
    this.ldHi = size === 8 ? bus.dataHi | 0 : 0;
    return bus.dataLo | 0;
  }

  /** Store `size` bytes of (vLo, vHi). */
  private storeSlow(lo: number, hi: number, size: number, vLo: number, vHi: number): void {
    if ((lo & (size - 1)) !== 0) {
      if ((lo & 0xfff) + size <= 4096) {
        // Misaligned inside one page of plain RAM that takes stores at full speed (its store TLB
        // entry says so once the first byte is translated: no code, no watch): the bytes at once.
        const pa = this.dataPa(lo, hi, 1, ACC_STORE);
        if (pa < 0) return;
        const idx = this.dBase + ((lo >>> 12) & TLB_MASK);
        if (this.wtag[idx] === (lo & PAGE_MASK) && this.wtagHi[idx] === hi) {
          const ram = this.ram;
          const off = pa - this.ramBase;
          for (let i = 0; i < size; i++) ram[off + i] = i < 4 ? vLo >>> (8 * i) : vHi >>> (8 * (i - 4));
          this.ramWritten(off, size);
          return;
        }
      }
      // Misaligned: check every byte first (a page or a PMP boundary may lie
      // inside), so a fault writes nothing and reports the first failing byte.
      for (let i = 0; i < size; i++) {
        const l = (lo + i) | 0;
        if (this.dataPa(l, (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0, 1, ACC_STORE) < 0) return;
      }
      for (let i = 0; i < size; i++) {
        const l = (lo + i) | 0;
        const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        const b = i < 4 ? (vLo >>> (8 * i)) & 0xff : (vHi >>> (8 * (i - 4))) & 0xff;
        this.storeSlowAligned(l, h, 1, b, 0);
        if (this.exc !== 0) return;
      }
      return;
    }
    this.storeSlowAligned(lo, hi, size, vLo, vHi);
  }

  private storeSlowAligned(lo: number, hi: number, size: number, vLo: number, vHi: number): void {
    const pa = this.dataPa(lo, hi, size, ACC_STORE);
    if (pa < 0) return;
    const off = pa - this.ramBase;
    if (off >= 0 && off < this.ramSize) {
      switch (size) {
        case 1:
          this.ram[off] = vLo;
          break;
        case 2:
          this.ramU16[off >> 1] = vLo;
          break;
        case 4:
          this.ram32[off >> 2] = vLo;
          break;
        default:
          this.ram32[off >> 2] = vLo;
          this.ram32[(off >> 2) + 1] = vHi;
      }
      this.ramWritten(off, size);
      return;
    }
    if (!this.bus.store(pa, size as 1 | 2 | 4 | 8, vLo, vHi)) this.accessFault(ACC_STORE, lo, hi);
  }

  /**
   * Bookkeeping after a slow-path write of `size` bytes inside one page at
   * RAM offset `off`: decode-cache invalidation, watch hooks, and the
   * reservation, dropped if either 8-byte granule the write touches holds it
   * (a misaligned store touches two).
   */
  private ramWritten(off: number, size: number): void {
    const page = off >>> 12;
    const flags = this.pageFlags[page]!;
    if (flags !== 0) {
      if (flags & PF_CODE) this.invalidateCodePage(page);
      if (flags & PF_WATCH && this.onWatchedStore) this.onWatchedStore(off + this.ramBase, size);
    }
    const r = this.jw[JW_RESV]!;
    if (r >= 0 && ((off & ~7) === (r & ~7) || ((off + size - 1) & ~7) === (r & ~7))) this.jw[JW_RESV] = -1;
  }

  /** Drop the decode cache of RAM page `page` (its bytes changed). */
  invalidateCodePage(page: number): void {
    const cache = this.codeCache[page];
    if (cache) cache.fill(0);
    this.pageFlags[page]! &= ~PF_CODE;
    if (this.jit !== null) this.jit.invalidatePage(page);
    // The running loop must re-enter the page through fetchPage, which marks it
    // as code again (keeping its stores on the slow path) if it still executes there.
    this.fTag = TLB_INVALID;
    this.resync = true;
  }

  /**
   * Tell the hart that RAM bytes [pa, pa+length) were written behind its back
   * (DMA, a loader, a debugger, a VMM emulating a store): invalidates decoded
   * code there, tells `onRamChanged`, and drops an LR reservation on those
   * bytes (another agent's store to the reservation set makes the SC fail,
   * unprivileged spec 8.2).
   */
  ramChanged(pa: number, length: number): void {
    const start = Math.max(0, pa - this.ramBase);
    const end = Math.min(this.ramSize, pa - this.ramBase + length);
    const r = this.jw[JW_RESV]!;
    if (r >= 0 && (r & ~7) < end && (r | 7) >= start) this.jw[JW_RESV] = -1;
    for (let page = start >>> 12; page << 12 < end; page++) {
      if (this.pageFlags[page]! & PF_CODE) this.invalidateCodePage(page);
    }
    if (this.onRamChanged !== null && end > start) this.onRamChanged(this.ramBase + start, end - start);
  }

  /**
   * Route every store to RAM page containing `pa` through the slow path and
   * `onWatchedStore` (HTIF tohost, dirty-page logging).
   */
  watchPage(pa: number, on = true): void {
    const page = (pa - this.ramBase) >>> 12;
    if (page >= this.pageFlags.length) return;
    if (on) this.pageFlags[page]! |= PF_WATCH;
    else this.pageFlags[page]! &= ~PF_WATCH;
    this.evictStorePage(page << 12);
  }

  /**
   * {@link watchPage} for every RAM page at once (dirty-page logging starts a
   * round this way): one store-TLB flush instead of a scan per page.
   */
  watchRam(on = true): void {
    const f = this.pageFlags;
    if (on) for (let p = 0; p < f.length; p++) f[p] = f[p]! | PF_WATCH;
    else for (let p = 0; p < f.length; p++) f[p] = f[p]! & ~PF_WATCH;
    this.wtag.fill(TLB_INVALID);
  }

  private evictStorePage(pageOff: number): void {
    const woff = this.woff;
    const wtag = this.wtag;
    for (let i = 0; i < woff.length; i++) if (woff[i] === pageOff) wtag[i] = TLB_INVALID;
  }

  // ---------------------------------------------------------------------------
  // Instruction fetch and decode.

  /** Make the page holding pc the current fetch page. Returns false with a pending exception. */
  private fetchPage(): boolean {
    const lo = this.pcLo;
    const hi = this.pcHi;
    const mode = this.fetchMode();
    const idx = mode * TLB_SIZE + ((lo >>> 12) & TLB_MASK);
    let pageOff: number;
    let uniform = true;
    if (this.itag[idx] === (lo & PAGE_MASK) && this.itagHi[idx] === hi) {
      pageOff = this.ioff[idx]!;
    } else {
      const pa = this.xlate(lo, hi, ACC_FETCH, mode);
      if (pa < 0) return false;
      const off = pa - this.ramBase;
      if (off < 0 || off >= this.ramSize || !this.pmpAllows(pa, 2, ACC_FETCH, this.priv)) {
        this.accessFault(ACC_FETCH, lo, hi);
        return false;
      }
      pageOff = off & PAGE_MASK;
      if (this.pmpPageUniform((pa & PAGE_MASK) >>> 0, ACC_FETCH, this.priv)) {
        this.itag[idx] = lo & PAGE_MASK;
        this.itagHi[idx] = hi;
        this.ioff[idx] = pageOff;
      } else {
        // A PMP boundary lies inside this page: check the upper half of a
        // 32-bit instruction too, and do not keep the page as the current
        // fetch page, so every instruction here is checked (rare: PMP
        // regions are normally page-aligned).
        const half = this.ramU16[off >> 1]!;
        if ((half & 3) === 3 && (off & 0xfff) !== 0xffe && !this.pmpAllows(pa + 2, 2, ACC_FETCH, this.priv)) {
          const lo2 = (lo + 2) | 0;
          this.accessFault(ACC_FETCH, lo2, (hi + (lo2 >>> 0 < 2 ? 1 : 0)) | 0);
          return false;
        }
        uniform = false;
      }
    }
    const page = pageOff >>> 12;
    let cache = this.codeCache[page];
    if (!cache) {
      cache = new Int32Array(4096);
      this.codeCache[page] = cache;
    }
    if ((this.pageFlags[page]! & PF_CODE) === 0) {
      this.pageFlags[page]! |= PF_CODE;
      this.evictStorePage(pageOff);
    }
    this.fTag = uniform ? lo & PAGE_MASK : TLB_INVALID;
    this.fTagHi = hi;
    this.fOff = pageOff;
    this.fCache = cache;
    return true;
  }

  /**
   * Decode the instruction at pc (in the current fetch page) into its cache
   * slot. Returns word A (0 with a pending exception); word B is in decB. An
   * instruction that crosses into the next page is decoded but not cached.
   */
  private decodeAt(slot: number): number {
    const off = this.fOff + (slot << 1);
    const half = this.ramU16[off >> 1]!;
    let raw: number;
    let cacheable = true;
    if ((half & 3) !== 3) raw = half;
    else if (slot < 2047) raw = half | (this.ramU16[(off >> 1) + 1]! << 16);
    else {
      // A 32-bit instruction straddling a page boundary: its upper half is at the
      // start of the next page, translated through the fetch TLB like any fetch.
      // (Measured before the TLB was consulted here: a hot loop with one such
      // instruction walked the page tables on every iteration, 41 K walks per
      // round of the compute workload, 63% of its modeled cycles under nested paging.)
      const lo2 = (this.pcLo + 2) | 0;
      const hi2 = (this.pcHi + (lo2 >>> 0 < 2 ? 1 : 0)) | 0;
      const mode = this.fetchMode();
      const idx = mode * TLB_SIZE + ((lo2 >>> 12) & TLB_MASK);
      let off2: number;
      if (this.itag[idx] === (lo2 & PAGE_MASK) && this.itagHi[idx] === hi2) off2 = this.ioff[idx]!;
      else {
        const pa = this.xlate(lo2, hi2, ACC_FETCH, mode);
        if (pa < 0) return 0;
        off2 = pa - this.ramBase;
        if (off2 < 0 || off2 >= this.ramSize || !this.pmpAllows(pa, 2, ACC_FETCH, this.priv)) {
          this.accessFault(ACC_FETCH, lo2, hi2);
          return 0;
        }
        if (this.pmpPageUniform((pa & PAGE_MASK) >>> 0, ACC_FETCH, this.priv)) {
          this.itag[idx] = lo2 & PAGE_MASK;
          this.itagHi[idx] = hi2;
          this.ioff[idx] = off2 & PAGE_MASK;
        }
      }
      raw = half | (this.ramU16[off2 >> 1]! << 16);
      cacheable = false;
    }
    const a = this.predecode(raw);
    if (cacheable) {
      // On a page being profiled, code run for the first time is counted too (the profile marked
      // only the code decoded when it began, and must see the page's hot code whatever it is now).
      this.fCache[slot << 1] = this.jit?.profiling(this.fOff >>> 12) ? a | JIT_MARK | JIT_COUNT : a;
      this.fCache[(slot << 1) | 1] = this.decB;
      this.decodedInstructions++;
    }
    return a;
  }

  /**
   * For the translator: decode-cache word A of the instruction at halfword
   * `slot` of RAM page `page` (decoding it into the cache if needed; word B in
   * decB), or 0 when it is a 32-bit instruction straddling the page end.
   */
  private decodeForTranslation(page: number, slot: number): number {
    let cache = this.codeCache[page];
    if (!cache) {
      cache = new Int32Array(4096);
      this.codeCache[page] = cache;
    }
    const a = cache[slot << 1]!;
    if (a !== 0) {
      this.decB = cache[(slot << 1) | 1]!;
      return a & JIT_UNMARK;
    }
    const i = (page << 11) + slot;
    const half = this.ramU16[i]!;
    if ((half & 3) === 3 && slot === 2047) return 0;
    const w = this.predecode((half & 3) === 3 ? half | (this.ramU16[i + 1]! << 16) : half);
    cache[slot << 1] = w;
    cache[(slot << 1) | 1] = this.decB;
    this.decodedInstructions++;
    return w;
  }

  /**
   * For the translator: decode-cache word A (word B in decB) of the 32-bit
   * instruction straddling the end of RAM page `page`, its upper half read
   * where the fetch TLB of mode `mode` maps the next virtual page now (the
   * half itself in `straddleUpper`: translated code checks it is still
   * there). 0 unless `page` is the fetch page and the TLB maps the next one
   * (no walk: the translator must not touch the guest's page tables).
   */
  private decodeStraddler(page: number, mode: number): number {
    if (this.fTag === TLB_INVALID || this.fOff >>> 12 !== page) return 0;
    const lower = this.ramU16[(page << 11) + 2047]!;
    if ((lower & 3) !== 3) return 0;
    const lo2 = (this.fTag + 4096) | 0;
    const hi2 = lo2 === 0 ? (this.fTagHi + 1) | 0 : this.fTagHi;
    const idx = mode * TLB_SIZE + ((lo2 >>> 12) & TLB_MASK);
    if (this.itag[idx] !== lo2 || this.itagHi[idx] !== hi2) return 0;
    this.straddleUpper = this.ramU16[this.ioff[idx]! >> 1]!;
    return this.predecode(lower | (this.straddleUpper << 16));
  }

  /** The upper half of the instruction the last decodeStraddler decoded. */
  private straddleUpper = 0;

  /** Decode raw instruction bits into decode-cache words A (returned) and B (decB). */
  private predecode(raw: number): number {
    let w = raw;
    let compressed = 0;
    if ((raw & 3) !== 3) {
      w = this.expand[raw & 0xffff]!;
      compressed = A_COMPRESSED;
      if (w === 0) {
        this.decB = raw & 0xffff;
        return O.ILLEGAL | compressed;
      }
    }
    const id = decode32(w);
    if (id === ISA_ILLEGAL) {
      this.decB = raw;
      return O.ILLEGAL | compressed;
    }
    const op = OP_OF_ISA[id]!;
    let rd = (w >>> 7) & 31;
    if (rd === 0 && RD_IS_FLOAT[op] === 0) rd = 32;
    const rs1 = (w >>> 15) & 31;
    const rs2 = (w >>> 20) & 31;
    const rs3 = w >>> 27;
    let b: number;
    switch (op) {
      case O.LUI:
      case O.AUIPC:
        b = w & ~0xfff;
        break;
      case O.JAL:
        b = ((w >> 11) & ~0xfffff) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe);
        break;
      case O.BEQ:
      case O.BNE:
      case O.BLT:
      case O.BGE:
      case O.BLTU:
      case O.BGEU:
        b = ((w >> 19) & ~0xfff) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e);
        break;
      case O.SB:
      case O.SH:
      case O.SW:
      case O.SD:
      case O.FSW:
      case O.FSD:
        b = ((w >> 20) & ~31) | ((w >>> 7) & 31);
        break;
      case O.SLLI:
      case O.SRLI:
      case O.SRAI:
        b = (w >>> 20) & 63;
        break;
      case O.SLLIW:
      case O.SRLIW:
      case O.SRAIW:
        b = (w >>> 20) & 31;
        break;
      case O.CSRRW:
      case O.CSRRS:
      case O.CSRRC:
      case O.CSRRWI:
      case O.CSRRSI:
      case O.CSRRCI:
        b = w >>> 20;
        break;
      case O.AMO_W:
      case O.AMO_D:
        b = w >>> 27;
        break;
      case O.FP:
        b = id | (((w >>> 12) & 7) << 16);
        break;
      case O.ECALL:
      case O.EBREAK:
      case O.SRET:
      case O.MRET:
      case O.WFI:
      case O.SFENCE_VMA:
      case O.HYPERVISOR:
      case O.FENCE_I:
        b = raw;
        break;
      default:
        b = w >> 20; // I-type immediate
    }
    this.decB = b;
    return op | (rd << 8) | (rs1 << 14) | (rs2 << 19) | compressed | (rs3 << 25);
  }

  /** The raw bits of the instruction at pc (for traces and exits), or 0 if it cannot be fetched. */
  peekInstruction(): number {
    const savedExc = this.exc;
    const savedLo = this.excTvalLo;
    const savedHi = this.excTvalHi;
    const savedGva = this.excGva;
    const savedGpaLo = this.excGpaLo;
    const savedGpaHi = this.excGpaHi;
    const savedTinst = this.excTinst;
    const savedMmio = this.excMmio;
    // A peek is no walk of the guest's: keep the counters as they were.
    const stats = this.guestStats;
    const savedWalks = stats[GuestStat.WALKS]!;
    const savedSteps = stats[GuestStat.WALK_STEPS]!;
    const savedGSteps = stats[GuestStat.GSTAGE_STEPS]!;
    const lo = this.pcLo;
    const hi = this.pcHi;
    const pa = this.xlate(lo, hi, ACC_FETCH, this.fetchMode());
    let result = 0;
    if (pa >= 0) {
      const off = pa - this.ramBase;
      if (off >= 0 && off + 2 <= this.ramSize) {
        const half = this.ramU16[off >> 1]!;
        result = half;
        if ((half & 3) === 3 && (off & 0xfff) !== 0xffe && off + 4 <= this.ramSize) {
          result = half | (this.ramU16[(off >> 1) + 1]! << 16);
        } else if ((half & 3) === 3 && (lo & 0xfff) === 0xffe) {
          // A 32-bit instruction straddling a page boundary: its upper half through translation, as decodeAt fetches it.
          const lo2 = (lo + 2) | 0;
          const pa2 = this.xlate(lo2, (hi + (lo2 >>> 0 < 2 ? 1 : 0)) | 0, ACC_FETCH, this.fetchMode());
          const off2 = pa2 - this.ramBase;
          if (pa2 >= 0 && off2 >= 0 && off2 + 2 <= this.ramSize)
            result = half | (this.ramU16[off2 >> 1]! << 16);
        }
      }
    }
    this.exc = savedExc;
    this.excTvalLo = savedLo;
    this.excTvalHi = savedHi;
    this.excGva = savedGva;
    this.excGpaLo = savedGpaLo;
    this.excGpaHi = savedGpaHi;
    this.excTinst = savedTinst;
    this.excMmio = savedMmio;
    stats[GuestStat.WALKS] = savedWalks;
    stats[GuestStat.WALK_STEPS] = savedSteps;
    stats[GuestStat.GSTAGE_STEPS] = savedGSteps;
    return result;
  }

  // ---------------------------------------------------------------------------
  // The interpreter.

  /**
   * Interpret up to `limit` steps. Returns the steps executed. Leaves
   * `exit.reason` as BUDGET unless it stopped for an exit.
   */
  private interpret(limit: number): number {
    const x = this.x;
    const ram8 = this.ram8;
    const ram = this.ram;
    const ram16 = this.ram16;
    const ramU16 = this.ramU16;
    const ram32 = this.ram32;
    const rtag = this.rtag;
    const rtagHi = this.rtagHi;
    const roff = this.roff;
    const wtag = this.wtag;
    const wtagHi = this.wtagHi;
    const woff = this.woff;
    const exit = this.exit;
    exit.reason = ExitReason.BUDGET;
    let dBase = this.dBase;
    let pcLo = this.pcLo;
    let pcHi = this.pcHi;
    let fTag = this.fTag;
    let fTagHi = this.fTagHi;
    let cache = this.fCache;
    let n = 0;
    let retired = 0;
    // Every change of privilege ends this run, so all of it retires in one mode.
    const entryPriv = this.fetchMode();
    /**
     * Set by the slow paths, the only ones that can fault or ask for a resync
     * (a store to code or to a watched page, a device callback, a CSR side
     * effect): checked after the instruction instead of two field loads per
     * instruction (measured: 1-3% on the mmuLoop benchmark, see the commit).
     */
    let slow = false;
    this.stepsInRun = 0;
    this.retiredInRun = 0;

    while (n < limit) {
      // Fetch.
      if ((pcLo & PAGE_MASK) !== fTag || pcHi !== fTagHi) {
        this.pcLo = pcLo;
        this.pcHi = pcHi;
        if (this.jitActive) this.creditPage(n);
        if (!this.fetchPage()) {
          // A trap changes the privilege level: end this run so instructions are counted per mode.
          this.takePending(0);
          this.finishRun(n + 1, retired, entryPriv);
          return n + 1;
        }
        fTag = this.fTag;
        fTagHi = this.fTagHi;
        cache = this.fCache;
        slow = this.resync; // the walk's A/D update may have hit code
      }
      const slot = (pcLo & 0xfff) >>> 1;
      let a = cache[slot << 1]!;
      let b: number;
      if (a <= 0) {
        if (a !== 0) {
          // Marked (bit 31) by the translator: translated code starts here, or (JIT_COUNT) the
          // page is being profiled. Under the translated engine, hand over to the dispatcher
          // (unless it asked for this very instruction), or count; then run it.
          const stop = (a & JIT_COUNT) === 0 || this.jit!.count(this.fOff >>> 12, slot);
          if (stop && this.jitActive && n !== 0) {
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            this.jitPageStop = true;
            this.finishRun(n, retired, entryPriv);
            return n;
          }
          a &= JIT_UNMARK;
          b = cache[(slot << 1) | 1]!;
        } else {
          this.pcLo = pcLo;
          this.pcHi = pcHi;
          a = this.decodeAt(slot);
          if (a === 0) {
            this.takePending(0);
            this.finishRun(n + 1, retired, entryPriv);
            return n + 1;
          }
          b = this.decB;
        }
      } else {
        b = cache[(slot << 1) | 1]!;
      }
      n++;
      const rd = (a >>> 7) & 0x7e; // rd * 2
      const r1 = (a >>> 13) & 0x3e; // rs1 * 2
      const r2 = (a >>> 18) & 0x3e; // rs2 * 2
      const len = a & A_COMPRESSED ? 2 : 4;
      let npcLo = (pcLo + len) | 0;
      let npcHi = npcLo >>> 0 < len ? (pcHi + 1) | 0 : pcHi;
      // Effective address for loads/stores and jalr: x[rs1] + imm (64-bit).
      let aLo = 0;
      let aHi = 0;

      switch (a & 0xff) {
        case O.ADDI: {
          const s = x[r1]!;
          const lo = (s + b) | 0;
          x[rd] = lo;
          x[rd | 1] = (x[r1 | 1]! + (b >> 31) + (lo >>> 0 < s >>> 0 ? 1 : 0)) | 0;
          break;
        }
        case O.LUI:
          x[rd] = b;
          x[rd | 1] = b >> 31;
          break;
        case O.AUIPC: {
          const lo = (pcLo + b) | 0;
          x[rd] = lo;
          x[rd | 1] = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
          break;
        }
        case O.JAL: {
          x[rd] = npcLo;
          x[rd | 1] = npcHi;
          const lo = (pcLo + b) | 0;
          npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
          npcLo = lo;
          break;
        }
        case O.JALR: {
          const s = x[r1]!;
          const lo = ((s + b) | 0) & ~1;
          const hi = (x[r1 | 1]! + (b >> 31) + ((s + b) >>> 0 < s >>> 0 ? 1 : 0)) | 0;
          x[rd] = npcLo;
          x[rd | 1] = npcHi;
          npcLo = lo;
          npcHi = hi;
          break;
        }
        case O.BEQ:
          if (x[r1] === x[r2] && x[r1 | 1] === x[r2 | 1]) {
            const lo = (pcLo + b) | 0;
            npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            npcLo = lo;
          }
          break;
        case O.BNE:
          if (x[r1] !== x[r2] || x[r1 | 1] !== x[r2 | 1]) {
            const lo = (pcLo + b) | 0;
            npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            npcLo = lo;
          }
          break;
        case O.BLT: {
          const h1 = x[r1 | 1]!;
          const h2 = x[r2 | 1]!;
          if (h1 < h2 || (h1 === h2 && x[r1]! >>> 0 < x[r2]! >>> 0)) {
            const lo = (pcLo + b) | 0;
            npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            npcLo = lo;
          }
          break;
        }
        case O.BGE: {
          const h1 = x[r1 | 1]!;
          const h2 = x[r2 | 1]!;
          if (h1 > h2 || (h1 === h2 && x[r1]! >>> 0 >= x[r2]! >>> 0)) {
            const lo = (pcLo + b) | 0;
            npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            npcLo = lo;
          }
          break;
        }
        case O.BLTU: {
          const h1 = x[r1 | 1]! >>> 0;
          const h2 = x[r2 | 1]! >>> 0;
          if (h1 < h2 || (h1 === h2 && x[r1]! >>> 0 < x[r2]! >>> 0)) {
            const lo = (pcLo + b) | 0;
            npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            npcLo = lo;
          }
          break;
        }
        case O.BGEU: {
          const h1 = x[r1 | 1]! >>> 0;
          const h2 = x[r2 | 1]! >>> 0;
          if (h1 > h2 || (h1 === h2 && x[r1]! >>> 0 >= x[r2]! >>> 0)) {
            const lo = (pcLo + b) | 0;
            npcHi = (pcHi + (b >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            npcLo = lo;
          }
          break;
        }

        // Loads: fast path through the load TLB, else the slow path.
        case O.LB:
        case O.LBU:
        case O.LH:
        case O.LHU:
        case O.LW:
        case O.LWU:
        case O.LD: {
          const s = x[r1]!;
          aLo = (s + b) | 0;
          aHi = (x[r1 | 1]! + (b >> 31) + (aLo >>> 0 < s >>> 0 ? 1 : 0)) | 0;
          const idx = dBase + ((aLo >>> 12) & TLB_MASK);
          const op = a & 0xff;
          const tagMask =
            op === O.LD
              ? TAG_MASK_8
              : op === O.LW || op === O.LWU
                ? TAG_MASK_4
                : op === O.LB || op === O.LBU
                  ? PAGE_MASK
                  : TAG_MASK_2;
          let vLo: number;
          let vHi = 0;
          if (rtag[idx] === (aLo & tagMask) && rtagHi[idx] === aHi) {
            const off = roff[idx]! + (aLo & 0xfff);
            switch (op) {
              case O.LB:
                vLo = ram8[off]!;
                vHi = vLo >> 31;
                break;
              case O.LBU:
                vLo = ram[off]!;
                break;
              case O.LH:
                vLo = ram16[off >> 1]!;
                vHi = vLo >> 31;
                break;
              case O.LHU:
                vLo = ramU16[off >> 1]!;
                break;
              case O.LW:
                vLo = ram32[off >> 2]!;
                vHi = vLo >> 31;
                break;
              case O.LWU:
                vLo = ram32[off >> 2]!;
                break;
              default:
                vLo = ram32[off >> 2]!;
                vHi = ram32[(off >> 2) + 1]!;
            }
          } else {
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            const size =
              op === O.LD ? 8 : op === O.LW || op === O.LWU ? 4 : op === O.LB || op === O.LBU ? 1 : 2;
            this.stepsInRun = n; // a device may read the time (CLINT mtime)
            vLo = this.loadSlow(aLo, aHi, size);
            slow = true;
            if (this.exc !== 0) break;
            switch (op) {
              case O.LB:
                vLo = (vLo << 24) >> 24;
                vHi = vLo >> 31;
                break;
              case O.LH:
                vLo = (vLo << 16) >> 16;
                vHi = vLo >> 31;
                break;
              case O.LW:
                vHi = vLo >> 31;
                break;
              case O.LD:
                vHi = this.ldHi;
                break;
              default:
                vLo &= size === 1 ? 0xff : size === 2 ? 0xffff : -1;
            }
          }
          x[rd] = vLo;
          x[rd | 1] = vHi;
          break;
        }

        case O.SB:
        case O.SH:
        case O.SW:
        case O.SD: {
          const s = x[r1]!;
          aLo = (s + b) | 0;
          aHi = (x[r1 | 1]! + (b >> 31) + (aLo >>> 0 < s >>> 0 ? 1 : 0)) | 0;
          const idx = dBase + ((aLo >>> 12) & TLB_MASK);
          const op = a & 0xff;
          const tagMask =
            op === O.SD ? TAG_MASK_8 : op === O.SW ? TAG_MASK_4 : op === O.SB ? PAGE_MASK : TAG_MASK_2;
          if (wtag[idx] === (aLo & tagMask) && wtagHi[idx] === aHi) {
            const off = woff[idx]! + (aLo & 0xfff);
            switch (op) {
              case O.SB:
                ram[off] = x[r2]!;
                break;
              case O.SH:
                ramU16[off >> 1] = x[r2]!;
                break;
              case O.SW:
                ram32[off >> 2] = x[r2]!;
                break;
              default:
                ram32[off >> 2] = x[r2]!;
                ram32[(off >> 2) + 1] = x[r2 | 1]!;
            }
            if (this.jw[JW_RESV]! >= 0 && ((off ^ this.jw[JW_RESV]!) & ~7) === 0) this.jw[JW_RESV] = -1;
          } else {
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            const size = op === O.SD ? 8 : op === O.SW ? 4 : op === O.SB ? 1 : 2;
            this.stepsInRun = n;
            this.storeSlow(aLo, aHi, size, x[r2]!, x[r2 | 1]!);
            slow = true; // a store to code or to a watched page asks for a resync
          }
          break;
        }

        case O.SLTI: {
          const h = x[r1 | 1]!;
          const bh = b >> 31;
          x[rd] = h < bh || (h === bh && x[r1]! >>> 0 < b >>> 0) ? 1 : 0;
          x[rd | 1] = 0;
          break;
        }
        case O.SLTIU: {
          const h = x[r1 | 1]! >>> 0;
          const bh = (b >> 31) >>> 0;
          x[rd] = h < bh || (h === bh && x[r1]! >>> 0 < b >>> 0) ? 1 : 0;
          x[rd | 1] = 0;
          break;
        }
        case O.XORI:
          x[rd] = x[r1]! ^ b;
          x[rd | 1] = x[r1 | 1]! ^ (b >> 31);
          break;
        case O.ORI:
          x[rd] = x[r1]! | b;
          x[rd | 1] = x[r1 | 1]! | (b >> 31);
          break;
        case O.ANDI:
          x[rd] = x[r1]! & b;
          x[rd | 1] = x[r1 | 1]! & (b >> 31);
          break;
        case O.SLLI:
          shl(x, rd, x[r1]!, x[r1 | 1]!, b);
          break;
        case O.SRLI:
          shr(x, rd, x[r1]!, x[r1 | 1]!, b);
          break;
        case O.SRAI:
          sar(x, rd, x[r1]!, x[r1 | 1]!, b);
          break;
        case O.ADD: {
          const s = x[r1]!;
          const lo = (s + x[r2]!) | 0;
          x[rd | 1] = (x[r1 | 1]! + x[r2 | 1]! + (lo >>> 0 < s >>> 0 ? 1 : 0)) | 0;
          x[rd] = lo;
          break;
        }
        case O.SUB: {
          const s = x[r1]!;
          const t = x[r2]!;
          x[rd | 1] = (x[r1 | 1]! - x[r2 | 1]! - (s >>> 0 < t >>> 0 ? 1 : 0)) | 0;
          x[rd] = (s - t) | 0;
          break;
        }
        case O.SLL:
          shl(x, rd, x[r1]!, x[r1 | 1]!, x[r2]! & 63);
          break;
        case O.SRL:
          shr(x, rd, x[r1]!, x[r1 | 1]!, x[r2]! & 63);
          break;
        case O.SRA:
          sar(x, rd, x[r1]!, x[r1 | 1]!, x[r2]! & 63);
          break;
        case O.SLT: {
          const h1 = x[r1 | 1]!;
          const h2 = x[r2 | 1]!;
          x[rd] = h1 < h2 || (h1 === h2 && x[r1]! >>> 0 < x[r2]! >>> 0) ? 1 : 0;
          x[rd | 1] = 0;
          break;
        }
        case O.SLTU: {
          const h1 = x[r1 | 1]! >>> 0;
          const h2 = x[r2 | 1]! >>> 0;
          x[rd] = h1 < h2 || (h1 === h2 && x[r1]! >>> 0 < x[r2]! >>> 0) ? 1 : 0;
          x[rd | 1] = 0;
          break;
        }
        case O.XOR:
          x[rd] = x[r1]! ^ x[r2]!;
          x[rd | 1] = x[r1 | 1]! ^ x[r2 | 1]!;
          break;
        case O.OR:
          x[rd] = x[r1]! | x[r2]!;
          x[rd | 1] = x[r1 | 1]! | x[r2 | 1]!;
          break;
        case O.AND:
          x[rd] = x[r1]! & x[r2]!;
          x[rd | 1] = x[r1 | 1]! & x[r2 | 1]!;
          break;
        case O.ADDIW: {
          const v = (x[r1]! + b) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SLLIW: {
          const v = x[r1]! << b;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SRLIW: {
          const v = (x[r1]! >>> b) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SRAIW: {
          const v = x[r1]! >> b;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.ADDW: {
          const v = (x[r1]! + x[r2]!) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SUBW: {
          const v = (x[r1]! - x[r2]!) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SLLW: {
          const v = x[r1]! << (x[r2]! & 31);
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SRLW: {
          const v = (x[r1]! >>> (x[r2]! & 31)) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.SRAW: {
          const v = x[r1]! >> (x[r2]! & 31);
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }

        // M extension.
        case O.MUL:
          x[rd] = mul64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd | 1] = hi64;
          break;
        case O.MULH:
          x[rd] = mulh64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd | 1] = hi64;
          break;
        case O.MULHSU:
          x[rd] = mulhsu64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd | 1] = hi64;
          break;
        case O.MULHU:
          x[rd] = mulhu64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd | 1] = hi64;
          break;
        case O.DIV:
          x[rd] = divs64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd | 1] = hi64;
          break;
        case O.DIVU:
          x[rd] = divu64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd | 1] = hi64;
          break;
        case O.REM:
          divs64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd] = remLo;
          x[rd | 1] = remHi;
          break;
        case O.REMU:
          divu64(x[r1 | 1]!, x[r1]!, x[r2 | 1]!, x[r2]!);
          x[rd] = remLo;
          x[rd | 1] = remHi;
          break;
        case O.MULW: {
          const v = Math.imul(x[r1]!, x[r2]!);
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.DIVW: {
          const p = x[r1]!;
          const q = x[r2]!;
          const v = q === 0 ? -1 : p === -0x80000000 && q === -1 ? p : (p / q) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.DIVUW: {
          const p = x[r1]! >>> 0;
          const q = x[r2]! >>> 0;
          const v = q === 0 ? -1 : (p / q) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.REMW: {
          const p = x[r1]!;
          const q = x[r2]!;
          const v = q === 0 ? p : p === -0x80000000 && q === -1 ? 0 : (p % q) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }
        case O.REMUW: {
          const p = x[r1]! >>> 0;
          const q = x[r2]! >>> 0;
          const v = q === 0 ? p | 0 : (p % q) | 0;
          x[rd] = v;
          x[rd | 1] = v >> 31;
          break;
        }

        case O.FENCE:
          break;
        case O.FENCE_I:
          // Decode caches are kept coherent with every store (see ramWritten), so
          // there is nothing stale to drop; instruction fetch already sees new bytes.
          break;

        default: {
          // Everything else (system, CSR, atomics, floating point): out of line.
          this.pcLo = pcLo;
          this.pcHi = pcHi;
          this.stepsInRun = n;
          this.retiredInRun = retired;
          const r = this.executeSystem(a, b, npcLo, npcHi);
          slow = true;
          if (r === SYS_EXCEPTION) break;
          if (r === SYS_EMULATED) {
            // A strategy emulates it (binary translation's callout): settle the counts of this
            // run first (the callout may change the mode), then the callout's own step.
            this.finishRun(n - 1, retired, entryPriv);
            this.jitCallout(a);
            this.finishRun(1, 0, entryPriv);
            return n;
          }
          if (r === SYS_EXIT) {
            retired++;
            this.pcLo = this.nextLo;
            this.pcHi = this.nextHi;
            this.finishRun(n, retired, entryPriv);
            return n;
          }
          npcLo = this.nextLo;
          npcHi = this.nextHi;
          if (r === SYS_RESYNC) {
            retired++;
            this.pcLo = npcLo;
            this.pcHi = npcHi;
            this.finishRun(n, retired, entryPriv);
            return n;
          }
          dBase = this.dBase;
        }
      }

      if (slow) {
        slow = false;
        if (this.exc !== 0) {
          // The instruction faulted: take the exception (or exit) at its pc.
          this.pcLo = pcLo;
          this.pcHi = pcHi;
          this.takePending(a);
          this.finishRun(n, retired, entryPriv);
          return n;
        }
        if (this.resync) {
          retired++;
          this.pcLo = npcLo;
          this.pcHi = npcHi;
          this.finishRun(n, retired, entryPriv);
          return n;
        }
      }
      retired++;
      pcLo = npcLo;
      pcHi = npcHi;
    }
    this.pcLo = pcLo;
    this.pcHi = pcHi;
    this.finishRun(n, retired, entryPriv);
    return n;
  }

  /**
   * The translated engine's dispatcher: run up to `limit` steps, entering
   * translated code (a region of the block cache) wherever the pc has a
   * block, and the interpreter elsewhere; the interpreter hands back on
   * entering a hot page, and misses on hot pages get translated. Returns the
   * steps executed; stops where the interpreter would (an exception, a
   * resync, an exit), so both engines give the same results step for step.
   */
  private execute(limit: number): number {
    const jit = this.jit!;
    const exit = this.exit;
    exit.reason = ExitReason.BUDGET;
    const mode = this.fetchMode();
    const ctx = mode | (jit.context << 3);
    this.stepsInRun = 0;
    this.retiredInRun = 0;
    let n = 0;
    /** The pc is where an interpreter stretch ran out (a sample), not an entry. */
    let sample = false;
    this.jitActive = true;
    while (n < limit) {
      if ((this.pcLo & PAGE_MASK) !== this.fTag || this.pcHi !== this.fTagHi) {
        if (!this.fetchPage()) {
          this.takePending(0);
          this.finishRun(1, 0, mode);
          n++;
          break;
        }
      }
      const page = this.fOff >>> 12;
      const off = this.pcLo & 0xfff;
      // A page that a PMP boundary cuts is never the fetch page: each fetch is checked, so it is interpreted.
      const uniform = this.fTag !== TLB_INVALID;
      let region = uniform ? jit.lookup(page, ctx, off) : null;
      if (region === null && uniform) region = jit.observe(page, ctx, off, sample);
      const entry = !sample;
      sample = false;
      if (region !== null) {
        let steps: number;
        if (region.wasm) {
          // WebAssembly: the dispatcher's loop chains from region to region (whatever the page, while
          // the fetch TLB maps it) and leaves the pc in the jit words, unless a slow path left it here.
          steps = jit.runWasm(region, off, limit - n, this.pcLo & PAGE_MASK, this.pcHi, this.dBase);
          const kind = this.jw[JW_PC_KIND]!;
          if (kind !== 1) {
            this.pcLo = this.jw[JW_PC_LO]!;
            this.pcHi = this.jw[JW_PC_HI]!;
            // An instruction straddling a page end found another upper half than it was translated
            // with (it stopped before that instruction): the page's code is decoded and translated
            // again, as after a store to it.
            if (kind === 3) this.invalidateCodePage(this.jw[JW_STALE_PAGE]!);
          }
        } else
          steps = region.fn(
            off,
            Math.min(limit - n, REGION_SLICE),
            this.pcLo & PAGE_MASK,
            this.pcHi,
            this.dBase,
          );
        if (steps !== 0) {
          jit.hits++;
          jit.steps += steps;
          const short = this.jitShort;
          const settled = this.jitSettled;
          this.jitShort = 0;
          this.jitSettled = 0;
          this.finishRun(steps - settled, steps - short - settled, mode);
          n += steps;
          if (this.exc !== 0) {
            this.takePending(this.jitA);
            break;
          }
          if (this.resync || exit.reason !== ExitReason.BUDGET) break;
          continue;
        }
        // The budget ends inside the block: the interpreter runs the rest.
      }
      // Untranslated code: a stretch of the interpreter, which hands back at translated code.
      const want = Math.min(limit - n, region === null ? SAMPLE_STEPS : MISS_CHUNK);
      // An entry (from translated code, a trap) costs a round trip: the page is credited it as steps.
      this.creditFrom = entry ? -ENTRY_STEPS : 0;
      const k = this.interpret(want);
      this.creditPage(k);
      n += k;
      if (this.jitPageStop) {
        this.jitPageStop = false;
        if (this.resync) break;
        continue;
      }
      if (k < want || this.resync || exit.reason !== ExitReason.BUDGET) break;
      sample = want === SAMPLE_STEPS;
    }
    this.jitActive = false;
    return n;
  }

  /**
   * Hotness (the translated engine): credit the fetch page with the steps the
   * interpreter ran there, from `creditFrom` to `n`. Called where the
   * interpreter leaves a page and where its stretch ends, so steps count on
   * the page that ran them: a stretch entering a loop on another page makes
   * that page hot, not the caller's. A page that a PMP boundary cuts (fetch
   * tag invalid) is never translated and gets nothing.
   */
  private creditPage(n: number): void {
    if (this.fTag !== TLB_INVALID && n > this.creditFrom)
      this.jit!.credit(this.fOff >>> 12, n - this.creditFrom);
    this.creditFrom = n;
  }

  /**
   * Internal (translated code): the slow path of the load `a` (a decode-cache
   * word) at pc (pcLo, pcHi), `steps` into the run: loads, extends and writes
   * rd. Returns 0 to go on, 1 to end the translated run (a pending exception
   * with pc on the load, or a resync with pc after it).
   */
  jitLoad(lo: number, hi: number, a: number, pcLo: number, pcHi: number, steps: number): number {
    this.pcLo = pcLo;
    this.pcHi = pcHi;
    this.stepsInRun = steps; // a device may read the time (CLINT mtime)
    const op = a & 0xff;
    const size = op === O.LD ? 8 : op === O.LW || op === O.LWU ? 4 : op === O.LB || op === O.LBU ? 1 : 2;
    let vLo = this.loadSlow(lo, hi, size);
    if (this.exc !== 0) {
      this.jitA = a;
      this.jitShort = 1;
      return 1;
    }
    let vHi = 0;
    switch (op) {
      case O.LB:
        vLo = (vLo << 24) >> 24;
        vHi = vLo >> 31;
        break;
      case O.LH:
        vLo = (vLo << 16) >> 16;
        vHi = vLo >> 31;
        break;
      case O.LW:
        vHi = vLo >> 31;
        break;
      case O.LD:
        vHi = this.ldHi;
        break;
      default:
        vLo &= size === 1 ? 0xff : size === 2 ? 0xffff : -1;
    }
    const rd = (a >>> 7) & 0x7e;
    this.x[rd] = vLo;
    this.x[rd | 1] = vHi;
    return this.resync ? this.jitStep(a) : 0;
  }

  /** Internal (translated code): the slow path of the store `a` (value from its rs2); returns as jitLoad. */
  jitStore(lo: number, hi: number, a: number, pcLo: number, pcHi: number, steps: number): number {
    this.pcLo = pcLo;
    this.pcHi = pcHi;
    this.stepsInRun = steps;
    const op = a & 0xff;
    const r2 = (a >>> 18) & 0x3e;
    this.storeSlow(
      lo,
      hi,
      op === O.SD ? 8 : op === O.SW ? 4 : op === O.SB ? 1 : 2,
      this.x[r2]!,
      this.x[r2 | 1]!,
    );
    if (this.exc !== 0) {
      this.jitA = a;
      this.jitShort = 1;
      return 1;
    }
    return this.resync ? this.jitStep(a) : 0;
  }

  /** Move pc past the instruction `a` at pc; returns 1. */
  private jitStep(a: number): number {
    const len = a & A_COMPRESSED ? 2 : 4;
    const lo = (this.pcLo + len) | 0;
    if (lo >>> 0 < len) this.pcHi = (this.pcHi + 1) | 0;
    this.pcLo = lo;
    return 1;
  }

  /**
   * Internal (translated code): an instruction executed out of line (system,
   * CSR, atomic, floating point). Returns 0 to go on, 1 to end the
   * translated run with pc (and the pending exception or exit) in the hart.
   */
  jitSystem(a: number, b: number, pcLo: number, pcHi: number, steps: number): number {
    this.pcLo = pcLo;
    this.pcHi = pcHi;
    this.stepsInRun = steps;
    this.retiredInRun = steps - 1;
    const len = a & A_COMPRESSED ? 2 : 4;
    const nLo = (pcLo + len) | 0;
    const nHi = nLo >>> 0 < len ? (pcHi + 1) | 0 : pcHi;
    const r = this.executeSystem(a, b, nLo, nHi);
    if (r === SYS_EXCEPTION) {
      this.jitA = a;
      this.jitShort = 1;
      return 1;
    }
    if (r === SYS_EMULATED) {
      // A callout (a block ends with it): as in the interpreter, the steps before it are counted
      // first (the callout may change the mode: the VMM splits the counts by mode there), then
      // the dispatcher counts its own step.
      this.finishRun(steps - 1, steps - 1, this.fetchMode());
      this.jitSettled = steps - 1;
      this.jitCallout(a);
      this.jitShort = 1;
      return 1;
    }
    if (r === SYS_NEXT && !this.resync) return 0;
    this.pcLo = this.nextLo;
    this.pcHi = this.nextHi;
    return 1;
  }

  /** The instruction (bits) a strategy's rewriter claimed in executeSystem. */
  private jitCalloutBits = 0;

  /** Run the claimed instruction `a` through the strategy's callout; the run must stop after it. */
  private jitCallout(a: number): void {
    const jit = this.jit!;
    jit.rewriter!.emulate(
      this.fetchMode() | (jit.context << 3),
      this.jitCalloutBits,
      a & A_COMPRESSED ? 2 : 4,
    );
    this.resync = true;
  }

  /** Count a finished run of the interpreter; `mode` is the mode index it ran in (0 U, 1 S, 3 M, 4 VU, 5 VS). */
  private finishRun(steps: number, retired: number, mode: number): void {
    const k = this.counters;
    k[K.CYCLES]! += steps;
    k[K.INSTRET]! += retired;
    k[
      mode === PRV_M
        ? K.INSTRET_M
        : mode === PRV_S
          ? K.INSTRET_S
          : mode === PRV_U
            ? K.INSTRET_U
            : mode === MODE_VU
              ? K.INSTRET_VU
              : K.INSTRET_VS
    ]! += retired;
    this.stepsInRun = 0;
    this.retiredInRun = 0;
  }

  /**
   * Take the pending exception at pc: exit (returns true) or deliver it.
   * `a` is the decode-cache word of the faulting instruction (0 when the
   * fault happened before decode).
   */
  private takePending(a: number): boolean {
    const cause = this.exc - 1;
    this.exc = 0;
    if (cause === EXC_EXIT) {
      // A slow path has written a guest exit (CSR, instruction) already.
      this.fTag = TLB_INVALID;
      return true;
    }
    const tvalLo = this.excTvalLo;
    const tvalHi = this.excTvalHi;
    let insn = 0;
    let insnLength = 0;
    if (a !== 0) {
      insnLength = a & A_COMPRESSED ? 2 : 4;
      insn = this.peekInstruction();
      if (insnLength === 2) insn = this.expand[insn & 0xffff]! || insn & 0xffff;
    }
    if (this.hypervisor) {
      if (this.excMmio !== 0 && this.virt !== 0 && a !== 0 && this.mmioExit(a, insn, insnLength)) {
        this.fTag = TLB_INVALID;
        return true;
      }
      this.trapGva = this.excGva;
      this.trapGpaLo = this.excGpaLo;
      this.trapGpaHi = this.excGpaHi;
      this.trapTinst =
        this.excTinst !== 0
          ? this.excTinst
          : a !== 0
            ? this.transformedInsn(cause, insn, insnLength, tvalLo)
            : 0;
    }
    const exits = this.raiseException(cause, tvalLo, tvalHi, insn, insnLength);
    if (exits) this.fTag = TLB_INVALID;
    return exits;
  }

  /**
   * The value htinst/mtinst gets for a trapping load, store, AMO, hlv or hsv
   * ("Transformed Instruction or Pseudoinstruction"): the instruction with
   * its immediate zeroed and rs1 replaced by the offset of the faulting
   * address (tval) from the original address, bit 1 cleared when it was
   * compressed. 0 for every other trap.
   */
  private transformedInsn(cause: number, insn: number, insnLength: number, tvalLo: number): number {
    if (
      cause < Cause.MISALIGNED_LOAD ||
      cause === Cause.FETCH_PAGE_FAULT ||
      cause === Cause.FETCH_GUEST_PAGE_FAULT
    ) {
      return 0;
    }
    if (cause > Cause.STORE_ACCESS && cause < Cause.LOAD_PAGE_FAULT) return 0; // ecalls
    if (cause === Cause.VIRTUAL_INSTRUCTION || cause > Cause.STORE_GUEST_PAGE_FAULT) return 0;
    const base = this.x[((insn >>> 15) & 31) * 2]!;
    let addr: number;
    let t: number;
    switch (insn & 0x7f) {
      case 0x03: // LOAD
      case 0x07: // LOAD-FP: keep rd, funct3, opcode
        addr = base + (insn >> 20);
        t = insn & 0x7fff;
        break;
      case 0x23: // STORE
      case 0x27: // STORE-FP: keep rs2, funct3, opcode
        addr = base + (((insn >> 25) << 5) | ((insn >>> 7) & 31));
        t = insn & 0x01f0707f;
        break;
      case 0x2f: // AMO, LR, SC: everything but rs1
        addr = base;
        t = insn & ~(31 << 15);
        break;
      case 0x73: // hlv, hlvx, hsv
        if (((insn >>> 12) & 7) !== 4) return 0;
        addr = base;
        t = insn & ~(31 << 15);
        break;
      default:
        return 0;
    }
    const offset = (tvalLo - addr) | 0;
    if (offset < 0 || offset > 31) return 0;
    t |= offset << 15;
    return insnLength === 2 ? t & ~2 : t;
  }

  /**
   * An aligned LB..LD or SB..SD whose G-stage translation faulted in a
   * guest-physical MMIO range: exit with ExitReason.MMIO. False for any
   * other instruction, which takes the guest-page fault.
   */
  private mmioExit(a: number, insn: number, insnLength: number): boolean {
    const op = a & 0xff;
    let size: number;
    switch (op) {
      case O.LB:
      case O.LBU:
      case O.SB:
        size = 1;
        break;
      case O.LH:
      case O.LHU:
      case O.SH:
        size = 2;
        break;
      case O.LW:
      case O.LWU:
      case O.SW:
        size = 4;
        break;
      case O.LD:
      case O.SD:
        size = 8;
        break;
      default:
        return false;
    }
    const store = op === O.SB || op === O.SH || op === O.SW || op === O.SD;
    const signed = op !== O.LBU && op !== O.LHU && op !== O.LWU;
    const x = this.x;
    const imm = store ? ((insn >> 25) << 5) | ((insn >>> 7) & 31) : insn >> 20;
    const eaLo = (x[(a >>> 13) & 0x3e]! + imm) | 0;
    // A misaligned access is done bytewise: its fault names one byte, not the access.
    if (eaLo !== this.excTvalLo || (eaLo & (size - 1)) !== 0) return false;
    const e = this.exit;
    this.exitWith(ExitReason.MMIO);
    e.cause = store ? Cause.STORE_GUEST_PAGE_FAULT : Cause.LOAD_GUEST_PAGE_FAULT;
    e.tvalLo = this.excTvalLo;
    e.tvalHi = this.excTvalHi;
    e.gpaLo = this.excGpaLo;
    e.gpaHi = this.excGpaHi;
    e.insn = insn;
    e.insnLength = insnLength;
    e.size = size;
    if (store) {
      const r2 = (a >>> 18) & 0x3e;
      e.write = 1;
      e.dataLo = size === 1 ? x[r2]! & 0xff : size === 2 ? x[r2]! & 0xffff : x[r2]!;
      e.dataHi = size === 8 ? x[r2 | 1]! : 0;
      this.completeKind = 3;
    } else {
      const rd = (a >>> 8) & 0x3f;
      e.rd = rd === 32 ? 0 : rd;
      this.completeKind = 2;
      this.completeSize = size;
      this.completeSigned = signed;
    }
    return true;
  }

  /**
   * Leave `run()` with a guest exit prepared by a slow path (a CSR or
   * instruction exit): the instruction does not execute and pc stays on it.
   * `kind` says what {@link completeExit} does (see completeKind).
   */
  private guestExit(reason: number, cause: number, a: number, kind: number): number {
    const e = this.exit;
    this.exitWith(reason);
    e.cause = cause;
    e.tvalLo = 0;
    e.tvalHi = 0;
    const len = a & A_COMPRESSED ? 2 : 4;
    const raw = this.peekInstruction();
    e.insn = len === 2 ? this.expand[raw & 0xffff]! || raw & 0xffff : raw;
    e.insnLength = len;
    this.completeKind = kind;
    this.exc = EXC_EXIT + 1;
    return SYS_EXCEPTION;
  }

  /**
   * Complete the instruction behind the last CSR, MMIO or INSTRUCTION exit
   * as the VMM emulated it: write `value` to its destination register (an
   * MMIO load's value is sign- or zero-extended from its size; a reading CSR
   * instruction gets all 64 bits; other exits write nothing) and step pc
   * past it. Like an emulated instruction under trap-and-emulate, it does
   * not count as retired. Throws when the last exit was of another kind, or
   * `run()` was called since.
   */
  completeExit(valueLo = 0, valueHi = 0): void {
    const kind = this.completeKind;
    if (kind === 0) {
      throw new CpuError(
        "CPU_NOTHING_TO_COMPLETE",
        "completeExit: the last exit was not a CSR, MMIO or instruction exit, or run() was called since; resume the guest with run() instead",
      );
    }
    const e = this.exit;
    const rd = e.rd;
    if (rd !== 0 && kind !== 3) {
      let lo = valueLo | 0;
      let hi = valueHi | 0;
      if (kind === 2 && this.completeSize < 8) {
        const sh = 32 - 8 * this.completeSize;
        lo = this.completeSigned ? (lo << sh) >> sh : (lo << sh) >>> sh;
        hi = this.completeSigned ? lo >> 31 : 0;
        lo |= 0;
      }
      this.x[2 * rd] = lo;
      this.x[2 * rd + 1] = hi;
    }
    const npc = (e.pcLo + e.insnLength) | 0;
    this.pcHi = npc >>> 0 < e.pcLo >>> 0 ? (e.pcHi + 1) | 0 : e.pcHi;
    this.pcLo = npc;
    this.completeKind = 0;
  }

  // Results of executeSystem.
  private nextLo = 0;
  private nextHi = 0;

  /**
   * Execute an instruction that is not on the fast path. pc is in this.pcLo/Hi;
   * (npcLo, npcHi) is the sequential next pc. Returns SYS_* and leaves the next
   * pc in nextLo/nextHi.
   */
  private executeSystem(a: number, b: number, npcLo: number, npcHi: number): number {
    const rd = (a >>> 7) & 0x7e;
    const r1 = (a >>> 13) & 0x3e;
    const r2 = (a >>> 18) & 0x3e;
    this.nextLo = npcLo;
    this.nextHi = npcHi;
    const op = a & 0xff;
    const jit = this.jit;
    if (jit !== null && jit.rewriter !== null && jit.isSystemOp(op)) {
      // Binary translation's interpreter fallback: the strategy emulates sensitive instructions.
      const len = a & A_COMPRESSED ? 2 : 4;
      const raw = this.peekInstruction();
      const bits = len === 2 ? raw & 0xffff : raw;
      if (jit.rewriter.claims(this.fetchMode() | (jit.context << 3), bits, len)) {
        this.jitCalloutBits = bits;
        return SYS_EMULATED;
      }
    }
    switch (op) {
      case O.ILLEGAL:
        return this.illegal(b);
      case O.ECALL: {
        if (this.virt !== 0) {
          if ((this.guestExits.instructions & (1 << GuestInstruction.ECALL)) !== 0) {
            return this.guestExit(ExitReason.INSTRUCTION, GuestInstruction.ECALL, a, 3);
          }
          this.pend(this.priv === PRV_U ? Cause.ECALL_U : Cause.ECALL_VS, 0, 0);
          return SYS_EXCEPTION;
        }
        const cause =
          this.priv === PRV_U ? Cause.ECALL_U : this.priv === PRV_S ? Cause.ECALL_S : Cause.ECALL_M;
        this.pend(cause, 0, 0);
        return SYS_EXCEPTION;
      }
      case O.EBREAK:
        // tval = pc of the breakpoint (privileged spec 3.1.16): a guest virtual address when V=1.
        this.pend(Cause.BREAKPOINT, this.pcLo, this.pcHi);
        this.excGva = this.virt;
        return SYS_EXCEPTION;
      case O.CSRRW:
      case O.CSRRS:
      case O.CSRRC:
      case O.CSRRWI:
      case O.CSRRSI:
      case O.CSRRCI:
        return this.csrInstruction(op, rd, r1, b, (a >>> 14) & 31, a);
      case O.MRET:
        if (this.priv < PRV_M) return this.illegal(b);
        this.mret();
        this.nextLo = this.pcLo;
        this.nextHi = this.pcHi;
        return SYS_RESYNC;
      case O.SRET:
        if (this.virt !== 0) {
          // H extension: VU-mode, and VS-mode with hstatus.VTSR, raise virtual-instruction.
          if (this.priv === PRV_U) return this.virtualInstruction(b);
          if ((this.guestExits.instructions & (1 << GuestInstruction.SRET)) !== 0) {
            return this.guestExit(ExitReason.INSTRUCTION, GuestInstruction.SRET, a, 3);
          }
          if ((this.csr[S.HSTATUS]! & HSTATUS.VTSR) !== 0) return this.virtualInstruction(b);
        } else {
          if (this.priv === PRV_U && this.uSretNop) {
            this.profileNonTraps++; // non-virtualizable profile: a silent no-op
            return SYS_NEXT;
          }
          if (this.priv < PRV_S || (this.priv === PRV_S && (this.csr[S.MSTATUS]! & MSTATUS.TSR) !== 0)) {
            return this.illegal(b);
          }
        }
        this.sret();
        this.nextLo = this.pcLo;
        this.nextHi = this.pcHi;
        return SYS_RESYNC;
      case O.WFI: {
        const p = this.priv;
        if (p !== PRV_M) {
          // mstatus.TW applies to every mode below M, VS and VU included.
          if ((this.csr[S.MSTATUS]! & MSTATUS.TW) !== 0) return this.illegal(b);
          if (this.virt !== 0) {
            if (p === PRV_U) return this.virtualInstruction(b);
            if ((this.guestExits.instructions & (1 << GuestInstruction.WFI)) !== 0) {
              return this.guestExit(ExitReason.INSTRUCTION, GuestInstruction.WFI, a, 3);
            }
            if ((this.csr[S.HSTATUS]! & HSTATUS.VTW) !== 0) return this.virtualInstruction(b);
          } else if (p === PRV_U) return this.illegal(b);
        }
        // Resume at once if an enabled interrupt is already pending (global enables ignored).
        if ((this.mip() & this.csr[S.MIE]!) !== 0) return SYS_NEXT;
        this.exitWith(ExitReason.WFI);
        this.exit.pcLo = npcLo;
        this.exit.pcHi = npcHi;
        return SYS_EXIT;
      }
      case O.SFENCE_VMA:
        if (this.virt !== 0) {
          // At V=1 it fences the guest's VS-stage translations (hstatus.VTVM traps it instead).
          if (this.priv === PRV_U) return this.virtualInstruction(b);
          if ((this.guestExits.instructions & (1 << GuestInstruction.SFENCE)) !== 0) {
            return this.guestExit(ExitReason.INSTRUCTION, GuestInstruction.SFENCE, a, 3);
          }
          if ((this.csr[S.HSTATUS]! & HSTATUS.VTVM) !== 0) return this.virtualInstruction(b);
          if (r1 === 0) this.flushGuestTlb();
          else this.flushGuestTlbPage(this.x[r1]!, this.x[r1 | 1]!);
          return SYS_RESYNC;
        }
        if (this.priv === PRV_U || (this.priv === PRV_S && (this.csr[S.MSTATUS]! & MSTATUS.TVM) !== 0)) {
          return this.illegal(b);
        }
        // rs1 = x0: every address; else the page of x[rs1]. ASIDs are not cached, so rs2 is moot.
        if (r1 === 0) this.flushTlb();
        else this.flushTlbPage(this.x[r1]!, this.x[r1 | 1]!);
        return SYS_RESYNC;
      case O.LR_W:
      case O.LR_D:
      case O.SC_W:
      case O.SC_D:
      case O.AMO_W:
      case O.AMO_D:
        return this.atomic(op, rd, r1, r2, b);
      case O.FLW:
      case O.FLD:
      case O.FSW:
      case O.FSD:
        return this.floatMemory(op, (a >>> 8) & 31, r1, r2 >>> 1, b);
      case O.FP: {
        if (this.fpOff()) return this.illegal(this.peekInstruction());
        const id = b & 0xffff;
        const rm = (b >>> 16) & 7;
        const ok = executeFloat(this.fpu, id, (a >>> 8) & 31, (a >>> 14) & 31, (a >>> 19) & 31, a >>> 25, rm);
        if (!ok) return this.illegal(this.peekInstruction());
        this.fpDirty();
        return SYS_NEXT;
      }
      case O.HYPERVISOR:
        return this.hypervisorInstruction(a, b, rd, r1, r2);
    }
    return this.illegal(b);
  }

  private illegal(bits: number): number {
    this.pend(Cause.ILLEGAL_INSTRUCTION, bits, 0);
    return SYS_EXCEPTION;
  }

  /** A virtual-instruction exception (H extension): tval as for illegal-instruction. */
  private virtualInstruction(bits: number): number {
    this.pend(Cause.VIRTUAL_INSTRUCTION, bits, 0);
    return SYS_EXCEPTION;
  }

  /** Whether floating point is off: mstatus.FS, and with V=1 vsstatus.FS too (either Off raises illegal-instruction). */
  private fpOff(): boolean {
    const c = this.csr;
    return (c[S.MSTATUS]! & MSTATUS.FS) === 0 || (this.virt !== 0 && (c[S.VSSTATUS]! & MSTATUS.FS) === 0);
  }

  /** Mark the FP state dirty (both mstatus.FS and, with V=1, vsstatus.FS). */
  private fpDirty(): void {
    const c = this.csr;
    c[S.MSTATUS]! |= MSTATUS.FS;
    if (this.virt !== 0) c[S.VSSTATUS]! |= MSTATUS.FS;
  }

  /**
   * The H extension's instructions: hfence.vvma, hfence.gvma, and the
   * virtual-machine loads and stores hlv, hlvx, hsv (explicit accesses as
   * though V=1 in the mode hstatus.SPVP names; MPRV does not apply).
   */
  private hypervisorInstruction(a: number, w: number, rd: number, r1: number, r2: number): number {
    if (!this.hypervisor) return this.illegal(w);
    const c = this.csr;
    const x = this.x;
    if (((w >>> 12) & 7) === 0) {
      const gvma = w >>> 25 === 0x31;
      if (this.virt !== 0) {
        if (this.priv === PRV_S && (this.guestExits.instructions & (1 << GuestInstruction.SFENCE)) !== 0) {
          return this.guestExit(ExitReason.INSTRUCTION, GuestInstruction.SFENCE, a, 3);
        }
        return this.virtualInstruction(w);
      }
      if (this.priv === PRV_U || (gvma && this.priv === PRV_S && (c[S.MSTATUS]! & MSTATUS.TVM) !== 0)) {
        return this.illegal(w);
      }
      // Guest TLB entries combine both stages, so hfence.gvma drops them all; ASIDs and VMIDs are not cached.
      if (gvma || r1 === 0) this.flushGuestTlb();
      else this.flushGuestTlbPage(x[r1]!, x[r1 | 1]!);
      return SYS_RESYNC;
    }
    if (this.virt !== 0) return this.virtualInstruction(w);
    if (this.priv === PRV_U && (c[S.HSTATUS]! & HSTATUS.HU) === 0) return this.illegal(w);
    const funct7 = w >>> 25;
    const size = 1 << ((funct7 >>> 1) & 3);
    const store = (funct7 & 1) !== 0;
    const lo = x[r1]!;
    const hi = x[r1 | 1]!;
    const saved = this.dMode;
    this.dMode = MODE_VU + ((c[S.HSTATUS]! >>> 8) & 1); // SPVP: VU or VS
    this.dBase = this.dMode * TLB_SIZE;
    this.hlvx = !store && ((w >>> 20) & 31) === 3;
    let vLo = 0;
    if (store) this.storeSlow(lo, hi, size, x[r2]!, x[r2 | 1]!);
    else vLo = this.loadSlow(lo, hi, size);
    this.hlvx = false;
    this.dMode = saved;
    this.dBase = saved * TLB_SIZE;
    if (this.exc !== 0) return SYS_EXCEPTION;
    if (!store) {
      const unsigned = ((w >>> 20) & 1) !== 0; // hlv.bu/hu/wu (rs2 = 1), hlvx.hu/wu (rs2 = 3)
      let vHi: number;
      if (size === 8) vHi = this.ldHi;
      else {
        const sh = 32 - 8 * size;
        vLo = unsigned ? (vLo << sh) >>> sh : (vLo << sh) >> sh;
        vLo |= 0;
        vHi = unsigned ? 0 : vLo >> 31;
      }
      x[rd] = vLo;
      x[rd | 1] = vHi;
    }
    return this.resync ? SYS_RESYNC : SYS_NEXT;
  }

  /** CSR instructions (Zicsr): access checks, then read/modify/write. */
  private csrInstruction(op: number, rd: number, r1: number, csr: number, uimm: number, a: number): number {
    const x = this.x;
    const isImm = op >= O.CSRRWI;
    const kind = isImm ? op - O.CSRRWI : op - O.CSRRW; // 0 write, 1 set, 2 clear
    // csrrs/csrrc with rs1=x0 (or uimm=0) do not write; csrrw with rd=x0 does not read.
    const writes = kind === 0 || uimm !== 0;
    const reads = kind !== 0 || rd !== 64;
    if (this.virt !== 0) {
      const r = this.guestCsr(csr, reads, writes, a, isImm ? uimm : x[r1]!, isImm ? 0 : x[r1 | 1]!, rd);
      if (r >= 0) return r;
    } else {
      if (this.priv === PRV_U && (this.uCsrReads.size | this.uCsrWrites.size) !== 0) {
        const r = this.profileCsr(kind, rd, r1, csr, uimm, isImm, reads, writes);
        if (r >= 0) return r;
      }
      // With the H extension, HS-mode reaches the hypervisor and VS CSRs (address bits 9:8 = 2).
      const level = this.priv === PRV_S && this.hypervisor ? 2 : this.priv;
      if (csrPrivilege(csr) > level || (writes && csrReadOnly(csr)))
        return this.illegal(this.peekInstruction());
    }
    this.csrVirtual = false;
    let oldLo = 0;
    let oldHi = 0;
    if (reads || kind !== 0) {
      if (!readCsr(this, csr)) return this.csrFault();
      oldLo = this.csrLo;
      oldHi = this.csrHi;
    }
    const rdLo = oldLo;
    if (writes) {
      const sLo = isImm ? uimm : x[r1]!;
      const sHi = isImm ? 0 : x[r1 | 1]!;
      let nLo = sLo;
      let nHi = sHi;
      if (csr === CSR_MIP && kind !== 0) {
        // The read-modify-write uses only the software-written SEIP bit, not the
        // external interrupt line ORed into reads (privileged spec 3.1.9).
        const sei = 1 << Irq.SEI;
        oldLo = (oldLo & ~sei) | (this.csr[S.MIP_SW]! & sei);
      }
      if (kind === 1) {
        nLo = oldLo | sLo;
        nHi = oldHi | sHi;
      } else if (kind === 2) {
        nLo = oldLo & ~sLo;
        nHi = oldHi & ~sHi;
      }
      if (!writeCsr(this, csr, nLo, nHi)) return this.csrFault();
    }
    x[rd] = rdLo;
    x[rd | 1] = oldHi;
    return this.resync ? SYS_RESYNC : SYS_NEXT;
  }

  /** A CSR access readCsr/writeCsr refused: virtual-instruction when they set csrVirtual, else illegal-instruction. */
  private csrFault(): number {
    const bits = this.peekInstruction();
    return this.csrVirtual ? this.virtualInstruction(bits) : this.illegal(bits);
  }

  /**
   * The checks of a CSR instruction at V=1 (H extension, "Virtual-Instruction
   * Exceptions"): M-level CSRs and writes to read-only ones are illegal; a
   * hypervisor or VS CSR (and, from VU-mode, a supervisor CSR) raises
   * virtual-instruction when HS-mode could make the same access, else
   * illegal-instruction. Then the CSR-access exit controls. Returns -1 to go
   * on with the access (where VS-mode's S-level numbers reach the VS CSRs).
   */
  private guestCsr(
    csr: number,
    reads: boolean,
    writes: boolean,
    a: number,
    srcLo: number,
    srcHi: number,
    rd: number,
  ): number {
    const p = csrPrivilege(csr);
    if (p === PRV_M || (writes && csrReadOnly(csr))) return this.illegal(this.peekInstruction());
    if (p === 2 || (p === PRV_S && this.priv === PRV_U)) {
      const bits = this.peekInstruction();
      return csrImplemented(this, csr) ? this.virtualInstruction(bits) : this.illegal(bits);
    }
    const g = this.guestExits;
    const w = csr >>> 5;
    const bit = 1 << (csr & 31);
    const csrExit = (reads && (g.csrRead[w]! & bit) !== 0) || (writes && (g.csrWrite[w]! & bit) !== 0);
    if (
      csrExit ||
      (writes &&
        csr === CSR_SATP &&
        this.priv === PRV_S &&
        (g.instructions & (1 << GuestInstruction.SATP_WRITE)) !== 0)
    ) {
      const r = csrExit
        ? this.guestExit(ExitReason.CSR, 0, a, 1)
        : this.guestExit(ExitReason.INSTRUCTION, GuestInstruction.SATP_WRITE, a, 1);
      const e = this.exit;
      e.csr = csr;
      e.read = reads ? 1 : 0;
      e.write = writes ? 1 : 0;
      e.dataLo = srcLo;
      e.dataHi = srcHi;
      e.rd = reads && rd !== 64 ? rd >>> 1 : 0;
      return r;
    }
    return -1;
  }

  /**
   * A U-mode CSR access the ISA profile lets complete without trapping
   * (`@hvkit/isa` NON_VIRTUALIZABLE_PROFILE). Returns SYS_* when the profile
   * covers every access the instruction makes, -1 to take the standard path.
   */
  private profileCsr(
    kind: number,
    rd: number,
    r1: number,
    csr: number,
    uimm: number,
    isImm: boolean,
    reads: boolean,
    writes: boolean,
  ): number {
    const ro = this.uCsrReads.get(csr);
    const wo = this.uCsrWrites.get(csr);
    if ((reads && !ro) || (writes && !wo) || !readCsr(this, csr)) return -1;
    const x = this.x;
    const oldLo = this.csrLo;
    const oldHi = this.csrHi;
    if (writes) {
      const sLo = isImm ? uimm : x[r1]!;
      const sHi = isImm ? 0 : x[r1 | 1]!;
      const nLo = kind === 0 ? sLo : kind === 1 ? oldLo | sLo : oldLo & ~sLo;
      const nHi = kind === 0 ? sHi : kind === 1 ? oldHi | sHi : oldHi & ~sHi;
      const m = wo!.mask;
      // Only the user-visible bits change; the privileged ones are dropped without a trace.
      writeCsr(this, csr, (oldLo & ~m.lo) | (nLo & m.lo), (oldHi & ~m.hi) | (nHi & m.hi));
    }
    if (reads) {
      const masked = ro!.behaviour === "read-masked";
      x[rd] = masked ? oldLo & ro!.mask.lo : oldLo;
      x[rd | 1] = masked ? oldHi & ro!.mask.hi : oldHi;
    }
    this.profileNonTraps++;
    return this.resync ? SYS_RESYNC : SYS_NEXT;
  }

  /** Sensitive operations that completed in U-mode without trapping because of the ISA profile. */
  profileNonTraps = 0;
  /** Page-table walks (TLB misses and uncached accesses under translation). */
  pageWalks = 0;

  /** Set by readCsr/writeCsr when a refused access must raise virtual-instruction rather than illegal-instruction (internal). */
  csrVirtual = false;
  /** CSR read result (set by readCsr). */
  csrLo = 0;
  /** CSR read result, high word. */
  csrHi = 0;

  /** LR/SC and AMOs (A extension). Accesses must be naturally aligned. */
  private atomic(op: number, rd: number, r1: number, r2: number, funct5: number): number {
    const x = this.x;
    const lo = x[r1]!;
    const hi = x[r1 | 1]!;
    const dbl = op === O.LR_D || op === O.SC_D || op === O.AMO_D;
    const size = dbl ? 8 : 4;
    const isLr = op === O.LR_W || op === O.LR_D;
    if ((lo & (size - 1)) !== 0) {
      this.pend(isLr ? Cause.MISALIGNED_LOAD : Cause.MISALIGNED_STORE, lo, hi);
      this.excGva = this.guestAccess(ACC_LOAD);
      return SYS_EXCEPTION;
    }
    if (isLr) {
      const pa = this.dataPa(lo, hi, size, ACC_LOAD);
      if (pa < 0) return SYS_EXCEPTION;
      const off = pa - this.ramBase;
      if (off < 0 || off >= this.ramSize) {
        // LR/SC are only supported on RAM (main memory).
        this.accessFault(ACC_LOAD, lo, hi);
        return SYS_EXCEPTION;
      }
      const v = this.ram32[off >> 2]!;
      x[rd] = v;
      x[rd | 1] = dbl ? this.ram32[(off >> 2) + 1]! : v >> 31;
      this.jw[JW_RESV] = off;
      return SYS_NEXT;
    }
    const pa = this.dataPa(lo, hi, size, ACC_STORE);
    if (pa < 0) return SYS_EXCEPTION;
    const off = pa - this.ramBase;
    if (off < 0 || off >= this.ramSize) {
      this.accessFault(ACC_STORE, lo, hi);
      return SYS_EXCEPTION;
    }
    const i = off >> 2;
    const ram32 = this.ram32;
    if (op === O.SC_W || op === O.SC_D) {
      const ok = this.jw[JW_RESV]! === off;
      this.jw[JW_RESV] = -1;
      if (ok) {
        ram32[i] = x[r2]!;
        if (dbl) ram32[i + 1] = x[r2 | 1]!;
        this.ramWritten(off, size);
      }
      x[rd] = ok ? 0 : 1;
      x[rd | 1] = 0;
      return this.resync ? SYS_RESYNC : SYS_NEXT;
    }
    // AMO: read old, compute, write.
    const oLo = ram32[i]!;
    const oHi = dbl ? ram32[i + 1]! : oLo >> 31;
    const sLo = x[r2]!;
    const sHi = dbl ? x[r2 | 1]! : sLo >> 31;
    let nLo: number;
    let nHi: number;
    switch (funct5) {
      case 0x01: // swap
        nLo = sLo;
        nHi = sHi;
        break;
      case 0x00: {
        // add
        nLo = (oLo + sLo) | 0;
        nHi = (oHi + sHi + (nLo >>> 0 < oLo >>> 0 ? 1 : 0)) | 0;
        break;
      }
      case 0x04:
        nLo = oLo ^ sLo;
        nHi = oHi ^ sHi;
        break;
      case 0x0c:
        nLo = oLo & sLo;
        nHi = oHi & sHi;
        break;
      case 0x08:
        nLo = oLo | sLo;
        nHi = oHi | sHi;
        break;
      case 0x10: // min
      case 0x14: // max
      case 0x18: // minu
      case 0x1c: {
        // maxu
        const unsigned = funct5 >= 0x18;
        const ah = unsigned ? oHi >>> 0 : oHi;
        const bh = unsigned ? sHi >>> 0 : sHi;
        const less = ah < bh || (ah === bh && oLo >>> 0 < sLo >>> 0);
        const pickOld = funct5 === 0x10 || funct5 === 0x18 ? less : !less;
        nLo = pickOld ? oLo : sLo;
        nHi = pickOld ? oHi : sHi;
        break;
      }
      default:
        return this.illegal(this.peekInstruction());
    }
    ram32[i] = nLo;
    if (dbl) ram32[i + 1] = nHi;
    this.ramWritten(off, size);
    x[rd] = oLo;
    x[rd | 1] = oHi;
    return this.resync ? SYS_RESYNC : SYS_NEXT;
  }

  /** FP loads and stores: the bits move unchanged (NaN-boxing for singles). */
  private floatMemory(op: number, fd: number, r1: number, fs2: number, imm: number): number {
    if (this.fpOff()) return this.illegal(this.peekInstruction());
    const x = this.x;
    const s = x[r1]!;
    const lo = (s + imm) | 0;
    const hi = (x[r1 | 1]! + (imm >> 31) + (lo >>> 0 < s >>> 0 ? 1 : 0)) | 0;
    const fpu = this.fpu;
    if (op === O.FLW || op === O.FLD) {
      const size = op === O.FLW ? 4 : 8;
      const vLo = this.loadSlow(lo, hi, size);
      if (this.exc !== 0) return SYS_EXCEPTION;
      if (size === 4) fpu.writeSingleBits(fd, vLo);
      else fpu.writeDoubleBits(fd, vLo, this.ldHi);
      this.fpDirty();
      return SYS_NEXT;
    }
    const u32 = fpu.u32;
    if (op === O.FSW) this.storeSlow(lo, hi, 4, u32[2 * fs2]! | 0, 0);
    else this.storeSlow(lo, hi, 8, u32[2 * fs2]! | 0, u32[2 * fs2 + 1]! | 0);
    if (this.exc !== 0) return SYS_EXCEPTION;
    return this.resync ? SYS_RESYNC : SYS_NEXT;
  }
}

/** CSR number of mip. */
const CSR_MIP = 0x344;
/** CSR number of satp. */
const CSR_SATP = 0x180;

// executeSystem results.
const SYS_NEXT = 0;
const SYS_EXCEPTION = 1;
const SYS_RESYNC = 2;
const SYS_EXIT = 3;
/** A strategy's rewriter claims the instruction: the caller settles its counts, then runs the callout. */
const SYS_EMULATED = 4;

/**
 * Key of the superpage region at `level` (1: 2 MiB, 2: 1 GiB, 3: 512 GiB)
 * holding virtual address (lo, hi): the region number times 4 plus the level.
 */
function superpageKey(lo: number, hi: number, level: number): number {
  const shift = 12 + 9 * level;
  const region =
    shift >= 32 ? (hi >>> 0) / 2 ** (shift - 32) : (hi >>> 0) * 2 ** (32 - shift) + (lo >>> shift);
  return Math.floor(region) * 4 + level;
}

/** Number of trailing one bits of a 32-bit value. */
function trailingOnes(v: number): number {
  const inv = ~v;
  return inv === 0 ? 32 : 31 - Math.clz32(inv & -inv);
}

/** x[rd] = (hi, lo) << s for s in 0..63. */
function shl(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[rd] = lo;
    x[rd | 1] = hi;
  } else if (s < 32) {
    x[rd | 1] = (hi << s) | (lo >>> (32 - s));
    x[rd] = lo << s;
  } else {
    x[rd | 1] = lo << (s - 32);
    x[rd] = 0;
  }
}

/** x[rd] = (hi, lo) >>> s (logical). */
function shr(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[rd] = lo;
    x[rd | 1] = hi;
  } else if (s < 32) {
    x[rd] = (lo >>> s) | (hi << (32 - s));
    x[rd | 1] = hi >>> s;
  } else {
    x[rd] = hi >>> (s - 32);
    x[rd | 1] = 0;
  }
}

/** x[rd] = (hi, lo) >> s (arithmetic). */
function sar(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[rd] = lo;
    x[rd | 1] = hi;
  } else if (s < 32) {
    x[rd] = (lo >>> s) | (hi << (32 - s));
    x[rd | 1] = hi >> s;
  } else {
    x[rd] = hi >> (s - 32);
    x[rd | 1] = hi >> 31;
  }
}

export { PRV_M, PRV_S, PRV_U };
