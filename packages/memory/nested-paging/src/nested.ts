/**
 * Nested paging: the VMM's G-stage tables (H extension, "Guest Physical
 * Address Translation") that map guest-physical addresses to host-physical
 * ones. hgatp points at them while the guest runs; the guest keeps its own
 * page tables (vsatp) and changes them freely, with no exit: the hart
 * translates every guest access through both stages and caches the result.
 *
 * Structure. Guest RAM sits at the same physical addresses on the host (the
 * board's RAM at 0x8000_0000; gpa = hpa for RAM), so the G-stage is an
 * identity map of guest RAM and of nothing else: device pages stay unmapped
 * (a guest access there is a guest-page fault, which the VMM selects as an
 * MMIO exit), and so does the VMM-private RAM above guest RAM that holds
 * these tables. Leaves are 4 KiB pages (the default) or 2 MiB megapages;
 * every leaf is valid, R/W/X, U (G-stage accesses are user accesses) and has
 * A and D preset, so the hart never writes the tables. The root of Sv39x4
 * (41-bit guest-physical addresses) or Sv48x4 (50-bit) is 16 KiB: 2048
 * entries.
 *
 * Windows. {@link NestedPageTables.map} and {@link NestedPageTables.unmap}
 * add and remove single 4 KiB pages, allocating and freeing the tables on
 * the way: a VMM maps a device page for one instruction it single-steps,
 * then unmaps it. Tables that only windows used are freed when they empty.
 *
 * Hot paths allocate nothing: all state is in typed arrays.
 */
import { CsrSlot, type Hart, writeCsr } from "@hvkit/cpu";
import { CSR } from "@hvkit/isa";

/** G-stage translation mode: Sv39x4 (3 levels, 41-bit guest-physical) or Sv48x4 (4 levels, 50-bit). */
export type GStageMode = "sv39x4" | "sv48x4";
/** Size of the G-stage leaves that map guest RAM: 4 KiB pages or 2 MiB megapages. */
export type GStagePageSize = "4k" | "2m";

/** Options of {@link NestedPageTables}. */
export interface NestedPagingOptions {
  /** The real hart: its RAM holds guest RAM and the pool; its hgatp is driven here. */
  readonly hart: Hart;
  /** Bytes of guest RAM at `hart.ramBase` (a multiple of 2 MiB with "2m" pages, else of 4 KiB). */
  readonly guestRamSize: number;
  /** Physical address of the pool for the tables (VMM-private RAM above guest RAM, 16 KiB-aligned). */
  readonly poolBase: number;
  /** Bytes in the pool: at least {@link NestedPageTables.poolBytes}. */
  readonly poolBytes: number;
  /** Default "sv39x4". */
  readonly mode?: GStageMode;
  /** Default "4k". */
  readonly pageSize?: GStagePageSize;
  /** VMID for hgatp (0..16383). Default 0. */
  readonly vmid?: number;
}

/** Counters of the nested page tables. */
export interface NestedCounters {
  /** Table pages in use (the 16 KiB root counts as 4). */
  tablePages: number;
  /** Most table pages in use at once. */
  tablePagesPeak: number;
  /** Leaves mapping guest RAM. */
  ramLeaves: number;
  /** Window pages mapped ({@link NestedPageTables.map}) so far. */
  windowMaps: number;
  /** Window pages mapped now. */
  windowsOpen: number;
  /** hgatp writes ({@link NestedPageTables.activate}, {@link NestedPageTables.deactivate}). */
  hgatpWrites: number;
}

// PTE bits (privileged spec 4.3.1); G-stage leaves need U.
const V = 1;
const R = 2;
const W = 4;
const X = 8;
const U = 16;
const A = 64;
const D = 128;
/** A G-stage leaf: everything allowed, A and D preset so the hart never writes the tables. */
const LEAF = V | R | W | X | U | A | D;

const PAGE = 4096;
const MEGA = 2 * 1024 * 1024;
/** Root table pages (16 KiB, 2048 entries). */
const ROOT_PAGES = 4;
/** Spare table pages for windows (one chain of tables down to a 4 KiB leaf per open window, a few at once). */
const WINDOW_TABLES = 8;
/** hgatp MODE values. */
const HGATP_SV39X4 = 8;
const HGATP_SV48X4 = 9;
/** tLevel of a free pool page. */
const FREE = -1;

/** The VMM's G-stage tables for one VM: see the file comment. */
export class NestedPageTables {
  /**
   * Bytes of pool {@link NestedPageTables} needs for `guestRamSize` bytes of
   * guest RAM at physical address `ramBase`: the root, the tables down to the
   * leaves, and spares for windows.
   */
  static poolBytes(
    guestRamSize: number,
    options: {
      readonly mode?: GStageMode;
      readonly pageSize?: GStagePageSize;
      readonly ramBase?: number;
    } = {},
  ): number {
    const ramBase = options.ramBase ?? 0x8000_0000;
    const levels = (options.mode ?? "sv39x4") === "sv48x4" ? 4 : 3;
    const end = ramBase + guestRamSize;
    const gib = Math.ceil(end / 2 ** 30) - Math.floor(ramBase / 2 ** 30);
    let pages = ROOT_PAGES + WINDOW_TABLES + gib; // the megapage-level tables, one per GiB
    if (levels === 4) pages += Math.ceil(end / 2 ** 39) - Math.floor(ramBase / 2 ** 39); // one per 512 GiB
    if ((options.pageSize ?? "4k") === "4k") pages += Math.ceil(end / MEGA) - Math.floor(ramBase / MEGA);
    return pages * PAGE;
  }

  /** G-stage levels a translation of guest RAM walks: 3 (Sv39x4) or 4 (Sv48x4), one less with megapages. */
  readonly levels: number;
  /** hgatp value that selects these tables: low word (root PPN). */
  readonly hgatpLo: number;
  /** hgatp value: high word (MODE, VMID, PPN high bits). */
  readonly hgatpHi: number;
  /** Counters (read them, do not write). */
  readonly stats: NestedCounters = {
    tablePages: 0,
    tablePagesPeak: 0,
    ramLeaves: 0,
    windowMaps: 0,
    windowsOpen: 0,
    hgatpWrites: 0,
  };

  private readonly hart: Hart;
  private readonly ram32: Int32Array;
  private readonly ramBase: number;
  private readonly guestSize: number;
  private readonly tableLevels: number;
  private readonly poolIdx: number; // ram32 index of pool page 0
  private readonly poolPpn: number;
  private readonly poolPages: number;
  /** Level of each pool page's table (FREE when free); the root's four pages all say the root level. */
  private readonly tLevel: Int8Array;
  /** Valid entries per table page (tables that reach zero are freed, the root never). */
  private readonly tUsed: Int16Array;
  private readonly freeList: Int32Array;
  private freeTop = 0;
  private readonly leafLevel: number;

  constructor(options: NestedPagingOptions) {
    const { hart, guestRamSize, poolBase, poolBytes } = options;
    const mode = options.mode ?? "sv39x4";
    const pageSize = options.pageSize ?? "4k";
    const vmid = options.vmid ?? 0;
    if (mode !== "sv39x4" && mode !== "sv48x4")
      throw new RangeError(`nested-paging: mode must be "sv39x4" or "sv48x4" (got ${JSON.stringify(mode)})`);
    if (pageSize !== "4k" && pageSize !== "2m")
      throw new RangeError(`nested-paging: pageSize must be "4k" or "2m" (got ${JSON.stringify(pageSize)})`);
    if (!Number.isInteger(vmid) || vmid < 0 || vmid > 0x3fff)
      throw new RangeError(`nested-paging: vmid ${vmid} is out of range (0..16383)`);
    const unit = pageSize === "2m" ? MEGA : PAGE;
    if (
      !Number.isInteger(guestRamSize) ||
      guestRamSize <= 0 ||
      guestRamSize % unit !== 0 ||
      guestRamSize > hart.ramSize
    )
      throw new RangeError(
        `nested-paging: guest RAM (${guestRamSize} bytes) must be a positive multiple of ${unit} bytes inside the hart's RAM`,
      );
    this.hart = hart;
    this.ramBase = hart.ramBase;
    this.guestSize = guestRamSize;
    this.tableLevels = mode === "sv48x4" ? 4 : 3;
    this.leafLevel = pageSize === "2m" ? 1 : 0;
    this.levels = this.tableLevels - this.leafLevel;
    const poolOff = poolBase - hart.ramBase;
    const need = NestedPageTables.poolBytes(guestRamSize, { mode, pageSize, ramBase: hart.ramBase });
    if (
      !Number.isInteger(poolBytes) ||
      poolBytes % PAGE !== 0 ||
      poolBytes < need ||
      poolBase % (ROOT_PAGES * PAGE) !== 0 ||
      poolOff < guestRamSize ||
      poolOff + poolBytes > hart.ramSize
    ) {
      throw new RangeError(
        `nested-paging: the pool must be at least ${need} bytes of 16 KiB-aligned RAM above guest RAM, inside the hart's RAM`,
      );
    }
    this.ram32 = new Int32Array(hart.ram.buffer, hart.ram.byteOffset, hart.ram.length >> 2);
    this.poolIdx = poolOff >> 2;
    this.poolPpn = poolBase / PAGE;
    const n = poolBytes / PAGE;
    this.poolPages = n;
    this.tLevel = new Int8Array(n).fill(FREE);
    this.tUsed = new Int16Array(n);
    this.freeList = new Int32Array(n);
    for (let i = 0; i < n - ROOT_PAGES; i++) this.freeList[i] = n - 1 - i;
    this.freeTop = n - ROOT_PAGES;
    // The root: pool pages 0..3.
    this.ram32.fill(0, this.poolIdx, this.poolIdx + ROOT_PAGES * 1024);
    for (let i = 0; i < ROOT_PAGES; i++) this.tLevel[i] = this.tableLevels - 1;
    this.stats.tablePages = ROOT_PAGES;
    this.stats.tablePagesPeak = ROOT_PAGES;
    this.hgatpLo = this.poolPpn | 0;
    this.hgatpHi = ((mode === "sv48x4" ? HGATP_SV48X4 : HGATP_SV39X4) << 28) | (vmid << 12);
    // Identity-map guest RAM.
    for (let off = 0; off < guestRamSize; off += unit) {
      if (!this.set(this.ramBase + off, this.ramBase + off, this.leafLevel))
        throw new Error("nested-paging: internal error: the pool cannot hold the map of guest RAM");
      this.stats.ramLeaves++;
    }
  }

  /** Point hgatp at these tables (the hart flushes its guest TLB, as after hfence.gvma). */
  activate(): void {
    this.stats.hgatpWrites++;
    writeCsr(this.hart, CSR.hgatp, this.hgatpLo, this.hgatpHi);
  }

  /** Turn the G-stage off (hgatp Bare: guest-physical = host-physical, unchecked). */
  deactivate(): void {
    this.stats.hgatpWrites++;
    writeCsr(this.hart, CSR.hgatp, 0, 0);
  }

  /** Whether hgatp selects these tables now. */
  get active(): boolean {
    const c = this.hart.csr;
    return c[CsrSlot.HGATP] === this.hgatpLo && c[CsrSlot.HGATP + 1] === this.hgatpHi;
  }

  /**
   * Map the 4 KiB guest-physical page at `gpa` to host-physical `pa` (both
   * page-aligned, below 4 GiB), R/W/X. For windows onto devices: a page of
   * guest RAM or of the pool is refused. False when the pool is exhausted
   * (unmap windows first). The caller flushes the guest TLB if it matters
   * (a new mapping is never cached stale).
   */
  map(gpa: number, pa: number): boolean {
    if (gpa % PAGE !== 0 || pa % PAGE !== 0 || gpa < 0 || pa < 0 || gpa >= 2 ** 32 || pa >= 2 ** 32)
      throw new RangeError("nested-paging: map needs page-aligned addresses below 4 GiB");
    if (this.isProtected(gpa) || this.isProtected(pa))
      throw new RangeError(
        `nested-paging: 0x${gpa.toString(16)} -> 0x${pa.toString(16)}: guest RAM is mapped already and the VMM's RAM never is`,
      );
    if (!this.set(gpa, pa, 0)) return false;
    this.stats.windowMaps++;
    this.stats.windowsOpen++;
    return true;
  }

  /** Remove a page mapped with {@link map}, freeing tables that empty; flushes the guest TLB. False if it was not mapped. */
  unmap(gpa: number): boolean {
    if (this.isProtected(gpa)) throw new RangeError("nested-paging: guest RAM cannot be unmapped");
    const ram32 = this.ram32;
    const path = this.path;
    let table = 0;
    for (let level = this.tableLevels - 1; level >= 0; level--) {
      const e = this.entry(table, level, gpa);
      path[level] = e;
      const pte = ram32[e]!;
      if ((pte & V) === 0) return false;
      if (level === 0) break;
      if ((pte & (R | X)) !== 0) return false; // a megapage leaf: RAM's, not a window
      table = (pte >>> 10) - this.poolPpn;
    }
    // Clear the leaf, then free each table that is left empty (never the root).
    for (let level = 0; level < this.tableLevels; level++) {
      const e = path[level]!;
      ram32[e] = 0;
      ram32[e + 1] = 0;
      const page = (e - this.poolIdx) >> 10;
      if (level === this.tableLevels - 1 || --this.tUsed[page]! > 0) break;
      this.free(page);
    }
    this.stats.windowsOpen--;
    this.hart.flushGuestTlb();
    return true;
  }

  /**
   * The G-stage translation of guest-physical (gLo, gHi) as the hart would
   * do it (a software walk of these tables, no side effects): the host
   * physical address, or -1 when unmapped.
   */
  translate(gLo: number, gHi: number): number {
    const bits = this.tableLevels === 4 ? 50 : 41;
    if (gHi >>> (bits - 32) !== 0) return -1;
    if (gHi !== 0) return -1; // nothing is mapped at or above 4 GiB
    const ram32 = this.ram32;
    const gpa = gLo >>> 0;
    let table = 0;
    for (let level = this.tableLevels - 1; level >= 0; level--) {
      const pte = ram32[this.entry(table, level, gpa)]!;
      if ((pte & V) === 0) return -1;
      const ppn = pte >>> 10;
      if ((pte & (R | X)) !== 0) {
        const low = level === 0 ? 0 : (1 << (9 * level)) - 1;
        return (((ppn & ~low) | ((gpa >>> 12) & low)) * PAGE + (gpa & 0xfff)) >>> 0;
      }
      table = ppn - this.poolPpn;
    }
    return -1;
  }

  /**
   * Check the tables (tests, debugging): every page of guest RAM maps to
   * itself, nothing maps the pool or anything above guest RAM but open
   * windows, and the table bookkeeping agrees with the entries. Returns the
   * first problem, or undefined.
   */
  check(): string | undefined {
    const unit = this.leafLevel === 1 ? MEGA : PAGE;
    for (let off = 0; off < this.guestSize; off += unit) {
      const gpa = this.ramBase + off;
      if (this.translate(gpa, 0) !== gpa)
        return `guest RAM page 0x${gpa.toString(16)} is not mapped to itself`;
    }
    let leaves = 0;
    let windows = 0;
    const visit = (page: number, level: number, base: number): string | undefined => {
      const n = level === this.tableLevels - 1 ? 2048 : 512;
      let used = 0;
      for (let i = 0; i < n; i++) {
        const e = this.poolIdx + page * 1024 + 2 * i;
        const pte = this.ram32[e]!;
        if ((pte & V) === 0) continue;
        used++;
        const gpa = base + i * 2 ** (12 + 9 * level);
        if ((pte & (R | X)) === 0) {
          const child = (pte >>> 10) - this.poolPpn;
          if (child < ROOT_PAGES || child >= this.poolPages || this.tLevel[child] !== level - 1)
            return `entry ${i} of a level-${level} table links outside the pool or to a wrong level`;
          const r = visit(child, level - 1, gpa);
          if (r) return r;
          continue;
        }
        const pa = (pte >>> 10) * PAGE;
        if (
          pa >= this.ramBase &&
          pa < this.ramBase + this.hart.ramSize &&
          !(pa === gpa && this.inGuestRam(gpa))
        )
          return `guest-physical 0x${gpa.toString(16)} maps host RAM at 0x${pa.toString(16)} outside the guest's`;
        if (this.inGuestRam(gpa)) leaves++;
        else windows++;
      }
      if (level < this.tableLevels - 1 && this.tUsed[page] !== used)
        return `a level-${level} table counts ${this.tUsed[page]} entries and holds ${used}`;
      return undefined;
    };
    const r = visit(0, this.tableLevels - 1, 0);
    if (r) return r;
    if (leaves !== this.stats.ramLeaves) return `${leaves} RAM leaves, counted ${this.stats.ramLeaves}`;
    if (windows !== this.stats.windowsOpen)
      return `${windows} windows open, counted ${this.stats.windowsOpen}`;
    return undefined;
  }

  // ---------------------------------------------------------------------------

  private readonly path = new Int32Array(4);

  /** ram32 index of the entry for `gpa` in table page `table` at `level` (the root spans 4 pages). */
  private entry(table: number, level: number, gpa: number): number {
    const shift = 12 + 9 * level;
    // gpa < 2^32: the index bits above 31 are zero.
    const index =
      shift >= 32 ? 0 : Math.floor(gpa / 2 ** shift) & (level === this.tableLevels - 1 ? 0x7ff : 0x1ff);
    return this.poolIdx + table * 1024 + 2 * index;
  }

  /** Install a leaf for `gpa` -> `pa` at `leafLevel`, creating tables; false when the pool is full. */
  private set(gpa: number, pa: number, leafLevel: number): boolean {
    const ram32 = this.ram32;
    let table = 0;
    for (let level = this.tableLevels - 1; level > leafLevel; level--) {
      const e = this.entry(table, level, gpa);
      const pte = ram32[e]!;
      if ((pte & V) !== 0) {
        if ((pte & (R | X)) !== 0) return false; // inside a leaf already
        table = (pte >>> 10) - this.poolPpn;
        continue;
      }
      const child = this.alloc(level - 1);
      if (child < 0) return false;
      ram32[e] = ((this.poolPpn + child) << 10) | V;
      ram32[e + 1] = (this.poolPpn + child) >>> 22;
      if (level < this.tableLevels - 1) this.tUsed[table]!++;
      table = child;
    }
    const e = this.entry(table, leafLevel, gpa);
    const wasValid = (ram32[e]! & V) !== 0;
    const ppn = pa / PAGE;
    ram32[e] = (ppn << 10) | LEAF;
    ram32[e + 1] = ppn >>> 22;
    if (!wasValid && leafLevel < this.tableLevels - 1) this.tUsed[table]!++;
    return true;
  }

  private alloc(level: number): number {
    if (this.freeTop === 0) return -1;
    const p = this.freeList[--this.freeTop]!;
    this.ram32.fill(0, this.poolIdx + p * 1024, this.poolIdx + (p + 1) * 1024);
    this.tLevel[p] = level;
    this.tUsed[p] = 0;
    const s = this.stats;
    if (++s.tablePages > s.tablePagesPeak) s.tablePagesPeak = s.tablePages;
    return p;
  }

  private free(page: number): void {
    this.tLevel[page] = FREE;
    this.freeList[this.freeTop++] = page;
    this.stats.tablePages--;
  }

  private inGuestRam(pa: number): boolean {
    return pa >= this.ramBase && pa < this.ramBase + this.guestSize;
  }

  /** Guest RAM, and the rest of the hart's RAM (the VMM's, the pool included). */
  private isProtected(pa: number): boolean {
    return pa >= this.ramBase && pa < this.ramBase + this.hart.ramSize;
  }
}
