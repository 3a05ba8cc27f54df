/**
 * Snapshots: a guest snapshotted at step N and restored gives exactly the
 * console output and final state of the uninterrupted run, under every
 * strategy, and across strategies (the snapshot holds the guest-visible
 * hart, which each strategy converts to and from its own virtual CPU).
 */
import { HVKIT_TEST_SIZES } from "@hvkit/guests/node";
import { Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { captured, kernelConfig, runTo, runToEnd, STRATEGIES } from "./helpers.js";

/** Every hvkit-kernel workload but echo (console input: see devices.test.ts), at test sizes. */
const WORKLOADS: [string, number][] = Object.entries(HVKIT_TEST_SIZES).filter(([w]) => w !== "echo");

describe.each(WORKLOADS)("hvkit-kernel %s n=%i", (workload, n) => {
  const config = kernelConfig(workload, n);
  const base = Vm.create("emulation", config);
  const baseOut = captured(base);
  const baseResult = runToEnd(base);
  const total = base.hart.cycles;

  it("the baseline finishes", () => {
    expect(baseResult.stop).toBe("poweroff");
    expect(baseOut.text).toMatch(/DONE status=0/);
  });

  it.each(STRATEGIES.map((s) => [s.name, s] as const))(
    "%s: restore at N continues exactly",
    (_, strategy) => {
      const at = Math.floor(total * 0.4);
      const vm = Vm.create(strategy, config);
      const out = captured(vm);
      expect(runTo(vm, at)).toBe("limit");
      const before = out.text;
      const snap = vm.snapshot();
      const restored = Vm.restore(snap);
      expect(restored.strategy.name).toBe(strategy.name);
      const rest = captured(restored);
      const r = runToEnd(restored);
      expect(r.stop).toBe("poweroff");
      expect(before + rest.text).toBe(baseOut.text);
      expect(restored.hart.cycles).toBe(total);
      expect(restored.hart.instret).toBe(base.hart.instret);
      expect(Buffer.from(restored.board.ram).equals(Buffer.from(base.board.ram))).toBe(true);
      // The source keeps running unharmed too.
      const s = runToEnd(vm);
      expect(s.stop).toBe("poweroff");
      expect(out.text).toBe(baseOut.text);
    },
  );
});

describe("across strategies (native-build guests)", () => {
  const config = kernelConfig("forkwait", 40);
  const base = Vm.create("emulation", config);
  const baseOut = captured(base);
  runToEnd(base);
  const total = base.hart.cycles;
  // Every strategy to every other one.
  const pairs = STRATEGIES.flatMap((from) =>
    STRATEGIES.filter((to) => to !== from).map((to) => [from.name, to.name, from, to] as const),
  );

  it.each(pairs)("%s -> %s", (_, __, from, to) => {
    const vm = Vm.create(from, config);
    const out = captured(vm);
    runTo(vm, Math.floor(total * 0.55));
    const restored = Vm.restore(vm.snapshot(), { strategy: to });
    expect(restored.strategy).toBe(to);
    const rest = captured(restored);
    expect(runToEnd(restored).stop).toBe("poweroff");
    expect(out.text + rest.text).toBe(baseOut.text);
    expect(restored.hart.cycles).toBe(total);
    expect(Buffer.from(restored.board.ram).equals(Buffer.from(base.board.ram))).toBe(true);
  });
});
