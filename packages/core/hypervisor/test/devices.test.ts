/**
 * VmConfig.devices: factories for the board's virtio-mmio slots, validated
 * (at most 8), wired into the board, their DMA writes reaching the strategy
 * (guestMemoryWritten), their counters in vm.stats, and their kicks charged
 * as virtqueueNotify under every strategy but emulation.
 */
import { Cause, PRV_S } from "@hvkit/cpu";
import { assembleElf } from "@hvkit/isa";
import type { Device, VirtioSlotContext, VirtioSlotFactory } from "@hvkit/machine";
import { describe, expect, it } from "vitest";
import { HypervisorError, resolveConfig, type StrategyDefinition, Vm } from "../src/index.js";

const KERNEL = 0x80200000n;
const kernel = assembleElf(
  `
_start:
  li t0, 0x10002000   # slot 1
  li t1, 1
  sw t1, 0(t0)        # the device DMA-writes 4 bytes at buf and counts a kick
  sw t1, 0(t0)
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354   # SBI system reset: power off
  ecall
1: j 1b
.data
buf: .zero 8
`,
  { base: KERNEL, compress: false },
);

/** A slot device: each register write DMA-writes 4 bytes at the kernel's data and counts a notification. */
function kicker(target: () => number): VirtioSlotFactory {
  return (ctx: VirtioSlotContext) => {
    let notifications = 0;
    const dev: Device & { counters(): Record<string, number> } = {
      name: `virtio${ctx.slot}-test`,
      size: 0x1000,
      badAccesses: 0,
      read: () => 0,
      write() {
        notifications++;
        ctx.ram.set([1, 2, 3, 4], target() - ctx.ramBase);
        ctx.dmaWritten(target(), 4);
      },
      counters: () => ({ notifications, requests: notifications }),
    };
    return dev;
  };
}

function strategy(cpu: "emulation" | "trap-and-emulate", writes: [number, number][]): StrategyDefinition {
  return {
    name: `test-${cpu}`,
    description: "test",
    techniques: { cpu, memory: "native", io: ["virtio"] },
    create: () => ({
      start() {},
      handleExit: (e) => e.cause === Cause.ECALL_S && e.mode === PRV_S,
      guestMemoryWritten: (pa, n) => writes.push([pa, n]),
    }),
  };
}

describe("VmConfig.devices", () => {
  it("defaults to none and refuses what is not a list of factories", () => {
    expect(resolveConfig({ kernel }).devices).toEqual([]);
    expect(() => resolveConfig({ kernel, devices: [{}] as never })).toThrowError(/slot factories/);
    expect(() => resolveConfig({ kernel, devices: "blk" as never })).toThrowError(HypervisorError);
  });

  it("refuses more devices than the board has slots with HV_TOO_MANY_DEVICES", () => {
    const nine = Array.from({ length: 9 }, () => kicker(() => 0));
    try {
      resolveConfig({ kernel, devices: nine });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HypervisorError);
      expect((e as HypervisorError).code).toBe("HV_TOO_MANY_DEVICES");
      expect((e as Error).message).toMatch(/9 devices; the board has 8 virtio-mmio slots/);
    }
    expect(resolveConfig({ kernel, devices: nine.slice(1) }).devices).toHaveLength(8);
  });

  it("puts the devices in the board's slots, in order; DMA reaches the strategy; counters reach vm.stats", () => {
    const writes: [number, number][] = [];
    let buf = 0;
    const vm = Vm.create(strategy("trap-and-emulate", writes), {
      kernel,
      memory: 32 << 20,
      devices: [kicker(() => buf), kicker(() => buf)],
    });
    buf = Number(KERNEL) + 0x1000; // a RAM address past the kernel's code
    expect(vm.board.virtio.map((d) => d.name).slice(0, 3)).toEqual([
      "virtio0-test",
      "virtio1-test",
      "virtio2",
    ]);
    expect(vm.run({ steps: 100_000 }).stop).toBe("poweroff");
    expect(writes).toEqual([
      [buf, 4],
      [buf, 4],
    ]);
    const stats = vm.stats;
    expect(stats.counters["virtio1-test.notifications"]).toBe(2);
    expect(stats.counters["virtio0-test.notifications"]).toBe(0);
    expect(vm.deviceCounters()["virtio1-test.requests"]).toBe(2);
    expect(stats.cycles.byCategory.virtqueueNotify).toBe(2 * 300); // modern profile: 300 cycles a kick
  });

  it("under emulation a kick is the device's business, not VMM work: no virtqueueNotify cycles", () => {
    const vm = Vm.create(strategy("emulation", []), {
      kernel,
      memory: 32 << 20,
      devices: [kicker(() => Number(KERNEL) + 0x1000), kicker(() => Number(KERNEL) + 0x1000)],
    });
    expect(vm.run({ steps: 100_000 }).stop).toBe("poweroff");
    expect(vm.stats.counters["virtio1-test.notifications"]).toBe(2);
    expect(vm.stats.cycles.byCategory.virtqueueNotify).toBe(0);
  });
});
