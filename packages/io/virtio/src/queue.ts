/**
 * Split virtqueues (virtio 1.2, 2.7) from the device side, hardened against
 * a hostile driver. The driver owns three areas in guest RAM: the descriptor
 * table (16-byte {addr, len, flags, next}), the available ring ({flags, idx,
 * ring[size], used_event}) and the used ring ({flags, idx, ring[size] of {id,
 * len}, avail_event}). The device pops descriptor chains from the available
 * ring and pushes them, with the number of bytes it wrote, to the used ring.
 *
 * Every value read from guest memory is checked before use, and each
 * descriptor is read exactly once, so a driver that rewrites the table while
 * a request is in flight changes nothing the device already parsed. A chain
 * that breaks the rules is a device error: the queue stops (`broken`) and the
 * transport sets DEVICE_NEEDS_RESET (2.1.2). What is refused:
 *
 * - ring areas that are misaligned or not wholly inside RAM (2.7: alignment
 *   16/2/4), a queue size that is not a power of two up to QueueNumMax;
 * - an available index that runs more than the queue size ahead of the
 *   device's, a head or next index past the table, a head already in flight;
 * - buffers not wholly inside RAM (so no DMA leaves the VM), chains longer
 *   than the queue size (loops included: 2.7.5.3.1 "A driver MUST NOT create
 *   a descriptor chain longer than the Queue Size"), more than 4 GiB - 1 bytes
 *   in total (the used ring's len is 32 bits), a device-readable buffer after
 *   a device-writable one (2.7.4.2);
 * - indirect tables when VIRTIO_F_RING_INDIRECT_DESC was not negotiated,
 *   nested (an INDIRECT flag inside a table), combined with NEXT, empty,
 *   not a multiple of 16 bytes, or outside RAM (2.7.5.3.1).
 */
import { MAX_QUEUE_SIZE, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F } from "./constants.js";
import type { GuestMemory } from "./memory.js";

/** The largest byte count a chain may describe (the used ring's len is a u32). */
const MAX_CHAIN_BYTES = 0xffff_ffff;

/**
 * One parsed descriptor chain: its buffers as RAM offsets (checked), readable
 * ones first. Reusable: the queue refills it on each pop.
 */
export class DescriptorChain {
  /** The head descriptor's index (what goes back in the used ring). */
  head = 0;
  /** Number of buffers. */
  count = 0;
  /** Buffers 0 .. readableCount-1 are device-readable, the rest device-writable. */
  readableCount = 0;
  /** Total bytes of the device-readable buffers. */
  readableBytes = 0;
  /** Total bytes of the device-writable buffers. */
  writableBytes = 0;
  /** RAM offset of each buffer. */
  readonly offsets: Uint32Array;
  /** Length of each buffer. */
  readonly lengths: Uint32Array;
  /** The memory the offsets point into. */
  readonly memory: GuestMemory;

  /** A chain of up to `capacity` buffers (a queue's size). */
  constructor(memory: GuestMemory, capacity: number) {
    this.memory = memory;
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
  }

  /** Maximum number of buffers. */
  get capacity(): number {
    return this.offsets.length;
  }

  /** Copy device-readable bytes [at, at+into.length) into `into`; returns how many there were. */
  read(at: number, into: Uint8Array): number {
    const ram = this.memory.ram;
    let done = 0;
    for (let i = 0; i < this.readableCount && done < into.length; i++) {
      const len = this.lengths[i]!;
      if (at >= len) {
        at -= len;
        continue;
      }
      const n = Math.min(len - at, into.length - done);
      const off = this.offsets[i]! + at;
      into.set(ram.subarray(off, off + n), done);
      done += n;
      at = 0;
    }
    return done;
  }

  /** Copy `from` into the device-writable bytes from `at`; returns how many fitted. Announces the write. */
  write(at: number, from: Uint8Array): number {
    const mem = this.memory;
    let done = 0;
    for (let i = this.readableCount; i < this.count && done < from.length; i++) {
      const len = this.lengths[i]!;
      if (at >= len) {
        at -= len;
        continue;
      }
      const n = Math.min(len - at, from.length - done);
      const off = this.offsets[i]! + at;
      mem.ram.set(from.subarray(done, done + n), off);
      mem.written(off, n);
      done += n;
      at = 0;
    }
    return done;
  }

  /** Store one byte at device-writable offset `at`; false when the chain is shorter. */
  writeByte(at: number, value: number): boolean {
    for (let i = this.readableCount; i < this.count; i++) {
      const len = this.lengths[i]!;
      if (at < len) {
        const off = this.offsets[i]! + at;
        this.memory.ram[off] = value;
        this.memory.written(off, 1);
        return true;
      }
      at -= len;
    }
    return false;
  }

  /**
   * The RAM offset of bytes [at, at+length) of the readable (or writable)
   * part when they lie in one buffer, else -1: lets a device hand a backend a
   * view of guest RAM instead of copying.
   */
  contiguous(writable: boolean, at: number, length: number): number {
    const from = writable ? this.readableCount : 0;
    const to = writable ? this.count : this.readableCount;
    for (let i = from; i < to; i++) {
      const len = this.lengths[i]!;
      if (at < len) return at + length <= len ? this.offsets[i]! + at : -1;
      at -= len;
    }
    return length === 0 ? 0 : -1;
  }
}

/** Device-side state of one split virtqueue. */
export class SplitQueue {
  /** Queue index within the device. */
  readonly index: number;
  /** QueueNumMax: the largest size the device supports. */
  readonly maxSize: number;
  /** QueueNum as written by the driver. */
  size: number;
  /** QueueReady. */
  ready = false;
  /** Guest physical addresses of the three areas (low and high words, as the registers hold them). */
  descLo = 0;
  descHi = 0;
  driverLo = 0;
  driverHi = 0;
  deviceLo = 0;
  deviceHi = 0;
  /** VIRTIO_F_RING_EVENT_IDX negotiated. */
  eventIdx = false;
  /** VIRTIO_F_RING_INDIRECT_DESC negotiated. */
  indirect = false;
  /** The next available-ring entry the device will consume. */
  lastAvail = 0;
  /** The used ring's idx as the device last wrote it. */
  usedIdx = 0;
  /** Set after a device error; nothing more is consumed until reset. */
  broken = false;
  /** Why the queue broke (for messages). */
  error = "";
  private descOff = 0;
  private availOff = 0;
  private usedOff = 0;
  private signalledUsed = 0;
  private signalledValid = false;
  /** Heads popped and not yet pushed back. */
  private readonly inFlight: Uint8Array;
  private inFlightCount = 0;
  private readonly memory: GuestMemory;
  private readonly onError: (queue: SplitQueue, reason: string) => void;

  /**
   * @param memory guest RAM
   * @param index queue index
   * @param maxSize QueueNumMax (1..32768)
   * @param onError called once when the queue breaks
   */
  constructor(
    memory: GuestMemory,
    index: number,
    maxSize: number,
    onError: (queue: SplitQueue, reason: string) => void,
  ) {
    this.memory = memory;
    this.index = index;
    this.maxSize = maxSize;
    this.size = maxSize;
    this.inFlight = new Uint8Array(maxSize);
    this.onError = onError;
  }

  /** Heads the device holds (popped, not yet used). */
  get pending(): number {
    return this.inFlightCount;
  }

  /** Back to the state after a device reset. */
  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descLo = this.descHi = this.driverLo = this.driverHi = this.deviceLo = this.deviceHi = 0;
    this.eventIdx = false;
    this.indirect = false;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.broken = false;
    this.error = "";
    this.signalledUsed = 0;
    this.signalledValid = false;
    this.inFlight.fill(0);
    this.inFlightCount = 0;
  }

  /**
   * QueueReady = 1: check the size and the three areas and locate them in
   * RAM. Returns an error message (and leaves the queue not ready) or "".
   */
  enable(): string {
    const size = this.size;
    if (size < 1 || size > this.maxSize || (size & (size - 1)) !== 0) {
      return `queue ${this.index}: QueueNum ${size} is not a power of two in 1..${this.maxSize}`;
    }
    const m = this.memory;
    const desc = m.range(this.descLo, this.descHi, 16 * size);
    const avail = m.range(this.driverLo, this.driverHi, 6 + 2 * size);
    const used = m.range(this.deviceLo, this.deviceHi, 6 + 8 * size);
    const where = (lo: number, hi: number) =>
      `0x${hi === 0 ? "" : `${(hi >>> 0).toString(16)}_`}${(lo >>> 0).toString(16)}`;
    if (desc < 0 || (this.descLo & 15) !== 0) {
      return `queue ${this.index}: descriptor table at ${where(this.descLo, this.descHi)} (${16 * size} bytes) is not 16-byte aligned in RAM`;
    }
    if (avail < 0 || (this.driverLo & 1) !== 0) {
      return `queue ${this.index}: available ring at ${where(this.driverLo, this.driverHi)} is not 2-byte aligned in RAM`;
    }
    if (used < 0 || (this.deviceLo & 3) !== 0) {
      return `queue ${this.index}: used ring at ${where(this.deviceLo, this.deviceHi)} is not 4-byte aligned in RAM`;
    }
    this.descOff = desc;
    this.availOff = avail;
    this.usedOff = used;
    this.ready = true;
    return "";
  }

  private fail(reason: string): number {
    if (!this.broken) {
      this.broken = true;
      this.error = `queue ${this.index}: ${reason}`;
      this.onError(this, this.error);
    }
    return -1;
  }

  /** Whether the driver has made buffers available that the device has not consumed. */
  hasAvailable(): boolean {
    return this.ready && !this.broken && this.memory.u16(this.availOff + 2) !== this.lastAvail;
  }

  /**
   * Take the next available descriptor chain into `chain`: 1 when one was
   * taken, 0 when none is available, -1 on a device error (the queue is
   * broken and the transport told).
   */
  pop(chain: DescriptorChain): number {
    if (!this.ready || this.broken) return 0;
    const m = this.memory;
    const size = this.size;
    const availIdx = m.u16(this.availOff + 2);
    const ahead = (availIdx - this.lastAvail) & 0xffff;
    if (ahead === 0) return 0;
    if (ahead > size) {
      return this.fail(
        `avail.idx ${availIdx} is ${ahead} entries ahead of the device's ${this.lastAvail} (queue size ${size})`,
      );
    }
    const head = m.u16(this.availOff + 4 + 2 * (this.lastAvail & (size - 1)));
    if (head >= size) return this.fail(`head descriptor ${head} is past the table (size ${size})`);
    if (this.inFlight[head] !== 0) return this.fail(`head descriptor ${head} is already in flight`);
    if (chain.capacity < size) return this.fail("internal: chain capacity below the queue size");

    chain.head = head;
    chain.count = 0;
    chain.readableCount = 0;
    chain.readableBytes = 0;
    chain.writableBytes = 0;
    let table = this.descOff;
    let tableLen = size;
    let idx = head;
    let inIndirect = false;
    let total = 0;
    let sawWritable = false;
    for (;;) {
      if (idx >= tableLen) {
        return this.fail(
          `descriptor ${idx} is past the ${inIndirect ? "indirect " : ""}table (${tableLen} entries)`,
        );
      }
      const d = table + 16 * idx;
      const addrLo = m.u32(d);
      const addrHi = m.u32(d + 4);
      const len = m.u32(d + 8);
      const flags = m.u16(d + 12);
      const next = m.u16(d + 14);
      if ((flags & VIRTQ_DESC_F.INDIRECT) !== 0) {
        if (!this.indirect) return this.fail("indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");
        if (inIndirect) return this.fail("indirect descriptor inside an indirect table");
        if ((flags & VIRTQ_DESC_F.NEXT) !== 0) return this.fail("indirect descriptor with NEXT set");
        if (len === 0 || len % 16 !== 0)
          return this.fail(`indirect table of ${len} bytes (not a multiple of 16)`);
        const off = m.range(addrLo, addrHi, len);
        if (off < 0) return this.fail("indirect table outside guest RAM");
        table = off;
        tableLen = len / 16;
        idx = 0;
        inIndirect = true;
        continue;
      }
      if (chain.count === size)
        return this.fail(`descriptor chain longer than the queue size ${size} (a loop?)`);
      const off = m.range(addrLo, addrHi, len);
      if (off < 0) return this.fail(`buffer of ${len} bytes outside guest RAM`);
      total += len;
      if (total > MAX_CHAIN_BYTES) return this.fail("descriptor chain of 4 GiB or more");
      const n = chain.count++;
      chain.offsets[n] = off;
      chain.lengths[n] = len;
      if ((flags & VIRTQ_DESC_F.WRITE) !== 0) {
        sawWritable = true;
        chain.writableBytes += len;
      } else {
        if (sawWritable) return this.fail("device-readable buffer after a device-writable one");
        chain.readableCount++;
        chain.readableBytes += len;
      }
      if ((flags & VIRTQ_DESC_F.NEXT) === 0) break;
      idx = next;
    }
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    this.inFlight[head] = 1;
    this.inFlightCount++;
    return 1;
  }

  /**
   * Return head `head` to the driver in the used ring with `len` bytes
   * written. False (nothing written) when the head is not in flight (after a
   * reset, say).
   */
  push(head: number, len: number): boolean {
    if (!this.ready || head >= this.size || this.inFlight[head] === 0) return false;
    this.inFlight[head] = 0;
    this.inFlightCount--;
    const m = this.memory;
    const slot = this.usedOff + 4 + 8 * (this.usedIdx & (this.size - 1));
    m.setU32(slot, head);
    m.setU32(slot + 4, len);
    m.written(slot, 8);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    m.setU16(this.usedOff + 2, this.usedIdx);
    m.written(this.usedOff + 2, 2);
    return true;
  }

  /**
   * After the device pushed used buffers: whether the driver wants a
   * notification (2.7.7.2: avail.flags NO_INTERRUPT, or with EVENT_IDX the
   * used_event index it published: vring_need_event).
   */
  needsNotification(): boolean {
    if (!this.ready) return false;
    const m = this.memory;
    if (!this.eventIdx) return (m.u16(this.availOff) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    const old = this.signalledUsed;
    const valid = this.signalledValid;
    const now = this.usedIdx;
    this.signalledUsed = now;
    this.signalledValid = true;
    if (!valid) return true;
    const usedEvent = m.u16(this.availOff + 4 + 2 * this.size);
    return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
  }

  /**
   * With EVENT_IDX: publish avail_event = the next entry the device will
   * read, so the driver kicks again when it adds past it (2.7.10). Call
   * after draining the queue.
   */
  publishAvailEvent(): void {
    if (!this.ready || !this.eventIdx || this.broken) return;
    const off = this.usedOff + 4 + 8 * this.size;
    this.memory.setU16(off, this.lastAvail);
    this.memory.written(off, 2);
  }

  /** Whether head `head` is in flight (popped, not yet pushed). */
  isInFlight(head: number): boolean {
    return head < this.maxSize && this.inFlight[head] !== 0;
  }
}

/** Queue sizes a device may declare (power of two, 1..32768). */
export function validQueueSize(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_QUEUE_SIZE && (n & (n - 1)) === 0;
}
