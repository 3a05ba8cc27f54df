/**
 * The bus: mapping rules (typed errors for overlaps and ranges past 4 GiB),
 * offset translation, 8-byte splitting for narrow devices, and guest
 * accesses to holes as access faults plus counters.
 */
import { describe, expect, it } from "vitest";
import { type AccessSize, Bus, type Device, MachineError } from "../src/index.js";

/** A device that records what it sees and reads back offset-derived values. */
class Recorder implements Device {
  readonly log: string[] = [];
  badAccesses = 0;
  readHi = 0;
  constructor(
    readonly name: string,
    readonly size: number,
    readonly wide = false,
  ) {}
  read(offset: number, size: AccessSize): number {
    this.log.push(`r${size}@${offset.toString(16)}`);
    if (size === 8) this.readHi = 0x1234_5678;
    return (0xa0b0c0d0 + offset) >>> 0;
  }
  write(offset: number, size: AccessSize, lo: number, hi: number): void {
    this.log.push(`w${size}@${offset.toString(16)}=${lo.toString(16)}:${hi.toString(16)}`);
  }
}

function code(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MachineError) return e.code;
    throw e;
  }
  return "no error";
}

describe("mapping", () => {
  it("refuses overlapping ranges with MACHINE_BUS_OVERLAP, naming both devices", () => {
    const bus = new Bus();
    bus.map(0x1000, new Recorder("a", 0x1000));
    expect(code(() => bus.map(0x1800, new Recorder("b", 0x1000)))).toBe("MACHINE_BUS_OVERLAP");
    expect(code(() => bus.map(0x0800, new Recorder("b", 0x1000)))).toBe("MACHINE_BUS_OVERLAP");
    expect(code(() => bus.map(0x0000, new Recorder("b", 0x4000)))).toBe("MACHINE_BUS_OVERLAP");
    expect(() => bus.map(0x1fff, new Recorder("b", 1))).toThrow(/overlaps a at 0x1000..0x2000/);
    // Touching ranges are fine.
    bus.map(0x2000, new Recorder("c", 0x1000));
    bus.map(0x0, new Recorder("d", 0x1000));
    expect(bus.mappings().map((m) => m.device.name)).toEqual(["d", "a", "c"]);
  });

  it("refuses ranges past 4 GiB, empty or fractional ones with MACHINE_BUS_RANGE", () => {
    const bus = new Bus();
    expect(code(() => bus.map(0xffff_f000, new Recorder("x", 0x2000)))).toBe("MACHINE_BUS_RANGE");
    expect(code(() => bus.map(2 ** 32, new Recorder("x", 1)))).toBe("MACHINE_BUS_RANGE");
    expect(code(() => bus.map(-4, new Recorder("x", 8)))).toBe("MACHINE_BUS_RANGE");
    expect(code(() => bus.map(0, new Recorder("x", 0)))).toBe("MACHINE_BUS_RANGE");
    expect(code(() => bus.map(0.5, new Recorder("x", 4)))).toBe("MACHINE_BUS_RANGE");
    bus.map(0xffff_f000, new Recorder("top", 0x1000)); // ends exactly at 4 GiB
    expect(bus.find(0xffff_ffff)?.device.name).toBe("top");
  });

  it("unmap removes a device; find reports base and device", () => {
    const bus = new Bus();
    const a = new Recorder("a", 0x100);
    bus.map(0x5000, a);
    expect(bus.find(0x50ff)).toEqual({ base: 0x5000, device: a });
    expect(bus.unmap(a)).toBe(true);
    expect(bus.unmap(a)).toBe(false);
    expect(bus.find(0x5000)).toBeUndefined();
  });
});

describe("guest accesses", () => {
  it("devices see offsets, never absolute addresses", () => {
    const bus = new Bus();
    const a = new Recorder("a", 0x100);
    const b = new Recorder("b", 0x100);
    bus.map(0x1000_0000, a);
    bus.map(0x1000_1000, b);
    expect(bus.load(0x1000_0010, 4)).toBe(true);
    expect(bus.dataLo).toBe(0xa0b0c0e0);
    expect(bus.store(0x1000_1004, 1, 0x1ff, 0)).toBe(true);
    expect(a.log).toEqual(["r4@10"]);
    expect(b.log).toEqual(["w1@4=ff:0"]); // the bus masks the value to the access size
  });

  it("masks narrow reads to their size (zero-extended)", () => {
    const bus = new Bus();
    bus.map(0, new Recorder("a", 0x100));
    bus.load(0, 1);
    expect(bus.dataLo).toBe(0xd0);
    bus.load(0, 2);
    expect(bus.dataLo).toBe(0xc0d0);
    expect(bus.dataHi).toBe(0);
  });

  it("splits 8-byte accesses into two 4-byte ones, low address first, unless the device is wide", () => {
    const bus = new Bus();
    const narrow = new Recorder("n", 0x100);
    const wide = new Recorder("w", 0x100, true);
    bus.map(0x0, narrow);
    bus.map(0x100, wide);
    bus.load(0x8, 8);
    expect([bus.dataLo, bus.dataHi]).toEqual([0xa0b0c0d8, 0xa0b0c0dc]);
    bus.store(0x8, 8, 0x11, 0x22);
    expect(narrow.log).toEqual(["r4@8", "r4@c", "w4@8=11:0", "w4@c=22:0"]);
    bus.load(0x108, 8);
    expect([bus.dataLo, bus.dataHi]).toEqual([0xa0b0c0d8, 0x12345678]);
    bus.store(0x108, 8, 0x11, 0x22);
    expect(wide.log).toEqual(["r8@8", "w8@8=11:22"]);
    expect(bus.mappings().map((m) => [m.reads, m.writes])).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });

  it("an access to a hole or running off a device's end is a fault and is counted, never a throw", () => {
    const bus = new Bus();
    bus.map(0x1000, new Recorder("a", 0x10));
    expect(bus.load(0x0, 4)).toBe(false);
    expect(bus.load(0x100c, 8)).toBe(false); // crosses the end
    expect(bus.store(0x2000, 4, 0, 0)).toBe(false);
    expect(bus.store(0xffff_ffff, 1, 0, 0)).toBe(false);
    expect(bus.load(2 ** 32 + 0x1000, 4)).toBe(false);
    expect([bus.unmappedReads, bus.unmappedWrites]).toEqual([3, 2]);
  });

  it("finds the right device among many, in any access order", () => {
    const bus = new Bus();
    const devs = Array.from({ length: 20 }, (_, i) => new Recorder(`d${i}`, 0x100));
    // Map in scrambled order.
    for (const i of [7, 3, 19, 0, 11, 5, 1, 18, 2, 4, 6, 8, 9, 10, 12, 13, 14, 15, 16, 17]) {
      bus.map(0x10000 * (i + 1), devs[i]!);
    }
    for (let k = 0; k < 200; k++) {
      const i = (k * 7) % 20;
      expect(bus.find(0x10000 * (i + 1) + 0x80)?.device).toBe(devs[i]);
      expect(bus.find(0x10000 * (i + 1) + 0x100)).toBeUndefined();
    }
  });
});
