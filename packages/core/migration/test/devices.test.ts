/**
 * Snapshots with virtio devices and console input in flight: the
 * transports' queue state, the rng's generator and input not yet delivered
 * to the UART travel in the snapshot; the disk's contents do not (the
 * snapshot carries a reference), so the test reopens a copy of the image as
 * it was at the snapshot. The restored guest prints exactly what the
 * uninterrupted run prints and leaves the same bytes on the disk.
 */
import { hvkitBootargs } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { inspectSnapshot, Vm, type VmConfig } from "@hvkit/hypervisor";
import { MemoryDisk, VirtioBlk, VirtioRng, virtioMmio } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import { captured, runTo, runToEnd } from "./helpers.js";

const SECTORS = 8192;
const kernel = readHvkitImage("hvkit-kernel.elf");

function config(disk: MemoryDisk): VmConfig {
  return {
    kernel,
    cmdline: hvkitBootargs({ workloads: ["selftest", "io"], sizes: { io: 512 } }),
    memory: 32 * 1024 * 1024,
    devices: [virtioMmio(new VirtioBlk({ backend: disk })), virtioMmio(new VirtioRng({ seed: 7 }))],
  };
}

describe("virtio devices in snapshots", () => {
  const baseDisk = new MemoryDisk(SECTORS * 512);
  const base = Vm.create("emulation", config(baseDisk));
  const baseOut = captured(base);
  runToEnd(base);
  const total = base.hart.cycles;

  it.each(["emulation", "trap-and-emulate", "hardware-assisted"])(
    "a snapshot mid-I/O restored under %s continues exactly, disk included",
    (strategy) => {
      const disk = new MemoryDisk(SECTORS * 512);
      const vm = Vm.create("emulation", config(disk));
      const out = captured(vm);
      runTo(vm, Math.floor(total * 0.6));
      expect(out.text).toContain("virtio-blk");
      const snap = vm.snapshot({ disks: [{ slot: 0, path: "memory:disk0", format: "raw" }] });
      expect(inspectSnapshot(snap).disks).toEqual([{ slot: 0, path: "memory:disk0", format: "raw" }]);
      // Reopen "the same image": its bytes as they were when the snapshot was taken.
      const reopened = new MemoryDisk(disk.data.slice());
      const restored = Vm.restore(snap, {
        strategy,
        devices: [virtioMmio(new VirtioBlk({ backend: reopened })), virtioMmio(new VirtioRng({ seed: 7 }))],
      });
      const rest = captured(restored);
      expect(runToEnd(restored).stop).toBe("poweroff");
      expect(out.text + rest.text).toBe(baseOut.text);
      expect(Buffer.from(reopened.data).equals(Buffer.from(baseDisk.data))).toBe(true);
      expect(restored.hart.cycles).toBe(total);
    },
  );

  it("refuses a snapshot while an asynchronous backend has a request in flight (SNAPSHOT_BUSY), then takes it once it completed", async () => {
    const disk = new MemoryDisk(SECTORS * 512);
    let release: (() => void) | undefined;
    // A backend whose writes complete later (a promise), like a file on a slow device.
    const slow = {
      sectors: disk.sectors,
      read: (sector: number, count: number, into: Uint8Array) => disk.read(sector, count, into),
      write: (sector: number, data: Uint8Array) => {
        disk.write(sector, data);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    };
    const vm = Vm.create("emulation", {
      ...config(disk),
      devices: [virtioMmio(new VirtioBlk({ backend: slow })), virtioMmio(new VirtioRng({ seed: 7 }))],
    });
    let busy = false;
    for (let i = 0; i < 400 && !busy; i++) {
      vm.run({ steps: 100_000 });
      if (release) {
        expect(() => vm.snapshot()).toThrow(expect.objectContaining({ code: "SNAPSHOT_BUSY" }));
        busy = true;
      }
    }
    expect(busy).toBe(true);
    release!();
    await new Promise((r) => setTimeout(r, 0));
    expect(vm.snapshot().length).toBeGreaterThan(0);
  });

  it("refuses a restore without the devices the snapshot had", () => {
    const vm = Vm.create("emulation", config(new MemoryDisk(SECTORS * 512)));
    runTo(vm, 1_000_000);
    expect(() => Vm.restore(vm.snapshot())).toThrow(expect.objectContaining({ code: "SNAPSHOT_MISMATCH" }));
  });
});

describe("console input in flight", () => {
  const input = "hello, hvkit\n";
  const cfg: VmConfig = {
    kernel,
    cmdline: hvkitBootargs({ workloads: ["echo"], sizes: {} }),
    memory: 32 * 1024 * 1024,
  };
  function start(strategy: string) {
    const vm = Vm.create(strategy, cfg);
    const out = captured(vm);
    vm.writeInput(new TextEncoder().encode(input));
    return { vm, out };
  }

  // The VMM core hands queued input to the UART between run slices, whose boundaries
  // depend on the strategy's exits: input-driven runs are compared within one strategy.
  it.each(["emulation", "trap-and-emulate"].flatMap((s) => [0.3, 0.6, 0.9].map((f) => [s, f] as const)))(
    "%s, snapshot at %f of the run: the rest of the input arrives exactly",
    (strategy, fraction) => {
      const whole = start(strategy);
      runToEnd(whole.vm);
      const at = Math.floor(whole.vm.hart.cycles * fraction);
      const { vm, out } = start(strategy);
      runTo(vm, at);
      const restored = Vm.restore(vm.snapshot());
      const rest = captured(restored);
      expect(runToEnd(restored).stop).toBe("poweroff");
      expect(out.text + rest.text).toBe(whole.out.text);
      expect(restored.hart.cycles).toBe(whole.vm.hart.cycles);
    },
  );
});
