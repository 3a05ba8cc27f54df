/**
 * The hardware-assisted VMM: the guest kernel runs in VS-mode and its user
 * programs in VU-mode, on the hart's H extension, and the VMM sees only the
 * exits it programs into the hart's guest-mode exit controls (a VT-style
 * control structure, like a VMCS).
 *
 * What the hardware does alone. The guest's own traps (system calls, page
 * faults, breakpoints...) are delegated to VS-mode (hedeleg), its sret, CSR
 * accesses and sfence.vma run natively on the VS CSRs, its timer is
 * vstimecmp (Sstc, henvcfg.STCE) and its interrupts VS-level ones
 * (hideleg). A WFI stays inside the hart; the board skips time to the next
 * timer event.
 *
 * Exits. Always: ecall from VS-mode (an SBI call: a hypercall served by the
 * shared VMM core), guest-page faults (the G-stage maps guest RAM only: a
 * device access is an MMIO exit, emulated on the bus), and the PLIC's
 * supervisor interrupt line (the VMM mirrors it into hvip.VSEIP, where the
 * guest sees it as its external interrupt, and masks it until the line
 * drops). With shadow paging instead of nested paging: guest page faults
 * (the shadow is filled or the guest's own fault injected), satp accesses
 * (the guest's satp is virtual; vsatp holds the shadow's root) and, under
 * the sfence policy, sfence.vma. Plus whatever `exitOn` asks for: CSR
 * accesses, WFI, sret, sfence, ecall, exceptions and interrupts, which the
 * VMM emulates or reflects so that the guest sees no difference.
 *
 * Odd device accesses (misaligned, floating point, atomics, instruction
 * fetch) and, with shadow paging, every device access: the VMM runs the one
 * instruction on the hart with the guest's own translation behind the
 * G-stage, the device page mapped for that instruction only (a window), so
 * the result is the hart's own; modeled as the VMM's MMIO emulation.
 *
 * Time. As under trap-and-emulate, the step and retired-instruction counts
 * stay what they are under emulation: an instruction the VMM completes
 * retires; an exit the guest would not have taken (a shadow fill, the exit
 * before a window) gives its step back. So a deterministic guest runs step
 * for step as under the emulation baseline.
 */
import {
  Cause,
  CounterSlot,
  CsrSlot,
  ExitReason,
  GUEST_INSTRUCTION_NAMES,
  GuestInstruction,
  GuestStat,
  type Hart,
  type HartExit,
  Irq,
  MSTATUS,
  PRV_S,
  PRV_U,
  readCsr,
  TRAP_STATS_SRET,
  writeCsr,
} from "@hvkit/cpu";
import type { GuestCpuState, ResolvedExitOn, StrategyInstance, VmCore } from "@hvkit/hypervisor";
import { CSR, csrName, type IsaProfile } from "@hvkit/isa";
import { type GStageMode, type GStagePageSize, NestedPageTables } from "@hvkit/nested-paging";
import { Access, ShadowPageTables, type ShadowSyncPolicy, Walk } from "@hvkit/shadow-paging";

/** sstatus bits the guest's vsstatus starts with (from the boot CPU state). */
const SSTATUS_BITS = MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.FS | MSTATUS.SUM | MSTATUS.MXR;
/** The S-level interrupts and their VS-level twins (one bit up). */
const S_IRQS = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
const VS_IRQS = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);
/** Exceptions a guest kernel handles: delegated to VS-mode (hedeleg's writable bits). */
const GUEST_EXCEPTIONS = 0xb1ff;
const GUEST_PAGE_FAULTS =
  (1 << Cause.FETCH_GUEST_PAGE_FAULT) |
  (1 << Cause.LOAD_GUEST_PAGE_FAULT) |
  (1 << Cause.STORE_GUEST_PAGE_FAULT);
const PAGE_FAULTS =
  (1 << Cause.FETCH_PAGE_FAULT) | (1 << Cause.LOAD_PAGE_FAULT) | (1 << Cause.STORE_PAGE_FAULT);
const MENVCFG_STCE = 0x80000000 | 0;
const INSN_SRET = 0x10200073;
const TWO32 = 4294967296;
/** How many times one shadow fault may repeat at one pc with nothing retired before the VMM calls it a bug. */
const MAX_REPEATED_FILLS = 8;
/** Device pages one instruction may need mapped at once (a misaligned access straddles two). */
const MAX_WINDOWS = 4;

/** How guest memory is virtualized. */
export type HardwareMemory = "nested" | "shadow";

/** Options of one hardware-assisted VM. */
export interface HardwareVmmOptions {
  /** Nested paging (G-stage tables) or shadow paging (vsatp on shadow tables, G-stage off). */
  readonly memory: HardwareMemory;
  /** Shadow sync policy (shadow paging). */
  readonly shadowPolicy: ShadowSyncPolicy;
  /** Bytes of VMM-private RAM for shadow tables (shadow paging). */
  readonly shadowMemory: number;
  /** G-stage mode of the nested tables. */
  readonly gstageMode: GStageMode;
  /** G-stage leaf size of the nested tables. */
  readonly gstagePageSize: GStagePageSize;
  /** Extra exits (VmConfig.exitOn merged with the strategy's). */
  readonly exitOn: ResolvedExitOn;
}

/** Short names of exception causes for the counters. */
const CAUSE_KEYS: Readonly<Record<number, string>> = {
  0: "misaligned-fetch",
  1: "fetch-access",
  2: "illegal-instruction",
  3: "breakpoint",
  4: "misaligned-load",
  5: "load-access",
  6: "misaligned-store",
  7: "store-access",
  8: "ecall-u",
  10: "ecall-vs",
  12: "fetch-page-fault",
  13: "load-page-fault",
  15: "store-page-fault",
  20: "fetch-guest-page-fault",
  21: "load-guest-page-fault",
  22: "virtual-instruction",
  23: "store-guest-page-fault",
};
const IRQ_KEYS: Readonly<Record<number, string>> = {
  [Irq.VSSI]: "software",
  [Irq.VSTI]: "timer",
  [Irq.VSEI]: "external",
  [Irq.SEI]: "plic-supervisor",
};

/** The hardware-assisted VMM bound to one VM. */
export class HardwareAssistedVmm implements StrategyInstance {
  private readonly core: VmCore;
  private readonly hart: Hart;
  private readonly options: HardwareVmmOptions;
  private readonly k: Float64Array;
  private readonly c: Int32Array;
  /** G-stage tables: the guest's memory under nested paging; behind a guest with translation off, and windows, under shadow paging. */
  nested!: NestedPageTables;
  /** Shadow page tables (shadow paging only). */
  shadow: ShadowPageTables | undefined;
  private readonly ramBase: number;
  private readonly guestEnd: number;
  private readonly hiddenEnd: number;
  private readonly profile: IsaProfile;

  // Shadow paging: the guest's satp (virtual) and whether the shadow is in use (translation on).
  private vSatpLo = 0;
  private vSatpHi = 0;
  private paged = false;

  // Accounting.
  /** Exits handled, by hart exit reason. */
  private readonly byReason = new Float64Array(8);
  /** TRAP exits by cause. */
  private readonly trapCounts = new Float64Array(32);
  /** INTERRUPT exits by irq. */
  private readonly irqCounts = new Float64Array(16);
  /** Exceptions injected into the guest, by cause. */
  private readonly injected = new Float64Array(32);
  /** CSR exits: [csr * 2] reads, [csr * 2 + 1] writes. */
  private readonly csrCounts = new Float64Array(4096 * 2);
  /** INSTRUCTION exits by GuestInstruction. */
  private readonly insnCounts = new Float64Array(8);
  private mmioExits = 0;
  /** External interrupts of assigned devices put into hvip.VSEIP with no exit. */
  private posted = 0;
  private windows = 0;
  private profileEmulated = 0;
  private syncedCharged = 0;
  // Two-stage walk accounting (see settleWalks).
  private walkSteps = 0;
  private gstageSteps = 0;
  private extraSteps = 0;
  private windowSteps = 0;
  // Shadow fill repeat detection.
  private repeatPc = 0;
  private repeatVa = 0;
  private repeatInstret = -1;
  private repeats = 0;
  private readonly openWindows = new Float64Array(MAX_WINDOWS);

  constructor(core: VmCore, options: HardwareVmmOptions) {
    this.core = core;
    this.hart = core.hart;
    this.options = options;
    this.k = core.hart.counters;
    this.c = core.hart.csr;
    this.ramBase = core.hart.ramBase;
    this.guestEnd = this.ramBase + core.config.memory;
    this.hiddenEnd = this.ramBase + core.hart.ramSize;
    this.profile = core.config.isaProfile;
  }

  /** Take over the boot CPU state the VMM core left (S-mode at the kernel entry) and enter the guest in VS-mode. */
  start(): void {
    const { hart, c, core, options } = this;
    const w = (csr: number, lo: number, hi = 0): void => {
      writeCsr(hart, csr, lo | 0, hi | 0);
    };
    // The guest's supervisor state moves into the VS CSRs.
    c[CsrSlot.VSSTATUS] = c[CsrSlot.MSTATUS]! & SSTATUS_BITS;
    for (const [s, vs] of S_VS_PAIRS) copyPair(c, s, c, vs);
    const mie = c[CsrSlot.MIE]!;
    const satpLo = c[CsrSlot.SATP]!;
    const satpHi = c[CsrSlot.SATP + 1]!;
    // The host's S-level state: FP on (vsstatus.FS is the guest's switch), no S-level timer,
    // the guest's enables moved to their VS twins; the PLIC's S line mirrored (see syncExternal).
    c[CsrSlot.MSTATUS] = (c[CsrSlot.MSTATUS]! & ~SSTATUS_BITS) | MSTATUS.FS;
    w(CSR.stimecmp, -1, -1);
    w(CSR.satp, 0, 0);
    w(CSR.mie, (mie & ~S_IRQS & ~VS_IRQS) | ((mie & S_IRQS) << 1));
    w(CSR.hstatus, 0);
    w(CSR.hideleg, VS_IRQS);
    w(CSR.hedeleg, c[CsrSlot.MEDELEG]! & GUEST_EXCEPTIONS);
    w(CSR.hcounteren, c[CsrSlot.MCOUNTEREN]!);
    w(CSR.henvcfg, 0, c[CsrSlot.MENVCFG + 1]! & MENVCFG_STCE);
    w(CSR.htimedelta, 0, 0);

    // Exit controls.
    const g = hart.guestExits;
    const x = options.exitOn;
    g.clear();
    const shadowed = options.memory === "shadow";
    // Every exception the guest kernel does not handle exits (ecall from VS, guest-page faults,
    // virtual instruction): none ever reaches HS-mode or M-mode, whose vectors the guest never set.
    const hedeleg = c[CsrSlot.HEDELEG]!;
    g.exceptions = ~hedeleg | (shadowed ? PAGE_FAULTS : 0) | x.exceptions;
    // Likewise every interrupt but the guest's own (VS-level) ones: the PLIC's S line is the one enabled.
    g.interrupts = ~VS_IRQS | x.interrupts;
    g.instructions =
      x.instructions | (shadowed && options.shadowPolicy === "sfence" ? 1 << GuestInstruction.SFENCE : 0);
    if (x.allCsrs) for (let n = 0; n < 4096; n++) g.exitOnCsr(n, true, true);
    for (const n of x.csrs) g.exitOnCsr(n, true, true);
    if (shadowed) g.exitOnCsr(CSR.satp, true, true);
    // Everything outside guest RAM below 4 GiB is MMIO: aligned loads and stores there exit
    // and go to the bus, which answers a hole (or the VMM's RAM) with an access fault.
    g.addMmio(0, this.ramBase);
    if (this.guestEnd < TWO32) g.addMmio(this.guestEnd, TWO32 - this.guestEnd);

    // Memory.
    const base = core.privateRamBase;
    const nestedOptions = {
      mode: options.gstageMode,
      pageSize: shadowed ? ("2m" as const) : options.gstagePageSize,
      ramBase: this.ramBase,
    };
    const nestedBytes = NestedPageTables.poolBytes(core.config.memory, nestedOptions);
    this.nested = new NestedPageTables({
      hart,
      guestRamSize: core.config.memory,
      poolBase: base,
      poolBytes: nestedBytes,
      mode: nestedOptions.mode,
      pageSize: nestedOptions.pageSize,
    });
    // Assigned devices' interrupts are posted: put into hvip.VSEIP when the device raises its
    // line, with no exit (the hardware path of posted interrupts / an AIA guest interrupt file).
    for (const dev of core.board.virtio) {
      if (dev.direct === true) dev.postInterrupts?.(this.postExternal);
    }
    // Devices assigned to the guest (direct assignment): their pages in the G-stage, so guest
    // accesses reach the device with no exit (the MMIO ranges apply only where the G-stage faults).
    for (const r of core.board.directRanges()) {
      for (let pa = r.base; pa < r.base + r.size; pa += 4096) {
        if (!this.nested.map(pa, pa))
          throw new Error("hardware-assisted: the G-stage pool cannot map an assigned device");
      }
    }
    if (shadowed) {
      this.shadow = new ShadowPageTables({
        hart,
        guestRamSize: core.config.memory,
        poolBase: base + nestedBytes,
        poolBytes: options.shadowMemory,
        policy: options.shadowPolicy,
        mode: "guest",
        directPages: core.board.directRanges(),
      });
      this.setGuestSatp(satpLo, satpHi);
    } else {
      w(CSR.vsatp, satpLo, satpHi);
      this.nested.activate();
    }
    hart.setMode(hart.priv === PRV_U ? PRV_U : PRV_S, 1);
    this.syncExternal();
    this.walkSteps = hart.guestStats[GuestStat.WALK_STEPS]!;
    this.gstageSteps = hart.guestStats[GuestStat.GSTAGE_STEPS]!;
  }

  /**
   * The guest-visible hart for snapshots: the guest's VS-level state moved
   * back to the S-level CSRs, V = 0 and the H extension's CSRs cleared (what
   * `start()` moves into VS again).
   */
  guestState(cpu: GuestCpuState): void {
    const c = cpu.csr;
    cpu.virt = 0;
    c[CsrSlot.MSTATUS] = (c[CsrSlot.MSTATUS]! & ~SSTATUS_BITS) | (c[CsrSlot.VSSTATUS]! & SSTATUS_BITS);
    c[CsrSlot.MSTATUS + 1] = 0; // MPV, GVA
    for (const [s, vs] of S_VS_PAIRS) copyPair(c, vs, c, s);
    if (this.shadow) {
      c[CsrSlot.SATP] = this.vSatpLo;
      c[CsrSlot.SATP + 1] = this.vSatpHi;
    } else copyPair(c, CsrSlot.VSATP, c, CsrSlot.SATP);
    const mie = c[CsrSlot.MIE]!;
    c[CsrSlot.MIE] = (mie & ~S_IRQS & ~VS_IRQS) | ((mie & VS_IRQS) >>> 1);
    // The guest's own sip bits are hvip's: its SSIP is VSSIP (VSEIP mirrors the PLIC line, VSTIP vstimecmp).
    const sw = c[CsrSlot.MIP_SW]!;
    c[CsrSlot.MIP_SW] = (sw & ~S_IRQS & ~VS_IRQS) | ((sw >>> 1) & (1 << Irq.SSI));
    c.fill(0, CsrSlot.HSTATUS, CsrSlot.SIZE);
    const k = cpu.counters;
    k[CounterSlot.INSTRET_S]! += k[CounterSlot.INSTRET_VS]!;
    k[CounterSlot.INSTRET_U]! += k[CounterSlot.INSTRET_VU]!;
    k[CounterSlot.INSTRET_VS] = 0;
    k[CounterSlot.INSTRET_VU] = 0;
  }

  // ---------------------------------------------------------------------------
  // Exits.

  handleExit(e: HartExit): boolean {
    const r = e.reason;
    this.byReason[r]!++;
    let ok: boolean;
    switch (r) {
      case ExitReason.TRAP:
        ok = this.trap(e);
        break;
      case ExitReason.INTERRUPT:
        ok = this.interrupt(e);
        break;
      case ExitReason.MMIO:
        this.core.countExit("mmio");
        this.charge(3, 1);
        this.core.events.mmioEmulation++;
        ok = this.mmio(e);
        break;
      case ExitReason.CSR:
        this.core.countExit("csr");
        this.charge(2 + e.read, 1 + e.write);
        ok = this.csr(e);
        break;
      case ExitReason.INSTRUCTION:
        ok = this.instruction(e);
        break;
      default:
        return false;
    }
    this.syncExternal();
    return ok;
  }

  /** Charge one exit and entry, and the VMCS-style field accesses the VMM made for it. */
  private charge(reads: number, writes: number): void {
    const ev = this.core.events;
    ev.vmExit++;
    ev.vmEntry++;
    ev.exitControlRead += reads;
    ev.exitControlWrite += writes;
  }

  private trap(e: HartExit): boolean {
    const cause = e.cause;
    this.trapCounts[cause & 31]!++;
    switch (cause) {
      case Cause.ECALL_VS:
        // An SBI call: the shared VMM core serves it (counting and charging the exit and the call).
        if (!this.core.hypercall()) return false;
        this.core.events.exitControlRead++;
        this.core.events.exitControlWrite++;
        this.skip(4);
        return true;
      case Cause.FETCH_GUEST_PAGE_FAULT:
      case Cause.LOAD_GUEST_PAGE_FAULT:
      case Cause.STORE_GUEST_PAGE_FAULT:
        return this.guestPageFault(e);
      case Cause.VIRTUAL_INSTRUCTION:
        // Illegal for the guest: an H-extension CSR or instruction, or a privileged one from VU-mode
        // (unless the ISA profile lets user mode do it: then as the profile says).
        if (this.hart.priv === PRV_U && this.profile.nonTrapping.length > 0 && this.profileOperation(e))
          return true;
        return this.inject(Cause.ILLEGAL_INSTRUCTION, e.tvalLo, e.tvalHi);
      case Cause.FETCH_PAGE_FAULT:
      case Cause.LOAD_PAGE_FAULT:
      case Cause.STORE_PAGE_FAULT:
        if (this.shadow && this.paged) return this.shadowFault(e, cause);
        return this.inject(cause, e.tvalLo, e.tvalHi);
      default:
        // An exception exitOn selected: the guest's own, reflected to its trap vector.
        if (((GUEST_EXCEPTIONS >>> cause) & 1) !== 0) return this.inject(cause, e.tvalLo, e.tvalHi);
        return false;
    }
  }

  /** An exit that ends in a synchronous exception for the guest kernel: count and charge it, deliver it. */
  private inject(cause: number, tvalLo: number, tvalHi: number): boolean {
    this.core.countExit("exception");
    this.charge(3, 0);
    return this.deliver(cause, tvalLo, tvalHi);
  }

  /**
   * Deliver a synchronous exception to the guest kernel (VS-mode), as the hart
   * would have, for an exit already counted: the exit took the step the trap
   * takes, and the hart delivers through hedeleg to vstvec.
   */
  private deliver(cause: number, tvalLo: number, tvalHi: number): boolean {
    this.core.events.exitControlWrite++; // the event to inject
    this.injected[cause & 31]!++;
    this.hart.deliverTrap(cause, false, tvalLo, tvalHi);
    return true;
  }

  private interrupt(e: HartExit): boolean {
    const irq = e.cause;
    this.irqCounts[irq & 15]!++;
    this.core.countExit("interrupt");
    if (irq === Irq.SEI) {
      // The PLIC's supervisor line: mirrored into hvip.VSEIP by syncExternal (after every exit).
      this.charge(1, 1);
      return true;
    }
    if (((VS_IRQS >>> irq) & 1) !== 0) {
      // exitOn selected it: inject it as the hart would have taken it (one step).
      this.charge(2, 1);
      this.hart.deliverTrap(irq, true, 0, 0);
      this.k[CounterSlot.CYCLES]! += 1;
      return true;
    }
    return false;
  }

  /**
   * The PLIC's supervisor-context line is the guest's external interrupt: mirror
   * its level into hvip.VSEIP and take HS-level SEI exits only while it is low
   * (a high line exits once, then stays masked until a device access lowers it).
   */
  private syncExternal(): void {
    const c = this.c;
    const line = (c[CsrSlot.MIP_HW]! & (1 << Irq.SEI)) !== 0;
    const vsei = (c[CsrSlot.MIP_SW]! & (1 << Irq.VSEI)) !== 0;
    const mie = c[CsrSlot.MIE]!;
    const seie = (mie & (1 << Irq.SEI)) !== 0;
    if (line !== vsei) {
      const hvip = c[CsrSlot.MIP_SW]! & VS_IRQS;
      writeCsr(this.hart, CSR.hvip, line ? hvip | (1 << Irq.VSEI) : hvip & ~(1 << Irq.VSEI), 0);
      this.core.events.exitControlWrite++;
    }
    if (line === seie) writeCsr(this.hart, CSR.mie, line ? mie & ~(1 << Irq.SEI) : mie | (1 << Irq.SEI), 0);
  }

  /**
   * A posted interrupt: an assigned device changed its line; the PLIC's level
   * goes into hvip.VSEIP at once, as hardware would put it there, so the guest
   * takes it with no exit (and nothing is charged to the VMM).
   */
  private readonly postExternal = (): void => {
    const c = this.c;
    const line = (c[CsrSlot.MIP_HW]! & (1 << Irq.SEI)) !== 0;
    const vsei = (c[CsrSlot.MIP_SW]! & (1 << Irq.VSEI)) !== 0;
    if (line && !vsei) this.posted++;
    const charged = this.core.events.exitControlWrite;
    this.syncExternal();
    this.core.events.exitControlWrite = charged;
  };

  /** An aligned load or store to a guest-physical address outside guest RAM: the bus answers. */
  private mmio(e: HartExit): boolean {
    this.mmioExits++;
    const bus = this.hart.bus;
    const pa = e.gpaLo >>> 0;
    const size = e.size as 1 | 2 | 4 | 8;
    if (e.write) {
      if (e.gpaHi !== 0 || !bus.store(pa, size, e.dataLo, e.dataHi))
        return this.deliver(Cause.STORE_ACCESS, e.tvalLo, e.tvalHi);
      this.hart.completeExit();
    } else {
      if (e.gpaHi !== 0 || !bus.load(pa, size)) return this.deliver(Cause.LOAD_ACCESS, e.tvalLo, e.tvalHi);
      this.hart.completeExit(bus.dataLo | 0, size === 8 ? bus.dataHi | 0 : 0);
    }
    this.retire();
    return true;
  }

  /**
   * Shadow paging: a page fault at a device address (guest-physical `gpa`) by
   * an aligned integer load or store (LB..LD, SB..SD, compressed ones
   * included: `exit.insn` arrives expanded), performed as an MMIO exit would
   * be. False for any other instruction.
   */
  private plainMmio(e: HartExit, gpa: number): boolean {
    const insn = e.insn;
    const op = insn & 0x7f;
    const f3 = (insn >>> 12) & 7;
    if ((op !== 0x03 || f3 === 7) && (op !== 0x23 || f3 > 3)) return false;
    const size = 1 << (f3 & 3);
    if ((e.tvalLo & (size - 1)) !== 0) return false; // misaligned: bytewise, as the hart does it
    const hart = this.hart;
    const bus = hart.bus;
    const x = hart.x;
    if (op === 0x23) {
      const r2 = 2 * ((insn >>> 20) & 31);
      const lo = size === 1 ? x[r2]! & 0xff : size === 2 ? x[r2]! & 0xffff : x[r2]!;
      if (!bus.store(gpa, size as 1 | 2 | 4 | 8, lo, size === 8 ? x[r2 + 1]! : 0))
        return this.deliver(Cause.STORE_ACCESS, e.tvalLo, e.tvalHi);
    } else {
      if (!bus.load(gpa, size as 1 | 2 | 4 | 8)) return this.deliver(Cause.LOAD_ACCESS, e.tvalLo, e.tvalHi);
      const rd = (insn >>> 7) & 31;
      if (rd !== 0) {
        let lo = bus.dataLo | 0;
        let hi = size === 8 ? bus.dataHi | 0 : 0;
        if (size < 8) {
          const sh = 32 - 8 * size;
          lo = f3 < 4 ? (lo << sh) >> sh : (lo << sh) >>> sh;
          hi = f3 < 4 ? lo >> 31 : 0;
        }
        x[2 * rd] = lo | 0;
        x[2 * rd + 1] = hi;
      }
    }
    this.mmioExits++;
    this.retire();
    this.skip(e.insnLength || 4);
    return true;
  }

  /**
   * A guest-page fault (G-stage): an access the MMIO exit does not cover
   * (misaligned, floating point, atomic, a fetch, a guest page-table read)
   * outside guest RAM. The VMM's RAM and beyond 4 GiB: the access fault the
   * guest would get there; elsewhere the hart runs it through a window.
   */
  private guestPageFault(e: HartExit): boolean {
    const gpa = (e.gpaHi >>> 0) * TWO32 + (e.gpaLo >>> 0);
    if (gpa >= this.ramBase && gpa < this.guestEnd) return false; // guest RAM is always mapped
    const acc =
      e.cause === Cause.FETCH_GUEST_PAGE_FAULT ? 0 : e.cause === Cause.LOAD_GUEST_PAGE_FAULT ? 1 : 2;
    if (!this.windowable(gpa)) return this.inject(accessFault(acc), e.tvalLo, e.tvalHi);
    this.core.countExit("mmio");
    this.charge(3, 1);
    this.core.events.mmioEmulation++;
    return this.singleStep(gpa - (gpa % 4096));
  }

  /** Whether the page of guest-physical `gpa` may be mapped for one instruction: below 4 GiB, not RAM. */
  private windowable(gpa: number): boolean {
    return gpa < TWO32 && !(gpa >= this.ramBase && gpa < this.hiddenEnd);
  }

  /**
   * Run the instruction at pc once on the hart with the guest's own
   * translation behind the G-stage, with device page `page` (and any other
   * it turns out to need) mapped for it; -1 maps none. Then dispatch what
   * stopped it. The exit that led here gives its step back: the instruction
   * takes it now.
   */
  private singleStep(page: number): boolean {
    const hart = this.hart;
    const gs = hart.guestStats;
    const viaShadow = this.shadow !== undefined && this.paged;
    this.settleWalks();
    if (viaShadow) {
      writeCsr(hart, CSR.vsatp, this.vSatpLo, this.vSatpHi);
      this.nested.activate();
    }
    this.windows++;
    const open = this.openWindows;
    let n = 0;
    const k = this.k;
    k[CounterSlot.CYCLES]! -= 1;
    for (;;) {
      if (page >= 0) {
        if (!this.nested.map(page, page)) break;
        open[n++] = page;
      }
      const r = hart.run(1);
      if (r === ExitReason.TRAP && n < MAX_WINDOWS && isGuestPageFault(hart.exit.cause)) {
        const e = hart.exit;
        const gpa = (e.gpaHi >>> 0) * TWO32 + (e.gpaLo >>> 0);
        const next = gpa - (gpa % 4096);
        if (this.windowable(gpa) && !open.subarray(0, n).includes(next)) {
          // A misaligned access that straddles into a second device page: map that too, run again.
          k[CounterSlot.CYCLES]! -= 1;
          page = next;
          continue;
        }
      }
      break;
    }
    for (let i = 0; i < n; i++) this.nested.unmap(open[i]!);
    if (viaShadow) {
      this.nested.deactivate();
      this.shadow!.deactivate();
      this.shadow!.activate();
    }
    // The window's walks are the VMM's emulation, not the guest's translation.
    this.windowSteps += gs[GuestStat.WALK_STEPS]! - this.walkSteps;
    this.walkSteps = gs[GuestStat.WALK_STEPS]!;
    this.gstageSteps = gs[GuestStat.GSTAGE_STEPS]!;
    if (n === 0 && page >= 0) return false; // the pool cannot hold a window: a VMM bug
    const r = hart.exit.reason;
    if (r === ExitReason.BUDGET || r === ExitReason.HALT) return true;
    // A plain MMIO access (shadow paging: the exit that brought us here was counted as it).
    if (r === ExitReason.MMIO) return this.mmio(hart.exit);
    // The instruction stopped on something else (an interrupt, a fault): handle it.
    return this.handleExit(hart.exit);
  }

  // ---------------------------------------------------------------------------
  // Shadow paging.

  /** The guest wrote satp (a WARL-valid value): the shadow follows, or the G-stage while translation is off. */
  private setGuestSatp(lo: number, hi: number): void {
    const shadow = this.shadow!;
    this.settleWalks();
    this.vSatpLo = lo;
    this.vSatpHi = hi;
    if (hi >>> 28 === 0) {
      // Translation off: guest-physical accesses behind the G-stage (it maps guest RAM only).
      if (this.paged || !this.nested.active) {
        shadow.deactivate();
        writeCsr(this.hart, CSR.vsatp, 0, 0);
        this.nested.activate();
        this.paged = false;
      }
      this.hart.flushGuestTlb();
      return;
    }
    if (!this.paged) {
      this.nested.deactivate();
      shadow.deactivate();
      this.paged = true;
    }
    shadow.setSatp(lo, hi);
    this.chargeSync();
    // A satp write flushes the guest's TLB, whether or not the shadow's root changed.
    this.hart.flushGuestTlb();
  }

  /** A page fault on the shadow: fill it, inject the guest's own fault, or emulate the access. */
  private shadowFault(e: HartExit, cause: number): boolean {
    const shadow = this.shadow!;
    const hart = this.hart;
    const acc =
      cause === Cause.FETCH_PAGE_FAULT
        ? Access.FETCH
        : cause === Cause.LOAD_PAGE_FAULT
          ? Access.LOAD
          : Access.STORE;
    const vs = this.c[CsrSlot.VSSTATUS]!;
    shadow.setPrivilege(hart.priv, (vs & MSTATUS.SUM) !== 0);
    shadow.setMxr((vs & MSTATUS.MXR) !== 0);
    const lo = e.tvalLo;
    const hi = e.tvalHi;
    const r = shadow.fill(lo, hi, acc);
    const ev = this.core.events;
    switch (r) {
      case Walk.RAM: {
        // The same fault again with nothing retired in between: a fill that does not stick (a VMM bug).
        const retired = this.k[CounterSlot.INSTRET]!;
        if (e.pcLo === this.repeatPc && lo === this.repeatVa && retired === this.repeatInstret) {
          if (++this.repeats > MAX_REPEATED_FILLS) return false;
        } else {
          this.repeatPc = e.pcLo;
          this.repeatVa = lo;
          this.repeatInstret = retired;
          this.repeats = 0;
        }
        this.core.countExit("shadow-fault");
        this.charge(2, 0);
        this.chargeSync();
        // Hidden from the guest: give back the step the faulting attempt took.
        this.k[CounterSlot.CYCLES]! -= 1;
        return true;
      }
      case Walk.GUEST_FAULT:
        this.chargeSync();
        return this.inject(shadow.faultCause, lo, hi);
      case Walk.NOT_RAM: {
        const gpa = shadow.gpa;
        if (!this.windowable(gpa)) return this.inject(accessFault(acc), lo, hi);
        this.core.countExit("mmio");
        this.charge(3, 1);
        ev.mmioEmulation++;
        // A plain aligned load or store: done here, as an MMIO exit would be. Anything else as
        // the hart makes it: on the guest's own tables behind the G-stage, through a window.
        if (acc !== Access.FETCH && this.plainMmio(e, gpa)) return true;
        return this.singleStep(-1);
      }
      default: {
        // A store to a write-protected guest page table: let this one store through, then sync.
        this.core.countExit("pte-write");
        this.charge(3, 1);
        ev.emulateInstruction++;
        const gpa = shadow.gpa;
        const loc = shadow.openWriteWindow(lo, hi);
        if (loc < 0) return false;
        this.k[CounterSlot.CYCLES]! -= 1;
        const res = hart.run(1);
        shadow.closeWriteWindow(loc, lo, hi);
        const size = storeSize(e.insn);
        const first = gpa - (gpa % 8);
        shadow.pteWritten(first, Math.min(((gpa + size + 7) & ~7) - first, 4096 - (first % 4096)));
        this.chargeSync();
        if (res === ExitReason.BUDGET || res === ExitReason.HALT) return true;
        return this.handleExit(hart.exit);
      }
    }
  }

  /** Charge the shadow entries written since the last charge (shadowSyncPte). */
  private chargeSync(): void {
    if (!this.shadow) return;
    const n = this.shadow.stats.ptesSynced;
    this.core.events.shadowSyncPte += n - this.syncedCharged;
    this.syncedCharged = n;
  }

  // ---------------------------------------------------------------------------
  // CSR and instruction exits: emulated on the VS state, as the hart would have run them.

  /** A CSR access that exited: done through the hart's own CSR rules at V=1 (the guest's view). */
  private csr(e: HartExit): boolean {
    const num = e.csr;
    const hart = this.hart;
    const kind = (e.insn >>> 12) & 3; // 1 write, 2 set, 3 clear
    if (e.read) this.csrCounts[num * 2]!++;
    if (e.write) this.csrCounts[num * 2 + 1]!++;
    let oldLo = 0;
    let oldHi = 0;
    const shadowSatp = num === CSR.satp && this.shadow !== undefined;
    if (e.read || kind !== 1) {
      if (shadowSatp) {
        oldLo = this.vSatpLo;
        oldHi = this.vSatpHi;
      } else {
        if (!readCsr(hart, num)) return this.deliver(Cause.ILLEGAL_INSTRUCTION, e.insn, 0);
        oldLo = hart.csrLo;
        oldHi = hart.csrHi;
      }
    }
    if (e.write) {
      let nLo = e.dataLo;
      let nHi = e.dataHi;
      if (kind === 2) {
        nLo = oldLo | nLo;
        nHi = oldHi | nHi;
      } else if (kind === 3) {
        nLo = oldLo & ~nLo;
        nHi = oldHi & ~nHi;
      }
      if (shadowSatp) {
        const mode = nHi >>> 28;
        // An unsupported mode makes the whole write have no effect (privileged spec 4.1.11).
        if (mode === 0 || mode === 8 || mode === 9) this.setGuestSatp(nLo | 0, nHi | 0);
      } else if (!writeCsr(hart, num, nLo | 0, nHi | 0))
        return this.deliver(Cause.ILLEGAL_INSTRUCTION, e.insn, 0);
    }
    hart.completeExit(oldLo, oldHi);
    this.retire();
    return true;
  }

  private instruction(e: HartExit): boolean {
    const what = e.cause;
    this.insnCounts[what & 7]!++;
    const hart = this.hart;
    switch (what) {
      case GuestInstruction.SATP_WRITE:
        this.core.countExit("csr");
        this.charge(3, 2);
        return this.csr(e);
      case GuestInstruction.ECALL:
        if (hart.priv === PRV_S) {
          // An SBI call (the core counts and charges it); ecall does not retire.
          if (!this.core.hypercall()) return false;
          this.core.events.exitControlRead++;
          this.core.events.exitControlWrite++;
          hart.completeExit();
          return true;
        }
        // A system call of the guest's user program: the guest kernel's, as the hart would deliver it.
        this.core.countExit("ecall");
        this.charge(1, 0);
        return this.deliver(Cause.ECALL_U, 0, 0);
      case GuestInstruction.WFI: {
        this.core.countExit("wfi");
        this.charge(1, 1);
        hart.completeExit();
        this.retire();
        // Resume at once when an enabled interrupt is pending (whatever SIE says); else wait for one.
        const mie = this.c[CsrSlot.MIE]!;
        if ((hart.mip() & mie) === 0) this.core.waitForInterrupt(mie);
        return true;
      }
      case GuestInstruction.SRET: {
        this.core.countExit("sret");
        this.charge(2, 2);
        const c = this.c;
        const vs = c[CsrSlot.VSSTATUS]!;
        c[CsrSlot.VSSTATUS] =
          (vs & ~(MSTATUS.SIE | MSTATUS.SPP)) | ((vs & MSTATUS.SPIE) >>> 4) | MSTATUS.SPIE;
        hart.trapStats[TRAP_STATS_SRET]! += 1;
        this.retire();
        const pcLo = c[CsrSlot.VSEPC]!;
        const pcHi = c[CsrSlot.VSEPC + 1]!;
        hart.setMode((vs >>> 8) & 1, 1);
        hart.pcLo = pcLo;
        hart.pcHi = pcHi;
        if ((vs ^ c[CsrSlot.VSSTATUS]!) & MSTATUS.SIE) hart.interruptsChanged();
        return true;
      }
      case GuestInstruction.SFENCE: {
        this.core.countExit("sfence.vma");
        this.charge(2, 1);
        const insn = e.insn;
        if (insn >>> 25 !== 0x09) return this.deliver(Cause.ILLEGAL_INSTRUCTION, insn, 0); // hfence: no H for the guest
        const rs1 = (insn >>> 15) & 31;
        const lo = hart.x[2 * rs1]!;
        const hi = hart.x[2 * rs1 + 1]!;
        if (this.shadow && this.paged) {
          this.shadow.sfence(rs1 === 0, lo, hi);
          this.chargeSync();
        }
        if (rs1 === 0) hart.flushGuestTlb();
        else hart.flushGuestTlbPage(lo, hi);
        hart.completeExit();
        this.retire();
        return true;
      }
    }
    return false;
  }

  /**
   * A VU-mode operation the ISA profile lets user mode complete without
   * trapping (NON_VIRTUALIZABLE_PROFILE): the guest's user program gets what
   * it would get on that machine under emulation. False when the profile
   * does not cover it.
   */
  private profileOperation(e: HartExit): boolean {
    const insn = e.insn;
    const hart = this.hart;
    const ops = this.profile.nonTrapping;
    if (insn === INSN_SRET) {
      if (!ops.some((o) => o.kind === "instruction" && o.instruction === "sret" && o.behaviour === "nop"))
        return false;
      this.profileEmulated++;
      this.retire();
      this.skip(4);
      return true;
    }
    if ((insn & 0x7f) !== 0x73 || ((insn >>> 12) & 3) === 0) return false;
    const num = insn >>> 20;
    const rd = (insn >>> 7) & 31;
    const rs1 = (insn >>> 15) & 31;
    const funct3 = (insn >>> 12) & 7;
    const kind = funct3 & 3;
    const writes = kind === 1 || rs1 !== 0;
    const reads = kind !== 1 || rd !== 0;
    const read = ops.find((o) => o.kind === "csr" && o.csr === num && o.access === "read");
    const write = ops.find((o) => o.kind === "csr" && o.csr === num && o.access === "write");
    if ((reads && !read) || (writes && !write)) return false;
    // The guest's own value of the CSR: what the real one is under emulation.
    let oldLo: number;
    let oldHi: number;
    if (num === CSR.satp && this.shadow) {
      oldLo = this.vSatpLo;
      oldHi = this.vSatpHi;
    } else {
      if (!readCsr(hart, num)) return false;
      oldLo = hart.csrLo;
      oldHi = hart.csrHi;
    }
    if (writes && write && write.kind === "csr" && write.behaviour === "write-ignore-privileged") {
      const sLo = funct3 >= 5 ? rs1 : hart.x[2 * rs1]!;
      const sHi = funct3 >= 5 ? 0 : hart.x[2 * rs1 + 1]!;
      const nLo = kind === 1 ? sLo : kind === 2 ? oldLo | sLo : oldLo & ~sLo;
      const nHi = kind === 1 ? sHi : kind === 2 ? oldHi | sHi : oldHi & ~sHi;
      const m = write.mask;
      writeCsr(hart, num, (oldLo & ~m.lo) | (nLo & m.lo), (oldHi & ~m.hi) | (nHi & m.hi));
    } else if (writes) return false;
    if (reads && rd !== 0 && read && read.kind === "csr") {
      const masked = read.behaviour === "read-masked";
      hart.x[2 * rd] = masked && "mask" in read ? oldLo & read.mask.lo : oldLo;
      hart.x[2 * rd + 1] = masked && "mask" in read ? oldHi & read.mask.hi : oldHi;
    }
    this.profileEmulated++;
    this.retire();
    this.skip(4);
    return true;
  }

  // ---------------------------------------------------------------------------
  // Bookkeeping.

  /** The instruction the VMM completed retires, as it would have on the real machine. */
  private retire(): void {
    const k = this.k;
    k[CounterSlot.INSTRET]! += 1;
    k[this.hart.priv === PRV_U ? CounterSlot.INSTRET_VU : CounterSlot.INSTRET_VS]! += 1;
  }

  /** Step pc past an instruction of `length` bytes the VMM handled (a TRAP exit: no completeExit). */
  private skip(length: number): void {
    const hart = this.hart;
    const lo = (hart.pcLo + length) | 0;
    if (lo >>> 0 < length) hart.pcHi = (hart.pcHi + 1) | 0;
    hart.pcLo = lo;
  }

  /**
   * Two-stage walk steps beyond a native walk: the G-stage entries the hart
   * read, counted exactly (GuestStat.GSTAGE_STEPS; 0 while the G-stage is off,
   * as under shadow paging). Windows' steps are the VMM's emulation and are
   * skipped by singleStep. (This was once estimated from total steps and walks
   * with rounding per interval, so the sum depended on when stats were read.)
   */
  private settleWalks(): void {
    const gs = this.hart.guestStats;
    const g = gs[GuestStat.GSTAGE_STEPS]!;
    this.extraSteps += g - this.gstageSteps;
    this.gstageSteps = g;
    this.walkSteps = gs[GuestStat.WALK_STEPS]!;
  }

  remoteFence(): void {
    if (this.shadow && this.paged) {
      this.shadow.sfence(true, 0, 0);
      this.chargeSync();
    }
  }

  guestMemoryWritten(pa: number, length: number): void {
    this.shadow?.guestMemoryWritten(pa, length);
  }

  counters(): Record<string, number> {
    this.settleWalks();
    const ev = this.core.events;
    ev.twoStageWalkStep += this.extraSteps - this.chargedSteps;
    this.chargedSteps = this.extraSteps;
    this.chargeSync();
    const out: Record<string, number> = {};
    const gs = this.hart.guestStats;
    out["guest.entries"] = gs[GuestStat.ENTRIES]!;
    out["guest.walks"] = gs[GuestStat.WALKS]!;
    out["guest.walkSteps"] = gs[GuestStat.WALK_STEPS]!;
    out["guest.extraWalkSteps"] = this.extraSteps;
    out["guest.windowWalkSteps"] = this.windowSteps;
    const names = ["budget", "wfi", "trap", "interrupt", "halt", "csr", "instruction", "mmio"];
    for (let r = 0; r < names.length; r++) if (this.byReason[r]) out[`exit.${names[r]}`] = this.byReason[r]!;
    for (let i = 0; i < 32; i++) {
      const n = this.trapCounts[i]!;
      if (n) out[`trap.${CAUSE_KEYS[i] ?? i}`] = n;
      const inj = this.injected[i]!;
      if (inj) out[`injected.${CAUSE_KEYS[i] ?? i}`] = inj;
    }
    for (let i = 0; i < 16; i++)
      if (this.irqCounts[i]) out[`interrupt.${IRQ_KEYS[i] ?? i}`] = this.irqCounts[i]!;
    for (let i = 0; i < GUEST_INSTRUCTION_NAMES.length; i++)
      if (this.insnCounts[i]) out[`instruction.${GUEST_INSTRUCTION_NAMES[i]}`] = this.insnCounts[i]!;
    for (let num = 0; num < 4096; num++) {
      const r = this.csrCounts[num * 2]!;
      const w = this.csrCounts[num * 2 + 1]!;
      if (!r && !w) continue;
      const name = csrName(num) ?? `0x${num.toString(16)}`;
      if (r) out[`csr.${name}.read`] = r;
      if (w) out[`csr.${name}.write`] = w;
    }
    out["mmio.exits"] = this.mmioExits;
    out["interrupts.posted"] = this.posted;
    out["mmio.windows"] = this.windows;
    for (const [key, v] of Object.entries(this.nested.stats)) out[`nested.${key}`] = v;
    if (this.shadow) for (const [key, v] of Object.entries(this.shadow.stats)) out[`shadow.${key}`] = v;
    out.profileEmulated = this.profileEmulated;
    return out;
  }

  private chargedSteps = 0;
}

/** The guest's supervisor CSRs and their VS twins (64-bit slot pairs) that start() and guestState() move. */
const S_VS_PAIRS: readonly (readonly [number, number])[] = [
  [CsrSlot.STVEC, CsrSlot.VSTVEC],
  [CsrSlot.SSCRATCH, CsrSlot.VSSCRATCH],
  [CsrSlot.SEPC, CsrSlot.VSEPC],
  [CsrSlot.SCAUSE, CsrSlot.VSCAUSE],
  [CsrSlot.STVAL, CsrSlot.VSTVAL],
  [CsrSlot.STIMECMP, CsrSlot.VSTIMECMP],
];

/** Copy the (lo, hi) slot pair `from` of `a` to the pair `to` of `b`. */
function copyPair(a: Int32Array, from: number, b: Int32Array, to: number): void {
  b[to] = a[from]!;
  b[to + 1] = a[from + 1]!;
}

function isGuestPageFault(cause: number): boolean {
  return ((GUEST_PAGE_FAULTS >>> cause) & 1) !== 0 && cause < 32;
}

/** The access-fault cause for an access kind (0 fetch, 1 load, 2 store). */
function accessFault(acc: number): number {
  return acc === 0 ? Cause.FETCH_ACCESS : acc === 1 ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS;
}

/** Bytes a store, FP store or AMO writes (8 when unknown: the PTE it lands in is synced whole). */
function storeSize(insn: number): number {
  const f3 = (insn >>> 12) & 7;
  switch (insn & 0x7f) {
    case 0x23:
      return 1 << (f3 & 3);
    case 0x27:
    case 0x2f:
      return f3 === 2 ? 4 : 8;
  }
  return 8;
}
