/**
 * virtio-blk (virtio 1.2, 5.2): one request queue. A request is a chain of
 * a 16-byte device-readable header {type u32, reserved u32, sector u64}, the
 * data (device-readable for OUT, device-writable for IN and GET_ID) and one
 * device-writable status byte at the very end (5.2.6). Supported: IN, OUT,
 * FLUSH, GET_ID; anything else is VIRTIO_BLK_S_UNSUPP. Offered features:
 * SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, and RO for a read-only disk.
 *
 * A request the device can answer but not serve (a data length that is not
 * a whole number of sectors, a range past the capacity, a write to a
 * read-only disk, a backend failure, a header shorter than 16 bytes) gets
 * VIRTIO_BLK_S_IOERR. A chain without a device-writable status byte cannot
 * be answered at all: that is a device error (DEVICE_NEEDS_RESET).
 *
 * The backend is a {@link BlockBackend}: sector reads and writes, optionally
 * asynchronous. Synchronous backends complete each request inside the
 * QueueNotify write, so runs stay deterministic; a backend that returns a
 * promise completes its request when the promise settles (between runs of
 * the hart), with per-request buffers.
 */
import { DEVICE_ID } from "../constants.js";
import { HOLD, readLe, VirtioDeviceBase } from "../device-base.js";
import { VirtioError } from "../errors.js";
import { DescriptorChain, validQueueSize } from "../queue.js";

/** Sector size of the virtio-blk protocol (5.2.6: sector numbers count 512-byte units). */
export const SECTOR_SIZE = 512;

/** virtio-blk feature bits (5.2.3). */
export const VIRTIO_BLK_F = {
  SIZE_MAX: 1,
  SEG_MAX: 2,
  GEOMETRY: 4,
  RO: 5,
  BLK_SIZE: 6,
  FLUSH: 9,
  TOPOLOGY: 10,
  CONFIG_WCE: 11,
  MQ: 12,
  DISCARD: 13,
  WRITE_ZEROES: 14,
} as const;

/** Request types (5.2.6). */
export const VIRTIO_BLK_T = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8, DISCARD: 11, WRITE_ZEROES: 13 } as const;
/** Request status values (5.2.6). */
export const VIRTIO_BLK_S = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;
/** Length of the GET_ID serial (5.2.6: 20 bytes, NUL-padded). */
export const VIRTIO_BLK_ID_BYTES = 20;

/**
 * Where a virtio-blk device keeps its sectors. @hvkit/disk's disk images fit
 * (see `blockBackendFromDisk`); {@link MemoryDisk} is the in-memory one.
 */
export interface BlockBackend {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /** The disk refuses writes (offered to the driver as VIRTIO_BLK_F_RO). */
  readonly readOnly?: boolean;
  /** Read `count` sectors from `sector` into `into` (`count` x 512 bytes). May return a promise. */
  read(sector: number, count: number, into: Uint8Array): void | Promise<void>;
  /** Write `data` (a whole number of sectors) at `sector`; `data` is valid until this returns or its promise settles. */
  write(sector: number, data: Uint8Array): void | Promise<void>;
  /** Make written data durable (VIRTIO_BLK_T_FLUSH). Optional: without it a flush succeeds at once. */
  flush?(): void | Promise<void>;
}

/** A disk in host memory (tests, scratch disks). */
export class MemoryDisk implements BlockBackend {
  /** The disk's bytes. */
  readonly data: Uint8Array;
  readonly sectors: number;
  readonly readOnly: boolean;
  /** Flushes requested. */
  flushes = 0;

  /**
   * @param init the size in bytes (a multiple of 512), or the initial contents (used in place)
   * @param options readOnly
   */
  constructor(init: number | Uint8Array, options: { readOnly?: boolean } = {}) {
    const size = typeof init === "number" ? init : init.length;
    if (!Number.isInteger(size) || size < 0 || size % SECTOR_SIZE !== 0) {
      throw new VirtioError("VIRTIO_BAD_CONFIG", `a memory disk of ${size} bytes: give a multiple of 512`);
    }
    this.data = typeof init === "number" ? new Uint8Array(size) : init;
    this.sectors = size / SECTOR_SIZE;
    this.readOnly = options.readOnly ?? false;
  }

  read(sector: number, count: number, into: Uint8Array): void {
    into.set(this.data.subarray(sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE));
  }

  write(sector: number, data: Uint8Array): void {
    this.data.set(data, sector * SECTOR_SIZE);
  }

  flush(): void {
    this.flushes++;
  }
}

/** Options of {@link VirtioBlk}. */
export interface VirtioBlkOptions {
  /** Where the sectors live. */
  backend: BlockBackend;
  /** Present the disk read-only even if the backend could write. */
  readOnly?: boolean;
  /** The serial GET_ID returns (ASCII, at most 20 bytes). Default "hvkit-virtio-blk". */
  serial?: string;
  /** Request queue size (power of two, 4..32768). Default 256. */
  queueSize?: number;
  /** size_max: the largest data buffer (descriptor) in bytes. Default 1 MiB. */
  sizeMax?: number;
}

/** Counters of a virtio-blk device. */
export interface VirtioBlkCounters {
  notifications: number;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  interrupts: number;
  /** IN requests served. */
  reads: number;
  /** OUT requests served. */
  writes: number;
  /** FLUSH requests served. */
  flushes: number;
}

/** Bytes moved through the bounce buffer per backend call when a request's data is scattered. */
const BOUNCE_BYTES = 64 * 1024;
const CONFIG_SIZE = 60;

interface BlkRequest {
  chain: DescriptorChain;
  type: number;
  sector: number;
  dataLen: number;
  pos: number;
  /** Bytes written into the chain's device-writable buffers before the status byte. */
  written: number;
  generation: number;
  /** A request of an asynchronous backend: own buffers, completion pushes. */
  async: boolean;
}

function isThenable(x: unknown): x is PromiseLike<void> {
  return typeof (x as { then?: unknown } | undefined)?.then === "function";
}

/** A virtio block device. */
export class VirtioBlk extends VirtioDeviceBase {
  readonly type = "blk";
  readonly deviceId = DEVICE_ID.BLOCK;
  readonly features: number;
  readonly queueSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  override readonly counters: VirtioBlkCounters = {
    notifications: 0,
    requests: 0,
    bytesRead: 0,
    bytesWritten: 0,
    errors: 0,
    interrupts: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
  };
  /** The backend. */
  readonly backend: BlockBackend;
  /** Whether the driver sees a read-only disk. */
  readonly readOnly: boolean;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly serial = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private readonly header = new Uint8Array(16);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly bounce = new Uint8Array(BOUNCE_BYTES);
  private readonly statusByte = new Uint8Array(1);
  /** The reusable request of the synchronous path. */
  private syncRequest: BlkRequest | undefined;
  /** Set once the backend answered with a promise: every request then gets its own buffers. */
  private asyncBackend = false;
  /** Bumped at reset: completions of older requests are dropped. */
  private generation = 0;
  /** Requests of an asynchronous backend not yet completed. */
  inFlight = 0;

  constructor(options: VirtioBlkOptions) {
    super();
    const b = options.backend;
    if (!b || typeof b.read !== "function" || typeof b.write !== "function") {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        "virtio-blk: backend must have read(sector, count, into) and write(sector, data)",
      );
    }
    if (!Number.isSafeInteger(b.sectors) || b.sectors < 0) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-blk: backend capacity ${b.sectors} is not a whole number of sectors`,
      );
    }
    const qsize = options.queueSize ?? 256;
    if (!validQueueSize(qsize) || qsize < 4) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-blk: queueSize ${qsize} must be a power of two in 4..32768`,
      );
    }
    const sizeMax = options.sizeMax ?? 1024 * 1024;
    if (!Number.isInteger(sizeMax) || sizeMax < SECTOR_SIZE || sizeMax > 0xffff_ffff) {
      throw new VirtioError("VIRTIO_BAD_CONFIG", `virtio-blk: sizeMax ${sizeMax} must be at least 512`);
    }
    const serial = options.serial ?? "hvkit-virtio-blk";
    if (serial.length > VIRTIO_BLK_ID_BYTES || !/^[\x20-\x7e]*$/.test(serial)) {
      throw new VirtioError(
        "VIRTIO_BAD_CONFIG",
        `virtio-blk: serial "${serial}" must be printable ASCII, at most 20 bytes`,
      );
    }
    for (let i = 0; i < serial.length; i++) this.serial[i] = serial.charCodeAt(i);
    this.backend = b;
    this.readOnly = options.readOnly === true || b.readOnly === true;
    this.queueSizes = [qsize];
    const F = VIRTIO_BLK_F;
    this.features =
      (1 << F.SIZE_MAX) |
      (1 << F.SEG_MAX) |
      (1 << F.BLK_SIZE) |
      (1 << F.FLUSH) |
      (this.readOnly ? 1 << F.RO : 0);
    const c = new DataView(this.config.buffer);
    c.setUint32(0, b.sectors % 2 ** 32, true); // capacity (le64)
    c.setUint32(4, Math.floor(b.sectors / 2 ** 32), true);
    c.setUint32(8, sizeMax, true); // size_max
    c.setUint32(12, qsize - 2, true); // seg_max: room for the header and status descriptors
    c.setUint32(20, SECTOR_SIZE, true); // blk_size
    c.setUint16(34, 1, true); // num_queues (meaningful with MQ only)
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readLe(this.config, offset, size);
  }

  notify(index: number): void {
    if (index !== 0) return;
    const host = this.host;
    const q = host.queue(0);
    let used = false;
    while (host.live) {
      let req = this.asyncBackend ? undefined : this.syncRequest;
      if (!req) {
        req = {
          chain: new DescriptorChain(host.memory, this.queueSizes[0]!),
          type: 0,
          sector: 0,
          dataLen: 0,
          pos: 0,
          written: 0,
          generation: 0,
          async: this.asyncBackend,
        };
        if (!this.asyncBackend) this.syncRequest = req;
      }
      if (q.pop(req.chain) <= 0) break;
      this.counters.requests++;
      req.generation = this.generation;
      const len = this.start(req);
      if (len >= 0 && q.push(req.chain.head, len)) used = true;
      else if (len === HOLD && req.async && this.syncRequest === req) this.syncRequest = undefined;
    }
    q.publishAvailEvent();
    if (used) host.usedBuffers(0);
  }

  /** Parse and serve a request: the used length, or HOLD (asynchronous, or a device error). */
  private start(req: BlkRequest): number {
    const chain = req.chain;
    if (chain.writableBytes === 0) {
      this.host.fail("virtio-blk: request without a device-writable status byte");
      return HOLD;
    }
    req.written = 0;
    req.pos = 0;
    if (chain.readableBytes < 16) return this.finish(req, VIRTIO_BLK_S.IOERR);
    chain.read(0, this.header);
    this.counters.bytesRead += 16;
    const h = this.headerView;
    req.type = h.getUint32(0, true);
    req.sector = h.getUint32(12, true) * 2 ** 32 + h.getUint32(8, true);
    switch (req.type) {
      case VIRTIO_BLK_T.IN:
      case VIRTIO_BLK_T.OUT: {
        const isIn = req.type === VIRTIO_BLK_T.IN;
        req.dataLen = isIn ? chain.writableBytes - 1 : chain.readableBytes - 16;
        if (req.dataLen % SECTOR_SIZE !== 0) return this.finish(req, VIRTIO_BLK_S.IOERR);
        if (req.sector + req.dataLen / SECTOR_SIZE > this.backend.sectors)
          return this.finish(req, VIRTIO_BLK_S.IOERR);
        if (!isIn && this.readOnly) return this.finish(req, VIRTIO_BLK_S.IOERR);
        if (isIn) this.counters.reads++;
        else this.counters.writes++;
        return this.transfer(req);
      }
      case VIRTIO_BLK_T.FLUSH: {
        this.counters.flushes++;
        let r: unknown;
        try {
          r = this.backend.flush?.();
        } catch {
          return this.finish(req, VIRTIO_BLK_S.IOERR);
        }
        if (isThenable(r)) return this.await(req, r, () => this.finish(req, VIRTIO_BLK_S.OK));
        return this.finish(req, VIRTIO_BLK_S.OK);
      }
      case VIRTIO_BLK_T.GET_ID: {
        const n = Math.min(VIRTIO_BLK_ID_BYTES, chain.writableBytes - 1);
        req.written = chain.write(0, this.serial.subarray(0, n));
        this.counters.bytesWritten += req.written;
        return this.finish(req, VIRTIO_BLK_S.OK);
      }
      default:
        return this.finish(req, VIRTIO_BLK_S.UNSUPP);
    }
  }

  /** Move the data of an IN or OUT request from req.pos on; the used length, or HOLD while a backend call is pending. */
  private transfer(req: BlkRequest): number {
    const chain = req.chain;
    const mem = chain.memory;
    const isIn = req.type === VIRTIO_BLK_T.IN;
    const at = isIn ? 0 : 16;
    while (req.pos < req.dataLen) {
      const remaining = req.dataLen - req.pos;
      const direct = chain.contiguous(isIn, at + req.pos, remaining);
      const n = direct >= 0 ? remaining : Math.min(BOUNCE_BYTES, remaining);
      const buf =
        direct >= 0
          ? mem.ram.subarray(direct, direct + n)
          : req.async
            ? new Uint8Array(n)
            : this.bounce.subarray(0, n);
      const sector = req.sector + req.pos / SECTOR_SIZE;
      let r: unknown;
      try {
        if (isIn) r = this.backend.read(sector, n / SECTOR_SIZE, buf);
        else {
          if (direct < 0) chain.read(at + req.pos, buf);
          r = this.backend.write(sector, buf);
        }
      } catch {
        return this.finish(req, VIRTIO_BLK_S.IOERR);
      }
      const done = (): void => {
        if (isIn) {
          if (direct >= 0) mem.written(direct, n);
          else chain.write(req.pos, buf);
          this.counters.bytesWritten += n;
          req.written += n;
        } else {
          this.counters.bytesRead += n;
        }
        req.pos += n;
      };
      if (isThenable(r)) {
        // From now on every request gets its own buffers; this one keeps the bounce buffer it was given.
        this.asyncBackend = true;
        return this.await(req, r, () => {
          done();
          return this.transfer(req);
        });
      }
      done();
    }
    return this.finish(req, VIRTIO_BLK_S.OK);
  }

  /** Continue `req` when `pending` settles; a rejection is VIRTIO_BLK_S_IOERR. Returns HOLD. */
  private await(req: BlkRequest, pending: PromiseLike<void>, next: () => number): number {
    req.async = true;
    this.inFlight++;
    const complete = (len: number): void => {
      this.inFlight--;
      // HOLD: next() started another backend call (counted itself), or the device was reset meanwhile.
      if (len === HOLD || req.generation !== this.generation) return;
      if (this.host.queue(0).push(req.chain.head, len)) this.host.usedBuffers(0);
    };
    pending.then(
      () => complete(req.generation === this.generation ? next() : HOLD),
      () => complete(req.generation === this.generation ? this.finish(req, VIRTIO_BLK_S.IOERR) : HOLD),
    );
    return HOLD;
  }

  /** Write the status byte; returns the used length (data written + the status byte). */
  private finish(req: BlkRequest, status: number): number {
    if (status !== VIRTIO_BLK_S.OK) this.counters.errors++;
    const chain = req.chain;
    this.statusByte[0] = status;
    chain.write(chain.writableBytes - 1, this.statusByte);
    this.counters.bytesWritten++;
    return req.written + 1;
  }

  reset(): void {
    this.generation++;
  }
}
