/**
 * @hvkit/disk/node — disk images in files: the FileStore adapter and helpers
 * that open an image with its backing chain (relative backing names resolve
 * against the directory of the image naming them, as in QEMU), and create
 * raw, qcow2 and overlay files.
 */
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { DiskError } from "../errors.js";
import type { DiskImage } from "../image.js";
import { type OpenDiskImageOptions, openDiskImage, type ResolvedBacking } from "../open.js";
import { createQcow2, type Qcow2CreateOptions } from "../qcow2/create.js";
import type { Qcow2Image } from "../qcow2/image.js";
import { RawImage } from "../raw.js";
import { FileStore } from "./file-store.js";

export { FileStore, type FileStoreOptions } from "./file-store.js";

/** Options of openDiskImageFile. */
export type OpenDiskImageFileOptions = Omit<OpenDiskImageOptions, "key" | "resolveBacking">;

/**
 * Open the image file at path (format probed unless given) with its backing
 * chain, each backing file read-only. Closing the image closes the files.
 */
export function openDiskImageFile(path: string, options: OpenDiskImageFileOptions = {}): DiskImage {
  return openFileChain(path, options, []);
}

function openFileChain(path: string, options: OpenDiskImageFileOptions, keys: string[]): DiskImage {
  const store = FileStore.open(path, options.readOnly === undefined ? {} : { readOnly: options.readOnly });
  const key = realpathSync(path);
  keys.push(key);
  // The names images were opened by, so relative backing names resolve the way QEMU resolves them.
  const given = new Map<string, string>([[key, path]]);
  try {
    return openDiskImage(store, {
      ...options,
      key,
      resolveBacking: (name, from): ResolvedBacking => {
        const base = isAbsolute(name) ? name : resolve(dirname(given.get(from) ?? from), name);
        if (!existsSync(base)) {
          throw new DiskError(
            "DISK_BACKING_MISSING",
            `the backing file "${name}" of ${from} is not at ${base}; restore it, or point the image elsewhere with \`qemu-img rebase -u -b <file>\``,
          );
        }
        const real = realpathSync(base);
        given.set(real, base);
        keys.push(real);
        return { store: FileStore.open(base, { readOnly: true }), key: real };
      },
    });
  } catch (error) {
    store.close();
    throw error;
  }
}

/** Options of createQcow2File. */
export type CreateQcow2FileOptions = Omit<Qcow2CreateOptions, "backing">;

/**
 * Create a qcow2 file at path (replacing a file there) and open it for
 * writing. A backingFile is resolved against path's directory, opened
 * read-only with its chain (it gives the size when none is given), and must
 * not be the new file itself or anything in its chain.
 */
export function createQcow2File(path: string, options: CreateQcow2FileOptions): Qcow2Image {
  let base: DiskImage | null = null;
  if (options.backingFile !== undefined) {
    const basePath = isAbsolute(options.backingFile)
      ? options.backingFile
      : resolve(dirname(path), options.backingFile);
    if (!existsSync(basePath)) {
      throw new DiskError(
        "DISK_BACKING_MISSING",
        `the backing file "${options.backingFile}" is not at ${basePath}; a relative name is relative to the new image's directory`,
      );
    }
    const keys: string[] = [];
    base = openFileChain(basePath, { readOnly: true }, keys);
    if (existsSync(path) && keys.includes(realpathSync(path))) {
      base.close();
      throw new DiskError(
        "DISK_BACKING_LOOP",
        `${path} is part of its own backing chain (${keys.join(" -> ")}); creating it would destroy its base`,
      );
    }
  }
  let store: FileStore;
  try {
    store = FileStore.open(path, { create: true });
  } catch (error) {
    base?.close();
    throw error;
  }
  try {
    const opened = base;
    return createQcow2(store, {
      ...options,
      ...(opened !== null && {
        size: options.size ?? opened.sectors * 512,
        backingFormat: options.backingFormat ?? opened.format,
        backing: () => opened,
      }),
    });
  } catch (error) {
    store.close();
    base?.close();
    throw error;
  }
}

/** Options of createOverlayFile. */
export type CreateOverlayFileOptions = Omit<CreateQcow2FileOptions, "backingFile" | "size">;

/**
 * Create a qcow2 copy-on-write overlay at path over the image at backingFile
 * (a name relative to path's directory, or absolute, recorded as given). The
 * base is never written; qemu-img and QEMU open the overlay as it is.
 */
export function createOverlayFile(
  path: string,
  backingFile: string,
  options: CreateOverlayFileOptions = {},
): Qcow2Image {
  return createQcow2File(path, { ...options, backingFile });
}

/** Create a sparse raw image file of size bytes (a hole that reads as zeros) and open it. */
export function createRawFile(path: string, size: number): RawImage {
  const store = FileStore.open(path, { create: true });
  try {
    store.resize(size);
    return new RawImage(store);
  } catch (error) {
    store.close();
    throw error;
  }
}
