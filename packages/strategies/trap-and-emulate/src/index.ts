/**
 * @hvkit/trap-and-emulate — the classic Popek-Goldberg VMM: the guest kernel
 * runs deprivileged in real U-mode, every privileged instruction it executes
 * traps to the VMM, which emulates it on a virtual CPU state; guest memory
 * through shadow page tables (@hvkit/shadow-paging), synced on SFENCE.VMA or
 * by write-protecting the guest's page tables. SBI calls from the guest
 * kernel are hypercalls served by the shared VMM core. On an ISA profile
 * where a sensitive instruction does not trap in U-mode (Theorem 1 fails),
 * it refuses to run unless forced, and then reports the fidelity loss.
 */
import { HypervisorError, type ResolvedVmConfig, type StrategyDefinition } from "@hvkit/hypervisor";
import { checkVirtualizable } from "@hvkit/isa";
import type { ShadowSyncPolicy } from "@hvkit/shadow-paging";
import { TrapAndEmulateVmm } from "./vmm.js";

export { INSN_SRET, INSN_WFI } from "./decode.js";
export { S_INTERRUPTS, TrapAndEmulateVmm, VCPU, type VmmOptions, VSTATUS_BITS } from "./vmm.js";

/** Options of {@link trapAndEmulate}. */
export interface TrapAndEmulateOptions {
  /** Shadow page-table sync policy: "sfence" (lazy, dropped on sfence.vma and satp writes; default) or "write-protect". */
  readonly shadow?: ShadowSyncPolicy;
  /**
   * Run even on an ISA profile where Theorem 1 fails (a sensitive instruction
   * completes in U-mode without trapping): the guest then silently diverges,
   * and `counters.profileNonTraps` counts the operations that escaped the VMM.
   * Default false: such a VM is refused with HV_INVALID_COMBINATION.
   */
  readonly forceNonVirtualizable?: boolean;
  /** VMM-private RAM for shadow page tables, in bytes (a multiple of 4 KiB). Default 32 MiB. */
  readonly shadowMemory?: number;
  /** Registry name (default "trap-and-emulate" for the sfence policy, "trap-and-emulate+wp" for write-protect). */
  readonly name?: string;
}

/** Default VMM-private RAM for shadow tables: 8192 table pages, measured as enough for Debian's boot without pool resets. */
export const DEFAULT_SHADOW_MEMORY = 32 * 1024 * 1024;

/**
 * The shadow-paging options every strategy on this VMM takes, checked (typed
 * HV_INVALID_CONFIG errors naming `who`) and defaulted: the sync policy and
 * the VMM-private RAM for shadow tables.
 */
export function shadowOptions(
  who: string,
  options: { readonly shadow?: ShadowSyncPolicy; readonly shadowMemory?: number },
): { shadow: ShadowSyncPolicy; shadowMemory: number } {
  const shadow = options.shadow ?? "sfence";
  if (shadow !== "sfence" && shadow !== "write-protect") {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `${who}: shadow must be "sfence" or "write-protect" (got ${JSON.stringify(shadow)})`,
    );
  }
  const shadowMemory = options.shadowMemory ?? DEFAULT_SHADOW_MEMORY;
  if (!Number.isInteger(shadowMemory) || shadowMemory % 4096 !== 0 || shadowMemory < 32 * 1024) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `${who}: shadowMemory = ${shadowMemory}; it must be a multiple of 4 KiB, at least 32 KiB`,
    );
  }
  return { shadow, shadowMemory };
}

/** A trap-and-emulate strategy definition with the given options. */
export function trapAndEmulate(options: TrapAndEmulateOptions = {}): StrategyDefinition {
  const { shadow, shadowMemory } = shadowOptions("trapAndEmulate", options);
  const force = options.forceNonVirtualizable ?? false;
  const base = shadow === "sfence" ? "trap-and-emulate" : "trap-and-emulate+wp";
  const name = options.name ?? (force ? `${base}+forced` : base);
  return {
    name,
    description:
      shadow === "sfence"
        ? "trap-and-emulate: the guest kernel runs in U-mode, privileged instructions are emulated; shadow page tables synced on sfence.vma"
        : "trap-and-emulate: the guest kernel runs in U-mode, privileged instructions are emulated; shadow page tables kept in sync by write-protecting the guest's page tables",
    techniques: {
      cpu: "trap-and-emulate",
      memory: "shadow-paging",
      io: ["emulated", "virtio", "passthrough"],
    },
    validate(config: ResolvedVmConfig) {
      if (config.firmware !== "builtin") {
        throw new HypervisorError(
          "HV_UNSUPPORTED",
          `${name} runs the guest kernel deprivileged and serves the SBI itself; it cannot run an M-mode firmware (VmConfig.firmware must be "builtin")`,
        );
      }
      const verdict = checkVirtualizable(config.isaProfile);
      if (!verdict.virtualizable && !force) {
        const ops = verdict.offending
          .map((o) => `${o.instruction}${o.csr ? ` ${o.csr}` : ""} (${o.behaviour ?? "does not trap"})`)
          .join(", ");
        throw new HypervisorError(
          "HV_INVALID_COMBINATION",
          `${name} cannot run on the "${verdict.profile}" ISA profile: Popek and Goldberg's Theorem 1 does not hold there — sensitive operations complete in U-mode without trapping, so the VMM never sees the guest kernel run them: ${ops}. Use the standard profile, a strategy that does not rely on traps (binary translation), or trapAndEmulate({ forceNonVirtualizable: true }) to run anyway and observe the divergence.`,
        );
      }
    },
    privateMemory: () => shadowMemory,
    create: (core) => new TrapAndEmulateVmm(core, { shadow }),
  };
}

/** Trap-and-emulate with shadow page tables synced on sfence.vma: registry name "trap-and-emulate". */
export const trapAndEmulateSfence: StrategyDefinition = trapAndEmulate({ shadow: "sfence" });

/** Trap-and-emulate with write-protected guest page tables: registry name "trap-and-emulate+wp". */
export const trapAndEmulateWriteProtect: StrategyDefinition = trapAndEmulate({ shadow: "write-protect" });
