/**
 * @hvkit/cpu — a RISC-V RV64GC hart: M/S/U modes, Sv39/Sv48 with hardware
 * A/D updates, PMP, IEEE 754 floating point, LR/SC and AMOs, Sstc, the
 * opt-in H extension (VS/VU modes, two-stage translation, guest-mode exit
 * controls), driven by `run(budget) -> exit` with configurable exit controls.
 */
export { BARE_RAM_BASE, BareMachine, type BareMachineOptions, type BareResult } from "./bare.js";
export {
  CAUSE_NAMES,
  Cause,
  EXIT_REASON_NAMES,
  ExitReason,
  HSTATUS,
  Irq,
  MSTATUS,
  MSTATUS_HI,
  PRV_M,
  PRV_S,
  PRV_U,
} from "./constants.js";
export { readCsr, writeCsr } from "./csr.js";
export { CpuError, type CpuErrorCode } from "./errors.js";
export { HartExit } from "./exit.js";
export { Fpu } from "./fpu.js";
export {
  GUEST_INSTRUCTION_NAMES,
  GuestExitControls,
  GuestInstruction,
  GuestStat,
  MAX_MMIO_RANGES,
} from "./guest.js";
export {
  Hart,
  type HartEngine,
  type HartOptions,
  TRAP_STATS_INTERRUPT,
  TRAP_STATS_MRET,
  TRAP_STATS_SRET,
} from "./hart.js";
export {
  BlockTranslator,
  DEFAULT_HOT_THRESHOLD,
  type Rewrite,
  type SensitiveRewriter,
  type TranslationOptions,
  type TranslationStats,
} from "./jit/translator.js";
export {
  allocateGuestMemory,
  type DeviceBus,
  EmptyBus,
  HART_STATE_BYTES,
  type HartMemory,
  type WasmArena,
} from "./memory.js";
export { K as CounterSlot, S as CsrSlot } from "./state.js";
