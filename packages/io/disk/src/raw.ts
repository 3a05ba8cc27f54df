import { DiskError } from "./errors.js";
import { checkRequest, type DiskImage, SECTOR_SIZE, sectorCount } from "./image.js";
import type { BlockStore } from "./store.js";

/** Options of a raw image. */
export interface RawImageOptions {
  /** Refuse writes (default: the store's readOnly). */
  readonly readOnly?: boolean;
}

/**
 * A raw image: sector n is bytes [512n, 512n + 512) of the store. A sparse
 * store (a sparse file, a MemoryStore) keeps holes that read as zeros. A store
 * whose size is not a multiple of 512 gets a last partial sector that reads
 * zeros past the end; writes there are clipped, so the store never grows.
 */
export class RawImage implements DiskImage {
  readonly format = "raw";
  readonly sectorSize = SECTOR_SIZE;
  readonly readOnly: boolean;
  readonly #store: BlockStore;
  #closed = false;

  constructor(store: BlockStore, options: RawImageOptions = {}) {
    this.#store = store;
    this.readOnly = options.readOnly ?? store.readOnly;
    if (!this.readOnly && store.readOnly) {
      throw new DiskError("DISK_READ_ONLY", `raw image: the ${store.name} store is read-only`);
    }
  }

  get sectors(): number {
    return Math.ceil(this.#store.size / SECTOR_SIZE);
  }

  read(sector: number, count: number, into: Uint8Array): void {
    this.#open();
    checkRequest(this, sector, count, into.length);
    const offset = sector * SECTOR_SIZE;
    const length = count * SECTOR_SIZE;
    const inStore = Math.max(0, Math.min(length, this.#store.size - offset));
    if (inStore > 0) into.set(this.#store.read(offset, inStore));
    into.fill(0, inStore, length);
  }

  write(sector: number, data: Uint8Array): void {
    this.#open();
    this.#writable();
    const count = sectorCount(this, data);
    checkRequest(this, sector, count);
    const offset = sector * SECTOR_SIZE;
    const inStore = Math.min(data.length, this.#store.size - offset);
    if (inStore > 0) this.#store.write(offset, data.subarray(0, inStore));
  }

  writeZeroes(sector: number, count: number): void {
    this.#open();
    this.#writable();
    checkRequest(this, sector, count);
    // Bounded chunks so a large request does not allocate its whole size.
    const chunk = new Uint8Array(Math.min(count, 2048) * SECTOR_SIZE);
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, chunk.length / SECTOR_SIZE);
      this.write(
        sector + done,
        n === chunk.length / SECTOR_SIZE ? chunk : chunk.subarray(0, n * SECTOR_SIZE),
      );
      done += n;
    }
  }

  flush(): void {
    this.#open();
    if (!this.readOnly) this.#store.flush();
  }

  close(): void {
    if (this.#closed) return;
    if (!this.readOnly) this.#store.flush();
    this.#closed = true;
    this.#store.close?.();
  }

  #open(): void {
    if (this.#closed) throw new DiskError("DISK_CLOSED", "raw image: used after close()");
  }

  #writable(): void {
    if (this.readOnly) throw new DiskError("DISK_READ_ONLY", "raw image: opened read-only");
  }
}
