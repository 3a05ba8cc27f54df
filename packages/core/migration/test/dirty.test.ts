/**
 * Dirty-page logging: after a round, the pages the log reports are exactly
 * the pages whose bytes changed (hart stores, page-table A/D updates, SBI
 * writes), under each strategy; logging changes nothing the guest sees.
 */
import { Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { DirtyLog } from "../src/index.js";
import { captured, kernelConfig, runTo, runToEnd, STRATEGIES } from "./helpers.js";

describe.each(STRATEGIES.map((s) => [s.name, s] as const))("dirty log under %s", (_, strategy) => {
  it("reports every changed page, and the guest runs step for step as without it", () => {
    const config = kernelConfig("forkwait", 200);
    const plain = Vm.create(strategy, config);
    const plainOut = captured(plain);
    runToEnd(plain);

    const vm = Vm.create(strategy, config);
    const out = captured(vm);
    runTo(vm, 1_000_000);
    const log = new DirtyLog(vm);
    log.start();
    for (let round = 0; round < 5; round++) {
      const before = vm.board.ram.slice();
      runTo(vm, vm.hart.cycles + 300_000);
      const dirty = new Set(log.collect());
      const ram = vm.board.ram;
      for (let p = 0; p < log.pages; p++) {
        const off = p * 4096;
        const changed = !Buffer.from(ram.subarray(off, off + 4096)).equals(before.subarray(off, off + 4096));
        if (changed) expect(dirty.has(p), `page ${p} changed but not logged (round ${round})`).toBe(true);
      }
      expect(dirty.size).toBeGreaterThan(0);
    }
    log.stop();
    expect(runToEnd(vm).stop).toBe("poweroff");
    expect(out.text).toBe(plainOut.text);
    expect(vm.hart.cycles).toBe(plain.hart.cycles);
  });
});
