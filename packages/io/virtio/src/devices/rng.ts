/**
 * virtio-rng, the entropy device (virtio 1.2, 5.4): one request queue of
 * device-writable buffers the device fills with random bytes. The source is
 * deterministic by default — xoshiro128** seeded through splitmix32 — so a
 * guest run is reproducible; give `source` for real entropy.
 */
import { DEVICE_ID } from "../constants.js";
import { VirtioDeviceBase } from "../device-base.js";
import { VirtioError } from "../errors.js";
import type { DescriptorChain } from "../queue.js";
import { validQueueSize } from "../queue.js";
import { ints, record } from "../state.js";

/** Options of {@link VirtioRng}. */
export interface VirtioRngOptions {
  /** Seed of the deterministic generator (a 32-bit integer). Default 0. */
  seed?: number;
  /** A different source of bytes: fill `into` (e.g. with crypto.getRandomValues). Not part of snapshots. */
  source?: (into: Uint8Array) => void;
  /** Queue size (power of two). Default 64. */
  queueSize?: number;
}

/** Snapshot state of a virtio-rng device: the generator's state. */
export interface VirtioRngState {
  xoshiro: number[];
}

/** The most bytes one request gets (5.4.6.1: the device MAY use less than the whole buffer). */
export const RNG_MAX_REQUEST_BYTES = 64 * 1024;

/** xoshiro128** (Blackman and Vigna), seeded by splitmix32: small, fast, reproducible. */
class Xoshiro128 {
  readonly s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  next(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  }

  fill(into: Uint8Array): void {
    for (let i = 0; i < into.length; i += 4) {
      const v = this.next();
      into[i] = v;
      if (i + 1 < into.length) into[i + 1] = v >>> 8;
      if (i + 2 < into.length) into[i + 2] = v >>> 16;
      if (i + 3 < into.length) into[i + 3] = v >>> 24;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A virtio entropy device. */
export class VirtioRng extends VirtioDeviceBase {
  readonly type = "rng";
  readonly deviceId = DEVICE_ID.ENTROPY;
  readonly features = 0;
  readonly queueSizes: readonly number[];
  readonly configSize = 0;
  private readonly prng: Xoshiro128;
  private readonly source: (into: Uint8Array) => void;
  private readonly scratch = new Uint8Array(RNG_MAX_REQUEST_BYTES);
  private readonly fillHandler = (chain: DescriptorChain): number => this.fill(chain);

  constructor(options: VirtioRngOptions = {}) {
    super();
    const qsize = options.queueSize ?? 64;
    if (!validQueueSize(qsize)) {
      throw new VirtioError("VIRTIO_BAD_CONFIG", `virtio-rng: queueSize ${qsize} must be a power of two`);
    }
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed))
      throw new VirtioError("VIRTIO_BAD_CONFIG", `virtio-rng: seed ${seed} must be an integer`);
    this.queueSizes = [qsize];
    this.prng = new Xoshiro128(seed);
    this.source = options.source ?? ((into) => this.prng.fill(into));
  }

  readConfig(): number {
    return 0;
  }

  notify(index: number): void {
    if (index === 0) this.drain(0, this.fillHandler);
  }

  private fill(chain: DescriptorChain): number {
    const n = Math.min(chain.writableBytes, RNG_MAX_REQUEST_BYTES);
    const bytes = this.scratch.subarray(0, n);
    this.source(bytes);
    const done = chain.write(0, bytes);
    this.counters.bytesWritten += done;
    return done;
  }

  reset(): void {}

  getState(): VirtioRngState {
    return { xoshiro: Array.from(this.prng.s) };
  }

  setState(state: VirtioRngState): void {
    const s = record("virtio-rng", state);
    const x = ints("virtio-rng", s, "xoshiro", 0, 0xffff_ffff);
    if (x.length !== 4) throw new VirtioError("VIRTIO_BAD_STATE", "virtio-rng: xoshiro must hold 4 numbers");
    this.prng.s.set(x);
  }
}
