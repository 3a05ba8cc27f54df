/**
 * Debian's unmodified kernel with a busybox initramfs under hardware-assisted
 * virtualization, with nested paging and with shadow paging (both sync
 * policies): the contract suite's Linux guest (the init script's transcript
 * must be the emulation baseline's: uname -a, /proc/cpuinfo, BOOT-OK), plus
 * what the VMM did to get there. The artifacts come from `pnpm linux:fetch`;
 * without them the tests skip (outside CI).
 */
import { emulation } from "@hvkit/emulation";
import { linuxContractGuest } from "@hvkit/guests/node";
import { contractSuite, type GuestRun, runGuest } from "@hvkit/hypervisor/testing";
import { describe, expect, it } from "vitest";
import {
  hardwareAssistedNested,
  hardwareAssistedShadow,
  hardwareAssistedShadowWriteProtect,
} from "../src/index.js";

const linux = linuxContractGuest();
/** One boot under emulation is ~15 s here; a few under a loaded machine can take minutes. */
const TIMEOUT = 900_000;

contractSuite({
  baseline: emulation,
  strategies: [hardwareAssistedNested, hardwareAssistedShadow, hardwareAssistedShadowWriteProtect],
  guests: [linux],
  timeout: TIMEOUT,
});

describe.skipIf(linux.skip() !== false)(
  "Debian Linux under hardware-assisted virtualization: what the VMM did",
  () => {
    let baseline: GuestRun | undefined;
    it.each([
      ["nested paging", hardwareAssistedNested],
      ["shadow paging (sfence)", hardwareAssistedShadow],
      ["shadow paging (write-protect)", hardwareAssistedShadowWriteProtect],
    ])(
      "with %s it boots to BOOT-OK step for step with emulation, exiting only where it must",
      (memory, strategy) => {
        const run = runGuest(strategy, linux);
        expect(run.result.stop, run.result.message).toBe("poweroff");
        expect(run.output).toContain("BOOT-OK");
        const s = run.vm.stats;
        const c = s.counters;
        const exits = s.exits.byReason;
        // The guest kernel ran in VS-mode and its programs in VU-mode; they count as its S and U.
        expect(s.instructions.byMode.S!).toBeGreaterThan(s.instructions.byMode.U! * 10);
        expect(s.instructions.byMode.U!).toBeGreaterThan(0);
        // Exits: SBI calls and device accesses always; the guest's own traps, CSRs and sret never.
        expect(exits.sbi).toBeGreaterThan(0);
        expect(exits.mmio).toBeGreaterThan(0);
        expect(exits.sret ?? 0).toBe(0);
        expect(c["trap.ecall-vs"]).toBe(exits.sbi);
        expect(s.cycles.byCategory.vmExit).toBeGreaterThan(0);
        expect(s.cycles.byCategory.mmioEmulation).toBeGreaterThan(0);
        if (memory === "nested paging") {
          // Nested paging: no exit for the guest's page tables, but longer walks.
          expect(Object.keys(exits).sort()).toEqual(["mmio", "sbi"]);
          expect(c["guest.extraWalkSteps"]).toBeGreaterThan(c["guest.walks"]!);
          expect(s.cycles.byCategory.twoStageWalkStep).toBeGreaterThan(0);
          expect(c["nested.ramLeaves"]).toBe((512 * 1024 * 1024) / 4096);
        } else {
          // Shadow paging: satp accesses and page faults exit; the shadow is filled or the fault injected.
          expect(exits["shadow-fault"]).toBeGreaterThan(0);
          expect(exits.csr).toBeGreaterThan(0);
          expect(c["csr.satp.write"]).toBeGreaterThan(0);
          expect(c["shadow.fills"]).toBeGreaterThan(0);
          expect(c["shadow.guestFaults"]).toBeGreaterThan(0);
          expect(s.cycles.byCategory.shadowSyncPte).toBeGreaterThan(0);
          if (memory.includes("write-protect")) {
            expect(c["shadow.pteWrites"]).toBeGreaterThan(0);
            expect(exits["sfence.vma"] ?? 0).toBe(0);
          } else {
            expect(exits["sfence.vma"]).toBeGreaterThan(0);
            expect(c["shadow.pteWrites"]).toBe(0);
          }
        }
        // Step for step: completed exits retire, hidden ones give their step back, so the
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
  },
);
