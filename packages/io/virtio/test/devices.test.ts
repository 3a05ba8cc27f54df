/**
 * virtio-console, virtio-net and virtio-rng driven through their queues
 * as a guest driver would.
 */
import { describe, expect, it } from "vitest";
import {
  connectNet,
  MMIO,
  netLoopback,
  RNG_MAX_REQUEST_BYTES,
  VIRTIO_NET_F,
  VIRTIO_NET_HDR_BYTES,
  VirtioConsole,
  VirtioError,
  VirtioNet,
  VirtioRng,
} from "../src/index.js";
import { RAM_BASE, TestDriver } from "./driver.js";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

describe("virtio-console", () => {
  it("passes transmitted buffers to the host", () => {
    const out: string[] = [];
    const con = new VirtioConsole({ onOutput: (b) => out.push(str(b)) });
    const d = new TestDriver(con);
    d.start();
    const a = d.alloc(6, text("hello "));
    const b = d.alloc(5, text("world"));
    d.post(1, [
      { addr: a, len: 6 },
      { addr: b, len: 5 },
    ]);
    d.kick(1);
    expect(out).toEqual(["hello world"]);
    expect(d.takeUsed(1)).toEqual([{ id: 0, len: 0 }]);
    expect(con.counters.bytesRead).toBe(11);
  });

  it("holds host input until the driver posts receive buffers, spreading it over them", () => {
    const con = new VirtioConsole({ inputLimit: 16 });
    const d = new TestDriver(con);
    expect(con.write(text("early"))).toBe(5); // before the driver exists
    d.start();
    expect(con.pendingInput).toBe(5);
    const r1 = d.alloc(3);
    const r2 = d.alloc(64);
    d.post(0, [{ addr: r1, len: 3, write: true }]);
    d.post(0, [{ addr: r2, len: 64, write: true }]);
    d.kick(0);
    expect(d.takeUsed(0)).toEqual([
      { id: 0, len: 3 },
      { id: 1, len: 2 },
    ]);
    expect(str(d.bytes(r1, 3)) + str(d.bytes(r2, 2))).toBe("early");
    // A buffer waits for input; input beyond the limit is dropped and counted.
    const r3 = d.alloc(64);
    d.post(0, [{ addr: r3, len: 64, write: true }]);
    d.kick(0);
    expect(d.takeUsed(0)).toEqual([]);
    con.write(text("x"));
    expect(d.takeUsed(0)).toEqual([{ id: 2, len: 1 }]);
    expect(con.write(new Uint8Array(20))).toBe(16);
    expect(con.counters.inputDropped).toBe(4);
  });

  it("refuses a transmit chain naming more than 1 MiB (the same buffer many times) without copying it", () => {
    const out: Uint8Array[] = [];
    const con = new VirtioConsole({ onOutput: (b) => out.push(b) });
    const d = new TestDriver(con, { ramSize: 4 << 20 });
    d.start();
    const big = d.alloc(1 << 20);
    d.post(1, [
      { addr: big, len: 1 << 20 },
      { addr: big, len: 1 << 20 },
    ]);
    d.kick(1);
    expect(out).toEqual([]);
    expect(con.counters.errors).toBe(1);
    expect(d.takeUsed(1).length).toBe(1);
  });

  it("keeps undelivered input across a snapshot", () => {
    const con = new VirtioConsole();
    const d = new TestDriver(con);
    con.write(text("abc"));
    const state = d.transport.getState();
    const con2 = new VirtioConsole();
    const d2 = new TestDriver(con2);
    d2.transport.setState(state);
    expect(con2.pendingInput).toBe(3);
    expect(() => con2.setState({ pending: [300] })).toThrowError(VirtioError);
  });
});

describe("virtio-net", () => {
  const frame = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);

  /** Post `count` receive buffers of `len` bytes each. */
  const postRx = (d: TestDriver, count: number, len = 1526) => {
    const addrs: number[] = [];
    for (let i = 0; i < count; i++) {
      const a = d.alloc(len);
      addrs.push(a);
      d.post(0, [{ addr: a, len, write: true }]);
    }
    d.kick(0);
    return addrs;
  };

  /** Transmit a frame with its header (header and frame in separate descriptors, as Linux does with sg). */
  const transmit = (d: TestDriver, f: Uint8Array) => {
    d.post(1, [
      { addr: d.alloc(VIRTIO_NET_HDR_BYTES, 0), len: VIRTIO_NET_HDR_BYTES },
      { addr: d.alloc(f.length, f), len: f.length },
    ]);
    d.kick(1);
  };

  it("puts the MAC and link status in the configuration space", () => {
    const net = new VirtioNet({ mac: "02:00:00:aa:bb:cc" });
    const d = new TestDriver(net);
    d.start();
    expect(d.transport.negotiated(VIRTIO_NET_F.MAC)).toBe(true);
    const mac = [0, 1, 2, 3, 4, 5].map((i) => d.transport.read(MMIO.CONFIG + i, 1));
    expect(mac).toEqual([2, 0, 0, 0xaa, 0xbb, 0xcc]);
    expect(d.transport.read(MMIO.CONFIG + 6, 2)).toBe(1);
    net.setLink(false);
    expect(d.transport.read(MMIO.CONFIG + 6, 2)).toBe(0);
    expect(d.ack()).toBe(2);
  });

  it("loops frames back: header with num_buffers = 1, then the frame", () => {
    const net = new VirtioNet();
    netLoopback(net);
    const d = new TestDriver(net);
    d.start();
    const [rx] = postRx(d, 1);
    const f = frame(60, 5);
    transmit(d, f);
    const used = d.takeUsed(0);
    expect(used).toEqual([{ id: 0, len: VIRTIO_NET_HDR_BYTES + 60 }]);
    const got = d.bytes(rx!, VIRTIO_NET_HDR_BYTES + 60);
    expect(Array.from(got.subarray(0, VIRTIO_NET_HDR_BYTES))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(got.subarray(VIRTIO_NET_HDR_BYTES)).toEqual(f);
    expect(net.counters).toMatchObject({ txFrames: 1, rxFrames: 1, rxDropped: 0 });
  });

  it("connects two devices (two guests) in-process, queueing frames until buffers come", () => {
    const a = new VirtioNet({ mac: "02:00:00:00:00:01" });
    const b = new VirtioNet({ mac: "02:00:00:00:00:02" });
    connectNet(a, b);
    const da = new TestDriver(a);
    const db = new TestDriver(b);
    da.start();
    db.start();
    const f = frame(100, 1);
    transmit(da, f);
    expect(b.pendingFrames).toBe(1);
    const [rx] = postRx(db, 1);
    expect(db.takeUsed(0).length).toBe(1);
    expect(db.bytes(rx! + VIRTIO_NET_HDR_BYTES, 100)).toEqual(f);
    expect(db.irq).toBe(true);
  });

  it("drops frames that do not fit the buffer, overflow the queue, or meet a dead link", () => {
    const net = new VirtioNet({ rxQueueLimit: 2 });
    const d = new TestDriver(net);
    d.start();
    postRx(d, 1, 64);
    expect(net.receive(frame(100, 0))).toBe(true); // taken by the 64-byte buffer, which is too small
    expect(d.takeUsed(0)).toEqual([{ id: 0, len: 0 }]);
    net.receive(frame(10, 0));
    net.receive(frame(10, 0));
    expect(net.receive(frame(10, 0))).toBe(false);
    net.setLink(false);
    expect(net.receive(frame(10, 0))).toBe(false);
    expect(net.receive(new Uint8Array(70000))).toBe(false);
    expect(net.counters.rxDropped).toBe(4);
  });

  it("counts a transmit buffer shorter than the header as an error", () => {
    const sent: Uint8Array[] = [];
    const net = new VirtioNet({ backend: { send: (f) => sent.push(f) } });
    const d = new TestDriver(net);
    d.start();
    d.post(1, [{ addr: d.alloc(4), len: 4 }]);
    d.kick(1);
    expect(sent).toEqual([]);
    expect(net.counters.errors).toBe(1);
    expect(d.takeUsed(1)).toEqual([{ id: 0, len: 0 }]);
  });

  it("refuses malformed MAC addresses", () => {
    expect(() => new VirtioNet({ mac: "02:00:00:00:00" })).toThrowError(VirtioError);
    expect(() => new VirtioNet({ mac: [1, 2, 3, 4, 5, 256] })).toThrowError(VirtioError);
  });
});

describe("virtio-rng", () => {
  const fill = (seed: number, sizes: number[]) => {
    const d = new TestDriver(new VirtioRng({ seed }));
    d.start();
    const addrs = sizes.map((n) => {
      const a = d.alloc(n);
      d.post(0, [{ addr: a, len: n, write: true }]);
      return a;
    });
    d.kick(0);
    return { d, bytes: addrs.map((a, i) => d.bytes(a, sizes[i]!)) };
  };

  it("is reproducible for a seed and differs between seeds", () => {
    const a = fill(42, [64, 13]);
    const b = fill(42, [64, 13]);
    const c = fill(43, [64, 13]);
    expect(a.bytes).toEqual(b.bytes);
    expect(a.bytes[0]).not.toEqual(c.bytes[0]);
    expect(a.d.takeUsed(0)).toEqual([
      { id: 0, len: 64 },
      { id: 1, len: 13 },
    ]);
    // Not trivially constant.
    expect(new Set(a.bytes[0]).size).toBeGreaterThan(30);
  });

  it("fills at most 64 KiB per request", () => {
    const d = new TestDriver(new VirtioRng(), { ramSize: 4 << 20 });
    d.start();
    const a = d.alloc(1 << 20);
    d.post(0, [{ addr: a, len: 1 << 20, write: true }]);
    d.kick(0);
    expect(d.takeUsed(0)).toEqual([{ id: 0, len: RNG_MAX_REQUEST_BYTES }]);
  });

  it("uses a given source", () => {
    const d = new TestDriver(new VirtioRng({ source: (into) => into.fill(7) }));
    d.start();
    const a = d.alloc(8);
    d.post(0, [{ addr: a, len: 8, write: true }]);
    d.kick(0);
    expect(Array.from(d.bytes(a, 8))).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    expect(RAM_BASE).toBe(0x8000_0000);
  });
});
