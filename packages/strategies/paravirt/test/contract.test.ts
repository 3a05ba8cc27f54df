/**
 * The contract suite under paravirt, two ways:
 *
 * - Unmodified guests (hybrid mode): the built-in S-mode guests, the
 *   bare-metal programs and hvkit-kernel's native build give the emulation
 *   baseline's console output and exit status; their privileged
 *   instructions trap and are emulated, their SBI calls are hypercalls.
 * - The paravirtual build: hvkit-kernel-pv.elf under paravirt gives, for
 *   every workload, the output of the native build under emulation (the
 *   acceptance test of the paravirt issue), through the ABI: the shared
 *   page is in use, traps are delivered and returned through it, no
 *   unexpected privileged instruction ran, and the VMM refused nothing.
 */
import { emulation } from "@hvkit/emulation";
import { HVKIT_WORKLOADS } from "@hvkit/guests";
import { hvkitBareMetalGuests, hvkitKernelGuests } from "@hvkit/guests/node";
import { builtinGuests, contractSuite, runGuest } from "@hvkit/hypervisor/testing";
import { describe, expect, it } from "vitest";
import { paravirt } from "../src/index.js";

contractSuite({
  baseline: emulation,
  strategies: [paravirt],
  guests: [...builtinGuests(), ...hvkitBareMetalGuests(), ...hvkitKernelGuests()],
});

/** The banner names the build; everything else must match byte for byte (MEASURE lines dropped). */
const sameBuild = (s: string) => s.replace(/\((native|pv) build\)/, "(build)");

describe("hvkit-kernel-pv.elf under paravirt gives hvkit-kernel.elf's output under emulation", () => {
  for (const { name } of HVKIT_WORKLOADS) {
    it(name, () => {
      const [native] = hvkitKernelGuests({ workloads: [name] });
      const [pv] = hvkitKernelGuests({ workloads: [name], build: "pv" });
      const b = runGuest(emulation, native!);
      const r = runGuest(paravirt, pv!);
      expect(b.result.stop, b.result.message).toBe("poweroff");
      expect(b.output).toMatch(/^DONE status=0$/m);
      expect(r.result, r.result.message).toEqual(b.result);
      expect(sameBuild(pv!.normalize(r.output))).toBe(sameBuild(native!.normalize(b.output)));
      expect(r.output).toContain("(pv build)");
      const s = r.vm.stats;
      expect(s.counters["pv.active"]).toBe(1);
      expect(s.counters["pv.privileged.unexpected"]).toBe(0);
      expect(s.counters["pv.rejected"]).toBe(0);
      // Traps come and go through the shared page: no emulated sret, no sscratch swaps.
      expect(s.counters["emulated.sret"]).toBeUndefined();
      expect(s.counters["csr.sscratch.read"]).toBeUndefined();
      expect(s.counters["pv.traps.delivered"]).toBe(s.hypercalls.byName["pv.trap_return"] ?? 0);
      // Console and power-off went through the ABI, not the SBI.
      expect(s.hypercalls.byName["pv.console_write"]).toBeGreaterThan(0);
      expect(s.hypercalls.byName["pv.shutdown"]).toBe(1);
      expect(Object.keys(s.hypercalls.byName).filter((k) => !k.startsWith("pv."))).toEqual([]);
    }, 120_000);
  }
});
