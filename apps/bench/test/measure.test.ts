/**
 * One measured run, in process: the guest's result is checked before its
 * numbers count, and pricing counted events with a profile gives exactly
 * what a VM created with that profile reports.
 */
import { readHvkitImage } from "@hvkit/guests/node";
import { COST_PROFILES, Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { BenchError } from "../src/errors.js";
import { EVENT_COUNTING_PROFILE, HVKIT_MEMORY, runHvkitKernel } from "../src/measure.js";
import { perOperation } from "../src/runner.js";
import { benchStrategy } from "../src/strategies.js";

const kernel = readHvkitImage("hvkit-kernel.elf");
const profiles = Object.values(COST_PROFILES);

describe("runHvkitKernel", () => {
  it.each(["emulation", "trap-and-emulate", "trap-and-emulate+wp"])(
    "%s: events priced with each profile equal a VM created with that profile",
    (name) => {
      const strategy = benchStrategy(name);
      const r = runHvkitKernel({
        strategy,
        kernel,
        workload: "forkwait",
        n: 20,
        profiles,
        timeoutMs: 60_000,
      });
      for (const profile of profiles) {
        const vm = Vm.create(strategy, {
          kernel,
          cmdline: r.record.cmdline,
          memory: HVKIT_MEMORY,
          costProfile: profile,
        });
        expect(vm.run({ steps: 1e9 }).stop).toBe("poweroff");
        const direct = vm.stats.cycles;
        expect(r.record.cycles[profile.name]!.total).toBe(direct.total);
        expect(r.record.cycles[profile.name]!.byCategory).toEqual(direct.byCategory);
      }
      expect(r.record.instructions.total).toBeGreaterThan(0);
      expect(r.record.guest!.instretPerOp).toBeGreaterThan(10_000);
      expect(r.checks.some((l) => l.startsWith("CHECK forkwait n=20 "))).toBe(true);
    },
  );

  it("fails loudly, with the console's tail, when the guest reports a failure", () => {
    const strategy = benchStrategy("emulation");
    let error: unknown;
    try {
      runHvkitKernel({ strategy, kernel, workload: "no-such-workload", n: 1, profiles, timeoutMs: 60_000 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BenchError);
    expect((error as BenchError).code).toBe("BENCH_CELL_FAILED");
    expect((error as BenchError).message).toMatch(/DONE status=1/);
    expect((error as BenchError).message).toMatch(/--- console tail ---/);
  });

  it("the 2n-n method cancels boot and setup", () => {
    const strategy = benchStrategy("trap-and-emulate");
    const one = runHvkitKernel({
      strategy,
      kernel,
      workload: "ptemod",
      n: 100,
      profiles,
      timeoutMs: 60_000,
    }).record;
    const two = runHvkitKernel({
      strategy,
      kernel,
      workload: "ptemod",
      n: 200,
      profiles,
      timeoutMs: 60_000,
    }).record;
    const p = perOperation(one, two);
    expect(p.n).toBe(100);
    // A kernel-mode ptemod iteration is 21 instructions; the guest's own count adds its
    // timing code spread over n (21.1 at n=200), which the difference cancels.
    expect(p.instructions).toBe(21);
    expect(Math.abs(two.guest!.instretPerOp - 21)).toBeLessThan(0.5);
    expect(p.exits.total).toBeGreaterThanOrEqual(2);
    expect(p.cycles["p4-2006"]!.total).toBeCloseTo(
      (two.cycles["p4-2006"]!.total - one.cycles["p4-2006"]!.total) / 100,
      9,
    );
    expect(EVENT_COUNTING_PROFILE.cycles.vmExit).toBe(1);
  });
});
