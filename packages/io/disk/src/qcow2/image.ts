/**
 * A qcow2 image (version 3; version 2 read and written in its own dialect):
 * reads and writes through the L1/L2 tables, allocates clusters with
 * refcounts, copies on write from backing images, compressed clusters and
 * clusters shared with internal snapshots.
 *
 * Crash safety: metadata is written through (no write-back cache), one entry
 * per store write, in an order under which every prefix of the writes is a
 * consistent image (at worst leaking clusters, which `qemu-img check -r
 * leaks` reclaims):
 *   1. new data clusters are written whole, then their refcounts;
 *   2. barrier; L2 entries (a new L2 table is written whole with its refcount);
 *   3. barrier; L1 entries;
 *   4. barrier; refcounts of clusters no longer referenced are decremented.
 * A new refcount block is written before the refcount table entry that links
 * it, and a grown refcount table before the header points at it. The
 * barriers are store flushes, so the order also survives a power loss where
 * the storage reorders writes between flushes; `writeBarriers: false` keeps
 * only the order of issue (enough when the process is killed but the host
 * keeps running) and saves the fsyncs.
 */
import { Inflate } from "fflate";
import { DiskError, hex } from "../errors.js";
import { checkRequest, type DiskImage, SECTOR_SIZE, sectorCount } from "../image.js";
import type { BlockStore } from "../store.js";
import {
  COMPAT_LAZY_REFCOUNTS,
  describeFeatures,
  getU64,
  HDR_AUTOCLEAR,
  HDR_INCOMPAT,
  HDR_REFTABLE,
  HI_COMPRESSED,
  HI_COPIED,
  HI_L1_RESERVED,
  HI_L2_RESERVED,
  HI_OFFSET,
  INCOMPAT_CORRUPT,
  INCOMPAT_DIRTY,
  LO_L1_RESERVED,
  LO_L2_RESERVED,
  LO_ZERO,
  MAX_REFTABLE_BYTES,
  parseHeader,
  parseSnapshots,
  type Qcow2Extension,
  type Qcow2FeatureName,
  type Qcow2Header,
  type Qcow2Snapshot,
  setU64,
  viewOf,
} from "./format.js";

/** Opens the backing image a qcow2 header names (name and format as stored). */
export type BackingOpener = (name: string, format: string | null) => DiskImage;

/** Options of Qcow2Image.open. */
export interface Qcow2OpenOptions {
  /** Refuse writes (default: the store's readOnly). */
  readonly readOnly?: boolean;
  /**
   * The backing image: an image to read through (not closed with this one),
   * or a function that opens the one the header names (closed with this
   * one). Required when the header names a backing file.
   */
  readonly backing?: DiskImage | BackingOpener;
  /** Flush the store between dependent metadata writes (default true; see the module comment). */
  readonly writeBarriers?: boolean;
  /** L2 tables and refcount blocks kept in memory (default 64 of each). */
  readonly cacheTables?: number;
}

/** What an open qcow2 image reports about itself. */
export interface Qcow2Info {
  /** 2 or 3. */
  readonly version: 2 | 3;
  /** Cluster size in bytes. */
  readonly clusterSize: number;
  /** Refcount width in bits. */
  readonly refcountBits: number;
  /** Virtual size in bytes. */
  readonly size: number;
  /** Backing file name and format from the header, or null. */
  readonly backingFile: string | null;
  readonly backingFormat: string | null;
  /** The dirty bit (refcounts may be stale: the image opens read-only). */
  readonly dirty: boolean;
  /** The corrupt bit (the image opens read-only). */
  readonly corrupt: boolean;
  /** The lazy-refcounts compatible bit (hvkit keeps refcounts exact regardless). */
  readonly lazyRefcounts: boolean;
  /** Feature bits as stored. */
  readonly incompatibleFeatures: bigint;
  readonly compatibleFeatures: bigint;
  readonly autoclearFeatures: bigint;
  /** The feature name table. */
  readonly featureNames: readonly Qcow2FeatureName[];
  /** Header extensions as stored. */
  readonly extensions: readonly Qcow2Extension[];
  /** Internal snapshots (tolerated: preserved, never created or applied). */
  readonly snapshots: readonly Qcow2Snapshot[];
}

/** A cached table (L2 table or refcount block) with a view for big-endian access. */
interface Table {
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/** An L2 entry to store for a guest cluster. */
interface L2Update {
  readonly guestCluster: number;
  readonly hi: number;
  readonly lo: number;
}

/** A host byte range whose clusters lose one reference once the new mapping is durable. */
interface Release {
  readonly offset: number;
  readonly length: number;
}

const TWO32 = 0x1_0000_0000;

/** Compressed input fed to the inflater per step, which bounds the work a hostile stream can cause. */
const INFLATE_STEP = 1024;

export class Qcow2Image implements DiskImage {
  readonly format = "qcow2";
  readonly sectorSize = SECTOR_SIZE;
  readonly sectors: number;
  /** The backing image reads fall through to, or null. */
  readonly backing: DiskImage | null;

  readonly #store: BlockStore;
  readonly #header: Qcow2Header;
  readonly #snapshots: Qcow2Snapshot[];
  readonly #version: 2 | 3;
  readonly #clusterBits: number;
  readonly #clusterSize: number;
  readonly #l2Entries: number;
  readonly #refOrder: number;
  /** Refcount entries per refcount block. */
  readonly #refEntries: number;
  readonly #refMax: number;
  readonly #ownsBacking: boolean;
  readonly #barriers: boolean;
  readonly #cacheLimit: number;

  readonly #l1: Table;
  readonly #l1Offset: number;
  #reftable: Table;
  #reftableOffset: number;
  #reftableEntries: number;
  #incompat: bigint;
  #autoclear: bigint;

  /** Cluster indices holding metadata: never handed out, never read or written as guest data. */
  readonly #meta = new Set<number>();
  readonly #l2Cache = new Map<number, Table>();
  readonly #refCache = new Map<number, Table>();
  #freeHint = 0;
  /** The L2 table used last, and its offset (0 when none). */
  #lastL2Offset = 0;
  #lastL2: Table | null = null;
  #readOnly: boolean;
  #modified = false;
  #closed = false;
  /** Set once the constructor has validated everything (errors before that mark nothing). */
  #ready = false;
  #compressed: { offset: number; data: Uint8Array } | null = null;

  private constructor(store: BlockStore, options: Qcow2OpenOptions) {
    this.#store = store;
    const h = parseHeader(store);
    this.#header = h;
    this.#version = h.version;
    this.#clusterBits = h.clusterBits;
    this.#clusterSize = 2 ** h.clusterBits;
    this.#l2Entries = this.#clusterSize / 8;
    this.#refOrder = h.refcountOrder;
    this.#refEntries = (this.#clusterSize * 8) >> h.refcountOrder;
    this.#refMax = h.refcountOrder === 6 ? Number.MAX_SAFE_INTEGER : 2 ** (1 << h.refcountOrder) - 1;
    this.#barriers = options.writeBarriers ?? true;
    this.#cacheLimit = Math.max(4, options.cacheTables ?? 64);
    this.#incompat = h.incompatibleFeatures;
    this.#autoclear = h.autoclearFeatures;
    this.sectors = Math.ceil(h.size / SECTOR_SIZE);

    this.#readOnly = options.readOnly ?? store.readOnly;
    if (!this.#readOnly) {
      if (store.readOnly) {
        throw new DiskError(
          "DISK_READ_ONLY",
          `qcow2: the ${store.name} store is read-only; open with readOnly`,
        );
      }
      if (h.incompatibleFeatures & INCOMPAT_CORRUPT) {
        throw new DiskError(
          "DISK_MARKED_CORRUPT",
          "qcow2: the image is marked corrupt; open it read-only, or repair it with `qemu-img check -r all`",
        );
      }
      if (h.incompatibleFeatures & INCOMPAT_DIRTY) {
        throw new DiskError(
          "DISK_DIRTY",
          "qcow2: the image is marked dirty (lazy refcounts were not written back); open it read-only, or repair it with `qemu-img check -r all`",
        );
      }
    }

    // Fixed metadata: header cluster, L1 table, refcount table, snapshot table
    // and snapshot L1 tables must be inside the file and must not overlap.
    const cs = this.#clusterSize;
    const regions: Array<{ what: string; start: number; end: number }> = [];
    const region = (what: string, start: number, bytes: number, mustExist: boolean) => {
      if (bytes === 0 && !mustExist) return;
      if (start % cs !== 0) throw this.#corrupt(`the ${what} offset ${hex(start)} is not cluster-aligned`);
      if (start === 0 && what !== "header")
        throw this.#corrupt(`the ${what} offset is 0 (the header cluster)`);
      if (start + bytes > store.size) {
        throw new DiskError(
          "DISK_TRUNCATED",
          `qcow2: the ${what} at ${hex(start)} (${bytes} bytes) runs past the end of the ${store.size}-byte image; it was truncated`,
        );
      }
      const end = start + Math.max(cs, Math.ceil(bytes / cs) * cs);
      for (const other of regions) {
        if (start < other.end && other.start < end) {
          throw this.#corrupt(
            `the ${what} at ${hex(start)} overlaps the ${other.what} at ${hex(other.start)}`,
          );
        }
      }
      regions.push({ what, start, end });
    };
    region("header", 0, Math.min(cs, store.size), true);
    region("L1 table", h.l1TableOffset, h.l1Size * 8, false);
    region("refcount table", h.refcountTableOffset, h.refcountTableClusters * cs, true);
    const { snapshots, tableLength } = parseSnapshots(store, h);
    this.#snapshots = snapshots;
    region("snapshot table", h.snapshotsOffset, tableLength, false);
    for (const s of snapshots)
      region(`L1 table of snapshot "${s.name}"`, s.l1TableOffset, s.l1Size * 8, false);
    for (const r of regions) for (let c = r.start / cs; c < r.end / cs; c++) this.#meta.add(c);

    this.#l1Offset = h.l1TableOffset;
    this.#l1 = tableOf(h.l1Size > 0 ? store.read(h.l1TableOffset, h.l1Size * 8) : new Uint8Array(0));
    this.#reftableOffset = h.refcountTableOffset;
    this.#reftableEntries = (h.refcountTableClusters * cs) / 8;
    this.#reftable = tableOf(store.read(h.refcountTableOffset, h.refcountTableClusters * cs));

    // Refcount blocks, then L2 tables: aligned, inside the file, clear of
    // the fixed metadata and of each other.
    for (let i = 0; i < this.#reftableEntries; i++) {
      const hi = this.#reftable.view.getUint32(i * 8);
      const lo = this.#reftable.view.getUint32(i * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      if (lo & LO_L1_RESERVED) throw this.#corrupt(`refcount table entry ${i} has reserved bits set`);
      this.#checkTableOffset(hi * TWO32 + lo, `refcount block ${i}`);
    }
    for (let i = 0; i < h.l1Size; i++) {
      const hi = this.#l1.view.getUint32(i * 8);
      const lo = this.#l1.view.getUint32(i * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      if (hi & HI_L1_RESERVED || lo & LO_L1_RESERVED)
        throw this.#corrupt(`L1 entry ${i} has reserved bits set`);
      const offset = (hi & HI_OFFSET) * TWO32 + lo;
      if (offset === 0) {
        if (hi & HI_COPIED) throw this.#corrupt(`L1 entry ${i} has the copied flag but no L2 table`);
        continue;
      }
      this.#checkTableOffset(offset, `L2 table of L1 entry ${i}`);
    }

    // The backing image.
    let backing: DiskImage | null = null;
    let owns = false;
    if (h.backingFile !== null) {
      if (options.backing === undefined) {
        throw new DiskError(
          "DISK_BACKING_MISSING",
          `qcow2: the image has the backing file "${h.backingFile}"; pass a backing image or opener (openDiskImage's resolveBacking, or openDiskImageFile from @hvkit/disk/node)`,
        );
      }
      if (typeof options.backing === "function") {
        backing = options.backing(h.backingFile, h.backingFormat);
        owns = true;
      } else {
        backing = options.backing;
      }
    } else if (options.backing !== undefined && typeof options.backing !== "function") {
      backing = options.backing;
    }
    this.backing = backing;
    this.#ownsBacking = owns;
    this.#ready = true;
  }

  /** Open the qcow2 image in store (validating header and tables; see Qcow2OpenOptions). */
  static open(store: BlockStore, options: Qcow2OpenOptions = {}): Qcow2Image {
    return new Qcow2Image(store, options);
  }

  /** What the header says, plus the snapshot list. */
  get info(): Qcow2Info {
    const h = this.#header;
    return {
      version: h.version,
      clusterSize: this.#clusterSize,
      refcountBits: 1 << h.refcountOrder,
      size: h.size,
      backingFile: h.backingFile,
      backingFormat: h.backingFormat,
      dirty: (this.#incompat & INCOMPAT_DIRTY) !== 0n,
      corrupt: (this.#incompat & INCOMPAT_CORRUPT) !== 0n,
      lazyRefcounts: (h.compatibleFeatures & COMPAT_LAZY_REFCOUNTS) !== 0n,
      incompatibleFeatures: this.#incompat,
      compatibleFeatures: h.compatibleFeatures,
      autoclearFeatures: this.#autoclear,
      featureNames: h.featureNames,
      extensions: h.extensions,
      snapshots: this.#snapshots,
    };
  }

  get readOnly(): boolean {
    return this.#readOnly;
  }

  read(sector: number, count: number, into: Uint8Array): void {
    this.#open();
    checkRequest(this, sector, count, into.length);
    const cs = this.#clusterSize;
    let pos = sector * SECTOR_SIZE;
    const end = pos + count * SECTOR_SIZE;
    let out = 0;
    // Data clusters that follow each other in the file are read with one store read.
    let runHost = 0;
    let runOut = 0;
    let runLength = 0;
    while (pos < end) {
      const guestCluster = Math.floor(pos / cs);
      const within = pos - guestCluster * cs;
      const n = Math.min(cs - within, end - pos);
      const host = this.#readGuest(guestCluster, within, into.subarray(out, out + n));
      if (host >= 0 && runLength > 0 && runHost + runLength === host + within) {
        runLength += n;
      } else {
        if (runLength > 0) this.#readHost(runHost, into.subarray(runOut, runOut + runLength));
        runLength = 0;
        if (host >= 0) {
          runHost = host + within;
          runOut = out;
          runLength = n;
        }
      }
      pos += n;
      out += n;
    }
    if (runLength > 0) this.#readHost(runHost, into.subarray(runOut, runOut + runLength));
  }

  write(sector: number, data: Uint8Array): void {
    this.#open();
    this.#writable();
    const count = sectorCount(this, data);
    checkRequest(this, sector, count);
    if (count === 0) return;
    this.#beforeModify();
    const cs = this.#clusterSize;
    const updates: L2Update[] = [];
    const releases: Release[] = [];
    let pos = sector * SECTOR_SIZE;
    const end = pos + data.length;
    let src = 0;
    // Phase 1: data. In-place writes finish here; new clusters are written
    // whole and get their refcounts, but nothing links them yet.
    while (pos < end) {
      const guestCluster = Math.floor(pos / cs);
      const within = pos - guestCluster * cs;
      const n = Math.min(cs - within, end - pos);
      this.#writeGuest(guestCluster, within, data.subarray(src, src + n), updates, releases);
      pos += n;
      src += n;
    }
    this.#commit(updates, releases);
  }

  /**
   * Zero sectors. Whole clusters of a version 3 image become zero clusters
   * (an L2 entry update; an allocated cluster stays allocated for reuse);
   * partial clusters and version 2 images are written with zeros.
   */
  writeZeroes(sector: number, count: number): void {
    this.#open();
    this.#writable();
    checkRequest(this, sector, count);
    if (count === 0) return;
    const cs = this.#clusterSize;
    const spc = cs / SECTOR_SIZE;
    let first = sector;
    let last = sector + count;
    if (this.#version === 3) {
      // Whole clusters inside the range, and the partial pieces around them.
      const headEnd = Math.min(last, Math.ceil(first / spc) * spc);
      const tailStart = Math.max(headEnd, Math.floor(last / spc) * spc);
      if (headEnd > first) this.#writeZeroBytes(first, headEnd - first);
      if (last > tailStart) this.#writeZeroBytes(tailStart, last - tailStart);
      first = headEnd;
      last = tailStart;
      if (last <= first) return;
      this.#beforeModify();
      const updates: L2Update[] = [];
      const releases: Release[] = [];
      for (let gc = first / spc; gc < last / spc; gc++) this.#zeroCluster(gc, updates, releases);
      this.#commit(updates, releases);
    } else {
      this.#writeZeroBytes(first, last - first);
    }
  }

  flush(): void {
    this.#open();
    if (!this.#readOnly) this.#store.flush();
  }

  close(): void {
    if (this.#closed) return;
    try {
      if (!this.#readOnly) this.#store.flush();
    } finally {
      this.#closed = true;
      this.#l2Cache.clear();
      this.#refCache.clear();
      this.#store.close?.();
      if (this.#ownsBacking) this.backing?.close();
    }
  }

  // ---- reading ----

  /**
   * Fill dst from part of a guest cluster, except for a plain data cluster:
   * then return its (checked) host offset for the caller to read, so that
   * neighbouring clusters can be read at once. Returns -1 when dst is filled.
   */
  #readGuest(guestCluster: number, within: number, dst: Uint8Array): number {
    const l1Index = Math.floor(guestCluster / this.#l2Entries);
    const l2 = this.#l2For(l1Index);
    if (l2 === null) {
      this.#readUnallocated(guestCluster, within, dst);
      return -1;
    }
    const at = (guestCluster % this.#l2Entries) * 8;
    const hi = l2.view.getUint32(at);
    const lo = l2.view.getUint32(at + 4);
    if (hi & HI_COMPRESSED) {
      const data = this.#decompress(hi, lo, guestCluster);
      dst.set(data.subarray(within, within + dst.length));
      return -1;
    }
    const offset = this.#standardOffset(hi, lo, guestCluster);
    if (lo & LO_ZERO) {
      dst.fill(0);
      return -1;
    }
    if (offset === 0) {
      this.#readUnallocated(guestCluster, within, dst);
      return -1;
    }
    this.#checkData(offset, guestCluster);
    return offset;
  }

  /** Host bytes into dst; a data cluster's tail past the end of the file reads as zeros. */
  #readHost(offset: number, dst: Uint8Array): void {
    const available = Math.max(0, Math.min(dst.length, this.#store.size - offset));
    if (available > 0) dst.set(this.#store.read(offset, available));
    dst.fill(0, available);
  }

  #readUnallocated(guestCluster: number, within: number, dst: Uint8Array): void {
    const backing = this.backing;
    if (backing === null) {
      dst.fill(0);
      return;
    }
    const sector = (guestCluster * this.#clusterSize + within) / SECTOR_SIZE;
    const count = dst.length / SECTOR_SIZE;
    const inBacking = Math.max(0, Math.min(count, backing.sectors - sector));
    if (inBacking > 0) backing.read(sector, inBacking, dst);
    dst.fill(0, inBacking * SECTOR_SIZE);
  }

  /** The whole current content of a guest cluster (for copy-on-write). */
  #readCluster(guestCluster: number): Uint8Array {
    const buf = new Uint8Array(this.#clusterSize);
    const host = this.#readGuest(guestCluster, 0, buf);
    if (host >= 0) this.#readHost(host, buf);
    return buf;
  }

  /** The host offset of a standard L2 entry (0 when unallocated), after checking its reserved bits. */
  #standardOffset(hi: number, lo: number, guestCluster: number): number {
    if (hi & HI_L2_RESERVED || lo & LO_L2_RESERVED) {
      throw this.#corrupt(`the L2 entry of guest cluster ${guestCluster} has reserved bits set`);
    }
    if (lo & LO_ZERO && this.#version === 2) {
      throw this.#corrupt(
        `the L2 entry of guest cluster ${guestCluster} has the zero flag in a version 2 image`,
      );
    }
    const offset = (hi & HI_OFFSET) * TWO32 + ((lo & ~0x1ff) >>> 0);
    if (offset === 0 && hi & HI_COPIED && !(lo & LO_ZERO)) {
      throw this.#corrupt(`the L2 entry of guest cluster ${guestCluster} maps host offset 0`);
    }
    return offset;
  }

  /** Check that a data cluster is aligned, starts inside the file and is not metadata. */
  #checkData(offset: number, guestCluster: number): void {
    if (offset % this.#clusterSize !== 0) {
      throw this.#corrupt(`guest cluster ${guestCluster} maps to the misaligned host offset ${hex(offset)}`);
    }
    if (offset >= this.#store.size) {
      throw this.#corrupt(
        `guest cluster ${guestCluster} maps to ${hex(offset)}, beyond the end of the ${this.#store.size}-byte image`,
      );
    }
    if (this.#meta.has(offset / this.#clusterSize)) {
      throw this.#corrupt(`guest cluster ${guestCluster} maps to ${hex(offset)}, which holds metadata`);
    }
  }

  /** Decode a compressed cluster descriptor (qcow2.txt "Compressed Clusters Descriptor"). */
  #compressedRange(hi: number, lo: number, guestCluster: number): Release {
    if (hi & HI_COPIED) {
      throw this.#corrupt(`the compressed L2 entry of guest cluster ${guestCluster} has the copied flag`);
    }
    const x = 62 - (this.#clusterBits - 8);
    const entry = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    const offset = Number(entry & ((1n << BigInt(x)) - 1n));
    const extra = Number((entry >> BigInt(x)) & ((1n << BigInt(this.#clusterBits - 8)) - 1n));
    if (offset >= 2 ** 56 || offset >= this.#store.size) {
      throw this.#corrupt(
        `the compressed data of guest cluster ${guestCluster} at ${hex(offset)} is beyond the end of the image`,
      );
    }
    const length = (extra + 1) * 512 - (offset % 512);
    const cs = this.#clusterSize;
    for (let c = Math.floor(offset / cs); c <= Math.floor((offset + length - 1) / cs); c++) {
      if (this.#meta.has(c)) {
        throw this.#corrupt(
          `the compressed data of guest cluster ${guestCluster} overlaps metadata at ${hex(c * cs)}`,
        );
      }
    }
    return { offset, length };
  }

  #decompress(hi: number, lo: number, guestCluster: number): Uint8Array {
    const { offset, length } = this.#compressedRange(hi, lo, guestCluster);
    if (this.#compressed?.offset === offset) return this.#compressed.data;
    // The last sector may reach past the end of the file (QEMU writes the
    // compressed bytes only); read what is there.
    const input = this.#store.read(offset, Math.min(length, this.#store.size - offset));
    const cs = this.#clusterSize;
    const out = new Uint8Array(cs);
    let produced = 0;
    // Raw deflate (QEMU: zlib, window bits -12). Feed it in steps and stop as
    // soon as a cluster is out, so a hostile stream cannot make us inflate far
    // more than a cluster; like QEMU, bytes after the cluster are ignored.
    const inflater = new Inflate((chunk) => {
      const n = Math.min(chunk.length, cs - produced);
      out.set(chunk.subarray(0, n), produced);
      produced += n;
    });
    try {
      for (let i = 0; i < input.length && produced < cs; i += INFLATE_STEP) {
        inflater.push(input.subarray(i, Math.min(input.length, i + INFLATE_STEP)));
      }
    } catch (cause) {
      throw this.#corrupt(
        `the compressed data of guest cluster ${guestCluster} at ${hex(offset)} does not inflate (${(cause as Error).message})`,
        cause,
      );
    }
    if (produced < cs) {
      throw this.#corrupt(
        `the compressed data of guest cluster ${guestCluster} at ${hex(offset)} inflates to ${produced} bytes, less than a cluster`,
      );
    }
    this.#compressed = { offset, data: out };
    return out;
  }

  // ---- writing ----

  #writeGuest(
    guestCluster: number,
    within: number,
    src: Uint8Array,
    updates: L2Update[],
    releases: Release[],
  ): void {
    const cs = this.#clusterSize;
    const l2 = this.#l2For(Math.floor(guestCluster / this.#l2Entries));
    let hi = 0;
    let lo = 0;
    if (l2 !== null) {
      const at = (guestCluster % this.#l2Entries) * 8;
      hi = l2.view.getUint32(at);
      lo = l2.view.getUint32(at + 4);
    }
    let release: Release | null = null;
    if (hi & HI_COMPRESSED) {
      release = this.#compressedRange(hi, lo, guestCluster);
    } else {
      const offset = this.#standardOffset(hi, lo, guestCluster);
      if (offset !== 0) {
        this.#checkData(offset, guestCluster);
        if (hi & HI_COPIED) {
          if (!(lo & LO_ZERO)) {
            // Allocated and ours alone: overwrite in place.
            this.#store.write(offset + within, src);
            return;
          }
          // A preallocated zero cluster: fill it, then clear the zero flag.
          this.#store.write(offset, this.#merged(guestCluster, within, src));
          updates.push({ guestCluster, hi: hi & (HI_OFFSET | HI_COPIED), lo: lo & ~LO_ZERO });
          return;
        }
        // Shared with a snapshot (or a stale flag): copy on write.
        release = { offset, length: cs };
      }
    }
    const full = this.#merged(guestCluster, within, src);
    const host = this.#allocCluster();
    this.#store.write(host * cs, full);
    this.#setRefcount(host, 1);
    updates.push({ guestCluster, hi: this.#entryHi(host * cs) | HI_COPIED, lo: (host * cs) >>> 0 });
    if (release) releases.push(release);
  }

  /** The cluster's current content with src written at within (src itself when it is the whole cluster). */
  #merged(guestCluster: number, within: number, src: Uint8Array): Uint8Array {
    if (within === 0 && src.length === this.#clusterSize) return src;
    const full = this.#readCluster(guestCluster);
    full.set(src, within);
    return full;
  }

  #zeroCluster(guestCluster: number, updates: L2Update[], releases: Release[]): void {
    const l2 = this.#l2For(Math.floor(guestCluster / this.#l2Entries));
    let hi = 0;
    let lo = 0;
    if (l2 !== null) {
      const at = (guestCluster % this.#l2Entries) * 8;
      hi = l2.view.getUint32(at);
      lo = l2.view.getUint32(at + 4);
    }
    if (hi & HI_COMPRESSED) {
      releases.push(this.#compressedRange(hi, lo, guestCluster));
      updates.push({ guestCluster, hi: 0, lo: LO_ZERO });
      return;
    }
    const offset = this.#standardOffset(hi, lo, guestCluster);
    if (lo & LO_ZERO) return;
    if (offset === 0) {
      // Unallocated reads zeros already unless a backing image shows through.
      if (this.backing !== null) updates.push({ guestCluster, hi: 0, lo: LO_ZERO });
      return;
    }
    this.#checkData(offset, guestCluster);
    if (hi & HI_COPIED) {
      updates.push({ guestCluster, hi: hi & (HI_OFFSET | HI_COPIED), lo: (lo & ~0x1ff) | LO_ZERO });
    } else {
      updates.push({ guestCluster, hi: 0, lo: LO_ZERO });
      releases.push({ offset, length: this.#clusterSize });
    }
  }

  #writeZeroBytes(sector: number, count: number): void {
    const zeros = new Uint8Array(Math.min(count, 2048) * SECTOR_SIZE);
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, zeros.length / SECTOR_SIZE);
      this.write(sector + done, zeros.subarray(0, n * SECTOR_SIZE));
      done += n;
    }
  }

  /**
   * Phases 2-4 of the safe order: L2 entries (new or copied L2 tables written
   * whole), then L1 entries, then refcount decrements, each after a barrier.
   */
  #commit(updates: L2Update[], releases: Release[]): void {
    if (updates.length === 0) return;
    const cs = this.#clusterSize;
    this.#barrier();
    const byL1 = new Map<number, L2Update[]>();
    for (const u of updates) {
      const l1Index = Math.floor(u.guestCluster / this.#l2Entries);
      let list = byL1.get(l1Index);
      if (!list) byL1.set(l1Index, (list = []));
      list.push(u);
    }
    const l1Updates: Array<{ index: number; offset: number }> = [];
    for (const [l1Index, list] of byL1) {
      const hi = this.#l1.view.getUint32(l1Index * 8);
      const l2 = this.#l2For(l1Index);
      if (l2 !== null && hi & HI_COPIED) {
        for (const u of list) {
          const at = (u.guestCluster % this.#l2Entries) * 8;
          l2.view.setUint32(at, u.hi);
          l2.view.setUint32(at + 4, u.lo);
          this.#store.write(this.#l1Entry(l1Index) + at, l2.bytes.subarray(at, at + 8));
        }
        continue;
      }
      // No L2 table yet, or one shared with a snapshot: write a new one whole.
      const bytes = l2 !== null ? l2.bytes.slice() : new Uint8Array(cs);
      const table = tableOf(bytes);
      for (const u of list) {
        const at = (u.guestCluster % this.#l2Entries) * 8;
        table.view.setUint32(at, u.hi);
        table.view.setUint32(at + 4, u.lo);
      }
      const host = this.#allocCluster();
      this.#store.write(host * cs, bytes);
      this.#setRefcount(host, 1);
      this.#meta.add(host);
      this.#cache(this.#l2Cache, host * cs, table);
      l1Updates.push({ index: l1Index, offset: host * cs });
      if (l2 !== null) releases.push({ offset: this.#l1Entry(l1Index), length: cs });
    }
    if (l1Updates.length > 0) {
      this.#barrier();
      const entry = new Uint8Array(8);
      const ev = viewOf(entry);
      for (const { index, offset } of l1Updates) {
        ev.setUint32(0, this.#entryHi(offset) | HI_COPIED);
        ev.setUint32(4, offset >>> 0);
        this.#l1.bytes.set(entry, index * 8);
        this.#store.write(this.#l1Offset + index * 8, entry);
      }
    }
    if (releases.length > 0) {
      this.#barrier();
      for (const r of releases) {
        for (let c = Math.floor(r.offset / cs); c <= Math.floor((r.offset + r.length - 1) / cs); c++) {
          this.#release(c);
        }
      }
    }
  }

  /** Drop one reference to a host cluster; at zero it is free for reuse. */
  #release(cluster: number): void {
    const count = this.#getRefcount(cluster);
    if (count === 0) {
      throw this.#corrupt(`a cluster still in use at ${hex(cluster * this.#clusterSize)} has refcount 0`);
    }
    this.#setRefcount(cluster, count - 1);
    if (count === 1) {
      this.#meta.delete(cluster);
      this.#l2Cache.delete(cluster * this.#clusterSize);
      this.#refCache.delete(cluster * this.#clusterSize);
      this.#lastL2Offset = 0;
      this.#lastL2 = null;
      this.#compressed = null;
      if (cluster < this.#freeHint) this.#freeHint = cluster;
    }
  }

  /** The high word of an entry for a host offset (bits 32-55). */
  #entryHi(offset: number): number {
    return Math.floor(offset / TWO32) & HI_OFFSET;
  }

  // ---- tables ----

  /** The L2 table offset of an L1 entry (0 when none). */
  #l1Entry(l1Index: number): number {
    const hi = this.#l1.view.getUint32(l1Index * 8);
    const lo = this.#l1.view.getUint32(l1Index * 8 + 4);
    return (hi & HI_OFFSET) * TWO32 + (lo >>> 0);
  }

  /** The L2 table of an L1 entry, or null when it has none. */
  #l2For(l1Index: number): Table | null {
    const offset = this.#l1Entry(l1Index);
    if (offset === 0) return null;
    // Sequential I/O stays in one L2 table: skip the LRU bookkeeping for it.
    if (offset === this.#lastL2Offset) return this.#lastL2!;
    let table = this.#l2Cache.get(offset);
    if (table) {
      this.#l2Cache.delete(offset);
      this.#l2Cache.set(offset, table);
    } else {
      table = tableOf(this.#store.read(offset, this.#clusterSize));
      this.#cache(this.#l2Cache, offset, table);
    }
    this.#lastL2Offset = offset;
    this.#lastL2 = table;
    return table;
  }

  #cache(cache: Map<number, Table>, offset: number, table: Table): void {
    cache.delete(offset);
    cache.set(offset, table);
    if (cache.size > this.#cacheLimit) cache.delete(cache.keys().next().value!);
  }

  /** Check a refcount block or L2 table offset and record its cluster as metadata. */
  #checkTableOffset(offset: number, what: string): void {
    const cs = this.#clusterSize;
    if (offset % cs !== 0) throw this.#corrupt(`the ${what} at ${hex(offset)} is not cluster-aligned`);
    if (offset + cs > this.#store.size) {
      throw this.#corrupt(
        `the ${what} at ${hex(offset)} is beyond the end of the ${this.#store.size}-byte image`,
      );
    }
    const cluster = offset / cs;
    if (this.#meta.has(cluster)) throw this.#corrupt(`the ${what} at ${hex(offset)} overlaps other metadata`);
    this.#meta.add(cluster);
  }

  // ---- refcounts ----

  #refblockOffset(blockIndex: number): number {
    if (blockIndex >= this.#reftableEntries) return 0;
    const hi = this.#reftable.view.getUint32(blockIndex * 8);
    const lo = this.#reftable.view.getUint32(blockIndex * 8 + 4);
    return hi * TWO32 + (lo >>> 0);
  }

  #refblock(offset: number): Table {
    const cached = this.#refCache.get(offset);
    if (cached) return cached;
    const table = tableOf(this.#store.read(offset, this.#clusterSize));
    this.#cache(this.#refCache, offset, table);
    return table;
  }

  #getRefcount(cluster: number): number {
    const offset = this.#refblockOffset(Math.floor(cluster / this.#refEntries));
    if (offset === 0) return 0;
    return this.#refAt(this.#refblock(offset), cluster % this.#refEntries);
  }

  #refAt(t: Table, i: number): number {
    switch (this.#refOrder) {
      case 3:
        return t.bytes[i]!;
      case 4:
        return t.view.getUint16(i * 2);
      case 5:
        return t.view.getUint32(i * 4);
      case 6:
        return getU64(t.view, i * 8);
      default: {
        // Sub-byte widths: entry i at bit (i * bits) % 8 of byte (i * bits) / 8, LSB first.
        const bits = 1 << this.#refOrder;
        const bit = i * bits;
        return (t.bytes[bit >> 3]! >> (bit & 7)) & ((1 << bits) - 1);
      }
    }
  }

  /** Set entry i of a refcount block in memory; returns the byte span that changed. */
  #refPut(t: Table, i: number, value: number): [number, number] {
    switch (this.#refOrder) {
      case 3:
        t.bytes[i] = value;
        return [i, 1];
      case 4:
        t.view.setUint16(i * 2, value);
        return [i * 2, 2];
      case 5:
        t.view.setUint32(i * 4, value);
        return [i * 4, 4];
      case 6:
        setU64(t.view, i * 8, value);
        return [i * 8, 8];
      default: {
        const bits = 1 << this.#refOrder;
        const bit = i * bits;
        const mask = ((1 << bits) - 1) << (bit & 7);
        t.bytes[bit >> 3] = (t.bytes[bit >> 3]! & ~mask) | ((value << (bit & 7)) & mask);
        return [bit >> 3, 1];
      }
    }
  }

  #setRefcount(cluster: number, value: number): void {
    if (value > this.#refMax) {
      throw new DiskError(
        "DISK_FULL",
        `qcow2: the refcount of cluster ${hex(cluster * this.#clusterSize)} would exceed ${this.#refMax}`,
      );
    }
    const blockIndex = Math.floor(cluster / this.#refEntries);
    const offset = this.#ensureRefblock(blockIndex, cluster);
    const block = this.#refblock(offset);
    const [at, length] = this.#refPut(block, cluster % this.#refEntries, value);
    this.#store.write(offset + at, block.bytes.subarray(at, at + length));
  }

  /**
   * The refcount block covering blockIndex, creating it when missing. A new
   * block lives inside the range it covers (so it counts itself), is written
   * before the table entry that links it, and the table grows when full.
   */
  #ensureRefblock(blockIndex: number, pending: number): number {
    const existing = this.#refblockOffset(blockIndex);
    if (existing !== 0) return existing;
    const cs = this.#clusterSize;
    const first = blockIndex * this.#refEntries;
    let cluster = first;
    while (cluster === pending || this.#meta.has(cluster)) cluster++;
    if (cluster >= first + this.#refEntries) {
      throw this.#corrupt(`no room for the refcount block of clusters from ${hex(first * cs)}`);
    }
    const table = tableOf(new Uint8Array(cs));
    this.#refPut(table, cluster - first, 1);
    if (blockIndex >= this.#reftableEntries) {
      this.#growReftable(blockIndex, cluster, table, pending);
    } else {
      this.#store.write(cluster * cs, table.bytes);
      this.#barrier();
      const entry = new Uint8Array(8);
      setU64(viewOf(entry), 0, cluster * cs);
      this.#reftable.bytes.set(entry, blockIndex * 8);
      this.#store.write(this.#reftableOffset + blockIndex * 8, entry);
    }
    this.#meta.add(cluster);
    this.#cache(this.#refCache, cluster * cs, table);
    return cluster * cs;
  }

  /**
   * Move the refcount table to a bigger one past every used cluster. The new
   * table and any refcount blocks it needs to count itself are written first,
   * then (barrier) the header points at the new table, then (barrier) the old
   * table's clusters are freed. A crash at any point leaks clusters at worst.
   */
  #growReftable(blockIndex: number, blockCluster: number, block: Table, pending: number): void {
    const cs = this.#clusterSize;
    const E = this.#refEntries;
    let entries = Math.max(this.#reftableEntries * 2, blockIndex + 1);
    const start = Math.max(
      this.#highestUsed() + 1,
      Math.ceil(this.#store.size / cs),
      pending + 1,
      blockCluster + 1,
    );
    const original = block.bytes.slice();
    for (;;) {
      block.bytes.set(original);
      const tableClusters = Math.ceil((entries * 8) / cs);
      if (tableClusters * cs > MAX_REFTABLE_BYTES) {
        throw new DiskError(
          "DISK_FULL",
          "qcow2: the refcount table cannot grow past 8 MiB; the image is full",
        );
      }
      entries = (tableClusters * cs) / 8;
      const blocks = new Map<number, { cluster: number; table: Table }>();
      blocks.set(blockIndex, { cluster: blockCluster, table: block });
      const direct: number[] = [];
      let end = start + tableClusters;
      for (let c = start; c < end; c++) {
        const b = Math.floor(c / E);
        if (this.#refblockOffset(b) !== 0) {
          direct.push(c);
          continue;
        }
        let nb = blocks.get(b);
        if (!nb) blocks.set(b, (nb = { cluster: end++, table: tableOf(new Uint8Array(cs)) }));
        this.#refPut(nb.table, c % E, 1);
      }
      if (Math.max(...blocks.keys()) >= entries) {
        entries *= 2;
        continue;
      }
      const newTable = tableOf(new Uint8Array(tableClusters * cs));
      newTable.bytes.set(this.#reftable.bytes);
      for (const [b, { cluster }] of blocks) setU64(newTable.view, b * 8, cluster * cs);
      for (const c of direct) this.#setRefcount(c, 1);
      for (const { cluster, table } of blocks.values()) this.#store.write(cluster * cs, table.bytes);
      this.#store.write(start * cs, newTable.bytes);
      this.#barrier();
      const header = new Uint8Array(12);
      setU64(viewOf(header), 0, start * cs);
      viewOf(header).setUint32(8, tableClusters);
      this.#store.write(HDR_REFTABLE, header);
      this.#barrier();
      const oldOffset = this.#reftableOffset;
      const oldClusters = (this.#reftableEntries * 8) / cs;
      this.#reftable = newTable;
      this.#reftableOffset = start * cs;
      this.#reftableEntries = entries;
      for (let c = start; c < start + tableClusters; c++) this.#meta.add(c);
      for (const { cluster, table } of blocks.values()) {
        this.#meta.add(cluster);
        this.#cache(this.#refCache, cluster * cs, table);
      }
      for (let i = 0; i < oldClusters; i++) this.#release(oldOffset / cs + i);
      return;
    }
  }

  /** The highest cluster with a nonzero refcount (-1 if none). */
  #highestUsed(): number {
    for (let b = this.#reftableEntries - 1; b >= 0; b--) {
      const offset = this.#refblockOffset(b);
      if (offset === 0) continue;
      const block = this.#refblock(offset);
      for (let i = this.#refEntries - 1; i >= 0; i--) {
        if (this.#refAt(block, i) !== 0) return b * this.#refEntries + i;
      }
    }
    return -1;
  }

  /** The lowest free cluster (refcount 0, not metadata) from the hint on. */
  #allocCluster(): number {
    let cluster = this.#freeHint;
    for (;;) {
      if (!this.#meta.has(cluster)) {
        const blockIndex = Math.floor(cluster / this.#refEntries);
        if (this.#refblockOffset(blockIndex) === 0) break;
        if (this.#getRefcount(cluster) === 0) break;
      }
      cluster++;
    }
    if ((cluster + 1) * this.#clusterSize > 2 ** 56) {
      throw new DiskError("DISK_FULL", "qcow2: host offsets past 64 PiB cannot be mapped; the image is full");
    }
    this.#freeHint = cluster + 1;
    return cluster;
  }

  // ---- state ----

  #barrier(): void {
    if (this.#barriers) this.#store.flush();
  }

  /** Before the first change: clear autoclear bits (hvkit maintains none of their data). */
  #beforeModify(): void {
    if (this.#modified) return;
    this.#modified = true;
    if (this.#version === 3 && this.#autoclear !== 0n) {
      const bytes = new Uint8Array(8);
      viewOf(bytes).setBigUint64(0, 0n);
      this.#store.write(HDR_AUTOCLEAR, bytes);
      this.#autoclear = 0n;
      this.#barrier();
    }
  }

  /**
   * A DISK_CORRUPT error. An image open for writing is also marked corrupt
   * (version 3), as QEMU does, so nothing writes to it until it is repaired.
   */
  #corrupt(message: string, cause?: unknown): DiskError {
    const error = new DiskError(
      "DISK_CORRUPT",
      `qcow2: ${message}; the image is damaged (inspect it with \`qemu-img check\`)`,
      cause === undefined ? undefined : { cause },
    );
    if (this.#ready && !this.#readOnly && this.#version === 3 && !this.#closed) {
      this.#readOnly = true;
      try {
        const bits = new Uint8Array(8);
        this.#incompat |= INCOMPAT_CORRUPT;
        viewOf(bits).setBigUint64(0, this.#incompat);
        this.#store.write(HDR_INCOMPAT, bits);
        this.#store.flush();
      } catch {
        // Marking is best effort; the error below is what matters.
      }
    }
    return error;
  }

  #open(): void {
    if (this.#closed) throw new DiskError("DISK_CLOSED", "qcow2 image: used after close()");
  }

  #writable(): void {
    if (!this.#readOnly) return;
    if (this.#incompat & INCOMPAT_CORRUPT) {
      throw new DiskError(
        "DISK_MARKED_CORRUPT",
        "qcow2: the image is marked corrupt; repair it with `qemu-img check -r all`",
      );
    }
    throw new DiskError("DISK_READ_ONLY", "qcow2 image: opened read-only");
  }
}

function tableOf(bytes: Uint8Array): Table {
  return { bytes, view: viewOf(bytes) };
}

/** The feature bits of a header, named (for messages and tools). */
export function featureSummary(info: Qcow2Info): string {
  const parts = [
    describeFeatures(info.incompatibleFeatures, "incompatible", info.featureNames),
    describeFeatures(info.compatibleFeatures, "compatible", info.featureNames),
    describeFeatures(info.autoclearFeatures, "autoclear", info.featureNames),
  ].filter((s) => s.length > 0);
  return parts.join("; ");
}
