/**
 * The contract between a transport and a virtio device model (virtio 1.2,
 * part 5: "Device Types"). A device model knows its device ID, its feature
 * bits, its queues and its configuration space, and consumes buffers when a
 * queue is kicked; it knows nothing about MMIO. The transport
 * ({@link VirtioMmio}) owns the registers, the status state machine, feature
 * negotiation, the queues' configuration and the interrupt, and offers them
 * to the device as a {@link VirtioHost}.
 */
import type { GuestMemory } from "./memory.js";
import type { SplitQueue } from "./queue.js";

/** Counters every virtio device keeps. */
export interface VirtioCounters {
  /** Available-buffer notifications (QueueNotify writes, "kicks") for a live queue. */
  notifications: number;
  /** Descriptor chains the device consumed (requests, packets, fills). */
  requests: number;
  /** Bytes the device read from the driver's buffers. */
  bytesRead: number;
  /** Bytes the device wrote into the driver's buffers. */
  bytesWritten: number;
  /** Device errors (DEVICE_NEEDS_RESET) and requests that failed. */
  errors: number;
  /** Interrupts raised (used-buffer and configuration-change notifications). */
  interrupts: number;
}

/** Fresh zero counters. */
export function emptyCounters(): VirtioCounters {
  return { notifications: 0, requests: 0, bytesRead: 0, bytesWritten: 0, errors: 0, interrupts: 0 };
}

/** What the transport offers the device it carries. */
export interface VirtioHost {
  /** Guest RAM, for the buffers. */
  readonly memory: GuestMemory;
  /** Queue `index` (0 .. queue count - 1). */
  queue(index: number): SplitQueue;
  /** Whether feature bit `bit` was negotiated (offered and accepted with FEATURES_OK). */
  negotiated(bit: number): boolean;
  /** Whether the driver is live: DRIVER_OK set and no DEVICE_NEEDS_RESET. Buffers are consumed only then. */
  readonly live: boolean;
  /** The device put buffers in queue `index`'s used ring: notify the driver unless it suppressed that. */
  usedBuffers(index: number): void;
  /** The configuration space changed: bump ConfigGeneration and raise a configuration-change interrupt. */
  configChanged(): void;
  /** An unrecoverable device error (a malformed request): DEVICE_NEEDS_RESET and a configuration-change interrupt. */
  fail(reason: string): void;
}

/** A virtio device model. */
export interface VirtioDevice {
  /** Short type name for device and counter names: "blk", "net", "console", "rng". */
  readonly type: string;
  /** The virtio device ID (5: 1 net, 2 block, 3 console, 4 entropy). */
  readonly deviceId: number;
  /** Device-type feature bits 0..23 offered (the transport adds VERSION_1 and the ring features). */
  readonly features: number;
  /** QueueNumMax of each queue (powers of two); their count is the number of queues. */
  readonly queueSizes: readonly number[];
  /** Bytes of device configuration space (at offset 0x100 of the transport). */
  readonly configSize: number;
  /** The device's counters (the transport counts notifications, interrupts and device errors). */
  readonly counters: VirtioCounters;
  /** Connect to the transport (once, when the transport is built). */
  attach(host: VirtioHost): void;
  /** Read `size` bytes (1, 2 or 4) of configuration space at `offset` (checked to lie inside). */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  /** Write configuration space; optional (read-only configuration ignores writes). */
  writeConfig?(offset: number, size: 1 | 2 | 4, value: number): void;
  /** The driver set DRIVER_OK: queues are configured and features final. Optional. */
  activate?(): void;
  /** The driver kicked queue `index` (only while live, for a ready queue). */
  notify(index: number): void;
  /** Device reset (status 0 or a board reset): drop in-flight work and per-driver state. */
  reset(): void;
  /** The device's own snapshot state (JSON-safe); optional. */
  getState?(): unknown;
  /** Restore {@link getState} output; throws VIRTIO_BAD_STATE when it does not fit. */
  setState?(state: unknown): void;
}
