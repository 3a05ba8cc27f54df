/**
 * The hvkit kernel's io workload through the programmed-I/O controller
 * (kern/pio_blk.c) under emulation, trap-and-emulate and hardware-assisted:
 * the data comes back intact, and every register access is an MMIO exit
 * under the strategies that virtualize the guest (128 data words per sector
 * each way, plus command and status registers).
 */
import { emulation } from "@hvkit/emulation";
import { readHvkitImage } from "@hvkit/guests/node";
import { hardwareAssistedNested } from "@hvkit/hardware-assisted";
import { type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { trapAndEmulateSfence } from "@hvkit/trap-and-emulate";
import { MemoryDisk } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import { pioBlk } from "../src/index.js";

function io(strategy: StrategyDefinition, n: number) {
  const disk = new MemoryDisk(1 << 20);
  const vm = Vm.create(strategy, {
    kernel: readHvkitImage("hvkit-kernel.elf"),
    cmdline: `workload=io n=${n}`,
    memory: 64 * 1024 * 1024,
    devices: [pioBlk({ backend: disk })],
  });
  let out = "";
  const dec = new TextDecoder();
  vm.onOutput((b) => {
    out += dec.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 500_000_000 });
  const dev = vm.board.counters().devices;
  const accesses = (name: string) => (dev[name] ? dev[name].reads + dev[name].writes : 0);
  let all = 0;
  for (const name of Object.keys(dev)) all += accesses(name);
  return {
    result,
    out,
    stats: vm.stats,
    disk,
    pio: accesses("pio0-blk"),
    console: accesses("uart0"),
    all,
    uartBytes: vm.board.counters().uart.bytesOut,
  };
}

describe("io workload through pio-blk", () => {
  for (const strategy of [emulation, trapAndEmulateSfence, hardwareAssistedNested]) {
    it(`${strategy.name}: data intact, ${strategy.name === "emulation" ? "no exits" : "~267 MMIO exits per block"}`, () => {
      const a = io(strategy, 8);
      const b = io(strategy, 16);
      for (const r of [a, b]) {
        expect(r.result).toEqual({ stop: "poweroff", exitStatus: 0 });
        expect(r.out).toContain("block device pio-blk at 0x10001000, 2048 sectors");
        expect(r.out).toMatch(/CHECK io n=\d+ bytes=\d+ crc32=0x[0-9a-f]+ mismatched=0 ok/);
      }
      const per = (k: (s: typeof a.stats) => number) => (k(b.stats) - k(a.stats)) / 8;
      // Each block is written once and read once: 2 x 128 data words.
      expect(per((s) => s.counters["pio0-blk.dataWords"]!)).toBe(256);
      expect(per((s) => s.counters["pio0-blk.commands"]!)).toBe(2);
      // Write: 4 command writes, 1 status read, 128 data words, 1 status read; read: 4 + 1 + 128.
      expect((b.pio - a.pio) / 8).toBe(267);
      const mmio = per((s) => s.exits.byReason.mmio ?? 0);
      if (strategy === emulation) expect(mmio).toBe(0);
      // Every controller access exits; the rest is the console (its output differs by a few digits).
      else expect(mmio - (b.console - a.console) / 8).toBe(267);
      if (strategy !== emulation) {
        // Full emulation: every access to an emulated device, the UART's included, is one MMIO exit.
        for (const r of [a, b]) expect(r.stats.exits.byReason.mmio).toBe(r.all);
        expect(b.console).toBeGreaterThanOrEqual(b.uartBytes);
      }
    }, 120_000);
  }
});
