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
import { RUNTIME_HELPERS } from "./runtime.js";

/** Most instructions in one block: a block is the unit of the step budget check, so a long one only costs a late check. */
const MAX_BLOCK = 64;
/**
 * Most guest instructions in one region. V8 does not optimize functions
 * beyond ~60 KB of bytecode; at ~40-60 bytes of bytecode per guest
 * instruction, 800 keep a region well inside it. A page with more hot code
 * gets a second region.
 */
const MAX_REGION_INSNS = 800;

/** A compiled region: `(offset, budget, page VA low, VA high) -> steps`; pc is left in the hart. */
export type RegionFunction = (offset: number, budget: number, vLo: number, vHi: number) => number;

/** Tuning of the translator. */
export interface TranslationOptions {
  /**
   * Entries into a physical page (from another page, or by the dispatcher)
   * before its code is translated; 0 translates at the first visit. Cold
   * code stays with the interpreter, which runs it as fast as translated
   * code runs the first few times. Default {@link DEFAULT_HOT_THRESHOLD}.
   */
  readonly threshold?: number;
  /**
   * Block executions of a hot page the dispatcher observes (running the
   * interpreter one block at a time) before translating the blocks it saw;
   * 0 translates at once, following the code statically from the entry.
   * Default {@link DEFAULT_PROFILE_BLOCKS}.
   */
  readonly profileBlocks?: number;
  /** Dispatcher misses on a translated page before the blocks that missed get a region of their own. Default 64 (1 when profileBlocks is 0). */
  readonly missBlocks?: number;
  /** Most translated guest instructions kept; the oldest regions are evicted beyond it. Default 2^20. */
  readonly capacity?: number;
}

/**
 * Default hotness threshold. Measured on Debian's boot (2 cores, Node 20):
 * see the package README's table; low thresholds translate code that runs a
 * handful of times (the compile costs more than it saves), high ones leave
 * hot code in the interpreter too long.
 */
export const DEFAULT_HOT_THRESHOLD = 64;
/** Default profile length (block executions) of a hot page before it is translated. */
export const DEFAULT_PROFILE_BLOCKS = 256;
/** Times a block must be seen in a page's profile to be translated: code seen once is a cold path. */
const PROFILE_MIN_SEEN = 2;
/** Most regions per page and context (the first from the profile, the others from later misses). */
const MAX_REGIONS_PER_PAGE = 6;

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
  /** Block-to-block transitions inside translated code (chained, no dispatcher). */
  chained: number;
  /** Pages whose translations were dropped because their bytes changed. */
  invalidations: number;
  /** Regions evicted for capacity. */
  evictions: number;
  /** Full flushes (flush()). */
  flushes: number;
}

/** How a strategy rewrites a sensitive instruction in translated code (see {@link SensitiveRewriter}). */
export interface Rewrite {
  /**
   * "inline": `code` (JavaScript statements) emulates the instruction inside
   * the block, which then goes on unless the code set `H.resync = true`.
   * "callout": `code` calls into the VMM, which emulates the instruction,
   * counts its retirement (or delivers a trap) and leaves the hart's pc
   * where the guest continues; the block ends there.
   */
  readonly kind: "inline" | "callout";
  /** JavaScript statements. They may use `x` (the register file), `H` (the hart) and the names in `env`. */
  readonly code: string;
}

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
   * The interpreter met a system instruction in context `context` (cold
   * code): emulate it as a callout and return true (the VMM retires it or
   * traps, and sets pc), or return false to let the hart execute it.
   */
  interpret(context: number, bits: number, length: number): boolean;
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
  /** Word B of the last decode. */
  decodedB(): number;
}

/** A translated basic block (translation-time record). */
interface Block {
  /** Byte offset in the page. */
  readonly off: number;
  /** Instructions. */
  readonly count: number;
  /** Body (JavaScript) without its terminator. */
  readonly body: string;
  /** The terminator, given the region's block numbering. */
  readonly term: (link: (target: number, tail?: boolean) => string) => string;
  /** In-page successors (byte offsets) for discovery. */
  readonly succ: readonly number[];
}

/** Translated code for one physical page and context. */
export class Region {
  /** Block number (1-based) by halfword offset; 0 where no block starts. */
  readonly idx = new Uint16Array(2048);
  /**
   * Block entries the dispatcher saw by halfword offset: the profile before
   * translation (the page's first region), misses after it.
   */
  readonly seen = new Uint16Array(2048);
  /** Entries counted in `seen` since it was last used. */
  observed = 0;
  /** The blocks, in block-number order (index + 1). */
  blocks: Block[] = [];
  /** Guest instructions translated into this region. */
  instructions = 0;
  /** The compiled function; noRegion while the page is being profiled. */
  fn: RegionFunction = noRegion;
  /** Compiled (false while profiling). */
  ready = false;
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
  /** Page entries while cold (hotness), by RAM page. */
  readonly heat: Uint16Array;
  /** Entries before a page is translated. */
  readonly threshold: number;
  /** Block executions profiled before translation (0: static discovery). */
  readonly profileBlocks: number;
  /** Misses on a translated page before another region is built. */
  readonly missBlocks: number;
  /** Most translated instructions kept. */
  readonly capacity: number;
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
  /** Ops that end a basic block (control transfers, stops, system instructions). */
  private readonly endsBlock = new Uint8Array(256);
  /** Regions in the order they were compiled (for FIFO eviction). */
  private readonly fifo: Region[] = [];
  private fifoHead = 0;
  private live = 0;
  /** The factory's parameter names and values (fixed). */
  private readonly names: string[];
  private readonly values: unknown[];

  constructor(
    host: TranslatorHost,
    options: TranslationOptions = {},
    rewriter: SensitiveRewriter | null = null,
  ) {
    this.host = host;
    this.op = host.ops;
    this.threshold = Math.max(0, Math.min(0xffff, options.threshold ?? DEFAULT_HOT_THRESHOLD));
    this.profileBlocks = Math.max(0, Math.min(0xffff, options.profileBlocks ?? DEFAULT_PROFILE_BLOCKS));
    this.missBlocks = Math.max(
      1,
      Math.min(0xffff, options.missBlocks ?? (this.profileBlocks === 0 ? 1 : 64)),
    );
    this.capacity = Math.max(MAX_REGION_INSNS, options.capacity ?? 1 << 20);
    this.rewriter = rewriter;
    this.regions = new Array(host.pages).fill(null);
    this.heat = new Uint16Array(host.pages);
    for (const n of NAMES_STOP) this.stopOps[this.op[n]!] = 1;
    for (const n of NAMES_SYSTEM) this.systemOps[this.op[n]!] = 1;
    for (const n of [
      ...NAMES_STOP,
      ...NAMES_SYSTEM,
      "JAL",
      "JALR",
      "BEQ",
      "BNE",
      "BLT",
      "BGE",
      "BLTU",
      "BGEU",
    ]) {
      this.endsBlock[this.op[n]!] = 1;
    }
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
      ...RUNTIME_HELPERS,
    };
    if (rewriter) {
      for (const [k, v] of Object.entries(rewriter.env)) {
        if (k in env || !/^[A-Za-z_$][\w$]*$/.test(k))
          throw new Error(`translator: bad environment name ${k}`);
        env[k] = v;
      }
    }
    this.names = Object.keys(env);
    this.values = Object.values(env);
  }

  /** The counters. */
  get stats(): TranslationStats {
    const executed = this.executed[0]!;
    return {
      blocks: this.blocks,
      instructions: this.instructions,
      compiles: this.compiles,
      hits: this.hits,
      misses: this.misses,
      blocksExecuted: executed,
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
   * The dispatcher found no block at (page, off) in context ctx. Returns
   * how the interpreter should run from there: -1 a cold page (a long
   * stretch), n > 0 one block of n instructions (the page is being profiled
   * or has translations: the next block entry gets observed too), or 0 when
   * a region was just built (look up again).
   */
  observe(page: number, ctx: number, off: number): number {
    this.misses++;
    let head: Region | null = null;
    let count = 0;
    for (let r = this.regions[page]; r !== null; r = r.next) {
      if (r.ctx !== ctx) continue;
      head ??= r;
      count++;
    }
    if (head === null) {
      const h = this.heat[page]!;
      if (h < this.threshold) {
        this.heat[page] = h + 1;
        return -1;
      }
      head = new Region(page, ctx);
      head.next = this.regions[page];
      this.regions[page] = head;
      this.fifo.push(head);
      if (this.profileBlocks === 0) {
        this.build(head, [off], true);
        return head.idx[off >>> 1] !== 0 ? 0 : this.blockLength(page, off);
      }
    }
    const slot = off >>> 1;
    if (head.seen[slot]! < 0xffff) head.seen[slot]!++;
    head.observed++;
    if (!head.ready) {
      if (head.observed >= this.profileBlocks) {
        this.build(head, this.takeSeen(head, PROFILE_MIN_SEEN), false);
        if (head.idx[slot] !== 0) return 0;
      }
    } else if (head.observed >= this.missBlocks && count < MAX_REGIONS_PER_PAGE) {
      // Blocks entered often since the page was translated get a region of their own.
      const offs = this.takeSeen(head, this.profileBlocks === 0 ? 1 : 2);
      if (offs.length > 0) {
        const r = new Region(page, ctx);
        let last = head;
        while (last.next !== null && last.next.ctx === ctx) last = last.next;
        r.next = last.next;
        last.next = r;
        this.fifo.push(r);
        this.build(r, offs, this.profileBlocks === 0);
        if (r.idx[slot] !== 0) return 0;
      }
    }
    return this.blockLength(page, off);
  }

  /** The offsets `seen` at least `min` times; clears the counts. */
  private takeSeen(r: Region, min: number): number[] {
    const out: number[] = [];
    const seen = r.seen;
    for (let i = 0; i < 2048; i++) {
      if (seen[i]! >= min) out.push(i << 1);
    }
    seen.fill(0);
    r.observed = 0;
    return out;
  }

  /**
   * Instructions from `off` to the end of its basic block (for the
   * interpreter to run one block), at most MAX_BLOCK; at least 1.
   */
  private blockLength(page: number, off: number): number {
    const host = this.host;
    let o = off;
    let n = 0;
    while (n < MAX_BLOCK && o < 4096) {
      const a = host.decode(page, o >>> 1);
      n++;
      if (a === 0 || this.endsBlock[a & 0xff] === 1) break;
      o += a & (1 << 24) ? 2 : 4;
    }
    return n;
  }

  /** Whether a page entry should return to the dispatcher (the page is hot or translated); counts the entry. */
  hotEntry(page: number): boolean {
    const h = this.heat[page]!;
    if (h >= this.threshold) return true;
    this.heat[page] = h + 1;
    return false;
  }

  /** Drop the translations of RAM page `page` (its bytes changed). */
  invalidatePage(page: number): void {
    let r = this.regions[page];
    if (r === null) return;
    this.invalidations++;
    while (r !== null) {
      this.retire(r);
      r = r.next;
    }
    this.regions[page] = null;
    this.heat[page] = 0;
  }

  /** Drop every translation (a new rewriter state, a snapshot restore). */
  flush(): void {
    this.flushes++;
    for (let p = 0; p < this.regions.length; p++) {
      for (let r = this.regions[p]; r !== null; r = r.next) this.retire(r);
      this.regions[p] = null;
    }
    this.fifo.length = 0;
    this.fifoHead = 0;
    this.heat.fill(0);
  }

  /** Translated guest instructions now in the cache. */
  get size(): number {
    return this.live;
  }

  private retire(r: Region): void {
    if (!r.live) return;
    r.live = false;
    this.live -= r.instructions;
  }

  // ---------------------------------------------------------------------------
  // Building regions.

  /**
   * Translate the blocks at `roots` (and, with `follow`, every block reachable
   * from them inside the page) into region `r`, which is already in the
   * cache, and compile it.
   */
  private build(r: Region, roots: readonly number[], follow: boolean): void {
    const byOff = new Map<number, Block>();
    const work = [...roots].reverse();
    const rootSet = new Set(roots);
    let budget = MAX_REGION_INSNS;
    while (work.length > 0 && budget > 0) {
      const off = work.pop()!;
      if (off < 0 || off >= 4096 || byOff.has(off)) continue;
      // Without discovery, a block still ends where another root starts (no duplicated code).
      const b = this.translateBlock(
        r.page,
        r.ctx,
        off,
        follow ? byOff : rootSet,
        Math.min(MAX_BLOCK, budget),
      );
      if (b === null) continue;
      byOff.set(off, b);
      r.blocks.push(b);
      r.idx[off >>> 1] = r.blocks.length;
      budget -= b.count;
      r.instructions += b.count;
      this.live += b.count;
      this.blocks++;
      this.instructions += b.count;
      if (follow) for (const s of b.succ) if (!byOff.has(s)) work.push(s);
    }
    r.ready = true;
    if (r.blocks.length > 0) this.compile(r);
    this.heat[r.page] = Math.max(this.heat[r.page]!, this.threshold);
    this.evict();
  }

  /** Evict the oldest regions while over capacity (never the newest). */
  private evict(): void {
    while (this.live > this.capacity && this.fifoHead < this.fifo.length - 1) {
      const r = this.fifo[this.fifoHead++]!;
      if (!r.live) continue;
      this.retire(r);
      this.evictions++;
      // Unlink it from its page's chain.
      let p = this.regions[r.page];
      if (p === r) this.regions[r.page] = r.next;
      else {
        while (p !== null && p.next !== r) p = p.next;
        if (p !== null) p.next = r.next;
      }
    }
    if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo.splice(0, this.fifoHead);
      this.fifoHead = 0;
    }
  }

  /** Generate the region's function from its blocks. */
  private compile(r: Region): void {
    const blocks = r.blocks;
    // Emit in address order so a block falling through to the next one needs no jump.
    const order = blocks.map((_, i) => i).sort((a, b) => blocks[a]!.off - blocks[b]!.off);
    const parts: string[] = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const b = blocks[i]!;
      const nextNo = k + 1 < order.length ? order[k + 1]! + 1 : -1;
      const link = (target: number, tail = true): string => {
        if (target >= 4096) return "pl=(vLo+4096)|0;ph=pl===0?(vHi+1)|0:vHi;break out;";
        const no = r.idx[target >>> 1]!;
        if (no === 0) return `pl=vLo|${target};break out;`;
        if (tail && no === nextNo) return "/* falls through */";
        return `b=${no};continue;`;
      };
      parts.push(
        `case ${i + 1}:{if(n>lim-${b.count}){pl=vLo|${b.off};break out;}nb++;${b.body}n+=${b.count};${b.term(link)}}`,
      );
    }
    const src =
      `return function region_${r.page.toString(16)}_${r.ctx}(o,lim,vLo,vHi){` +
      "let n=0,nb=0,pl=0,ph=vHi,off=o,b=IDX[o>>>1];const dB=H.dBase;" +
      `fin:{xit:{out:for(;;){switch(b){${parts.join("\n")}\ndefault:pl=vLo|off;break out;}}break fin;}` +
      "pl=H.pcLo;ph=H.pcHi;}H.pcLo=pl;H.pcHi=ph;JS[0]+=nb;return n;}";
    const factory = new Function(...this.names, "IDX", src) as (...args: unknown[]) => RegionFunction;
    r.fn = factory(...this.values, r.idx);
    this.compiles++;
  }

  /**
   * Translate the basic block at byte offset `off` of RAM page `page` for
   * context `ctx`. Stops before `stopAt` blocks' starts (known blocks) so
   * code is not duplicated. Null when the first instruction cannot be
   * translated here (it straddles the page end).
   */
  private translateBlock(
    page: number,
    ctx: number,
    off: number,
    known: { has(off: number): boolean },
    max: number,
  ): Block | null {
    const host = this.host;
    const O = this.op;
    const out: string[] = [];
    const succ: number[] = [];
    let term: (link: (t: number, tail?: boolean) => string) => string = () => "";
    let o = off;
    let k = 0;
    for (;;) {
      if (k > 0 && (k >= max || known.has(o) || o >= 4096)) {
        const t = o;
        term = (link) => link(t);
        if (t < 4096) succ.push(t);
        break;
      }
      const a = host.decode(page, o >>> 1);
      if (a === 0) {
        // Straddles the page end: the interpreter runs it.
        if (k === 0) return null;
        const t = o;
        term = (link) => link(t);
        break;
      }
      const b = host.decodedB();
      const len = a & (1 << 24) ? 2 : 4;
      const op = a & 0xff;
      const g = new InsnGen(a, b, o, len, k);
      // Sensitive instructions: the strategy's rewrite first.
      if (this.rewriter !== null && this.systemOps[op] === 1) {
        const bits = this.rawBits(page, o, len);
        const rw = this.rewriter.rewrite(ctx, bits, len);
        if (rw !== undefined) {
          k++;
          if (rw.kind === "inline") {
            out.push(`${rw.code};if(H.resync){n+=${k};${g.nextPc()}break out;}`);
            o += len;
            continue;
          }
          out.push(
            `H.pcLo=vLo|${o};H.pcHi=vHi;H.stepsInRun=n+${k};H.retiredInRun=n+${k - 1};${rw.code};` +
              `n+=${k};H.jitShort=1;H.resync=true;break xit;`,
          );
          // The VMM resumes after it (a hypercall, a fence): a likely block start.
          if (o + len < 4096) succ.push(o + len);
          // The block ends with the callout; its count includes it.
          return { off, count: k, body: out.join(""), term: () => "", succ };
        }
      }
      k++;
      switch (op) {
        case O.JAL: {
          out.push(g.link());
          const t = o + b;
          if (t >= 0 && t < 4096) {
            term = (link) => link(t);
            succ.push(t);
          } else {
            const far = g.farTarget(b);
            term = () => far;
          }
          if (g.rd !== 32 && o + len < 4096) succ.push(o + len); // the return address of a call
          return { off, count: k, body: out.join(""), term, succ };
        }
        case O.JALR: {
          const code = g.jalr();
          term = () => code;
          if (g.rd !== 32 && o + len < 4096) succ.push(o + len);
          return { off, count: k, body: out.join(""), term, succ };
        }
        case O.BEQ:
        case O.BNE:
        case O.BLT:
        case O.BGE:
        case O.BLTU:
        case O.BGEU: {
          const cond = g.branchCond(op, O);
          const t = o + b;
          const f = o + len;
          const far = t >= 0 && t < 4096 ? "" : g.farTarget(b);
          if (far === "") succ.push(t);
          if (f < 4096) succ.push(f);
          term = (link) => `if(${cond}){${far || link(t, false)}}${link(f)}`;
          return { off, count: k, body: out.join(""), term, succ };
        }
        default: {
          const code = this.emitStraight(g, op, O);
          out.push(code);
          if (this.stopOps[op] === 1) {
            // Always traps or changes mode: emitStraight ended the block.
            return { off, count: k, body: out.join(""), term: () => "", succ };
          }
        }
      }
      o += len;
    }
    return { off, count: k, body: out.join(""), term, succ };
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

/** Code generation for one instruction. */
class InsnGen {
  /** rd index in x (the low word); 64 is the sink for x0. */
  readonly rd: number;
  /** Steps of the block up to and including this instruction. */
  readonly k1: number;
  readonly r1: number;
  readonly r2: number;
  /** Expressions for the source registers' words (literal 0 for x0). */
  readonly l1: string;
  readonly h1: string;
  readonly l2: string;
  readonly h2: string;

  constructor(
    readonly a: number,
    readonly b: number,
    /** Byte offset in the page. */
    readonly off: number,
    readonly len: number,
    /** Index of the instruction in its block. */
    index: number,
  ) {
    this.k1 = index + 1;
    this.rd = (a >>> 8) & 63;
    this.r1 = (a >>> 14) & 31;
    this.r2 = (a >>> 19) & 31;
    this.l1 = this.r1 === 0 ? "0" : `x[${2 * this.r1}]`;
    this.h1 = this.r1 === 0 ? "0" : `x[${2 * this.r1 + 1}]`;
    this.l2 = this.r2 === 0 ? "0" : `x[${2 * this.r2}]`;
    this.h2 = this.r2 === 0 ? "0" : `x[${2 * this.r2 + 1}]`;
  }

  private get steps(): string {
    return `n+${this.k1}`;
  }

  /** This instruction's pc (low word). */
  private get pc(): string {
    return `vLo|${this.off}`;
  }

  /** Set pl/ph to the next sequential pc. */
  nextPc(): string {
    const t = this.off + this.len;
    if (t < 4096) return `pl=vLo|${t};`;
    return "pl=(vLo+4096)|0;ph=pl===0?(vHi+1)|0:vHi;";
  }

  /** Write (lo, hi) to rd through temporaries (sources may name rd); nothing for x0. */
  wr(lo: string, hi: string): string {
    if (this.rd === 32) return "";
    const d = 2 * this.rd;
    return `{const l=${lo},h=${hi};x[${d}]=l;x[${d + 1}]=h;}`;
  }

  /** A W-form result: sign-extend the 32-bit value. */
  word(v: string): string {
    if (this.rd === 32) return "";
    const d = 2 * this.rd;
    return `{const v=${v};x[${d}]=v;x[${d + 1}]=v>>31;}`;
  }

  addi(): string {
    const b = this.b;
    if (this.r1 === 0) return this.wr(`${b}`, `${b >> 31}`);
    if (b === 0) return this.wr(this.l1, this.h1);
    if (this.rd === 32) return "";
    const d = 2 * this.rd;
    const carry = "((l>>>0)<(s>>>0)?1:0)";
    const hi = b >= 0 ? `(${this.h1}+${carry})|0` : `(${this.h1}-1+${carry})|0`;
    return `{const s=${this.l1},l=(s+${b})|0;x[${d + 1}]=${hi};x[${d}]=l;}`;
  }

  add(): string {
    if (this.rd === 32) return "";
    const d = 2 * this.rd;
    return `{const s=${this.l1},l=(s+${this.l2})|0;x[${d + 1}]=(${this.h1}+${this.h2}+((l>>>0)<(s>>>0)?1:0))|0;x[${d}]=l;}`;
  }

  sub(): string {
    if (this.rd === 32) return "";
    const d = 2 * this.rd;
    return `{const s=${this.l1},t=${this.l2};x[${d + 1}]=(${this.h1}-${this.h2}-((s>>>0)<(t>>>0)?1:0))|0;x[${d}]=(s-t)|0;}`;
  }

  auipc(): string {
    if (this.rd === 32) return "";
    const b = this.b;
    const d = 2 * this.rd;
    return `{const p=vLo|${this.off},l=(p+${b})|0;x[${d + 1}]=(vHi+${b >> 31}+((l>>>0)<(p>>>0)?1:0))|0;x[${d}]=l;}`;
  }

  /** Shift by the immediate: 0 left, 1 logical right, 2 arithmetic right. */
  shiftImm(kind: number): string {
    const s = this.b;
    const lo = this.l1;
    const hi = this.h1;
    if (s === 0) return this.wr(lo, hi);
    if (kind === 0) {
      return s < 32
        ? this.wr(`${lo}<<${s}`, `(${hi}<<${s})|(${lo}>>>${32 - s})`)
        : this.wr("0", `${lo}<<${s - 32}`);
    }
    if (kind === 1) {
      return s < 32
        ? this.wr(`(${lo}>>>${s})|(${hi}<<${32 - s})`, `(${hi}>>>${s})|0`)
        : this.wr(`(${hi}>>>${s - 32})|0`, "0");
    }
    return s < 32
      ? this.wr(`(${lo}>>>${s})|(${hi}<<${32 - s})`, `${hi}>>${s}`)
      : this.wr(`${hi}>>${s - 32}`, `${hi}>>31`);
  }

  /** A helper of one source pair and an amount (shifts by register). */
  call(fn: string, amount: string): string {
    if (this.rd === 32) return "";
    return `${fn}(x,${2 * this.rd},${this.l1},${this.h1},${amount});`;
  }

  /** A helper of two source pairs (M extension). */
  call2(fn: string): string {
    if (this.rd === 32) return "";
    return `${fn}(x,${2 * this.rd},${this.h1},${this.l1},${this.h2},${this.l2});`;
  }

  /** The link register write of jal/jalr: pc + len. */
  link(): string {
    if (this.rd === 32) return "";
    const t = this.off + this.len;
    const d = 2 * this.rd;
    if (t < 4096) return `x[${d}]=vLo|${t};x[${d + 1}]=vHi;`;
    return `{const l=(vLo+4096)|0;x[${d}]=l;x[${d + 1}]=l===0?(vHi+1)|0:vHi;}`;
  }

  /** Exit to pc + imm when it leaves the page (64-bit). */
  farTarget(imm: number): string {
    return `{const p=vLo|${this.off},l=(p+${imm})|0;ph=(vHi+${imm >> 31}+((l>>>0)<(p>>>0)?1:0))|0;pl=l;break out;}`;
  }

  /** jalr: target (x[rs1] + imm) & ~1, then the link; in-page targets re-dispatch inside the region. */
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
      "if(h===vHi&&(l&-4096)===vLo){off=l&4095;b=IDX[off>>>1];continue;}pl=l;ph=h;break out;}"
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
    const hi = imm >= 0 ? `(${this.h1}+((lo>>>0)<(s>>>0)?1:0))|0` : `(${this.h1}-1+((lo>>>0)<(s>>>0)?1:0))|0`;
    return `const s=${this.l1},lo=(s+${imm})|0,hi=${hi};`;
  }

  /** A load: the load TLB fast path, else the hart's slow path (faults are precise). */
  load(op: number, O: Readonly<Record<string, number>>): string {
    const d = 2 * this.rd; // the sink (64) for x0: the access still happens
    let mask: number;
    let fast: string;
    switch (op) {
      case O.LB:
        mask = -4096;
        fast = `const v=ram8[o];x[${d}]=v;x[${d + 1}]=v>>31;`;
        break;
      case O.LBU:
        mask = -4096;
        fast = `x[${d}]=ram[o];x[${d + 1}]=0;`;
        break;
      case O.LH:
        mask = -4095;
        fast = `const v=ram16[o>>1];x[${d}]=v;x[${d + 1}]=v>>31;`;
        break;
      case O.LHU:
        mask = -4095;
        fast = `x[${d}]=ramU16[o>>1];x[${d + 1}]=0;`;
        break;
      case O.LW:
        mask = -4093;
        fast = `const v=ram32[o>>2];x[${d}]=v;x[${d + 1}]=v>>31;`;
        break;
      case O.LWU:
        mask = -4093;
        fast = `x[${d}]=ram32[o>>2];x[${d + 1}]=0;`;
        break;
      default:
        mask = -4089;
        fast = `x[${d}]=ram32[o>>2];x[${d + 1}]=ram32[(o>>2)+1];`;
    }
    return (
      `{${this.address(this.b)}const i=dB+((lo>>>12)&255);` +
      `if(rtag[i]===(lo&${mask})&&rtagHi[i]===hi){const o=roff[i]+(lo&4095);${fast}}` +
      `else if(H.jitLoad(lo,hi,${this.a},${this.pc},vHi,${this.steps})){n+=${this.k1};break xit;}}`
    );
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
    return (
      `{${this.address(this.b)}const i=dB+((lo>>>12)&255);` +
      `if(wtag[i]===(lo&${mask})&&wtagHi[i]===hi){const o=woff[i]+(lo&4095);${fast}` +
      "if(H.reservation>=0&&((o^H.reservation)&-8)===0)H.reservation=-1;}" +
      `else if(H.jitStore(lo,hi,${this.a},${this.pc},vHi,${this.steps})){n+=${this.k1};break xit;}}`
    );
  }

  /** An instruction the hart executes out of line (system, CSR, atomics, FP). */
  system(stops: boolean): string {
    const call = `H.jitSystem(${this.a},${this.b},${this.pc},vHi,${this.steps})`;
    const end = `{n+=${this.k1};break xit;}`;
    // An instruction that normally traps or changes mode ends the block either way (an ISA
    // profile may make one a no-op: then the block ends after it).
    if (stops) return `if(${call}!==0)${end}n+=${this.k1};${this.nextPc()}break out;`;
    return `if(${call}!==0)${end}`;
  }
}
