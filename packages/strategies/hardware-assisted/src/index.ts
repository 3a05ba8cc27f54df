/**
 * @hvkit/hardware-assisted — virtualization with hardware help, on the
 * RISC-V H extension: the guest kernel runs in VS-mode and its user programs
 * in VU-mode, where everything they do runs natively or traps inside the
 * guest, except the exits the VMM programs into the hart's VT-style exit
 * controls (SBI calls, device accesses, the PLIC line, and whatever
 * `exitOn` asks for). Guest memory through nested paging (G-stage tables,
 * @hvkit/nested-paging) or through shadow paging with the G-stage off
 * (@hvkit/shadow-paging in guest mode): the setting of first-generation
 * VT-x that Adams and Agesen measured against binary translation (ASPLOS
 * 2006).
 */
import {
  type ExitOnConfig,
  HypervisorError,
  type ResolvedExitOn,
  type ResolvedVmConfig,
  resolveExitOn,
  type StrategyDefinition,
} from "@hvkit/hypervisor";
import { type GStageMode, type GStagePageSize, NestedPageTables } from "@hvkit/nested-paging";
import type { ShadowSyncPolicy } from "@hvkit/shadow-paging";
import { HardwareAssistedVmm, type HardwareMemory } from "./vmm.js";

export { HardwareAssistedVmm, type HardwareMemory, type HardwareVmmOptions } from "./vmm.js";

/** Options of {@link hardwareAssisted}. */
export interface HardwareAssistedOptions {
  /**
   * Guest memory: "nested" (default: G-stage tables map guest RAM, the guest
   * owns vsatp and its page tables, no exit on page faults) or "shadow"
   * (vsatp points at shadow tables and the G-stage is off; satp accesses and
   * guest page faults exit: first-generation VT-x).
   */
  readonly memory?: HardwareMemory;
  /** Shadow sync policy ("shadow" memory only): "sfence" (default; sfence.vma exits too) or "write-protect". */
  readonly shadow?: ShadowSyncPolicy;
  /** VMM-private RAM for shadow tables ("shadow" memory only), a multiple of 4 KiB. Default 32 MiB. */
  readonly shadowMemory?: number;
  /** G-stage mode ("nested" memory only): "sv39x4" (default) or "sv48x4". */
  readonly gstageMode?: GStageMode;
  /** G-stage leaves ("nested" memory only): "4k" (default) or "2m" megapages (fewer walk steps). */
  readonly gstagePageSize?: GStagePageSize;
  /** Exits every VM of this strategy takes, on top of its own and of `VmConfig.exitOn`. */
  readonly exitOn?: ExitOnConfig;
  /** Registry name (default "hardware-assisted", "hardware-assisted+shadow", "hardware-assisted+shadow+wp"). */
  readonly name?: string;
}

/** Default VMM-private RAM for shadow tables: as trap-and-emulate's, enough for Debian's boot without pool resets. */
export const DEFAULT_SHADOW_MEMORY = 32 * 1024 * 1024;

function invalid(message: string): never {
  throw new HypervisorError("HV_INVALID_COMBINATION", `hardwareAssisted: ${message}`);
}

/** Two resolved exit sets together. */
function mergeExits(a: ResolvedExitOn, b: ResolvedExitOn): ResolvedExitOn {
  return {
    allCsrs: a.allCsrs || b.allCsrs,
    csrs: [...new Set([...a.csrs, ...b.csrs])],
    instructions: a.instructions | b.instructions,
    exceptions: a.exceptions | b.exceptions,
    interrupts: a.interrupts | b.interrupts,
  };
}

/** A hardware-assisted strategy definition with the given options; an option that does not fit the memory mode is refused with HV_INVALID_COMBINATION. */
export function hardwareAssisted(options: HardwareAssistedOptions = {}): StrategyDefinition {
  const memory = options.memory ?? "nested";
  if (memory !== "nested" && memory !== "shadow")
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `hardwareAssisted: memory must be "nested" or "shadow" (got ${JSON.stringify(memory)})`,
    );
  if (memory === "nested") {
    if (options.shadow !== undefined || options.shadowMemory !== undefined)
      invalid(
        'shadow and shadowMemory configure shadow paging, and this strategy uses nested paging: drop them, or give memory: "shadow"',
      );
  } else if (options.gstageMode !== undefined || options.gstagePageSize !== undefined) {
    invalid(
      'gstageMode and gstagePageSize configure nested paging, and with memory: "shadow" the G-stage is off: drop them, or use memory: "nested"',
    );
  }
  const shadowPolicy = options.shadow ?? "sfence";
  if (shadowPolicy !== "sfence" && shadowPolicy !== "write-protect")
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `hardwareAssisted: shadow must be "sfence" or "write-protect" (got ${JSON.stringify(shadowPolicy)})`,
    );
  const shadowMemory = options.shadowMemory ?? DEFAULT_SHADOW_MEMORY;
  if (!Number.isInteger(shadowMemory) || shadowMemory % 4096 !== 0 || shadowMemory < 32 * 1024)
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `hardwareAssisted: shadowMemory = ${shadowMemory}; it must be a multiple of 4 KiB, at least 32 KiB`,
    );
  const gstageMode = options.gstageMode ?? "sv39x4";
  const gstagePageSize = options.gstagePageSize ?? "4k";
  if (gstageMode !== "sv39x4" && gstageMode !== "sv48x4")
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `hardwareAssisted: gstageMode must be "sv39x4" or "sv48x4"`,
    );
  if (gstagePageSize !== "4k" && gstagePageSize !== "2m")
    throw new HypervisorError("HV_INVALID_CONFIG", `hardwareAssisted: gstagePageSize must be "4k" or "2m"`);
  const ownExits = resolveExitOn(options.exitOn);
  const name =
    options.name ??
    (memory === "nested"
      ? "hardware-assisted"
      : shadowPolicy === "sfence"
        ? "hardware-assisted+shadow"
        : "hardware-assisted+shadow+wp");
  const description =
    memory === "nested"
      ? "hardware-assisted: the guest kernel in VS-mode, its programs in VU-mode (H extension); SBI, MMIO and programmed exits; nested paging (G-stage tables)"
      : `hardware-assisted without nested paging (first-generation VT-x): the guest in VS/VU-mode on shadow page tables ${shadowPolicy === "sfence" ? "synced on sfence.vma" : "kept in sync by write-protecting the guest's page tables"}; satp accesses and page faults exit`;
  const nestedOptions = (config: ResolvedVmConfig) => ({
    mode: gstageMode,
    pageSize: memory === "shadow" ? ("2m" as const) : gstagePageSize,
    ramBase: 0x8000_0000,
    size: config.memory,
  });
  return {
    name,
    description,
    techniques: {
      cpu: "hardware-assisted",
      memory: memory === "nested" ? "nested-paging" : "shadow-paging",
      io: ["emulated", "virtio", "passthrough"],
    },
    hypervisorExtension: true,
    validate(config: ResolvedVmConfig) {
      if (config.firmware !== "builtin") {
        throw new HypervisorError(
          "HV_UNSUPPORTED",
          `${name} runs the guest kernel in VS-mode and serves its SBI calls itself, with no M-mode firmware underneath (VmConfig.firmware must be "builtin")`,
        );
      }
      if (memory === "nested" && gstagePageSize === "2m" && config.memory % (2 * 1024 * 1024) !== 0)
        invalid("2 MiB G-stage pages need guest RAM in whole 2 MiB");
    },
    privateMemory(config: ResolvedVmConfig) {
      const o = nestedOptions(config);
      const nested = NestedPageTables.poolBytes(o.size, o);
      return memory === "shadow" ? nested + shadowMemory : nested;
    },
    create: (core) =>
      new HardwareAssistedVmm(core, {
        memory,
        shadowPolicy,
        shadowMemory,
        gstageMode,
        gstagePageSize,
        exitOn: mergeExits(ownExits, core.config.exitOn),
      }),
  };
}

/** Nested paging (G-stage tables, 4 KiB leaves, Sv39x4): registry name "hardware-assisted". */
export const hardwareAssistedNested: StrategyDefinition = hardwareAssisted();

/** Shadow paging synced on sfence.vma, G-stage off (first-generation VT-x): registry name "hardware-assisted+shadow". */
export const hardwareAssistedShadow: StrategyDefinition = hardwareAssisted({ memory: "shadow" });

/** Shadow paging with write-protected guest page tables, G-stage off: registry name "hardware-assisted+shadow+wp". */
export const hardwareAssistedShadowWriteProtect: StrategyDefinition = hardwareAssisted({
  memory: "shadow",
  shadow: "write-protect",
});
