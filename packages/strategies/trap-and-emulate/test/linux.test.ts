/**
 * Debian's unmodified kernel with a busybox initramfs under trap-and-emulate,
 * both shadow sync policies: the contract suite's Linux guest (the init
 * script's transcript must be the emulation baseline's: uname -a,
 * /proc/cpuinfo, BOOT-OK), plus what the VMM did to get there. The
 * artifacts come from `pnpm linux:fetch`; without them the tests skip
 * (outside CI).
 */
import { emulation } from "@hvkit/emulation";
import { linuxContractGuest } from "@hvkit/guests/node";
import { contractSuite, type GuestRun, runGuest } from "@hvkit/hypervisor/testing";
import { describe, expect, it } from "vitest";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "../src/index.js";

const linux = linuxContractGuest();
/** One boot under emulation is ~15 s here; a few under a loaded machine can take minutes. */
const TIMEOUT = 900_000;

contractSuite({
  baseline: emulation,
  strategies: [trapAndEmulateSfence, trapAndEmulateWriteProtect],
  guests: [linux],
  timeout: TIMEOUT,
});

describe.skipIf(linux.skip() !== false)("Debian Linux under trap-and-emulate: what the VMM did", () => {
  let baseline: GuestRun | undefined;
  it.each([
    ["sfence", trapAndEmulateSfence],
    ["write-protect", trapAndEmulateWriteProtect],
  ])(
    "the %s policy boots to BOOT-OK step for step with emulation, with every kind of exit accounted",
    (policy, strategy) => {
      const run = runGuest(strategy, linux);
      expect(run.result.stop, run.result.message).toBe("poweroff");
      expect(run.output).toContain("BOOT-OK");
      const s = run.vm.stats;
      const c = s.counters;
      // The guest kernel's instructions count as its own S-mode, though they ran in U-mode.
      expect(s.instructions.byMode.S!).toBeGreaterThan(s.instructions.byMode.U! * 10);
      for (const reason of [
        "csr",
        "sret",
        "sfence.vma",
        "shadow-fault",
        "mmio",
        "interrupt",
        "exception",
        "sbi",
      ])
        expect(s.exits.byReason[reason], reason).toBeGreaterThan(0);
      expect(c["emulated.csrrs"]).toBeGreaterThan(0);
      expect(c["csr.sstatus.write"]).toBeGreaterThan(0);
      expect(c["csr.satp.write"]).toBeGreaterThan(0);
      expect(c["trap.illegal-instruction"]).toBeGreaterThan(0);
      expect(c["shadow.fills"]).toBeGreaterThan(0);
      if (policy === "write-protect") expect(c["shadow.pteWrites"]).toBeGreaterThan(0);
      else expect(c["shadow.pteWrites"]).toBe(0);
      expect(s.cycles.byCategory.vmExit).toBeGreaterThan(0);
      expect(s.cycles.byCategory.shadowSyncPte).toBeGreaterThan(0);
      // Step for step: emulated instructions retire, hidden exits give their step back, so the
      // guest's clock (and with it everything it does) is the baseline's.
      baseline ??= runGuest(emulation, linux);
      expect(s.instructions.total).toBe(baseline.vm.stats.instructions.total);
      expect(s.instructions.byMode).toEqual(baseline.vm.stats.instructions.byMode);
      expect(s.steps).toBe(baseline.vm.stats.steps);
      console.log(
        `Debian boot under ${s.strategy}: ${s.wallSeconds.toFixed(1)} s wall, ${s.instructions.total} instructions, ` +
          `${s.exits.total} exits ${JSON.stringify(s.exits.byReason)}`,
      );
    },
    TIMEOUT,
  );
});
