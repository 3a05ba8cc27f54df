/**
 * Exit controls for guest mode (V=1): a VT-style control structure the host
 * VMM programs, like a VMCS, separate from the V=0 exit controls
 * (`hart.exitOnException`, `hart.exitOnInterrupt`).
 *
 * While V=1, an event whose control is clear is handled by the hardware
 * inside `hart.run()` (delivered to vstvec, or to HS-mode or M-mode per
 * medeleg/hedeleg and mideleg/hideleg); an event whose control is set makes
 * `run()` return with what a VMM needs in `hart.exit` (cause, guest physical
 * address, trap value, instruction bits and length, V). The instruction
 * behind a CSR, MMIO or instruction exit has not executed: the VMM emulates
 * it and calls `hart.completeExit(value)`, or resumes it unchanged.
 *
 * Priority: exceptions that the privilege rules raise (illegal instruction;
 * virtual instruction for VU-mode, or for hypervisor CSRs and instructions)
 * come first; an exit control comes next and replaces the checks the
 * hypervisor itself controls (hstatus VTSR/VTW/VTVM, hcounteren, henvcfg).
 */
import { CpuError } from "./errors.js";

/** Per-instruction exit controls: bit positions in {@link GuestExitControls.instructions}, and `exit.cause` of an INSTRUCTION exit. */
export const GuestInstruction = {
  /** wfi in VS-mode. */
  WFI: 0,
  /** sfence.vma in VS-mode, and hfence.vvma/hfence.gvma in VS-mode (which would raise virtual-instruction). */
  SFENCE: 1,
  /** A CSR instruction in VS-mode that writes satp (vsatp); `exit.dataLo/Hi` is its source operand. */
  SATP_WRITE: 2,
  /** sret in VS-mode. */
  SRET: 3,
  /** ecall in VS-mode or VU-mode. */
  ECALL: 4,
} as const;

/** Names of the per-instruction exit controls, indexed by {@link GuestInstruction} value. */
export const GUEST_INSTRUCTION_NAMES: readonly string[] = ["wfi", "sfence", "satp-write", "sret", "ecall"];

/** Slots of `hart.guestStats` (a Float64Array): guest-mode events counted by the hart. */
export const GuestStat = {
  /** VM entries: `run()` calls that start with V=1, plus sret and mret that set V=1. */
  ENTRIES: 0,
  /** Traps taken architecturally from V=1 into HS-mode or M-mode (world switches done by the hardware). */
  TRAPS_OUT: 1,
  /** Two-stage translations (guest TLB misses and uncached guest accesses, hlv/hsv included). */
  WALKS: 2,
  /** Page-table entries read by two-stage translations: VS-level PTEs plus every G-stage PTE, including the G-stage walks of VS-level tables. */
  WALK_STEPS: 3,
  /** Of WALK_STEPS, the G-stage PTEs: what a two-stage walk reads beyond a native one (0 while hgatp is Bare). */
  GSTAGE_STEPS: 4,
  /** First of the exits from V=1 by reason: `guestStats[EXITS + ExitReason.X]`. */
  EXITS: 8,
  /** Number of slots. */
  SIZE: 16,
} as const;

/** Most guest-physical MMIO ranges the hart checks. */
export const MAX_MMIO_RANGES = 32;

/** The exit controls of guest mode; see the module comment. One per hart: `hart.guestExits`. */
export class GuestExitControls {
  /** Exceptions raised while V=1 that exit (ExitReason.TRAP) instead of being delivered: bit `cause`. */
  exceptions = 0;
  /** Interrupts that exit (ExitReason.INTERRUPT) instead of being taken when they become takeable while V=1: bit `irq`. */
  interrupts = 0;
  /** Instructions that exit (ExitReason.INSTRUCTION) while V=1: bits `1 << GuestInstruction.X`. */
  instructions = 0;
  /** CSR reads that exit (ExitReason.CSR): bit `csr & 31` of word `csr >>> 5`, 4096 bits. */
  readonly csrRead = new Int32Array(128);
  /** CSR writes that exit (ExitReason.CSR), laid out like {@link csrRead}. */
  readonly csrWrite = new Int32Array(128);
  /** Start of each guest-physical MMIO range (bytes). */
  readonly mmioStart = new Float64Array(MAX_MMIO_RANGES);
  /** End (exclusive) of each guest-physical MMIO range. */
  readonly mmioEnd = new Float64Array(MAX_MMIO_RANGES);
  /** Number of MMIO ranges in use. */
  mmioCount = 0;

  /** Select (or deselect) exits on guest reads and writes of CSR `csr`. */
  exitOnCsr(csr: number, read: boolean, write: boolean): void {
    if (!Number.isInteger(csr) || csr < 0 || csr > 0xfff) {
      throw new CpuError("CPU_BAD_OPTION", `CSR number ${csr} is out of range: CSR numbers are 0..0xfff`);
    }
    const w = csr >>> 5;
    const bit = 1 << (csr & 31);
    this.csrRead[w] = read ? this.csrRead[w]! | bit : this.csrRead[w]! & ~bit;
    this.csrWrite[w] = write ? this.csrWrite[w]! | bit : this.csrWrite[w]! & ~bit;
  }

  /**
   * Make guest-physical pages [gpa, gpa + size) MMIO: an aligned guest load
   * or store (LB..LD, SB..SD and their compressed forms) whose G-stage
   * translation faults there exits with ExitReason.MMIO instead of raising a
   * guest-page fault. Other accesses there (instruction fetches, atomics,
   * floating point, misaligned ones, VS-level page-table reads) still raise
   * the guest-page fault. Needs G-stage translation (hgatp not Bare).
   */
  addMmio(gpa: number, size: number): void {
    if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(size) || gpa < 0 || size <= 0) {
      throw new CpuError(
        "CPU_BAD_OPTION",
        `MMIO range 0x${gpa.toString(16)} + ${size}: give a non-negative address and a positive size`,
      );
    }
    if (gpa % 4096 !== 0 || size % 4096 !== 0) {
      throw new CpuError(
        "CPU_BAD_OPTION",
        `MMIO range 0x${gpa.toString(16)} + ${size}: MMIO is selected by whole guest-physical pages; align both to 4 KiB`,
      );
    }
    if (this.mmioCount === MAX_MMIO_RANGES) {
      throw new CpuError("CPU_BAD_OPTION", `at most ${MAX_MMIO_RANGES} MMIO ranges: merge adjacent ranges`);
    }
    this.mmioStart[this.mmioCount] = gpa;
    this.mmioEnd[this.mmioCount] = gpa + size;
    this.mmioCount++;
  }

  /** Remove every MMIO range. */
  clearMmio(): void {
    this.mmioCount = 0;
  }

  /** Whether guest physical address (lo, hi) lies in an MMIO range. */
  isMmio(lo: number, hi: number): boolean {
    const a = (hi >>> 0) * 4294967296 + (lo >>> 0);
    for (let i = 0; i < this.mmioCount; i++) {
      if (a >= this.mmioStart[i]! && a < this.mmioEnd[i]!) return true;
    }
    return false;
  }

  /** Clear every control: nothing exits while V=1. */
  clear(): void {
    this.exceptions = 0;
    this.interrupts = 0;
    this.instructions = 0;
    this.csrRead.fill(0);
    this.csrWrite.fill(0);
    this.mmioCount = 0;
  }
}
