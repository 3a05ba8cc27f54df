/**
 * Fuzzing the queue parser and the devices behind it: thousands of random
 * ring and descriptor states in guest RAM (random addresses inside, around
 * and far outside RAM, random lengths, flags, next indices, indirect tables,
 * available indices, event indices and request headers), random kicks and
 * random register writes. Whatever the guest builds, the device must not
 * throw, must not touch the guard bytes around RAM, must announce every byte
 * it changes in RAM (DMA coherence: no silent writes), and must end either
 * working or in DEVICE_NEEDS_RESET.
 */
import { describe, expect, it } from "vitest";
import {
  MemoryDisk,
  MMIO,
  netLoopback,
  STATUS,
  VIRTIO_BLK_T,
  VIRTQ_DESC_F,
  VirtioBlk,
  VirtioConsole,
  type VirtioDevice,
  VirtioNet,
  VirtioRng,
} from "../src/index.js";
import { prng, RAM_BASE, TestDriver } from "./driver.js";

const RAM = 64 * 1024;
const ROUNDS = 2000;

const devices: [string, () => VirtioDevice][] = [
  ["virtio-blk", () => new VirtioBlk({ backend: new MemoryDisk(64 * 512), queueSize: 16 })],
  ["virtio-rng", () => new VirtioRng({ queueSize: 16 })],
  ["virtio-console", () => new VirtioConsole({ queueSize: 16, inputLimit: 256 })],
  [
    "virtio-net",
    () => {
      const n = new VirtioNet({ queueSize: 16, rxQueueLimit: 4 });
      netLoopback(n);
      return n;
    },
  ],
];

describe("fuzz: random virtqueue states never escape the device", () => {
  it.each(devices)("%s", (_name, make) => {
    const rnd = prng(0x5eed);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    let needReset = 0;
    let served = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const dev = make();
      const d = new TestDriver(dev, { ramSize: RAM });
      d.start({ size: pick([1, 2, 4, 8, 16]) });
      const addr = (): number =>
        pick([
          () => RAM_BASE + int(RAM),
          () => RAM_BASE + RAM - int(64),
          () => RAM_BASE - int(64),
          () => int(2 ** 32),
          () => RAM_BASE + RAM / 2 + 16 * int(64),
        ])();
      const len = (): number =>
        pick([() => int(64), () => int(4096), () => 512 * int(9), () => int(2 ** 32), () => 16])();
      if (rnd() < 0.6) {
        // Mutation: well-formed chains (a request header, data, a status byte), then a few random bytes changed.
        for (let q = 0; q < dev.queueSizes.length; q++) {
          for (let n = 1 + int(3); n > 0; n--) {
            const hdr = d.alloc(16);
            d.view.setUint32(
              hdr - RAM_BASE,
              pick([VIRTIO_BLK_T.IN, VIRTIO_BLK_T.OUT, VIRTIO_BLK_T.GET_ID]),
              true,
            );
            d.view.setUint32(hdr - RAM_BASE + 8, int(70), true);
            const data = d.alloc(512);
            const bufs = [
              { addr: hdr, len: 16, write: q === 0 && !(dev instanceof VirtioBlk) },
              { addr: data, len: 512, write: q === 0 },
              { addr: d.alloc(1), len: 1, write: true },
            ];
            d.post(q, bufs, { indirect: rnd() < 0.3 });
          }
          const l = d.queues[q]!;
          for (let m = int(3); m > 0; m--) {
            const area = pick([l.desc, l.avail, l.used, RAM_BASE + RAM / 2]);
            d.ram[area - RAM_BASE + int(16 * l.size)] = int(256);
          }
        }
      } else {
        // Random: scribble descriptors, indirect tables and ring entries over the queues.
        for (let q = 0; q < dev.queueSizes.length; q++) {
          const l = d.queues[q]!;
          for (let i = 0; i < l.size + 2; i++) {
            const flags = pick([
              0,
              VIRTQ_DESC_F.NEXT,
              VIRTQ_DESC_F.WRITE,
              VIRTQ_DESC_F.NEXT | VIRTQ_DESC_F.WRITE,
              int(8),
              int(65536),
            ]);
            d.writeDesc(l.desc, i % l.size, addr(), len(), flags, int(l.size + 2));
            if (rnd() < 0.3) d.view.setUint32(l.desc - RAM_BASE + 16 * (i % l.size) + 4, int(3), true);
          }
          for (let k = 0; k < 2; k++) {
            const table = RAM_BASE + RAM / 2 + 64 * int(64);
            for (let i = 0; i < 4; i++) d.writeDesc(table, i, addr(), len(), int(8), int(6));
          }
          for (let i = 0; i < l.size; i++)
            d.view.setUint16(l.avail - RAM_BASE + 4 + 2 * i, int(l.size + 2), true);
          d.view.setUint16(l.avail - RAM_BASE, int(4), true);
          d.view.setUint16(l.avail - RAM_BASE + 2, pick([1, 2, l.size, l.size + 1, int(65536)]), true);
          d.setUsedEvent(q, int(65536));
        }
        // Plausible request headers where buffers may point.
        for (let i = 0; i < 8; i++) {
          const h = RAM_BASE + 16 * int(RAM / 16);
          d.view.setUint32(
            h - RAM_BASE,
            pick([VIRTIO_BLK_T.IN, VIRTIO_BLK_T.OUT, VIRTIO_BLK_T.FLUSH, VIRTIO_BLK_T.GET_ID, int(20)]),
            true,
          );
          d.view.setUint32(h - RAM_BASE + 8, pick([0, int(64), int(2 ** 32)]), true);
        }
      }
      if (dev instanceof VirtioConsole) dev.write(Uint8Array.from({ length: int(300) }, () => int(256)));
      if (dev instanceof VirtioNet) dev.receive(new Uint8Array(int(2000)));

      const check = round % 8 === 0;
      const before = check ? d.ram.slice() : undefined;
      const dmaBefore = d.dma.length;
      expect(() => {
        for (let k = 0; k < 3; k++) d.kick(int(dev.queueSizes.length + 1));
        if (rnd() < 0.2) d.transport.write(int(0x140) & ~3, pick([4, 4, 1, 2] as const), int(2 ** 32) | 0, 0);
        if (rnd() < 0.1) d.transport.read(int(0x140), pick([1, 2, 4, 8] as const));
        d.kick(int(dev.queueSizes.length));
      }).not.toThrow();
      expect(d.guardsIntact()).toBe(true);
      const reports = d.dma.slice(dmaBefore);
      for (const [pa, n] of reports) {
        expect(pa).toBeGreaterThanOrEqual(RAM_BASE);
        expect(pa + n).toBeLessThanOrEqual(RAM_BASE + RAM);
      }
      if (before) {
        const covered = new Uint8Array(RAM);
        for (const [pa, n] of reports) covered.fill(1, pa - RAM_BASE, pa - RAM_BASE + n);
        for (let i = 0; i < RAM; i++) {
          if (d.ram[i] !== before[i] && covered[i] === 0) {
            throw new Error(`round ${round}: RAM offset ${i} changed without a DMA report`);
          }
        }
      }
      if ((d.status & STATUS.DEVICE_NEEDS_RESET) !== 0) needReset++;
      served += dev.counters.requests;
      // Whatever happened, a reset brings the device back.
      d.write(MMIO.STATUS, 0);
      expect(d.status).toBe(0);
    }
    // The fuzzer reaches both outcomes often.
    expect(needReset).toBeGreaterThan(ROUNDS / 10);
    expect(served).toBeGreaterThan(ROUNDS / 10);
  });
});
