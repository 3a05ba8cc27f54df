/**
 * Shadow page tables: the VMM's own Sv39/Sv48 tables, derived from the
 * guest's, mapping guest-virtual addresses straight to host-physical ones.
 * The real satp points at them while a deprivileged guest runs, so the
 * hart's MMU enforces the guest's translation without ever reading the
 * guest's tables.
 *
 * Structure. Guest RAM sits at the same physical addresses on the host
 * (guest-physical = host-physical for RAM), so a shadow leaf is the guest's
 * leaf with its permissions adjusted. Shadow tables mirror guest tables level
 * for level (same mode, Sv39 or Sv48; a guest with translation off gets an
 * identity Sv39 tree); guest superpages are split into 4 KiB shadow leaves
 * (so one 4 KiB page can be write-protected inside a guest superpage).
 * Tables come from a pool in VMM-private RAM above guest RAM, which the
 * devicetree does not describe: no shadow entry ever maps it, or anything
 * but guest RAM, whatever the guest writes into its tables.
 *
 * Views. The guest's kernel and user programs both run in real U-mode, so
 * every shadow leaf has U=1 and the guest's U/S protection becomes a choice
 * of tree: per guest address space (satp) there is a user view (only the
 * guest's U=1 pages), a kernel view (only U=0 pages), and a kernel view with
 * SUM (U=0 pages plus the U=1 pages, readable/writable but never
 * executable). MXR is the real MXR (the hart applies it to U-mode loads),
 * folded into the SUM view's leaves when it is filled.
 *
 * Filling. Shadow entries are filled lazily: a shadow page fault exits to
 * the VMM, which walks the guest's tables exactly as the hart would (same
 * checks, same fault causes, hardware A/D updates), and either installs the
 * 4 KiB shadow leaf, reports the guest's own fault for reflection, or
 * reports a non-RAM (device) address for MMIO emulation. A leaf is writable
 * only once the guest's D bit is set, so the first store sets D.
 *
 * Guest mode. A hardware-assisted VMM without nested paging (the first
 * generation of VT-x) runs the guest in the hart's guest mode (VS/VU) with
 * vsatp pointing at the shadow and the G-stage off. The hart then checks
 * the guest's U/S protection itself: with `mode: "guest"` there is one view
 * per address space whose leaves keep the guest's U bit (the hart applies
 * SUM and MXR from vsstatus), the root goes to vsatp, and page flushes go to
 * the guest TLB. A guest with translation off runs behind the G-stage
 * instead (the identity tree has no U pages).
 *
 * Sync policies. "sfence": the shadow is a cache like a TLB: dropped on
 * sfence.vma (one page, or everything) and on satp writes, refilled on
 * demand. "write-protect" (the x86-era policy): every guest page-table page
 * a shadow table mirrors is mapped read-only in every view, so each guest
 * PTE write traps; the VMM emulates it and drops the shadow entries derived
 * from that PTE. The shadow then never goes stale, sfence.vma needs no work,
 * and shadows of other address spaces are kept across satp writes. A page
 * that keeps being written without being walked (the guest reused a freed
 * page table as data) stops being shadowed ("write flooding", as KVM does).
 *
 * Direct assignment. Device windows listed in `directPages` are the one
 * exception to "guest RAM only": a load or store the guest's translation
 * sends there is filled like RAM (a 4 KiB leaf to the device page, no X),
 * and the device then sees the guest's accesses without the VMM.
 *
 * Hot paths allocate nothing: all state is in typed arrays.
 */
import { type Hart, writeCsr } from "@hvkit/cpu";
import { Access, accessFaultCause, pageFaultCause, Walk } from "./walk.js";

/** How shadow tables are kept in sync with the guest's. */
export type ShadowSyncPolicy = "sfence" | "write-protect";
/**
 * How the guest runs on the shadow: "deprivileged" (kernel and user both in
 * real U-mode: trap-and-emulate) or "guest" (in the hart's guest mode, VS and
 * VU: hardware-assisted without nested paging). See the file comment.
 */
export type ShadowMode = "deprivileged" | "guest";

/** Options of {@link ShadowPageTables}. */
export interface ShadowOptions {
  /** The real hart: its RAM holds guest RAM and the pool; its satp and TLB are driven here. */
  readonly hart: Hart;
  /** Bytes of guest RAM at `hart.ramBase` (the rest of the hart's RAM is the VMM's). */
  readonly guestRamSize: number;
  /** Physical address of the pool of shadow-table pages (VMM-private RAM, page-aligned). */
  readonly poolBase: number;
  /** Bytes in the pool (a multiple of 4 KiB, at least 32 KiB). */
  readonly poolBytes: number;
  /** The sync policy. */
  readonly policy: ShadowSyncPolicy;
  /** How the guest runs: "deprivileged" (default) or "guest". */
  readonly mode?: ShadowMode;
  /**
   * Guest-physical windows of devices assigned to the guest (direct
   * assignment; page-aligned, outside guest RAM, guest-physical = host-
   * physical): a guest load or store there gets a shadow leaf to the device
   * page, readable and writable as the guest maps it, never executable, so
   * later accesses reach the device with no exit. Default none: every
   * non-RAM address is MMIO.
   */
  readonly directPages?: readonly { readonly base: number; readonly size: number }[];
}

/** Counters of the shadow page tables. */
export interface ShadowCounters {
  /** Shadow page faults handled (exits on a page fault the VMM looked at). */
  faults: number;
  /** Faults that installed a shadow leaf (the guest never saw them). */
  fills: number;
  /** Faults that were the guest's own (reflected to the guest kernel). */
  guestFaults: number;
  /** Faults on guest-physical addresses outside RAM (MMIO). */
  mmio: number;
  /** Faults that installed a leaf to an assigned device's page (`directPages`). */
  directFills: number;
  /** Leaves installed ahead of a fault, beside a filled one in the same guest superpage (see PREFILL_PAGES). */
  prefills: number;
  /** Guest writes to write-protected page-table pages (write-protect policy). */
  pteWrites: number;
  /** Shadow entries written (leaves and table links installed, entries dropped): the shadowSyncPte cost event. */
  ptesSynced: number;
  /** Sync events: sfence.vma and satp writes that dropped shadow state (sfence policy), PTE writes synced (write-protect). */
  syncs: number;
  /** Whole-shadow drops (sfence.vma of everything, satp writes under the sfence policy, MXR changes, pool exhaustion). */
  flushes: number;
  /** Whole-shadow drops because the pool ran out. */
  poolResets: number;
  /** Shadow-table pages in use now. */
  pagesInUse: number;
  /** Most shadow-table pages in use at once. */
  pagesPeak: number;
  /** Guest pages write-protected now because a shadow table mirrors them (write-protect policy). */
  trackedPages: number;
  /** Writable shadow leaves downgraded when their page became a page table (write-protect policy). */
  writeProtections: number;
  /** Page-table pages no longer shadowed after repeated writes (write-protect policy). */
  unshadowed: number;
  /** Real satp switches (address space or view changes). */
  rootSwitches: number;
  /** Shadow address spaces created. */
  contexts: number;
}

// PTE bits (privileged spec 4.3.1).
const V = 1;
const R = 2;
const W = 4;
const X = 8;
const U = 16;
const A = 64;
const D = 128;
/** Every shadow leaf: valid, user (the guest runs in U-mode), A and D preset (so the hart never writes them). */
const LEAF = V | U | A | D;

/** tSrc of a table that splits a guest superpage (derived from one guest leaf). */
const SRC_SPLIT = -2;
/** tSrc of an identity table (guest translation off). */
const SRC_BARE = -3;
/** tSrc of a root whose guest root table is not in guest RAM (every walk faults). */
const SRC_NONE = -4;
/** tLevel of a free pool page. */
const FREE = -1;

/** Shadow address spaces kept at once (write-protect policy); more drop everything. */
const MAX_CONTEXTS = 256;
/** Views per address space: guest user, guest kernel, guest kernel with SUM. */
const VIEWS = 3;
/**
 * Writes to a page-table page without a walk through it in between after
 * which it stops being shadowed (KVM uses 3 for its write-flooding heuristic;
 * Linux rewrites whole tables on fork and exit, so a few more here).
 */
const FLOOD_LIMIT = 16;
/** Nodes of the reverse map of writable shadow leaves, per pool page. */
const RMAP_PER_PAGE = 64;

/** Fill result: the pool ran out mid-walk (internal). */
const RETRY = -1;

/**
 * Leaves a fill inside a guest superpage installs at once: its aligned group
 * of this many 4 KiB pages (all mapped by the one guest leaf). Debian's
 * kernel maps its linear map with superpages and touches it page by page
 * as it boots.
 */
const PREFILL_PAGES = 16;

/** satp, and vsatp for guest mode: written through the hart's own CSR write, which flushes the TLB. */
const SATP = 0x180;
const VSATP = 0x280;

/** Shadow page tables for one VM: see the file comment. */
export class ShadowPageTables {
  /** The sync policy. */
  readonly policy: ShadowSyncPolicy;
  /** How the guest runs on the shadow. */
  readonly mode: ShadowMode;
  /** Counters (read them, do not write). */
  readonly stats: ShadowCounters = {
    faults: 0,
    fills: 0,
    guestFaults: 0,
    mmio: 0,
    directFills: 0,
    prefills: 0,
    pteWrites: 0,
    ptesSynced: 0,
    syncs: 0,
    flushes: 0,
    poolResets: 0,
    pagesInUse: 0,
    pagesPeak: 0,
    trackedPages: 0,
    writeProtections: 0,
    unshadowed: 0,
    rootSwitches: 0,
    contexts: 0,
  };
  /** Result of the last walk: the guest-physical address (valid for RAM, NOT_RAM, PT_WRITE). */
  gpa = 0;
  /** Result of the last walk: the exception cause for GUEST_FAULT. */
  faultCause = 0;

  private readonly hart: Hart;
  private readonly wp: boolean;
  /** Guest mode: one view, leaves keep the guest's U bit, vsatp and the guest TLB. */
  private readonly native: boolean;
  /** Bits every leaf gets: V, A and D (the hart never writes them), and U unless in guest mode. */
  private readonly leafBits: number;
  private readonly ram32: Int32Array;
  private readonly ramBase: number;
  private readonly guestSize: number;
  /** Direct-assignment windows: [start, end) guest-physical. */
  private readonly directStart: Float64Array;
  private readonly directEnd: Float64Array;
  private readonly poolIdx: number; // ram32 index of pool page 0
  private readonly poolPpn: number; // physical page number of pool page 0
  private readonly poolPages: number;

  // Per pool page.
  private readonly tLevel: Int8Array;
  private readonly tSrc: Int32Array; // mirrored guest table (guest page index), or SRC_*
  private readonly tKeyLo: Int32Array; // split tables: the guest leaf PTE they split (A/D masked)
  private readonly tKeyHi: Int32Array;
  private readonly tVaLo: Int32Array; // first virtual address the table covers
  private readonly tVaHi: Int32Array;
  private readonly tRoot: Int32Array; // root of the tree the table is in
  private readonly tParent: Int32Array; // entry (page * 512 + index) linking to it; -1 for roots
  private readonly mNext: Int32Array; // mirror list links
  private readonly mPrev: Int32Array;
  private readonly freeList: Int32Array;
  private freeTop = 0;

  // Per guest page (write-protect policy).
  private readonly mirrorHead: Int32Array;
  private readonly flood: Uint8Array;
  /** Pages the VMM keeps read-only to the guest whether or not a shadow mirrors them ({@link protectPage}). */
  private readonly held: Uint8Array;
  private readonly rmHead: Int32Array;
  private readonly rmNext: Int32Array;
  private readonly rmLoc: Int32Array;
  private rmFree = -1;

  // Address spaces: key (root page and mode) -> context; roots per view.
  private readonly ctxByKey = new Map<number, number>();
  private readonly ctxRoot = new Int32Array(MAX_CONTEXTS * VIEWS);
  private readonly ctxSatpLo = new Int32Array(MAX_CONTEXTS);
  private readonly ctxSatpHi = new Int32Array(MAX_CONTEXTS);
  private ctxCount = 0;

  // The guest's MMU state.
  private satpLo = 0;
  private satpHi = 0;
  private satpMode = 0; // 0 bare, 8 Sv39, 9 Sv48
  private vMode = 1; // guest privilege: 0 U, 1 S
  private sum = false;
  private mxr = false;
  /** The tree the real satp points at. */
  private curRoot = -1;
  private curCtx = -1;

  constructor(options: ShadowOptions) {
    const { hart, guestRamSize, poolBase, poolBytes, policy } = options;
    this.hart = hart;
    this.policy = policy;
    this.wp = policy === "write-protect";
    const mode = options.mode ?? "deprivileged";
    if (mode !== "deprivileged" && mode !== "guest")
      throw new RangeError(
        `shadow-paging: mode must be "deprivileged" or "guest" (got ${JSON.stringify(mode)})`,
      );
    this.mode = mode;
    this.native = mode === "guest";
    this.leafBits = this.native ? LEAF & ~U : LEAF;
    this.ramBase = hart.ramBase;
    this.guestSize = guestRamSize;
    const direct = options.directPages ?? [];
    this.directStart = new Float64Array(direct.length);
    this.directEnd = new Float64Array(direct.length);
    direct.forEach((r, i) => {
      const ramEnd = hart.ramBase + hart.ramSize;
      if (
        !Number.isInteger(r.base) ||
        !Number.isInteger(r.size) ||
        r.base % 4096 !== 0 ||
        r.size % 4096 !== 0 ||
        r.size <= 0 ||
        r.base + r.size > 2 ** 32 ||
        (r.base < ramEnd && hart.ramBase < r.base + r.size)
      ) {
        throw new RangeError(
          `shadow-paging: direct window 0x${r.base.toString(16)} + ${r.size} must be whole pages below 4 GiB outside RAM`,
        );
      }
      this.directStart[i] = r.base;
      this.directEnd[i] = r.base + r.size;
    });
    if (guestRamSize % 4096 !== 0 || guestRamSize > hart.ramSize) {
      throw new RangeError("shadow-paging: guest RAM must be page-aligned and inside the hart's RAM");
    }
    const poolOff = poolBase - hart.ramBase;
    if (
      poolBytes % 4096 !== 0 ||
      poolBytes < 8 * 4096 ||
      poolOff % 4096 !== 0 ||
      poolOff < guestRamSize ||
      poolOff + poolBytes > hart.ramSize
    ) {
      throw new RangeError(
        "shadow-paging: the pool must be at least 32 KiB of page-aligned RAM above guest RAM, inside the hart's RAM",
      );
    }
    this.ram32 = new Int32Array(hart.ram.buffer, hart.ram.byteOffset, hart.ram.length >> 2);
    this.poolIdx = poolOff >> 2;
    this.poolPpn = poolBase / 4096;
    const n = poolBytes / 4096;
    this.poolPages = n;
    this.tLevel = new Int8Array(n).fill(FREE);
    this.tSrc = new Int32Array(n);
    this.tKeyLo = new Int32Array(n);
    this.tKeyHi = new Int32Array(n);
    this.tVaLo = new Int32Array(n);
    this.tVaHi = new Int32Array(n);
    this.tRoot = new Int32Array(n);
    this.tParent = new Int32Array(n);
    this.mNext = new Int32Array(n);
    this.mPrev = new Int32Array(n);
    this.freeList = new Int32Array(n);
    const guestPages = guestRamSize / 4096;
    this.mirrorHead = new Int32Array(this.wp ? guestPages : 0).fill(-1);
    this.flood = new Uint8Array(this.wp ? guestPages : 0);
    this.held = new Uint8Array(this.wp ? guestPages : 0);
    this.rmHead = new Int32Array(this.wp ? guestPages : 0).fill(-1);
    this.rmNext = new Int32Array(this.wp ? n * RMAP_PER_PAGE : 0);
    this.rmLoc = new Int32Array(this.wp ? n * RMAP_PER_PAGE : 0);
    this.resetPool();
  }

  // ---------------------------------------------------------------------------
  // The guest's MMU state, as the VMM emulates it.

  /** The guest wrote satp (a value its WARL rules accept: mode 0, 8 or 9). */
  setSatp(lo: number, hi: number): void {
    this.satpLo = lo;
    this.satpHi = hi;
    this.satpMode = hi >>> 28;
    if (!this.wp) {
      // The hart drops its TLB on a satp write; the sfence policy drops the shadow likewise.
      this.stats.syncs++;
      this.dropAll();
    }
    this.activate();
  }

  /**
   * The guest's privilege (0 U, 1 S) or its sstatus.SUM changed. In guest
   * mode the hart applies them itself: they only steer the guest's
   * permission checks in {@link fill} and {@link translate}, so set them
   * before each.
   */
  setPrivilege(mode: number, sum: boolean): void {
    if (mode === this.vMode && sum === this.sum) return;
    this.vMode = mode;
    this.sum = sum;
    if (!this.native) this.activate();
  }

  /**
   * The guest's sstatus.MXR changed (the caller sets the real MXR): SUM views
   * fold it in, so drop them. In guest mode the hart applies vsstatus.MXR
   * itself (as for {@link setPrivilege}).
   */
  setMxr(mxr: boolean): void {
    if (mxr === this.mxr) return;
    this.mxr = mxr;
    if (this.native) return;
    this.dropAll();
    this.activate();
  }

  /**
   * The caller pointed the MMU elsewhere (guest mode: the guest turned
   * translation off and runs behind the G-stage): the shadow is kept, but
   * no TLB entry derives from it any more, and the next {@link activate}
   * writes the root again.
   */
  deactivate(): void {
    this.curRoot = -1;
  }

  /**
   * The guest executed sfence.vma: `all` when rs1 = x0 (every address),
   * else the page of (vaLo, vaHi). ASIDs are not tracked: a fence for one
   * address space drops what it would drop for all of them.
   */
  sfence(all: boolean, vaLo: number, vaHi: number): void {
    if (this.wp) return; // the shadow never went stale: every PTE write was synced as it happened
    this.stats.syncs++;
    if (all) {
      this.dropAll();
      this.activate();
      return;
    }
    // Drop the leaf for the address in every view of the current address space.
    const base = this.curCtx * VIEWS;
    const r0 = this.ctxRoot[base]!;
    const r1 = this.ctxRoot[base + 1]!;
    const r2 = this.ctxRoot[base + 2]!;
    if (r0 >= 0) this.dropVa(r0, vaLo, vaHi);
    if (r1 >= 0 && r1 !== r0) this.dropVa(r1, vaLo, vaHi);
    if (r2 >= 0 && r2 !== r0 && r2 !== r1) this.dropVa(r2, vaLo, vaHi);
  }

  /** The VMM core wrote guest RAM behind the guest's back (SBI console reads, DMA). */
  guestMemoryWritten(pa: number, length: number): void {
    if (!this.wp) return; // like a TLB: the guest must fence
    const start = pa - this.ramBase;
    const end = Math.min(start + length, this.guestSize);
    for (let page = Math.max(0, start) >>> 12; page << 12 < end; page++) {
      if (this.mirrorHead[page] !== -1) this.syncPtes(page, 0, 511);
    }
  }

  /** Point the real satp (vsatp in guest mode) at the tree for the current address space and view (call once before running). */
  activate(): void {
    for (let attempt = 0; ; attempt++) {
      const root = this.rootFor();
      if (root >= 0) {
        if (root !== this.curRoot) {
          this.curRoot = root;
          this.stats.rootSwitches++;
          const mode = this.satpMode === 0 ? 8 : this.satpMode;
          writeCsr(this.hart, this.native ? VSATP : SATP, this.poolPpn + root, mode << 28);
        }
        return;
      }
      if (attempt > 0) throw new Error("shadow-paging: the pool cannot hold one root table");
      this.stats.poolResets++;
      this.dropAll();
    }
  }

  // ---------------------------------------------------------------------------
  // Faults.

  /**
   * A shadow page fault at virtual address (lo, hi) for an access of kind
   * `acc`: walk the guest's tables and install the shadow leaf, or report
   * why not (see {@link Walk}).
   */
  fill(lo: number, hi: number, acc: number): number {
    const s = this.stats;
    s.faults++;
    let r = this.walk(lo, hi, acc, true);
    if (r === RETRY) {
      s.poolResets++;
      this.dropAll();
      this.activate();
      r = this.walk(lo, hi, acc, true);
      if (r === RETRY) throw new Error("shadow-paging: the pool cannot hold one walk");
    }
    if (r === Walk.RAM) s.fills++;
    else if (r === Walk.GUEST_FAULT) s.guestFaults++;
    else if (r === Walk.NOT_RAM) s.mmio++;
    else s.pteWrites++;
    return r;
  }

  /**
   * Translate (lo, hi) for an access of kind `acc` as the guest's MMU would
   * (setting A/D), without touching the shadow: for the VMM's emulation of a
   * load or store. Returns a {@link Walk} code (never PT_WRITE); `gpa` or
   * `faultCause` hold the result.
   */
  translate(lo: number, hi: number, acc: number): number {
    return this.walk(lo, hi, acc, false);
  }

  /** Whether guest-physical `gpa` lies in a write-protected page-table page. */
  isPageTable(gpa: number): boolean {
    if (!this.wp) return false;
    const off = gpa - this.ramBase;
    return off >= 0 && off < this.guestSize && this.readOnly(off >>> 12);
  }

  /** Whether guest page `gpage` is read-only to the guest: a shadowed page table, or held by the VMM. */
  private readOnly(gpage: number): boolean {
    return this.mirrorHead[gpage] !== -1 || this.held[gpage] !== 0;
  }

  /**
   * Keep the guest page at `gpa` read-only to the guest from now on,
   * whatever its own PTEs say and whether or not a shadow table mirrors it
   * (a paravirtual VMM's pinned page tables): writable shadow leaves that map
   * it are downgraded, and guest stores to it end in {@link Walk.PT_WRITE}.
   * Write-protect policy only; false otherwise or outside guest RAM.
   */
  protectPage(gpa: number): boolean {
    const off = gpa - this.ramBase;
    if (!this.wp || off < 0 || off >= this.guestSize) return false;
    const gpage = off >>> 12;
    if (this.held[gpage] === 0 && this.mirrorHead[gpage] === -1) this.writeProtect(gpage);
    this.held[gpage] = 1;
    return true;
  }

  /**
   * Undo {@link protectPage} for a page the guest says is no longer a page
   * table: it stops being shadowed too (as after write flooding), so the
   * guest's stores to it run without exits; a walk that still reaches it
   * shadows it again.
   */
  unprotectPage(gpa: number): void {
    const off = gpa - this.ramBase;
    if (!this.wp || off < 0 || off >= this.guestSize) return;
    const gpage = off >>> 12;
    this.held[gpage] = 0;
    if (this.mirrorHead[gpage] !== -1) this.unshadow(gpage);
  }

  /**
   * The VMM emulated a guest store of `size` bytes at guest-physical `gpa`
   * (inside one page) to a write-protected page-table page: drop the shadow
   * entries derived from the PTEs it changed. `flood` (default true) counts
   * the write towards the flooding heuristic that stops shadowing a page
   * written too often; a paravirtual VMM's validated updates pass false.
   */
  pteWritten(gpa: number, size: number, flood = true): void {
    if (!this.wp) return;
    const off = gpa - this.ramBase;
    if (off < 0 || off >= this.guestSize) return;
    const page = off >>> 12;
    if (this.mirrorHead[page] === -1) return;
    if (flood && ++this.flood[page]! >= FLOOD_LIMIT) {
      this.unshadow(page);
      return;
    }
    this.syncPtes(page, (off & 0xfff) >>> 3, ((off & 0xfff) + size - 1) >>> 3);
  }

  /**
   * Open a window for the VMM to single-step one guest store (SC, AMO) to a
   * write-protected page-table page at virtual address (lo, hi): make its
   * current-view shadow leaf writable. Returns a handle for
   * {@link closeWriteWindow}, or -1 when no leaf maps it.
   */
  openWriteWindow(lo: number, hi: number): number {
    const loc = this.leafLoc(this.curRoot, lo, hi);
    if (loc < 0) return -1;
    const i = this.entryIdx(loc);
    const pte = this.ram32[i]!;
    if ((pte & V) === 0) return -1;
    this.ram32[i] = pte | W | R;
    this.flushPage(lo, hi);
    return loc;
  }

  /** Close the window opened by {@link openWriteWindow} (write-protect the leaf again). */
  closeWriteWindow(loc: number, lo: number, hi: number): void {
    const i = this.entryIdx(loc);
    const pte = this.ram32[i]!;
    if ((pte & V) !== 0) this.ram32[i] = pte & ~W;
    this.flushPage(lo, hi);
  }

  // ---------------------------------------------------------------------------
  // The walk (privileged spec 4.3.2, as the hart implements it).

  private walk(lo: number, hi: number, acc: number, build: boolean): number {
    const ram32 = this.ram32;
    const ramBase = this.ramBase;
    const guestSize = this.guestSize;
    const mode = this.satpMode;
    if (mode === 0) {
      // Translation off: physical addresses, below 4 GiB.
      if (hi !== 0) return this.fault(accessFaultCause(acc));
      const gpa = lo >>> 0;
      this.gpa = gpa;
      const off = gpa - ramBase;
      if (off < 0 || off >= guestSize) {
        if (!build || acc === Access.FETCH || !this.isDirect(gpa)) return Walk.NOT_RAM;
        const res = this.installSplit(this.curRoot, 1, lo, hi, (gpa >>> 12) | 0, R | W, -1);
        if (res === Walk.RAM) this.stats.directFills++;
        return res;
      }
      if (!build) return Walk.RAM;
      const res = this.installSplit(this.curRoot, 1, lo, hi, (gpa >>> 12) | 0, R | W | X, off >>> 12);
      if (res === Walk.RAM && acc === Access.STORE && this.wp && this.readOnly(off >>> 12))
        return Walk.PT_WRITE;
      return res;
    }
    const levels = mode === 8 ? 3 : 4;
    const signHi = 12 + 9 * levels - 1 - 32;
    const upper = hi >> signHi;
    if (upper !== 0 && upper !== -1) return this.fault(pageFaultCause(acc));
    const satpHi = this.satpHi;
    const rootLo = this.satpLo;
    if ((satpHi & 0xfff) !== 0 || rootLo >>> 20 !== 0) return this.fault(accessFaultCause(acc));
    let table = (rootLo << 12) >>> 0;
    const vMode = this.vMode;
    const sum = this.sum;
    const mxr = this.mxr;
    let sTab = build ? this.curRoot : -1;
    for (let level = levels - 1; level >= 0; level--) {
      const shift = 12 + 9 * level;
      const vpn =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + 9 > 32
            ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff
            : (lo >>> shift) & 0x1ff;
      const off = table - ramBase + vpn * 8;
      if (off < 0 || off >= guestSize) return this.fault(accessFaultCause(acc));
      let pteLo = ram32[off >> 2]!;
      const pteHi = ram32[(off >> 2) + 1]!;
      if ((pteLo & V) === 0 || (pteLo & (R | W)) === W || (pteHi & 0xffc00000) !== 0) {
        return this.fault(pageFaultCause(acc));
      }
      const ppnL = (pteLo >>> 10) | (pteHi << 22);
      const ppnH = (pteHi >>> 10) & 0xfff;
      if ((pteLo & (R | X)) === 0) {
        // A pointer to the next level: D, A and U must be clear.
        if ((pteLo & (D | A | U)) !== 0 || level === 0) return this.fault(pageFaultCause(acc));
        if (ppnH !== 0 || ppnL >>> 20 !== 0) return this.fault(accessFaultCause(acc));
        table = (ppnL << 12) >>> 0;
        if (sTab >= 0) {
          const next = table - ramBase;
          // A table outside guest RAM faults at the next level: do not shadow it.
          if (next < 0 || next >= guestSize) return this.fault(accessFaultCause(acc));
          sTab = this.childMirror(sTab, vpn, level - 1, next >>> 12);
          if (sTab === RETRY) return RETRY;
        }
        continue;
      }
      // A leaf: the guest's permission checks, for its own privilege, SUM and MXR.
      const r = (pteLo & R) !== 0;
      const w = (pteLo & W) !== 0;
      const x = (pteLo & X) !== 0;
      const u = (pteLo & U) !== 0;
      if (vMode === 0 ? !u : u && (acc === Access.FETCH || !sum)) return this.fault(pageFaultCause(acc));
      if (acc === Access.FETCH ? !x : acc === Access.LOAD ? !(r || (mxr && x)) : !w)
        return this.fault(pageFaultCause(acc));
      if (level > 0 && (ppnL & ((1 << (9 * level)) - 1)) !== 0) return this.fault(pageFaultCause(acc));
      // Hardware A/D update (the hart's order: before the PPN range check).
      const need = acc === Access.STORE ? A | D : A;
      if ((pteLo & need) !== need) {
        pteLo |= need;
        ram32[off >> 2] = pteLo;
        this.hart.ramChanged(ramBase + off, 8);
      }
      if (ppnH !== 0) return this.fault(accessFaultCause(acc));
      const lowMask = level === 0 ? 0 : (1 << (9 * level)) - 1;
      const vpnLow = ((lo >>> 12) | (hi << 20)) & lowMask;
      const ppn = (ppnL & ~lowMask) | vpnLow;
      if (ppn >>> 20 !== 0) return this.fault(accessFaultCause(acc));
      const gpa = ((ppn << 12) | (lo & 0xfff)) >>> 0;
      this.gpa = gpa;
      const goff = gpa - ramBase;
      const device = goff < 0 || goff >= guestSize;
      if (device && (sTab < 0 || acc === Access.FETCH || !this.isDirect(gpa))) return Walk.NOT_RAM;
      if (sTab < 0) return Walk.RAM;
      const gpage = device ? -1 : goff >>> 12;
      let perm = this.leafPerm(pteLo);
      if (device) {
        // An assigned device's page: loads and stores only (a fetch stays an access fault).
        perm &= ~X;
        if ((perm & (R | W)) === 0) return Walk.NOT_RAM;
      }
      if (level > 0) {
        sTab = this.childSplit(sTab, vpn, level, pteLo, pteHi);
        if (sTab === RETRY) return RETRY;
      }
      const { poolResets, ptesSynced } = this.stats;
      const res = this.installSplit(sTab, level - 2, lo, hi, ppn & 0xfffff, perm, gpage);
      if (device && res === Walk.RAM) this.stats.directFills++;
      // Only after a new leaf (not a trapped PTE write through one already there), and not when
      // the fill itself dropped everything (a full reverse map: sTab is gone).
      else if (
        level > 0 &&
        res === Walk.RAM &&
        this.stats.ptesSynced !== ptesSynced &&
        this.stats.poolResets === poolResets
      )
        this.prefillSplit(sTab, level, lo, hi, ppn, perm);
      // A store to a write-protected page table: the leaf is in (read-only); the VMM emulates the store.
      if (res === Walk.RAM && acc === Access.STORE && this.wp && gpage >= 0 && this.readOnly(gpage))
        return Walk.PT_WRITE;
      return res;
    }
    return this.fault(pageFaultCause(acc));
  }

  /**
   * The shadow leaf's permissions for guest leaf `pteLo` in the current view
   * (its U/SUM/MXR checks passed): the guest's, writable once dirty.
   */
  private leafPerm(pteLo: number): number {
    const dirtyW = (pteLo & D) !== 0 ? pteLo & W : 0;
    if (this.native) return (pteLo & (R | X | U)) | dirtyW; // the hart checks U/SUM/MXR
    if (this.vMode === 0 || (pteLo & U) === 0) return (pteLo & (R | X)) | dirtyW;
    // SUM view: never executable.
    return ((pteLo & R) !== 0 || (this.mxr && (pteLo & X) !== 0) ? R : 0) | dirtyW;
  }

  /**
   * After a fill inside a guest superpage: the other 4 KiB leaves of its
   * aligned group of PREFILL_PAGES, which the same guest leaf maps with the
   * same permissions (its A bit set by this walk, W only if D is), as a TLB
   * may fetch valid translations ahead. `sTab` is the split table below the
   * guest leaf at `level`, `ppn` the faulting page's host page. Neighbours
   * outside guest RAM are left to their own faults. Stops if an install
   * drops the whole shadow (the write-protect policy's reverse map is full):
   * `sTab` is then free.
   */
  private prefillSplit(sTab: number, level: number, lo: number, hi: number, ppn: number, perm: number): void {
    const resets = this.stats.poolResets;
    const first = (lo >>> 12) & ~(PREFILL_PAGES - 1);
    const base = ppn - ((lo >>> 12) & (PREFILL_PAGES - 1));
    const guestPages = this.guestSize >>> 12;
    const ramPage = this.ramBase >>> 12;
    for (let i = 0; i < PREFILL_PAGES; i++) {
      const page = first + i;
      if (page === lo >>> 12) continue;
      const gpage = base + i - ramPage;
      if (gpage < 0 || gpage >= guestPages) continue;
      // Never RETRY: the split tables down to the leaf table exist (this walk made them).
      const synced = this.stats.ptesSynced;
      this.installSplit(sTab, level - 2, (page << 12) | 0, hi, (base + i) & 0xfffff, perm, gpage);
      if (this.stats.poolResets !== resets) return;
      if (this.stats.ptesSynced !== synced) this.stats.prefills++;
    }
  }

  /** Whether guest-physical `gpa` lies in a direct-assignment window. */
  private isDirect(gpa: number): boolean {
    for (let i = 0; i < this.directStart.length; i++) {
      if (gpa >= this.directStart[i]! && gpa < this.directEnd[i]!) return true;
    }
    return false;
  }

  private fault(cause: number): number {
    this.faultCause = cause;
    return Walk.GUEST_FAULT;
  }

  /**
   * Install the 4 KiB leaf for (lo, hi) below table `sTab` (at level
   * `level` + 1), creating split tables for the levels `level` down to 0
   * (level < 0: sTab is the leaf table already). `ppn` is the host page,
   * `gpage` its guest RAM page.
   */
  private installSplit(
    sTab: number,
    level: number,
    lo: number,
    hi: number,
    ppn: number,
    perm: number,
    gpage: number,
  ): number {
    for (let l = level; l >= 0; l--) {
      // Split/identity tables below a superpage leaf (or the identity root).
      const shift = 12 + 9 * (l + 1);
      const vpn = shift + 9 > 32 ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff : (lo >>> shift) & 0x1ff;
      const child = this.childOf(sTab, vpn);
      if (child >= 0) {
        sTab = child;
        continue;
      }
      const c = this.alloc();
      if (c < 0) return RETRY;
      this.initTable(c, l, this.tSrc[sTab] === SRC_BARE ? SRC_BARE : SRC_SPLIT, sTab, vpn);
      this.tKeyLo[c] = this.tKeyLo[sTab]!;
      this.tKeyHi[c] = this.tKeyHi[sTab]!;
      this.link(sTab, vpn, c);
      sTab = c;
    }
    if (this.wp && (perm & W) !== 0 && gpage >= 0 && this.readOnly(gpage)) perm &= ~W;
    // Unreachable: the walk allowed the access, so some permission remains (and R=W=X=0 would be a link).
    if ((perm & (R | W | X)) === 0)
      throw new Error("shadow-paging: internal error: a leaf without permissions");
    const idx = (lo >>> 12) & 0x1ff;
    const e = this.poolIdx + sTab * 1024 + idx * 2;
    const old = this.ram32[e]!;
    const pte = (ppn << 10) | perm | this.leafBits;
    if (old !== pte) {
      this.ram32[e] = pte;
      this.ram32[e + 1] = 0;
      this.stats.ptesSynced++;
      // Losing a permission, changing U or the page: the hart may cache the old entry.
      if (
        (old & V) !== 0 &&
        ((old & ~pte & (R | W | X)) !== 0 || ((old ^ pte) & U) !== 0 || old >>> 10 !== ppn) &&
        this.tRoot[sTab] === this.curRoot
      )
        this.flushPage(lo, hi);
      if (this.wp && gpage >= 0 && (perm & W) !== 0 && !((old & W) !== 0 && old >>> 10 === ppn))
        this.rmapAdd(gpage, sTab * 512 + idx);
    }
    return Walk.RAM;
  }

  /** The mirror of guest table `gpage` at `level` under entry `vpn` of `sTab`, created if need be. */
  private childMirror(sTab: number, vpn: number, level: number, gpage: number): number {
    let child = this.childOf(sTab, vpn);
    if (child >= 0) {
      if (this.tSrc[child] === gpage && this.tLevel[child] === level) {
        if (this.wp) this.flood[gpage] = 0; // in use as a page table
        return child;
      }
      // The guest re-pointed the entry (sfence policy: it has not fenced yet; refresh anyway).
      this.dropEntry(sTab, vpn);
    }
    child = this.alloc();
    if (child < 0) return RETRY;
    this.initTable(child, level, gpage, sTab, vpn);
    this.link(sTab, vpn, child);
    if (this.wp) this.addMirror(child, gpage);
    return child;
  }

  /** The first split table below guest leaf (pteLo, pteHi) at entry `vpn` of `sTab` (level `level` > 0). */
  private childSplit(sTab: number, vpn: number, level: number, pteLo: number, pteHi: number): number {
    const keyLo = pteLo & ~(A | D);
    let child = this.childOf(sTab, vpn);
    if (child >= 0) {
      if (this.tSrc[child] === SRC_SPLIT && this.tKeyLo[child] === keyLo && this.tKeyHi[child] === pteHi)
        return child;
      this.dropEntry(sTab, vpn);
    }
    child = this.alloc();
    if (child < 0) return RETRY;
    this.initTable(child, level - 1, SRC_SPLIT, sTab, vpn);
    this.tKeyLo[child] = keyLo;
    this.tKeyHi[child] = pteHi;
    this.link(sTab, vpn, child);
    return child;
  }

  /** The child table linked from entry `vpn` of `sTab`, or -1. */
  private childOf(sTab: number, vpn: number): number {
    const pte = this.ram32[this.poolIdx + sTab * 1024 + vpn * 2]!;
    if ((pte & V) === 0 || (pte & (R | X)) !== 0) return -1;
    return (pte >>> 10) - this.poolPpn;
  }

  private link(sTab: number, vpn: number, child: number): void {
    const e = this.poolIdx + sTab * 1024 + vpn * 2;
    this.ram32[e] = ((this.poolPpn + child) << 10) | V;
    this.ram32[e + 1] = 0;
    this.stats.ptesSynced++;
  }

  /** Record a new table: its level, source, covered addresses, tree and parent entry. */
  private initTable(c: number, level: number, src: number, parent: number, vpn: number): void {
    this.tLevel[c] = level;
    this.tSrc[c] = src;
    this.tRoot[c] = parent >= 0 ? this.tRoot[parent]! : c;
    this.tParent[c] = parent >= 0 ? parent * 512 + vpn : -1;
    if (parent < 0) {
      this.tVaLo[c] = 0;
      this.tVaHi[c] = 0;
      return;
    }
    // The parent's base plus vpn << (12 + 9 * (level + 1)), sign-extended at the root.
    const shift = 12 + 9 * (level + 1);
    let lo = this.tVaLo[parent]!;
    let hi = this.tVaHi[parent]!;
    if (shift >= 32) hi |= vpn << (shift - 32);
    else {
      lo |= vpn << shift;
      if (shift + 9 > 32) hi |= vpn >>> (32 - shift);
    }
    if (this.tParent[parent] === -1 && this.tSrc[parent] !== SRC_BARE && vpn >= 256) {
      // Upper half of the address space: bits above the top VPN copy its top bit.
      const topBit = shift + 8; // 38 (Sv39) or 47 (Sv48)
      hi |= ~((1 << (topBit - 32)) - 1);
    }
    this.tVaLo[c] = lo;
    this.tVaHi[c] = hi;
  }

  // ---------------------------------------------------------------------------
  // Dropping shadow state.

  /** Clear entry `vpn` of `sTab` (freeing the subtree a link leads to) and flush what the hart may cache. */
  private dropEntry(sTab: number, vpn: number): void {
    const e = this.poolIdx + sTab * 1024 + vpn * 2;
    const pte = this.ram32[e]!;
    if ((pte & V) === 0) return;
    this.ram32[e] = 0;
    this.ram32[e + 1] = 0;
    this.stats.ptesSynced++;
    const current = this.tRoot[sTab] === this.curRoot;
    if ((pte & (R | X)) === 0) {
      this.freeTree((pte >>> 10) - this.poolPpn);
      if (current) this.hart.flushTlb();
    } else if (current) {
      this.flushPage(this.tVaLo[sTab]! | (vpn << 12), this.tVaHi[sTab]!);
    }
  }

  /** Drop the shadow leaf for (lo, hi) in the tree at `root` (a whole split superpage when it is one). */
  private dropVa(root: number, lo: number, hi: number): void {
    let sTab = root;
    let level = this.tLevel[root]!;
    for (; level >= 0; level--) {
      const shift = 12 + 9 * level;
      const vpn =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + 9 > 32
            ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff
            : (lo >>> shift) & 0x1ff;
      if (level === 0) {
        this.dropEntry(sTab, vpn);
        return;
      }
      const child = this.childOf(sTab, vpn);
      if (child < 0) return;
      if (this.tSrc[child] === SRC_SPLIT) {
        // The guest's leaf is a superpage: its TLB entry covers all of it.
        this.dropEntry(sTab, vpn);
        return;
      }
      sTab = child;
    }
  }

  /** The pool entry (page * 512 + index) of the 4 KiB leaf for (lo, hi) in the tree at `root`, or -1. */
  private leafLoc(root: number, lo: number, hi: number): number {
    if (root < 0) return -1;
    let sTab = root;
    for (let level = this.tLevel[root]!; level > 0; level--) {
      const shift = 12 + 9 * level;
      const vpn =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + 9 > 32
            ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff
            : (lo >>> shift) & 0x1ff;
      sTab = this.childOf(sTab, vpn);
      if (sTab < 0) return -1;
    }
    return sTab * 512 + ((lo >>> 12) & 0x1ff);
  }

  private entryIdx(loc: number): number {
    return this.poolIdx + (loc >>> 9) * 1024 + (loc & 511) * 2;
  }

  /** Free table `p` and every table below it. */
  private freeTree(p: number): void {
    if (this.tLevel[p]! > 0) {
      const base = this.poolIdx + p * 1024;
      const ram32 = this.ram32;
      for (let i = 0; i < 512; i++) {
        const pte = ram32[base + 2 * i]!;
        if ((pte & V) !== 0 && (pte & (R | X)) === 0) this.freeTree((pte >>> 10) - this.poolPpn);
      }
    }
    if (this.wp && this.tSrc[p]! >= 0) this.removeMirror(p);
    this.tLevel[p] = FREE;
    this.freeList[this.freeTop++] = p;
    this.stats.pagesInUse--;
  }

  private alloc(): number {
    if (this.freeTop === 0) return -1;
    const p = this.freeList[--this.freeTop]!;
    const base = this.poolIdx + p * 1024;
    this.ram32.fill(0, base, base + 1024);
    const s = this.stats;
    if (++s.pagesInUse > s.pagesPeak) s.pagesPeak = s.pagesInUse;
    return p;
  }

  /** Forget every shadow table and address space (a full flush); the caller re-activates. */
  private dropAll(): void {
    this.stats.flushes++;
    this.resetPool();
    this.hart.flushTlb();
  }

  private resetPool(): void {
    const n = this.poolPages;
    for (let i = 0; i < n; i++) this.freeList[i] = n - 1 - i;
    this.freeTop = n;
    this.tLevel.fill(FREE);
    this.ctxByKey.clear();
    this.ctxRoot.fill(-1);
    this.ctxCount = 0;
    this.curRoot = -1;
    this.curCtx = -1;
    this.stats.pagesInUse = 0;
    if (this.wp) {
      this.mirrorHead.fill(-1);
      this.flood.fill(0);
      this.rmHead.fill(-1);
      const m = this.rmNext.length;
      for (let i = 0; i < m; i++) this.rmNext[i] = i + 1 < m ? i + 1 : -1;
      this.rmFree = m > 0 ? 0 : -1;
      this.stats.trackedPages = 0;
    }
  }

  /** The root of the current address space's tree for the current view, created if need be; -1 if the pool is full. */
  private rootFor(): number {
    const mode = this.satpMode;
    // Key: root page and mode (ASIDs are not tracked); translation off is one identity
    // address space, and so is every root outside the first 4 GiB (their walks all fault).
    const key = mode === 0 ? -1 : (this.satpHi & 0xfff) !== 0 ? -2 - mode : (this.satpLo >>> 0) * 16 + mode;
    let ctx = this.ctxByKey.get(key);
    if (ctx === undefined) {
      if (this.ctxCount === MAX_CONTEXTS) return -1;
      ctx = this.ctxCount++;
      this.ctxByKey.set(key, ctx);
      this.ctxSatpLo[ctx] = this.satpLo;
      this.ctxSatpHi[ctx] = this.satpHi;
      this.stats.contexts++;
    }
    this.curCtx = ctx;
    const view = mode === 0 || this.native ? 0 : this.vMode === 0 ? 0 : this.sum ? 2 : 1;
    const slot = ctx * VIEWS + view;
    let root = this.ctxRoot[slot]!;
    if (root >= 0) return root;
    root = this.alloc();
    if (root < 0) return -1;
    if (mode === 0) {
      this.initTable(root, 2, SRC_BARE, -1, 0);
      this.ctxRoot[ctx * VIEWS] = root;
      this.ctxRoot[ctx * VIEWS + 1] = root;
      this.ctxRoot[ctx * VIEWS + 2] = root;
      return root;
    }
    const levels = mode === 8 ? 3 : 4;
    const rootOff = this.satpLo * 4096 - this.ramBase;
    const inRam =
      (this.satpHi & 0xfff) === 0 && this.satpLo >>> 20 === 0 && rootOff >= 0 && rootOff < this.guestSize;
    const gpage = inRam ? rootOff >>> 12 : SRC_NONE;
    this.initTable(root, levels - 1, gpage, -1, 0);
    if (this.wp && inRam) this.addMirror(root, gpage);
    this.ctxRoot[slot] = root;
    return root;
  }

  // ---------------------------------------------------------------------------
  // Write protection (write-protect policy).

  /** Shadow entries derived from PTEs first..last of guest page-table page `gpage` are stale: drop them. */
  private syncPtes(gpage: number, first: number, last: number): void {
    this.stats.syncs++;
    for (let m = this.mirrorHead[gpage]!; m !== -1; ) {
      for (let i = first; i <= last; i++) this.dropEntry(m, i);
      const next = this.mNext[m]!;
      // A table that links to its own page may have freed mirrors of this list: start over
      // (entries already dropped are no-ops the second time).
      m =
        next === -1 || (this.tLevel[next] !== FREE && this.tSrc[next] === gpage)
          ? next
          : this.mirrorHead[gpage]!;
    }
  }

  private addMirror(p: number, gpage: number): void {
    const head = this.mirrorHead[gpage]!;
    this.mNext[p] = head;
    this.mPrev[p] = -1;
    if (head !== -1) this.mPrev[head] = p;
    this.mirrorHead[gpage] = p;
    this.flood[gpage] = 0;
    if (head === -1) {
      this.stats.trackedPages++;
      this.writeProtect(gpage);
    }
  }

  private removeMirror(p: number): void {
    const gpage = this.tSrc[p]!;
    const next = this.mNext[p]!;
    const prev = this.mPrev[p]!;
    if (prev !== -1) this.mNext[prev] = next;
    else this.mirrorHead[gpage] = next;
    if (next !== -1) this.mPrev[next] = prev;
    if (this.mirrorHead[gpage] === -1) this.stats.trackedPages--;
  }

  /** `gpage` just became a shadowed page table: downgrade every writable shadow leaf that maps it. */
  private writeProtect(gpage: number): void {
    const ppn = (this.ramBase >>> 12) + gpage;
    for (let n = this.rmHead[gpage]!; n !== -1; ) {
      const loc = this.rmLoc[n]!;
      const p = loc >>> 9;
      const i = this.entryIdx(loc);
      const pte = this.ram32[i]!;
      if (this.tLevel[p] === 0 && (pte & (V | W)) === (V | W) && pte >>> 10 === ppn) {
        this.ram32[i] = pte & ~W;
        this.stats.writeProtections++;
        this.stats.ptesSynced++;
        if (this.tRoot[p] === this.curRoot)
          this.flushPage(this.tVaLo[p]! | ((loc & 511) << 12), this.tVaHi[p]!);
      }
      const next = this.rmNext[n]!;
      this.rmNext[n] = this.rmFree;
      this.rmFree = n;
      n = next;
    }
    this.rmHead[gpage] = -1;
  }

  /** Remember that pool entry `loc` maps guest page `gpage` writable. */
  private rmapAdd(gpage: number, loc: number): void {
    let n = this.rmFree;
    if (n === -1) {
      this.rmapCompact();
      n = this.rmFree;
      if (n === -1) {
        // Every node names a live writable leaf: forget them by dropping write access everywhere.
        this.stats.poolResets++;
        this.dropAll();
        this.activate();
        return;
      }
    }
    this.rmFree = this.rmNext[n]!;
    this.rmLoc[n] = loc;
    this.rmNext[n] = this.rmHead[gpage]!;
    this.rmHead[gpage] = n;
  }

  /** Free the reverse-map nodes whose leaf no longer maps their page writable. */
  private rmapCompact(): void {
    const heads = this.rmHead;
    const base = this.ramBase >>> 12;
    for (let g = 0; g < heads.length; g++) {
      let prev = -1;
      for (let n = heads[g]!; n !== -1; ) {
        const next = this.rmNext[n]!;
        const loc = this.rmLoc[n]!;
        const pte = this.ram32[this.entryIdx(loc)]!;
        const live = this.tLevel[loc >>> 9] === 0 && (pte & (V | W)) === (V | W) && pte >>> 10 === base + g;
        if (live) prev = n;
        else {
          if (prev === -1) heads[g] = next;
          else this.rmNext[prev] = next;
          this.rmNext[n] = this.rmFree;
          this.rmFree = n;
        }
        n = next;
      }
    }
  }

  /** Stop shadowing page-table page `gpage`: unlink and free every table mirroring it. */
  private unshadow(gpage: number): void {
    this.stats.unshadowed++;
    let resetRoot = false;
    while (this.mirrorHead[gpage] !== -1) {
      const m = this.mirrorHead[gpage]!;
      const parent = this.tParent[m]!;
      if (parent >= 0) {
        this.ram32[this.entryIdx(parent)] = 0;
        this.ram32[this.entryIdx(parent) + 1] = 0;
        this.stats.ptesSynced++;
      } else {
        // A root: its address space's view starts over.
        const slot = this.ctxRoot.indexOf(m);
        if (slot >= 0) this.ctxRoot[slot] = -1;
        if (m === this.curRoot) resetRoot = true;
      }
      this.freeTree(m);
    }
    this.flood[gpage] = 0;
    this.hart.flushTlb();
    if (resetRoot) {
      this.curRoot = -1;
      this.activate();
    }
  }

  /** Drop the hart's cached translations of the page at (lo, hi): the guest TLB in guest mode. */
  private flushPage(lo: number, hi: number): void {
    if (this.native) this.hart.flushGuestTlbPage(lo, hi);
    else this.hart.flushTlbPage(lo, hi);
  }

  // ---------------------------------------------------------------------------
  // Checking (tests and debugging; not on any hot path).

  /**
   * Check every shadow leaf against the guest's tables as they are now: it
   * must map guest RAM only, the page the guest's translation gives, with no
   * permission the guest's translation (in that leaf's view) denies. Under
   * the write-protect policy this holds at every instruction boundary; under
   * the sfence policy only for addresses the guest has fenced since it last
   * changed their PTEs. Returns the first violation, or undefined.
   */
  check(options: { readonly safetyOnly?: boolean } = {}): string | undefined {
    const ramPpnLo = this.ramBase / 4096;
    const ramPpnHi = (this.ramBase + this.guestSize) / 4096;
    const seen = new Set<number>();
    for (let ctx = 0; ctx < this.ctxCount; ctx++) {
      for (let view = 0; view < VIEWS; view++) {
        const root = this.ctxRoot[ctx * VIEWS + view]!;
        if (root < 0 || seen.has(root)) continue;
        seen.add(root);
        const stack = [root];
        while (stack.length > 0) {
          const p = stack.pop()!;
          const base = this.poolIdx + p * 1024;
          for (let i = 0; i < 512; i++) {
            const pte = this.ram32[base + 2 * i]!;
            if ((pte & V) === 0) continue;
            const ppn = pte >>> 10;
            if ((pte & (R | X)) === 0 && (pte & W) === 0) {
              const child = ppn - this.poolPpn;
              if (child < 0 || child >= this.poolPages || this.tLevel[child] !== this.tLevel[p]! - 1)
                return `table ${p} entry ${i} links outside the pool or to a wrong level`;
              stack.push(child);
              continue;
            }
            if (this.tLevel[p] !== 0) return `table ${p} (level ${this.tLevel[p]}) holds a superpage leaf`;
            if ((ppn < ramPpnLo || ppn >= ramPpnHi) && !this.isDirect(ppn * 4096))
              return `a shadow leaf maps page 0x${ppn.toString(16)}, outside guest RAM and assigned devices`;
            if (options.safetyOnly) continue;
            const lo = this.tVaLo[p]! | (i << 12);
            const hi = this.tVaHi[p]!;
            // Guest mode: the leaf's U bit says which privilege it serves (the guest's must agree).
            const vMode = this.native
              ? (pte & U) !== 0
                ? 0
                : 1
              : this.ctxSatpHi[ctx]! >>> 28 === 0
                ? 1
                : view === 0
                  ? 0
                  : 1;
            const what = this.peekWalk(this.ctxSatpLo[ctx]!, this.ctxSatpHi[ctx]!, lo, hi, vMode, view === 2);
            const va = `0x${((hi >>> 0) * 4294967296 + (lo >>> 0)).toString(16)}`;
            if (what < 0) return `view ${view} of context ${ctx} maps ${va}, which the guest does not map`;
            if (what >>> 10 !== ppn) return `view ${view} of context ${ctx} maps ${va} to the wrong page`;
            const extra = pte & ~what & (R | W | X);
            if (extra !== 0)
              return `view ${view} of context ${ctx} grants ${extra} at ${va} beyond the guest's permissions`;
          }
        }
      }
    }
    return undefined;
  }

  /**
   * The guest's translation of (lo, hi) under satp (satpLo, satpHi), without
   * side effects: the host PPN << 10 with the R/W/X the view may have (W only
   * when D is set), or -1 when it faults.
   */
  private peekWalk(
    satpLo: number,
    satpHi: number,
    lo: number,
    hi: number,
    vMode: number,
    sum: boolean,
  ): number {
    const mode = satpHi >>> 28;
    if (mode === 0) return hi === 0 ? ((lo >>> 12) << 10) | R | W | X : -1;
    const levels = mode === 8 ? 3 : 4;
    let table = (satpLo << 12) >>> 0;
    for (let level = levels - 1; level >= 0; level--) {
      const shift = 12 + 9 * level;
      const vpn =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + 9 > 32
            ? ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff
            : (lo >>> shift) & 0x1ff;
      const off = table - this.ramBase + vpn * 8;
      if (off < 0 || off >= this.guestSize) return -1;
      const pteLo = this.ram32[off >> 2]!;
      const pteHi = this.ram32[(off >> 2) + 1]!;
      if ((pteLo & V) === 0 || (pteLo & (R | W)) === W || (pteHi & 0xffc00000) !== 0) return -1;
      const ppnL = (pteLo >>> 10) | (pteHi << 22);
      if ((pteLo & (R | X)) === 0) {
        table = (ppnL << 12) >>> 0;
        continue;
      }
      const u = (pteLo & U) !== 0;
      if (vMode === 0 ? !u : u && !sum) return -1;
      const lowMask = level === 0 ? 0 : (1 << (9 * level)) - 1;
      const ppn = (ppnL & ~lowMask) | (((lo >>> 12) | (hi << 20)) & lowMask);
      const w = (pteLo & D) !== 0 ? pteLo & W : 0;
      let perm: number;
      if (vMode === 0 || !u) perm = (pteLo & (R | X)) | w;
      else perm = ((pteLo & R) !== 0 || (this.mxr && (pteLo & X) !== 0) ? R : 0) | w;
      return ((ppn & 0xfffff) << 10) | perm;
    }
    return -1;
  }
}
