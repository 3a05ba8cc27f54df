/**
 * virtio-blk (virtio 1.2, 5.2) driven as Linux's virtio_blk drives it:
 * header, data and status in separate descriptors (or one indirect table),
 * plus the request errors a driver can provoke and the asynchronous backend
 * path.
 */
import { describe, expect, it } from "vitest";
import {
  type BlockBackend,
  MemoryDisk,
  MMIO,
  STATUS,
  VIRTIO_BLK_F,
  VIRTIO_BLK_S,
  VIRTIO_BLK_T,
  VirtioBlk,
  VirtioError,
} from "../src/index.js";
import { type Buf, RAM_BASE, TestDriver } from "./driver.js";

/** A request header {type, reserved, sector} in guest RAM. */
function header(d: TestDriver, type: number, sector: number): number {
  const h = d.alloc(16);
  d.view.setUint32(h - RAM_BASE, type, true);
  d.view.setUint32(h - RAM_BASE + 8, sector % 2 ** 32, true);
  d.view.setUint32(h - RAM_BASE + 12, Math.floor(sector / 2 ** 32), true);
  return h;
}

interface Issued {
  head: number;
  status: number;
  data: number;
}

/** Issue one request and return where its status byte and data are. */
function request(
  d: TestDriver,
  type: number,
  sector: number,
  data: { len: number; fill?: Uint8Array; segments?: number } | undefined,
  options: { indirect?: boolean } = {},
): Issued {
  const h = header(d, type, sector);
  const status = d.alloc(1, 0xff);
  const bufs: Buf[] = [{ addr: h, len: 16 }];
  let dataAddr = 0;
  if (data) {
    dataAddr = d.alloc(data.len, data.fill);
    const write = type !== VIRTIO_BLK_T.OUT;
    const segs = data.segments ?? 1;
    const per = Math.ceil(data.len / segs);
    for (let off = 0; off < data.len; off += per) {
      bufs.push({ addr: dataAddr + off, len: Math.min(per, data.len - off), write });
    }
  }
  bufs.push({ addr: status, len: 1, write: true });
  const head = d.post(0, bufs, options);
  return { head, status, data: dataAddr };
}

const statusOf = (d: TestDriver, r: Issued) => d.ram[r.status - RAM_BASE];
const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function setup(backend: BlockBackend = new MemoryDisk(1024 * 512), options = {}) {
  const dev = new VirtioBlk({ backend, ...options });
  const d = new TestDriver(dev, { ramSize: 4 << 20 });
  d.start();
  return { d, dev, backend };
}

describe("virtio-blk requests", () => {
  it("writes sectors and reads them back, with used lengths of data + status", () => {
    const { d, dev, backend } = setup();
    const data = pattern(4096);
    const w = request(d, VIRTIO_BLK_T.OUT, 10, { len: 4096, fill: data });
    d.kick(0);
    expect(statusOf(d, w)).toBe(VIRTIO_BLK_S.OK);
    expect((backend as MemoryDisk).data.subarray(10 * 512, 10 * 512 + 4096)).toEqual(data);
    const r = request(d, VIRTIO_BLK_T.IN, 10, { len: 4096 });
    d.kick(0);
    expect(statusOf(d, r)).toBe(VIRTIO_BLK_S.OK);
    expect(d.bytes(r.data, 4096)).toEqual(data);
    expect(d.takeUsed(0)).toEqual([
      { id: w.head, len: 1 },
      { id: r.head, len: 4097 },
    ]);
    expect(dev.counters).toMatchObject({ reads: 1, writes: 1, requests: 2, notifications: 2, errors: 0 });
    expect(dev.counters.bytesWritten).toBe(4096 + 2); // data + two status bytes
    // The DMA of the read was announced to the machine.
    expect(d.dma.some(([pa, len]) => pa === r.data && len === 4096)).toBe(true);
  });

  it("scatters and gathers data spread over many descriptors, through an indirect table too", () => {
    const { d } = setup();
    const big = pattern(200 * 1024, 7); // more than the 64 KiB bounce buffer, odd segment sizes
    const w = request(
      d,
      VIRTIO_BLK_T.OUT,
      3,
      { len: big.length, fill: big, segments: 7 },
      { indirect: true },
    );
    d.kick(0);
    expect(statusOf(d, w)).toBe(VIRTIO_BLK_S.OK);
    const r = request(d, VIRTIO_BLK_T.IN, 3, { len: big.length, segments: 13 });
    d.kick(0);
    expect(statusOf(d, r)).toBe(VIRTIO_BLK_S.OK);
    expect(Buffer.from(d.bytes(r.data, big.length)).equals(big)).toBe(true);
  });

  it("flushes, and answers GET_ID with the serial (NUL-padded to 20 bytes)", () => {
    const disk = new MemoryDisk(64 * 512);
    const { d } = setup(disk, { serial: "disk-0001" });
    const f = request(d, VIRTIO_BLK_T.FLUSH, 0, undefined);
    d.kick(0);
    expect(statusOf(d, f)).toBe(VIRTIO_BLK_S.OK);
    expect(disk.flushes).toBe(1);
    const id = request(d, VIRTIO_BLK_T.GET_ID, 0, { len: 20 });
    d.kick(0);
    expect(statusOf(d, id)).toBe(VIRTIO_BLK_S.OK);
    expect(new TextDecoder().decode(d.bytes(id.data, 20))).toBe(`disk-0001${"\0".repeat(11)}`);
    expect(d.takeUsed(0).map((u) => u.len)).toEqual([1, 21]);
  });

  it.each([
    ["a read past the capacity", VIRTIO_BLK_T.IN, 1023, 1024, VIRTIO_BLK_S.IOERR],
    ["a write starting past the capacity", VIRTIO_BLK_T.OUT, 2 ** 40, 512, VIRTIO_BLK_S.IOERR],
    ["a read of 100 bytes (not whole sectors)", VIRTIO_BLK_T.IN, 0, 100, VIRTIO_BLK_S.IOERR],
    ["discard (not offered)", VIRTIO_BLK_T.DISCARD, 0, 16, VIRTIO_BLK_S.UNSUPP],
    ["an unknown request type", 0x7777, 0, 512, VIRTIO_BLK_S.UNSUPP],
  ])("answers %s with a status", (_what, type, sector, len, status) => {
    const { d, dev } = setup();
    const r = request(d, type, sector, { len });
    d.kick(0);
    expect(statusOf(d, r)).toBe(status);
    expect(dev.counters.errors).toBe(1);
    expect(d.status & STATUS.DEVICE_NEEDS_RESET).toBe(0);
  });

  it("a read-only disk offers VIRTIO_BLK_F_RO and fails writes with IOERR", () => {
    const disk = new MemoryDisk(64 * 512, { readOnly: true });
    const { d } = setup(disk);
    expect(d.transport.negotiated(VIRTIO_BLK_F.RO)).toBe(true);
    const w = request(d, VIRTIO_BLK_T.OUT, 0, { len: 512, fill: pattern(512) });
    d.kick(0);
    expect(statusOf(d, w)).toBe(VIRTIO_BLK_S.IOERR);
    expect(disk.data.every((b) => b === 0)).toBe(true);
  });

  it("a header shorter than 16 bytes is an IOERR; a chain without a writable status byte is a device error", () => {
    const { d } = setup();
    const status = d.alloc(1, 0xff);
    d.post(0, [
      { addr: d.alloc(8), len: 8 },
      { addr: status, len: 1, write: true },
    ]);
    d.kick(0);
    expect(d.ram[status - RAM_BASE]).toBe(VIRTIO_BLK_S.IOERR);
    d.post(0, [{ addr: header(d, VIRTIO_BLK_T.IN, 0), len: 16 }]);
    d.kick(0);
    expect(d.status & STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    expect(d.transport.lastError).toMatch(/status byte/);
  });

  it("a backend that throws gives IOERR, not an exception", () => {
    const backend: BlockBackend = {
      sectors: 8,
      read() {
        throw new Error("disk on fire");
      },
      write() {
        throw new Error("disk on fire");
      },
      flush() {
        throw new Error("disk on fire");
      },
    };
    const { d } = setup(backend);
    const rs = [
      request(d, VIRTIO_BLK_T.IN, 0, { len: 512 }),
      request(d, VIRTIO_BLK_T.OUT, 0, { len: 512 }),
      request(d, VIRTIO_BLK_T.FLUSH, 0, undefined),
    ];
    d.kick(0);
    for (const r of rs) expect(statusOf(d, r)).toBe(VIRTIO_BLK_S.IOERR);
  });

  it("config space: capacity, size_max, seg_max, blk_size", () => {
    const { d } = setup(new MemoryDisk(3 * 512), { sizeMax: 4096, queueSize: 64 });
    const t = d.transport;
    expect(t.read(MMIO.CONFIG, 4)).toBe(3);
    expect(t.read(MMIO.CONFIG + 8, 4)).toBe(4096);
    expect(t.read(MMIO.CONFIG + 12, 4)).toBe(62);
    expect(t.read(MMIO.CONFIG + 20, 4)).toBe(512);
  });

  it("refuses bad options with VIRTIO_BAD_CONFIG", () => {
    const backend = new MemoryDisk(512);
    for (const o of [
      { backend: { sectors: -1, read() {}, write() {} } },
      { backend, queueSize: 3 },
      { backend, serial: "x".repeat(21) },
      { backend, sizeMax: 100 },
      { backend: {} as BlockBackend },
    ]) {
      expect(() => new VirtioBlk(o as never)).toThrowError(VirtioError);
    }
    expect(() => new MemoryDisk(100)).toThrowError(/multiple of 512/);
  });
});

describe("virtio-blk with an asynchronous backend", () => {
  /** A backend whose calls complete when the test says so. */
  class SlowDisk implements BlockBackend {
    readonly inner = new MemoryDisk(256 * 512);
    readonly sectors = this.inner.sectors;
    readonly pending: (() => void)[] = [];
    fail = false;
    private later(work: () => void): Promise<void> {
      return new Promise((resolve, reject) =>
        this.pending.push(() => {
          if (this.fail) reject(new Error("gone"));
          else {
            work();
            resolve();
          }
        }),
      );
    }
    read(sector: number, count: number, into: Uint8Array): Promise<void> {
      return this.later(() => this.inner.read(sector, count, into));
    }
    write(sector: number, data: Uint8Array): Promise<void> {
      const copy = data.slice();
      return this.later(() => this.inner.write(sector, copy));
    }
    async settle(): Promise<void> {
      while (this.pending.length > 0) {
        for (const p of this.pending.splice(0)) p();
        await new Promise((r) => setTimeout(r, 0));
      }
    }
  }

  it("completes requests when the backend does, each with its own buffers", async () => {
    const slow = new SlowDisk();
    const { d, dev } = setup(slow);
    const a = pattern(100 * 1024, 3);
    const b = pattern(512, 9);
    const w1 = request(d, VIRTIO_BLK_T.OUT, 0, { len: a.length, fill: a, segments: 3 });
    const w2 = request(d, VIRTIO_BLK_T.OUT, 200, { len: 512, fill: b });
    d.kick(0);
    expect(d.takeUsed(0)).toEqual([]);
    expect(dev.inFlight).toBe(2);
    expect(() => d.transport.getState()).toThrowError(/in flight/);
    await slow.settle();
    expect(dev.inFlight).toBe(0);
    expect(statusOf(d, w1)).toBe(VIRTIO_BLK_S.OK);
    expect(statusOf(d, w2)).toBe(VIRTIO_BLK_S.OK);
    expect(
      d
        .takeUsed(0)
        .map((u) => u.id)
        .sort(),
    ).toEqual([w1.head, w2.head].sort());
    const r = request(d, VIRTIO_BLK_T.IN, 0, { len: a.length, segments: 5 });
    d.kick(0);
    await slow.settle();
    expect(Buffer.from(d.bytes(r.data, a.length)).equals(a)).toBe(true);
    expect(d.irq).toBe(true);
  });

  it("a rejected promise is IOERR; a completion after a reset is dropped", async () => {
    const slow = new SlowDisk();
    const { d } = setup(slow);
    slow.fail = true;
    const r = request(d, VIRTIO_BLK_T.IN, 0, { len: 512 });
    d.kick(0);
    await slow.settle();
    expect(statusOf(d, r)).toBe(VIRTIO_BLK_S.IOERR);
    slow.fail = false;
    const late = request(d, VIRTIO_BLK_T.IN, 0, { len: 512 });
    d.kick(0);
    d.write(MMIO.STATUS, 0);
    await slow.settle();
    expect(statusOf(d, late)).toBe(0xff);
  });
});
