/**
 * The virtio-mmio transport driven through its registers as a driver would
 * (virtio 1.2, 4.2.2 and 3.1.1): identification, feature negotiation, the
 * status state machine, queue setup, interrupts, configuration space, and
 * what a misbehaving driver gets (ignored writes, bad accesses, a device that
 * needs a reset) — never an exception.
 */
import { VIRTIO_MMIO_MAGIC, VIRTIO_VENDOR_ID, VirtBoard } from "@hvkit/machine";
import { describe, expect, it } from "vitest";
import {
  DEVICE_ID,
  FEATURE,
  INTERRUPT,
  MemoryDisk,
  MMIO,
  STATUS,
  VIRTIO_BLK_F,
  VirtioBlk,
  VirtioError,
  VirtioRng,
  virtioMmio,
} from "../src/index.js";
import { RAM_BASE, RING_FEATURES, TestDriver } from "./driver.js";

const blk = (sectors = 64) => new VirtioBlk({ backend: new MemoryDisk(sectors * 512) });
const ALL = STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK;

describe("virtio-mmio identification", () => {
  it("answers MagicValue, Version 2, DeviceID and VendorID", () => {
    const d = new TestDriver(blk());
    expect(d.read(MMIO.MAGIC_VALUE)).toBe(VIRTIO_MMIO_MAGIC);
    expect(d.read(MMIO.VERSION)).toBe(2);
    expect(d.read(MMIO.DEVICE_ID)).toBe(DEVICE_ID.BLOCK);
    expect(d.read(MMIO.VENDOR_ID)).toBe(VIRTIO_VENDOR_ID);
    expect(new TestDriver(new VirtioRng()).read(MMIO.DEVICE_ID)).toBe(DEVICE_ID.ENTROPY);
  });

  it("offers VERSION_1, indirect descriptors and event indices, not ACCESS_PLATFORM", () => {
    const f = new TestDriver(blk()).deviceFeatures();
    expect(f & RING_FEATURES).toBe(RING_FEATURES);
    expect(f & (1n << BigInt(FEATURE.ACCESS_PLATFORM))).toBe(0n);
    expect(f & (1n << BigInt(FEATURE.RING_PACKED))).toBe(0n);
    expect(f & (1n << BigInt(VIRTIO_BLK_F.FLUSH))).not.toBe(0n);
    const plain = new TestDriver(blk(), { indirectDescriptors: false, eventIdx: false }).deviceFeatures();
    expect(plain & RING_FEATURES).toBe(1n << BigInt(FEATURE.VERSION_1));
  });

  it("reads features of selector words beyond 1 as 0, and no shared memory regions (length -1)", () => {
    const d = new TestDriver(blk());
    d.write(MMIO.DEVICE_FEATURES_SEL, 2);
    expect(d.read(MMIO.DEVICE_FEATURES)).toBe(0);
    d.write(MMIO.SHM_SEL, 0);
    expect(d.read(MMIO.SHM_LEN_LOW)).toBe(0xffffffff);
    expect(d.read(MMIO.SHM_LEN_HIGH)).toBe(0xffffffff);
  });

  it("QueueNumMax is the device's for existing queues and 0 beyond", () => {
    const d = new TestDriver(blk());
    d.write(MMIO.QUEUE_SEL, 0);
    expect(d.read(MMIO.QUEUE_NUM_MAX)).toBe(256);
    d.write(MMIO.QUEUE_SEL, 1);
    expect(d.read(MMIO.QUEUE_NUM_MAX)).toBe(0);
    expect(d.read(MMIO.QUEUE_READY)).toBe(0);
  });
});

describe("feature negotiation and the status state machine", () => {
  it("accepts a subset including VERSION_1 and reports what was negotiated", () => {
    const d = new TestDriver(blk());
    expect(d.negotiate((1n << 32n) | (1n << BigInt(VIRTIO_BLK_F.FLUSH)))).toBe(true);
    expect(d.transport.negotiated(VIRTIO_BLK_F.FLUSH)).toBe(true);
    expect(d.transport.negotiated(FEATURE.RING_EVENT_IDX)).toBe(false);
  });

  it("keeps FEATURES_OK clear for a legacy driver (no VERSION_1) or features never offered", () => {
    const d = new TestDriver(blk());
    expect(d.negotiate(1n << BigInt(VIRTIO_BLK_F.FLUSH))).toBe(false);
    expect(d.transport.protocolViolations).toBe(1);
    expect(d.negotiate((1n << 32n) | (1n << 3n))).toBe(false); // bit 3 (VIRTIO_BLK_F_?) not offered
    expect(d.negotiate((1n << 32n) | (1n << 40n))).toBe(false); // RING_RESET not offered
    expect(d.status & STATUS.FEATURES_OK).toBe(0);
  });

  it("ignores DriverFeatures after FEATURES_OK, bits cleared without a reset, and DRIVER_OK without FEATURES_OK", () => {
    const d = new TestDriver(blk());
    d.negotiate(1n << 32n);
    d.acceptFeatures(RING_FEATURES);
    expect(d.transport.negotiated(FEATURE.RING_INDIRECT_DESC)).toBe(false);
    d.write(MMIO.STATUS, STATUS.ACKNOWLEDGE); // clears DRIVER and FEATURES_OK
    expect(d.status).toBe(STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    const e = new TestDriver(blk());
    e.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.DRIVER_OK);
    expect(e.status).toBe(STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    expect(d.transport.protocolViolations + e.transport.protocolViolations).toBe(4); // two feature words, the status write, DRIVER_OK
  });

  it("the driver cannot set DEVICE_NEEDS_RESET itself; FAILED sticks until reset", () => {
    const d = new TestDriver(blk());
    d.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DEVICE_NEEDS_RESET);
    expect(d.status).toBe(STATUS.ACKNOWLEDGE);
    d.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.FAILED);
    expect(d.status).toBe(STATUS.ACKNOWLEDGE | STATUS.FAILED);
    d.write(MMIO.STATUS, 0);
    expect(d.status).toBe(0);
  });

  it("writing 0 resets: features, queues, interrupt status and line", () => {
    const d = new TestDriver(new VirtioRng());
    d.start();
    const buf = d.alloc(16);
    d.post(0, [{ addr: buf, len: 16, write: true }]);
    d.kick(0);
    expect(d.irq).toBe(true);
    d.write(MMIO.STATUS, 0);
    expect(d.irq).toBe(false);
    expect(d.read(MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(d.read(MMIO.QUEUE_READY)).toBe(0);
    expect(d.transport.negotiated(FEATURE.VERSION_1)).toBe(false);
  });
});

describe("queues", () => {
  it("refuses to enable a queue before FEATURES_OK", () => {
    const d = new TestDriver(new VirtioRng());
    d.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    d.setupQueue(0, 64);
    expect(d.read(MMIO.QUEUE_READY)).toBe(0);
    expect(d.transport.protocolViolations).toBe(1);
  });

  it("ignores reconfiguration of a ready queue", () => {
    const d = new TestDriver(new VirtioRng());
    d.negotiate();
    const q = d.setupQueue(0, 64);
    d.write(MMIO.QUEUE_DESC_LOW, RAM_BASE + 0x8000);
    d.write(MMIO.QUEUE_NUM, 8);
    expect(d.transport.queue(0).descLo).toBe(q.desc);
    expect(d.transport.queue(0).size).toBe(64);
    expect(d.transport.protocolViolations).toBe(2);
    d.write(MMIO.QUEUE_READY, 0);
    expect(d.read(MMIO.QUEUE_READY)).toBe(0);
  });

  it.each([
    ["a size that is not a power of two", { size: 48 }],
    ["a size above QueueNumMax", { size: 128 }],
    ["a size of 0", { size: 0 }],
    ["a misaligned descriptor table", { desc: RAM_BASE + 8 }],
    ["a descriptor table outside RAM", { desc: 0x1000 }],
    ["a descriptor table running off the end of RAM", { desc: RAM_BASE + (1 << 20) - 16 * 32 }],
    ["an available ring above 4 GiB", { availHigh: 1 }],
    ["a misaligned used ring", { used: RAM_BASE + 0x9002 }],
  ])("sets DEVICE_NEEDS_RESET for %s", (_what, bad: Record<string, number>) => {
    const d = new TestDriver(new VirtioRng());
    d.negotiate();
    d.write(MMIO.QUEUE_SEL, 0);
    d.write(MMIO.QUEUE_NUM, bad.size ?? 64);
    d.write(MMIO.QUEUE_DESC_LOW, bad.desc ?? RAM_BASE + 0x1000);
    d.write(MMIO.QUEUE_DRIVER_LOW, bad.avail ?? RAM_BASE + 0x8000);
    d.write(MMIO.QUEUE_DRIVER_HIGH, bad.availHigh ?? 0);
    d.write(MMIO.QUEUE_DEVICE_LOW, bad.used ?? RAM_BASE + 0x9000);
    d.write(MMIO.QUEUE_READY, 1);
    expect(d.read(MMIO.QUEUE_READY)).toBe(0);
    expect(d.status & STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    expect(d.transport.device.counters.errors).toBe(1);
    expect(d.transport.lastError).toMatch(/queue 0/);
    // The driver recovers with a reset.
    d.write(MMIO.STATUS, 0);
    expect(d.status).toBe(0);
    d.start();
    expect(d.status).toBe(ALL);
  });

  it("ignores notifications before DRIVER_OK and consumes those buffers at DRIVER_OK", () => {
    const d = new TestDriver(new VirtioRng());
    d.negotiate();
    d.setupQueue(0, 64);
    const buf = d.alloc(32);
    d.post(0, [{ addr: buf, len: 32, write: true }]);
    d.kick(0);
    expect(d.takeUsed(0)).toEqual([]);
    expect(d.transport.device.counters.notifications).toBe(0);
    d.write(MMIO.STATUS, ALL);
    expect(d.takeUsed(0)).toEqual([{ id: 0, len: 32 }]);
  });

  it("ignores QueueNotify for a queue the device does not have", () => {
    const d = new TestDriver(new VirtioRng());
    d.start();
    d.kick(5);
    expect(d.transport.protocolViolations).toBe(1);
    expect(d.status).toBe(ALL);
  });
});

describe("interrupts", () => {
  it("raises the line for used buffers until the driver acknowledges them", () => {
    const d = new TestDriver(new VirtioRng());
    d.start();
    d.post(0, [{ addr: d.alloc(8), len: 8, write: true }]);
    d.kick(0);
    expect(d.irq).toBe(true);
    expect(d.read(MMIO.INTERRUPT_STATUS)).toBe(INTERRUPT.USED_BUFFER);
    d.write(MMIO.INTERRUPT_ACK, INTERRUPT.CONFIG_CHANGE); // the wrong bit: still pending
    expect(d.irq).toBe(true);
    d.write(MMIO.INTERRUPT_ACK, INTERRUPT.USED_BUFFER);
    expect(d.irq).toBe(false);
    expect(d.transport.device.counters.interrupts).toBe(1);
  });

  it("a device error after DRIVER_OK raises a configuration-change interrupt; before, none", () => {
    const d = new TestDriver(new VirtioRng());
    d.start();
    d.transport.fail("test");
    expect(d.read(MMIO.INTERRUPT_STATUS)).toBe(INTERRUPT.CONFIG_CHANGE);
    expect(d.status & STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    const e = new TestDriver(new VirtioRng());
    e.negotiate();
    e.transport.fail("test");
    expect(e.irq).toBe(false);
  });

  it("configChanged bumps ConfigGeneration", () => {
    const d = new TestDriver(new VirtioRng());
    d.start();
    const g = d.read(MMIO.CONFIG_GENERATION);
    d.transport.configChanged();
    expect(d.read(MMIO.CONFIG_GENERATION)).toBe(g + 1);
    expect(d.ack()).toBe(INTERRUPT.CONFIG_CHANGE);
  });
});

describe("configuration space and access sizes", () => {
  it("reads virtio-blk's capacity, seg_max and blk_size at 8-, 16- and 32-bit widths", () => {
    const t = new TestDriver(blk(0x1_2345)).transport;
    expect(t.read(MMIO.CONFIG, 4)).toBe(0x1_2345);
    expect(t.read(MMIO.CONFIG + 4, 4)).toBe(0);
    expect(t.read(MMIO.CONFIG, 2)).toBe(0x2345);
    expect(t.read(MMIO.CONFIG + 2, 1)).toBe(0x01);
    expect(t.read(MMIO.CONFIG + 12, 4)).toBe(254); // seg_max
    expect(t.read(MMIO.CONFIG + 20, 4)).toBe(512); // blk_size
    expect(t.badAccesses).toBe(0);
  });

  it("counts misaligned, oversized and out-of-range configuration accesses as bad accesses", () => {
    const t = new TestDriver(blk()).transport;
    expect(t.read(MMIO.CONFIG + 1, 4)).toBe(0);
    expect(t.read(MMIO.CONFIG + 1, 2)).toBe(0);
    expect(t.read(MMIO.CONFIG + 60, 1)).toBe(0);
    expect(t.read(MMIO.CONFIG, 8)).toBe(0);
    t.write(MMIO.CONFIG + 2, 4, 1, 0);
    expect(t.badAccesses).toBe(5);
    t.write(MMIO.CONFIG, 4, 1, 0); // read-only configuration: a protocol violation
    expect(t.protocolViolations).toBe(1);
    expect(t.read(MMIO.CONFIG, 4)).toBe(64);
  });

  it("register accesses other than aligned 32-bit ones, reads of write-only and writes of read-only registers are bad accesses", () => {
    const t = new TestDriver(blk()).transport;
    expect(t.read(MMIO.MAGIC_VALUE, 1)).toBe(0);
    expect(t.read(MMIO.MAGIC_VALUE, 8)).toBe(0);
    expect(t.read(MMIO.VERSION + 2, 4)).toBe(0);
    expect(t.read(MMIO.QUEUE_NOTIFY, 4)).toBe(0);
    expect(t.read(0x0f0, 4)).toBe(0);
    t.write(MMIO.MAGIC_VALUE, 4, 0, 0);
    t.write(MMIO.STATUS, 1, 1, 0);
    expect(t.badAccesses).toBe(7);
    expect(t.status).toBe(0);
  });
});

describe("snapshots", () => {
  it("a transport restored from getState continues the queues where they were", () => {
    const d = new TestDriver(new VirtioRng({ seed: 7 }));
    d.start();
    const a = d.alloc(16);
    d.post(0, [{ addr: a, len: 16, write: true }]);
    d.kick(0);
    const state = JSON.parse(JSON.stringify(d.transport.getState()));
    // A second driver on a copy of RAM, restored from the state, gives the same next bytes.
    const e = new TestDriver(new VirtioRng({ seed: 99 }));
    e.ram.set(d.ram);
    e.transport.setState(state);
    const layout = d.queues[0]!;
    for (const x of [d, e]) {
      x.queues[0] = { ...layout };
      x.post(0, [{ addr: RAM_BASE + 0x9_0000, len: 16, write: true }]);
      x.kick(0);
    }
    expect(e.bytes(RAM_BASE + 0x9_0000, 16)).toEqual(d.bytes(RAM_BASE + 0x9_0000, 16));
    expect(e.transport.getState()).toEqual(d.transport.getState());
  });

  it("setState refuses states that do not fit, with VIRTIO_BAD_STATE", () => {
    const d = new TestDriver(new VirtioRng());
    const good = d.transport.getState();
    for (const bad of [
      null,
      {},
      { ...good, queues: [] },
      { ...good, status: 256 },
      { ...good, device: { x: 1 } },
    ]) {
      expect(() => d.transport.setState(bad as never)).toThrowError(VirtioError);
    }
  });
});

describe("slots", () => {
  it("a device model can sit in one slot only", () => {
    const dev = new VirtioRng();
    new TestDriver(dev);
    expect(() => new TestDriver(dev)).toThrowError(/already sits in a slot/);
  });

  it("virtioMmio plugs a device into a VirtBoard slot, named after slot and type", () => {
    const board = new VirtBoard({ ramSize: 16 << 20, virtio: [undefined, virtioMmio(blk())] });
    expect(board.virtio[1]!.name).toBe("virtio1-blk");
    expect(board.bus.load(0x1000_2008, 4)).toBe(true);
    expect(board.virtio[0]!.read(8, 4)).toBe(0);
    expect(board.virtio[1]!.read(8, 4)).toBe(2);
  });
});
