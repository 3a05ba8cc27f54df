/**
 * virtio-console (virtio 1.2, 5.3) with a single port and no optional
 * features: receiveq0 (queue 0, host to guest) and transmitq0 (queue 1,
 * guest to host). Bytes the host sends wait in a bounded buffer until the
 * driver posts receive buffers; what does not fit is dropped and counted.
 */
import { DEVICE_ID } from "../constants.js";
import { VirtioDeviceBase } from "../device-base.js";
import { VirtioError } from "../errors.js";
import type { DescriptorChain } from "../queue.js";
import { validQueueSize } from "../queue.js";
import { ints, record } from "../state.js";

/** Options of {@link VirtioConsole}. */
export interface VirtioConsoleOptions {
  /** Receives what the guest writes (a fresh array per buffer). */
  onOutput?: (bytes: Uint8Array) => void;
  /** Queue size of both queues (power of two). Default 64. */
  queueSize?: number;
  /** Host input held while the driver has no receive buffer, in bytes. Default 64 KiB. */
  inputLimit?: number;
}

/** Counters of a virtio-console device. */
export interface VirtioConsoleCounters {
  notifications: number;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  interrupts: number;
  /** Host input bytes dropped because the input buffer was full. */
  inputDropped: number;
}

/** Snapshot state of a virtio-console device: the input not yet delivered. */
export interface VirtioConsoleState {
  pending: number[];
}

const CONFIG_SIZE = 12; // cols, rows, max_nr_ports, emerg_wr (5.3.4)
/** The largest transmit buffer passed on (Linux sends at most a page); larger ones are dropped and counted as errors. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** A virtio console with one port. */
export class VirtioConsole extends VirtioDeviceBase {
  readonly type = "console";
  readonly deviceId = DEVICE_ID.CONSOLE;
  readonly features = 0;
  readonly queueSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  override readonly counters: VirtioConsoleCounters = {
    notifications: 0,
    requests: 0,
    bytesRead: 0,
    bytesWritten: 0,
    errors: 0,
    interrupts: 0,
    inputDropped: 0,
  };
  /** Called with each buffer the guest transmits. */
  onOutput: (bytes: Uint8Array) => void;
  private readonly limit: number;
  private readonly input: Uint8Array;
  private head = 0;
  private count = 0;
  private readonly fillHandler = (chain: DescriptorChain): number => this.fill(chain);
  private readonly sendHandler = (chain: DescriptorChain): number => this.send(chain);
  private readonly hasInput = (): boolean => this.count > 0;

  constructor(options: VirtioConsoleOptions = {}) {
    super();
    const qsize = options.queueSize ?? 64;
    if (!validQueueSize(qsize)) {
      throw new VirtioError("VIRTIO_BAD_CONFIG", `virtio-console: queueSize ${qsize} must be a power of two`);
    }
    const limit = options.inputLimit ?? 64 * 1024;
    if (!Number.isInteger(limit) || limit < 1 || limit > 64 * 1024 * 1024) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-console: inputLimit ${limit} must be 1 byte .. 64 MiB`,
      );
    }
    this.queueSizes = [qsize, qsize];
    this.limit = limit;
    this.input = new Uint8Array(limit);
    this.onOutput = options.onOutput ?? (() => {});
  }

  /** Bytes of host input waiting for receive buffers. */
  get pendingInput(): number {
    return this.count;
  }

  /** Send bytes to the guest (delivered as receive buffers allow); returns how many were accepted. */
  write(bytes: ArrayLike<number>): number {
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (this.count === this.limit) {
        this.counters.inputDropped += bytes.length - i;
        break;
      }
      this.input[(this.head + this.count) % this.limit] = bytes[i]!;
      this.count++;
      accepted++;
    }
    if (this.live) this.drain(0, this.fillHandler, this.hasInput);
    return accepted;
  }

  readConfig(): number {
    return 0; // no F_SIZE, F_MULTIPORT or F_EMERG_WRITE: nothing to report
  }

  activate(): void {
    if (this.count > 0) this.drain(0, this.fillHandler, this.hasInput);
  }

  notify(index: number): void {
    if (index === 0) this.drain(0, this.fillHandler, this.hasInput);
    else if (index === 1) this.drain(1, this.sendHandler);
  }

  private fill(chain: DescriptorChain): number {
    const n = Math.min(this.count, chain.writableBytes);
    const first = Math.min(n, this.limit - this.head);
    let done = chain.write(0, this.input.subarray(this.head, this.head + first));
    if (first < n) done += chain.write(first, this.input.subarray(0, n - first));
    this.head = (this.head + done) % this.limit;
    this.count -= done;
    this.counters.bytesWritten += done;
    return done;
  }

  private send(chain: DescriptorChain): number {
    const total = chain.readableBytes;
    if (total > MAX_OUTPUT_BYTES) {
      // A chain may name the same RAM many times over (up to 4 GiB): refuse rather than copy it.
      this.counters.errors++;
      return 0;
    }
    const out = new Uint8Array(total);
    chain.read(0, out);
    this.counters.bytesRead += total;
    if (total > 0) this.onOutput(out);
    return 0;
  }

  reset(): void {
    // Host input not yet delivered stays: it is the host's, not the driver's.
  }

  getState(): VirtioConsoleState {
    const pending: number[] = [];
    for (let i = 0; i < this.count; i++) pending.push(this.input[(this.head + i) % this.limit]!);
    return { pending };
  }

  setState(state: VirtioConsoleState): void {
    const s = record("virtio-console", state);
    const p = ints("virtio-console", s, "pending", 0, 255);
    if (p.length > this.limit) {
      throw new VirtioError("VIRTIO_BAD_STATE", "virtio-console: more pending input than inputLimit");
    }
    this.head = 0;
    this.count = p.length;
    this.input.set(p);
  }
}
