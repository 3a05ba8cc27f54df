import { DiskError } from "./errors.js";

/** Bytes per sector: the unit of every DiskImage request (virtio-blk's too). */
export const SECTOR_SIZE = 512;

/** The image formats this package reads and writes. */
export type DiskFormat = "raw" | "qcow2";

/**
 * A virtual disk as a guest sees it: a number of 512-byte sectors. Requests
 * outside the disk are host misuse (DISK_RANGE): a device model checks a
 * guest's request first and answers it with an I/O error status instead.
 */
export interface DiskImage {
  /** Format discriminant. */
  readonly format: DiskFormat;
  /** Bytes per sector, always 512. */
  readonly sectorSize: 512;
  /** Virtual size in sectors (the byte size rounded up; a partial last sector reads zeros past the end). */
  readonly sectors: number;
  /** True when write() and writeZeroes() are refused. */
  readonly readOnly: boolean;
  /** Read count sectors from sector into the first count * 512 bytes of into. */
  read(sector: number, count: number, into: Uint8Array): void;
  /** Write data (a whole number of sectors) at sector. */
  write(sector: number, data: Uint8Array): void;
  /** Make count sectors from sector read as zeros (cheaply where the format allows). */
  writeZeroes?(sector: number, count: number): void;
  /** Make every completed write durable (the guest's flush command). */
  flush(): void;
  /** Flush and release the image, its store and the backing images it opened. */
  close(): void;
}

/** Throws DISK_RANGE unless [sector, sector + count) lies within the disk and into can hold it. */
export function checkRequest(image: DiskImage, sector: number, count: number, bytes?: number): void {
  if (
    !Number.isSafeInteger(sector) ||
    !Number.isSafeInteger(count) ||
    sector < 0 ||
    count < 0 ||
    sector + count > image.sectors
  ) {
    throw new DiskError(
      "DISK_RANGE",
      `${image.format} image: sectors [${sector}, ${sector + count}) are outside the disk's ${image.sectors} sectors`,
    );
  }
  if (bytes !== undefined && bytes < count * SECTOR_SIZE) {
    throw new DiskError(
      "DISK_BAD_ARGUMENT",
      `${image.format} image: a buffer of ${bytes} bytes cannot hold ${count} sectors`,
    );
  }
}

/** Throws DISK_BAD_ARGUMENT unless data is a whole number of sectors; returns the count. */
export function sectorCount(image: DiskImage, data: Uint8Array): number {
  if (data.length % SECTOR_SIZE !== 0) {
    throw new DiskError(
      "DISK_BAD_ARGUMENT",
      `${image.format} image: a write of ${data.length} bytes is not a whole number of ${SECTOR_SIZE}-byte sectors`,
    );
  }
  return data.length / SECTOR_SIZE;
}
