/**
 * The paravirtual block path: hvkit-kernel-pv.elf drives a virtio-blk
 * device whose split ring lives in guest memory (the frontend/backend pair
 * shares it, as Xen's blkfront/blkback share theirs) and kicks it with the
 * PV_BLK_NOTIFY hypercall instead of an MMIO store to QueueNotify. The
 * selftest and io workloads give the native build's output under emulation,
 * the same bytes land on the disk, and each block costs one hypercall and
 * no MMIO exit (device setup is still MMIO, emulated).
 */
import { emulation } from "@hvkit/emulation";
import { hvkitBootargs } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { MemoryDisk, VirtioBlk, virtioMmio } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import { paravirt } from "../src/index.js";

const SECTORS = 8192;
const N = 64;
const cmdline = (n: number) => hvkitBootargs({ workloads: ["selftest", "io"], sizes: { io: n } });

function boot(strategy: StrategyDefinition, image: "hvkit-kernel.elf" | "hvkit-kernel-pv.elf", n = N) {
  const disk = new MemoryDisk(SECTORS * 512);
  const dev = new VirtioBlk({ backend: disk });
  const vm = Vm.create(strategy, {
    kernel: readHvkitImage(image),
    cmdline: cmdline(n),
    memory: 64 * 1024 * 1024,
    devices: [virtioMmio(dev)],
  });
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 400_000_000 });
  return { vm, dev, disk, output, result };
}

const comparable = (s: string) =>
  s
    .split("\n")
    .filter((l) => !l.startsWith("MEASURE "))
    .join("\n")
    .replace(/\((native|pv) build\)/, "(build)");

describe("block I/O through the shared ring and PV_BLK_NOTIFY", () => {
  it("gives the native build's output and disk under emulation, one hypercall and no MMIO exit per block", () => {
    const native = boot(emulation, "hvkit-kernel.elf");
    const pv = boot(paravirt, "hvkit-kernel-pv.elf");
    expect(native.result).toEqual({ stop: "poweroff", exitStatus: 0 });
    expect(native.output).toContain("block device virtio-blk at 0x10001000");
    expect(pv.result, pv.output).toEqual(native.result);
    expect(comparable(pv.output)).toBe(comparable(native.output));
    expect(pv.disk.data).toEqual(native.disk.data);
    const s = pv.vm.stats;
    const kicks = pv.dev.counters.notifications;
    expect(kicks).toBe(pv.dev.counters.requests);
    expect(kicks).toBeGreaterThan(2 * N);
    expect(s.hypercalls.byName["pv.blk_notify"]).toBe(kicks);
    // MMIO exits are the device's setup: twice the blocks, the same exits.
    const twice = boot(paravirt, "hvkit-kernel-pv.elf", 2 * N);
    expect(twice.result).toEqual(pv.result);
    expect(twice.dev.counters.notifications).toBe(kicks + 2 * N);
    expect(twice.vm.stats.exits.byReason.mmio).toBe(s.exits.byReason.mmio);
    expect(s.counters["pv.privileged.unexpected"]).toBe(0);
  }, 300_000);
});
