/**
 * Every device under random guest accesses: random offsets (inside and just
 * past the window), random sizes, random values. Nothing a guest does may
 * throw on the host; results stay 32-bit; unsupported accesses are counted.
 */
import { describe, expect, it } from "vitest";
import {
  type AccessSize,
  Clint,
  type Device,
  Plic,
  SifiveTest,
  Uart16550,
  VIRT_MEMORY_MAP,
  VirtBoard,
  VirtioMmioEmpty,
} from "../src/index.js";
import { rng } from "./helpers.js";

const SIZES: AccessSize[] = [1, 2, 4, 8];
const ROUNDS = 20_000;

/** Offsets biased to where registers are: the first 0x100 bytes, known register blocks, anywhere. */
function offsetFor(dev: Device, r: () => number): number {
  const pick = r() % 4;
  if (pick === 0) return r() % Math.min(dev.size, 0x100);
  if (pick === 1) return r() % dev.size;
  if (pick === 2) return (r() % dev.size) & ~3;
  return [0x4000, 0xbff8, 0x1000, 0x2000, 0x2080, 0x200000, 0x200004, 0x201004][r() % 8]! % dev.size;
}

function fuzz(dev: Device & { wide?: boolean }, seed: number): void {
  const r = rng(seed);
  for (let i = 0; i < ROUNDS; i++) {
    const size = SIZES[r() % 4]!;
    const off = offsetFor(dev, r);
    if (size === 8 && !dev.wide) continue; // the bus splits these
    if (r() & 1) {
      const v = dev.read(off, size);
      expect(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32).toBe(true);
    } else {
      dev.write(off, size, r() | 0, r() | 0);
    }
  }
}

const clock = () => {
  let offset = 0;
  const c = {
    cycles: 0,
    stepsInRun: 0,
    stepsPerTick: 10,
    time: () => Math.floor(c.cycles / 10) + offset,
    skipTime: (t: number) => {
      offset += t;
    },
  };
  return c;
};

describe("random accesses never throw and bad ones are counted", () => {
  it("CLINT", () => {
    const c = new Clint({ clock: clock() });
    fuzz(c, 1);
    expect(c.badAccesses).toBeGreaterThan(ROUNDS / 4);
  });

  it("PLIC", () => {
    const p = new Plic({ contexts: [() => {}, () => {}] });
    const r = rng(7);
    for (let i = 0; i < 2000; i++) p.setSource(r() % 100, (r() & 1) === 1);
    fuzz(p, 2);
    expect(p.badAccesses).toBeGreaterThan(ROUNDS / 4);
  });

  it("UART", () => {
    const u = new Uart16550({ onTransmit: () => {} });
    const r = rng(9);
    for (let i = 0; i < 200; i++) u.receive([r() & 0xff, r() & 0xff]);
    fuzz(u, 3);
    expect(u.badAccesses).toBeGreaterThan(ROUNDS / 4);
  });

  it("SiFive test device", () => {
    const t = new SifiveTest();
    fuzz(t, 4);
    expect(t.badAccesses).toBeGreaterThan(0);
  });

  it("empty virtio slot", () => {
    const v = new VirtioMmioEmpty();
    fuzz(v, 5);
    expect(v.badAccesses).toBeGreaterThan(ROUNDS / 4);
  });

  it("the whole board's bus, holes included", () => {
    const board = new VirtBoard({ ramSize: 1 << 20 });
    const r = rng(6);
    const m = VIRT_MEMORY_MAP;
    const bases = [
      m.test.base,
      m.clint.base,
      m.plic.base,
      m.uart0.base,
      m.virtio.base,
      0x0300_0000,
      0xffff_fff0,
    ];
    for (let i = 0; i < ROUNDS; i++) {
      const size = SIZES[r() % 4]!;
      const pa = (bases[r() % bases.length]! + (r() % 0x10000)) >>> 0;
      if (r() & 1) board.bus.load(pa, size);
      else if (pa >>> 12 !== m.test.base >>> 12) board.bus.store(pa, size, r() | 0, r() | 0);
      expect(board.bus.dataLo >>> 0).toBe(board.bus.dataLo);
    }
    const c = board.counters();
    expect(c.unmappedReads + c.unmappedWrites).toBeGreaterThan(0);
    const bad = Object.values(c.devices).reduce((n, d) => n + d.badAccesses, 0);
    expect(bad).toBeGreaterThan(0);
  });
});
