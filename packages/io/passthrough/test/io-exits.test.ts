/**
 * The io workload through the three I/O virtualization techniques, with the
 * exits per block each one costs (the closing table, in orders of
 * magnitude): full emulation ~ one exit per register access (267 per block:
 * 128 data words each way plus command and status registers), virtio ~ one
 * kick per request (2 per block), passthrough 0 register exits. Under
 * emulation nothing exits whatever the backend.
 */
import { describe, expect, it } from "vitest";
import { IO_STRATEGIES, measureIoExits } from "../scripts/io-exits-lib.js";

describe("exits per block of the io workload", () => {
  for (const strategy of IO_STRATEGIES) {
    it(`${strategy.name}: emulated >> virtio >> passthrough`, () => {
      const emulated = measureIoExits(strategy, "emulated", 8, 24);
      const virtio = measureIoExits(strategy, "virtio", 8, 24);
      const pt = measureIoExits(strategy, "passthrough", 8, 24);
      const ram = measureIoExits(strategy, "ramdisk", 8, 24);
      expect([emulated.device, virtio.device, pt.device, ram.device]).toEqual([
        "pio-blk",
        "virtio-blk",
        "virtio-blk",
        "ramdisk",
      ]);
      // What reaches the controllers is the same under every strategy.
      expect(emulated.deviceAccesses).toBe(267);
      expect(virtio.deviceAccesses).toBe(2);
      expect(pt.deviceAccesses).toBe(2);
      // Each block: 3 descriptors a request, 2 requests, each translated by the IOMMU.
      expect(pt.iommuTranslations).toBe(6);
      expect(virtio.iommuTranslations).toBe(0);
      // The console's few extra digits between the runs stay below one exit per block.
      const near = (x: number, want: number) => expect(Math.abs(x - want)).toBeLessThan(1);
      if (strategy.name === "emulation") {
        for (const r of [emulated, virtio, pt]) expect(r.exits).toBe(0);
        return;
      }
      near(emulated.mmioExits, 267);
      near(virtio.mmioExits, 2);
      near(pt.mmioExits, 0);
      near(ram.mmioExits, 0);
      // Besides MMIO, a block costs what the RAM disk's block costs (system calls, sret, csr...).
      near(emulated.exits - emulated.mmioExits, ram.exits);
      near(emulated.exits - virtio.exits, 265);
      near(virtio.exits - pt.exits, 2);
      near(pt.exits, ram.exits);
      expect(emulated.cycles).toBeGreaterThan(virtio.cycles);
      expect(virtio.cycles).toBeGreaterThan(pt.cycles);
    }, 300_000);
  }
});
