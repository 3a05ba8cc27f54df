/**
 * @hvkit/binary-translation — the VMware-style software VMM: guest code is
 * translated one basic block at a time into JavaScript (the hart's block
 * translator, with a basic-block cache keyed by physical page and the
 * guest's virtual mode, chained, invalidated when translated pages are
 * written), and every sensitive instruction of the guest kernel is rewritten
 * into inline emulation on the virtual CPU or a callout into the VMM, never
 * trapped. Guest memory through shadow page tables, as trap-and-emulate
 * (whose virtual CPU and exit handling it extends). Because it sees every
 * instruction, it runs the non-virtualizable ISA profile faithfully.
 */
import type { TranslationOptions } from "@hvkit/cpu";
import { HypervisorError, type ResolvedVmConfig, type StrategyDefinition } from "@hvkit/hypervisor";
import type { ShadowSyncPolicy } from "@hvkit/shadow-paging";
import { shadowOptions } from "@hvkit/trap-and-emulate";
import { BinaryTranslationVmm } from "./vmm.js";

export { CTX_KERNEL, CTX_USER, classify, rewrite, Treat } from "./rewriter.js";
export { BinaryTranslationVmm, type BinaryTranslationVmmOptions, CALLOUT_KINDS } from "./vmm.js";

/** Options of {@link binaryTranslation}. */
export interface BinaryTranslationOptions {
  /** Shadow page-table sync policy: "sfence" (default) or "write-protect". */
  readonly shadow?: ShadowSyncPolicy;
  /** Tuning of the block translator (hotness threshold, profile length, cache capacity). */
  readonly translation?: TranslationOptions;
  /** VMM-private RAM for shadow page tables, in bytes (a multiple of 4 KiB). Default 32 MiB. */
  readonly shadowMemory?: number;
  /** Registry name (default "binary-translation", or "binary-translation+wp" for write-protect). */
  readonly name?: string;
}

/** A binary-translation strategy definition with the given options. */
export function binaryTranslation(options: BinaryTranslationOptions = {}): StrategyDefinition {
  const { shadow, shadowMemory } = shadowOptions("binaryTranslation", options);
  const translation = options.translation ?? {};
  const name = options.name ?? (shadow === "sfence" ? "binary-translation" : "binary-translation+wp");
  return {
    name,
    description:
      shadow === "sfence"
        ? "binary translation: guest code translated block by block into JavaScript, sensitive instructions rewritten into inline emulation or callouts; shadow page tables synced on sfence.vma"
        : "binary translation: guest code translated block by block into JavaScript, sensitive instructions rewritten into inline emulation or callouts; shadow page tables kept in sync by write-protecting the guest's page tables",
    techniques: {
      cpu: "binary-translation",
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
      // Any ISA profile: the translator sees every instruction, so sensitive ones need not trap.
    },
    privateMemory: () => shadowMemory,
    create: (core) => new BinaryTranslationVmm(core, { shadow, translation }),
  };
}

/** Binary translation with shadow page tables synced on sfence.vma: registry name "binary-translation". */
export const binaryTranslationSfence: StrategyDefinition = binaryTranslation({ shadow: "sfence" });

/** Binary translation with write-protected guest page tables: registry name "binary-translation+wp". */
export const binaryTranslationWriteProtect: StrategyDefinition = binaryTranslation({
  shadow: "write-protect",
});
