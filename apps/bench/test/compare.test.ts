/**
 * bench compare: deterministic figures change or not (any change is real);
 * measured figures count only beyond the noise (ranges over repetitions
 * disjoint, and more than the threshold).
 */
import { describe, expect, it } from "vitest";
import { compareResults, formatComparison } from "../src/compare.js";
import { EMULATION, fakeResult, TE } from "./fixtures.js";

function copy<T>(x: T): T {
  return structuredClone(x);
}

describe("bench compare", () => {
  const a = fakeResult([EMULATION, TE]);

  it("finds nothing between a result and itself", () => {
    const c = compareResults(a, copy(a));
    expect(c.regressions).toBe(0);
    expect(c.improvements).toBe(0);
    expect(c.rows.every((r) => r.verdict === "same")).toBe(true);
    expect(formatComparison(c)).toMatch(/0 regression\(s\), 0 improvement\(s\)/);
  });

  it("flags any increase of modeled cycles or exits as a regression, a decrease as an improvement", () => {
    const b = copy(a);
    const cell = b.cells.find((c) => c.strategy === "trap-and-emulate" && c.workload === "ptemod")!;
    cell.perOp!.cycles["p4-2006"]!.total *= 1.001;
    cell.perOp!.exits.total = 0.5;
    const c = compareResults(a, b);
    const rows = c.rows.filter((r) => r.verdict !== "same");
    expect(rows.map((r) => [r.workload, r.metric, r.verdict])).toEqual([
      ["ptemod", "exits per op", "improvement"],
      ["ptemod", "cycles per op (p4-2006)", "regression"],
    ]);
    expect(formatComparison(c)).toContain("REGRESSION");
  });

  it("counts a wall-time change only when the ranges are disjoint and beyond the threshold", () => {
    const slower = (factor: number, spread: number) => {
      const b = copy(a);
      const w = b.cells.find((c) => c.strategy === "emulation" && c.workload === "forkwait")!.wall!;
      const m = w.mips.median * factor;
      w.mips = { median: m, min: m * (1 - spread), max: m * (1 + spread), samples: 3 };
      return compareResults(a, b).rows.find(
        (r) => r.workload === "forkwait" && r.strategy === "emulation" && r.metric === "guest MIPS",
      )!;
    };
    // a's MIPS range is 47.5-52.5.
    expect(slower(0.8, 0.02).verdict).toBe("regression");
    expect(slower(0.8, 0.2).verdict).toBe("within noise"); // overlapping ranges
    expect(slower(0.97, 0.001).verdict).toBe("within noise"); // disjoint but under 5%
    expect(slower(1.3, 0.02).verdict).toBe("improvement");
  });

  it("a cell that passed before and fails now is a regression", () => {
    const b = copy(a);
    const cell = b.cells.find((c) => c.strategy === "trap-and-emulate" && c.workload === "io")!;
    cell.status = "failed";
    cell.error = "boom";
    const c = compareResults(a, b);
    expect(c.rows.find((r) => r.workload === "io" && r.strategy === "trap-and-emulate")!.verdict).toBe(
      "regression",
    );
    expect(c.regressions).toBe(1);
  });

  it("notes different hosts and changed guest images", () => {
    const b = copy(a);
    b.run.host.cpu = "Other CPU";
    b.guests.hvkitKernel["hvkit-kernel.elf"] = "ff";
    const c = compareResults(a, b);
    expect(c.notes.join("\n")).toMatch(/different hosts/);
    expect(c.notes.join("\n")).toMatch(/hvkit-kernel.elf differs/);
  });
});
