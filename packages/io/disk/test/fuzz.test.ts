/**
 * Parser fuzzing: thousands of random mutations of valid images. Opening a
 * mutated image must either succeed — and then every read stays within the
 * file and either returns data or throws a DiskError — or throw a DiskError.
 * Never another exception, never a read outside the store, never an
 * unbounded amount of work.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BlockStore,
  checkQcow2,
  createQcow2,
  DiskError,
  MemoryStore,
  openDiskImage,
  Qcow2Image,
  RawImage,
  SECTOR_SIZE,
} from "../src/index.js";
import {
  compressCluster,
  loadStore,
  pattern,
  prng,
  qemu,
  randInt,
  skipWithoutQemu,
  tempDir,
} from "./helpers.js";

const tmp = tempDir("hvkit-fuzz-");
afterAll(() => tmp.cleanup());

/** A store that fails the test (with a plain Error) on any read outside it, and counts bytes read. */
class GuardedStore implements BlockStore {
  readonly name = "guarded";
  bytesRead = 0;
  constructor(readonly inner: MemoryStore) {}
  get size() {
    return this.inner.size;
  }
  get readOnly() {
    return this.inner.readOnly;
  }
  read(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new Error(`OUT OF BOUNDS: read(${offset}, ${length})`);
    }
    if (offset + length > this.inner.size)
      throw new Error(`OUT OF BOUNDS: read(${offset}, ${length}) of ${this.size}`);
    this.bytesRead += length;
    return this.inner.read(offset, length);
  }
  write(offset: number, data: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > 2 ** 40)
      throw new Error(`BAD WRITE at ${offset}`);
    this.inner.write(offset, data);
  }
  flush(): void {}
  resize(size: number): void {
    this.inner.resize(size);
  }
}

/** Apply one random mutation, biased towards the metadata at the start of the file. */
function mutate(store: MemoryStore, random: () => number, metadataEnd: number): void {
  const size = store.size;
  const interesting = [
    0,
    1,
    0xffffffff,
    0x7fffffff,
    0x80000000,
    512,
    4096,
    65536,
    size,
    size - 1,
    size + 4096,
    Math.floor(size / 2),
  ];
  const kind = randInt(random, 6);
  const region = random() < 0.8 ? Math.min(metadataEnd, size) : size;
  const at = randInt(random, Math.max(1, region - 8));
  const word = new DataView(new ArrayBuffer(8));
  switch (kind) {
    case 0: {
      // Flip a few bits.
      for (let i = 0, n = 1 + randInt(random, 8); i < n; i++) {
        const off = randInt(random, region);
        const b = store.read(off, 1);
        b[0]! ^= 1 << randInt(random, 8);
        store.write(off, b);
      }
      break;
    }
    case 1: {
      // An interesting 32-bit value at an aligned field.
      word.setUint32(0, interesting[randInt(random, interesting.length)]! >>> 0);
      store.write(at & ~3, new Uint8Array(word.buffer, 0, 4));
      break;
    }
    case 2: {
      // An interesting 64-bit value (an offset, with or without entry flags).
      const base = BigInt(interesting[randInt(random, interesting.length)]!);
      const flags = [0n, 1n << 63n, 1n << 62n, 3n << 62n, 1n][randInt(random, 5)]!;
      word.setBigUint64(0, base | flags | BigInt(randInt(random, 2) ? 0 : randInt(random, 1 << 20)));
      store.write(at & ~7, new Uint8Array(word.buffer));
      break;
    }
    case 3: {
      // Random bytes.
      const n = 1 + randInt(random, 16);
      store.write(
        at,
        Uint8Array.from({ length: n }, () => randInt(random, 256)),
      );
      break;
    }
    case 4: {
      // Truncate.
      store.resize(randInt(random, size));
      break;
    }
    default: {
      // Copy an 8-byte word from elsewhere (plausible offsets in the wrong place).
      const from = randInt(random, Math.max(1, size - 8)) & ~7;
      store.write(at & ~7, store.read(from, 8));
    }
  }
}

/** Open and read everything; returns what happened. A non-DiskError fails the test. */
function exercise(store: MemoryStore, random: () => number, writable: boolean): "opened" | "refused" {
  const guarded = new GuardedStore(store);
  let image: Qcow2Image;
  try {
    image = Qcow2Image.open(guarded, {
      readOnly: !writable,
      backing: new RawImage(new MemoryStore(1 << 20)),
    });
  } catch (error) {
    if (error instanceof DiskError) return "refused";
    throw error;
  }
  const cs = image.info.clusterSize;
  const step = Math.max(1, cs / SECTOR_SIZE);
  const buf = new Uint8Array(Math.max(cs, 8 * SECTOR_SIZE));
  // Every cluster (bounded: a mutated size may be huge), then some random requests.
  const clusters = Math.min(Math.ceil(image.sectors / step), 600);
  for (let c = 0; c < clusters; c++) {
    const sector = c * step;
    const count = Math.min(step, image.sectors - sector);
    try {
      image.read(sector, count, buf);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
    }
  }
  if (writable) {
    for (let i = 0; i < 6 && image.sectors > 8; i++) {
      const sector = randInt(random, Math.min(image.sectors, 4096) - 8);
      try {
        if (random() < 0.7) image.write(sector, pattern(8, i));
        else image.writeZeroes(sector, 8);
      } catch (error) {
        if (!(error instanceof DiskError)) throw error;
      }
    }
    try {
      checkQcow2(store);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
    }
  }
  image.close();
  // Work stays bounded: a few times the file plus the tables a hostile header may name.
  expect(guarded.bytesRead).toBeLessThan(64 * 1024 * 1024);
  return "opened";
}

function fuzz(base: MemoryStore, seed: number, iterations: number, writable: boolean) {
  const random = prng(seed);
  const metadataEnd = Math.min(base.size, 20 * 4096);
  const outcome = { opened: 0, refused: 0 };
  for (let i = 0; i < iterations; i++) {
    const store = base.snapshot();
    for (let m = 0, n = 1 + randInt(random, 3); m < n; m++) mutate(store, random, metadataEnd);
    try {
      outcome[exercise(store, random, writable)]++;
    } catch (error) {
      throw new Error(`iteration ${i} (seed ${seed}): ${(error as Error).stack}`);
    }
  }
  // Both outcomes happen: the mutations reach the parser and do not only break it.
  expect(outcome.opened).toBeGreaterThan(iterations / 20);
  expect(outcome.refused).toBeGreaterThan(iterations / 20);
  return outcome;
}

/** An hvkit image with data, zero clusters, compressed clusters and a backing file name. */
function hvkitImage(options: { clusterBits: number; version: 2 | 3; refcountOrder?: number }): MemoryStore {
  const store = new MemoryStore();
  const image = createQcow2(store, {
    size: 1 << 20,
    ...options,
    backingFile: "base.raw",
    backingFormat: "raw",
    backing: new RawImage(new MemoryStore(1 << 20)),
  });
  for (let s = 0; s < 2048; s += 97)
    image.write(
      s,
      pattern(9, s).map((b, i) => (i < 3000 ? b : 0)),
    );
  if (options.version === 3) image.writeZeroes(600, 64);
  image.close();
  if (options.version === 3 && options.refcountOrder === undefined) {
    // compressCluster reopens the image without its backing: drop the name for that.
    return withCompressed(store);
  }
  return store;
}

function withCompressed(store: MemoryStore): MemoryStore {
  const saved = store.read(8, 12);
  store.write(8, new Uint8Array(12)); // no backing file while compressing
  compressCluster(store, 0);
  compressCluster(store, 2);
  store.write(8, saved);
  return store;
}

describe("fuzzing the qcow2 parser", () => {
  const bases: Array<[string, () => MemoryStore]> = [
    [
      "v3, 4 KiB clusters, compressed and zero clusters, backing name",
      () => hvkitImage({ clusterBits: 12, version: 3 }),
    ],
    [
      "v3, 512-byte clusters, 1-bit refcounts",
      () => hvkitImage({ clusterBits: 9, version: 3, refcountOrder: 0 }),
    ],
    ["v2, 1 KiB clusters", () => hvkitImage({ clusterBits: 10, version: 2 })],
  ];
  for (const [name, make] of bases) {
    it(`read-only opens of 1500 mutations: ${name}`, () => {
      fuzz(make(), name.length, 1500, false);
    }, 180_000);
    it(`writable opens of 300 mutations: ${name}`, () => {
      fuzz(make(), name.length + 1, 300, true);
    }, 180_000);
  }

  it.skipIf(skipWithoutQemu)(
    "1000 mutations of a qemu-img image with compressed clusters and a snapshot",
    () => {
      const raw = join(tmp.dir, "fuzz.raw");
      const path = join(tmp.dir, "fuzz.qcow2");
      const random = prng(99);
      const bytes = new Uint8Array(512 << 10).map((_, i) =>
        (i >> 12) % 3 === 0 ? randInt(random, 256) : (i * 3) & 0xff,
      );
      writeFileSync(raw, bytes);
      qemu("qemu-img", ["convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096", raw, path]);
      qemu("qemu-img", ["snapshot", "-c", "s", path]);
      qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x42 64k 64k", path]);
      fuzz(loadStore(path), 7, 600, false);
    },
    180_000,
  );

  it("openDiskImage with probing never throws anything but DiskError", () => {
    const base = hvkitImage({ clusterBits: 12, version: 3 });
    const random = prng(3);
    for (let i = 0; i < 300; i++) {
      const store = base.snapshot();
      mutate(store, random, 4096);
      try {
        const image = openDiskImage(new GuardedStore(store), {
          readOnly: true,
          resolveBacking: () => ({ store: new MemoryStore(1 << 20), key: "base" }),
        });
        image.close();
      } catch (error) {
        if (!(error instanceof DiskError)) throw error;
      }
    }
  });
});
