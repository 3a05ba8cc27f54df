/**
 * Dirty-page logging: after a round, the pages the log reports are exactly
 * the pages whose bytes changed (hart stores, page-table A/D updates, SBI
 * writes), under each strategy; logging changes nothing the guest sees.
 */
import { hvkitBootargs } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { Vm } from "@hvkit/hypervisor";
import { MemoryDisk, VirtioBlk, virtioMmio } from "@hvkit/virtio";
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

describe("dirty log and device DMA", () => {
  it("pages a virtio-blk device writes (its reads into guest RAM, used rings) are logged", () => {
    const vm = Vm.create("emulation", {
      kernel: readHvkitImage("hvkit-kernel.elf"),
      cmdline: hvkitBootargs({ workloads: ["io"], sizes: { io: 2048 } }),
      memory: 32 * 1024 * 1024,
      devices: [virtioMmio(new VirtioBlk({ backend: new MemoryDisk(8192 * 512) }))],
    });
    runTo(vm, 1_000_000);
    const log = new DirtyLog(vm);
    log.start();
    // Count DMA writes the way the board reports them, and check each is logged.
    const dma: number[] = [];
    const hart = vm.hart;
    const logged = hart.onRamChanged!;
    hart.onRamChanged = (pa, length) => {
      dma.push(pa);
      logged(pa, length);
    };
    for (let round = 0; round < 4; round++) {
      dma.length = 0;
      const before = vm.board.ram.slice();
      runTo(vm, vm.hart.cycles + 2_000_000);
      const dirty = new Set(log.collect());
      for (let p = 0; p < log.pages; p++) {
        const off = p * 4096;
        const changed = !Buffer.from(vm.board.ram.subarray(off, off + 4096)).equals(
          before.subarray(off, off + 4096),
        );
        if (changed) expect(dirty.has(p), `page ${p} changed but not logged`).toBe(true);
      }
      expect(dma.length, "the device wrote guest RAM").toBeGreaterThan(0);
      for (const pa of dma) expect(dirty.has((pa - vm.board.ramBase) >>> 12)).toBe(true);
    }
    log.stop();
  });
});
