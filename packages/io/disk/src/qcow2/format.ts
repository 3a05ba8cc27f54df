/**
 * The qcow2 on-disk format (QEMU docs/interop/qcow2.txt): constants, header
 * and header-extension parsing with validation, the snapshot table, and the
 * header writer used when creating images. All numbers are big-endian.
 */
import { DiskError, hex } from "../errors.js";
import type { BlockStore } from "../store.js";

/** "QFI\xfb". */
export const QCOW2_MAGIC = 0x514649fb;
/** Smallest and largest cluster_bits accepted (512 B .. 2 MiB, QEMU's implementation limit). */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** QEMU's implementation limits, which bound what a hostile header can make us allocate. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
export const MAX_SNAPSHOT_TABLE_BYTES = 64 * 1024 * 1024;
export const MAX_SNAPSHOT_EXTRA_BYTES = 1024;
export const MAX_BACKING_NAME_BYTES = 1023;
/** Version 2 header length; version 3 headers are at least 104 bytes. */
export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;
/** The header length hvkit writes: through compression_type (byte 104), padded to 8. */
export const V3_HEADER_LENGTH = 112;

/** Header extension types. */
export const EXT_END = 0;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

/** Incompatible feature bits. */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
/** Compatible feature bits. */
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;
/** Autoclear feature bits. */
export const AUTOCLEAR_BITMAPS = 1n << 0n;
export const AUTOCLEAR_RAW_DATA = 1n << 1n;

/** Byte offsets of header fields that hvkit rewrites in place. */
export const HDR_SIZE = 24;
export const HDR_REFTABLE = 48;
export const HDR_INCOMPAT = 72;
export const HDR_AUTOCLEAR = 88;

/** L1/L2 entry flag bits, in the high 32-bit word of an entry. */
export const HI_COPIED = 0x80000000;
export const HI_COMPRESSED = 0x40000000;
/** Bits 56-62 of an L1 entry and 56-61 of a standard L2 entry must be zero. */
export const HI_L1_RESERVED = 0x7f000000;
export const HI_L2_RESERVED = 0x3f000000;
/** Bits 9-55 of an entry: the offset's bits in the high word. */
export const HI_OFFSET = 0x00ffffff;
/** Bit 0 of a standard L2 entry: reads as zeros. Bits 1-8 reserved. */
export const LO_ZERO = 1;
export const LO_L2_RESERVED = 0x1fe;
export const LO_L1_RESERVED = 0x1ff;

/** The names QEMU gives the feature bits it defines, written into the feature name table. */
export const KNOWN_FEATURE_NAMES: readonly Qcow2FeatureName[] = [
  { type: "incompatible", bit: 0, name: "dirty bit" },
  { type: "incompatible", bit: 1, name: "corrupt bit" },
  { type: "incompatible", bit: 2, name: "external data file" },
  { type: "incompatible", bit: 3, name: "compression type" },
  { type: "incompatible", bit: 4, name: "extended L2 entries" },
  { type: "compatible", bit: 0, name: "lazy refcounts" },
  { type: "autoclear", bit: 0, name: "bitmaps" },
  { type: "autoclear", bit: 1, name: "raw external data" },
];

/** A header extension as stored. */
export interface Qcow2Extension {
  /** Extension type (EXT_*). */
  readonly type: number;
  /** Extension data (without padding). */
  readonly data: Uint8Array;
}

/** One entry of the feature name table. */
export interface Qcow2FeatureName {
  /** Which feature bitmap the bit belongs to. */
  readonly type: "incompatible" | "compatible" | "autoclear";
  /** Bit number within that bitmap. */
  readonly bit: number;
  /** Human-readable name. */
  readonly name: string;
}

/** The bitmaps extension (only its location: hvkit neither reads nor maintains bitmaps). */
export interface Qcow2BitmapsExtension {
  /** Number of bitmaps. */
  readonly nbBitmaps: number;
  /** Size of the bitmap directory in bytes. */
  readonly directorySize: number;
  /** Offset of the bitmap directory. */
  readonly directoryOffset: number;
}

/** One internal snapshot (tolerated: listed and preserved, never created or applied). */
export interface Qcow2Snapshot {
  /** Unique ID string. */
  readonly id: string;
  /** Name. */
  readonly name: string;
  /** Offset of the snapshot's L1 table. */
  readonly l1TableOffset: number;
  /** Entries in the snapshot's L1 table. */
  readonly l1Size: number;
  /** Size of the saved VM state in bytes (0 if none). */
  readonly vmStateSize: number;
  /** Virtual disk size at snapshot time, when recorded. */
  readonly diskSize: number | null;
}

/** A parsed and validated qcow2 header. */
export interface Qcow2Header {
  /** 2 or 3. */
  readonly version: 2 | 3;
  /** Offset of the backing file name, 0 if none. */
  readonly backingFileOffset: number;
  /** Length of the backing file name. */
  readonly backingFileSize: number;
  /** log2 of the cluster size. */
  readonly clusterBits: number;
  /** Virtual disk size in bytes. */
  readonly size: number;
  /** 0 (no encryption) — anything else is refused. */
  readonly cryptMethod: number;
  /** Entries in the active L1 table. */
  readonly l1Size: number;
  /** Offset of the active L1 table. */
  readonly l1TableOffset: number;
  /** Offset of the refcount table. */
  readonly refcountTableOffset: number;
  /** Clusters the refcount table occupies. */
  readonly refcountTableClusters: number;
  /** Number of internal snapshots. */
  readonly nbSnapshots: number;
  /** Offset of the snapshot table. */
  readonly snapshotsOffset: number;
  /** Incompatible feature bits. */
  readonly incompatibleFeatures: bigint;
  /** Compatible feature bits. */
  readonly compatibleFeatures: bigint;
  /** Autoclear feature bits. */
  readonly autoclearFeatures: bigint;
  /** log2 of the refcount width in bits (4 for version 2). */
  readonly refcountOrder: number;
  /** Header length in bytes (72 for version 2). */
  readonly headerLength: number;
  /** 0 = zlib (deflate); other values are refused. */
  readonly compressionType: number;
  /** Header extensions in file order. */
  readonly extensions: readonly Qcow2Extension[];
  /** Backing file name, or null. */
  readonly backingFile: string | null;
  /** Backing file format from the extension, or null. */
  readonly backingFormat: string | null;
  /** Feature name table entries. */
  readonly featureNames: readonly Qcow2FeatureName[];
  /** The bitmaps extension, or null. */
  readonly bitmaps: Qcow2BitmapsExtension | null;
}

/** A 64-bit big-endian field as a number (exact below 2^53; larger values only fail bounds checks). */
export function getU64(view: DataView, offset: number): number {
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4);
}

/** Store a non-negative safe integer as a 64-bit big-endian field. */
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000));
  view.setUint32(offset + 4, value >>> 0);
}

/** A DataView over a whole Uint8Array. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function corrupt(message: string): DiskError {
  return new DiskError("DISK_CORRUPT", `qcow2: ${message}; the image is damaged (try \`qemu-img check\`)`);
}

function badHeader(message: string): DiskError {
  return new DiskError("DISK_BAD_HEADER", `qcow2: ${message}`);
}

/** The names of the given set bits, using the image's feature name table where it has one. */
export function describeFeatures(
  bits: bigint,
  type: Qcow2FeatureName["type"],
  names: readonly Qcow2FeatureName[],
): string {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((bits >> BigInt(bit)) & 1n) === 0n) continue;
    const name =
      names.find((n) => n.type === type && n.bit === bit)?.name ??
      KNOWN_FEATURE_NAMES.find((n) => n.type === type && n.bit === bit)?.name;
    out.push(name ? `bit ${bit} (${name})` : `bit ${bit}`);
  }
  return out.join(", ");
}

/** True when the store starts with the qcow2 magic. */
export function isQcow2(store: BlockStore): boolean {
  if (store.size < 4) return false;
  return viewOf(store.read(0, 4)).getUint32(0) === QCOW2_MAGIC;
}

/**
 * Read and validate the header, its extensions and the backing file name.
 * Checks only what needs no other metadata; the image checks tables next.
 */
export function parseHeader(store: BlockStore): Qcow2Header {
  if (store.size < V2_HEADER_LENGTH) {
    if (store.size >= 4 && isQcow2(store)) {
      throw new DiskError(
        "DISK_TRUNCATED",
        `qcow2: the image is ${store.size} bytes, shorter than a header; it was truncated`,
      );
    }
    throw new DiskError("DISK_BAD_MAGIC", `qcow2: ${store.size} bytes are too short to be a qcow2 image`);
  }
  const fixed = viewOf(store.read(0, V2_HEADER_LENGTH));
  const magic = fixed.getUint32(0);
  if (magic !== QCOW2_MAGIC) {
    throw new DiskError(
      "DISK_BAD_MAGIC",
      `qcow2: bad magic ${hex(magic)} (expected ${hex(QCOW2_MAGIC)}): not a qcow2 image; open it as raw if it is one`,
    );
  }
  const version = fixed.getUint32(4);
  if (version !== 2 && version !== 3) {
    throw new DiskError(
      "DISK_UNSUPPORTED_VERSION",
      `qcow2: version ${version} is not supported (only 2 and 3); convert it with \`qemu-img convert -O qcow2 -o compat=1.1\``,
    );
  }
  const clusterBits = fixed.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw badHeader(
      `cluster_bits ${clusterBits} is out of range (${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}: 512 B to 2 MiB clusters)`,
    );
  }
  const clusterSize = 2 ** clusterBits;

  let headerLength = V2_HEADER_LENGTH;
  let incompatibleFeatures = 0n;
  let compatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  let refcountOrder = 4;
  let compressionType = 0;
  if (version === 3) {
    if (store.size < V3_MIN_HEADER_LENGTH) {
      throw new DiskError("DISK_TRUNCATED", `qcow2: the image ends inside its version 3 header`);
    }
    const v3 = viewOf(store.read(0, V3_MIN_HEADER_LENGTH));
    incompatibleFeatures = v3.getBigUint64(72);
    compatibleFeatures = v3.getBigUint64(80);
    autoclearFeatures = v3.getBigUint64(88);
    refcountOrder = v3.getUint32(96);
    headerLength = v3.getUint32(100);
    if (headerLength < V3_MIN_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > clusterSize) {
      throw badHeader(
        `header_length ${headerLength} is invalid (a multiple of 8, at least ${V3_MIN_HEADER_LENGTH}, within the first cluster)`,
      );
    }
    if (refcountOrder > 6) throw badHeader(`refcount_order ${refcountOrder} is above 6 (64-bit refcounts)`);
    if (store.size < headerLength) {
      throw new DiskError("DISK_TRUNCATED", `qcow2: the image ends inside its ${headerLength}-byte header`);
    }
    if (headerLength > 104) compressionType = store.read(104, 1)[0]!;
  }

  const backingFileOffset = getU64(fixed, 8);
  const backingFileSize = fixed.getUint32(16);
  const size = getU64(fixed, 24);
  const cryptMethod = fixed.getUint32(32);
  const l1Size = fixed.getUint32(36);
  const l1TableOffset = getU64(fixed, 40);
  const refcountTableOffset = getU64(fixed, 48);
  const refcountTableClusters = fixed.getUint32(56);
  const nbSnapshots = fixed.getUint32(60);
  const snapshotsOffset = getU64(fixed, 64);

  // Extensions run from the end of the header to the backing file name (or
  // the end of the first cluster).
  if (backingFileOffset !== 0 && (backingFileOffset < headerLength || backingFileOffset > clusterSize)) {
    throw corrupt(`backing file name offset ${hex(backingFileOffset)} is outside the header cluster`);
  }
  const extEnd = Math.min(backingFileOffset !== 0 ? backingFileOffset : clusterSize, store.size);
  const area = store.read(0, extEnd);
  const areaView = viewOf(area);
  const extensions: Qcow2Extension[] = [];
  const seen = new Set<number>();
  for (let off = headerLength; off + 8 <= extEnd; ) {
    const type = areaView.getUint32(off);
    const length = areaView.getUint32(off + 4);
    off += 8;
    if (type === EXT_END) break;
    if (length > extEnd - off) {
      throw corrupt(`header extension ${hex(type)} of ${length} bytes runs past the header area`);
    }
    if (seen.has(type) && isKnownExtension(type))
      throw corrupt(`header extension ${hex(type)} appears twice`);
    seen.add(type);
    extensions.push({ type, data: area.slice(off, off + length) });
    off += Math.ceil(length / 8) * 8;
  }

  let backingFormat: string | null = null;
  const featureNames: Qcow2FeatureName[] = [];
  let bitmaps: Qcow2BitmapsExtension | null = null;
  for (const ext of extensions) {
    if (ext.type === EXT_BACKING_FORMAT) {
      backingFormat = decoder.decode(ext.data);
    } else if (ext.type === EXT_FEATURE_TABLE) {
      for (let i = 0; i + 48 <= ext.data.length; i += 48) {
        const type = ext.data[i]!;
        if (type > 2) continue;
        const raw = ext.data.subarray(i + 2, i + 48);
        const end = raw.indexOf(0);
        featureNames.push({
          type: type === 0 ? "incompatible" : type === 1 ? "compatible" : "autoclear",
          bit: ext.data[i + 1]! & 63,
          name: decoder.decode(end < 0 ? raw : raw.subarray(0, end)),
        });
      }
    } else if (ext.type === EXT_BITMAPS) {
      if (ext.data.length !== 24) throw corrupt(`the bitmaps extension is ${ext.data.length} bytes, not 24`);
      const v = viewOf(ext.data);
      bitmaps = { nbBitmaps: v.getUint32(0), directorySize: getU64(v, 8), directoryOffset: getU64(v, 16) };
    }
  }

  // Features: refuse what we cannot honour, naming it from the image's own table.
  const known =
    INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
  const unknown = incompatibleFeatures & ~known;
  if (unknown !== 0n) {
    throw new DiskError(
      "DISK_UNSUPPORTED_FEATURE",
      `qcow2: unsupported incompatible features: ${describeFeatures(unknown, "incompatible", featureNames)}; convert the image with \`qemu-img convert -O qcow2\``,
    );
  }
  if (incompatibleFeatures & INCOMPAT_DATA_FILE) {
    throw new DiskError(
      "DISK_UNSUPPORTED_FEATURE",
      "qcow2: images with an external data file are not supported; convert with `qemu-img convert -O qcow2`",
    );
  }
  if (incompatibleFeatures & INCOMPAT_EXTL2) {
    throw new DiskError(
      "DISK_UNSUPPORTED_FEATURE",
      "qcow2: extended L2 entries (subclusters) are not supported; convert with `qemu-img convert -O qcow2 -o extended_l2=off`",
    );
  }
  if (incompatibleFeatures & INCOMPAT_COMPRESSION) {
    if (compressionType === 0)
      throw badHeader("the compression type bit is set but compression_type is zlib");
  } else if (compressionType !== 0) {
    throw badHeader(`compression_type ${compressionType} without the compression type feature bit`);
  }
  if (compressionType !== 0) {
    throw new DiskError(
      "DISK_UNSUPPORTED_FEATURE",
      `qcow2: compression type ${compressionType === 1 ? "zstd" : compressionType} is not supported (only zlib/deflate); convert with \`qemu-img convert -O qcow2 -o compression_type=zlib\``,
    );
  }
  if (cryptMethod !== 0) {
    throw new DiskError(
      "DISK_UNSUPPORTED_FEATURE",
      `qcow2: encrypted images (crypt_method ${cryptMethod}) are not supported; decrypt with \`qemu-img convert\``,
    );
  }

  if (size > Number.MAX_SAFE_INTEGER - clusterSize) {
    throw badHeader(`virtual size ${hex(size)} is too large`);
  }
  const l2Entries = clusterSize / 8;
  const neededL1 = Math.ceil(size / clusterSize / l2Entries);
  if (l1Size < neededL1) {
    throw corrupt(
      `the L1 table has ${l1Size} entries, fewer than the ${neededL1} the ${size}-byte disk needs`,
    );
  }
  if (l1Size * 8 > MAX_L1_BYTES) throw badHeader(`the L1 table of ${l1Size} entries exceeds 32 MiB`);
  if (refcountTableClusters === 0) throw corrupt("the refcount table has no clusters");
  if (refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES) {
    throw badHeader(`the refcount table of ${refcountTableClusters} clusters exceeds 8 MiB`);
  }
  if (nbSnapshots > MAX_SNAPSHOTS)
    throw badHeader(`${nbSnapshots} snapshots exceed the limit of ${MAX_SNAPSHOTS}`);

  let backingFile: string | null = null;
  if (backingFileOffset !== 0) {
    if (backingFileSize === 0 || backingFileSize > MAX_BACKING_NAME_BYTES) {
      throw corrupt(`the backing file name length ${backingFileSize} is not in 1..${MAX_BACKING_NAME_BYTES}`);
    }
    if (backingFileOffset + backingFileSize > clusterSize) {
      throw corrupt("the backing file name runs past the header cluster");
    }
    if (backingFileOffset + backingFileSize > store.size) {
      throw new DiskError("DISK_TRUNCATED", "qcow2: the image ends inside its backing file name");
    }
    backingFile = decoder.decode(store.read(backingFileOffset, backingFileSize));
  }

  return {
    version,
    backingFileOffset,
    backingFileSize,
    clusterBits,
    size,
    cryptMethod,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots,
    snapshotsOffset,
    incompatibleFeatures,
    compatibleFeatures,
    autoclearFeatures,
    refcountOrder,
    headerLength,
    compressionType,
    extensions,
    backingFile,
    backingFormat,
    featureNames,
    bitmaps,
  };
}

function isKnownExtension(type: number): boolean {
  return (
    type === EXT_BACKING_FORMAT ||
    type === EXT_FEATURE_TABLE ||
    type === EXT_BITMAPS ||
    type === EXT_CRYPTO ||
    type === EXT_DATA_FILE
  );
}

/** Read the snapshot table; its bounds are checked, the L1 tables it names are checked by the caller. */
export function parseSnapshots(
  store: BlockStore,
  header: Qcow2Header,
): { snapshots: Qcow2Snapshot[]; tableLength: number } {
  const snapshots: Qcow2Snapshot[] = [];
  if (header.nbSnapshots === 0) return { snapshots, tableLength: 0 };
  const clusterSize = 2 ** header.clusterBits;
  const start = header.snapshotsOffset;
  if (start === 0 || start % clusterSize !== 0) {
    throw corrupt(`the snapshot table offset ${hex(start)} is not cluster-aligned`);
  }
  if (start >= store.size) {
    throw corrupt(`the snapshot table at ${hex(start)} is beyond the end of the ${store.size}-byte image`);
  }
  let off = start;
  let end = start;
  for (let i = 0; i < header.nbSnapshots; i++) {
    if (off + 40 > store.size || off + 40 - start > MAX_SNAPSHOT_TABLE_BYTES) {
      throw corrupt(`snapshot table entry ${i} runs past the end of the image`);
    }
    const v = viewOf(store.read(off, 40));
    const l1TableOffset = getU64(v, 0);
    const l1Size = v.getUint32(8);
    const idLength = v.getUint16(12);
    const nameLength = v.getUint16(14);
    const vmState32 = v.getUint32(32);
    const extraSize = v.getUint32(36);
    if (extraSize > MAX_SNAPSHOT_EXTRA_BYTES) {
      throw corrupt(
        `snapshot ${i} has ${extraSize} bytes of extra data (at most ${MAX_SNAPSHOT_EXTRA_BYTES})`,
      );
    }
    const length = 40 + extraSize + idLength + nameLength;
    if (off + length > store.size || off + length - start > MAX_SNAPSHOT_TABLE_BYTES) {
      throw corrupt(`snapshot table entry ${i} runs past the end of the image`);
    }
    const entry = store.read(off, length);
    const ev = viewOf(entry);
    const vmStateSize = extraSize >= 8 ? getU64(ev, 40) : vmState32;
    const diskSize = extraSize >= 16 ? getU64(ev, 48) : null;
    const id = decoder.decode(entry.subarray(40 + extraSize, 40 + extraSize + idLength));
    const name = decoder.decode(entry.subarray(40 + extraSize + idLength, length));
    if (l1TableOffset % clusterSize !== 0 || l1TableOffset === 0) {
      throw corrupt(`snapshot "${name}" has a misaligned L1 table offset ${hex(l1TableOffset)}`);
    }
    if (l1Size * 8 > MAX_L1_BYTES) throw corrupt(`snapshot "${name}" has an L1 table over 32 MiB`);
    if (l1TableOffset + l1Size * 8 > store.size) {
      throw corrupt(`snapshot "${name}" has an L1 table beyond the end of the image`);
    }
    snapshots.push({ id, name, l1TableOffset, l1Size, vmStateSize, diskSize });
    end = off + length;
    off += Math.ceil(length / 8) * 8;
  }
  // QEMU writes the table without the last entry's padding, so the file may end there.
  return { snapshots, tableLength: end - start };
}

/** What the header writer lays out in the first cluster. */
export interface HeaderLayout {
  /** 2 or 3. */
  readonly version: 2 | 3;
  /** log2 of the cluster size. */
  readonly clusterBits: number;
  /** Virtual size in bytes. */
  readonly size: number;
  /** L1 entries and offset. */
  readonly l1Size: number;
  readonly l1TableOffset: number;
  /** Refcount table offset and clusters. */
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
  /** log2 of the refcount width (must be 4 for version 2). */
  readonly refcountOrder: number;
  /** Backing file name and format, if any. */
  readonly backingFile?: string | undefined;
  readonly backingFormat?: string | undefined;
}

/**
 * The first cluster of a new image: header, the backing format extension,
 * the feature name table when it fits (it is optional), the end marker, then
 * the backing file name.
 */
export function writeHeaderCluster(layout: HeaderLayout): Uint8Array {
  const clusterSize = 2 ** layout.clusterBits;
  const out = new Uint8Array(clusterSize);
  const v = viewOf(out);
  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, layout.version);
  v.setUint32(20, layout.clusterBits);
  setU64(v, 24, layout.size);
  v.setUint32(36, layout.l1Size);
  setU64(v, 40, layout.l1TableOffset);
  setU64(v, 48, layout.refcountTableOffset);
  v.setUint32(56, layout.refcountTableClusters);
  const headerLength = layout.version === 3 ? V3_HEADER_LENGTH : V2_HEADER_LENGTH;
  if (layout.version === 3) {
    v.setUint32(96, layout.refcountOrder);
    v.setUint32(100, headerLength);
  }

  const name = layout.backingFile !== undefined ? encoder.encode(layout.backingFile) : null;
  const format = layout.backingFormat !== undefined ? encoder.encode(layout.backingFormat) : null;
  const padded = (n: number) => Math.ceil(n / 8) * 8;
  let off = headerLength;
  const room = () => clusterSize - (name?.length ?? 0) - 8; // keep room for the end marker and the name
  const putExtension = (type: number, data: Uint8Array) => {
    v.setUint32(off, type);
    v.setUint32(off + 4, data.length);
    out.set(data, off + 8);
    off += 8 + padded(data.length);
  };
  if (format) {
    if (off + 8 + padded(format.length) > room()) {
      throw new DiskError(
        "DISK_BAD_ARGUMENT",
        "qcow2: the backing file name and format do not fit in one cluster",
      );
    }
    putExtension(EXT_BACKING_FORMAT, format);
  }
  if (layout.version === 3) {
    const table = new Uint8Array(KNOWN_FEATURE_NAMES.length * 48);
    KNOWN_FEATURE_NAMES.forEach((f, i) => {
      table[i * 48] = f.type === "incompatible" ? 0 : f.type === "compatible" ? 1 : 2;
      table[i * 48 + 1] = f.bit;
      table.set(encoder.encode(f.name), i * 48 + 2);
    });
    if (off + 8 + table.length <= room()) putExtension(EXT_FEATURE_TABLE, table);
  }
  off += 8; // end marker (zeros)
  if (name) {
    if (name.length > MAX_BACKING_NAME_BYTES || off + name.length > clusterSize) {
      throw new DiskError(
        "DISK_BAD_ARGUMENT",
        `qcow2: the backing file name is ${name.length} bytes; it must be at most ${MAX_BACKING_NAME_BYTES} and fit in the first cluster`,
      );
    }
    setU64(v, 8, off);
    v.setUint32(16, name.length);
    out.set(name, off);
  }
  return out;
}
