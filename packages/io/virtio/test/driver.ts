/**
 * A guest-side virtio driver for tests, written from the virtio 1.2
 * specification: it owns a small guest RAM, drives a transport through its
 * registers exactly as a guest would (32-bit accesses at offsets), lays out
 * split virtqueues in RAM, posts descriptor chains and reads the used ring.
 */
import type { VirtioSlotContext } from "@hvkit/machine";
import {
  FEATURE,
  MMIO,
  STATUS,
  VIRTQ_DESC_F,
  type VirtioDevice,
  VirtioMmio,
  type VirtioMmioOptions,
} from "../src/index.js";

export const RAM_BASE = 0x8000_0000;
/** Guard bytes around RAM in the same ArrayBuffer: a device must never touch them. */
export const GUARD = 4096;
const GUARD_BYTE = 0xa5;

/** One buffer of a chain: guest physical address, length, device-writable. */
export interface Buf {
  addr: number;
  len: number;
  write?: boolean;
}

/** Where a queue's three areas are. */
export interface QueueLayout {
  size: number;
  desc: number;
  avail: number;
  used: number;
  /** Next free descriptor index (the driver allocates linearly, wrapping). */
  nextDesc: number;
  /** The driver's avail.idx. */
  availIdx: number;
  /** used.idx the driver has seen. */
  seenUsed: number;
}

export class TestDriver {
  readonly buffer: ArrayBuffer;
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly transport: VirtioMmio;
  /** The interrupt line's level. */
  irq = false;
  /** Rising edges of the line. */
  irqEdges = 0;
  /** Every dmaWritten(pa, len) the device reported. */
  readonly dma: [number, number][] = [];
  readonly queues: QueueLayout[] = [];
  /** Bump allocator for buffers in RAM (after the ring area). */
  private heap: number;

  constructor(device: VirtioDevice, options: VirtioMmioOptions & { ramSize?: number } = {}) {
    const size = options.ramSize ?? 1 << 20;
    this.buffer = new ArrayBuffer(size + 2 * GUARD);
    new Uint8Array(this.buffer).fill(GUARD_BYTE);
    this.ram = new Uint8Array(this.buffer, GUARD, size);
    this.ram.fill(0);
    this.view = new DataView(this.buffer, GUARD, size);
    const ctx: VirtioSlotContext = {
      slot: 0,
      base: 0x1000_1000,
      plicSource: 1,
      irq: (level) => {
        if (level && !this.irq) this.irqEdges++;
        this.irq = level;
      },
      ram: this.ram,
      ramBase: RAM_BASE,
      dmaWritten: (pa, len) => this.dma.push([pa, len]),
    };
    this.transport = new VirtioMmio(device, ctx, options);
    this.heap = RAM_BASE + size / 2;
  }

  /** Whether the guard bytes around RAM are intact. */
  guardsIntact(): boolean {
    const all = new Uint8Array(this.buffer);
    for (let i = 0; i < GUARD; i++) {
      if (all[i] !== GUARD_BYTE || all[all.length - 1 - i] !== GUARD_BYTE) return false;
    }
    return true;
  }

  read(reg: number): number {
    return this.transport.read(reg, 4);
  }

  write(reg: number, value: number): void {
    this.transport.write(reg, 4, value | 0, 0);
  }

  get status(): number {
    return this.read(MMIO.STATUS);
  }

  /** Device features as a bigint. */
  deviceFeatures(): bigint {
    this.write(MMIO.DEVICE_FEATURES_SEL, 0);
    const lo = this.read(MMIO.DEVICE_FEATURES);
    this.write(MMIO.DEVICE_FEATURES_SEL, 1);
    const hi = this.read(MMIO.DEVICE_FEATURES);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Write DriverFeatures. */
  acceptFeatures(features: bigint): void {
    this.write(MMIO.DRIVER_FEATURES_SEL, 0);
    this.write(MMIO.DRIVER_FEATURES, Number(features & 0xffffffffn));
    this.write(MMIO.DRIVER_FEATURES_SEL, 1);
    this.write(MMIO.DRIVER_FEATURES, Number(features >> 32n));
  }

  /**
   * The initialisation sequence of 3.1.1 up to FEATURES_OK: reset,
   * ACKNOWLEDGE, DRIVER, features (all offered unless `features` given).
   * Returns whether the device kept FEATURES_OK.
   */
  negotiate(features?: bigint): boolean {
    this.write(MMIO.STATUS, 0);
    this.write(MMIO.STATUS, STATUS.ACKNOWLEDGE);
    this.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    this.acceptFeatures(features ?? this.deviceFeatures());
    this.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    return (this.status & STATUS.FEATURES_OK) !== 0;
  }

  /** Lay out queue `index` with `size` entries at `base` (default: a region per queue) and enable it. */
  setupQueue(
    index: number,
    size: number,
    base = RAM_BASE + (this.ram.length / 16) * (index + 1),
  ): QueueLayout {
    const desc = base;
    const avail = desc + 16 * size;
    const used = ((avail + 6 + 2 * size + 3) & ~3) >>> 0;
    // Fresh rings, as a driver allocates them: zeroed.
    this.ram.fill(0, desc - RAM_BASE, used - RAM_BASE + 6 + 8 * size);
    this.write(MMIO.QUEUE_SEL, index);
    this.write(MMIO.QUEUE_NUM, size);
    this.write(MMIO.QUEUE_DESC_LOW, desc);
    this.write(MMIO.QUEUE_DESC_HIGH, 0);
    this.write(MMIO.QUEUE_DRIVER_LOW, avail);
    this.write(MMIO.QUEUE_DRIVER_HIGH, 0);
    this.write(MMIO.QUEUE_DEVICE_LOW, used);
    this.write(MMIO.QUEUE_DEVICE_HIGH, 0);
    this.write(MMIO.QUEUE_READY, 1);
    const q: QueueLayout = { size, desc, avail, used, nextDesc: 0, availIdx: 0, seenUsed: 0 };
    this.queues[index] = q;
    return q;
  }

  /** negotiate() + every queue at its maximum size (or `size`) + DRIVER_OK. */
  start(options: { features?: bigint; size?: number } = {}): void {
    if (!this.negotiate(options.features)) throw new Error("FEATURES_OK refused");
    const n = this.transport.device.queueSizes.length;
    for (let i = 0; i < n; i++) {
      this.write(MMIO.QUEUE_SEL, i);
      const max = this.read(MMIO.QUEUE_NUM_MAX);
      this.setupQueue(i, Math.min(options.size ?? max, max));
    }
    this.write(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
  }

  /** Allocate `len` bytes of buffer space (8-byte aligned), optionally filled. */
  alloc(len: number, fill?: Uint8Array | number): number {
    const addr = this.heap;
    this.heap = ((this.heap + len + 7) & ~7) >>> 0;
    if (this.heap > RAM_BASE + this.ram.length) throw new Error("test RAM exhausted");
    if (fill instanceof Uint8Array) this.ram.set(fill, addr - RAM_BASE);
    else if (fill !== undefined) this.ram.fill(fill, addr - RAM_BASE, addr - RAM_BASE + len);
    return addr;
  }

  /** Reset the buffer allocator. */
  freeAll(): void {
    this.heap = RAM_BASE + this.ram.length / 2;
  }

  bytes(addr: number, len: number): Uint8Array {
    return this.ram.slice(addr - RAM_BASE, addr - RAM_BASE + len);
  }

  writeDesc(tableAddr: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const d = tableAddr - RAM_BASE + 16 * i;
    this.view.setUint32(d, addr >>> 0, true);
    this.view.setUint32(d + 4, 0, true);
    this.view.setUint32(d + 8, len >>> 0, true);
    this.view.setUint16(d + 12, flags, true);
    this.view.setUint16(d + 14, next, true);
  }

  /**
   * Post a chain on queue `index` (direct descriptors, or one indirect table)
   * and publish it in the available ring; returns the head index. Does not kick.
   */
  post(index: number, bufs: readonly Buf[], options: { indirect?: boolean } = {}): number {
    const q = this.queues[index]!;
    let head: number;
    if (options.indirect) {
      const table = this.alloc(16 * bufs.length);
      bufs.forEach((b, i) => {
        const last = i === bufs.length - 1;
        const flags = (b.write ? VIRTQ_DESC_F.WRITE : 0) | (last ? 0 : VIRTQ_DESC_F.NEXT);
        this.writeDesc(table, i, b.addr, b.len, flags, last ? 0 : i + 1);
      });
      head = q.nextDesc;
      q.nextDesc = (q.nextDesc + 1) % q.size;
      this.writeDesc(q.desc, head, table, 16 * bufs.length, VIRTQ_DESC_F.INDIRECT, 0);
    } else {
      const ids = bufs.map(() => {
        const id = q.nextDesc;
        q.nextDesc = (q.nextDesc + 1) % q.size;
        return id;
      });
      head = ids[0]!;
      bufs.forEach((b, i) => {
        const last = i === bufs.length - 1;
        const flags = (b.write ? VIRTQ_DESC_F.WRITE : 0) | (last ? 0 : VIRTQ_DESC_F.NEXT);
        this.writeDesc(q.desc, ids[i]!, b.addr, b.len, flags, last ? 0 : ids[i + 1]!);
      });
    }
    this.publish(index, head);
    return head;
  }

  /** Put `head` in the available ring and bump avail.idx. */
  publish(index: number, head: number): void {
    const q = this.queues[index]!;
    this.view.setUint16(q.avail - RAM_BASE + 4 + 2 * (q.availIdx % q.size), head, true);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.view.setUint16(q.avail - RAM_BASE + 2, q.availIdx, true);
  }

  kick(index: number): void {
    this.write(MMIO.QUEUE_NOTIFY, index);
  }

  /** The used ring entries the driver has not seen yet. */
  takeUsed(index: number): { id: number; len: number }[] {
    const q = this.queues[index]!;
    const out: { id: number; len: number }[] = [];
    const usedIdx = this.view.getUint16(q.used - RAM_BASE + 2, true);
    while (q.seenUsed !== usedIdx) {
      const e = q.used - RAM_BASE + 4 + 8 * (q.seenUsed % q.size);
      out.push({ id: this.view.getUint32(e, true), len: this.view.getUint32(e + 4, true) });
      q.seenUsed = (q.seenUsed + 1) & 0xffff;
    }
    return out;
  }

  /** avail.flags. */
  setAvailFlags(index: number, flags: number): void {
    this.view.setUint16(this.queues[index]!.avail - RAM_BASE, flags, true);
  }

  /** used_event (at the end of the available ring). */
  setUsedEvent(index: number, value: number): void {
    const q = this.queues[index]!;
    this.view.setUint16(q.avail - RAM_BASE + 4 + 2 * q.size, value, true);
  }

  /** avail_event (at the end of the used ring). */
  availEvent(index: number): number {
    const q = this.queues[index]!;
    return this.view.getUint16(q.used - RAM_BASE + 4 + 8 * q.size, true);
  }

  /** Read and acknowledge InterruptStatus. */
  ack(): number {
    const s = this.read(MMIO.INTERRUPT_STATUS);
    this.write(MMIO.INTERRUPT_ACK, s);
    return s;
  }
}

/** All features the transport can offer. */
export const RING_FEATURES =
  (1n << BigInt(FEATURE.VERSION_1)) |
  (1n << BigInt(FEATURE.RING_INDIRECT_DESC)) |
  (1n << BigInt(FEATURE.RING_EVENT_IDX));

/** A seeded PRNG for tests (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
