/**
 * The paravirtual VMM (Xen's approach, Barham et al. 2003): the guest
 * kernel, modified, asks the VMM for privileged work through the hypercall
 * ABI of ABI.md instead of executing sensitive instructions. It extends the
 * trap-and-emulate VMM, whose deprivileged guest kernel (real U-mode),
 * virtual CPU and shadow page tables it shares:
 *
 * - Hypercalls are ecalls from the guest's virtual S-mode with a7 = PV_EID;
 *   every other ecall is an SBI call served by the VMM core, and every
 *   privileged instruction still traps and is emulated. That is the hybrid
 *   mode unmodified guests (Debian Linux) run in; the counters say how many
 *   operations went each way.
 * - Page tables: the guest's tables are the real ones (guest-physical =
 *   host-physical for RAM); the VMM validates every PTE written into a
 *   page-table page (pinned: a root, or a table a validated entry links),
 *   pins linked tables after validating their whole contents, and keeps
 *   pinned pages read-only to the guest (the shadow's `protectPage`): a
 *   guest store to one is refused. The hart walks shadow tables derived
 *   from them, because the deprivileged kernel needs its mappings with U set.
 * - Interrupts: the virtual flag (sstatus.SIE) and mask (sie) live in the
 *   shared page, read on every exit and written before every entry. An
 *   interrupt that arrives while they have it off is held (masked in the
 *   real mie) and flagged pending in the shared page; the guest asks for it
 *   with IRQ_CHECK when it turns interrupts back on.
 *
 * Accounting: every hypercall counts one "hypercall" exit and charges an
 * exit, an entry and the profile's `hypercall` cost; shadow entries the
 * updates drop are charged `shadowSyncPte`, as for trap-and-emulate.
 */
import {
  Cause,
  CsrSlot,
  ExitReason,
  type HartExit,
  MSTATUS,
  PRV_S,
  PRV_U,
  readCsr,
  writeCsr,
} from "@hvkit/cpu";
import { type GuestCpuState, SnapshotError, type VmCore } from "@hvkit/hypervisor";
import { CSR, csrName } from "@hvkit/isa";
import { VIRT_MEMORY_MAP } from "@hvkit/machine";
import { Access, Walk } from "@hvkit/shadow-paging";
import {
  INSN_SRET,
  INSN_WFI,
  S_INTERRUPTS,
  TrapAndEmulateVmm,
  VCPU,
  VSTATUS_BITS,
} from "@hvkit/trap-and-emulate";
import {
  PV_ABI_VERSION,
  PV_CALL_NAMES,
  PV_CONSOLE_MAX,
  PV_EID,
  PV_MMU_BATCH_MAX,
  PV_MMU_REQUEST_BYTES,
  PV_REJECT_REASONS,
  PvCall,
  PvFlush,
  PvIrq,
  PvShared,
} from "./abi.js";

const TWO32 = 4294967296;
const SIE = MSTATUS.SIE;
// SBI error codes (SBI spec 3.2).
const ERR_FAILED = -1;
const ERR_NOT_SUPPORTED = -2;
const ERR_INVALID_PARAM = -3;
const ERR_DENIED = -4;
const ERR_INVALID_ADDRESS = -5;

// Reject reasons by PV_REJECT_REASONS index.
const R_MALFORMED = 0;
const R_VMM = 1;
const R_FOREIGN = 2;
const R_PT_WRITABLE = 3;
const R_PT_STORE = 4;
const R_LEVEL = 5;
const R_BATCH = 6;
const R_BAD_ARG = 7;
const R_BAD_RELEASE = 8;

// PTE bits (privileged spec 4.3.1).
const PTE_V = 1;
const PTE_W = 4;
const PTE_U = 1 << 4;
const PTE_A = 1 << 6;
const PTE_D = 1 << 7;

/** Upper bounds of the batch-size buckets (`pv.mmu.batch.<lo>-<hi>`). */
const BATCH_BUCKETS = [1, 4, 16, 64, 256, PV_MMU_BATCH_MAX] as const;

/** CSRs the trap entry and return of a guest touch (not paravirtualized in ABI 1.0): sstatus, sscratch, sepc, scause, stval. */
const TRAP_FRAME_CSRS = new Set<number>([CSR.sstatus, CSR.sscratch, CSR.sepc, CSR.scause, CSR.stval]);
/** Slots of `unexpected` past the CSRs. */
const U_WFI = 4096;
const U_SFENCE = 4097;
const U_OTHER = 4098;

/** Device windows of the virt board a guest may map: its own devices. */
const DEVICE_WINDOWS: readonly (readonly [number, number])[] = [
  [VIRT_MEMORY_MAP.test.base, VIRT_MEMORY_MAP.test.size],
  [VIRT_MEMORY_MAP.clint.base, VIRT_MEMORY_MAP.clint.size],
  [VIRT_MEMORY_MAP.plic.base, VIRT_MEMORY_MAP.plic.size],
  [VIRT_MEMORY_MAP.uart0.base, 0x1000],
  [VIRT_MEMORY_MAP.virtio.base, VIRT_MEMORY_MAP.virtio.size * VIRT_MEMORY_MAP.virtio.count],
];

/** The paravirtual VMM bound to one VM. */
export class ParavirtVmm extends TrapAndEmulateVmm {
  private readonly ram: Uint8Array;
  private readonly view: DataView;
  private readonly ramBase: number;
  private readonly guestBytes: number;
  /** Per guest page: 0, or 1 + the level of the page table it is pinned as (2: a root). */
  readonly pinned: Uint8Array;
  /** Offset of the shared page in guest RAM; -1 until the guest registers one (hybrid mode until then). */
  private shared = -1;
  /** Interrupts held (masked in the real mie) because the virtual flag or mask had them off. */
  private held = 0;
  /** Set by IDLE: the interrupt that ends the wait is delivered whatever the flag says. */
  private idleWake = false;
  /** Page index of the pinned root in use, or -1. */
  private rootPage = -1;
  /** Traps go through the shared page (PV_SET_TRAP with a kernel-mode vector): the two vectors. */
  private frames = false;
  private userVecLo = 0;
  private userVecHi = 0;
  private kernelVecLo = 0;
  private kernelVecHi = 0;
  private trapsDelivered = 0;

  // Accounting.
  private readonly calls = new Float64Array(PV_CALL_NAMES.length);
  private unknownCalls = 0;
  private pvCalls = 0;
  private sbiCalls = 0;
  private readonly rejected = new Float64Array(PV_REJECT_REASONS.length);
  private readonly batchSizes = new Float64Array(BATCH_BUCKETS.length);
  private batches = 0;
  private ptesApplied = 0;
  private ptesValidated = 0;
  private tablesPinned = 0;
  private tablesReleased = 0;
  private irqHeld = 0;
  private heldAtEntry = 0;
  private irqDelivered = 0;
  private flushes = 0;
  private prefills = 0;
  /** Privileged instructions emulated (any mode of operation). */
  private trapped = 0;
  /** Of those, with the shared page registered: trap entry/return CSRs and sret (ABI 1.0 leaves them native). */
  private trapFrame = 0;
  /** Of those, with the shared page registered: the rest, by CSR number, then sret, wfi, sfence.vma, other. */
  private readonly unexpected = new Float64Array(4099);
  private unexpectedTotal = 0;

  constructor(core: VmCore) {
    super(core, { shadow: "write-protect" });
    this.ram = core.hart.ram;
    this.view = new DataView(this.ram.buffer, this.ram.byteOffset, this.ram.byteLength);
    this.ramBase = core.hart.ramBase;
    this.guestBytes = core.config.memory;
    this.pinned = new Uint8Array(this.guestBytes >>> 12);
  }

  /**
   * The guest-visible hart for snapshots. A guest in hybrid mode (it never
   * registered a shared page or pinned a table: Debian's kernel, the native
   * build) is a trap-and-emulate guest and snapshots as one. Once it uses the
   * paravirtual interface, its pinned tables, shared page and trap vectors
   * are VMM state that has no place in the guest-visible hart, and snapshots
   * do not carry strategy state: refused rather than restored wrong.
   */
  override guestState(cpu: GuestCpuState): void {
    if (this.shared >= 0 || this.rootPage >= 0 || this.pinned.some((p) => p !== 0)) {
      throw new SnapshotError(
        "SNAPSHOT_UNSUPPORTED",
        "this guest uses the paravirtual interface (pinned page tables, the shared page): its VMM state is not part of a snapshot, so it cannot be snapshotted or migrated; a guest in hybrid mode can",
      );
    }
    super.guestState(cpu);
  }

  // ---------------------------------------------------------------------------
  // Exits.

  override handleExit(e: HartExit): boolean {
    if (this.shared >= 0 && this.vMode === PRV_S) this.pull();
    let ok: boolean;
    if (e.reason === ExitReason.INTERRUPT) {
      ok = this.shared >= 0 ? this.interrupt(e) : super.handleExit(e);
    } else {
      this.idleWake = false;
      if (e.reason === ExitReason.TRAP && e.cause === Cause.ECALL_U && this.vMode === PRV_S) {
        if (this.x[2 * 17]! >>> 0 === PV_EID && this.x[2 * 17 + 1] === 0) ok = this.hypercall();
        else {
          this.sbiCalls++;
          ok = super.handleExit(e);
        }
      } else if (e.reason === ExitReason.TRAP && e.cause === Cause.STORE_PAGE_FAULT && this.pinnedStore(e)) {
        ok = true;
      } else ok = super.handleExit(e);
    }
    if (this.shared >= 0) this.push();
    return ok;
  }

  /** The guest's flag and mask from the shared page into the virtual CPU (virtual S-mode only). */
  private pull(): void {
    const s = this.shared;
    const flag = this.view.getUint32(s + PvShared.IRQ_ENABLED, true);
    this.vStatus = (this.vStatus & ~SIE) | (flag !== 0 ? SIE : 0);
    this.vSie = this.view.getUint32(s + PvShared.IRQ_MASK, true) & S_INTERRUPTS;
  }

  /**
   * The virtual flag back into the shared page, and the real interrupt
   * enables. Interrupts pending now that the flag or mask keep out (one just
   * delivered is still asserted: delivery turned the flag off) are held at
   * once, rather than exiting again as soon as the guest resumes.
   */
  private push(): void {
    if (this.vMode === PRV_S) {
      const on = (this.vStatus & SIE) !== 0;
      const flag = on ? 1 : 0;
      if (this.view.getUint32(this.shared + PvShared.IRQ_ENABLED, true) !== flag) {
        this.view.setUint32(this.shared + PvShared.IRQ_ENABLED, flag, true);
        this.hart.ramChanged(this.ramBase + this.shared, 4);
      }
      const blocked = on ? S_INTERRUPTS & ~this.vSie : S_INTERRUPTS;
      const hold = this.hart.mip() & blocked & ~this.held;
      if (hold !== 0 && !this.idleWake) {
        this.heldAtEntry++;
        this.held |= hold;
        this.setPending(this.pending() | hold);
      }
    }
    this.updateInterrupts();
  }

  /** An interrupt exit with the shared page in use: deliver it, or hold it while the guest has it off. */
  private interrupt(e: HartExit): boolean {
    const bit = 1 << (e.cause & 31);
    if (this.vMode === PRV_S && ((this.vSie & bit) === 0 || (!this.idleWake && (this.vStatus & SIE) === 0))) {
      this.held |= bit;
      this.setPending(this.pending() | bit);
      this.irqHeld++;
      const ev = this.core.events;
      this.core.countExit("interrupt-held");
      ev.vmExit++;
      ev.vmEntry++;
      return true;
    }
    this.idleWake = false;
    this.setPending(this.pending() & ~bit);
    this.irqDelivered++;
    return super.handleExit(e);
  }

  private pending(): number {
    return this.view.getUint32(this.shared + PvShared.IRQ_PENDING, true);
  }

  private setPending(bits: number): void {
    this.view.setUint32(this.shared + PvShared.IRQ_PENDING, bits >>> 0, true);
    this.hart.ramChanged(this.ramBase + this.shared + PvShared.IRQ_PENDING, 4);
  }

  /** The real mie: in virtual S with the shared page, every supervisor interrupt not held (the flag is read at the exit). */
  protected override updateInterrupts(): void {
    if (this.shared < 0) {
      super.updateInterrupts();
      return;
    }
    const mie = this.vMode === PRV_U ? this.vSie : S_INTERRUPTS & ~this.held;
    const c = this.hart.csr;
    if (c[CsrSlot.MIE] !== mie) {
      c[CsrSlot.MIE] = mie;
      this.hart.interruptsChanged();
    }
  }

  protected override modeChanged(): void {
    super.modeChanged();
    if (this.vMode === PRV_U) this.held = 0; // user mode takes what the mask enables
  }

  /** A guest store (page fault exit) to a pinned page-table page: refused, as a store page fault. */
  private pinnedStore(e: HartExit): boolean {
    if (this.shadow.translate(e.tvalLo, e.tvalHi, Access.STORE) !== Walk.RAM) return false;
    const off = this.shadow.gpa - this.ramBase;
    if (off < 0 || off >= this.guestBytes || this.pinned[off >>> 12] === 0) return false;
    this.rejected[R_PT_STORE]!++;
    return this.reflect(Cause.STORE_PAGE_FAULT, e.tvalLo, e.tvalHi);
  }

  protected override emulatePrivileged(insn: number): boolean {
    if (!super.emulatePrivileged(insn)) return false;
    this.trapped++;
    if (this.shared < 0) return true;
    const funct3 = (insn >>> 12) & 7;
    if (funct3 !== 0) {
      const csr = insn >>> 20;
      if (TRAP_FRAME_CSRS.has(csr)) this.trapFrame++;
      else this.flagUnexpected(csr);
    } else if (insn === INSN_SRET) this.trapFrame++;
    else if (insn === INSN_WFI) this.flagUnexpected(U_WFI);
    else if (insn >>> 25 === 0x09) this.flagUnexpected(U_SFENCE);
    else this.flagUnexpected(U_OTHER);
    return true;
  }

  private flagUnexpected(slot: number): void {
    this.unexpected[slot]!++;
    this.unexpectedTotal++;
  }

  // ---------------------------------------------------------------------------
  // Hypercalls.

  /** Argument register a<i> as an unsigned number (exact below 2^53). */
  private arg(i: number): number {
    return (this.x[2 * (10 + i) + 1]! >>> 0) * TWO32 + (this.x[2 * (10 + i)]! >>> 0);
  }

  private hypercall(): boolean {
    const ev = this.core.events;
    this.core.countExit("hypercall");
    ev.vmExit++;
    ev.vmEntry++;
    ev.hypercall++;
    const fid = this.x[2 * 16]! >>> 0;
    if (fid < PV_CALL_NAMES.length) this.calls[fid]!++;
    else this.unknownCalls++;
    this.pvCalls++;
    // A trap return writes no result registers and does not resume after the ecall.
    if (fid === PvCall.TRAP_RETURN && this.frames) {
      this.trapReturn();
      return true;
    }
    this.rValue = 0;
    const error = this.serve(fid);
    setReg(this.x, 10, error);
    setReg(this.x, 11, this.rValue);
    this.advance(4);
    if (this.shared >= 0) {
      const at = this.shared + PvShared.HYPERCALLS;
      this.view.setUint32(at, this.pvCalls % TWO32, true);
      this.view.setUint32(at + 4, Math.floor(this.pvCalls / TWO32), true);
      this.hart.ramChanged(this.ramBase + at, 8);
    }
    return true;
  }

  /** The value a call returns in a1. */
  private rValue = 0;

  private serve(fid: number): number {
    switch (fid) {
      case PvCall.GET_VERSION:
        this.rValue = PV_ABI_VERSION;
        return 0;
      case PvCall.SET_SHARED:
        return this.setShared(this.arg(0));
      case PvCall.SET_TRAP: {
        const va = this.arg(0);
        const kernel = this.arg(2);
        if (va % 4 !== 0 || kernel % 4 !== 0) return this.reject(R_BAD_ARG, ERR_INVALID_PARAM);
        if (kernel !== 0 && this.shared < 0) return this.reject(R_BAD_ARG, ERR_DENIED); // frames need the page
        this.vcsr[VCPU.STVEC] = this.x[20]!;
        this.vcsr[VCPU.STVEC + 1] = this.x[21]!;
        this.vScounteren = this.x[22]! & 7; // CY, TM, IR for guest user mode
        this.frames = kernel !== 0;
        this.userVecLo = this.x[20]!;
        this.userVecHi = this.x[21]!;
        this.kernelVecLo = this.x[24]!;
        this.kernelVecHi = this.x[25]!;
        this.applyMode();
        return 0;
      }
      case PvCall.SET_ROOT:
        return this.setRoot(this.arg(0));
      case PvCall.MMU_UPDATE:
        return this.mmuUpdate(this.arg(0), this.arg(1), this.arg(2), this.x[26]!, this.x[27]!);
      case PvCall.TLB_FLUSH:
        return this.flush(this.arg(0), this.x[22]!, this.x[23]!);
      case PvCall.TABLE_RELEASE:
        return this.release(this.arg(0));
      case PvCall.IRQ_CHECK:
        this.held = 0;
        return 0;
      case PvCall.IRQ_CLEAR: {
        const bits = this.arg(0);
        if (bits !== PvIrq.SOFT) return ERR_INVALID_PARAM;
        if (readCsr(this.hart, CSR.sip)) writeCsr(this.hart, CSR.sip, this.hart.csrLo & ~bits, 0);
        this.held &= ~bits;
        if (this.shared >= 0) this.setPending(this.pending() & ~bits);
        return 0;
      }
      case PvCall.SET_TIMER: {
        writeCsr(this.hart, CSR.stimecmp, this.x[20]!, this.x[21]!);
        this.held &= ~PvIrq.TIMER;
        if (this.shared >= 0) this.setPending(this.pending() & ~PvIrq.TIMER);
        return 0;
      }
      case PvCall.CONSOLE_WRITE: {
        const pa = this.arg(0);
        const n = this.arg(1);
        const off = n <= PV_CONSOLE_MAX ? this.ramOff(pa, n) : -1;
        if (off < 0)
          return this.reject(n > PV_CONSOLE_MAX ? R_BAD_ARG : this.where(pa, n), ERR_INVALID_ADDRESS);
        this.core.consoleWrite(this.ram.subarray(off, off + n));
        this.rValue = n;
        return 0;
      }
      case PvCall.IDLE:
        this.held = 0;
        if ((this.hart.mip() & this.vSie) === 0) this.core.waitForInterrupt(this.vSie);
        this.idleWake = true;
        return 0;
      case PvCall.YIELD:
        return 0; // one vCPU, one VM: nobody to run instead
      case PvCall.SHUTDOWN:
        this.core.systemReset("shutdown", this.arg(0) === 0 ? 0 : 1);
        return 0;
      case PvCall.BLK_NOTIFY:
        return this.notify(this.arg(0), this.arg(1));
      default:
        return ERR_NOT_SUPPORTED;
    }
  }

  /**
   * A trap into the guest kernel: as trap-and-emulate delivers it (the
   * virtual CSRs), and with trap frames, also into the shared page, to the
   * vector for the mode it came from, with the user's sp switched.
   */
  protected override deliver(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number): void {
    const fromUser = this.vMode === PRV_U;
    super.deliver(cause, interrupt, tvalLo, tvalHi);
    if (!this.frames) return;
    this.trapsDelivered++;
    const v = this.view;
    const s = this.shared;
    const x = this.x;
    v.setInt32(s + PvShared.TRAP_CAUSE, cause, true);
    v.setInt32(s + PvShared.TRAP_CAUSE + 4, interrupt ? 0x80000000 | 0 : 0, true);
    v.setInt32(s + PvShared.TRAP_EPC, this.vcsr[VCPU.SEPC]!, true);
    v.setInt32(s + PvShared.TRAP_EPC + 4, this.vcsr[VCPU.SEPC + 1]!, true);
    v.setInt32(s + PvShared.TRAP_TVAL, tvalLo, true);
    v.setInt32(s + PvShared.TRAP_TVAL + 4, tvalHi, true);
    v.setInt32(
      s + PvShared.TRAP_STATUS,
      (this.vStatus & VSTATUS_BITS) | (this.hart.csr[CsrSlot.MSTATUS]! & MSTATUS.FS),
      true,
    );
    v.setInt32(s + PvShared.TRAP_STATUS + 4, 0, true);
    if (fromUser) {
      v.setInt32(s + PvShared.USER_SP, x[4]!, true);
      v.setInt32(s + PvShared.USER_SP + 4, x[5]!, true);
      x[4] = v.getInt32(s + PvShared.KERNEL_SP, true);
      x[5] = v.getInt32(s + PvShared.KERNEL_SP + 4, true);
      this.hart.pcLo = this.userVecLo;
      this.hart.pcHi = this.userVecHi;
    } else {
      this.hart.pcLo = this.kernelVecLo;
      this.hart.pcHi = this.kernelVecHi;
    }
    this.hart.ramChanged(this.ramBase + s + PvShared.TRAP_CAUSE, PvShared.RET_A6 - PvShared.TRAP_CAUSE);
  }

  /** TRAP_RETURN: sstatus from the shared page (as a csrw), then sret to its epc; a6 and a7 from the page. */
  private trapReturn(): void {
    const v = this.view;
    const s = this.shared;
    this.writeVirtual(CSR.sstatus, v.getInt32(s + PvShared.TRAP_STATUS, true), 0);
    const st = this.vStatus;
    const spp = (st >>> 8) & 1;
    this.vStatus = (st & ~(SIE | MSTATUS.SPP)) | ((st & MSTATUS.SPIE) >>> 4) | MSTATUS.SPIE;
    const x = this.x;
    x[32] = v.getInt32(s + PvShared.RET_A6, true);
    x[33] = v.getInt32(s + PvShared.RET_A6 + 4, true);
    x[34] = v.getInt32(s + PvShared.RET_A7, true);
    x[35] = v.getInt32(s + PvShared.RET_A7 + 4, true);
    const lo = v.getInt32(s + PvShared.TRAP_EPC, true) & ~1;
    const hi = v.getInt32(s + PvShared.TRAP_EPC + 4, true);
    this.vcsr[VCPU.SEPC] = lo;
    this.vcsr[VCPU.SEPC + 1] = hi;
    this.hart.pcLo = lo;
    this.hart.pcHi = hi;
    this.setMode(spp === 1 ? PRV_S : PRV_U);
  }

  private reject(reason: number, error: number): number {
    this.rejected[reason]!++;
    return error;
  }

  /** Offset of [pa, pa+len) in guest RAM, or -1 when it is not all guest RAM. */
  private ramOff(pa: number, len: number): number {
    const off = pa - this.ramBase;
    return off >= 0 && len >= 0 && off + len <= this.guestBytes ? off : -1;
  }

  /** Why [pa, pa+len) (not all guest RAM) was refused: it reaches the VMM's own memory, or anything else. */
  private where(pa: number, len = 1): number {
    const vmm = this.ramBase + this.guestBytes;
    return pa < vmm + this.core.privateRam.length && pa + len > vmm ? R_VMM : R_FOREIGN;
  }

  /** Whether [pa, pa+len) lies inside one device window of this VM. */
  private isDevice(pa: number, len: number): boolean {
    for (const [base, size] of DEVICE_WINDOWS) if (pa >= base && pa + len <= base + size) return true;
    return false;
  }

  private setShared(pa: number): number {
    const off = pa % 4096 === 0 ? this.ramOff(pa, 4096) : -1;
    if (off < 0) return this.reject(pa % 4096 !== 0 ? R_BAD_ARG : this.where(pa), ERR_INVALID_ADDRESS);
    if (this.pinned[off >>> 12] !== 0) return this.reject(R_BAD_ARG, ERR_DENIED);
    this.shared = off;
    const v = this.view;
    v.setUint32(off + PvShared.IRQ_ENABLED, (this.vStatus & SIE) !== 0 ? 1 : 0, true);
    v.setUint32(off + PvShared.IRQ_MASK, this.vSie, true);
    v.setUint32(off + PvShared.IRQ_PENDING, 0, true);
    this.hart.ramChanged(pa, 16);
    return 0;
  }

  private setRoot(pa: number): number {
    const off = pa % 4096 === 0 ? this.ramOff(pa, 4096) : -1;
    if (off < 0) return this.reject(pa % 4096 !== 0 ? R_BAD_ARG : this.where(pa), ERR_INVALID_ADDRESS);
    const page = off >>> 12;
    const r = this.pin(page, 2);
    if (r !== 0) return r;
    this.rootPage = page;
    // Sv39 (mode 8 in satp[63:60]) and the root's PPN; RAM is below 4 GiB, so the PPN fits the low word.
    const lo = pa / 4096;
    const hi = 0x80000000 | 0;
    this.vcsr[VCPU.SATP] = lo;
    this.vcsr[VCPU.SATP + 1] = hi;
    this.shadow.setSatp(lo, hi);
    this.chargeSync();
    return 0;
  }

  /**
   * Pin page `page` as a page table at `level` after validating every
   * entry (which pins the tables it links, recursively: at most three
   * levels); it becomes read-only to the guest. 0, or an SBI error.
   */
  private pin(page: number, level: number): number {
    const cur = this.pinned[page]!;
    if (cur === level + 1) return 0;
    if (cur !== 0) return this.reject(R_LEVEL, ERR_DENIED);
    if (page === this.shared >>> 12 && this.shared >= 0) return this.reject(R_BAD_ARG, ERR_DENIED);
    this.pinned[page] = level + 1; // first: a table that links itself meets its own pin
    const v = this.view;
    const base = page * 4096;
    for (let i = 0; i < 512; i++) {
      const r = this.checkEntry(v.getInt32(base + 8 * i, true), v.getInt32(base + 8 * i + 4, true), level);
      if (r !== 0) {
        this.pinned[page] = 0;
        return r;
      }
    }
    this.shadow.protectPage(this.ramBase + base);
    this.tablesPinned++;
    return 0;
  }

  /** Validate a PTE (lo, hi) for a table at `level`: 0, or an SBI error (counted). */
  private checkEntry(lo: number, hi: number, level: number): number {
    if ((lo & PTE_V) === 0) return 0; // invalid entries are never walked
    if ((hi & 0xffc00000) !== 0) return this.reject(R_MALFORMED, ERR_INVALID_PARAM); // N, PBMT, reserved
    const rwx = (lo >>> 1) & 7;
    const pa = ((hi & 0x3fffff) * 4194304 + (lo >>> 10)) * 4096;
    if (rwx === 0) {
      // A link to the next level: D, A and U clear (spec 4.4.1), and a table to pin.
      if (level === 0 || (lo & (PTE_D | PTE_A | PTE_U)) !== 0)
        return this.reject(R_MALFORMED, ERR_INVALID_PARAM);
      const off = this.ramOff(pa, 4096);
      if (off < 0) return this.reject(this.where(pa, 4096), ERR_INVALID_ADDRESS);
      return this.pin(off >>> 12, level - 1);
    }
    if (rwx === 2 || rwx === 6) return this.reject(R_MALFORMED, ERR_INVALID_PARAM); // W without R
    const size = 4096 * 512 ** level;
    if (pa % size !== 0) return this.reject(R_MALFORMED, ERR_INVALID_PARAM); // a misaligned superpage
    const off = this.ramOff(pa, size);
    if (off >= 0) {
      // A page table writable from user mode is never legitimate; the kernel's own writable
      // mappings of its tables are accepted and held read-only (protectPage).
      if (level === 0 && (lo & (PTE_W | PTE_U)) === (PTE_W | PTE_U) && this.pinned[off >>> 12] !== 0)
        return this.reject(R_PT_WRITABLE, ERR_DENIED);
      return 0;
    }
    if (this.isDevice(pa, size)) return 0;
    return this.reject(this.where(pa, size), ERR_INVALID_ADDRESS);
  }

  private mmuUpdate(req: number, count: number, op: number, vaLo: number, vaHi: number): number {
    if (count > PV_MMU_BATCH_MAX) return this.reject(R_BATCH, ERR_INVALID_PARAM);
    if (op > PvFlush.ASID) return this.reject(R_BAD_ARG, ERR_INVALID_PARAM);
    const roff = req % 8 === 0 ? this.ramOff(req, count * PV_MMU_REQUEST_BYTES) : -1;
    if (roff < 0)
      return this.reject(
        req % 8 !== 0 ? R_MALFORMED : this.where(req, count * PV_MMU_REQUEST_BYTES),
        ERR_INVALID_ADDRESS,
      );
    const v = this.view;
    let error = 0;
    let applied = 0;
    for (let i = 0; i < count; i++) {
      const at = roff + i * PV_MMU_REQUEST_BYTES;
      const ptr = v.getUint32(at + 4, true) * TWO32 + v.getUint32(at, true);
      const lo = v.getInt32(at + 8, true);
      const hi = v.getInt32(at + 12, true);
      const poff = ptr % 8 === 0 ? this.ramOff(ptr, 8) : -1;
      if (poff < 0) {
        error = this.reject(ptr % 8 !== 0 ? R_MALFORMED : this.where(ptr), ERR_INVALID_ADDRESS);
        break;
      }
      const level = this.pinned[poff >>> 12]! - 1;
      if (level >= 0) {
        const r = this.checkEntry(lo, hi, level);
        if (r !== 0) {
          error = r;
          break;
        }
        this.ptesValidated++;
      }
      v.setInt32(poff, lo, true);
      v.setInt32(poff + 4, hi, true);
      this.hart.ramChanged(ptr, 8);
      this.shadow.pteWritten(ptr, 8, false);
      applied++;
    }
    this.chargeSync();
    this.batches++;
    this.ptesApplied += applied;
    let b = 0;
    while (count > BATCH_BUCKETS[b]!) b++;
    this.batchSizes[b]!++;
    this.rValue = applied;
    if (error !== 0) return error;
    return op === PvFlush.NONE ? 0 : this.flush(op, vaLo, vaHi);
  }

  private flush(op: number, vaLo: number, vaHi: number): number {
    if (op > PvFlush.ASID) return this.reject(R_BAD_ARG, ERR_INVALID_PARAM);
    if (op === PvFlush.NONE) return 0;
    this.flushes++;
    // Write-protect shadows are never stale (every update synced as it happened); the
    // shadow drops what a fence would drop under its policy, as for sfence.vma.
    this.shadow.sfence(op !== PvFlush.PAGE, vaLo, vaHi);
    // A flush of one page follows an update of its mapping (Xen's update_va_mapping): the
    // VMM installs the new translation now rather than take the fault on the next access.
    if (op === PvFlush.PAGE) this.prefill(vaLo, vaHi);
    this.chargeSync();
    return 0;
  }

  /**
   * Install the translation of (lo, hi) in the shadow now: in the current
   * view, or, for a page the kernel cannot reach there (a user page), in
   * the user view its process will touch it through.
   */
  private prefill(lo: number, hi: number): void {
    const shadow = this.shadow;
    const r = shadow.fill(lo, hi, Access.LOAD);
    if (r === Walk.RAM) {
      this.prefills++;
      return;
    }
    if (r !== Walk.GUEST_FAULT || this.vMode !== PRV_S) return;
    shadow.setPrivilege(PRV_U, false);
    if (shadow.fill(lo, hi, Access.LOAD) === Walk.RAM) this.prefills++;
    shadow.setPrivilege(PRV_S, (this.vStatus & MSTATUS.SUM) !== 0);
  }

  private release(pa: number): number {
    const off = pa % 4096 === 0 ? this.ramOff(pa, 4096) : -1;
    if (off < 0 || this.pinned[off >>> 12] === 0) return this.reject(R_BAD_RELEASE, ERR_INVALID_PARAM);
    const page = off >>> 12;
    if (page === this.rootPage) return this.reject(R_BAD_RELEASE, ERR_DENIED);
    this.pinned[page] = 0;
    this.shadow.unprotectPage(pa);
    this.tablesReleased++;
    return 0;
  }

  /** BLK_NOTIFY: a QueueNotify store on the guest's behalf to a virtio-mmio slot of this VM. */
  private notify(base: number, queue: number): number {
    const m = VIRT_MEMORY_MAP.virtio;
    const slot = (base - m.base) / m.size;
    if (!Number.isInteger(slot) || slot < 0 || slot >= m.count || queue > 0xffff)
      return this.reject(R_BAD_ARG, ERR_INVALID_PARAM);
    return this.hart.bus.store(base + 0x50, 4, queue, 0) ? 0 : ERR_FAILED;
  }

  // ---------------------------------------------------------------------------
  // Counters.

  hypercalls(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < PV_CALL_NAMES.length; i++)
      if (this.calls[i]) out[`pv.${PV_CALL_NAMES[i]}`] = this.calls[i]!;
    if (this.unknownCalls) out["pv.unknown"] = this.unknownCalls;
    return out;
  }

  override counters(): Record<string, number> {
    const out = super.counters();
    out["pv.active"] = this.shared >= 0 ? 1 : 0;
    out["pv.mmu.batches"] = this.batches;
    out["pv.mmu.ptesApplied"] = this.ptesApplied;
    out["pv.mmu.ptesValidated"] = this.ptesValidated;
    out["pv.mmu.ptesPerBatch"] = this.batches ? this.ptesApplied / this.batches : 0;
    let lo = 1;
    for (let b = 0; b < BATCH_BUCKETS.length; b++) {
      const hi = BATCH_BUCKETS[b]!;
      if (this.batchSizes[b]) out[`pv.mmu.batch.${lo === hi ? lo : `${lo}-${hi}`}`] = this.batchSizes[b]!;
      lo = hi + 1;
    }
    out["pv.mmu.flushes"] = this.flushes;
    out["pv.mmu.prefills"] = this.prefills;
    out["pv.tables.pinned"] = this.tablesPinned;
    out["pv.tables.released"] = this.tablesReleased;
    let rejected = 0;
    for (let i = 0; i < PV_REJECT_REASONS.length; i++) {
      rejected += this.rejected[i]!;
      if (this.rejected[i]) out[`pv.rejected.${PV_REJECT_REASONS[i]}`] = this.rejected[i]!;
    }
    out["pv.rejected"] = rejected;
    out["pv.traps.delivered"] = this.trapsDelivered;
    out["pv.irq.held"] = this.irqHeld;
    out["pv.irq.heldAtEntry"] = this.heldAtEntry;
    out["pv.irq.delivered"] = this.irqDelivered;
    // Flag and mask changes the guest made in the shared page without trapping (it counts them there).
    out["pv.irq.toggles"] =
      this.shared >= 0 ? this.view.getUint32(this.shared + PvShared.IRQ_TOGGLES, true) : 0;
    out["pv.privileged.trapFrame"] = this.trapFrame;
    out["pv.privileged.unexpected"] = this.unexpectedTotal;
    for (let i = 0; i < this.unexpected.length; i++) {
      const n = this.unexpected[i]!;
      if (!n) continue;
      const name =
        i === U_WFI
          ? "wfi"
          : i === U_SFENCE
            ? "sfence.vma"
            : i === U_OTHER
              ? "other"
              : (csrName(i) ?? `0x${i.toString(16)}`);
      out[`pv.privileged.unexpected.${name}`] = n;
    }
    // Hybrid accounting: sensitive operations by hypercall (SBI and paravirtual) and by trap.
    out["hybrid.viaHypercall"] = this.sbiCalls + this.pvCalls;
    out["hybrid.viaTrap"] = this.trapped + this.shadow.stats.pteWrites;
    return out;
  }
}

function setReg(x: Int32Array, r: number, v: number): void {
  x[2 * r] = v | 0;
  x[2 * r + 1] = v < 0 ? -1 : Math.floor(v / TWO32) | 0;
}
