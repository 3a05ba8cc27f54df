/**
 * Hybrid mode: Debian's unmodified kernel with a busybox initramfs under
 * paravirt. It knows nothing of the hvkit ABI: its SBI calls are the
 * hypercalls, every other privileged instruction traps and is emulated
 * (trap-and-emulate on write-protected shadow page tables). The init
 * script's transcript must be the emulation baseline's (uname -a,
 * /proc/cpuinfo, BOOT-OK), step for step, and the counters say how many
 * operations went each way. The artifacts come from `pnpm linux:fetch`;
 * without them the tests skip (outside CI).
 */
import { emulation } from "@hvkit/emulation";
import { linuxContractGuest } from "@hvkit/guests/node";
import { contractSuite, runGuest } from "@hvkit/hypervisor/testing";
import { describe, expect, it } from "vitest";
import { paravirt } from "../src/index.js";

const linux = linuxContractGuest();
/** One boot is ~15-30 s here; under a loaded machine it can take minutes. */
const TIMEOUT = 900_000;

contractSuite({ baseline: emulation, strategies: [paravirt], guests: [linux], timeout: TIMEOUT });

describe.skipIf(linux.skip() !== false)("Debian Linux under paravirt: the hybrid mode", () => {
  it(
    "boots to BOOT-OK step for step with emulation; SBI calls are hypercalls, the rest traps",
    () => {
      const run = runGuest(paravirt, linux);
      expect(run.result.stop, run.result.message).toBe("poweroff");
      expect(run.output).toContain("BOOT-OK");
      const baseline = runGuest(emulation, linux);
      const s = run.vm.stats;
      const c = s.counters;
      expect(s.instructions.total).toBe(baseline.vm.stats.instructions.total);
      expect(s.steps).toBe(baseline.vm.stats.steps);
      // Never paravirtual: no shared page, no hvkit hypercall.
      expect(c["pv.active"]).toBe(0);
      expect(Object.keys(s.hypercalls.byName).filter((k) => k.startsWith("pv."))).toEqual([]);
      // Both ways, and the split adds up.
      expect(c["hybrid.viaHypercall"]).toBe(s.hypercalls.total);
      expect(c["hybrid.viaHypercall"]).toBeGreaterThan(0);
      expect(c["hybrid.viaTrap"]).toBeGreaterThan(c["hybrid.viaHypercall"]!);
      for (const reason of ["sbi", "csr", "sret", "sfence.vma", "pte-write"])
        expect(s.exits.byReason[reason], reason).toBeGreaterThan(0);
      console.log(
        `Debian boot under ${s.strategy} (hybrid): ${s.wallSeconds.toFixed(1)} s wall (emulation ${baseline.vm.stats.wallSeconds.toFixed(1)} s), ` +
          `${s.instructions.total} instructions; by hypercall ${c["hybrid.viaHypercall"]} (${JSON.stringify(s.hypercalls.byName)}), ` +
          `by trap ${c["hybrid.viaTrap"]} (exits ${JSON.stringify(s.exits.byReason)})`,
      );
    },
    TIMEOUT,
  );
});
