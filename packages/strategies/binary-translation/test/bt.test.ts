/**
 * Binary translation against the emulation baseline on guests that exercise
 * what it rewrites: every sensitive instruction of the guest kernel is
 * emulated inline or by a callout, never trapped (no csr, sret, sfence.vma
 * or wfi exits), the guest prints exactly what it prints under emulation,
 * step for step, and the statistics show the translator, the block cache
 * and the rewriter at work. Self-modifying code behaves exactly as under
 * emulation, with and without fence.i.
 */
import { emulation } from "@hvkit/emulation";
import { HypervisorError, type StrategyDefinition, Vm, type VmConfig } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { binaryTranslation, binaryTranslationSfence, binaryTranslationWriteProtect } from "../src/index.js";
import { guestConfig, SENSITIVE_GUEST, SMC_GUEST } from "./guests.js";

/** Translate at first sight, everything reachable: the test guests then run as translated code. */
const eager = binaryTranslation({
  name: "binary-translation (eager)",
  translation: { threshold: 0, profileSteps: 0, missThreshold: 1, discovery: "static" },
});

function runVm(strategy: StrategyDefinition, config: VmConfig) {
  const vm = Vm.create(strategy, config);
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 50_000_000 });
  return { vm, output, result, stats: vm.stats };
}

describe("binary translation: sensitive instructions rewritten, never trapped", () => {
  const config = guestConfig(SENSITIVE_GUEST);
  const base = runVm(emulation, config);

  it("the baseline runs the guest to its end", () => {
    expect(base.result.stop).toBe("poweroff");
    expect(base.output).toMatch(
      /^sum: [0-9a-f]{16}\nticks: 0000000000000003\nuser: 0000000000000258\ndone\n$/,
    );
  });

  it.each([
    ["eager", eager],
    ["default (sfence)", binaryTranslationSfence],
    ["default (write-protect)", binaryTranslationWriteProtect],
  ])(
    "%s: the baseline's output, step for step, with inline emulation and callouts instead of exits",
    (_, strategy) => {
      const bt = runVm(strategy, config);
      expect(bt.result.stop, bt.result.message).toBe("poweroff");
      expect(bt.output).toBe(base.output);
      const s = bt.stats;
      expect(s.instructions.total).toBe(base.stats.instructions.total);
      expect(s.instructions.byMode).toEqual(base.stats.instructions.byMode);
      expect(s.steps).toBe(base.stats.steps);
      // Nothing privileged trapped: only the exits a software VMM cannot translate away.
      for (const reason of ["csr", "sret", "wfi", "sfence.vma"])
        expect(s.exits.byReason[reason], reason).toBeUndefined();
      const c = s.counters;
      expect(c["trap.illegal-instruction"]).toBeUndefined();
      expect(c["bt.inline"]).toBeGreaterThan(300 * 10);
      expect(c["bt.callout.sfence.vma"]).toBe(300);
      expect(c["bt.callout.sret"]).toBeGreaterThanOrEqual(200);
      expect(c["bt.callout.wfi"]).toBeGreaterThan(0);
      expect(c["bt.callout.sbi"]).toBeGreaterThan(0);
      expect(c["bt.callout.csr"]).toBeGreaterThan(0); // stimecmp
      expect(s.cycles.byCategory.callout).toBeGreaterThan(0);
      expect(s.cycles.byCategory.inCacheEmulation).toBeGreaterThan(0);
      expect(s.cycles.byCategory.translatePerInstruction).toBeGreaterThan(0);
      // What still exits: the guest's own traps and interrupts (200 user ecalls, 3 timer ticks).
      expect(s.exits.byReason.exception).toBe(200);
      expect(s.exits.byReason.interrupt).toBe(3);
    },
  );

  it("eager: the guest runs as translated code, chained inside the cache", () => {
    const bt = runVm(eager, config);
    const c = bt.stats.counters;
    expect(c["bt.blocksTranslated"]).toBeGreaterThan(20);
    expect(c["bt.instructionsTranslated"]).toBeGreaterThan(100);
    expect(c["bt.cacheHits"]).toBeGreaterThan(500);
    expect(c["bt.blocksExecuted"]).toBeGreaterThan(1000);
    expect(c["bt.chained"]).toBeGreaterThan(300);
    // Guest time is the baseline's, so the guest cannot tell which engine ran it.
    expect(bt.vm.hart.cycles).toBe(base.vm.hart.cycles);
  });

  it("the modeled costs follow the p4-2006 profile: callouts and in-cache emulation, no trap-and-emulate", () => {
    const bt = runVm(eager, { ...config, costProfile: "p4-2006" });
    const s = bt.stats;
    expect(s.cycles.profile).toBe("p4-2006");
    expect(s.cycles.byCategory.callout).toBe(s.counters["bt.callouts"]! * 1254);
    expect(s.cycles.byCategory.inCacheEmulation).toBe(s.counters["bt.inline"]! * 216);
    expect(s.cycles.byCategory.translatePerInstruction).toBe(s.counters["bt.decodedInstructions"]! * 200);
  });
});

describe("binary translation: self-modifying code", () => {
  const config = guestConfig(SMC_GUEST);
  const base = runVm(emulation, config);

  it("the baseline sees every patch at once (with and without fence.i)", () => {
    expect(base.result.stop).toBe("poweroff");
    // 100 calls returned 1, 200 returned 5; the next instruction alternated 7 and 9; the body 2, 3, 2, 2...
    expect(base.output).toContain(`func: ${(100 + 200 * 5).toString(16).padStart(16, "0")}`);
    expect(base.output).toContain(`next: ${(100 * 7 + 100 * 9).toString(16).padStart(16, "0")}`);
  });

  it.each([
    ["eager", eager],
    ["default", binaryTranslationSfence],
  ])("%s: the same results, step for step, and translated pages invalidated", (name, strategy) => {
    const bt = runVm(strategy, config);
    expect(bt.result.stop, bt.result.message).toBe("poweroff");
    expect(bt.output).toBe(base.output);
    expect(bt.stats.steps).toBe(base.stats.steps);
    if (name === "eager") expect(bt.stats.counters["bt.invalidations"]).toBeGreaterThan(100);
  });
});

describe("binary translation: configuration", () => {
  it("refuses an M-mode firmware and bad options with typed errors", () => {
    expect(() => binaryTranslation({ shadow: "nope" as never })).toThrow(HypervisorError);
    expect(() => binaryTranslation({ shadowMemory: 1000 })).toThrow(/multiple of 4 KiB/);
    expect(() =>
      Vm.create(binaryTranslationSfence, { ...guestConfig(SENSITIVE_GUEST), firmware: new Uint8Array(4096) }),
    ).toThrow(/firmware/);
  });

  it("names its techniques", () => {
    expect(binaryTranslationSfence.name).toBe("binary-translation");
    expect(binaryTranslationWriteProtect.name).toBe("binary-translation+wp");
    expect(binaryTranslationSfence.techniques).toEqual({
      cpu: "binary-translation",
      memory: "shadow-paging",
      io: ["emulated", "virtio", "passthrough"],
    });
  });
});
