/**
 * Shared plumbing of the device models: one attachment, counters, one
 * reusable descriptor chain per queue, and the drain loop (pop, handle,
 * push, publish avail_event, notify once per batch).
 */
import { emptyCounters, type VirtioCounters, type VirtioDevice, type VirtioHost } from "./device.js";
import { VirtioError } from "./errors.js";
import { DescriptorChain } from "./queue.js";

/** A handler's answer: the chain stays with the device (completed later, or the device failed). */
export const HOLD = -1;

/** Base class of hvkit's virtio device models. */
export abstract class VirtioDeviceBase implements VirtioDevice {
  abstract readonly type: string;
  abstract readonly deviceId: number;
  abstract readonly features: number;
  abstract readonly queueSizes: readonly number[];
  abstract readonly configSize: number;
  readonly counters: VirtioCounters = emptyCounters();
  private host_: VirtioHost | undefined;
  private readonly queueChains: (DescriptorChain | undefined)[] = [];

  attach(host: VirtioHost): void {
    if (this.host_) {
      throw new VirtioError(
        "VIRTIO_DEVICE_IN_USE",
        `this virtio-${this.type} device already sits in a slot; create one device model per VM (backends such as disk images can be shared)`,
      );
    }
    this.host_ = host;
  }

  /** The transport (set by attach, before any other call). */
  protected get host(): VirtioHost {
    return this.host_!;
  }

  /** Whether the device is in a slot whose driver is live. */
  protected get live(): boolean {
    return this.host_?.live ?? false;
  }

  /** The reusable chain of queue `index`. */
  protected chain(index: number): DescriptorChain {
    let c = this.queueChains[index];
    if (!c) {
      c = new DescriptorChain(this.host.memory, this.queueSizes[index]!);
      this.queueChains[index] = c;
    }
    return c;
  }

  /**
   * Consume chains of queue `index` while `more()` (default: always) and
   * chains are available. `handle` returns the bytes it wrote into the
   * chain's device-writable buffers (the chain goes to the used ring) or
   * {@link HOLD}. Stops at a device error.
   */
  protected drain(index: number, handle: (chain: DescriptorChain) => number, more?: () => boolean): void {
    const host = this.host;
    const q = host.queue(index);
    const chain = this.chain(index);
    let used = false;
    while (host.live && (!more || more())) {
      if (q.pop(chain) <= 0) break;
      this.counters.requests++;
      const len = handle(chain);
      if (len >= 0 && q.push(chain.head, len)) used = true;
    }
    q.publishAvailEvent();
    if (used) host.usedBuffers(index);
  }

  abstract readConfig(offset: number, size: 1 | 2 | 4): number;
  abstract notify(index: number): void;
  abstract reset(): void;
}

/** Little-endian read of `size` bytes at `offset` of a byte array (configuration spaces). */
export function readLe(bytes: Uint8Array, offset: number, size: 1 | 2 | 4): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (bytes[offset + i] ?? 0);
  return v >>> 0;
}
