/**
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2): the register
 * window of one board slot, carrying one device model. It implements the
 * device status state machine (2.1, 3.1.1), feature negotiation (2.2: the
 * device offers VERSION_1, which the driver must accept, plus indirect
 * descriptors and event indices unless disabled; ACCESS_PLATFORM is not
 * offered, DMA addresses are guest physical), the queue registers, the
 * interrupt (InterruptStatus/InterruptACK driving a level on the PLIC), and
 * ConfigGeneration.
 *
 * The driver's mistakes never throw: accesses of the wrong size or to an
 * unknown offset are `badAccesses` (reads 0), register writes the protocol
 * forbids at that moment (features after FEATURES_OK, a ready queue's
 * address, clearing status bits without a reset, ...) are ignored and
 * counted as `protocolViolations`, and a queue or request the device cannot
 * make sense of sets DEVICE_NEEDS_RESET with a configuration-change
 * interrupt (2.1.2) until the driver resets the device by writing 0 to
 * Status.
 */
import {
  type AccessSize,
  type Device,
  type IrqLine,
  type Stateful,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_SIZE,
  VIRTIO_MMIO_VERSION,
  VIRTIO_VENDOR_ID,
  type VirtioSlotContext,
  type VirtioSlotFactory,
} from "@hvkit/machine";
import { FEATURE, INTERRUPT, MMIO, STATUS } from "./constants.js";
import type { VirtioDevice, VirtioHost } from "./device.js";
import { VirtioError } from "./errors.js";
import { GuestMemory } from "./memory.js";
import { SplitQueue, validQueueSize } from "./queue.js";
import { arrayOf, bool, int, record, str } from "./state.js";

/** Observability hooks of a transport (no-ops by default). */
export interface VirtioEvents {
  /** A device error set DEVICE_NEEDS_RESET (the reason says what the driver did). */
  error?(reason: string): void;
  /** The driver broke the register protocol; the write was ignored. */
  violation?(reason: string): void;
  /** Status changed (after a driver write or a device error). */
  status?(status: number): void;
}

/** Options of {@link virtioMmio}. */
export interface VirtioMmioOptions {
  /** Offer VIRTIO_F_RING_INDIRECT_DESC (default true). */
  indirectDescriptors?: boolean;
  /** Offer VIRTIO_F_RING_EVENT_IDX (default true). */
  eventIdx?: boolean;
  /** Observability hooks. */
  events?: VirtioEvents;
  /**
   * The device's view of memory for DMA. Default: guest RAM, checked by
   * `GuestMemory`. A passthrough device passes a `GuestMemory` whose
   * `range()` translates through an IOMMU.
   */
  memory?: (context: VirtioSlotContext) => GuestMemory;
}

/** Snapshot state of one queue. */
export interface VirtioQueueState {
  size: number;
  ready: boolean;
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
  lastAvail: number;
  usedIdx: number;
  broken: boolean;
  error: string;
}

/** Snapshot state of a transport and its device. */
export interface VirtioMmioState {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  driverFeatures: [number, number];
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
  queues: VirtioQueueState[];
  /** The device model's own state (null when it has none). */
  device: unknown;
}

const DRIVER_BITS =
  STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK | STATUS.FAILED;
const NO_EVENTS: VirtioEvents = {};

/** A virtio-mmio slot device carrying one virtio device model. */
export class VirtioMmio implements Device, Stateful<VirtioMmioState>, VirtioHost {
  /** "virtio<slot>-<type>", e.g. "virtio0-blk". */
  readonly name: string;
  readonly size = VIRTIO_MMIO_SIZE;
  /** Accesses of a size or offset the transport does not implement. */
  badAccesses = 0;
  /** Register writes the protocol forbids at that moment (ignored). */
  protocolViolations = 0;
  /** The device model. */
  readonly device: VirtioDevice;
  readonly memory: GuestMemory;
  /** The last device error or protocol violation, for messages ("" when none). */
  lastError = "";
  /** Device status (2.1). */
  status = 0;
  /** InterruptStatus (4.2.2). */
  interruptStatus = 0;
  /** ConfigGeneration. */
  configGeneration = 0;
  private readonly queues: SplitQueue[];
  private readonly irq: IrqLine;
  private readonly events: VirtioEvents;
  /** Offered features, bits 0..31 and 32..63. */
  private readonly offered: [number, number];
  private readonly accepted: [number, number] = [0, 0];
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private line = false;

  /** Build the transport for `device` in the slot described by `context` (see {@link virtioMmio}). */
  constructor(device: VirtioDevice, context: VirtioSlotContext, options: VirtioMmioOptions = {}) {
    if (device.queueSizes.length === 0 || !device.queueSizes.every(validQueueSize)) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-${device.type}: queue sizes ${JSON.stringify(device.queueSizes)} must be powers of two up to 32768`,
      );
    }
    if (!Number.isInteger(device.configSize) || device.configSize < 0 || device.configSize > 0xf00) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-${device.type}: config space of ${device.configSize} bytes`,
      );
    }
    this.device = device;
    this.name = `virtio${context.slot}-${device.type}`;
    this.irq = context.irq;
    this.events = options.events ?? NO_EVENTS;
    this.memory =
      options.memory?.(context) ?? new GuestMemory(context.ram, context.ramBase, context.dmaWritten);
    const onError = (_q: SplitQueue, reason: string) => this.fail(reason);
    this.queues = device.queueSizes.map((n, i) => new SplitQueue(this.memory, i, n, onError));
    let low = device.features & 0x00ff_ffff;
    if (options.indirectDescriptors !== false) low |= 1 << FEATURE.RING_INDIRECT_DESC;
    if (options.eventIdx !== false) low |= 1 << FEATURE.RING_EVENT_IDX;
    this.offered = [low >>> 0, 1 << (FEATURE.VERSION_1 - 32)];
    device.attach(this);
  }

  // ---- VirtioHost ----

  queue(index: number): SplitQueue {
    return this.queues[index]!;
  }

  negotiated(bit: number): boolean {
    if ((this.status & STATUS.FEATURES_OK) === 0 || bit < 0 || bit > 63) return false;
    return ((this.accepted[bit >>> 5]! >>> (bit & 31)) & 1) !== 0;
  }

  get live(): boolean {
    return (this.status & (STATUS.DRIVER_OK | STATUS.DEVICE_NEEDS_RESET)) === STATUS.DRIVER_OK;
  }

  usedBuffers(index: number): void {
    const q = this.queues[index];
    if (!q?.needsNotification()) return;
    this.raise(INTERRUPT.USED_BUFFER);
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if ((this.status & STATUS.DRIVER_OK) !== 0) this.raise(INTERRUPT.CONFIG_CHANGE);
  }

  fail(reason: string): void {
    this.device.counters.errors++;
    this.lastError = reason;
    this.events.error?.(reason);
    if ((this.status & STATUS.DEVICE_NEEDS_RESET) !== 0) return;
    this.status |= STATUS.DEVICE_NEEDS_RESET;
    this.events.status?.(this.status);
    // 2.1.2: with DRIVER_OK set, tell the driver through a configuration-change notification.
    if ((this.status & STATUS.DRIVER_OK) !== 0) this.raise(INTERRUPT.CONFIG_CHANGE);
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.device.counters.interrupts++;
    this.updateLine();
  }

  private updateLine(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.line) {
      this.line = level;
      this.irq(level);
    }
  }

  private violation(reason: string): void {
    this.protocolViolations++;
    this.lastError = reason;
    this.events.violation?.(reason);
  }

  // ---- Device ----

  read(offset: number, size: AccessSize): number {
    if (offset >= MMIO.CONFIG) return this.readConfig(offset - MMIO.CONFIG, size);
    if (size !== 4 || (offset & 3) !== 0) {
      this.badAccesses++;
      return 0;
    }
    switch (offset) {
      case MMIO.MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case MMIO.VERSION:
        return VIRTIO_MMIO_VERSION;
      case MMIO.DEVICE_ID:
        return this.device.deviceId;
      case MMIO.VENDOR_ID:
        return VIRTIO_VENDOR_ID;
      case MMIO.DEVICE_FEATURES:
        return this.deviceFeaturesSel < 2 ? this.offered[this.deviceFeaturesSel]! : 0;
      case MMIO.QUEUE_NUM_MAX:
        return this.queues[this.queueSel]?.maxSize ?? 0;
      case MMIO.QUEUE_READY:
        return this.queues[this.queueSel]?.ready ? 1 : 0;
      case MMIO.INTERRUPT_STATUS:
        return this.interruptStatus;
      case MMIO.STATUS:
        return this.status;
      case MMIO.SHM_LEN_LOW:
      case MMIO.SHM_LEN_HIGH:
      case MMIO.SHM_BASE_LOW:
      case MMIO.SHM_BASE_HIGH:
        return 0xffff_ffff; // no shared memory regions: length -1 (4.2.2)
      case MMIO.QUEUE_RESET:
        return 0; // VIRTIO_F_RING_RESET is not offered
      case MMIO.CONFIG_GENERATION:
        return this.configGeneration;
      default:
        // Write-only registers and holes.
        this.badAccesses++;
        return 0;
    }
  }

  private readConfig(off: number, size: AccessSize): number {
    if (size === 8 || (off & (size - 1)) !== 0 || off + size > this.device.configSize) {
      this.badAccesses++;
      return 0;
    }
    return this.device.readConfig(off, size) >>> 0;
  }

  write(offset: number, size: AccessSize, lo: number, _hi: number): void {
    if (offset >= MMIO.CONFIG) {
      const off = offset - MMIO.CONFIG;
      if (size === 8 || (off & (size - 1)) !== 0 || off + size > this.device.configSize) {
        this.badAccesses++;
        return;
      }
      if (this.device.writeConfig) this.device.writeConfig(off, size, lo >>> 0);
      else this.violation("write to read-only configuration space");
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) {
      this.badAccesses++;
      return;
    }
    const v = lo >>> 0;
    switch (offset) {
      case MMIO.DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        return;
      case MMIO.DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        return;
      case MMIO.DRIVER_FEATURES:
        if ((this.status & (STATUS.FEATURES_OK | STATUS.DRIVER_OK)) !== 0) {
          this.violation("DriverFeatures written after FEATURES_OK");
        } else if (this.driverFeaturesSel < 2) {
          this.accepted[this.driverFeaturesSel] = v;
        } else if (v !== 0) {
          this.violation(`DriverFeatures word ${this.driverFeaturesSel} set to 0x${v.toString(16)}`);
        }
        return;
      case MMIO.QUEUE_SEL:
        this.queueSel = v;
        return;
      case MMIO.QUEUE_NUM:
      case MMIO.QUEUE_DESC_LOW:
      case MMIO.QUEUE_DESC_HIGH:
      case MMIO.QUEUE_DRIVER_LOW:
      case MMIO.QUEUE_DRIVER_HIGH:
      case MMIO.QUEUE_DEVICE_LOW:
      case MMIO.QUEUE_DEVICE_HIGH:
        this.writeQueueRegister(offset, v);
        return;
      case MMIO.QUEUE_READY:
        this.writeQueueReady(v);
        return;
      case MMIO.QUEUE_NOTIFY:
        this.kick(v & 0xffff);
        return;
      case MMIO.INTERRUPT_ACK:
        this.interruptStatus &= ~v;
        this.updateLine();
        return;
      case MMIO.STATUS:
        this.writeStatus(v);
        return;
      case MMIO.SHM_SEL:
      case MMIO.QUEUE_RESET:
        return; // no shared memory, no queue reset: nothing to select or reset
      default:
        // Read-only registers and holes.
        this.badAccesses++;
        return;
    }
  }

  private writeQueueRegister(offset: number, v: number): void {
    const q = this.queues[this.queueSel];
    if (!q) {
      this.violation(
        `queue register written with QueueSel ${this.queueSel} (the device has ${this.queues.length})`,
      );
      return;
    }
    if (q.ready) {
      this.violation(`queue ${q.index} reconfigured while QueueReady is 1`);
      return;
    }
    switch (offset) {
      case MMIO.QUEUE_NUM:
        q.size = v;
        return;
      case MMIO.QUEUE_DESC_LOW:
        q.descLo = v;
        return;
      case MMIO.QUEUE_DESC_HIGH:
        q.descHi = v;
        return;
      case MMIO.QUEUE_DRIVER_LOW:
        q.driverLo = v;
        return;
      case MMIO.QUEUE_DRIVER_HIGH:
        q.driverHi = v;
        return;
      case MMIO.QUEUE_DEVICE_LOW:
        q.deviceLo = v;
        return;
      default:
        q.deviceHi = v;
    }
  }

  private writeQueueReady(v: number): void {
    const q = this.queues[this.queueSel];
    if (!q) {
      this.violation(
        `QueueReady written with QueueSel ${this.queueSel} (the device has ${this.queues.length})`,
      );
      return;
    }
    if ((v & 1) === 0) {
      q.ready = false;
      return;
    }
    if (q.ready) return;
    if ((this.status & STATUS.FEATURES_OK) === 0) {
      this.violation(`queue ${q.index} enabled before FEATURES_OK`);
      return;
    }
    q.eventIdx = this.negotiated(FEATURE.RING_EVENT_IDX);
    q.indirect = this.negotiated(FEATURE.RING_INDIRECT_DESC);
    const error = q.enable();
    if (error !== "") this.fail(error);
  }

  private kick(index: number): void {
    const q = this.queues[index];
    if (!q) {
      this.violation(`QueueNotify for queue ${index} (the device has ${this.queues.length})`);
      return;
    }
    if (!this.live || !q.ready || q.broken) {
      // Not an error: a driver may kick a queue the device stopped; nothing is consumed.
      this.violation(
        `QueueNotify for queue ${index} while it cannot run (status 0x${this.status.toString(16)})`,
      );
      return;
    }
    this.device.counters.notifications++;
    this.device.notify(index);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      this.events.status?.(0);
      return;
    }
    const old = this.status;
    const held = old & DRIVER_BITS;
    if ((v & held) !== held) {
      this.violation(`Status 0x${v.toString(16)} clears bits of 0x${old.toString(16)} without a reset`);
      return;
    }
    let next = old | (v & DRIVER_BITS);
    const added = next & ~old;
    if ((added & STATUS.FEATURES_OK) !== 0 && !this.featuresAcceptable()) {
      // 3.1.1 step 6: the driver re-reads Status and finds FEATURES_OK unset.
      next &= ~STATUS.FEATURES_OK;
    }
    if ((added & STATUS.DRIVER_OK) !== 0 && (next & STATUS.FEATURES_OK) === 0) {
      this.violation("DRIVER_OK without FEATURES_OK");
      next &= ~STATUS.DRIVER_OK;
    }
    this.status = next;
    if (next !== old) this.events.status?.(next);
    if ((next & ~old & STATUS.DRIVER_OK) !== 0) {
      this.device.activate?.();
      // Buffers made available before DRIVER_OK are consumed now (3.1.1: not before).
      for (const q of this.queues) {
        if (this.live && q.hasAvailable()) this.device.notify(q.index);
      }
    }
  }

  private featuresAcceptable(): boolean {
    const [lo, hi] = this.accepted;
    const [offLo, offHi] = this.offered;
    if ((lo & ~offLo) !== 0 || (hi & ~offHi) !== 0) {
      this.violation(
        `driver accepted features 0x${(hi >>> 0).toString(16)}_${(lo >>> 0).toString(16).padStart(8, "0")} the device did not offer`,
      );
      return false;
    }
    if ((hi & (1 << (FEATURE.VERSION_1 - 32))) === 0) {
      this.violation("driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)");
      return false;
    }
    return true;
  }

  /** Device reset (Status 0, or the board's reset). */
  reset(): void {
    this.status = 0;
    this.accepted[0] = this.accepted[1] = 0;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    for (const q of this.queues) q.reset();
    this.interruptStatus = 0;
    this.updateLine();
    this.device.reset();
  }

  /** Counters for vm.stats: the device's, plus the transport's bad accesses and protocol violations. */
  counters(): Record<string, number> {
    return {
      ...this.device.counters,
      badAccesses: this.badAccesses,
      protocolViolations: this.protocolViolations,
    };
  }

  // ---- Stateful ----

  getState(): VirtioMmioState {
    for (const q of this.queues) {
      if (q.pending > 0) {
        throw new VirtioError(
          "VIRTIO_BUSY",
          `${this.name}: ${q.pending} request(s) in flight on queue ${q.index}; snapshot when the backend has completed them`,
        );
      }
    }
    return {
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: [this.accepted[0], this.accepted[1]],
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => ({
        size: q.size,
        ready: q.ready,
        desc: [q.descLo, q.descHi],
        driver: [q.driverLo, q.driverHi],
        device: [q.deviceLo, q.deviceHi],
        lastAvail: q.lastAvail,
        usedIdx: q.usedIdx,
        broken: q.broken,
        error: q.error,
      })),
      device: this.device.getState?.() ?? null,
    };
  }

  setState(state: VirtioMmioState): void {
    const who = this.name;
    const s = record(who, state);
    const u32 = 0xffff_ffff;
    const queues = arrayOf(who, s, "queues", this.queues.length).map((x) => record(who, x));
    const parsed = queues.map((q, i) => {
      const pair = (key: string): [number, number] => {
        const v = q[key];
        if (!Array.isArray(v) || v.length !== 2)
          throw new VirtioError("VIRTIO_BAD_STATE", `${who}: queue ${i} ${key}`);
        return [int(who, { v: v[0] }, "v", 0, u32), int(who, { v: v[1] }, "v", 0, u32)];
      };
      return {
        size: int(who, q, "size", 0, u32),
        ready: bool(who, q, "ready"),
        desc: pair("desc"),
        driver: pair("driver"),
        device: pair("device"),
        lastAvail: int(who, q, "lastAvail", 0, 0xffff),
        usedIdx: int(who, q, "usedIdx", 0, 0xffff),
        broken: bool(who, q, "broken"),
        error: str(who, q, "error"),
      };
    });
    const features = arrayOf(who, s, "driverFeatures", 2);
    const status = int(who, s, "status", 0, 0xff);
    const accepted: [number, number] = [
      int(who, { v: features[0] }, "v", 0, u32),
      int(who, { v: features[1] }, "v", 0, u32),
    ];
    const deviceFeaturesSel = int(who, s, "deviceFeaturesSel", 0, u32);
    const driverFeaturesSel = int(who, s, "driverFeaturesSel", 0, u32);
    const queueSel = int(who, s, "queueSel", 0, u32);
    const interruptStatus = int(who, s, "interruptStatus", 0, 3);
    const configGeneration = int(who, s, "configGeneration", 0, u32);
    // Everything checked: apply.
    this.reset();
    this.status = status;
    this.accepted[0] = accepted[0];
    this.accepted[1] = accepted[1];
    this.deviceFeaturesSel = deviceFeaturesSel;
    this.driverFeaturesSel = driverFeaturesSel;
    this.queueSel = queueSel;
    this.configGeneration = configGeneration;
    parsed.forEach((p, i) => {
      const q = this.queues[i]!;
      q.size = p.size;
      [q.descLo, q.descHi] = p.desc;
      [q.driverLo, q.driverHi] = p.driver;
      [q.deviceLo, q.deviceHi] = p.device;
      q.eventIdx = this.negotiated(FEATURE.RING_EVENT_IDX);
      q.indirect = this.negotiated(FEATURE.RING_INDIRECT_DESC);
      if (p.ready) {
        const error = q.enable();
        if (error !== "") throw new VirtioError("VIRTIO_BAD_STATE", `${who}: ${error}`);
      }
      q.lastAvail = p.lastAvail;
      q.usedIdx = p.usedIdx;
      q.broken = p.broken;
      q.error = p.error;
    });
    if (s.device !== null && s.device !== undefined) this.device.setState?.(s.device);
    this.interruptStatus = interruptStatus;
    this.updateLine();
  }
}

/**
 * A board slot factory for `device` behind a virtio-mmio transport: put it
 * in `VmConfig.devices` (or `VirtBoardConfig.virtio`). The transport is
 * built when the VM is; a device model can sit in one slot only.
 */
export function virtioMmio(device: VirtioDevice, options: VirtioMmioOptions = {}): VirtioSlotFactory {
  return (context) => new VirtioMmio(device, context, options);
}
