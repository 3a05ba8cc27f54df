import { DiskError } from "../errors.js";
import { type DiskImage, SECTOR_SIZE } from "../image.js";
import type { BlockStore } from "../store.js";
import {
  MAX_CLUSTER_BITS,
  MAX_L1_BYTES,
  MIN_CLUSTER_BITS,
  setU64,
  viewOf,
  writeHeaderCluster,
} from "./format.js";
import { type BackingOpener, Qcow2Image, type Qcow2OpenOptions } from "./image.js";

/** Options of createQcow2. */
export interface Qcow2CreateOptions {
  /** Virtual size in bytes, rounded up to a sector (default: the backing image's size). */
  readonly size?: number;
  /** log2 of the cluster size, 9..21 (default 16: 64 KiB, as qemu-img). */
  readonly clusterBits?: number;
  /** log2 of the refcount width, 0..6 (default 4: 16-bit refcounts; version 2 allows only 4). */
  readonly refcountOrder?: number;
  /** Format version (default 3; 2 for old readers: no zero clusters, no feature table). */
  readonly version?: 2 | 3;
  /** Backing file name to record in the header (how qemu-img and openDiskImageFile find the base). */
  readonly backingFile?: string;
  /** Backing file format to record (default: the backing image's format, when one is given). */
  readonly backingFormat?: string;
  /** The backing image to read through (see Qcow2OpenOptions.backing). */
  readonly backing?: DiskImage | BackingOpener;
  /** Passed on to Qcow2Image.open. */
  readonly writeBarriers?: boolean;
  readonly cacheTables?: number;
}

/**
 * Create an empty qcow2 image in store (which is emptied first) and open it
 * for writing. The layout is qemu-img's: the header in cluster 0, the
 * refcount table, the refcount block(s) counting the metadata, then the L1
 * table sized for the whole disk.
 */
export function createQcow2(store: BlockStore, options: Qcow2CreateOptions): Qcow2Image {
  const version = options.version ?? 3;
  const clusterBits = options.clusterBits ?? 16;
  const refcountOrder = options.refcountOrder ?? 4;
  const backingImage = typeof options.backing === "object" ? options.backing : undefined;
  const requested = options.size ?? (backingImage ? backingImage.sectors * SECTOR_SIZE : undefined);
  if (requested === undefined) {
    throw new DiskError("DISK_BAD_ARGUMENT", "qcow2: give a size (or a backing image to take it from)");
  }
  if (version !== 2 && version !== 3) {
    throw new DiskError("DISK_BAD_ARGUMENT", `qcow2: version ${version} cannot be created (2 or 3)`);
  }
  if (!Number.isInteger(clusterBits) || clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw new DiskError(
      "DISK_BAD_ARGUMENT",
      `qcow2: clusterBits ${clusterBits} is out of range (${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS})`,
    );
  }
  if (!Number.isInteger(refcountOrder) || refcountOrder < 0 || refcountOrder > 6) {
    throw new DiskError("DISK_BAD_ARGUMENT", `qcow2: refcountOrder ${refcountOrder} is out of range (0..6)`);
  }
  if (version === 2 && refcountOrder !== 4) {
    throw new DiskError(
      "DISK_BAD_ARGUMENT",
      "qcow2: version 2 images have 16-bit refcounts (refcountOrder 4)",
    );
  }
  if (!Number.isSafeInteger(requested) || requested < 0) {
    throw new DiskError("DISK_BAD_ARGUMENT", `qcow2: bad size ${requested}`);
  }
  if (store.readOnly) {
    throw new DiskError("DISK_READ_ONLY", `qcow2: cannot create an image in a read-only ${store.name} store`);
  }
  const size = Math.ceil(requested / SECTOR_SIZE) * SECTOR_SIZE;
  const cs = 2 ** clusterBits;
  const l1Size = Math.ceil(size / cs / (cs / 8));
  if (l1Size * 8 > MAX_L1_BYTES) {
    throw new DiskError(
      "DISK_BAD_ARGUMENT",
      `qcow2: ${size} bytes need an L1 table over 32 MiB with ${cs}-byte clusters; use larger clusters`,
    );
  }
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  const refEntries = (cs * 8) >> refcountOrder;
  // Refcount blocks must count the metadata including themselves and the table.
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const b = Math.ceil(total / refEntries);
    const t = Math.ceil((b * 8) / cs);
    if (b === blocks && t === tableClusters) break;
    blocks = b;
    tableClusters = t;
  }
  const total = 1 + tableClusters + blocks + l1Clusters;

  if (store.size > 0) {
    if (!store.resize) {
      throw new DiskError(
        "DISK_BAD_ARGUMENT",
        `qcow2: the ${store.name} store is not empty and cannot be truncated`,
      );
    }
    store.resize(0);
  }
  store.write(
    0,
    writeHeaderCluster({
      version,
      clusterBits,
      size,
      l1Size,
      l1TableOffset: (1 + tableClusters + blocks) * cs,
      refcountTableOffset: cs,
      refcountTableClusters: tableClusters,
      refcountOrder,
      backingFile: options.backingFile,
      backingFormat:
        options.backingFormat ?? (options.backingFile !== undefined ? backingImage?.format : undefined),
    }),
  );
  const table = new Uint8Array(tableClusters * cs);
  for (let b = 0; b < blocks; b++) setU64(viewOf(table), b * 8, (1 + tableClusters + b) * cs);
  store.write(cs, table);
  const refblocks = new Uint8Array(blocks * cs);
  const rv = viewOf(refblocks);
  const bits = 1 << refcountOrder;
  for (let c = 0; c < total; c++) {
    // Refcount 1 for each metadata cluster, in the width the order gives.
    if (bits >= 8) {
      const width = bits / 8;
      if (width === 8) setU64(rv, c * 8, 1);
      else if (width === 4) rv.setUint32(c * 4, 1);
      else if (width === 2) rv.setUint16(c * 2, 1);
      else refblocks[c] = 1;
    } else {
      const bit = c * bits;
      refblocks[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  store.write((1 + tableClusters) * cs, refblocks);
  if (l1Clusters > 0) store.write((1 + tableClusters + blocks) * cs, new Uint8Array(l1Clusters * cs));
  store.flush();

  const open: Qcow2OpenOptions = {
    ...(options.backing !== undefined && { backing: options.backing }),
    ...(options.writeBarriers !== undefined && { writeBarriers: options.writeBarriers }),
    ...(options.cacheTables !== undefined && { cacheTables: options.cacheTables }),
  };
  return Qcow2Image.open(store, open);
}

/** Options of createOverlay. */
export interface OverlayOptions {
  /** The base's file name, recorded so that qemu-img and openDiskImageFile find it again. */
  readonly backingFile?: string;
  /** The base's format, recorded with the name (default: the base image's format). */
  readonly backingFormat?: string;
  /** log2 of the overlay's cluster size (default 16). */
  readonly clusterBits?: number;
  /** Passed on to Qcow2Image.open. */
  readonly writeBarriers?: boolean;
}

/**
 * A copy-on-write overlay: an empty qcow2 image in store over a read-only
 * base (any DiskImage) of the same size. Reads of clusters never written fall
 * through to the base; a write allocates a cluster in the overlay, copying the
 * rest of the cluster from the base. The base is never written and is not
 * closed with the overlay. With backingFile recorded this is a standard qcow2
 * image with a backing file, which qemu-img and QEMU open as they are.
 */
export function createOverlay(store: BlockStore, base: DiskImage, options: OverlayOptions = {}): Qcow2Image {
  return createQcow2(store, {
    size: base.sectors * SECTOR_SIZE,
    backing: base,
    ...(options.backingFile !== undefined && {
      backingFile: options.backingFile,
      backingFormat: options.backingFormat ?? base.format,
    }),
    ...(options.clusterBits !== undefined && { clusterBits: options.clusterBits }),
    ...(options.writeBarriers !== undefined && { writeBarriers: options.writeBarriers }),
  });
}
