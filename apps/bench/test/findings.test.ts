/**
 * The findings are computed, never hard-coded: the same finding is
 * reproduced or not depending only on the numbers, and not measurable when a
 * strategy it needs is missing or its cell failed. Strategies are recognised
 * by their techniques, so ones not written yet take their roles.
 */
import { describe, expect, it } from "vitest";
import { assignRoles, computeFindings } from "../src/findings.js";
import { BT, EMULATION, fakeResult, HW_NESTED, HW_SHADOW, PV, TE } from "./fixtures.js";

function verdict(result: ReturnType<typeof fakeResult>, id: string, profile = "p4-2006") {
  const f = computeFindings(result).find((x) => x.id === id && x.profile === profile);
  if (!f) throw new Error(`no finding ${id}`);
  return f;
}

describe("findings", () => {
  it("recognises strategies by their techniques, whatever their names", () => {
    const r = fakeResult([EMULATION, TE, BT, HW_SHADOW, HW_NESTED, PV]);
    expect(assignRoles(r)).toEqual({
      baseline: "emulation",
      bt: "bt",
      hwShadow: "hw-shadow",
      hwNested: "hw-nested",
      hw: "hw-shadow",
      pv: "pv",
    });
  });

  it("is not measurable without the strategies a finding needs, and says which", () => {
    const r = fakeResult([EMULATION, TE]);
    const f = verdict(r, "hw1-loses-to-bt-on-mmu");
    expect(f.verdict).toBe("not measurable");
    expect(f.missing.join(" ")).toMatch(/binary translation/);
    expect(f.missing.join(" ")).toMatch(/shadow paging/);
    // One profile per finding and profile.
    expect(computeFindings(r)).toHaveLength(2 * 8);
  });

  it("first-generation hardware losing to BT follows the numbers, both ways", () => {
    const slowHw = {
      "hw-shadow": { ptemod: 12_000, pgfault: 11_000, forkwait: 100_000 },
      bt: { ptemod: 400, pgfault: 4_000, forkwait: 37_000 },
    };
    expect(verdict(fakeResult([EMULATION, BT, HW_SHADOW], slowHw), "hw1-loses-to-bt-on-mmu").verdict).toBe(
      "reproduced",
    );
    const fastHw = { ...slowHw, "hw-shadow": { ptemod: 300, pgfault: 11_000, forkwait: 100_000 } };
    const f = verdict(fakeResult([EMULATION, BT, HW_SHADOW], fastHw), "hw1-loses-to-bt-on-mmu");
    expect(f.verdict).toBe("not reproduced");
    expect(f.detail).toContain("ptemod: hw-shadow 300 vs bt 400 cycles/op (hardware not slower)");
  });

  it("nested paging beating shadow paging and closing the gap to BT are judged separately", () => {
    const base = {
      "hw-shadow": { ptemod: 12_000, pgfault: 11_000, forkwait: 100_000 },
      bt: { ptemod: 400, pgfault: 4_000, forkwait: 37_000 },
    };
    const closed = { ...base, "hw-nested": { ptemod: 100, pgfault: 1_500, forkwait: 30_000 } };
    const narrowed = { ...base, "hw-nested": { ptemod: 100, pgfault: 1_500, forkwait: 50_000 } };
    const s = [EMULATION, BT, HW_SHADOW, HW_NESTED];
    expect(verdict(fakeResult(s, closed), "nested-paging-beats-shadow-paging").verdict).toBe("reproduced");
    expect(verdict(fakeResult(s, closed), "nested-paging-closes-the-gap").verdict).toBe("reproduced");
    expect(verdict(fakeResult(s, narrowed), "nested-paging-beats-shadow-paging").verdict).toBe("reproduced");
    expect(verdict(fakeResult(s, narrowed), "nested-paging-closes-the-gap").verdict).toBe("not reproduced");
    // Without BT the first is still measurable.
    const noBt = fakeResult([EMULATION, HW_SHADOW, HW_NESTED], closed);
    expect(verdict(noBt, "nested-paging-beats-shadow-paging").verdict).toBe("reproduced");
    expect(verdict(noBt, "nested-paging-closes-the-gap").verdict).toBe("not measurable");
  });

  it("paravirtual batching must beat every shadow-paging strategy on ptemod", () => {
    const s = [EMULATION, TE, BT, PV];
    expect(
      verdict(
        fakeResult(s, { pv: { ptemod: 50 }, bt: { ptemod: 400 }, "trap-and-emulate": { ptemod: 10_000 } }),
        "pv-batching-wins-on-ptemod",
      ).verdict,
    ).toBe("reproduced");
    expect(
      verdict(
        fakeResult(s, { pv: { ptemod: 500 }, bt: { ptemod: 400 }, "trap-and-emulate": { ptemod: 10_000 } }),
        "pv-batching-wins-on-ptemod",
      ).verdict,
    ).toBe("not reproduced");
    expect(verdict(fakeResult([EMULATION, PV]), "pv-batching-wins-on-ptemod").verdict).toBe("not measurable");
    // Nested paging (no VMM entry per PTE write) is shown for reference, not compared with.
    const withNested = verdict(
      fakeResult([...s, HW_NESTED], {
        pv: { ptemod: 500 },
        bt: { ptemod: 6_000 },
        "trap-and-emulate": { ptemod: 10_000 },
        "hw-nested": { ptemod: 300 },
      }),
      "pv-batching-wins-on-ptemod",
    );
    expect(withNested.verdict).toBe("reproduced");
    expect(withNested.detail).toContain("for reference, nested paging: hw-nested 300");
  });

  it("CPU-bound code near native is measurable with trap-and-emulate alone, with a 10% bound", () => {
    const near = fakeResult([EMULATION, TE], {
      emulation: { compute: 1000 },
      "trap-and-emulate": { compute: 1080 },
    });
    expect(verdict(near, "cpu-bound-near-native").verdict).toBe("reproduced");
    const far = fakeResult([EMULATION, TE], {
      emulation: { compute: 1000 },
      "trap-and-emulate": { compute: 1200 },
    });
    const f = verdict(far, "cpu-bound-near-native");
    expect(f.verdict).toBe("not reproduced");
    expect(f.detail).toContain("trap-and-emulate 1.200x");
  });

  it("a failed cell makes a finding not measurable, not reproduced", () => {
    const r = fakeResult([EMULATION, BT, HW_SHADOW]);
    const cell = r.cells.find((c) => c.strategy === "bt" && c.workload === "ptemod")!;
    cell.status = "failed";
    cell.error = "wrong CHECK lines";
    const f = verdict(r, "hw1-loses-to-bt-on-mmu");
    expect(f.verdict).toBe("not measurable");
    expect(f.detail).toContain("bt / ptemod");
  });

  it("can differ between profiles", () => {
    const r = fakeResult([EMULATION, BT, HW_SHADOW]);
    const set = (s: string, w: string, p4: number, modern: number) => {
      const c = r.cells.find((x) => x.strategy === s && x.workload === w)!;
      c.perOp!.cycles["p4-2006"]!.total = p4;
      c.perOp!.cycles.modern!.total = modern;
    };
    set("hw-shadow", "syscall", 250, 250);
    set("bt", "syscall", 2300, 200);
    expect(verdict(r, "hw-syscall-near-native", "p4-2006").verdict).toBe("reproduced");
    expect(verdict(r, "hw-syscall-near-native", "modern").verdict).toBe("not reproduced");
  });
});
