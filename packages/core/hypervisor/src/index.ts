/**
 * @hvkit/hypervisor — the common hypervisor interface: `VmConfig`, the
 * strategy contract and registry, the VMM core (`Vm`: boot, run loop over
 * hart exits, built-in SBI, idle skipping, console, accounting), the stats
 * schema and the cost-model profiles. The contract test suite is at
 * `@hvkit/hypervisor/testing`.
 */
export { DEFAULT_MEMORY, type ResolvedVmConfig, resolveConfig, type VmConfig } from "./config.js";
export {
  COST_PROFILES,
  type CostEvents,
  type CostProfile,
  type CostTable,
  DEFAULT_COST_PROFILE,
  emptyCostEvents,
  MODERN,
  modeledCycles,
  PENTIUM4_2006,
} from "./cost.js";
export { HypervisorError, type HypervisorErrorCode } from "./errors.js";
export {
  asksForExits,
  EXIT_ON_EXCEPTIONS,
  EXIT_ON_INTERRUPTS,
  type ExitOnConfig,
  NO_EXTRA_EXITS,
  parseExitOn,
  type ResolvedExitOn,
  resolveExitOn,
} from "./exit-on.js";
export {
  SBI_IMPL_ID,
  SBI_SPEC_VERSION,
  SbiError,
  SbiExtension,
  type SbiHost,
  SbiOutcome,
  SbiService,
} from "./sbi.js";
export { applyHart, captureHart, type GuestCpuState } from "./snapshot/cpu.js";
export {
  crc32,
  decodeContainer,
  encodeContainer,
  type Section,
  SNAPSHOT_VERSION_MAJOR,
  SNAPSHOT_VERSION_MINOR,
  SnapshotError,
  type SnapshotErrorCode,
} from "./snapshot/format.js";
export { type DecodedPages, decodePages, encodePages, PAGE_SIZE } from "./snapshot/pages.js";
export type { GuestMode, VmStats } from "./stats.js";
export {
  type CpuTechnique,
  getStrategy,
  listStrategies,
  type MemoryTechnique,
  registerStrategy,
  type StrategyDefinition,
  type StrategyInstance,
  type Techniques,
} from "./strategy.js";
export {
  type DiskReference,
  inspectSnapshot,
  type RestoreOptions,
  type RunLimit,
  type RunResult,
  type SnapshotMeta,
  type SnapshotOptions,
  type StopReason,
  Vm,
  type VmCore,
} from "./vm.js";
