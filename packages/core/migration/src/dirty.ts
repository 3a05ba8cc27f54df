/**
 * Dirty-page logging for pre-copy, independent of the strategy: every RAM
 * page is watched in the hart (its stores leave the store TLB's fast path
 * for the slow path, which reports them), as KVM write-protects pages for
 * its dirty log. The first store to a page in a round marks it and unwatches
 * it, so later stores to it run at full speed. Writes behind the hart's back
 * (device DMA, SBI console reads, a VMM emulating a store) arrive through
 * `hart.onRamChanged`: every such writer calls `hart.ramChanged`. The
 * store path allocates nothing: one preallocated callback marking a byte.
 */
import type { Vm } from "@hvkit/hypervisor";

const PAGE_SHIFT = 12;

/** The dirty pages of one VM's guest RAM, by rounds. */
export class DirtyLog {
  /** Guest RAM pages. */
  readonly pages: number;
  private readonly dirty: Uint8Array;
  private dirtyCount = 0;
  private active = false;
  private readonly ramBase: number;

  constructor(private readonly vm: Vm) {
    this.pages = vm.board.ram.length >>> PAGE_SHIFT;
    this.dirty = new Uint8Array(this.pages);
    this.ramBase = vm.board.ramBase;
  }

  /** The hart's watched-store callback: mark, then let the page's stores run fast until the next round. */
  private readonly onStore = (pa: number, size: number): void => {
    this.mark(pa, size);
    this.vm.hart.watchPage(pa, false);
    if ((pa + size - 1) >>> PAGE_SHIFT !== pa >>> PAGE_SHIFT) this.vm.hart.watchPage(pa + size - 1, false);
  };

  private mark(pa: number, length: number): void {
    const first = (pa - this.ramBase) >>> PAGE_SHIFT;
    const last = Math.min(this.pages - 1, (pa - this.ramBase + Math.max(1, length) - 1) >>> PAGE_SHIFT);
    for (let p = first; p <= last; p++) {
      if (this.dirty[p] === 0) {
        this.dirty[p] = 1;
        this.dirtyCount++;
      }
    }
  }

  /** Writes behind the hart's back (DMA, SBI, a VMM emulating a store). */
  private readonly onChanged = (pa: number, length: number): void => {
    this.mark(pa, length);
  };

  /** Start logging: every page clean and watched. */
  start(): void {
    this.dirty.fill(0);
    this.dirtyCount = 0;
    this.active = true;
    this.vm.hart.onWatchedStore = this.onStore;
    this.vm.hart.onRamChanged = this.onChanged;
    this.vm.hart.watchRam(true);
  }

  /** Whether page `page` was dirtied since the last start or collect. */
  isDirty(page: number): boolean {
    return this.dirty[page] !== 0;
  }

  /** Pages dirtied since the last start or collect. */
  get count(): number {
    return this.dirtyCount;
  }

  /** The pages dirtied since the last start or collect, in order; they are clean and watched again. */
  collect(): Uint32Array {
    const out = new Uint32Array(this.dirtyCount);
    let n = 0;
    const d = this.dirty;
    for (let p = 0; p < d.length; p++) if (d[p] !== 0) out[n++] = p;
    d.fill(0);
    this.dirtyCount = 0;
    if (this.active) this.vm.hart.watchRam(true);
    return out;
  }

  /** Stop logging: the hart's stores run at full speed again. */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.vm.hart.onWatchedStore = null;
    this.vm.hart.onRamChanged = null;
    this.vm.hart.watchRam(false);
  }
}
