/**
 * The block translator: guest basic blocks become JavaScript, generated at
 * run time with `new Function`, operating directly on the hart's register
 * file, RAM views and TLB arrays.
 *
 * Unit of translation: the basic block (up to a control transfer, an
 * instruction that must end it, a page boundary or {@link MAX_BLOCK}
 * instructions). Unit of compilation: the region, the blocks found on one
 * physical page for one translation context, compiled together into one
 * function that loops over a `switch` on the block number. A direct branch
 * to a block of the same region is a `continue` (the chain: no return to the
 * dispatcher, no lookup); V8 optimizes a region's hot loop as one loop. A
 * branch within the page is always valid, whatever the page's virtual
 * address: the page is one physical page, so chains never need validating
 * after a remap. Anything else (another page, a block not translated yet, the
 * budget) returns to the hart's dispatcher with the pc.
 *
 * The cache: regions keyed by physical page (a direct-mapped table, one slot
 * per RAM page) and context (the fetch mode, plus a strategy's context such
 * as the guest's virtual privilege); each region maps halfword offsets to
 * block numbers. Invalidation: a page's regions are dropped whenever the
 * hart drops its decode cache (a store to the page, DMA, the page walker's
 * A/D update), which it does before the next instruction; fence.i has nothing
 * left to drop. Capacity: at most `capacity` translated guest instructions;
 * beyond it the oldest regions are evicted first (FIFO, as a circular code
 * cache), so a page the guest still runs is simply translated again.
 *
 * Precise state: translated code keeps the interpreter's conventions (x0
 * redirected to a sink register, pc of a faulting instruction, steps =
 * instructions + traps), so the dispatcher can switch between the two at any
 * instruction and the guest cannot tell which one ran it.
 */
import { BLOCK_MAP_BYTES } from "../memory.js";
import { JW_RESV, TLB_SET_ENTRIES } from "./layout.js";
import { RUNTIME_HELPERS } from "./runtime.js";
import { WasmBackend, type WasmHost, wasmApi } from "./wasm.js";

/** Entries of a block map (a 16-bit table slot per 2-byte offset of a page). */
const BLOCK_MAP_ENTRIES = BLOCK_MAP_BYTES / 2;
/** Most instructions in one block: a block is the unit of the step budget check, so a long one only costs a late check. */
const MAX_BLOCK = 64;
/**
 * Most guest instructions in one region. Measured on Debian's boot: the
 * generated code takes ~100-250 bytes of V8 bytecode per guest instruction,
 * so 256-instruction regions passed V8's 60 KB optimization limit and ran
 * unoptimized for good (~140 ns per instruction), and TurboFan took ~4 ms
 * plus ~0.2 ms per instruction to compile a region. Regions of 96 keep every
 * region optimizable and each compile short; a page with more hot code gets
 * more regions.
 */
const MAX_REGION_INSNS = 96;

/**
 * A compiled region: `(offset, budget, page VA low, VA high, TLB set base)
 * -> steps`. The JavaScript backend leaves the pc in the hart; the
 * WebAssembly backend in the jit words (see layout.ts), unless a slow path
 * left it in the hart.
 */
export type RegionFunction = (
  offset: number,
  budget: number,
  vLo: number,
  vHi: number,
  dBase: number,
) => number;

/** Code generators: WebAssembly where the hart's state is in a WebAssembly memory, else JavaScript. */
export type TranslationBackend = "wasm" | "js";

/** Tuning of the translator. */
export interface TranslationOptions {
  /**
   * Steps the interpreter runs from a physical page, in units of
   * {@link SAMPLE_STEPS}, before the page's code is profiled for
   * translation; 0 translates at the first visit. Cold code stays with the
   * interpreter: only code that runs long repays its translation. Default
   * 32 with the WebAssembly backend (whose pages' heat also decays, halving
   * every 2^20 guest steps), {@link DEFAULT_HOT_THRESHOLD} with the
   * JavaScript one (V8 runs freshly generated JavaScript unoptimized, ~10
   * MIPS measured here against ~100 for the interpreter, until it has
   * compiled it).
   */
  readonly threshold?: number;
  /**
   * Guest steps (translated or interpreted) over which a page's heat
   * halves, so a page gets hot by running often lately; 0 never decays.
   * Default {@link WASM_HEAT_EPOCH_STEPS} with the WebAssembly backend, 0
   * with the JavaScript one.
   */
  readonly heatHalfLife?: number;
  /** Entries at one untranslated offset of a translated page before it is profiled again. Default 16. */
  readonly missThreshold?: number;
  /**
   * Instruction executions the interpreter counts on a hot page before its
   * hot blocks are translated; 0 translates at once (from the entry, without
   * a profile). Default {@link DEFAULT_PROFILE_STEPS}.
   */
  readonly profileSteps?: number;
  /**
   * Which code a new region takes: "executed" (default) the blocks reachable
   * from its entry inside the page that the interpreter has run (decoded)
   * already; "static" everything reachable (tests use it, with threshold 0,
   * to run nearly everything as translated code).
   */
  readonly discovery?: "executed" | "static";
  /** Most translated guest instructions kept; the oldest regions are evicted beyond it. Default 2^20. */
  readonly capacity?: number;
  /**
   * Most translated blocks kept; the oldest regions are evicted beyond it,
   * as beyond `capacity`. The WebAssembly backend gives each block a slot
   * in a function table of 65,535 (`ARENA_BLOCK_SLOTS`, less the unused
   * slot 0): its default and most. The JavaScript backend has no limit by
   * default. At least 256, a region's most blocks.
   */
  readonly maxBlocks?: number;
  /**
   * The code generator: "wasm" (default where the hart has a WebAssembly
   * arena, see `allocateGuestMemory`) or "js". Without an arena, or where
   * the runtime refuses to compile modules, the translator generates
   * JavaScript.
   */
  readonly backend?: TranslationBackend;
}

/**
 * Default hotness threshold of the JavaScript backend, in units of
 * {@link SAMPLE_STEPS} interpreted steps (256: ~256 K steps run on the page).
 * (Measured when hotness was counted in samples, a stretch of the interpreter
 * ending on the page; it is now the steps each stretch ran from the page.)
 * Measured on Debian's boot (2 cores, Node 20, one boot each, wall time):
 * thresholds 16, 64, 128 and 256 all landed within the noise of this busy
 * machine (15-18 s against 14-15 s for the interpreter); 256 translated the
 * least (the fewest compiles competing for the second core) and was the
 * fastest of them twice. See the README of @hvkit/binary-translation.
 */
export const DEFAULT_HOT_THRESHOLD = 256;
/** Default profile length of a hot page (instruction executions counted by the interpreter). */
export const DEFAULT_PROFILE_STEPS = 32768;
/**
 * An instruction is hot when it ran at least 1/HOT_SHARE as often as the
 * hottest instruction of its page's profile, and at least HOT_MIN times (with
 * HOT_MIN 1024 of a 32 K profile the floor decides: 1/32 of the profile):
 * code below it stays with the interpreter, since V8 deoptimizes translated
 * code the first time it reaches a path it did not run before optimizing it
 * (and compiles it again), and compiling costs ~0.2 ms per guest
 * instruction. Relative to the hottest instruction, not to the page's total:
 * a share of the total never selected long straight-line code (Debian's boot
 * runs unrolled loops of 400+ instructions, each instruction ~1/400 of its
 * page's profile), which then ran interpreted for good (~500 M of the boot's
 * 1.28 G instructions). HOT_MIN (of a 32 K-execution profile) trades the
 * interpreter's time for V8's compile time, which runs on background threads
 * and is free only while a core is: measured on Debian's boot (2 cores,
 * load ~3-5 from other work, `pnpm bench:boot-cpu`, main-thread / all
 * threads / wall): 64: 10.5-11.0 / 17.9-18.3 / 17.8-18.5 s (15 K
 * instructions translated), 256: 11.6-12.0 / 15.7-16.2 / 15.6-16.3 s, 512:
 * 11.8-13.0 / 14.7-15.9 / 15.0-16.1 s, 1024: 11.9-12.6 / 14.0-14.7 /
 * 14.0-14.8 s, 2048: 13.0-13.1 / 14.7 / 14.2-14.7 s; emulation 12.6-12.8 /
 * 13.7-13.8 / 14.1-14.6 s. On this shared machine wall time followed the
 * all-thread CPU, so 1024; with a core to spare, 64 would save ~1.5 s more.
 */
const HOT_SHARE = 64;
const HOT_MIN = 1024;

/**
 * The WebAssembly backend's tuning. V8 compiles a module with its baseline
 * compiler (Liftoff) at ~6 us per guest instruction on the main thread and
 * tiers hot functions up on background threads, with no deoptimization, so
 * translating pays off after a few hundred executions, not the JavaScript
 * backend's tens of thousands. Measured on Debian's boot (`pnpm
 * bench:boot-cpu`, 2 cores, load 2.5-3, main-thread CPU / wall to BOOT-OK):
 * threshold 256, HOT_MIN 64, HOT_SHARE 256, regions of 256: 7.3 / 8.0 s;
 * threshold 128, HOT_MIN 32: 5.9-6.1 / 7.4-7.8 s; threshold 64, HOT_MIN 16,
 * HOT_SHARE 512: 6.7 / 8.9 s (more background compiling); HOT_MIN 128: 8.5 /
 * 9.2 s; regions of 96 (more misses between regions): 8.8 / 10.1 s. One
 * region per page, rebuilt whole as more of it got hot, was slower still
 * (V8's optimizing compiler on functions of a thousand instructions, again
 * at each rebuild: 11.3 s main thread, 36 s on all threads).
 *
 * Re-measured with hotness credited to the page that ran the steps and a
 * function per block (2 cores, load 1.9-2.7, three pairs of boots run
 * alternately, main-thread CPU / wall to BOOT-OK): threshold 128: 6.58-6.67
 * / 7.36-7.37 s (53 K instructions translated); 256: 6.25-6.57 / 6.98-7.21 s
 * (44 K); 512: 6.52-6.59 / 7.18-7.22 s (35 K); 32: 6.9-7.6 / 7.6-8.7 s (73
 * K). Code below ~256 K interpreted steps per page did not repay its
 * translation (building, compiling and the profile that chose it).
 */
const WASM_HOT_THRESHOLD = 32;
/**
 * The WebAssembly backend's heat decay: a page's heat halves every 2^20
 * guest steps (translated or interpreted), so a page gets hot by running
 * often lately, not by collecting steps over the whole run. On Debian's
 * boot, 1,262 pages run ~17 K interpreted steps each, now and then, and
 * the 147 pages worth translating each ran ~290 K steps interpreted first
 * (the threshold and the profile): 44.5 M of the boot's 76.9 M interpreted
 * steps. Counted on the boot (interpreted steps, instructions translated),
 * threshold 256 without decay: 76.9 M, 48.3 K; 64: 48.6 M, 69.2 K; with
 * decay, 128 every 8 M steps: 78.8 M, 38.9 K; 64 / 4 M: 69.9 M, 45.8 K;
 * 32 / 1 M: 68.6 M, 45.1 K; 24 / 1.5 M: 52.0 M, 57.0 K; 16 / 0.5 M: 57.7
 * M, 53.3 K; 16 / 2 M: 46.4 M, 64.3 K. 32 / 1 M interprets and translates
 * less than no decay at 256; timed in four rounds of boots run in turn
 * (`pnpm bench:boot-cpu`, load 1.3-2.2, BOOT-OK): 5.27-6.93 s against
 * 5.76-7.13 s without decay, and ahead of 24 / 1.5 M (5.29-6.24 s) and
 * 16 / 0.5 M (5.07-6.45 s).
 */
const WASM_HEAT_EPOCH_STEPS = 1 << 20;
/**
 * A page with translations is profiled again when its untranslated code
 * keeps being entered, and the interpreter then counts only the few steps
 * of each entry (on Debian's boot, 26 K entries at one instruction filled
 * 159 of a profile's 32 K executions): such a profile ends early, once the
 * instruction the dispatcher missed at has run this many times. Counted on
 * the boot (interpreted steps, instructions translated, entries into the
 * interpreter): never 67.1 M, 47.4 K, 1.45 M; 64: 68.1 M, 49.5 K, 1.11 M;
 * 128: 64.0 M, 48.6 K, 1.09 M; 256: 65.2 M, 48.2 K, 1.12 M; 1024: 66.5 M,
 * 47.5 K, 1.24 M.
 */
const REPROFILE_ENTRIES = 128;
/** 2^-age for heat `age` epochs old (0 from 32 on). */
const HALVINGS = Float64Array.from({ length: 33 }, (_, age) => (age === 32 ? 0 : 2 ** -age));
const WASM_HOT_MIN = 32;
const WASM_HOT_SHARE = 256;
const WASM_REGION_INSNS = 256;
/** Environment names every region uses: the prologue, the epilogue and the shared slow path. */
const ALWAYS_USED = new Set(["H", "JS", "LD", "ST"]);
/** Most regions per page and context. */
const MAX_REGIONS_PER_PAGE = 16;
/** Calls of a new region that alternate between the TLB slow and fast paths (see compile). */
const WARM_CALLS = 16;
/**
 * Interpreted steps between two samples: the dispatcher runs the
 * interpreter in stretches of this many steps (it also stops where
 * translated code starts and on entering hot pages), and where a stretch
 * ends is a sample of where the time goes. 1024 steps are ~10 us of
 * interpretation; the dispatcher's visit costs ~0.1 us.
 */
export const SAMPLE_STEPS = 1024;
/** Most doublings of the samples a page needs before it is profiled again after fruitless profiles (2^7 x 256 fits the Uint16 heat). */
const MAX_BACKOFF = 7;
/** Samples in a translated page's untranslated code before another region is built there. */
const MISS_SAMPLES = 8;

/** Counters of the translator. */
export interface TranslationStats {
  /** Basic blocks translated (a block retranslated after invalidation counts again). */
  blocks: number;
  /** Guest instructions translated. */
  instructions: number;
  /** Regions compiled (a region is recompiled when blocks are added). */
  compiles: number;
  /** Dispatcher entries into translated code (cache hits). */
  hits: number;
  /** Dispatcher lookups that found no block (cache misses): cold pages and untranslated offsets. */
  misses: number;
  /** Blocks executed in translated code. */
  blocksExecuted: number;
  /** Steps (instructions, and the traps among them) run by translated code; the interpreter ran the rest. */
  steps: number;
  /** Block-to-block transitions inside translated code (chained, no dispatcher). */
  chained: number;
  /** Pages whose translations were dropped because their bytes changed. */
  invalidations: number;
  /** Regions evicted for capacity (instructions or blocks, see TranslationOptions). */
  evictions: number;
  /** Full flushes (flush()). */
  flushes: number;
}

/**
 * How a strategy rewrites a sensitive instruction in translated code (see
 * {@link SensitiveRewriter}):
 *
 * - "inline": `code` (JavaScript statements) emulates the instruction inside
 *   the block, which then goes on unless the code set `H.resync = true`.
 *   They may use `x` (the register file), `H` (the hart) and the names in
 *   the rewriter's `env`. Inline code that meets a case it leaves to the VMM
 *   (known only at run time) says `$CALLOUT` there; the translator puts the
 *   `callout` statements in its place, with pc and the steps so far in the
 *   hart, and ends the block after them as a callout ends it.
 * - "callout": the block ends with the instruction, which the hart runs
 *   out of line: its system-instruction path hands it to the rewriter's
 *   `emulate` (the VMM emulates it, retires it or delivers a trap, and sets
 *   pc) and the translated run stops after it, so a callout may change
 *   anything (the privilege, the translation context). The interpreter
 *   does the same with the ones it meets (cold code). Blocks used to end
 *   before a callout, which the interpreter then ran: Debian's boot entered
 *   the interpreter 98 K times for its callouts alone.
 */
export type Rewrite =
  | { readonly kind: "inline"; readonly code: string; readonly callout?: string }
  | { readonly kind: "callout" };

/**
 * A strategy's hook for sensitive instructions (binary translation): the
 * system instructions (CSR accesses, ecall, ebreak, mret, sret, wfi,
 * sfence.vma, H-extension ones) of a block are offered to it before the
 * translator emits the hardware's behaviour.
 */
export interface SensitiveRewriter {
  /** Values generated code may name (typed arrays of the virtual CPU, callout functions). */
  readonly env: Readonly<Record<string, unknown>>;
  /** At translation time: a rewrite for the instruction `bits` (32-bit, expanded) in context `context`, or undefined to run it as the hardware does. */
  rewrite(context: number, bits: number, length: number): Rewrite | undefined;
  /**
   * The hart met a system instruction in context `context` (in cold code,
   * or a callout in a translated block): whether the strategy emulates it,
   * which it then does in {@link emulate}.
   */
  claims(context: number, bits: number, length: number): boolean;
  /**
   * Emulate (a callout) the instruction `claims` accepted, at the hart's pc:
   * the VMM retires it or delivers a trap, and sets pc. The hart has settled
   * the run's counts before, so the VMM may change anything.
   */
  emulate(context: number, bits: number, length: number): void;
}

/** What the translator needs from the hart (passed by the hart, which owns the state). */
export interface TranslatorHost {
  /** The hart, `H` in generated code. */
  readonly hart: object;
  readonly x: Int32Array;
  readonly ram: Uint8Array;
  readonly ram8: Int8Array;
  readonly ram16: Int16Array;
  readonly ramU16: Uint16Array;
  readonly ram32: Int32Array;
  readonly rtag: Int32Array;
  readonly rtagHi: Int32Array;
  readonly roff: Int32Array;
  readonly wtag: Int32Array;
  readonly wtagHi: Int32Array;
  readonly woff: Int32Array;
  /** The interpreter's operation numbers by name. */
  readonly ops: Readonly<Record<string, number>>;
  /** RAM pages. */
  readonly pages: number;
  /** Decode the instruction at halfword `slot` of RAM page `page` (filling the decode cache); returns word A, 0 if it straddles the page end. */
  decode(page: number, slot: number): number;
  /**
   * Decode the 32-bit instruction straddling the end of RAM page `page` (the
   * fetch page), its upper half where the fetch TLB of mode `mode` maps the
   * next page now; returns word A, 0 if the TLB does not map it.
   */
  decodeStraddler(page: number, mode: number): number;
  /** The upper half (16 bits) of the last decodeStraddler's instruction. */
  straddleUpper(): number;
  /** Word B of the last decode. */
  decodedB(): number;
  /** A load's slow path (the hart's jitLoad, at pc vLo|off, n+k steps into the run); true to end the run. */
  load(
    lo: number,
    hi: number,
    a: number,
    vLo: number,
    off: number,
    vHi: number,
    n: number,
    k: number,
  ): boolean;
  /** A store's slow path (the hart's jitStore); as `load`. */
  store(
    lo: number,
    hi: number,
    a: number,
    vLo: number,
    off: number,
    vHi: number,
    n: number,
    k: number,
  ): boolean;
  /** The hart's jit words (see layout.ts): the LR reservation among them. */
  readonly jitWords: Int32Array;
  /** What the WebAssembly backend needs, when the hart's state is in a WebAssembly arena. */
  readonly wasm?: Pick<
    WasmHost,
    "arena" | "ramOffset" | "tlbEntries" | "directory" | "blockMaps" | "slots" | "load" | "store" | "system"
  > & {
    /** Blocks executed by WebAssembly code so far (counted in the jit words). */
    blocksExecuted(): number;
  };
  /** Whether the instruction at `slot` of `page` has been decoded (has run, or been translated). */
  executed(page: number, slot: number): boolean;
  /**
   * Mark `slot` of `page` in the decode cache: 1 a translated block start
   * (the interpreter hands over there), 2 counted (the interpreter counts
   * its executions: {@link BlockTranslator.count}), 0 neither. A decoded
   * slot only; a block start stays one when asked to be counted.
   */
  mark(page: number, slot: number, kind: number): void;
}

/** One instruction of a block, as decoded (what the WebAssembly backend generates code from). */
export interface BlockInsn {
  /** Decode-cache words. */
  readonly a: number;
  readonly b: number;
  /** Byte offset in the page. */
  readonly off: number;
  /** 2 or 4 bytes. */
  readonly len: number;
  /** Steps of the block up to and including this instruction. */
  readonly k: number;
  /** The rewriter's inline emulation, for a sensitive instruction it rewrote inline. */
  readonly inline?: { readonly code: string; readonly callout?: string };
  /**
   * For a 32-bit instruction straddling the page end (WebAssembly only): its
   * upper half, at the start of the next virtual page when it was
   * translated. The code checks the fetch TLB still maps a page with this
   * half there, and leaves the instruction to the interpreter if not.
   */
  readonly upper?: number;
}

/**
 * How a block ends: "link" goes on at `target` (the next instruction, or the
 * in-page target of its last instruction, a jal), "far" at the last
 * instruction's pc + `imm` (a jal out of the page), "branch" at `target` or
 * pc + `imm` when `far` if its last instruction's condition holds and at
 * `fall` otherwise, "jalr" where its last instruction jumps, "none" never
 * (its last instruction always leaves the block).
 */
export type BlockEnd =
  | { readonly kind: "link"; readonly target: number }
  | { readonly kind: "far"; readonly imm: number }
  | {
      readonly kind: "branch";
      readonly target: number;
      readonly far: boolean;
      readonly imm: number;
      readonly fall: number;
    }
  | { readonly kind: "jalr" }
  | { readonly kind: "none" };

/** A translated basic block (translation-time record). */
export interface Block {
  /** Byte offset in the page. */
  readonly off: number;
  /** Instructions. */
  readonly count: number;
  /** The instructions, decoded. */
  readonly insns: readonly BlockInsn[];
  /** How it ends. */
  readonly end: BlockEnd;
  /** In-page successors (byte offsets) for discovery. */
  readonly succ: readonly number[];
  /** Its JavaScript code, once the JavaScript backend has generated it (see jsCode). */
  js: BlockJs | null;
}

/** A block's code for the JavaScript backend. */
interface BlockJs {
  /** Body without its terminator. */
  readonly body: string;
  /** Registers (bit per register) the body keeps in locals. */
  readonly regs: number;
  /** The terminator, given the region's block numbering. */
  readonly term: (link: (target: number, tail?: boolean) => string) => string;
}

/** Translated code for one physical page and context. */
export class Region {
  /** Block number (1-based) by halfword offset; 0 where no block starts. */
  readonly idx = new Uint16Array(2048);
  /** Entries at untranslated offsets of the page, by halfword offset (kept by the page's first region). */
  readonly misses = new Uint8Array(2048);
  /** Steps interpreted on the page since its last region was built (kept by the first region). */
  sampled = 0;
  /** The blocks, in block-number order (index + 1). */
  blocks: Block[] = [];
  /** Guest instructions translated into this region. */
  instructions = 0;
  /** The compiled function. */
  fn: RegionFunction = noRegion;
  /** WebAssembly: the table slot of each block's function, by block number - 1; null when none. */
  slots: Int32Array | null = null;
  /** WebAssembly: the ids of the inline emulations its blocks call (freed with the region). */
  inlines: number[] = [];
  /** Next region of the same page (another context, or a region of later misses). */
  next: Region | null = null;
  /** Still in the cache. */
  live = true;

  constructor(
    /** RAM page number. */
    readonly page: number,
    /** Translation context. */
    readonly ctx: number,
  ) {}

  /** The blocks are WebAssembly functions (in table slots), run through the dispatcher's loop. */
  get wasm(): boolean {
    return this.slots !== null;
  }
}

function noRegion(): number {
  return 0;
}

/** Ops that end a block and never fall through (a trap, a return, an illegal instruction). */
const NAMES_STOP = ["ILLEGAL", "ECALL", "EBREAK", "MRET", "SRET"] as const;
/** System ops offered to the rewriter. */
const NAMES_SYSTEM = [
  "ECALL",
  "EBREAK",
  "CSRRW",
  "CSRRS",
  "CSRRC",
  "CSRRWI",
  "CSRRSI",
  "CSRRCI",
  "MRET",
  "SRET",
  "WFI",
  "SFENCE_VMA",
  "HYPERVISOR",
] as const;

/** The block translator and its cache. */
export class BlockTranslator {
  /** Dispatcher entries into translated code (counted by the hart). */
  hits = 0;
  /** Steps run by translated code (counted by the hart). */
  steps = 0;
  private misses = 0;
  private blocks = 0;
  private instructions = 0;
  private compiles = 0;
  private invalidations = 0;
  private evictions = 0;
  private flushes = 0;
  /** Blocks executed, counted by translated code. */
  private readonly executed = new Float64Array(1);
  /** Regions by RAM page (a chain per page: contexts and overflow regions). */
  readonly regions: (Region | null)[];
  /** Steps interpreted on the page while it has no translations (hotness), by RAM page. */
  readonly heat: Float64Array;
  /** The heat clock's epoch each page's heat was last brought up to (see {@link WASM_HEAT_EPOCH_STEPS}). */
  private readonly heatEpoch: Float64Array;
  /** Steps interpreted so far (credited), for the heat clock. */
  private credited = 0;
  /** Guest steps over which a page's heat halves (infinite: no decay; see {@link WASM_HEAT_EPOCH_STEPS}). */
  private heatEpochSteps = Number.POSITIVE_INFINITY;
  /** Profiles of the page in a row that found nothing new to translate, by RAM page: the next needs 2^backoff times the samples. */
  private readonly backoff: Uint8Array;
  /** Entries before a page is translated. */
  readonly threshold: number;
  /** Misses at one offset of a translated page before a region is built there. */
  readonly missThreshold: number;
  /** Follow every reachable instruction (true) or only executed ones. */
  readonly staticDiscovery: boolean;
  /** Profile length (0: translate without profiling). */
  readonly profileSteps: number;
  /** Execution counts of the pages being profiled, by halfword slot. */
  private readonly profiles: (Uint32Array | null)[];
  /** WebAssembly: the block map of each RAM page's translations (index in the arena's pool + 1; 0: none). */
  private readonly mapOf: Uint16Array;
  /** Block maps of the pool no page holds. */
  private readonly freeMaps: number[] = [];
  /** Executions counted so far by page being profiled. */
  private readonly profiled: Float64Array;
  /** Most translated instructions kept. */
  readonly capacity: number;
  /** Most translated blocks kept (see {@link TranslationOptions.maxBlocks}). */
  readonly maxBlocks: number;
  /**
   * The strategy's translation context (0-31), part of the cache key with
   * the fetch mode: a VMM that runs its guest kernel and user code in the
   * same real mode sets it to the guest's virtual mode, so each is
   * translated for what it is.
   */
  context = 0;
  /** The strategy's rewriter of sensitive instructions, if any. */
  readonly rewriter: SensitiveRewriter | null;

  private readonly host: TranslatorHost;
  private readonly op: Readonly<Record<string, number>>;
  private readonly stopOps = new Uint8Array(256);
  private readonly systemOps = new Uint8Array(256);
  /** Regions in the order they were compiled (for FIFO eviction). */
  private readonly fifo: Region[] = [];
  private fifoHead = 0;
  private live = 0;
  /** Blocks of the live regions. */
  private liveBlocks = 0;
  /** The factory's parameter names and values (fixed). */
  private readonly names: string[];
  private readonly values: unknown[];
  /** The WebAssembly backend, or null (JavaScript). */
  private wasmBackend: WasmBackend | null = null;
  /** Most instructions in one region, and what a profile finds hot (see {@link MAX_REGION_INSNS}, {@link HOT_MIN}). */
  private regionInsns = MAX_REGION_INSNS;
  private hotMin = HOT_MIN;
  private hotShare = HOT_SHARE;

  constructor(
    host: TranslatorHost,
    options: TranslationOptions = {},
    rewriter: SensitiveRewriter | null = null,
  ) {
    this.host = host;
    this.op = host.ops;
    this.missThreshold = Math.max(1, Math.min(255, options.missThreshold ?? 16));
    this.staticDiscovery = options.discovery === "static";
    this.profileSteps = Math.max(0, options.profileSteps ?? DEFAULT_PROFILE_STEPS);
    this.capacity = Math.max(MAX_REGION_INSNS, options.capacity ?? 1 << 20);
    this.rewriter = rewriter;
    this.regions = new Array(host.pages).fill(null);
    this.mapOf = new Uint16Array(host.wasm === undefined ? 0 : host.pages);
    const maps = host.wasm === undefined ? 0 : host.wasm.blockMaps.length / BLOCK_MAP_ENTRIES;
    for (let m = maps - 1; m >= 0; m--) this.freeMaps.push(m);
    this.profiles = new Array(host.pages).fill(null);
    this.profiled = new Float64Array(host.pages);
    this.heat = new Float64Array(host.pages);
    this.heatEpoch = new Float64Array(host.pages);
    this.backoff = new Uint8Array(host.pages);
    for (const n of NAMES_STOP) this.stopOps[this.op[n]!] = 1;
    for (const n of NAMES_SYSTEM) this.systemOps[this.op[n]!] = 1;
    const env: Record<string, unknown> = {
      H: host.hart,
      x: host.x,
      ram: host.ram,
      ram8: host.ram8,
      ram16: host.ram16,
      ramU16: host.ramU16,
      ram32: host.ram32,
      rtag: host.rtag,
      rtagHi: host.rtagHi,
      roff: host.roff,
      wtag: host.wtag,
      wtagHi: host.wtagHi,
      woff: host.woff,
      JS: this.executed,
      JW: host.jitWords,
      // Slow paths as calls of plain functions with plain arguments. V8 still wants type feedback
      // for a call (measured: an optimized region deoptimizes at a call that never ran), so a
      // region has one load and one store call, shared by all its loads and stores.
      LD: host.load,
      ST: host.store,
      ...RUNTIME_HELPERS,
    };
    if (rewriter) {
      for (const [k, v] of Object.entries(rewriter.env)) {
        if (k in env || !/^[A-Za-z_]\w*$/.test(k)) throw new Error(`translator: bad environment name ${k}`);
        env[k] = v;
      }
    }
    this.names = Object.keys(env);
    this.values = Object.values(env);
    const api = wasmApi();
    if (options.backend !== "js" && host.wasm !== undefined && api !== undefined) {
      try {
        this.wasmBackend = new WasmBackend(api, {
          ...host.wasm,
          ops: host.ops,
          stops: this.stopOps,
          envNames: this.names,
          envValues: this.values,
        });
        this.backend = "wasm";
        this.regionInsns = WASM_REGION_INSNS;
        this.hotMin = WASM_HOT_MIN;
        this.hotShare = WASM_HOT_SHARE;
      } catch (e) {
        // As in compile: a runtime that refuses to compile modules here gets JavaScript.
        const name = (e as { name?: unknown }).name;
        if (name === "CompileError" || name === "LinkError") throw e;
      }
    }
    const threshold = this.backend === "wasm" ? WASM_HOT_THRESHOLD : DEFAULT_HOT_THRESHOLD;
    const halfLife = options.heatHalfLife ?? (this.backend === "wasm" ? WASM_HEAT_EPOCH_STEPS : 0);
    this.heatEpochSteps = halfLife > 0 ? halfLife : Number.POSITIVE_INFINITY;
    this.threshold = Math.max(0, Math.min(0xffff, options.threshold ?? threshold));
    // A table slot per block (slot 0 is never used); a full table would leave regions to JavaScript.
    const slots = this.backend === "wasm" ? host.wasm!.slots - 1 : Number.POSITIVE_INFINITY;
    this.maxBlocks = Math.max(WASM_REGION_INSNS, Math.min(slots, options.maxBlocks ?? slots));
  }

  /** The code generator in use. */
  backend: TranslationBackend = "js";

  /** The counters. */
  get stats(): TranslationStats {
    const executed = this.executed[0]! + (this.host.wasm?.blocksExecuted() ?? 0);
    return {
      blocks: this.blocks,
      instructions: this.instructions,
      compiles: this.compiles,
      hits: this.hits,
      misses: this.misses,
      blocksExecuted: executed,
      steps: this.steps,
      chained: Math.max(0, executed - this.hits),
      invalidations: this.invalidations,
      evictions: this.evictions,
      flushes: this.flushes,
    };
  }

  /** Whether RAM page `page` has translations (in any context). */
  translated(page: number): boolean {
    return this.regions[page] !== null;
  }

  /** Whether RAM page `page` is being profiled (its executions counted by the interpreter). */
  profiling(page: number): boolean {
    return this.profiles[page] !== null;
  }

  /** Whether `op` is a system operation the rewriter is offered (internal). */
  isSystemOp(op: number): boolean {
    return this.systemOps[op] === 1;
  }

  /** The region of `page` for context `ctx` holding a block at `off`, else null (the dispatcher's lookup). */
  lookup(page: number, ctx: number, off: number): Region | null {
    let r = this.regions[page];
    while (r !== null) {
      if (r.ctx === ctx && r.idx[off >>> 1] !== 0) return r;
      r = r.next;
    }
    return null;
  }

  /**
   * The dispatcher found no block at (page, off) in context ctx. `sample`
   * when the interpreter stopped there only because its stretch ended, else
   * an entry (from another page, or a return from translated code). A page
   * whose interpreted steps ({@link credit}) reach the threshold is hot and
   * gets its first region; on a translated page, steps interpreted in its
   * untranslated code, or entries at one offset, build more regions. Returns
   * the region with a block at `off` if there is one now, else null (one
   * call for the dispatcher: a lookup after it, reached only when a build
   * happened to start a block at `off`, deoptimized the dispatcher the first
   * time Debian's boot took it).
   */
  observe(page: number, ctx: number, off: number, sample: boolean): Region | null {
    this.misses++;
    const counts = this.profiles[page];
    if (counts !== null) {
      // Being profiled: translate once the interpreter has counted enough, or, on a page with
      // translations of this context, once the instruction entered here has run often enough.
      if (this.profiled[page]! < this.profileSteps) {
        if (sample || counts[off >>> 1]! < REPROFILE_ENTRIES) return null;
        let translated = false;
        for (let r = this.regions[page]; r !== null && !translated; r = r.next)
          translated = r.ctx === ctx && r.live;
        if (!translated) return null;
      }
      this.buildFromProfile(page, ctx);
      return this.lookup(page, ctx, off);
    }
    let head: Region | null = null;
    let count = 0;
    for (let r = this.regions[page]; r !== null; r = r.next) {
      if (r.ctx !== ctx) continue;
      head ??= r;
      count++;
    }
    const backoff = 2 ** this.backoff[page]!;
    if (head === null) {
      if (this.threshold > 0 && this.decayed(page) < this.threshold * SAMPLE_STEPS * backoff) return null;
    } else {
      if (count >= MAX_REGIONS_PER_PAGE) return null;
      if (head.sampled >= MISS_SAMPLES * SAMPLE_STEPS * backoff) head.sampled = 0;
      else {
        if (sample) return null;
        const slot = off >>> 1;
        const m = head.misses[slot]! + 1;
        if (m < this.missThreshold) {
          head.misses[slot] = m;
          return null;
        }
        head.misses[slot] = 0;
      }
    }
    if (this.profileSteps > 0) {
      this.startProfile(page);
      return null;
    }
    // No profile: translate from here at once.
    const r = this.newRegion(page, ctx, head);
    const all = this.staticDiscovery;
    const host = this.host;
    this.build(r, [off], all ? null : (o) => host.executed(page, o >>> 1));
    return r.idx[off >>> 1] !== 0 ? r : null;
  }

  /** A new, empty region of (page, ctx) in the cache, after `head` (the page's first region of ctx) if any. */
  private newRegion(page: number, ctx: number, head: Region | null): Region {
    const r = new Region(page, ctx);
    // A page's first region heads its chain (it keeps the miss counts); later ones follow it.
    if (head === null) {
      r.next = this.regions[page];
      this.regions[page] = r;
    } else {
      r.next = head.next;
      head.next = r;
    }
    this.fifo.push(r);
    return r;
  }

  /**
   * Internal (the dispatcher): the interpreter ran `steps` steps from RAM
   * page `page` (a stretch that started there; it may have gone on to other
   * pages). Hotness is interpreted steps, so code entered often but briefly
   * (between translated blocks) gets hot as surely as long-running code.
   */
  credit(page: number, steps: number): void {
    this.credited += steps;
    this.heat[page] = this.decayed(page) + steps;
    const r = this.regions[page]!;
    if (r !== null) r.sampled += steps;
  }

  /**
   * Page `page`'s heat, halved for each heat epoch since it was last
   * credited (and brought up to now). One path whatever the age: the
   * interpreter inlines this, and V8 deoptimized it (and the dispatcher) at
   * the first epoch's end when a branch for aged heat first ran there.
   */
  private decayed(page: number): number {
    const epoch = Math.floor((this.steps + this.credited) / this.heatEpochSteps);
    const h = this.heat[page]! * HALVINGS[Math.min(Math.max(epoch - this.heatEpoch[page]!, 0), 32)]!;
    this.heatEpoch[page] = epoch;
    this.heat[page] = h;
    return h;
  }

  /** Start counting the executions of every instruction of RAM page `page` that has run (and is not translated). */
  private startProfile(page: number): void {
    const counts = new Uint32Array(2048);
    this.profiles[page] = counts;
    this.profiled[page] = 0;
    const host = this.host;
    for (let slot = 0; slot < 2048; slot++) if (host.executed(page, slot)) host.mark(page, slot, 2);
  }

  /** Stop profiling RAM page `page` (unmark its counted slots); returns the counts. */
  private stopProfile(page: number): Uint32Array {
    const counts = this.profiles[page]!;
    this.profiles[page] = null;
    const host = this.host;
    for (let slot = 0; slot < 2048; slot++) if (host.executed(page, slot)) host.mark(page, slot, 0);
    // Block starts of live regions stay marked.
    for (let r = this.regions[page]; r !== null; r = r.next) {
      if (r.live) for (const b of r.blocks) host.mark(page, b.off >>> 1, 1);
    }
    return counts;
  }

  /**
   * Internal (the interpreter): one execution of the counted instruction at
   * `slot` of RAM page `page`. True when the page's profile is complete: the
   * interpreter then hands back to the dispatcher, which translates it.
   */
  count(page: number, slot: number): boolean {
    const p = this.profiles[page]!;
    if (p === null) return false;
    p[slot]!++;
    return ++this.profiled[page]! >= this.profileSteps;
  }

  /** Translate the hot blocks of a profiled page into a region for context `ctx`. */
  private buildFromProfile(page: number, ctx: number): void {
    const counts = this.stopProfile(page);
    let max = 0;
    for (let slot = 0; slot < 2048; slot++) if (counts[slot]! > max) max = counts[slot]!;
    const min = Math.max(this.hotMin, max / this.hotShare);
    // Roots: hot instructions that do not start a block already, hottest first.
    const roots: number[] = [];
    for (let slot = 0; slot < 2048; slot++) {
      if (counts[slot]! >= min && this.lookup(page, ctx, slot << 1) === null) roots.push(slot);
    }
    if (roots.length === 0) {
      // Nothing new is hot enough: profile this page again only after twice as many samples as before.
      this.backoff[page] = Math.min(MAX_BACKOFF, this.backoff[page]! + 1);
      this.heat[page] = 0;
      return;
    }
    roots.sort((a, b) => counts[b]! - counts[a]!);
    const include = (o: number): boolean => counts[o >>> 1]! >= min;
    this.backoff[page] = 0;
    let count = 0;
    for (let r = this.regions[page]; r !== null; r = r.next) if (r.ctx === ctx) count++;
    // As many regions as the hot code needs (a page of unrolled code is more than one region).
    const covered = new Uint8Array(2048);
    let rest = roots;
    while (rest.length > 0 && count < MAX_REGIONS_PER_PAGE) {
      // After the page's first region of ctx as it is now: building the one before may have
      // evicted the old first (the oldest), and one linked after it no lookup would reach.
      let head = this.regions[page];
      while (head !== null && head.ctx !== ctx) head = head.next;
      const r = this.newRegion(page, ctx, head);
      this.build(
        r,
        rest.map((slot) => slot << 1),
        include,
        covered,
      );
      count++;
      if (!r.live) break;
      rest = rest.filter((slot) => covered[slot] === 0);
    }
  }

  /** Take region `r` out of its page's chain. */
  private unlink(r: Region): void {
    let p = this.regions[r.page] ?? null;
    if (p === r) this.regions[r.page] = r.next;
    else {
      while (p !== null && p.next !== r) p = p.next;
      if (p !== null) p.next = r.next;
    }
  }

  /** Drop the translations of RAM page `page` (its bytes changed). */
  invalidatePage(page: number): void {
    let r = this.regions[page];
    // A page being profiled loses its counting marks with its decode cache: its profile goes too.
    this.profiles[page] = null;
    this.heat[page] = 0;
    this.backoff[page] = 0;
    if (r === null) return;
    this.invalidations++;
    while (r !== null) {
      this.retire(r);
      r = r.next;
    }
    this.regions[page] = null;
    this.syncDirectory(page);
  }

  /**
   * WebAssembly: bring RAM page `page`'s directory entry and block map up to
   * date with its live regions: the context of its first live region, and
   * for each offset of the page the table slot of the first region of that
   * context with a block there (the one {@link lookup} finds), so translated
   * code chains to any of the page's blocks directly. A page gets a map from
   * the pool while it has live regions; with the pool empty it has none, and
   * transfers to it go through the hart's dispatcher.
   */
  private syncDirectory(page: number): void {
    const wasm = this.host.wasm;
    if (wasm === undefined) return;
    const dir = wasm.directory;
    let head: Region | null = null;
    for (let r = this.regions[page] ?? null; r !== null && head === null; r = r.next) {
      if (r.live && r.slots !== null) head = r;
    }
    let m = this.mapOf[page]! - 1;
    if (head === null || (m < 0 && this.freeMaps.length === 0)) {
      if (m >= 0) this.freeMaps.push(m);
      this.mapOf[page] = 0;
      dir[2 * page] = 0;
      dir[2 * page + 1] = 0;
      return;
    }
    if (m < 0) {
      m = this.freeMaps.pop()!;
      this.mapOf[page] = m + 1;
    }
    const maps = wasm.blockMaps;
    const base = m * BLOCK_MAP_ENTRIES;
    maps.fill(0, base, base + BLOCK_MAP_ENTRIES);
    for (let r: Region | null = head; r !== null; r = r.next) {
      if (!r.live || r.slots === null || r.ctx !== head.ctx) continue;
      const slots = r.slots;
      for (let i = 0; i < slots.length; i++) {
        const at = base + (r.blocks[i]!.off >>> 1);
        if (maps[at] === 0) maps[at] = slots[i]!;
      }
    }
    dir[2 * page] = head.ctx + 1;
    dir[2 * page + 1] = maps.byteOffset + m * BLOCK_MAP_BYTES;
  }

  /**
   * Internal (the hart's dispatcher): run WebAssembly region `r` from `off`
   * with `budget` steps, chaining on to other regions; returns the steps.
   */
  runWasm(r: Region, off: number, budget: number, vLo: number, vHi: number, dBase: number): number {
    const slot = r.slots![r.idx[off >>> 1]! - 1]!;
    return this.wasmBackend!.dispatch(slot, budget, vLo, vHi, dBase, r.ctx + 1);
  }

  /** Drop every translation (a new rewriter state, a snapshot restore). */
  flush(): void {
    this.flushes++;
    for (let p = 0; p < this.regions.length; p++) {
      if (this.profiles[p] !== null) this.stopProfile(p);
      for (let r = this.regions[p]; r !== null; r = r.next) {
        if (r.live) for (const b of r.blocks) this.host.mark(p, b.off >>> 1, 0);
        this.retire(r);
      }
      this.regions[p] = null;
    }
    this.fifo.length = 0;
    this.fifoHead = 0;
    this.heat.fill(0);
    const wasm = this.host.wasm;
    if (wasm !== undefined) {
      wasm.directory.fill(0);
      for (let p = 0; p < this.mapOf.length; p++) {
        if (this.mapOf[p] !== 0) this.freeMaps.push(this.mapOf[p]! - 1);
      }
      this.mapOf.fill(0);
    }
  }

  /** Translated guest instructions now in the cache. */
  get size(): number {
    return this.live;
  }

  private retire(r: Region): void {
    if (!r.live) return;
    r.live = false;
    this.wasmBackend?.release(r);
    this.live -= r.instructions;
    this.liveBlocks -= r.blocks.length;
  }

  /** Unmark the block starts of region `r` that no other live region of its page still has. */
  private unmark(r: Region): void {
    for (const b of r.blocks) {
      const slot = b.off >>> 1;
      let kept = false;
      for (let q = this.regions[r.page]; q !== null && !kept; q = q.next) {
        kept = q !== r && q.live && q.idx[slot] !== 0;
      }
      if (!kept) this.host.mark(r.page, slot, 0);
    }
  }

  // ---------------------------------------------------------------------------
  // Building regions.

  /**
   * Translate into region `r` (already in the cache) the blocks at `roots`
   * and those reachable from them inside the page whose instructions pass
   * `include` (null: everything; a root always passes), compile it and mark
   * its block starts. A block ends before an instruction that does not pass.
   */
  private build(
    r: Region,
    roots: readonly number[],
    include: ((off: number) => boolean) | null,
    /** Instructions already in a block of this region or of the others built with it (a later root inside one is not a new block). */
    covered = new Uint8Array(2048),
  ): void {
    const byOff = new Map<number, Block>();
    const work = [...roots].reverse();
    const rootSet = new Set(roots);
    let budget = this.regionInsns;
    const host = this.host;
    const pass = include ?? (() => true);
    while (work.length > 0 && budget > 0) {
      const off = work.pop()!;
      if (off < 0 || off >= 4096 || byOff.has(off)) continue;
      if (rootSet.has(off) ? covered[off >>> 1] !== 0 : !pass(off) && !this.straddler(r.page, off)) continue;
      const b = this.translateBlock(r.page, r.ctx, off, byOff, Math.min(MAX_BLOCK, budget), pass);
      if (b === null) continue;
      byOff.set(off, b);
      r.blocks.push(b);
      r.idx[off >>> 1] = r.blocks.length;
      for (let o = off, i = 0; i < b.count && o < 4096; i++) {
        covered[o >>> 1] = 1;
        o += host.decode(r.page, o >>> 1) & (1 << 24) ? 2 : 4;
      }
      budget -= b.count;
      r.instructions += b.count;
      this.live += b.count;
      this.liveBlocks++;
      this.blocks++;
      this.instructions += b.count;
      for (const s of b.succ) if (!byOff.has(s)) work.push(s);
    }
    if (r.blocks.length > 0) {
      // Room first: the WebAssembly backend needs a free table slot for each of its blocks.
      this.evict();
      this.compile(r);
      for (const b of r.blocks) host.mark(r.page, b.off >>> 1, 1);
      this.syncDirectory(r.page);
    } else {
      // Nothing to translate from there (an instruction across the page end): drop it.
      r.live = false;
      this.unlink(r);
      this.syncDirectory(r.page);
    }
  }

  /** Evict the oldest regions while over capacity or {@link maxBlocks} (never the newest). */
  private evict(): void {
    while (
      (this.live > this.capacity || this.liveBlocks > this.maxBlocks) &&
      this.fifoHead < this.fifo.length - 1
    ) {
      const r = this.fifo[this.fifoHead++]!;
      if (!r.live) continue;
      this.retire(r);
      this.unmark(r);
      this.evictions++;
      this.unlink(r);
      this.syncDirectory(r.page);
    }
    if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo.splice(0, this.fifoHead);
      this.fifoHead = 0;
    }
  }

  /** Compile the region's function from its blocks. */
  private compile(r: Region): void {
    this.compiles++;
    if (this.wasmBackend !== null) {
      try {
        // (A full table leaves this region to JavaScript.)
        if (this.wasmBackend.compile(r)) return;
      } catch (e) {
        // A module that does not validate is a bug here; a runtime that refuses to compile
        // synchronously (a browser's main thread, for large modules) gets JavaScript from now on.
        const name = (e as { name?: unknown }).name;
        if (name === "CompileError" || name === "LinkError") throw e;
        this.wasmBackend = null;
        this.backend = "js";
        this.regionInsns = MAX_REGION_INSNS;
        this.hotMin = HOT_MIN;
        this.hotShare = HOT_SHARE;
      }
    }
    this.compileJs(r);
  }

  /** Generate the region's function as JavaScript. */
  private compileJs(r: Region): void {
    const blocks = r.blocks;
    // Emit in address order so a block falling through to the next one needs no jump.
    const order = blocks.map((_, i) => i).sort((a, b) => blocks[a]!.off - blocks[b]!.off);
    const parts: string[] = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const b = blocks[i]!;
      const js = this.jsCode(b);
      const nextNo = k + 1 < order.length ? order[k + 1]! + 1 : -1;
      const link = (target: number, tail = true): string => {
        if (target >= 4096) return "off=0;d=4096;k=0;e=2;break out;";
        const no = r.idx[target >>> 1]!;
        if (no === 0) return `off=${target};k=0;e=1;break out;`;
        if (tail && no === nextNo) return "/* falls through */";
        return `b=${no};continue;`;
      };
      parts.push(
        `case ${i + 1}:if(n>lim-${b.count}){off=${b.off};k=0;e=1;break out;}nb++;${js.body}n+=${b.count};${js.term(link)}`,
      );
    }
    // Only the environment names the blocks use (and those of the prologue, epilogue and shared slow path).
    // Resume points after loads and stores (see InsnGen.load): numbered after the blocks.
    let resumes = 0;
    const body = parts.join("\n").replace(/@R@/g, () => String(blocks.length + 1 + (resumes++ >> 1)));
    let regs = 0;
    for (const b of blocks) regs |= this.jsCode(b).regs;
    const locals: string[] = [];
    for (let q = 1; q < 32; q++) if (regs & (1 << q)) locals.push(`r${q}l=0`, `r${q}h=0`);
    const used = this.names.filter((nm) => ALWAYS_USED.has(nm) || new RegExp(`\\b${nm}\\b`).test(body));
    // Exits only assign constants (off, d, k, e) and the epilogue computes the pc: V8 deoptimizes
    // optimized code at the first operation that never ran before, and exits are rare paths.
    // e: 0 pc in pl/ph, 1 vLo|off, 2 (vLo|off)+d (64-bit), 3 pc already in the hart; k: steps to add.
    // W forces the TLB slow paths on every other call of the first WARM_CALLS, so both paths have
    // run (and V8 has type feedback for them) before the region is optimized.
    const src =
      `"use strict";var W=2,C=0;return function region_${r.page.toString(16)}_${r.ctx}_${r.instructions}(o,lim,vLo,vHi){` +
      // The environment in locals: bytecode then names registers, not context slots (measured:
      // ~40% less bytecode per guest instruction; V8's tiering and compile time grow with it).
      `const ${used.map((nm) => `${nm}=$${nm}`).join(",")},IDX=$IDX;` +
      (locals.length > 0 ? `let ${locals.join(",")};` : "") +
      "let n=0,nb=0,pl=0,ph=vHi,off=o,b=IDX[o>>>1],k=0,e=1,d=0,SL=0,SLo=0,SHi=0,SA=0,SO=0,SK=0,RP=0;const dB=H.dBase;" +
      `out:for(;;){sw:switch(b){${body}\ndefault:k=0;e=1;break out;}` +
      // The slow path of every load and store of the region, one call site each (see InsnGen.load).
      "if(SL===1){if(LD(SLo,SHi,SA,vLo,SO,vHi,n,SK)){k=SK;e=3;break out;}}" +
      "else if(ST(SLo,SHi,SA,vLo,SO,vHi,n,SK)){k=SK;e=3;break out;}b=RP;}" +
      // Every operation runs on every exit; the branches only pick values.
      "n+=k;const p=vLo|off,l=(p+d)|0,lh=(vHi+(d>>31)+((l>>>0)<(p>>>0)?1:0))|0,hl=H.pcLo,hh=H.pcHi;" +
      "const e1=e===1,e2=e===2,e3=e===3;if(e1)pl=p;else if(e2){pl=l;ph=lh;}else if(e3){pl=hl;ph=hh;}" +
      `if(C<${WARM_CALLS})W=(++C&1)<<1;else W=0;H.pcLo=pl;H.pcHi=ph;JS[0]+=nb;return n;}`;
    const factory = new Function(...this.names.map((nm) => `$${nm}`), "$IDX", src) as (
      ...args: unknown[]
    ) => RegionFunction;
    r.fn = factory(...this.values, r.idx);
  }

  /**
   * Translate the basic block at byte offset `off` of RAM page `page` for
   * context `ctx`: its instructions, how it ends and its in-page successors
   * (the JavaScript backend generates its code from these, see
   * {@link jsCode}). Stops before `stopAt` blocks' starts (known blocks) so
   * code is not duplicated. Null when the first instruction cannot be
   * translated here (it straddles the page end).
   */
  private translateBlock(
    page: number,
    ctx: number,
    off: number,
    known: { has(off: number): boolean },
    max: number,
    pass: (off: number) => boolean,
  ): Block | null {
    const host = this.host;
    const O = this.op;
    const succ: number[] = [];
    const insns: BlockInsn[] = [];
    const block = (end: BlockEnd): Block => ({ off, count: insns.length, insns, end, succ, js: null });
    let o = off;
    for (;;) {
      const k = insns.length;
      if (k > 0 && (k >= max || known.has(o) || o >= 4096 || (!pass(o) && !this.straddler(page, o)))) {
        if (o < 4096) succ.push(o);
        return block({ kind: "link", target: o });
      }
      let a = host.decode(page, o >>> 1);
      let upper: number | undefined;
      if (a === 0) {
        // Straddles the page end. WebAssembly translates it against the upper half the next page
        // holds now, checked where it runs; else (the JavaScript backend, the next page not in the
        // fetch TLB, or system code) the interpreter runs it.
        if (this.backend === "wasm") a = host.decodeStraddler(page, ctx & 7);
        if (a === 0 || this.systemOps[a & 0xff] === 1 || this.stopOps[a & 0xff] === 1)
          return k === 0 ? null : block({ kind: "link", target: o });
        upper = host.straddleUpper();
      }
      const b = host.decodedB();
      const len = a & (1 << 24) ? 2 : 4;
      const op = a & 0xff;
      const rd = (a >>> 8) & 63;
      // Sensitive instructions: the strategy's rewrite first.
      if (this.rewriter !== null && this.systemOps[op] === 1) {
        const rw = this.rewriter.rewrite(ctx, this.rawBits(page, o, len), len);
        if (rw !== undefined) {
          if (rw.kind === "callout") {
            // The block ends with it, run out of line: the hart hands it to the strategy and
            // the run stops there (see Rewrite). The link after it only serves a context where
            // the strategy no longer claims it; the VMM resumes after it: a likely block start.
            insns.push({ a, b, off: o, len, k: k + 1 });
            if (o + len < 4096) succ.push(o + len);
            return block({ kind: "link", target: o + len });
          }
          insns.push({
            a,
            b,
            off: o,
            len,
            k: k + 1,
            inline: rw.callout === undefined ? { code: rw.code } : { code: rw.code, callout: rw.callout },
          });
          o += len;
          continue;
        }
      }
      insns.push(
        upper === undefined ? { a, b, off: o, len, k: k + 1 } : { a, b, off: o, len, k: k + 1, upper },
      );
      switch (op) {
        case O.JAL: {
          const t = o + b;
          const inPage = t >= 0 && t < 4096;
          if (inPage) succ.push(t);
          if (rd !== 32 && o + len < 4096) succ.push(o + len); // the return address of a call
          return block(inPage ? { kind: "link", target: t } : { kind: "far", imm: b });
        }
        case O.JALR:
          if (rd !== 32 && o + len < 4096) succ.push(o + len);
          return block({ kind: "jalr" });
        case O.BEQ:
        case O.BNE:
        case O.BLT:
        case O.BGE:
        case O.BLTU:
        case O.BGEU: {
          const t = o + b;
          const f = o + len;
          const far = !(t >= 0 && t < 4096);
          if (!far) succ.push(t);
          if (f < 4096) succ.push(f);
          return block({ kind: "branch", target: t, far, imm: b, fall: f });
        }
        default:
          // One that always traps or changes mode ends the block.
          if (this.stopOps[op] === 1) return block({ kind: "none" });
      }
      o += len;
    }
  }

  /**
   * Whether offset `off` of RAM page `page` holds a 32-bit instruction
   * straddling the page end. Such an instruction is never in the decode
   * cache, so never counted as executed nor hot: a block takes it with the
   * code that runs on into it, and a block may start there where other code
   * goes to it (a call's return address).
   */
  private straddler(page: number, off: number): boolean {
    return off === 4094 && this.backend === "wasm" && (this.host.ramU16[(page << 11) + 2047]! & 3) === 3;
  }

  /** The JavaScript backend's code of block `b` (see compileJs), generated from its instructions once. */
  private jsCode(b: Block): BlockJs {
    if (b.js !== null) return b.js;
    const O = this.op;
    const out: string[] = [];
    const regs = new RegCache();
    const e = b.end;
    let term: BlockJs["term"] = () => "";
    if (e.kind === "link") {
      const t = e.target;
      term = (link) => link(t);
    }
    for (const i of b.insns) {
      const { a, off: o, k } = i;
      const g = new InsnGen(a, i.b, o, i.len, k - 1, regs);
      if (i.inline !== undefined) {
        // The VMM emulates it with pc on it and the steps so far counted; it retires it (or traps).
        const rw = i.inline;
        const callout = (code: string): string =>
          `{H.pcLo=vLo|${o};H.pcHi=vHi;H.stepsInRun=n+${k};H.retiredInRun=n+${k - 1};${code};` +
          `H.jitShort=1;H.resync=true;k=${k};e=3;break out;}`;
        const code = rw.callout === undefined ? rw.code : rw.code.split("$CALLOUT").join(callout(rw.callout));
        // Inline code works on the register file: the locals are read again after it.
        g.markOpaque();
        out.push(g.finish(`{${code}}if(H.resync){${g.nextPc(k)}}`));
        continue;
      }
      const op = a & 0xff;
      switch (op) {
        case O.JAL:
          out.push(g.finish(g.link()));
          if (e.kind === "far") {
            const far = g.farTarget(i.b);
            term = () => far;
          }
          break;
        case O.JALR: {
          const code = g.jalr();
          out.push(g.finish(""));
          term = () => code;
          break;
        }
        case O.BEQ:
        case O.BNE:
        case O.BLT:
        case O.BGE:
        case O.BLTU:
        case O.BGEU: {
          const cond = g.branchCond(op, O);
          out.push(g.finish(""));
          if (e.kind !== "branch") break;
          const far = e.far ? g.farTarget(i.b) : "";
          const t = e.target;
          const f = e.fall;
          term = (link) => `if(${cond}){${far || link(t, false)}}${link(f)}`;
          break;
        }
        default:
          out.push(g.finish(this.emitStraight(g, op, O)));
      }
    }
    b.js = { body: out.join(""), regs: regs.used, term };
    return b.js;
  }

  /** The raw 32-bit instruction at `off` of RAM page `page` (a compressed one as its 16 bits). */
  private rawBits(page: number, off: number, len: number): number {
    const u16 = this.host.ramU16;
    const i = (page << 11) + (off >>> 1);
    return len === 2 ? u16[i]! : u16[i]! | (u16[i + 1]! << 16);
  }

  /** Code for an instruction that does not transfer control. */
  private emitStraight(g: InsnGen, op: number, O: Readonly<Record<string, number>>): string {
    switch (op) {
      case O.LUI:
        return g.wr(`${g.b}`, `${g.b >> 31}`);
      case O.AUIPC:
        return g.auipc();
      case O.ADDI:
        return g.addi();
      case O.SLTI:
        return g.wr(
          `((${g.h1}<${g.b >> 31})||(${g.h1}===${g.b >> 31}&&(${g.l1}>>>0)<${g.b >>> 0}))?1:0`,
          "0",
        );
      case O.SLTIU:
        return g.wr(
          `(((${g.h1}>>>0)<${(g.b >> 31) >>> 0})||(${g.h1}===${g.b >> 31}&&(${g.l1}>>>0)<${g.b >>> 0}))?1:0`,
          "0",
        );
      case O.XORI:
        return g.wr(`${g.l1}^${g.b}`, `${g.h1}^${g.b >> 31}`);
      case O.ORI:
        return g.wr(`${g.l1}|${g.b}`, `${g.h1}|${g.b >> 31}`);
      case O.ANDI:
        return g.wr(`${g.l1}&${g.b}`, `${g.h1}&${g.b >> 31}`);
      case O.SLLI:
        return g.shiftImm(0);
      case O.SRLI:
        return g.shiftImm(1);
      case O.SRAI:
        return g.shiftImm(2);
      case O.ADD:
        return g.add();
      case O.SUB:
        return g.sub();
      case O.SLL:
        return g.call("SLL", `${g.l2}&63`);
      case O.SRL:
        return g.call("SRL", `${g.l2}&63`);
      case O.SRA:
        return g.call("SRA", `${g.l2}&63`);
      case O.SLT:
        return g.wr(`((${g.h1}<${g.h2})||(${g.h1}===${g.h2}&&(${g.l1}>>>0)<(${g.l2}>>>0)))?1:0`, "0");
      case O.SLTU:
        return g.wr(
          `(((${g.h1}>>>0)<(${g.h2}>>>0))||(${g.h1}===${g.h2}&&(${g.l1}>>>0)<(${g.l2}>>>0)))?1:0`,
          "0",
        );
      case O.XOR:
        return g.wr(`${g.l1}^${g.l2}`, `${g.h1}^${g.h2}`);
      case O.OR:
        return g.wr(`${g.l1}|${g.l2}`, `${g.h1}|${g.h2}`);
      case O.AND:
        return g.wr(`${g.l1}&${g.l2}`, `${g.h1}&${g.h2}`);
      case O.ADDIW:
        return g.word(`(${g.l1}+${g.b})|0`);
      case O.SLLIW:
        return g.word(`${g.l1}<<${g.b}`);
      case O.SRLIW:
        return g.word(`(${g.l1}>>>${g.b})|0`);
      case O.SRAIW:
        return g.word(`${g.l1}>>${g.b}`);
      case O.ADDW:
        return g.word(`(${g.l1}+${g.l2})|0`);
      case O.SUBW:
        return g.word(`(${g.l1}-${g.l2})|0`);
      case O.SLLW:
        return g.word(`${g.l1}<<(${g.l2}&31)`);
      case O.SRLW:
        return g.word(`(${g.l1}>>>(${g.l2}&31))|0`);
      case O.SRAW:
        return g.word(`${g.l1}>>(${g.l2}&31)`);
      case O.MUL:
        return g.call2("MUL");
      case O.MULH:
        return g.call2("MULH");
      case O.MULHSU:
        return g.call2("MULHSU");
      case O.MULHU:
        return g.call2("MULHU");
      case O.DIV:
        return g.call2("DIV");
      case O.DIVU:
        return g.call2("DIVU");
      case O.REM:
        return g.call2("REM");
      case O.REMU:
        return g.call2("REMU");
      case O.MULW:
        return g.word(`Math.imul(${g.l1},${g.l2})`);
      case O.DIVW:
        return g.word(
          `(${g.l2})===0?-1:((${g.l1})===-2147483648&&(${g.l2})===-1)?-2147483648:((${g.l1})/(${g.l2}))|0`,
        );
      case O.DIVUW:
        return g.word(`(${g.l2})===0?-1:((${g.l1}>>>0)/(${g.l2}>>>0))|0`);
      case O.REMW:
        return g.word(
          `(${g.l2})===0?(${g.l1}):((${g.l1})===-2147483648&&(${g.l2})===-1)?0:((${g.l1})%(${g.l2}))|0`,
        );
      case O.REMUW:
        return g.word(`(${g.l2})===0?(${g.l1}):((${g.l1}>>>0)%(${g.l2}>>>0))|0`);
      case O.LB:
      case O.LBU:
      case O.LH:
      case O.LHU:
      case O.LW:
      case O.LWU:
      case O.LD:
        return g.load(op, O);
      case O.SB:
      case O.SH:
      case O.SW:
      case O.SD:
        return g.store(op, O);
      case O.FENCE:
      case O.FENCE_I:
        // The hart keeps decode caches and translations coherent with every store.
        return "";
      default:
        // Everything else (system, CSR, atomics, floating point): the hart's own code, out of line.
        return g.system(this.stopOps[op] === 1);
    }
  }
}

/**
 * The guest registers one block reads, held in JavaScript locals (`r5l`,
 * `r5h` for x5): a register is read from the register file once, before its
 * first use in the block, and every write goes to its local and, written
 * through, to the register file, so the file is always current (slow paths,
 * exits and out-of-line instructions need no write-back). After anything
 * that may write the register file itself (a slow-path load's rd, a helper,
 * an out-of-line instruction, a rewriter's inline code) the locals it may
 * have changed are read again.
 */
class RegCache {
  /** Registers (bit per register, x1-x31) whose locals hold their current value. */
  loaded = 0;
  /** Every register a local was used for in this block (declarations). */
  used = 0;

  /** Statements loading the registers of `mask` into their locals. */
  load(mask: number): string {
    let code = "";
    for (let r = 1; r < 32; r++) {
      if (mask & (1 << r)) code += `r${r}l=x[${2 * r}];r${r}h=x[${2 * r + 1}];`;
    }
    this.loaded |= mask;
    this.used |= mask;
    return code;
  }
}

/** The local names of register `r` (1-31). */
function lo(r: number): string {
  return `r${r}l`;
}
function hi(r: number): string {
  return `r${r}h`;
}

/** Code generation for one instruction. */
class InsnGen {
  /** rd index in x (the low word); 64 is the sink for x0. */
  readonly rd: number;
  /** Steps of the block up to and including this instruction. */
  readonly k1: number;
  readonly r1: number;
  readonly r2: number;
  /** Registers this instruction reads that must be loaded before it. */
  private need = 0;
  /** rd was written, into its local too (it is loaded after the instruction). */
  private defined = false;
  /** rd was written into the register file directly (its local is stale after the instruction). */
  private clobbered = false;
  /** The instruction may write any register itself (every local is stale after it). */
  private opaque = false;

  constructor(
    readonly a: number,
    readonly b: number,
    /** Byte offset in the page. */
    readonly off: number,
    readonly len: number,
    /** Index of the instruction in its block. */
    index: number,
    private readonly regs: RegCache,
  ) {
    this.k1 = index + 1;
    this.rd = (a >>> 8) & 63;
    this.r1 = (a >>> 14) & 31;
    this.r2 = (a >>> 19) & 31;
  }

  /** The local holding register `r`'s low (`l`) or high (`h`) word, loaded before the instruction; literal 0 for x0. */
  private src(r: number, word: "l" | "h"): string {
    if (r === 0) return "0";
    if ((this.regs.loaded & (1 << r)) === 0) this.need |= 1 << r;
    return `r${r}${word}`;
  }

  /** Expressions for the source registers' words. */
  get l1(): string {
    return this.src(this.r1, "l");
  }
  get h1(): string {
    return this.src(this.r1, "h");
  }
  get l2(): string {
    return this.src(this.r2, "l");
  }
  get h2(): string {
    return this.src(this.r2, "h");
  }

  /**
   * The instruction's code `code` (generated by this object's methods)
   * with the loads it needs before it; updates the cache for what follows.
   */
  finish(code: string): string {
    const regs = this.regs;
    const out = regs.load(this.need) + code;
    if (this.opaque) regs.loaded = 0;
    else if (this.rd !== 32) {
      const bit = 1 << this.rd;
      if (this.defined) {
        regs.loaded |= bit;
        regs.used |= bit;
      } else if (this.clobbered) regs.loaded &= ~bit;
    }
    return out;
  }

  /** Mark the instruction as reading or writing any register (system, inline emulation). */
  markOpaque(): void {
    this.opaque = true;
  }

  private get steps(): string {
    return `n+${this.k1}`;
  }

  /** This instruction's pc (low word). */
  private get pc(): string {
    return `vLo|${this.off}`;
  }

  /** Leave with pc at the next sequential instruction and `steps` steps more counted. */
  nextPc(steps: number): string {
    const t = this.off + this.len;
    if (t < 4096) return `off=${t};k=${steps};e=1;break out;`;
    return `off=${this.off};d=${this.len};k=${steps};e=2;break out;`;
  }

  /** Write (lo, hi) to rd through temporaries (sources may name rd); nothing for x0. */
  wr(l: string, h: string): string {
    if (this.rd === 32) return "";
    this.defined = true;
    return `{const l=${l},h=${h};${this.dst}=l;${this.dstHi}=h;}`;
  }

  /** The destination of rd's low word: its local and, written through, the register file. */
  private get dst(): string {
    return `x[${2 * this.rd}]=${lo(this.rd)}`;
  }
  private get dstHi(): string {
    return `x[${2 * this.rd + 1}]=${hi(this.rd)}`;
  }

  /** A W-form result: sign-extend the 32-bit value. */
  word(v: string): string {
    if (this.rd === 32) return "";
    this.defined = true;
    return `{const v=${v};${this.dst}=v;${this.dstHi}=v>>31;}`;
  }

  addi(): string {
    const b = this.b;
    if (this.r1 === 0) return this.wr(`${b}`, `${b >> 31}`);
    if (b === 0) return this.wr(this.l1, this.h1);
    if (this.rd === 32) return "";
    const carry = "((l>>>0)<(s>>>0)?1:0)";
    const h = b >= 0 ? `(${this.h1}+${carry})|0` : `(${this.h1}-1+${carry})|0`;
    return this.wr2(`const s=${this.l1},l=(s+${b})|0;`, "l", h);
  }

  /** Write rd from statements `pre` declaring the low word `l`, then the high word `h` (may use `l`). */
  private wr2(pre: string, l: string, h: string): string {
    this.defined = true;
    return `{${pre}${this.dstHi}=${h};${this.dst}=${l};}`;
  }

  add(): string {
    if (this.rd === 32) return "";
    return this.wr2(
      `const s=${this.l1},l=(s+${this.l2})|0;`,
      "l",
      `(${this.h1}+${this.h2}+((l>>>0)<(s>>>0)?1:0))|0`,
    );
  }

  sub(): string {
    if (this.rd === 32) return "";
    return this.wr2(
      `const s=${this.l1},t=${this.l2},g=${this.h1},u=${this.h2};`,
      "(s-t)|0",
      "(g-u-((s>>>0)<(t>>>0)?1:0))|0",
    );
  }

  auipc(): string {
    if (this.rd === 32) return "";
    const b = this.b;
    return this.wr2(`const p=vLo|${this.off},l=(p+${b})|0;`, "l", `(vHi+${b >> 31}+((l>>>0)<(p>>>0)?1:0))|0`);
  }

  /** Shift by the immediate: 0 left, 1 logical right, 2 arithmetic right. */
  shiftImm(kind: number): string {
    const s = this.b;
    const l = this.l1;
    const h = this.h1;
    if (s === 0) return this.wr(l, h);
    if (kind === 0) {
      return s < 32
        ? this.wr(`${l}<<${s}`, `(${h}<<${s})|(${l}>>>${32 - s})`)
        : this.wr("0", `${l}<<${s - 32}`);
    }
    if (kind === 1) {
      return s < 32
        ? this.wr(`(${l}>>>${s})|(${h}<<${32 - s})`, `(${h}>>>${s})|0`)
        : this.wr(`(${h}>>>${s - 32})|0`, "0");
    }
    return s < 32
      ? this.wr(`(${l}>>>${s})|(${h}<<${32 - s})`, `${h}>>${s}`)
      : this.wr(`${h}>>${s - 32}`, `${h}>>31`);
  }

  /** A helper of one source pair and an amount (shifts by register); it writes x[rd]. */
  call(fn: string, amount: string): string {
    if (this.rd === 32) return "";
    this.clobbered = true;
    return `${fn}(x,${2 * this.rd},${this.l1},${this.h1},${amount});`;
  }

  /** A helper of two source pairs (M extension); it writes x[rd]. */
  call2(fn: string): string {
    if (this.rd === 32) return "";
    this.clobbered = true;
    return `${fn}(x,${2 * this.rd},${this.h1},${this.l1},${this.h2},${this.l2});`;
  }

  /** The link register write of jal: pc + len. */
  link(): string {
    if (this.rd === 32) return "";
    const t = this.off + this.len;
    if (t < 4096) return this.wr(`vLo|${t}`, "vHi");
    return this.wr2("const l=(vLo+4096)|0;", "l", "l===0?(vHi+1)|0:vHi");
  }

  /** Exit to pc + imm when it leaves the page (64-bit). */
  farTarget(imm: number): string {
    return `off=${this.off};d=${imm};k=0;e=2;break out;`;
  }

  /**
   * jalr: target (x[rs1] + imm) & ~1, then the link (written to the register
   * file: this is a terminator, after the block's write-back); in-page
   * targets re-dispatch inside the region.
   */
  jalr(): string {
    const b = this.b;
    const d = 2 * this.rd;
    const link =
      this.rd === 32
        ? ""
        : this.off + this.len < 4096
          ? `x[${d}]=vLo|${this.off + this.len};x[${d + 1}]=vHi;`
          : `{const q=(vLo+4096)|0;x[${d}]=q;x[${d + 1}]=q===0?(vHi+1)|0:vHi;}`;
    return (
      `{const s=${this.l1},t=(s+${b})|0,l=t&-2,h=(${this.h1}+${b >> 31}+((t>>>0)<(s>>>0)?1:0))|0;${link}` +
      "if(h===vHi&&(l&-4096)===vLo){off=l&4095;b=IDX[off>>>1];continue;}pl=l;ph=h;k=0;e=0;break out;}"
    );
  }

  /** The condition of a conditional branch. */
  branchCond(op: number, O: Readonly<Record<string, number>>): string {
    const { l1, h1, l2, h2 } = this;
    switch (op) {
      case O.BEQ:
        return `${l1}===${l2}&&${h1}===${h2}`;
      case O.BNE:
        return `${l1}!==${l2}||${h1}!==${h2}`;
      case O.BLT:
        return `${h1}<${h2}||(${h1}===${h2}&&(${l1}>>>0)<(${l2}>>>0))`;
      case O.BGE:
        return `${h1}>${h2}||(${h1}===${h2}&&(${l1}>>>0)>=(${l2}>>>0))`;
      case O.BLTU:
        return `(${h1}>>>0)<(${h2}>>>0)||(${h1}===${h2}&&(${l1}>>>0)<(${l2}>>>0))`;
      default:
        return `(${h1}>>>0)>(${h2}>>>0)||(${h1}===${h2}&&(${l1}>>>0)>=(${l2}>>>0))`;
    }
  }

  /** The effective address x[rs1] + imm into (lo, hi). */
  private address(imm: number): string {
    if (this.r1 === 0) return `const lo=${imm},hi=${imm >> 31};`;
    if (imm === 0) return `const lo=${this.l1},hi=${this.h1};`;
    const h = imm >= 0 ? `(${this.h1}+((lo>>>0)<(s>>>0)?1:0))|0` : `(${this.h1}-1+((lo>>>0)<(s>>>0)?1:0))|0`;
    return `const s=${this.l1},lo=(s+${imm})|0,hi=${h};`;
  }

  /** A load: the load TLB fast path, else the hart's slow path (faults are precise). */
  load(op: number, O: Readonly<Record<string, number>>): string {
    const sink = this.rd === 32; // x0: the access still happens, into the sink
    if (!sink) this.regs.used |= 1 << this.rd; // the fast path writes rd's local
    const dl = sink ? "x[64]" : this.dst;
    const dh = sink ? "x[65]" : this.dstHi;
    let mask: number;
    let fast: string;
    switch (op) {
      case O.LB:
        mask = -4096;
        fast = `const v=ram8[o];${dl}=v;${dh}=v>>31;`;
        break;
      case O.LBU:
        mask = -4096;
        fast = `${dl}=ram[o];${dh}=0;`;
        break;
      case O.LH:
        mask = -4095;
        fast = `const v=ram16[o>>1];${dl}=v;${dh}=v>>31;`;
        break;
      case O.LHU:
        mask = -4095;
        fast = `${dl}=ramU16[o>>1];${dh}=0;`;
        break;
      case O.LW:
        mask = -4093;
        fast = `const v=ram32[o>>2];${dl}=v;${dh}=v>>31;`;
        break;
      case O.LWU:
        mask = -4093;
        fast = `${dl}=ram32[o>>2];${dh}=0;`;
        break;
      default:
        mask = -4089;
        fast = `${dl}=ram32[o>>2];${dh}=ram32[(o>>2)+1];`;
    }
    const addr = this.address(this.b);
    return (
      `{${addr}const i=dB+((lo>>>12)&${TLB_SET_ENTRIES - 1});` +
      `if(rtag[i]===((lo&${mask})|W)&&rtagHi[i]===hi){const o=roff[i]+(lo&4095);${fast}}` +
      this.slowPath(1)
    );
  }

  /**
   * The slow path of a load (1) or store (0): leave the switch for the
   * region's one slow-path call (shared by all its loads and stores, so its
   * feedback is there once any of them has missed the TLB, and V8 does not
   * deoptimize the region when another one first does), which resumes at
   * the case after this instruction. The registers are read again from the
   * register file after it (the slow path writes rd there).
   */
  private slowPath(load: number): string {
    this.opaque = true;
    return `else{SL=${load};SLo=lo;SHi=hi;SA=${this.a};SO=${this.off};SK=${this.k1};RP=@R@;break sw;}}case @R@:`;
  }

  /** A store: the store TLB fast path (code pages are never in it), else the hart's slow path. */
  store(op: number, O: Readonly<Record<string, number>>): string {
    let mask: number;
    let fast: string;
    const v = this.l2;
    switch (op) {
      case O.SB:
        mask = -4096;
        fast = `ram[o]=${v};`;
        break;
      case O.SH:
        mask = -4095;
        fast = `ramU16[o>>1]=${v};`;
        break;
      case O.SW:
        mask = -4093;
        fast = `ram32[o>>2]=${v};`;
        break;
      default:
        mask = -4089;
        fast = `ram32[o>>2]=${v};ram32[(o>>2)+1]=${this.h2};`;
    }
    const addr = this.address(this.b);
    return (
      `{${addr}const i=dB+((lo>>>12)&${TLB_SET_ENTRIES - 1});` +
      `if(wtag[i]===((lo&${mask})|W)&&wtagHi[i]===hi){const o=woff[i]+(lo&4095);${fast}` +
      // All of this runs on every store (no operation left without type feedback).
      `const rv=JW[${JW_RESV}];if((((o^rv)&-8)|(rv>>31))===0)JW[${JW_RESV}]=-1;}` +
      this.slowPath(0)
    );
  }

  /** An instruction the hart executes out of line (system, CSR, atomics, FP). */
  system(stops: boolean): string {
    this.opaque = true;
    const call = `H.jitSystem(${this.a},${this.b},${this.pc},vHi,${this.steps})`;
    const end = `{k=${this.k1};e=3;break out;}`;
    // An instruction that normally traps or changes mode ends the block either way (an ISA
    // profile may make one a no-op: then the block ends after it).
    if (stops) return `if(${call}!==0)${end}${this.nextPc(this.k1)}`;
    return `if(${call}!==0)${end}`;
  }
}
