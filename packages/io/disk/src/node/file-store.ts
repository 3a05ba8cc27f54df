import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { DiskError } from "../errors.js";
import { type BlockStore, checkStoreRange } from "../store.js";

/** Options of FileStore.open. */
export interface FileStoreOptions {
  /** Open read-only (default false). */
  readonly readOnly?: boolean;
  /** Create the file if missing, truncating an existing one (default false). */
  readonly create?: boolean;
}

/**
 * A block store over a file, with synchronous system calls (readSync,
 * writeSync) so that a device model serves a request to completion inside
 * the run loop. flush() is fsync: the durability point and the ordering
 * barrier. Holes in a sparse file read as zeros; resize() extends with a
 * hole.
 */
export class FileStore implements BlockStore {
  readonly name = "file";
  /** The path the file was opened with. */
  readonly path: string;
  readonly readOnly: boolean;
  #fd: number | null;
  #size: number;

  private constructor(path: string, fd: number, readOnly: boolean) {
    this.path = path;
    this.#fd = fd;
    this.readOnly = readOnly;
    this.#size = fstatSync(fd).size;
  }

  /** Open (or with create, create) the file at path. */
  static open(path: string, options: FileStoreOptions = {}): FileStore {
    const readOnly = options.readOnly ?? false;
    if (readOnly && options.create) {
      throw new DiskError("DISK_BAD_ARGUMENT", `file store: cannot create ${path} read-only`);
    }
    let fd: number;
    try {
      fd = openSync(path, readOnly ? "r" : options.create ? "w+" : "r+");
    } catch (cause) {
      throw ioError(`cannot open ${path}`, cause);
    }
    return new FileStore(path, fd, readOnly);
  }

  get size(): number {
    return this.#size;
  }

  read(offset: number, length: number): Uint8Array {
    const fd = this.#open();
    checkStoreRange(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (cause) {
      throw ioError(`cannot read ${this.path}`, cause);
    }
    if (done < length) {
      throw new DiskError(
        "DISK_IO",
        `file store: ${this.path} shrank while open (read ended at ${offset + done})`,
      );
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    const fd = this.#open();
    this.#writable();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new DiskError("DISK_BAD_ARGUMENT", `file store: bad write offset ${offset}`);
    }
    let done = 0;
    try {
      while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done);
    } catch (cause) {
      throw ioError(`cannot write ${this.path}`, cause);
    }
    if (offset + data.length > this.#size) this.#size = offset + data.length;
  }

  flush(): void {
    const fd = this.#open();
    if (this.readOnly) return;
    try {
      fsyncSync(fd);
    } catch (cause) {
      throw ioError(`cannot fsync ${this.path}`, cause);
    }
  }

  resize(size: number): void {
    const fd = this.#open();
    this.#writable();
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new DiskError("DISK_BAD_ARGUMENT", `file store: bad size ${size}`);
    }
    try {
      ftruncateSync(fd, size);
    } catch (cause) {
      throw ioError(`cannot resize ${this.path}`, cause);
    }
    this.#size = size;
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch (cause) {
      throw ioError(`cannot close ${this.path}`, cause);
    }
  }

  #open(): number {
    if (this.#fd === null) throw new DiskError("DISK_CLOSED", `file store: ${this.path} used after close()`);
    return this.#fd;
  }

  #writable(): void {
    if (this.readOnly) throw new DiskError("DISK_READ_ONLY", `file store: ${this.path} is open read-only`);
  }
}

/** A DISK_IO error naming the system error. */
export function ioError(what: string, cause: unknown): DiskError {
  const code = (cause as { code?: string }).code;
  return new DiskError("DISK_IO", `file store: ${what}: ${code ?? (cause as Error).message}`, { cause });
}
