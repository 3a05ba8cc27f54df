/**
 * Debian's unmodified kernel with a busybox initramfs under binary
 * translation: the contract suite's Linux guest (the init script's
 * transcript must be the emulation baseline's: uname -a, /proc/cpuinfo,
 * BOOT-OK), step for step with the baseline, with the kernel's sensitive
 * instructions rewritten (no csr, sret, sfence.vma or wfi exits) and the
 * translator's statistics. The artifacts come from `pnpm linux:fetch`;
 * without them the tests skip (outside CI).
 */
import { emulation } from "@hvkit/emulation";
import { linuxContractGuest } from "@hvkit/guests/node";
import { contractSuite, type GuestRun, runGuest } from "@hvkit/hypervisor/testing";
import { describe, expect, it } from "vitest";
import { binaryTranslationSfence, binaryTranslationWriteProtect } from "../src/index.js";

const linux = linuxContractGuest();
/** One boot is ~15-30 s here; several under a loaded machine can take minutes. */
const TIMEOUT = 900_000;

contractSuite({
  baseline: emulation,
  strategies: [binaryTranslationSfence, binaryTranslationWriteProtect],
  guests: [linux],
  timeout: TIMEOUT,
});

describe.skipIf(linux.skip() !== false)("Debian Linux under binary translation: what the VMM did", () => {
  let baseline: GuestRun | undefined;
  it(
    "boots to BOOT-OK step for step with emulation, its sensitive instructions rewritten, not trapped",
    () => {
      const run = runGuest(binaryTranslationSfence, linux);
      expect(run.result.stop, run.result.message).toBe("poweroff");
      expect(run.output).toContain("BOOT-OK");
      const s = run.vm.stats;
      const c = s.counters;
      baseline ??= runGuest(emulation, linux);
      expect(s.instructions.total).toBe(baseline.vm.stats.instructions.total);
      expect(s.instructions.byMode).toEqual(baseline.vm.stats.instructions.byMode);
      expect(s.steps).toBe(baseline.vm.stats.steps);
      for (const reason of ["csr", "sret", "wfi", "sfence.vma"])
        expect(s.exits.byReason[reason], reason).toBeUndefined();
      expect(c["trap.illegal-instruction"]).toBeUndefined();
      // What a software VMM still takes exits for.
      for (const reason of ["shadow-fault", "mmio", "interrupt", "exception"])
        expect(s.exits.byReason[reason], reason).toBeGreaterThan(0);
      expect(c["bt.inline"]).toBeGreaterThan(100_000);
      expect(c["bt.callout.sfence.vma"]).toBeGreaterThan(0);
      expect(c["bt.callout.sret"]).toBeGreaterThan(0);
      expect(c["bt.callout.satp"]).toBeGreaterThan(0);
      expect(c["bt.callout.sbi"]).toBeGreaterThan(0);
      expect(c["bt.blocksTranslated"]).toBeGreaterThan(0);
      expect(c["bt.cacheHits"]).toBeGreaterThan(0);
      expect(c["bt.chained"]).toBeGreaterThan(0);
      expect(c.profileNonTraps).toBe(0);
      console.log(
        `Debian boot under ${s.strategy}: ${s.wallSeconds.toFixed(1)} s wall (emulation ${baseline.vm.stats.wallSeconds.toFixed(1)} s), ` +
          `${s.instructions.total} instructions, exits ${JSON.stringify(s.exits.byReason)}, ` +
          `bt ${JSON.stringify(Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith("bt."))))}`,
      );
    },
    TIMEOUT,
  );
});
