import { ExitReason } from "./constants.js";

/**
 * Why and where `hart.run()` stopped. One object per hart, rewritten on
 * every exit (no allocation per exit), like the kvm_run structure.
 */
export class HartExit {
  /** One of {@link ExitReason}. */
  reason: number = ExitReason.BUDGET;
  /** Exception cause (TRAP) or interrupt number (INTERRUPT). */
  cause = 0;
  /** Trap value (faulting address or instruction bits), low word. */
  tvalLo = 0;
  /** Trap value, high word. */
  tvalHi = 0;
  /** Address of the instruction the exit refers to (the faulting one for TRAP), low word. */
  pcLo = 0;
  /** Same, high word. */
  pcHi = 0;
  /** The trapping instruction, expanded to 32 bits when it was compressed (0 when not an instruction trap). */
  insn = 0;
  /** Length in bytes of the trapping instruction (2 or 4; 0 when unknown). */
  insnLength = 0;
  /** Privilege mode the hart was in when it exited. */
  mode = 0;
  /** Whether the hart was in a virtualized mode (V=1) when it exited. */
  virt = 0;
  /** Guest physical address of a guest-page fault (TRAP) or MMIO access (MMIO): htval << 2, unshifted; low word. */
  gpaLo = 0;
  /** High word of the guest physical address. */
  gpaHi = 0;
  /** CSR number of a CSR exit (and 0x180, satp, for a satp-write INSTRUCTION exit). */
  csr = 0;
  /** 1 when the exiting CSR instruction reads its CSR (its rd is not x0, or it is csrrs/csrrc). */
  read = 0;
  /** 1 when the exiting CSR instruction writes its CSR, or the MMIO access is a store. */
  write = 0;
  /** Size in bytes of an MMIO access (1, 2, 4 or 8). */
  size = 0;
  /** MMIO store: the value stored; CSR and satp-write exits: the source operand (x[rs1] or the 5-bit immediate). Low word. */
  dataLo = 0;
  /** High word of `dataLo`'s value. */
  dataHi = 0;
  /** Destination register of an MMIO load or a reading CSR instruction (0 when none): `hart.completeExit` writes it. */
  rd = 0;

  /** The trap value as a bigint (for tools, not hot paths). */
  get tval(): bigint {
    return (BigInt(this.tvalHi >>> 0) << 32n) | BigInt(this.tvalLo >>> 0);
  }

  /** The guest physical address as a bigint. */
  get gpa(): bigint {
    return (BigInt(this.gpaHi >>> 0) << 32n) | BigInt(this.gpaLo >>> 0);
  }

  /** The data value as a bigint. */
  get data(): bigint {
    return (BigInt(this.dataHi >>> 0) << 32n) | BigInt(this.dataLo >>> 0);
  }

  /** The exit pc as a bigint. */
  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }
}
