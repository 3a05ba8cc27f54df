/** Stable error codes of the disk package. */
export type DiskErrorCode =
  /** The bytes are not an image of the requested format (wrong magic). */
  | "DISK_BAD_MAGIC"
  /** A format version this package does not read. */
  | "DISK_UNSUPPORTED_VERSION"
  /** The image uses a feature this package does not implement (encryption, external data, zstd, ...). */
  | "DISK_UNSUPPORTED_FEATURE"
  /** A header field is out of range (cluster_bits, refcount_order, header_length, sizes). */
  | "DISK_BAD_HEADER"
  /** Metadata is inconsistent: offsets misaligned, beyond the end, overlapping, bad descriptors. */
  | "DISK_CORRUPT"
  /** The image file ends before a structure it declares. */
  | "DISK_TRUNCATED"
  /** The image is marked corrupt (qcow2 incompatible bit 1) and may not be opened for writing. */
  | "DISK_MARKED_CORRUPT"
  /** The image is marked dirty (qcow2 incompatible bit 0): refcounts must be repaired before writing. */
  | "DISK_DIRTY"
  /** A write to an image or store opened read-only. */
  | "DISK_READ_ONLY"
  /** A sector range or byte range outside the disk or store. */
  | "DISK_RANGE"
  /** A caller passed an invalid argument or option. */
  | "DISK_BAD_ARGUMENT"
  /** The image has a backing file that could not be opened, or no resolver was given. */
  | "DISK_BACKING_MISSING"
  /** A backing chain refers back to an image already in the chain, or is too long. */
  | "DISK_BACKING_LOOP"
  /** The image cannot grow further (refcount table or offset limits). */
  | "DISK_FULL"
  /** The image or store was used after close(). */
  | "DISK_CLOSED"
  /** The host storage failed (file system error). */
  | "DISK_IO";

/**
 * An error from the disk package: host misuse or bad input (a corrupt or
 * unsupported image), never a guest fault. A device model turns these into
 * guest-visible I/O errors (virtio-blk VIRTIO_BLK_S_IOERR) and counts them.
 */
export class DiskError extends Error {
  override readonly name = "DiskError";
  /** Stable, machine-readable error code. */
  readonly code: DiskErrorCode;

  constructor(code: DiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** `0x`-prefixed hex for messages. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}
