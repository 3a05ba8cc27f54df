import { DiskError } from "./errors.js";

/**
 * The storage behind a disk image: a growable array of bytes. Synchronous on
 * purpose: the VMM emulates devices inside its run loop, so a virtio-blk
 * request is served to completion before the hart runs on (see the README for
 * the reasoning and for how an asynchronous backend would fit).
 *
 * Durability: a write is visible to later reads at once, but is only durable
 * after flush(). flush() is also the ordering barrier that keeps metadata
 * consistent across a crash: writes before it reach storage before writes
 * after it.
 */
export interface BlockStore {
  /** Adapter kind, for messages ("memory", "file", ...). */
  readonly name: string;
  /** Current size in bytes; a write that ends past it grows the store. */
  readonly size: number;
  /** True when the store refuses write(), resize() and growth. */
  readonly readOnly: boolean;
  /** A new array holding bytes [offset, offset + length), which must lie within size. */
  read(offset: number, length: number): Uint8Array;
  /** Store data at offset, growing the store (zero-filled) if it ends past size. */
  write(offset: number, data: Uint8Array): void;
  /** Make every completed write durable (fsync for files); an ordering barrier. */
  flush(): void;
  /** Truncate or extend (with zeros) to size bytes. */
  resize?(size: number): void;
  /** Release the underlying resource; later calls throw DISK_CLOSED. */
  close?(): void;
}

/** Throws DISK_RANGE unless [offset, offset + length) is a valid byte range within size. */
export function checkStoreRange(store: BlockStore, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > store.size
  ) {
    throw new DiskError(
      "DISK_RANGE",
      `${store.name} store: read of ${length} bytes at ${offset} is outside its ${store.size} bytes`,
    );
  }
}

/** Throws DISK_BAD_ARGUMENT unless offset is a non-negative safe integer. */
function checkWriteOffset(store: BlockStore, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new DiskError("DISK_BAD_ARGUMENT", `${store.name} store: bad write offset ${offset}`);
  }
}

/** Bytes per chunk of a MemoryStore: big enough that sequential I/O touches few chunks. */
const CHUNK_BITS = 16;
const CHUNK_SIZE = 1 << CHUNK_BITS;

/** Options of a MemoryStore. */
export interface MemoryStoreOptions {
  /** Refuse writes. */
  readonly readOnly?: boolean;
}

/**
 * A sparse in-memory store: bytes live in 64 KiB chunks allocated on first
 * write, so a large, mostly empty store costs little, and a hole reads as
 * zeros (like a sparse file). Works in every runtime. It has no close():
 * the bytes outlive the images opened on it.
 */
export class MemoryStore implements BlockStore {
  readonly name = "memory";
  readonly readOnly: boolean;
  #size: number;
  readonly #chunks = new Map<number, Uint8Array>();
  /** Chunks shared with snapshots: copied before this store writes them. */
  readonly #shared = new Set<number>();

  /** An empty store of size bytes (all holes). */
  constructor(size = 0, options: MemoryStoreOptions = {}) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new DiskError("DISK_BAD_ARGUMENT", `memory store: bad size ${size}`);
    }
    this.#size = size;
    this.readOnly = options.readOnly ?? false;
  }

  /** A store holding a copy of bytes; all-zero chunks stay holes. */
  static from(bytes: Uint8Array, options: MemoryStoreOptions = {}): MemoryStore {
    const store = new MemoryStore(bytes.length, options);
    store.#put(0, bytes);
    return store;
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes held in chunks (what the store costs, as a sparse file's allocated size). */
  get allocatedBytes(): number {
    return this.#chunks.size * CHUNK_SIZE;
  }

  read(offset: number, length: number): Uint8Array {
    checkStoreRange(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK_SIZE);
      const within = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, length - done);
      const chunk = this.#chunks.get(index);
      if (chunk) out.set(chunk.subarray(within, within + n), done);
      done += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    this.#writable();
    checkWriteOffset(this, offset);
    this.#put(offset, data);
    if (offset + data.length > this.#size) this.#size = offset + data.length;
  }

  flush(): void {}

  resize(size: number): void {
    this.#writable();
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new DiskError("DISK_BAD_ARGUMENT", `memory store: bad size ${size}`);
    }
    if (size < this.#size) {
      // Drop whole chunks past the end and zero the tail of the last one, so
      // growing again reads zeros as a file would.
      for (const index of [...this.#chunks.keys()]) {
        const start = index * CHUNK_SIZE;
        if (start >= size) {
          this.#chunks.delete(index);
          this.#shared.delete(index);
        } else if (start + CHUNK_SIZE > size) this.#own(index).fill(0, size - start);
      }
    }
    this.#size = size;
  }

  /** The whole content as one array (holes as zeros). */
  toBytes(): Uint8Array {
    return this.read(0, this.#size);
  }

  /** An independent copy, cheap to take: chunks are shared until either store writes them. */
  snapshot(options: MemoryStoreOptions = {}): MemoryStore {
    const copy = new MemoryStore(this.#size, options);
    for (const [index, chunk] of this.#chunks) {
      copy.#chunks.set(index, chunk);
      copy.#shared.add(index);
      this.#shared.add(index);
    }
    return copy;
  }

  /** A chunk this store may write in place. */
  #own(index: number): Uint8Array {
    let chunk = this.#chunks.get(index)!;
    if (this.#shared.delete(index)) {
      chunk = chunk.slice();
      this.#chunks.set(index, chunk);
    }
    return chunk;
  }

  #put(offset: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK_SIZE);
      const within = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, data.length - done);
      const part = data.subarray(done, done + n);
      let chunk = this.#chunks.get(index);
      if (!chunk) {
        if (isZero(part)) {
          done += n;
          continue;
        }
        chunk = new Uint8Array(CHUNK_SIZE);
        this.#chunks.set(index, chunk);
      } else {
        chunk = this.#own(index);
      }
      chunk.set(part, within);
      done += n;
    }
  }

  #writable(): void {
    if (this.readOnly) throw new DiskError("DISK_READ_ONLY", "memory store: opened read-only");
  }
}

/** True when every byte is zero. */
export function isZero(data: Uint8Array): boolean {
  // Compare 4 bytes at a time where the view is aligned; this runs per
  // written chunk and per cluster zero test.
  let i = 0;
  if ((data.byteOffset & 3) === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
    for (let w = 0; w < words.length; w++) if (words[w] !== 0) return false;
    i = words.length << 2;
  }
  for (; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
