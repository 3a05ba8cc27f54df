/**
 * Decoding the few instruction shapes the VMM emulates: the privileged
 * SYSTEM instructions (CSR accesses, sret, wfi, sfence.vma) a deprivileged
 * guest kernel traps on, and the loads/stores/AMOs that fault on MMIO or on
 * a write-protected page table. The hart hands over the trapping
 * instruction in `exit.insn`, already expanded when it was compressed.
 */

/** sret (privileged spec 3.3.2). */
export const INSN_SRET = 0x10200073;
/** wfi (privileged spec 3.3.3). */
export const INSN_WFI = 0x10500073;

/** Memory instruction kinds. */
export const Mem = {
  NONE: 0,
  LOAD: 1,
  STORE: 2,
  FP_LOAD: 3,
  FP_STORE: 4,
  /** LR, SC and AMOs. */
  ATOMIC: 5,
} as const;

/**
 * A decoded load/store, written into one reused object (no allocation per
 * exit).
 */
export class MemInsn {
  /** One of {@link Mem}. */
  kind = 0;
  /** Access size in bytes. */
  size = 0;
  /** Zero-extend (lbu, lhu, lwu). */
  unsigned = false;
  /** Destination register (integer, or floating point for FP loads). */
  rd = 0;
  /** Base register. */
  rs1 = 0;
  /** Source register (integer, or floating point for FP stores). */
  rs2 = 0;
  /** Signed 12-bit offset (0 for atomics). */
  imm = 0;
  /** For atomics: funct5 (2 LR, 3 SC, other: AMO). */
  funct5 = 0;

  /** Decode `insn`; false when it is not a load, store or atomic of RV64GC. */
  decode(insn: number): boolean {
    const opcode = insn & 0x7f;
    const funct3 = (insn >>> 12) & 7;
    this.rd = (insn >>> 7) & 31;
    this.rs1 = (insn >>> 15) & 31;
    this.rs2 = (insn >>> 20) & 31;
    this.unsigned = false;
    this.funct5 = 0;
    switch (opcode) {
      case 0x03: // LB LH LW LD LBU LHU LWU
        if (funct3 === 7) return this.none();
        this.kind = Mem.LOAD;
        this.size = 1 << (funct3 & 3);
        this.unsigned = funct3 >= 4;
        this.imm = insn >> 20;
        return true;
      case 0x23: // SB SH SW SD
        if (funct3 > 3) return this.none();
        this.kind = Mem.STORE;
        this.size = 1 << funct3;
        this.imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
        return true;
      case 0x07: // FLW FLD
        if (funct3 !== 2 && funct3 !== 3) return this.none();
        this.kind = Mem.FP_LOAD;
        this.size = funct3 === 2 ? 4 : 8;
        this.imm = insn >> 20;
        return true;
      case 0x27: // FSW FSD
        if (funct3 !== 2 && funct3 !== 3) return this.none();
        this.kind = Mem.FP_STORE;
        this.size = funct3 === 2 ? 4 : 8;
        this.imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
        return true;
      case 0x2f: // LR SC AMO*
        if (funct3 !== 2 && funct3 !== 3) return this.none();
        this.kind = Mem.ATOMIC;
        this.size = funct3 === 2 ? 4 : 8;
        this.imm = 0;
        this.funct5 = insn >>> 27;
        return true;
    }
    return this.none();
  }

  private none(): false {
    this.kind = Mem.NONE;
    return false;
  }
}
