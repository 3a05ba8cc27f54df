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
  /** Guest physical address for guest-page faults (htval << 2 semantics), low word. */
  gpaLo = 0;
  /** High word of the guest physical address. */
  gpaHi = 0;

  /** The trap value as a bigint (for tools, not hot paths). */
  get tval(): bigint {
    return (BigInt(this.tvalHi >>> 0) << 32n) | BigInt(this.tvalLo >>> 0);
  }

  /** The exit pc as a bigint. */
  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }
}
