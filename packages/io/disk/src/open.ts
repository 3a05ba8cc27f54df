import { DiskError } from "./errors.js";
import type { DiskFormat, DiskImage } from "./image.js";
import { isQcow2 } from "./qcow2/format.js";
import { Qcow2Image } from "./qcow2/image.js";
import { RawImage } from "./raw.js";
import type { BlockStore } from "./store.js";

/** A store opened for a backing file name, with a key naming it uniquely (a canonical path). */
export interface ResolvedBacking {
  /** The backing file's store (opened read-only; closed with the image chain). */
  readonly store: BlockStore;
  /** A unique identity of that storage, used to detect loops in the chain. */
  readonly key: string;
}

/** Opens the store a backing file name refers to; from is the key of the image that names it. */
export type BackingResolver = (name: string, from: string) => ResolvedBacking;

/** Options of openDiskImage. */
export interface OpenDiskImageOptions {
  /** The format, or "auto" (default): qcow2 when the magic says so, raw otherwise. */
  readonly format?: DiskFormat | "auto";
  /** Refuse writes (default: the store's readOnly). Backing images are always read-only. */
  readonly readOnly?: boolean;
  /** A unique identity of store (a canonical path), for loop detection and relative names. */
  readonly key?: string;
  /** Opens backing files named in qcow2 headers; without it such images are refused. */
  readonly resolveBacking?: BackingResolver;
  /** Longest backing chain accepted, counting the top image (default 16). */
  readonly maxChainLength?: number;
  /** Passed on to qcow2 images (see Qcow2OpenOptions). */
  readonly writeBarriers?: boolean;
  readonly cacheTables?: number;
}

/** Default limit on backing chain length. */
export const DEFAULT_MAX_CHAIN_LENGTH = 16;

/**
 * Open the image in store and, through resolveBacking, its backing chain.
 * Backing formats come from the header's backing format extension when
 * present, else from probing (as QEMU does; record the format to avoid a raw
 * backing file that happens to start with the qcow2 magic being misread). A
 * chain that names an image twice, or is longer than maxChainLength, is
 * refused with DISK_BACKING_LOOP.
 */
export function openDiskImage(store: BlockStore, options: OpenDiskImageOptions = {}): DiskImage {
  const key = options.key ?? "<top image>";
  return openChain(store, options.format ?? "auto", options.readOnly, key, [], options);
}

function openChain(
  store: BlockStore,
  format: DiskFormat | "auto",
  readOnly: boolean | undefined,
  key: string,
  chain: readonly string[],
  options: OpenDiskImageOptions,
): DiskImage {
  const max = options.maxChainLength ?? DEFAULT_MAX_CHAIN_LENGTH;
  if (chain.includes(key)) {
    throw new DiskError(
      "DISK_BACKING_LOOP",
      `backing chain loop: ${[...chain, key].join(" -> ")}; point the image at a different backing file (qemu-img rebase)`,
    );
  }
  if (chain.length >= max) {
    throw new DiskError(
      "DISK_BACKING_LOOP",
      `backing chain longer than ${max} images (${[...chain, key].join(" -> ")}); flatten it with qemu-img convert or raise maxChainLength`,
    );
  }
  const kind = format === "auto" ? (isQcow2(store) ? "qcow2" : "raw") : format;
  if (kind === "raw") return new RawImage(store, readOnly === undefined ? {} : { readOnly });
  const path = [...chain, key];
  return Qcow2Image.open(store, {
    ...(readOnly !== undefined && { readOnly }),
    ...(options.writeBarriers !== undefined && { writeBarriers: options.writeBarriers }),
    ...(options.cacheTables !== undefined && { cacheTables: options.cacheTables }),
    backing: (name, backingFormat) => {
      if (!options.resolveBacking) {
        throw new DiskError(
          "DISK_BACKING_MISSING",
          `${key} has the backing file "${name}" but no resolveBacking was given; open files with openDiskImageFile from @hvkit/disk/node`,
        );
      }
      const next = backingFormat === null ? "auto" : backingFormat;
      if (next !== "auto" && next !== "raw" && next !== "qcow2") {
        throw new DiskError(
          "DISK_UNSUPPORTED_FEATURE",
          `${key}: the backing file "${name}" has format "${backingFormat}"; only raw and qcow2 are supported (convert it with qemu-img convert)`,
        );
      }
      const resolved = options.resolveBacking(name, key);
      try {
        return openChain(resolved.store, next, true, resolved.key, path, options);
      } catch (error) {
        resolved.store.close?.();
        if (error instanceof DiskError) {
          throw new DiskError(error.code, `backing file "${name}" of ${key}: ${error.message}`, {
            cause: error,
          });
        }
        throw error;
      }
    },
  });
}
