/**
 * virtio-net (virtio 1.2, 5.1) without offloads: receiveq1 (queue 0) and
 * transmitq1 (queue 1), no control queue, no multiqueue. Offered features:
 * MAC (the address is in the configuration space) and STATUS (link up or
 * down). Every buffer starts with the 12-byte struct virtio_net_hdr (5.1.6;
 * with VERSION_1 it always includes num_buffers); the device writes an empty
 * header with num_buffers = 1 and never merges buffers.
 *
 * The host side is a {@link NetBackend}: frames the guest transmits go to
 * `backend.send`, frames for the guest come in through
 * {@link VirtioNet.receive}. {@link netLoopback} sends a device's frames back
 * to it; {@link connectNet} cables two devices (two VMs) together in-process.
 * Frames the guest has no receive buffer for wait in a bounded queue; a frame
 * larger than the buffer it gets, or beyond the queue, is dropped and counted.
 */
import { DEVICE_ID } from "../constants.js";
import { readLe, VirtioDeviceBase } from "../device-base.js";
import { VirtioError } from "../errors.js";
import type { DescriptorChain } from "../queue.js";
import { validQueueSize } from "../queue.js";
import { arrayOf, bool, ints, record } from "../state.js";

/** virtio-net feature bits used here (5.1.3). */
export const VIRTIO_NET_F = { MTU: 3, MAC: 5, MRG_RXBUF: 15, STATUS: 16 } as const;
/** Length of struct virtio_net_hdr with VERSION_1 (5.1.6). */
export const VIRTIO_NET_HDR_BYTES = 12;
/** config.status: link up (5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;
/** The largest frame accepted either way: 64 KiB (an Ethernet frame without offloads is at most 1518 bytes). */
export const MAX_FRAME_BYTES = 65536;

/** Where a virtio-net device sends the guest's frames. */
export interface NetBackend {
  /** A frame the guest transmitted (the device gives up the array). */
  send(frame: Uint8Array): void;
}

/** Options of {@link VirtioNet}. */
export interface VirtioNetOptions {
  /** MAC address, "52:54:00:12:34:56" or 6 bytes. Default 52:54:00:12:34:56. */
  mac?: string | ArrayLike<number>;
  /** Where transmitted frames go (default: dropped). */
  backend?: NetBackend;
  /** Queue size of both queues (power of two). Default 256. */
  queueSize?: number;
  /** Frames held while the guest has no receive buffer. Default 256. */
  rxQueueLimit?: number;
}

/** Counters of a virtio-net device. */
export interface VirtioNetCounters {
  notifications: number;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  interrupts: number;
  /** Frames transmitted by the guest. */
  txFrames: number;
  /** Frames delivered to the guest. */
  rxFrames: number;
  /** Frames for the guest dropped (queue full, buffer too small, link down). */
  rxDropped: number;
}

const CONFIG_SIZE = 12; // mac[6], status, max_virtqueue_pairs, mtu (5.1.4)

function parseMac(mac: string | ArrayLike<number>): Uint8Array {
  if (typeof mac === "string") {
    const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(
      mac,
    );
    if (!m)
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-net: MAC "${mac}" is not of the form 52:54:00:12:34:56`,
      );
    return Uint8Array.from(m.slice(1).map((h) => Number.parseInt(h, 16)));
  }
  const b = Uint8Array.from(mac);
  if (b.length !== 6 || Array.from(mac).some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new VirtioError("VIRTIO_BAD_CONFIG", "virtio-net: a MAC address is 6 bytes");
  }
  return b;
}

/** A virtio network device. */
export class VirtioNet extends VirtioDeviceBase {
  readonly type = "net";
  readonly deviceId = DEVICE_ID.NET;
  readonly features = (1 << VIRTIO_NET_F.MAC) | (1 << VIRTIO_NET_F.STATUS);
  readonly queueSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  override readonly counters: VirtioNetCounters = {
    notifications: 0,
    requests: 0,
    bytesRead: 0,
    bytesWritten: 0,
    errors: 0,
    interrupts: 0,
    txFrames: 0,
    rxFrames: 0,
    rxDropped: 0,
  };
  /** The MAC address. */
  readonly mac: Uint8Array;
  /** Where transmitted frames go. */
  backend: NetBackend | undefined;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly rxLimit: number;
  private readonly rx: Uint8Array[] = [];
  private readonly header = new Uint8Array(VIRTIO_NET_HDR_BYTES);
  private readonly fillHandler = (chain: DescriptorChain): number => this.fill(chain);
  private readonly sendHandler = (chain: DescriptorChain): number => this.transmit(chain);
  private readonly hasFrames = (): boolean => this.rx.length > 0;

  constructor(options: VirtioNetOptions = {}) {
    super();
    const qsize = options.queueSize ?? 256;
    if (!validQueueSize(qsize)) {
      throw new VirtioError("VIRTIO_BAD_CONFIG", `virtio-net: queueSize ${qsize} must be a power of two`);
    }
    const rxLimit = options.rxQueueLimit ?? 256;
    if (!Number.isInteger(rxLimit) || rxLimit < 0) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-net: rxQueueLimit ${rxLimit} must be a whole number`,
      );
    }
    this.queueSizes = [qsize, qsize];
    this.rxLimit = rxLimit;
    this.mac = parseMac(options.mac ?? "52:54:00:12:34:56");
    this.backend = options.backend;
    this.config.set(this.mac, 0);
    this.config[6] = VIRTIO_NET_S_LINK_UP;
    this.config[8] = 1; // max_virtqueue_pairs (meaningful with MQ only)
    this.config[10] = 1500 & 0xff; // mtu (meaningful with MTU only)
    this.config[11] = 1500 >> 8;
    this.header[10] = 1; // num_buffers = 1
  }

  /** Whether the link is up (config.status). */
  get linkUp(): boolean {
    return (this.config[6]! & VIRTIO_NET_S_LINK_UP) !== 0;
  }

  /** Raise or drop the link: the driver sees a configuration change. */
  setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.config[6] = up ? VIRTIO_NET_S_LINK_UP : 0;
    if (!up) this.rx.length = 0;
    if (this.live) this.host.configChanged();
  }

  /** Frames waiting for receive buffers. */
  get pendingFrames(): number {
    return this.rx.length;
  }

  /**
   * Deliver a frame to the guest (copied). False when it was dropped: link
   * down, larger than {@link MAX_FRAME_BYTES}, or the receive queue is full.
   */
  receive(frame: Uint8Array): boolean {
    if (!this.linkUp || frame.length > MAX_FRAME_BYTES || this.rx.length >= this.rxLimit) {
      this.counters.rxDropped++;
      return false;
    }
    this.rx.push(frame.slice());
    if (this.live) this.drain(0, this.fillHandler, this.hasFrames);
    return true;
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readLe(this.config, offset, size);
  }

  activate(): void {
    if (this.rx.length > 0) this.drain(0, this.fillHandler, this.hasFrames);
  }

  notify(index: number): void {
    if (index === 0) this.drain(0, this.fillHandler, this.hasFrames);
    else if (index === 1) this.drain(1, this.sendHandler);
  }

  private fill(chain: DescriptorChain): number {
    const frame = this.rx.shift()!;
    if (chain.writableBytes < VIRTIO_NET_HDR_BYTES + frame.length) {
      // The buffer goes back empty; the frame is lost (no MRG_RXBUF to spread it).
      this.counters.rxDropped++;
      return 0;
    }
    chain.write(0, this.header);
    chain.write(VIRTIO_NET_HDR_BYTES, frame);
    const n = VIRTIO_NET_HDR_BYTES + frame.length;
    this.counters.bytesWritten += n;
    this.counters.rxFrames++;
    return n;
  }

  private transmit(chain: DescriptorChain): number {
    const total = chain.readableBytes;
    if (total < VIRTIO_NET_HDR_BYTES || total - VIRTIO_NET_HDR_BYTES > MAX_FRAME_BYTES) {
      this.counters.errors++;
      return 0;
    }
    const frame = new Uint8Array(total - VIRTIO_NET_HDR_BYTES);
    chain.read(VIRTIO_NET_HDR_BYTES, frame);
    this.counters.bytesRead += total;
    this.counters.txFrames++;
    if (this.linkUp) this.backend?.send(frame);
    return 0;
  }

  reset(): void {
    // Frames for the guest that wait stay queued for the next driver (they are the wire's, not the driver's).
  }

  getState(): VirtioNetState {
    return { linkUp: this.linkUp, rx: this.rx.map((f) => Array.from(f)) };
  }

  setState(state: VirtioNetState): void {
    const who = "virtio-net";
    const s = record(who, state);
    const linkUp = bool(who, s, "linkUp");
    const rx = arrayOf(who, s, "rx", -1);
    if (rx.length > this.rxLimit)
      throw new VirtioError("VIRTIO_BAD_STATE", `${who}: more frames than rxQueueLimit`);
    const frames = rx.map((f, i) => {
      const bytes = ints(who, { [i]: f }, String(i), 0, 255);
      if (bytes.length > MAX_FRAME_BYTES)
        throw new VirtioError("VIRTIO_BAD_STATE", `${who}: frame ${i} too long`);
      return Uint8Array.from(bytes);
    });
    this.config[6] = linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    this.rx.length = 0;
    this.rx.push(...frames);
  }
}

/** Snapshot state of a virtio-net device. */
export interface VirtioNetState {
  linkUp: boolean;
  /** Frames waiting for receive buffers. */
  rx: number[][];
}

/** Send a device's transmitted frames back to it (a loopback cable). */
export function netLoopback(device: VirtioNet): void {
  device.backend = { send: (frame) => device.receive(frame) };
}

/** Cable two devices (e.g. in two VMs) together: each one's frames arrive at the other. */
export function connectNet(a: VirtioNet, b: VirtioNet): void {
  a.backend = { send: (frame) => b.receive(frame) };
  b.backend = { send: (frame) => a.receive(frame) };
}
