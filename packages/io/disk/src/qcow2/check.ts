/**
 * An image consistency check that follows the rules of `qemu-img check`
 * (QEMU block/qcow2-refcount.c, read for its rules): walk every structure
 * that references clusters, count the references, and compare them with the
 * stored refcounts. A refcount below the references is an error (a write
 * could reuse a live cluster); one above is a leak (lost space, harmless).
 * The copied flags of the active L1 and L2 tables must say "refcount is 1"
 * exactly when it is.
 */
import { hex } from "../errors.js";
import type { BlockStore } from "../store.js";
import {
  AUTOCLEAR_BITMAPS,
  getU64,
  HI_COMPRESSED,
  HI_COPIED,
  HI_L1_RESERVED,
  HI_L2_RESERVED,
  HI_OFFSET,
  LO_L1_RESERVED,
  LO_L2_RESERVED,
  parseHeader,
  parseSnapshots,
  viewOf,
} from "./format.js";

/** What checkQcow2 found. */
export interface Qcow2CheckResult {
  /** Errors: refcounts below the references, bad offsets, wrong copied flags. */
  readonly corruptions: number;
  /** Clusters whose refcount is above their references (lost space). */
  readonly leaks: number;
  /** Clusters referenced by some structure. */
  readonly allocatedClusters: number;
  /** One line per problem, in the words of qemu-img check. */
  readonly messages: readonly string[];
}

const TWO32 = 0x1_0000_0000;

/**
 * Check the qcow2 image in store without changing it. A header that cannot
 * be parsed throws the DiskError that opening would; everything after it is
 * counted and reported.
 */
export function checkQcow2(store: BlockStore): Qcow2CheckResult {
  const h = parseHeader(store);
  const cs = 2 ** h.clusterBits;
  const fileLength = store.size;
  const messages: string[] = [];
  let corruptions = 0;
  const error = (message: string) => {
    messages.push(`ERROR ${message}`);
    corruptions++;
  };
  // References per cluster; a region may end less than a cluster past the end of the file.
  const refs = new Uint32Array(Math.ceil(fileLength / cs) + 2);
  const inc = (offset: number, size: number) => {
    if (size <= 0) return;
    // qemu-img check: a region ending a cluster or more past the end of the file.
    if (offset + size - fileLength >= cs) {
      error(
        `counting reference for region exceeding the end of the file by one cluster or more: offset ${hex(offset)} size ${hex(size)}`,
      );
      return;
    }
    for (let c = Math.floor(offset / cs); c <= Math.floor((offset + size - 1) / cs); c++) {
      refs[c]!++;
    }
  };
  const read = (offset: number, length: number): Uint8Array | null => {
    if (offset + length > fileLength) return null;
    return store.read(offset, length);
  };

  // Stored refcounts.
  const refOrder = h.refcountOrder;
  const refEntries = (cs * 8) >> refOrder;
  const reftable = read(h.refcountTableOffset, h.refcountTableClusters * cs);
  const blockCache = new Map<number, DataView | null>();
  const rv = reftable ? viewOf(reftable) : null;
  const stored = (cluster: number): number => {
    if (!reftable || !rv) return 0;
    const index = Math.floor(cluster / refEntries);
    if (index * 8 >= reftable.length) return 0;
    const offset = rv.getUint32(index * 8) * TWO32 + rv.getUint32(index * 8 + 4);
    if (offset === 0 || offset % cs !== 0) return 0;
    let block = blockCache.get(offset);
    if (block === undefined) {
      const bytes = read(offset, cs);
      block = bytes ? viewOf(bytes) : null;
      blockCache.set(offset, block);
    }
    if (!block) return 0;
    const i = cluster % refEntries;
    switch (refOrder) {
      case 3:
        return block.getUint8(i);
      case 4:
        return block.getUint16(i * 2);
      case 5:
        return block.getUint32(i * 4);
      case 6:
        return getU64(block, i * 8);
      default: {
        const bits = 1 << refOrder;
        const bit = i * bits;
        return (block.getUint8(bit >> 3) >> (bit & 7)) & ((1 << bits) - 1);
      }
    }
  };

  // Walk an L1 table and its L2 tables; active tables also get their copied flags checked.
  const walkL1 = (offset: number, entries: number, active: boolean) => {
    inc(offset, entries * 8);
    const l1 = read(offset, entries * 8);
    if (!l1) {
      error(`L1 table at ${hex(offset)} is outside the image`);
      return;
    }
    const v1 = viewOf(l1);
    for (let i = 0; i < entries; i++) {
      const hi = v1.getUint32(i * 8);
      const lo = v1.getUint32(i * 8 + 4);
      const l2Offset = (hi & HI_OFFSET) * TWO32 + (lo >>> 0);
      if (hi & HI_L1_RESERVED || lo & LO_L1_RESERVED) {
        error(`l1 entry ${i} at ${hex(offset + i * 8)} has reserved bits set`);
        continue;
      }
      if (l2Offset === 0) continue;
      if (l2Offset % cs !== 0) {
        error(`l2_offset=${hex(l2Offset)}: L2 table is not cluster aligned; L1 entry corrupted`);
        continue;
      }
      if (active && (stored(l2Offset / cs) === 1) !== ((hi & HI_COPIED) !== 0)) {
        error(
          `OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${hex(hi * TWO32 + lo)} refcount=${stored(l2Offset / cs)}`,
        );
      }
      inc(l2Offset, cs);
      const l2 = read(l2Offset, cs);
      if (!l2) continue;
      walkL2(viewOf(l2), l2Offset, active);
    }
  };
  const x = 62 - (h.clusterBits - 8);
  const walkL2 = (v: DataView, l2Offset: number, active: boolean) => {
    for (let j = 0; j < cs / 8; j++) {
      const hi = v.getUint32(j * 8);
      const lo = v.getUint32(j * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      if (hi & HI_COMPRESSED) {
        if (hi & HI_COPIED) {
          error(`compressed cluster at l2 entry ${hex(l2Offset + j * 8)}: copied flag must never be set`);
          continue;
        }
        const entry = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
        const coffset = Number(entry & ((1n << BigInt(x)) - 1n));
        const extra = Number((entry >> BigInt(x)) & ((1n << BigInt(h.clusterBits - 8)) - 1n));
        inc(coffset, (extra + 1) * 512 - (coffset % 512));
        continue;
      }
      if (hi & HI_L2_RESERVED || lo & LO_L2_RESERVED) {
        error(`l2 entry at ${hex(l2Offset + j * 8)} has reserved bits set`);
        continue;
      }
      const offset = (hi & HI_OFFSET) * TWO32 + ((lo & ~0x1ff) >>> 0);
      if (offset === 0) continue; // unallocated, or a zero cluster without preallocation
      if (offset % cs !== 0) {
        error(
          `Cluster allocation offset ${hex(offset)} unaligned (L2 offset: ${hex(l2Offset)}, L2 index: ${j})`,
        );
        continue;
      }
      if (active && (stored(offset / cs) === 1) !== ((hi & HI_COPIED) !== 0)) {
        error(`OFLAG_COPIED data cluster: l2_entry=${hex(hi * TWO32 + lo)} refcount=${stored(offset / cs)}`);
      }
      inc(offset, cs);
    }
  };

  inc(0, cs);
  walkL1(h.l1TableOffset, h.l1Size, true);
  if (h.nbSnapshots > 0) {
    try {
      const { snapshots, tableLength } = parseSnapshots(store, h);
      inc(h.snapshotsOffset, tableLength);
      for (const s of snapshots) walkL1(s.l1TableOffset, s.l1Size, false);
    } catch (cause) {
      error(`snapshot table: ${(cause as Error).message}`);
    }
  }
  inc(h.refcountTableOffset, h.refcountTableClusters * cs);
  if (reftable && rv) {
    for (let i = 0; i < reftable.length / 8; i++) {
      const offset = rv.getUint32(i * 8) * TWO32 + rv.getUint32(i * 8 + 4);
      if (offset === 0) continue;
      if (offset % cs !== 0) {
        error(`refcount block ${i} is not cluster aligned; refcount table corrupted`);
        continue;
      }
      if (offset >= fileLength) {
        error(`refcount block ${i} at ${hex(offset)} is outside the image`);
        continue;
      }
      inc(offset, cs);
    }
  } else {
    error(`refcount table at ${hex(h.refcountTableOffset)} is outside the image`);
  }
  if (h.bitmaps && h.autoclearFeatures & AUTOCLEAR_BITMAPS) {
    const { directoryOffset, directorySize, nbBitmaps } = h.bitmaps;
    inc(directoryOffset, directorySize);
    const dir = read(directoryOffset, directorySize);
    if (dir) {
      const dv = viewOf(dir);
      let off = 0;
      for (let b = 0; b < nbBitmaps && off + 24 <= dir.length; b++) {
        const tableOffset = getU64(dv, off);
        const tableSize = dv.getUint32(off + 8);
        inc(tableOffset, tableSize * 8);
        const table = read(tableOffset, tableSize * 8);
        if (table) {
          const tv = viewOf(table);
          for (let k = 0; k < tableSize; k++) {
            const data =
              (tv.getUint32(k * 8) & HI_OFFSET) * TWO32 + ((tv.getUint32(k * 8 + 4) & ~0x1ff) >>> 0);
            if (data !== 0) inc(data, cs);
          }
        }
        off += Math.ceil((24 + dv.getUint32(off + 20) + dv.getUint16(off + 18)) / 8) * 8;
      }
    }
  }

  // Compare.
  let leaks = 0;
  let last = Math.ceil(fileLength / cs);
  let allocated = 0;
  for (let c = 0; c < refs.length; c++) {
    if (refs[c] === 0) continue;
    allocated++;
    if (c + 1 > last) last = c + 1;
  }
  for (let c = 0; c < last; c++) {
    const want = refs[c]!;
    const have = stored(c);
    if (have < want) {
      error(`cluster ${c} refcount=${have} reference=${want}`);
    } else if (have > want) {
      messages.push(`Leaked cluster ${c} refcount=${have} reference=${want}`);
      leaks++;
    }
  }
  return { corruptions, leaks, allocatedClusters: allocated, messages };
}
