/**
 * Exits per block of the hvkit kernel's io workload through each block
 * backend (RAM disk, emulated pio-blk, virtio-blk, assigned passthrough
 * device) under each strategy: two runs, n = small and n = large blocks
 * (each block written once and read once), differenced, so boot and
 * console output cancel out. Shared by the test and the table script.
 */
import { binaryTranslationSfence } from "@hvkit/binary-translation";
import { emulation } from "@hvkit/emulation";
import { readHvkitImage } from "@hvkit/guests/node";
import { hardwareAssistedNested, hardwareAssistedShadow } from "@hvkit/hardware-assisted";
import { type StrategyDefinition, Vm, type VmStats } from "@hvkit/hypervisor";
import { pioBlk } from "@hvkit/io-emulated";
import type { VirtioSlotFactory } from "@hvkit/machine";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "@hvkit/trap-and-emulate";
import { MemoryDisk, VirtioBlk, virtioMmio } from "@hvkit/virtio";
import { passthrough } from "../src/index.js";

/** The block backends compared. */
export const IO_BACKENDS = ["ramdisk", "emulated", "virtio", "passthrough"] as const;
export type IoBackend = (typeof IO_BACKENDS)[number];

/** The strategies compared. */
export const IO_STRATEGIES: readonly StrategyDefinition[] = [
  emulation,
  trapAndEmulateSfence,
  trapAndEmulateWriteProtect,
  binaryTranslationSfence,
  hardwareAssistedNested,
  hardwareAssistedShadow,
];

/** The device name each backend's controller gets in slot 0 (its bus counters). */
const DEVICE: Record<IoBackend, string | undefined> = {
  ramdisk: undefined,
  emulated: "pio0-blk",
  virtio: "virtio0-blk",
  passthrough: "pt0-blk",
};

function devices(backend: IoBackend): VirtioSlotFactory[] {
  const disk = new MemoryDisk(4 << 20);
  switch (backend) {
    case "ramdisk":
      return [];
    case "emulated":
      return [pioBlk({ backend: disk })];
    case "virtio":
      return [virtioMmio(new VirtioBlk({ backend: disk }))];
    case "passthrough":
      return [passthrough({ backend: disk })];
  }
}

interface Run {
  stats: VmStats;
  output: string;
  /** Register accesses that reached the block controller. */
  deviceAccesses: number;
}

function run(strategy: StrategyDefinition, backend: IoBackend, n: number): Run {
  const vm = Vm.create(strategy, {
    kernel: readHvkitImage("hvkit-kernel.elf"),
    cmdline: `workload=io n=${n}`,
    memory: 64 * 1024 * 1024,
    devices: devices(backend),
  });
  let output = "";
  const dec = new TextDecoder();
  vm.onOutput((b) => {
    output += dec.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 4_000_000_000 });
  if (result.stop !== "poweroff" || result.exitStatus !== 0 || !/CHECK io .* mismatched=0 ok/.test(output)) {
    throw new Error(
      `io workload n=${n} through ${backend} under ${strategy.name} failed: ${JSON.stringify(result)}\n${output}`,
    );
  }
  const name = DEVICE[backend];
  const c = name ? vm.board.counters().devices[name] : undefined;
  return { stats: vm.stats, output, deviceAccesses: c ? c.reads + c.writes : 0 };
}

/** One cell of the table: per block (one sector written and read back). */
export interface IoExitsRow {
  strategy: string;
  backend: IoBackend;
  /** The block device the kernel reported ("virtio-blk", "pio-blk", "ramdisk"). */
  device: string;
  /** VMM exits per block, all reasons. */
  exits: number;
  /** MMIO exits per block. */
  mmioExits: number;
  /** Register accesses that reached the controller per block (exits or not). */
  deviceAccesses: number;
  /** IOMMU translations per block (passthrough). */
  iommuTranslations: number;
  /** Guest instructions per block. */
  instructions: number;
  /** Modeled cycles per block (the VM's cost profile). */
  cycles: number;
}

/** Measure one cell by differencing runs of `small` and `large` blocks. */
export function measureIoExits(
  strategy: StrategyDefinition,
  backend: IoBackend,
  small = 32,
  large = 96,
): IoExitsRow {
  const a = run(strategy, backend, small);
  const b = run(strategy, backend, large);
  const per = (f: (r: Run) => number): number => (f(b) - f(a)) / (large - small);
  const device = /block device (\S+)/.exec(b.output)?.[1] ?? "ramdisk";
  return {
    strategy: strategy.name,
    backend,
    device,
    exits: per((r) => r.stats.exits.total),
    mmioExits: per((r) => r.stats.exits.byReason.mmio ?? 0),
    deviceAccesses: per((r) => r.deviceAccesses),
    iommuTranslations: per((r) => r.stats.counters["pt0-blk.iommu.translations"] ?? 0),
    instructions: per((r) => r.stats.instructions.total),
    cycles: per((r) => r.stats.cycles.total),
  };
}
