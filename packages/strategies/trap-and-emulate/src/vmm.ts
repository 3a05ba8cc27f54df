/**
 * The trap-and-emulate VMM (Popek and Goldberg 1974): the guest kernel runs
 * deprivileged in real U-mode; every privileged instruction it executes
 * traps out of `hart.run()`, and the VMM emulates it on a virtual CPU state.
 *
 * Virtual CPU. The guest's privilege (virtual U or S) and its supervisor
 * CSRs live here: sstatus (SIE, SPIE, SPP, SUM, MXR; FS is the real one, the
 * hart enforces it), sie, stvec, sscratch, sepc, scause, stval, senvcfg,
 * scounteren and satp. sip and stimecmp are the real ones (the real timer
 * and interrupt lines are the guest's), and so is MXR (the hart applies it
 * to U-mode loads). Every WARL rule is the hart's, so the guest cannot tell.
 *
 * Exits. Every exception from U-mode exits (the hart never enters S-mode);
 * takeable interrupts exit, and the real mie holds the guest's sie only
 * while the guest could take them (virtual U, or virtual S with SIE set),
 * so an interrupt exit is exactly where the guest takes its interrupt. The
 * VMM then emulates (CSR accesses, sret, sfence.vma, wfi), serves SBI calls
 * from the virtual S-mode (hypercalls), fills shadow page tables, emulates
 * MMIO and page-table writes, or reflects the trap into the guest kernel's
 * virtual trap vector.
 *
 * Time. Guest time comes from steps executed, so the VMM keeps the step and
 * retired-instruction counts what they would be on the real machine: an
 * emulated instruction retires; a hidden exit (a shadow fill) gives its step
 * back; an injected interrupt takes the step its delivery would. A
 * deterministic guest then runs step for step as under emulation.
 */
import {
  Cause,
  CounterSlot,
  CsrSlot,
  ExitReason,
  type Hart,
  type HartExit,
  Irq,
  MSTATUS,
  PRV_S,
  PRV_U,
  readCsr,
  writeCsr,
} from "@hvkit/cpu";
import type { GuestCpuState, StrategyInstance, VmCore } from "@hvkit/hypervisor";
import { CSR, csrName, csrPrivilege, csrReadOnly } from "@hvkit/isa";
import {
  Access,
  accessFaultCause,
  ShadowPageTables,
  type ShadowSyncPolicy,
  Walk,
} from "@hvkit/shadow-paging";
import { INSN_SRET, INSN_WFI, Mem, MemInsn } from "./decode.js";

/** sstatus bits the virtual CPU keeps (FS is the real one). */
export const VSTATUS_BITS = MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.SUM | MSTATUS.MXR;
/** Supervisor interrupts: SSI, STI, SEI (what mideleg delegates and sie implements). */
export const S_INTERRUPTS = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);

/**
 * Where the virtual CPU's state lives in {@link TrapAndEmulateVmm.vcsr}:
 * 64-bit CSRs as (lo, hi) pairs, the rest one slot each. One typed array, so
 * generated code (binary translation) can read and write it directly.
 */
export const VCPU = {
  STVEC: 0,
  SSCRATCH: 2,
  SEPC: 4,
  SCAUSE: 6,
  STVAL: 8,
  SENVCFG: 10,
  SATP: 12,
  /** The guest's sstatus bits kept here (VSTATUS_BITS). */
  STATUS: 14,
  /** The guest's sie. */
  SIE: 15,
  /** The guest's scounteren. */
  SCOUNTEREN: 16,
  /** The guest's privilege: PRV_U or PRV_S. */
  MODE: 17,
  /** Slots. */
  SIZE: 18,
} as const;

const V_STVEC = VCPU.STVEC;
const V_SSCRATCH = VCPU.SSCRATCH;
const V_SEPC = VCPU.SEPC;
const V_SCAUSE = VCPU.SCAUSE;
const V_STVAL = VCPU.STVAL;
const V_SENVCFG = VCPU.SENVCFG;
const V_SATP = VCPU.SATP;

/** The hart's S-level CSR slots (64-bit pairs) and where the virtual CPU keeps each. */
const VCPU_CSRS: readonly (readonly [number, number])[] = [
  [CsrSlot.STVEC, V_STVEC],
  [CsrSlot.SSCRATCH, V_SSCRATCH],
  [CsrSlot.SEPC, V_SEPC],
  [CsrSlot.SCAUSE, V_SCAUSE],
  [CsrSlot.STVAL, V_STVAL],
  [CsrSlot.SENVCFG, V_SENVCFG],
  [CsrSlot.SATP, V_SATP],
];

/** Emulated instructions, for the counters. */
const EMU_NAMES = [
  "csrrw",
  "csrrs",
  "csrrc",
  "csrrwi",
  "csrrsi",
  "csrrci",
  "sret",
  "wfi",
  "sfence.vma",
  "load",
  "store",
  "atomic",
] as const;
const EMU_SRET = 6;
const EMU_WFI = 7;
const EMU_SFENCE = 8;
const EMU_LOAD = 9;
const EMU_STORE = 10;
const EMU_ATOMIC = 11;

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
  9: "ecall-s",
  12: "fetch-page-fault",
  13: "load-page-fault",
  15: "store-page-fault",
};
const IRQ_KEYS: Readonly<Record<number, string>> = {
  [Irq.SSI]: "supervisor-software",
  [Irq.STI]: "supervisor-timer",
  [Irq.SEI]: "supervisor-external",
};

/** How many times one fault may repeat at one pc after a fill before the VMM calls it a bug. */
const MAX_REPEATED_FILLS = 8;

/** Options of one trap-and-emulate VM. */
export interface VmmOptions {
  /** Shadow page-table sync policy. */
  readonly shadow: ShadowSyncPolicy;
}

/**
 * The trap-and-emulate VMM bound to one VM. Its virtual CPU, shadow paging
 * and exit handling are also the base of the binary-translation VMM, which
 * reaches the same state from translated code instead of through traps.
 */
export class TrapAndEmulateVmm implements StrategyInstance {
  protected readonly core: VmCore;
  protected readonly hart: Hart;
  protected readonly x: Int32Array;
  protected readonly counters_: Float64Array;
  /** The shadow page tables (created at start). */
  shadow!: ShadowPageTables;
  private readonly policy: ShadowSyncPolicy;

  // The virtual CPU.
  /**
   * The guest's supervisor state by the slots of {@link VCPU}: stvec,
   * sscratch, sepc, scause, stval, senvcfg, satp (lo, hi pairs), the sstatus
   * bits kept here, sie, scounteren and the guest's privilege.
   */
  readonly vcsr = new Int32Array(VCPU.SIZE);

  /** The guest's privilege: PRV_U or PRV_S. */
  get vMode(): number {
    return this.vcsr[VCPU.MODE]!;
  }
  set vMode(mode: number) {
    this.vcsr[VCPU.MODE] = mode;
  }
  /** The guest's sstatus bits kept here (VSTATUS_BITS). */
  get vStatus(): number {
    return this.vcsr[VCPU.STATUS]!;
  }
  set vStatus(bits: number) {
    this.vcsr[VCPU.STATUS] = bits;
  }
  /** The guest's sie. */
  get vSie(): number {
    return this.vcsr[VCPU.SIE]!;
  }
  set vSie(bits: number) {
    this.vcsr[VCPU.SIE] = bits;
  }
  /** The guest's scounteren. */
  get vScounteren(): number {
    return this.vcsr[VCPU.SCOUNTEREN]!;
  }
  set vScounteren(bits: number) {
    this.vcsr[VCPU.SCOUNTEREN] = bits;
  }

  // Accounting.
  /** Exits by hart cause (exceptions), [32 + irq] interrupts. */
  private readonly trapCounts = new Float64Array(64);
  /** Emulated instructions by EMU_NAMES index. */
  protected readonly emuCounts = new Float64Array(EMU_NAMES.length);
  /** Emulated CSR accesses: [csr * 2] reads, [csr * 2 + 1] writes. */
  protected readonly csrCounts = new Float64Array(4096 * 2);
  /** Traps reflected into the guest kernel, by cause. */
  private readonly reflected = new Float64Array(32);
  /** Interrupts injected, by irq. */
  private readonly injected = new Float64Array(16);
  private readonly mem = new MemInsn();
  /** U-mode retired count when the guest last entered virtual S (instructions by the guest's mode). */
  private uMark = 0;
  private syncedCharged = 0;
  private repeatPc = 0;
  private repeatVa = 0;
  private repeatInstret = 0;
  private repeats = 0;
  private singleSteps = 0;

  constructor(core: VmCore, options: VmmOptions) {
    this.core = core;
    this.hart = core.hart;
    this.x = core.hart.x;
    this.counters_ = core.hart.counters;
    this.policy = options.shadow;
    this.vMode = PRV_S;
  }

  /** Take over the boot CPU state the VMM core left (S-mode at the kernel entry) and deprivilege it. */
  start(): void {
    const hart = this.hart;
    const c = hart.csr;
    // The virtual CPU starts where the hart was: S-mode, the boot registers, satp = 0.
    this.vMode = hart.priv === PRV_U ? PRV_U : PRV_S;
    this.vStatus = c[CsrSlot.MSTATUS]! & VSTATUS_BITS;
    this.vSie = c[CsrSlot.MIE]! & S_INTERRUPTS;
    this.vScounteren = c[CsrSlot.SCOUNTEREN]!;
    for (const [slot, v] of VCPU_CSRS) {
      this.vcsr[v] = c[slot]!;
      this.vcsr[v + 1] = c[slot + 1]!;
    }
    // The real machine: U-mode, every exception and takeable interrupt exits.
    c[CsrSlot.MSTATUS] = c[CsrSlot.MSTATUS]! & ~(MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.SUM);
    hart.exitOnException[PRV_U] = -1;
    hart.exitOnInterrupt = true;
    hart.priv = PRV_U;
    this.shadow = new ShadowPageTables({
      hart,
      guestRamSize: this.core.config.memory,
      poolBase: this.core.privateRamBase,
      poolBytes: this.core.privateRam.length,
      policy: this.policy,
      // Devices assigned to the guest (direct assignment): mapped through, no exit per access.
      directPages: this.core.board.directRanges(),
    });
    this.shadow.setMxr((this.vStatus & MSTATUS.MXR) !== 0);
    this.shadow.setPrivilege(this.vMode, (this.vStatus & MSTATUS.SUM) !== 0);
    const satpLo = this.vcsr[V_SATP]!;
    const satpHi = this.vcsr[V_SATP + 1]!;
    if (satpLo !== 0 || satpHi !== 0) this.shadow.setSatp(satpLo, satpHi);
    this.shadow.activate();
    this.uMark = this.counters_[CounterSlot.INSTRET_U]!;
    this.applyMode();
    hart.privilegeChanged();
  }

  /**
   * The guest-visible hart for snapshots: the virtual CPU folded back where a
   * machine the guest owned keeps it (what `start()` takes over again).
   */
  guestState(cpu: GuestCpuState): void {
    const c = cpu.csr;
    const v = this.vcsr;
    cpu.priv = this.vMode;
    c[CsrSlot.MSTATUS] = (c[CsrSlot.MSTATUS]! & ~VSTATUS_BITS) | this.vStatus;
    c[CsrSlot.MIE] = (c[CsrSlot.MIE]! & ~S_INTERRUPTS) | this.vSie;
    c[CsrSlot.SCOUNTEREN] = this.vScounteren;
    for (const [slot, from] of VCPU_CSRS) {
      c[slot] = v[from]!;
      c[slot + 1] = v[from + 1]!;
    }
    // Instructions the guest kernel retired in real U-mode since it entered virtual S.
    if (this.vMode === PRV_S) {
      const k = cpu.counters;
      const d = k[CounterSlot.INSTRET_U]! - this.uMark;
      k[CounterSlot.INSTRET_U]! -= d;
      k[CounterSlot.INSTRET_S]! += d;
    }
  }

  // ---------------------------------------------------------------------------
  // Exits.

  handleExit(e: HartExit): boolean {
    const ev = this.core.events;
    if (e.reason === ExitReason.INTERRUPT) {
      const irq = e.cause;
      this.trapCounts[32 + (irq & 31)]!++;
      this.core.countExit("interrupt");
      ev.vmExit++;
      ev.vmEntry++;
      ev.emulateInstruction++;
      this.injected[irq & 15]!++;
      // The step the hart takes to deliver an interrupt.
      this.counters_[CounterSlot.CYCLES]! += 1;
      this.deliver(irq, true, 0, 0);
      return true;
    }
    if (e.reason !== ExitReason.TRAP) return false;
    const cause = e.cause;
    this.trapCounts[cause & 31]!++;
    switch (cause) {
      case Cause.ILLEGAL_INSTRUCTION:
        if (this.vMode === PRV_S && this.emulatePrivileged(e.insn)) return true;
        return this.reflect(cause, e.tvalLo, e.tvalHi);
      case Cause.ECALL_U:
        if (this.vMode === PRV_S) {
          // A hypercall: the SBI of the shared VMM core (it counts and charges the exit).
          if (!this.core.hypercall()) return false;
          this.advance(4);
          return true;
        }
        return this.reflect(cause, 0, 0);
      case Cause.FETCH_PAGE_FAULT:
      case Cause.LOAD_PAGE_FAULT:
      case Cause.STORE_PAGE_FAULT:
        return this.pageFault(e, cause);
      default:
        return this.reflect(cause, e.tvalLo, e.tvalHi);
    }
  }

  /** A page fault on the shadow: fill it, reflect the guest's own fault, or emulate the access. */
  private pageFault(e: HartExit, cause: number): boolean {
    const acc =
      cause === Cause.FETCH_PAGE_FAULT
        ? Access.FETCH
        : cause === Cause.LOAD_PAGE_FAULT
          ? Access.LOAD
          : Access.STORE;
    const lo = e.tvalLo;
    const hi = e.tvalHi;
    const r = this.shadow.fill(lo, hi, acc);
    const ev = this.core.events;
    switch (r) {
      case Walk.RAM: {
        // The same fault again with nothing retired in between: a fill that does not stick (a VMM bug).
        const retired = this.counters_[CounterSlot.INSTRET]!;
        if (e.pcLo === this.repeatPc && lo === this.repeatVa && retired === this.repeatInstret) {
          if (++this.repeats > MAX_REPEATED_FILLS) return false;
        } else {
          this.repeatPc = e.pcLo;
          this.repeatVa = lo;
          this.repeatInstret = retired;
          this.repeats = 0;
        }
        // Hidden from the guest: give back the step the faulting attempt took.
        this.core.countExit("shadow-fault");
        ev.vmExit++;
        ev.vmEntry++;
        this.chargeSync();
        this.counters_[CounterSlot.CYCLES]! -= 1;
        return true;
      }
      case Walk.GUEST_FAULT:
        this.chargeSync();
        return this.reflect(this.shadow.faultCause, lo, hi);
      case Walk.NOT_RAM:
        if (acc === Access.FETCH) return this.reflect(Cause.FETCH_ACCESS, lo, hi);
        this.core.countExit("mmio");
        ev.vmExit++;
        ev.vmEntry++;
        ev.mmioEmulation++;
        return this.emulateMemory(e);
      default:
        // A store to a write-protected guest page table.
        this.core.countExit("pte-write");
        ev.vmExit++;
        ev.vmEntry++;
        ev.emulateInstruction++;
        this.chargeSync();
        return this.emulateMemory(e);
    }
  }

  /** Charge the shadow entries written since the last charge (shadowSyncPte). */
  protected chargeSync(): void {
    const n = this.shadow.stats.ptesSynced;
    this.core.events.shadowSyncPte += n - this.syncedCharged;
    this.syncedCharged = n;
  }

  // ---------------------------------------------------------------------------
  // The virtual trap: delivery into the guest kernel (privileged spec 4.1.1, 3.1.6.1).

  /** Reflect a synchronous exception into the guest kernel. */
  protected reflect(cause: number, tvalLo: number, tvalHi: number): boolean {
    this.chargeReflect();
    this.reflected[cause & 31]!++;
    this.deliver(cause, false, tvalLo, tvalHi);
    return true;
  }

  /** Account one trap reflected into the guest kernel: here an exit, its emulation and the entry back. */
  protected chargeReflect(): void {
    const ev = this.core.events;
    this.core.countExit("exception");
    ev.vmExit++;
    ev.vmEntry++;
    ev.emulateInstruction++;
  }

  /** Deliver a trap to the guest's virtual S-mode at the current pc. */
  protected deliver(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number): void {
    const hart = this.hart;
    const v = this.vcsr;
    // A trap ends any LR/SC sequence, as when the hart delivers it itself.
    hart.clearReservation();
    v[V_SCAUSE] = cause;
    v[V_SCAUSE + 1] = interrupt ? 0x80000000 | 0 : 0;
    v[V_SEPC] = hart.pcLo;
    v[V_SEPC + 1] = hart.pcHi;
    v[V_STVAL] = tvalLo;
    v[V_STVAL + 1] = tvalHi;
    const s = this.vStatus;
    this.vStatus =
      (s & ~(MSTATUS.SPP | MSTATUS.SPIE | MSTATUS.SIE)) | (this.vMode << 8) | ((s & MSTATUS.SIE) << 4);
    this.setMode(PRV_S);
    const lo = v[V_STVEC]!;
    const hi = v[V_STVEC + 1]!;
    const base = lo & ~3;
    if (interrupt && (lo & 3) === 1) {
      const t = (base + 4 * cause) | 0;
      hart.pcHi = (hi + (t >>> 0 < base >>> 0 ? 1 : 0)) | 0;
      hart.pcLo = t;
    } else {
      hart.pcLo = base;
      hart.pcHi = hi;
    }
  }

  /** Switch the guest's privilege and re-derive the real machine state that depends on it. */
  protected setMode(mode: number): void {
    if (mode !== this.vMode) {
      const k = this.counters_;
      if (this.vMode === PRV_S) this.settleInstret();
      else this.uMark = k[CounterSlot.INSTRET_U]!;
      this.vMode = mode;
      this.modeChanged();
    }
    this.applyMode();
  }

  /** The guest's privilege changed (a hook for strategies built on this VMM). */
  protected modeChanged(): void {}

  /** Count what the guest retired in virtual S-mode (in real U-mode) as S-mode instructions. */
  private settleInstret(): void {
    const k = this.counters_;
    const d = k[CounterSlot.INSTRET_U]! - this.uMark;
    k[CounterSlot.INSTRET_U]! -= d;
    k[CounterSlot.INSTRET_S]! += d;
    this.uMark = k[CounterSlot.INSTRET_U]!;
  }

  protected applyMode(): void {
    const c = this.hart.csr;
    // Counters: the guest kernel's own access rules (mcounteren only); its user programs: its scounteren.
    c[CsrSlot.SCOUNTEREN] = this.vMode === PRV_U ? this.vScounteren : -1;
    this.shadow.setPrivilege(this.vMode, (this.vStatus & MSTATUS.SUM) !== 0);
    this.updateInterrupts();
  }

  /** The real mie: the guest's sie while the guest could take an interrupt, else nothing. */
  protected updateInterrupts(): void {
    const enabled = this.vMode === PRV_U || (this.vStatus & MSTATUS.SIE) !== 0;
    const mie = enabled ? this.vSie : 0;
    const c = this.hart.csr;
    if (c[CsrSlot.MIE] !== mie) {
      c[CsrSlot.MIE] = mie;
      this.hart.interruptsChanged();
    }
  }

  /** An emulated instruction retires: count it as the hart would have, and step past it. */
  protected advance(length: number): void {
    const hart = this.hart;
    const lo = (hart.pcLo + length) | 0;
    if (lo >>> 0 < length) hart.pcHi = (hart.pcHi + 1) | 0;
    hart.pcLo = lo;
  }

  protected retire(length: number): void {
    const k = this.counters_;
    k[CounterSlot.INSTRET]! += 1;
    k[CounterSlot.INSTRET_U]! += 1; // moved to S by settleInstret when the guest is in virtual S
    this.advance(length);
  }

  // ---------------------------------------------------------------------------
  // Privileged instructions from the guest kernel.

  /** Emulate a SYSTEM instruction the guest kernel trapped on; false when it is illegal in S-mode too. */
  protected emulatePrivileged(insn: number): boolean {
    if ((insn & 0x7f) !== 0x73) return false;
    const funct3 = (insn >>> 12) & 7;
    if (funct3 === 0) {
      if (insn === INSN_SRET) return this.sret();
      if (insn === INSN_WFI) return this.wfi();
      if (insn >>> 25 === 0x09 && ((insn >>> 7) & 31) === 0) return this.sfenceVma(insn);
      return false; // mret, H-extension fences: illegal in S-mode without M or H
    }
    if (funct3 === 4) return false; // hlv/hsv: no H extension in the virtual CPU
    return this.csr(insn, funct3);
  }

  /** Account one emulated privileged instruction (`what`: an EMU_NAMES index): here an exit and its emulation. */
  protected charge(what: number, reason: string): void {
    const ev = this.core.events;
    this.core.countExit(reason);
    ev.vmExit++;
    ev.vmEntry++;
    ev.emulateInstruction++;
    this.emuCounts[what]!++;
  }

  private sret(): boolean {
    this.charge(EMU_SRET, "sret");
    const s = this.vStatus;
    const spp = (s >>> 8) & 1;
    this.vStatus = (s & ~(MSTATUS.SIE | MSTATUS.SPP)) | ((s & MSTATUS.SPIE) >>> 4) | MSTATUS.SPIE;
    const k = this.counters_;
    k[CounterSlot.INSTRET]! += 1;
    k[CounterSlot.INSTRET_U]! += 1;
    const hart = this.hart;
    hart.pcLo = this.vcsr[V_SEPC]!;
    hart.pcHi = this.vcsr[V_SEPC + 1]!;
    this.setMode(spp === 1 ? PRV_S : PRV_U);
    return true;
  }

  private wfi(): boolean {
    this.charge(EMU_WFI, "wfi");
    this.retire(4);
    // Resume at once when an enabled interrupt is pending (whatever SIE says); else wait for one.
    if ((this.hart.mip() & this.vSie) === 0) this.core.waitForInterrupt(this.vSie);
    return true;
  }

  private sfenceVma(insn: number): boolean {
    this.charge(EMU_SFENCE, "sfence.vma");
    const rs1 = (insn >>> 15) & 31;
    this.shadow.sfence(rs1 === 0, this.x[2 * rs1]!, this.x[2 * rs1 + 1]!);
    this.chargeSync();
    this.retire(4);
    return true;
  }

  /** Zicsr on a supervisor CSR (the hart's checks, in its order); false when illegal in S-mode. */
  private csr(insn: number, funct3: number): boolean {
    const num = insn >>> 20;
    const rd = (insn >>> 7) & 31;
    const rs1 = (insn >>> 15) & 31;
    const kind = funct3 & 3; // 1 write, 2 set, 3 clear
    const isImm = funct3 >= 5;
    const writes = kind === 1 || rs1 !== 0;
    const reads = kind !== 1 || rd !== 0;
    // A user CSR trapped with the guest kernel's own access rules (see applyMode): illegal in S too.
    if (csrPrivilege(num) !== PRV_S || (writes && csrReadOnly(num))) return false;
    let oldLo = 0;
    let oldHi = 0;
    if (reads || kind !== 1) {
      if (!this.readVirtual(num)) return false;
      oldLo = this.rLo;
      oldHi = this.rHi;
      this.csrCounts[num * 2]!++;
    }
    if (writes) {
      const x = this.x;
      const sLo = isImm ? rs1 : x[2 * rs1]!;
      const sHi = isImm ? 0 : x[2 * rs1 + 1]!;
      let nLo = sLo;
      let nHi = sHi;
      if (kind === 2) {
        nLo = oldLo | sLo;
        nHi = oldHi | sHi;
      } else if (kind === 3) {
        nLo = oldLo & ~sLo;
        nHi = oldHi & ~sHi;
      }
      if (!this.writeVirtual(num, nLo, nHi)) return false;
      this.csrCounts[num * 2 + 1]!++;
    }
    if (rd !== 0) {
      this.x[2 * rd] = oldLo;
      this.x[2 * rd + 1] = oldHi;
    }
    this.charge(funct3 >= 5 ? funct3 - 2 : funct3 - 1, "csr");
    this.retire(4);
    return true;
  }

  private rLo = 0;
  private rHi = 0;

  /** Read a supervisor CSR of the virtual CPU into rLo/rHi. */
  private readVirtual(num: number): boolean {
    const v = this.vcsr;
    switch (num) {
      case CSR.sstatus: {
        const fs = this.hart.csr[CsrSlot.MSTATUS]! & MSTATUS.FS;
        this.rLo = (this.vStatus & VSTATUS_BITS) | fs;
        // UXL = 2 (64-bit); SD summarises a dirty FS.
        this.rHi = fs === MSTATUS.FS ? 0x80000002 | 0 : 2;
        return true;
      }
      case CSR.sie:
        return this.ret(this.vSie, 0);
      case CSR.sip:
      case CSR.stimecmp:
        // The real pending bits and timer are the guest's.
        if (!readCsr(this.hart, num)) return false;
        return this.ret(this.hart.csrLo, this.hart.csrHi);
      case CSR.stvec:
        return this.ret(v[V_STVEC]!, v[V_STVEC + 1]!);
      case CSR.scounteren:
        return this.ret(this.vScounteren, 0);
      case CSR.senvcfg:
        return this.ret(v[V_SENVCFG]!, v[V_SENVCFG + 1]!);
      case CSR.sscratch:
        return this.ret(v[V_SSCRATCH]!, v[V_SSCRATCH + 1]!);
      case CSR.sepc:
        return this.ret(v[V_SEPC]!, v[V_SEPC + 1]!);
      case CSR.scause:
        return this.ret(v[V_SCAUSE]!, v[V_SCAUSE + 1]!);
      case CSR.stval:
        return this.ret(v[V_STVAL]!, v[V_STVAL + 1]!);
      case CSR.satp:
        return this.ret(v[V_SATP]!, v[V_SATP + 1]!);
    }
    return false;
  }

  private ret(lo: number, hi: number): true {
    this.rLo = lo;
    this.rHi = hi;
    return true;
  }

  /** Write a supervisor CSR of the virtual CPU (the hart's WARL rules) and apply its effects. */
  protected writeVirtual(num: number, lo: number, hi: number): boolean {
    const v = this.vcsr;
    switch (num) {
      case CSR.sstatus: {
        const hart = this.hart;
        const c = hart.csr;
        const old = this.vStatus;
        const next = (old & ~VSTATUS_BITS) | (lo & VSTATUS_BITS);
        this.vStatus = next;
        const ms = c[CsrSlot.MSTATUS]!;
        const real = (ms & ~(MSTATUS.FS | MSTATUS.MXR)) | (lo & (MSTATUS.FS | MSTATUS.MXR));
        c[CsrSlot.MSTATUS] = real;
        const changed = old ^ next;
        if (changed & MSTATUS.MXR) {
          hart.flushTlb(); // the hart applies the real MXR to U-mode loads
          this.shadow.setMxr((next & MSTATUS.MXR) !== 0);
        }
        if (changed & (MSTATUS.SUM | MSTATUS.SIE)) this.applyMode();
        return true;
      }
      case CSR.sie:
        this.vSie = lo & S_INTERRUPTS;
        this.updateInterrupts();
        return true;
      case CSR.sip:
      case CSR.stimecmp:
        return writeCsr(this.hart, num, lo, hi);
      case CSR.stvec:
        v[V_STVEC] = (lo & ~3) | ((lo & 3) === 1 ? 1 : 0);
        v[V_STVEC + 1] = hi;
        return true;
      case CSR.scounteren:
        this.vScounteren = lo;
        return true;
      case CSR.senvcfg:
        v[V_SENVCFG] = lo & 1; // FIOM
        return true;
      case CSR.sscratch:
        v[V_SSCRATCH] = lo;
        v[V_SSCRATCH + 1] = hi;
        return true;
      case CSR.sepc:
        v[V_SEPC] = lo & ~1;
        v[V_SEPC + 1] = hi;
        return true;
      case CSR.scause:
        v[V_SCAUSE] = lo;
        v[V_SCAUSE + 1] = hi;
        return true;
      case CSR.stval:
        v[V_STVAL] = lo;
        v[V_STVAL + 1] = hi;
        return true;
      case CSR.satp: {
        const mode = hi >>> 28;
        // An unsupported mode makes the whole write have no effect (privileged spec 4.1.11).
        if (mode !== 0 && mode !== 8 && mode !== 9) return true;
        v[V_SATP] = lo;
        v[V_SATP + 1] = hi;
        this.shadow.setSatp(lo, hi);
        this.chargeSync();
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------------------
  // Loads and stores the VMM performs for the guest: MMIO, and writes to write-protected page tables.

  /** Emulate the load/store/atomic at pc that faulted (`e.insn`): its translation, access and write-back. */
  private emulateMemory(e: HartExit): boolean {
    const m = this.mem;
    if (!m.decode(e.insn)) return false;
    const len = e.insnLength || 4;
    const x = this.x;
    if (m.kind === Mem.ATOMIC) return this.emulateAtomic(e);
    // Effective address x[rs1] + imm (64-bit).
    const s = x[2 * m.rs1]!;
    const lo = (s + m.imm) | 0;
    const hi = (x[2 * m.rs1 + 1]! + (m.imm >> 31) + (lo >>> 0 < s >>> 0 ? 1 : 0)) | 0;
    const size = m.size;
    const store = m.kind === Mem.STORE || m.kind === Mem.FP_STORE;
    let vLo = 0;
    let vHi = 0;
    if (store) {
      if (m.kind === Mem.STORE) {
        vLo = x[2 * m.rs2]!;
        vHi = x[2 * m.rs2 + 1]!;
      } else {
        const u32 = this.hart.fpu.u32;
        vLo = u32[2 * m.rs2]! | 0;
        vHi = u32[2 * m.rs2 + 1]! | 0;
      }
      if (!this.storeBytes(lo, hi, size, vLo, vHi)) return true; // faulted: reflected
      this.emuCounts[EMU_STORE]!++;
    } else {
      if (!this.loadBytes(lo, hi, size)) return true;
      vLo = this.ldLo;
      vHi = this.ldHi;
      this.emuCounts[EMU_LOAD]!++;
      if (m.kind === Mem.LOAD) {
        if (!m.unsigned) {
          if (size === 1) vLo = (vLo << 24) >> 24;
          else if (size === 2) vLo = (vLo << 16) >> 16;
          if (size < 8) vHi = vLo >> 31;
        } else if (size < 8) vHi = 0;
        if (m.rd !== 0) {
          x[2 * m.rd] = vLo;
          x[2 * m.rd + 1] = vHi;
        }
      } else {
        const fpu = this.hart.fpu;
        if (size === 4) fpu.writeSingleBits(m.rd, vLo);
        else fpu.writeDoubleBits(m.rd, vLo, vHi);
        this.hart.csr[CsrSlot.MSTATUS]! |= MSTATUS.FS; // dirty
      }
    }
    this.retire(len);
    return true;
  }

  private ldLo = 0;
  private ldHi = 0;

  /** Translate (lo, hi) for `acc` as the guest's MMU; -1 after reflecting its fault. */
  private translate(lo: number, hi: number, acc: number): number {
    const r = this.shadow.translate(lo, hi, acc);
    if (r === Walk.GUEST_FAULT) {
      this.reflect(this.shadow.faultCause, lo, hi);
      return -1;
    }
    return this.shadow.gpa;
  }

  private isRam(pa: number): boolean {
    const off = pa - this.hart.ramBase;
    return off >= 0 && off < this.core.config.memory;
  }

  /** Load `size` bytes at guest-virtual (lo, hi) into ldLo/ldHi (as the hart does: misaligned bytewise). False after a fault. */
  private loadBytes(lo: number, hi: number, size: number): boolean {
    if ((lo & (size - 1)) === 0) {
      const pa = this.translate(lo, hi, Access.LOAD);
      if (pa < 0) return false;
      return this.loadPhys(pa, size, lo, hi);
    }
    if ((lo & 0xfff) + size > 4096) {
      // Crossing a page: both translations first, so a fault reports the failing part.
      if (this.translate(lo, hi, Access.LOAD) < 0) return false;
      const lo2 = (lo + size - 1) | 0;
      const hi2 = (hi + (lo2 >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      if (this.translate(lo2 & ~0xfff, hi2, Access.LOAD) < 0) return false;
    }
    let vLo = 0;
    let vHi = 0;
    for (let i = 0; i < size; i++) {
      const l = (lo + i) | 0;
      const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      const pa = this.translate(l, h, Access.LOAD);
      if (pa < 0 || !this.loadPhys(pa, 1, l, h)) return false;
      if (i < 4) vLo |= this.ldLo << (8 * i);
      else vHi |= this.ldLo << (8 * (i - 4));
    }
    this.ldLo = vLo;
    this.ldHi = vHi;
    return true;
  }

  private loadPhys(pa: number, size: number, lo: number, hi: number): boolean {
    if (this.isRam(pa)) {
      const ram = this.hart.ram;
      const off = pa - this.hart.ramBase;
      let vLo = 0;
      let vHi = 0;
      for (let i = 0; i < size; i++) {
        if (i < 4) vLo |= ram[off + i]! << (8 * i);
        else vHi |= ram[off + i]! << (8 * (i - 4));
      }
      this.ldLo = vLo;
      this.ldHi = vHi;
      return true;
    }
    const bus = this.hart.bus;
    if (!bus.load(pa, size as 1 | 2 | 4 | 8)) {
      this.reflect(Cause.LOAD_ACCESS, lo, hi);
      return false;
    }
    this.ldLo = bus.dataLo | 0;
    this.ldHi = size === 8 ? bus.dataHi | 0 : 0;
    return true;
  }

  /** Store `size` bytes of (vLo, vHi) at guest-virtual (lo, hi) (misaligned: bytewise). False after a fault. */
  private storeBytes(lo: number, hi: number, size: number, vLo: number, vHi: number): boolean {
    if ((lo & (size - 1)) === 0) {
      const pa = this.translate(lo, hi, Access.STORE);
      if (pa < 0) return false;
      return this.storePhys(pa, size, vLo, vHi, lo, hi);
    }
    // Misaligned: every byte's translation first (a fault writes nothing), then the bytes.
    for (let i = 0; i < size; i++) {
      const l = (lo + i) | 0;
      if (this.translate(l, (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0, Access.STORE) < 0) return false;
    }
    for (let i = 0; i < size; i++) {
      const l = (lo + i) | 0;
      const h = (hi + (l >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
      const b = i < 4 ? (vLo >>> (8 * i)) & 0xff : (vHi >>> (8 * (i - 4))) & 0xff;
      const pa = this.translate(l, h, Access.STORE);
      if (pa < 0 || !this.storePhys(pa, 1, b, 0, l, h)) return false;
    }
    return true;
  }

  private storePhys(pa: number, size: number, vLo: number, vHi: number, lo: number, hi: number): boolean {
    if (this.isRam(pa)) {
      const ram = this.hart.ram;
      const off = pa - this.hart.ramBase;
      for (let i = 0; i < size; i++) ram[off + i] = i < 4 ? vLo >>> (8 * i) : vHi >>> (8 * (i - 4));
      this.hart.ramChanged(pa, size);
      if (this.shadow.isPageTable(pa)) this.shadow.pteWritten(pa, size);
      return true;
    }
    if (!this.hart.bus.store(pa, size as 1 | 2 | 4 | 8, vLo, vHi)) {
      this.reflect(Cause.STORE_ACCESS, lo, hi);
      return false;
    }
    return true;
  }

  /**
   * LR, SC or an AMO that faulted: on a device, the access fault the hart
   * gives atomics outside RAM; on a write-protected page table, single-step
   * it on the hart with the page writable for that one instruction (the LR/SC
   * reservation lives in the hart), then sync the shadow.
   */
  private emulateAtomic(e: HartExit): boolean {
    const m = this.mem;
    const lo = this.x[2 * m.rs1]!;
    const hi = this.x[2 * m.rs1 + 1]!;
    const isLr = m.funct5 === 2;
    const acc = isLr ? Access.LOAD : Access.STORE;
    const pa = this.translate(lo, hi, acc);
    if (pa < 0) return true;
    if (!this.isRam(pa)) return this.reflect(accessFaultCause(acc), lo, hi);
    // A page-table page: open the window, run the one instruction, close it.
    const pcLo = e.pcLo;
    const pcHi = e.pcHi;
    const win = this.shadow.openWriteWindow(lo, hi);
    if (win < 0) return false;
    const k = this.counters_;
    k[CounterSlot.CYCLES]! -= 1; // the faulting attempt: the step is taken again below
    const r = this.hart.run(1);
    this.shadow.closeWriteWindow(win, lo, hi);
    this.singleSteps++;
    if (r === ExitReason.BUDGET) {
      this.emuCounts[EMU_ATOMIC]!++;
      this.shadow.pteWritten(pa - (pa & 7), 8);
      this.chargeSync();
      return true;
    }
    if (r === ExitReason.HALT) {
      // Nothing ran: the instruction runs again when the hart resumes.
      this.hart.pcLo = pcLo;
      this.hart.pcHi = pcHi;
      return true;
    }
    // Another exit (an interrupt that became takeable, a different fault): handle it as such.
    return this.handleExit(this.hart.exit);
  }

  // ---------------------------------------------------------------------------
  // Hooks and counters.

  remoteFence(): void {
    this.shadow.sfence(true, 0, 0);
  }

  guestMemoryWritten(pa: number, length: number): void {
    this.shadow.guestMemoryWritten(pa, length);
  }

  counters(): Record<string, number> {
    if (this.vMode === PRV_S) this.settleInstret();
    const out: Record<string, number> = {};
    for (let i = 0; i < 32; i++) {
      const n = this.trapCounts[i]!;
      if (n) out[`trap.${CAUSE_KEYS[i] ?? i}`] = n;
      const irq = this.trapCounts[32 + i]!;
      if (irq) out[`trap.interrupt.${IRQ_KEYS[i] ?? i}`] = irq;
      const ref = this.reflected[i]!;
      if (ref) out[`reflected.${CAUSE_KEYS[i] ?? i}`] = ref;
    }
    for (let i = 0; i < 16; i++) {
      const n = this.injected[i]!;
      if (n) out[`injected.${IRQ_KEYS[i] ?? i}`] = n;
    }
    for (let i = 0; i < EMU_NAMES.length; i++) {
      const n = this.emuCounts[i]!;
      if (n) out[`emulated.${EMU_NAMES[i]}`] = n;
    }
    for (let num = 0; num < 4096; num++) {
      const r = this.csrCounts[num * 2]!;
      const w = this.csrCounts[num * 2 + 1]!;
      if (!r && !w) continue;
      const name = csrName(num) ?? `0x${num.toString(16)}`;
      if (r) out[`csr.${name}.read`] = r;
      if (w) out[`csr.${name}.write`] = w;
    }
    const s = this.shadow.stats;
    for (const [k, v] of Object.entries(s)) out[`shadow.${k}`] = v;
    out["shadow.singleSteps"] = this.singleSteps;
    // Sensitive operations the ISA profile let complete in U-mode without trapping: fidelity lost.
    out.profileNonTraps = this.hart.profileNonTraps;
    return out;
  }
}
