/** The matrix plan: every registered strategy with the baseline first, groups, sizes, and clear errors. */
import { describe, expect, it } from "vitest";
import { BenchError } from "../src/errors.js";
import { DEFAULT_SIZES, planMatrix } from "../src/matrix.js";
import { benchStrategies } from "../src/strategies.js";

describe("planMatrix", () => {
  it("the default matrix runs every registered strategy, baseline first, over every workload and the boot", () => {
    const plan = planMatrix();
    expect(plan.matrix).toBe("default");
    expect(plan.strategies.map((s) => s.name)).toEqual(benchStrategies().map((s) => s.name));
    expect(plan.strategies[0]!.name).toBe("emulation");
    expect(plan.strategies.map((s) => s.name)).toContain("trap-and-emulate+wp");
    expect(plan.workloads.map((w) => w.name)).toEqual(Object.keys(DEFAULT_SIZES));
    expect(plan.workloads.map((w) => w.n)).toEqual(Object.values(DEFAULT_SIZES));
    expect(plan.boot).toBe(true);
    expect(plan.bootRepetitions).toBe(1);
    expect(plan.repetitions).toBe(3);
    expect(plan.profiles.map((p) => p.name)).toEqual(["p4-2006", "modern"]);
  });

  it("the full matrix runs the catalogue's sizes in its larger run", () => {
    const plan = planMatrix({ full: true });
    expect(plan.matrix).toBe("full");
    const forkwait = plan.workloads.find((w) => w.name === "forkwait")!;
    expect(2 * forkwait.n).toBe(40_000);
    expect(plan.bootRepetitions).toBe(3);
  });

  it("selects groups and names, adds the baseline, and takes sizes", () => {
    const plan = planMatrix({
      strategies: ["trap-and-emulate"],
      workloads: ["macro", "ptemod"],
      sizes: { ptemod: 7 },
      boot: false,
    });
    expect(plan.matrix).toBe("custom");
    expect(plan.strategies.map((s) => s.name)).toEqual(["emulation", "trap-and-emulate"]);
    expect(plan.notes.join(" ")).toMatch(/emulation added/);
    expect(plan.workloads.map((w) => w.name)).toEqual(["ptemod", "forkwait", "compute", "ctxswitch", "io"]);
    expect(plan.workloads[0]!.n).toBe(7);
    expect(plan.boot).toBe(false);
    expect(plan.qemu).toBe(false);
  });

  it.each([
    [{ strategies: ["nope"] }, /unknown strategy "nope"; registered: emulation/],
    [{ workloads: ["nope"] }, /unknown workload "nope"; known: nano, macro, boot, all/],
    [{ profiles: ["p3"] }, /unknown cost profile "p3"; known: p4-2006, modern/],
    [{ sizes: { nope: 3 } }, /unknown workload "nope"/],
    [{ repetitions: 0 }, /--repetitions wants a whole number of at least 1/],
  ])("refuses %j with BENCH_BAD_OPTION", (options, message) => {
    let error: unknown;
    try {
      planMatrix(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BenchError);
    expect((error as BenchError).code).toBe("BENCH_BAD_OPTION");
    expect((error as BenchError).message).toMatch(message);
  });
});
