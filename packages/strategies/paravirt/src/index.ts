/**
 * @hvkit/paravirt — Xen-style paravirtualization: the guest kernel is
 * modified to ask the VMM for privileged work through a documented
 * hypercall ABI (ABI.md: an SBI extension in the vendor range; the guest's C
 * binding is hvkit_pv.h in @hvkit/guests): validated, batched page-table
 * updates with read-only page-table pages, TLB flushes, a shared page with
 * a virtual interrupt flag and pending bits, timer, console, idle/yield,
 * shutdown and block-ring notifications. Built on the trap-and-emulate VMM:
 * unmodified guests run in a hybrid mode (SBI calls are hypercalls, every
 * other privileged instruction traps and is emulated).
 */
import { HypervisorError, type ResolvedVmConfig, type StrategyDefinition } from "@hvkit/hypervisor";
import { checkVirtualizable } from "@hvkit/isa";
import { DEFAULT_SHADOW_MEMORY } from "@hvkit/trap-and-emulate";
import { ParavirtVmm } from "./vmm.js";

export {
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
export { ParavirtVmm } from "./vmm.js";

/** Options of {@link paravirtStrategy}. */
export interface ParavirtOptions {
  /** VMM-private RAM for shadow page tables, in bytes (a multiple of 4 KiB). Default 32 MiB. */
  readonly shadowMemory?: number;
  /** Registry name (default "paravirt"). */
  readonly name?: string;
}

/** A paravirtualization strategy definition with the given options. */
export function paravirtStrategy(options: ParavirtOptions = {}): StrategyDefinition {
  const shadowMemory = options.shadowMemory ?? DEFAULT_SHADOW_MEMORY;
  if (!Number.isInteger(shadowMemory) || shadowMemory % 4096 !== 0 || shadowMemory < 32 * 1024) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `paravirt: shadowMemory = ${shadowMemory}; it must be a multiple of 4 KiB, at least 32 KiB`,
    );
  }
  const name = options.name ?? "paravirt";
  return {
    name,
    description:
      "paravirtualization: the guest kernel calls the VMM through a hypercall ABI (validated batched page-table updates, shared-page interrupt flag, timer, console, block ring); unmodified guests in hybrid mode on trap-and-emulate",
    techniques: { cpu: "paravirt", memory: "paravirt", io: ["emulated", "paravirt"] },
    validate(config: ResolvedVmConfig) {
      if (config.firmware !== "builtin") {
        throw new HypervisorError(
          "HV_UNSUPPORTED",
          `${name} runs the guest kernel deprivileged and serves the SBI and its hypercalls itself; it cannot run an M-mode firmware (VmConfig.firmware must be "builtin")`,
        );
      }
      // Hybrid mode falls back to trap-and-emulate: sensitive instructions must trap.
      const verdict = checkVirtualizable(config.isaProfile);
      if (!verdict.virtualizable) {
        throw new HypervisorError(
          "HV_INVALID_COMBINATION",
          `${name} cannot run on the "${verdict.profile}" ISA profile: its hybrid mode relies on every privileged instruction the guest still executes trapping, and there some complete in U-mode without trapping. Use the standard profile, or binary translation.`,
        );
      }
    },
    privateMemory: () => shadowMemory,
    create: (core) => new ParavirtVmm(core),
  };
}

/** Paravirtualization: registry name "paravirt". */
export const paravirt: StrategyDefinition = paravirtStrategy();
