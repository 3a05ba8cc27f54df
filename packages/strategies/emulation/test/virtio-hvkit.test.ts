/**
 * hvkit-kernel's block layer over virtio-blk under the emulation strategy:
 * the kernel finds the device in the devicetree (a virtio,mmio node whose
 * device answers DeviceID 2), drives it with a polled three-descriptor
 * chain per sector, and its io and selftest workloads print the CHECK lines
 * they print over the RAM disk. The backends are @hvkit/virtio's MemoryDisk
 * and @hvkit/disk's raw and qcow2 images; a block costs one MMIO access (the
 * queue notification) and no interrupt.
 */
import { createQcow2, MemoryStore, RawImage } from "@hvkit/disk";
import { hvkitBootargs, parseHvkitOutput } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { Vm, type VmConfig } from "@hvkit/hypervisor";
import { type BlockBackend, MemoryDisk, VirtioBlk, VirtioRng, virtioMmio } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import { emulation } from "../src/index.js";

const MIB = 1024 * 1024;
const SECTORS = 8192;

function boot(cmdline: string, devices: VmConfig["devices"] = [], image: "native" | "pv" = "native") {
  const vm = Vm.create(emulation, {
    kernel: readHvkitImage(image === "pv" ? "hvkit-kernel-pv.elf" : "hvkit-kernel.elf"),
    cmdline,
    memory: 64 * MIB,
    devices,
  });
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 400_000_000 });
  return { vm, output, result, parsed: parseHvkitOutput(output) };
}

const checks = (r: ReturnType<typeof boot>) => r.parsed.checks.map((c) => c.line);

/** CRC-32 (IEEE), to compare the disk's bytes with the io workload's CHECK crc32. */
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("hvkit-kernel over virtio-blk (emulation)", () => {
  const n = 256;
  const cmdline = hvkitBootargs({ workloads: ["selftest", "io"], sizes: { io: n } });
  const ramDisk = boot(cmdline);

  it.each(["native", "pv"] as const)(
    "%s build: the same CHECK lines as over the RAM disk, the data on the device",
    (build) => {
      expect(ramDisk.parsed.doneStatus).toBe(0);
      expect(ramDisk.output).not.toMatch(/virtio-blk/);
      const disk = new MemoryDisk(SECTORS * 512);
      const dev = new VirtioBlk({ backend: disk });
      const r = boot(cmdline, [virtioMmio(dev)], build);
      expect(r.result.stop).toBe("poweroff");
      expect(r.output).toContain(`hvkit-kernel: block device virtio-blk at 0x10001000, ${SECTORS} sectors\n`);
      expect(r.parsed.doneStatus).toBe(0);
      expect(checks(r)).toEqual(checks(ramDisk));
      // What the io workload wrote is on the disk: its CHECK crc32 covers sectors 0..n-1.
      const io = r.parsed.checks.find((c) => c.workload === "io")!;
      expect(
        `0x${crc32(disk.data.subarray(0, n * 512))
          .toString(16)
          .padStart(8, "0")}`,
      ).toBe(io.fields.crc32);
      // Every block is one request and one notification; the polled driver wants no interrupts.
      expect(dev.counters.reads).toBe(n + 2); // io's reads, selftest's read-back and its bad-pointer read
      expect(dev.counters.writes).toBe(n + 1);
      expect(dev.counters.notifications).toBe(dev.counters.requests);
      expect(dev.counters.interrupts).toBe(0);
      expect(dev.counters.errors).toBe(0);
      expect(r.vm.stats.counters["virtio0-blk.notifications"]).toBe(dev.counters.notifications);
    },
  );

  it("finds the block device behind other virtio devices, in any slot", () => {
    const disk = new MemoryDisk(SECTORS * 512);
    const r = boot(hvkitBootargs({ workloads: ["io"], n: 16 }), [
      virtioMmio(new VirtioRng()),
      virtioMmio(new VirtioRng({ seed: 1 })),
      virtioMmio(new VirtioBlk({ backend: disk })),
    ]);
    expect(r.output).toContain("block device virtio-blk at 0x10003000");
    expect(r.parsed.doneStatus).toBe(0);
  });

  it("a read-only disk: writes fail cleanly (the io workload reports FAIL), reads work", () => {
    const disk = new MemoryDisk(SECTORS * 512, { readOnly: true });
    const r = boot(hvkitBootargs({ workloads: ["io"], n: 8 }), [
      virtioMmio(new VirtioBlk({ backend: disk })),
    ]);
    expect(r.output).toContain(`${SECTORS} sectors, read-only`);
    expect(r.parsed.checks[0]!.ok).toBe(false);
    expect(r.parsed.doneStatus).toBe(1);
    expect(r.result.stop).toBe("poweroff");
  });

  it("over @hvkit/disk images (raw and qcow2 in memory): the same CHECK lines, the data in the image", () => {
    const raw = new RawImage(new MemoryStore(SECTORS * 512));
    const qcow2 = createQcow2(new MemoryStore(), { size: SECTORS * 512 });
    for (const image of [raw, qcow2] as BlockBackend[]) {
      const r = boot(cmdline, [virtioMmio(new VirtioBlk({ backend: image }))]);
      expect(checks(r)).toEqual(checks(ramDisk));
      const io = r.parsed.checks.find((c) => c.workload === "io")!;
      const back = new Uint8Array(n * 512);
      image.read(0, n, back);
      expect(`0x${crc32(back).toString(16).padStart(8, "0")}`).toBe(io.fields.crc32);
    }
  });

  it("costs one MMIO access and one notification per block, no interrupt (io workload, by differencing n and 2n)", () => {
    const run = (blocks: number) => {
      const dev = new VirtioBlk({ backend: new MemoryDisk(SECTORS * 512) });
      const r = boot(hvkitBootargs({ workloads: ["io"], n: blocks }), [virtioMmio(dev)]);
      const c = r.vm.board.counters();
      const slot = c.devices["virtio0-blk"]!;
      return {
        mmio: slot.reads + slot.writes,
        notifications: dev.counters.notifications,
        interrupts: dev.counters.interrupts,
        plic: c.plic.claims,
        exits: r.vm.stats.exits.total,
      };
    };
    const a = run(512);
    const b = run(1024);
    const blocks = 2 * (1024 - 512); // each io sector is written once and read once
    expect((b.mmio - a.mmio) / blocks).toBe(1);
    expect((b.notifications - a.notifications) / blocks).toBe(1);
    expect(b.interrupts - a.interrupts).toBe(0);
    expect(b.plic - a.plic).toBe(0);
    // Under emulation a device access is no exit; only SBI calls exit (timer, console).
    expect(b.exits - a.exits).toBeLessThan(blocks / 10);
  });
});
