import { describe, expect, it } from "vitest";
import {
  checkQcow2,
  createOverlay,
  createQcow2,
  type DiskImage,
  MemoryStore,
  openDiskImage,
  Qcow2Image,
  RawImage,
  SECTOR_SIZE,
} from "../src/index.js";
import { compressCluster, errorCode, expectSameBytes, pattern, prng, randInt, readAll } from "./helpers.js";

/** A random workload against a plain byte-array model of the disk. */
function workload(
  image: DiskImage,
  model: Uint8Array,
  seed: number,
  steps: number,
  options: { reopen?: () => DiskImage; maxSectors?: number } = {},
): DiskImage {
  const random = prng(seed);
  const maxSectors = options.maxSectors ?? 300;
  for (let step = 0; step < steps; step++) {
    const count = 1 + randInt(random, maxSectors);
    const sector = randInt(random, image.sectors - count + 1);
    const op = random();
    if (op < 0.55) {
      const data = pattern(count, seed * 1000 + step);
      image.write(sector, data);
      model.set(data, sector * SECTOR_SIZE);
    } else if (op < 0.7 && image.writeZeroes) {
      image.writeZeroes(sector, count);
      model.fill(0, sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE);
    } else if (op < 0.95) {
      const out = new Uint8Array(count * SECTOR_SIZE);
      image.read(sector, count, out);
      expectSameBytes(
        out,
        model.subarray(sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE),
        `step ${step} read`,
      );
    } else if (options.reopen) {
      image.close();
      image = options.reopen();
    }
  }
  expectSameBytes(readAll(image), model, "whole disk");
  return image;
}

function expectClean(store: MemoryStore): void {
  const result = checkQcow2(store);
  expect(result.messages).toEqual([]);
  expect(result.corruptions).toBe(0);
  expect(result.leaks).toBe(0);
}

describe("qcow2 in memory", () => {
  const configs = [
    { clusterBits: 16, refcountOrder: 4, version: 3 as const },
    { clusterBits: 9, refcountOrder: 4, version: 3 as const },
    { clusterBits: 12, refcountOrder: 0, version: 3 as const },
    { clusterBits: 10, refcountOrder: 1, version: 3 as const },
    { clusterBits: 11, refcountOrder: 2, version: 3 as const },
    { clusterBits: 12, refcountOrder: 3, version: 3 as const },
    { clusterBits: 13, refcountOrder: 5, version: 3 as const },
    { clusterBits: 9, refcountOrder: 6, version: 3 as const },
    { clusterBits: 14, refcountOrder: 4, version: 2 as const },
    { clusterBits: 21, refcountOrder: 4, version: 3 as const },
  ];
  for (const config of configs) {
    it(`reads back what it wrote, across reopen (${JSON.stringify(config)})`, () => {
      const store = new MemoryStore();
      const size = 8 << 20;
      const model = new Uint8Array(size);
      const image = createQcow2(store, { size, ...config });
      expect(image.sectors).toBe(size / SECTOR_SIZE);
      expect(image.info.version).toBe(config.version);
      expect(image.info.clusterSize).toBe(2 ** config.clusterBits);
      expect(image.info.refcountBits).toBe(1 << config.refcountOrder);
      const last = workload(image, model, config.clusterBits * 10 + config.refcountOrder, 120, {
        reopen: () => Qcow2Image.open(store),
      });
      last.close();
      expectClean(store);
      expectSameBytes(readAll(Qcow2Image.open(store, { readOnly: true })), model, "reopened");
    });
  }

  it("grows the refcount table when the file outgrows it (512-byte clusters)", () => {
    const store = new MemoryStore();
    // One 512-byte refcount table cluster covers 64 blocks of 256 clusters: 8 MiB of file.
    const size = 24 << 20;
    const image = createQcow2(store, { size, clusterBits: 9 });
    const model = new Uint8Array(size);
    for (let s = 0; s < size / SECTOR_SIZE; s += 64) {
      const data = pattern(64, s);
      image.write(s, data);
      model.set(data, s * SECTOR_SIZE);
    }
    expect(store.size).toBeGreaterThan(24 << 20);
    image.close();
    const header = new DataView(store.read(0, 72).buffer);
    expect(header.getUint32(56)).toBeGreaterThan(1); // refcount_table_clusters
    expectClean(store);
    expectSameBytes(readAll(Qcow2Image.open(store)), model);
  });

  it("zero clusters: whole clusters become zero entries, keep their allocation, and partial ones are written", () => {
    const store = new MemoryStore();
    const image = createQcow2(store, { size: 1 << 20, clusterBits: 12 });
    image.write(0, pattern(64, 1));
    const before = store.size;
    image.writeZeroes(3, 40); // partial head (3..8), clusters 1..4, partial tail (40..43)
    expect(store.size).toBe(before); // no new clusters
    const out = new Uint8Array(64 * SECTOR_SIZE);
    image.read(0, 64, out);
    const model = pattern(64, 1);
    model.fill(0, 3 * SECTOR_SIZE, 43 * SECTOR_SIZE);
    expectSameBytes(out, model);
    // Writing into a preallocated zero cluster reuses it.
    image.write(9, pattern(1, 2));
    expect(store.size).toBe(before);
    model.set(pattern(1, 2), 9 * SECTOR_SIZE);
    image.read(0, 64, out);
    expectSameBytes(out, model);
    image.close();
    expectClean(store);
  });

  it("version 2 images have no zero clusters: writeZeroes writes zeros", () => {
    const store = new MemoryStore();
    const image = createQcow2(store, { size: 1 << 20, version: 2, clusterBits: 12 });
    image.writeZeroes(0, 16);
    image.write(16, pattern(8, 3));
    image.writeZeroes(16, 8);
    const out = new Uint8Array(24 * SECTOR_SIZE);
    image.read(0, 24, out);
    expect(out.every((b) => b === 0)).toBe(true);
    image.close();
    expectClean(store);
  });

  it("a size that is not a whole sector rounds up", () => {
    const image = createQcow2(new MemoryStore(), { size: 1000 });
    expect(image.sectors).toBe(2);
    expect(image.info.size).toBe(1024);
  });

  it("an empty disk has no L1 table and still checks clean", () => {
    const store = new MemoryStore();
    const image = createQcow2(store, { size: 0 });
    expect(image.sectors).toBe(0);
    image.close();
    expectClean(store);
    expect(Qcow2Image.open(store).sectors).toBe(0);
  });

  it("refuses requests outside the disk, partial sectors and writes when read-only", () => {
    const store = new MemoryStore();
    const image = createQcow2(store, { size: 1 << 20 });
    const buf = new Uint8Array(SECTOR_SIZE * 2);
    expect(errorCode(() => image.read(2047, 2, buf))).toBe("DISK_RANGE");
    expect(errorCode(() => image.read(0, 3, buf))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => image.write(0, new Uint8Array(100)))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => image.write(-1, buf))).toBe("DISK_RANGE");
    expect(errorCode(() => image.writeZeroes(2048, 1))).toBe("DISK_RANGE");
    image.close();
    expect(errorCode(() => image.read(0, 1, buf))).toBe("DISK_CLOSED");
    const ro = Qcow2Image.open(store, { readOnly: true });
    expect(errorCode(() => ro.write(0, buf))).toBe("DISK_READ_ONLY");
    expect(
      errorCode(() => Qcow2Image.open(MemoryStore.from(store.toBytes(), { readOnly: true })).write(0, buf)),
    ).toBe("DISK_READ_ONLY");
  });

  it("refuses bad create options", () => {
    const store = new MemoryStore();
    expect(errorCode(() => createQcow2(store, {}))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => createQcow2(store, { size: 1, clusterBits: 8 }))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => createQcow2(store, { size: 1, clusterBits: 22 }))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => createQcow2(store, { size: 1, refcountOrder: 7 }))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => createQcow2(store, { size: 1, version: 2, refcountOrder: 5 }))).toBe(
      "DISK_BAD_ARGUMENT",
    );
    expect(errorCode(() => createQcow2(store, { size: -1 }))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => createQcow2(store, { size: 2 ** 50, clusterBits: 9 }))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => createQcow2(store, { size: 1, backingFile: "x".repeat(1024) }))).toBe(
      "DISK_BAD_ARGUMENT",
    );
    expect(errorCode(() => createQcow2(new MemoryStore(0, { readOnly: true }), { size: 1 }))).toBe(
      "DISK_READ_ONLY",
    );
  });

  it("reports its header: features, extensions and the feature name table", () => {
    const store = new MemoryStore();
    createQcow2(store, { size: 1 << 20 }).close();
    const info = Qcow2Image.open(store).info;
    expect(info.dirty).toBe(false);
    expect(info.corrupt).toBe(false);
    expect(info.lazyRefcounts).toBe(false);
    expect(info.featureNames).toContainEqual({ type: "incompatible", bit: 0, name: "dirty bit" });
    expect(info.featureNames).toContainEqual({ type: "compatible", bit: 0, name: "lazy refcounts" });
    expect(info.snapshots).toEqual([]);
    expect(info.backingFile).toBeNull();
  });
});

describe("copy-on-write overlays", () => {
  function rawBase(sectors: number, seed: number): { image: RawImage; bytes: Uint8Array } {
    const bytes = pattern(sectors, seed);
    return { image: new RawImage(MemoryStore.from(bytes, { readOnly: true })), bytes };
  }

  it("reads through to the base, copies the rest of a cluster on a partial write, and never writes the base", () => {
    const base = rawBase(2048, 5);
    const store = new MemoryStore();
    const overlay = createOverlay(store, base.image, { clusterBits: 12 });
    expect(overlay.sectors).toBe(2048);
    expect(overlay.backing).toBe(base.image);
    const model = base.bytes.slice();
    workload(overlay, model, 7, 150);
    expectSameBytes(readAll(base.image), base.bytes, "base untouched");
    overlay.close();
    expectClean(store);
    // Closing the overlay does not close a base it was given.
    expect(base.image.sectors).toBe(2048);
    expectSameBytes(readAll(base.image), base.bytes);
  });

  it("zeroing a cluster over a base hides the base", () => {
    const base = rawBase(64, 9);
    const overlay = createOverlay(new MemoryStore(), base.image, { clusterBits: 12 });
    overlay.writeZeroes(8, 8);
    const out = new Uint8Array(8 * SECTOR_SIZE);
    overlay.read(8, 8, out);
    expect(out.every((b) => b === 0)).toBe(true);
    overlay.read(0, 8, out);
    expectSameBytes(out, base.bytes.subarray(0, 8 * SECTOR_SIZE));
  });

  it("a base smaller than the overlay reads as zeros past its end", () => {
    const base = rawBase(10, 3);
    const store = new MemoryStore();
    const overlay = createQcow2(store, { size: 64 * SECTOR_SIZE, backing: base.image, clusterBits: 12 });
    const out = new Uint8Array(64 * SECTOR_SIZE);
    overlay.read(0, 64, out);
    expectSameBytes(out.subarray(0, 10 * SECTOR_SIZE), base.bytes);
    expect(out.subarray(10 * SECTOR_SIZE).every((b) => b === 0)).toBe(true);
    overlay.write(9, pattern(2, 4)); // a cluster straddling the base's end
    overlay.read(0, 64, out);
    expectSameBytes(out.subarray(0, 9 * SECTOR_SIZE), base.bytes.subarray(0, 9 * SECTOR_SIZE));
    expectSameBytes(out.subarray(9 * SECTOR_SIZE, 11 * SECTOR_SIZE), pattern(2, 4));
    expect(out.subarray(11 * SECTOR_SIZE).every((b) => b === 0)).toBe(true);
  });

  it("chains: an overlay over a qcow2 overlay over raw, opened through openDiskImage with a resolver", () => {
    const files = new Map<string, MemoryStore>();
    const base = pattern(512, 1);
    files.set("base.raw", MemoryStore.from(base));
    files.set("mid.qcow2", new MemoryStore());
    const mid = createQcow2(files.get("mid.qcow2")!, {
      backingFile: "base.raw",
      backingFormat: "raw",
      backing: new RawImage(files.get("base.raw")!, { readOnly: true }),
      clusterBits: 12,
    });
    mid.write(0, pattern(8, 2));
    mid.close();
    const resolveBacking = (name: string) => {
      const store = files.get(name);
      if (!store) throw new Error(`no ${name}`);
      return { store, key: name };
    };
    const midImage = openDiskImage(files.get("mid.qcow2")!, {
      key: "mid.qcow2",
      resolveBacking,
      readOnly: true,
    });
    files.set("top.qcow2", new MemoryStore());
    const top = createQcow2(files.get("top.qcow2")!, {
      backingFile: "mid.qcow2",
      backing: midImage,
      clusterBits: 16,
    });
    top.write(4, pattern(8, 3));
    top.close();
    midImage.close();
    const opened = openDiskImage(files.get("top.qcow2")!, { key: "top.qcow2", resolveBacking });
    const model = base.slice();
    model.set(pattern(8, 2), 0);
    model.set(pattern(8, 3), 4 * SECTOR_SIZE);
    expectSameBytes(readAll(opened), model);
    expect((opened as Qcow2Image).backing?.format).toBe("qcow2");
    expect(((opened as Qcow2Image).backing as Qcow2Image).backing?.format).toBe("raw");
    expect((opened as Qcow2Image).info.backingFormat).toBe("qcow2"); // recorded from the base
    opened.close();
  });

  it("requires a backing image when the header names one", () => {
    const store = new MemoryStore();
    createQcow2(store, {
      size: 4096,
      backingFile: "base.raw",
      backing: new RawImage(new MemoryStore(4096)),
    }).close();
    expect(errorCode(() => Qcow2Image.open(store))).toBe("DISK_BACKING_MISSING");
    expect(errorCode(() => openDiskImage(store))).toBe("DISK_BACKING_MISSING");
  });

  it("refuses loops and overlong chains with DISK_BACKING_LOOP", () => {
    const files = new Map<string, MemoryStore>();
    const make = (name: string, backingFile: string) => {
      const store = new MemoryStore();
      createQcow2(store, {
        size: 4096,
        backingFile,
        backingFormat: "qcow2",
        backing: new RawImage(new MemoryStore(4096)),
      }).close();
      files.set(name, store);
    };
    make("a", "b");
    make("b", "c");
    make("c", "a");
    const resolveBacking = (name: string) => ({ store: files.get(name)!, key: name });
    const error = (() => {
      try {
        openDiskImage(files.get("a")!, { key: "a", resolveBacking });
      } catch (e) {
        return e as Error & { code: string };
      }
      return null;
    })();
    expect(error?.code).toBe("DISK_BACKING_LOOP");
    expect(error?.message).toContain("a -> b -> c -> a");
    make("self", "self");
    expect(errorCode(() => openDiskImage(files.get("self")!, { key: "self", resolveBacking }))).toBe(
      "DISK_BACKING_LOOP",
    );
    for (let i = 0; i < 20; i++) make(`n${i}`, `n${i + 1}`);
    files.set("n20", new MemoryStore());
    createQcow2(files.get("n20")!, { size: 4096 }).close();
    expect(errorCode(() => openDiskImage(files.get("n0")!, { key: "n0", resolveBacking }))).toBe(
      "DISK_BACKING_LOOP",
    );
    expect(
      readAll(openDiskImage(files.get("n0")!, { key: "n0", resolveBacking, maxChainLength: 21 })).length,
    ).toBe(4096);
  });

  it("refuses a backing format other than raw and qcow2", () => {
    const store = new MemoryStore();
    createQcow2(store, {
      size: 4096,
      backingFile: "disk.vmdk",
      backingFormat: "vmdk",
      backing: new RawImage(new MemoryStore(4096)),
    }).close();
    expect(
      errorCode(() =>
        openDiskImage(store, { resolveBacking: () => ({ store: new MemoryStore(4096), key: "v" }) }),
      ),
    ).toBe("DISK_UNSUPPORTED_FEATURE");
  });
});

describe("compressed clusters", () => {
  it("read as their inflated data, and a write moves the cluster out (freeing the compressed bytes)", () => {
    const store = new MemoryStore();
    const image = createQcow2(store, { size: 1 << 20, clusterBits: 12 });
    const model = new Uint8Array(1 << 20);
    for (let s = 0; s < 64; s += 8) {
      const data = pattern(8, s).map((b, i) => (i < 2000 ? b : 0)); // compressible
      image.write(s, data);
      model.set(data, s * SECTOR_SIZE);
    }
    image.close();
    for (const guest of [1, 2, 5]) compressCluster(store, guest);
    expectClean(store);
    const opened = Qcow2Image.open(store);
    expectSameBytes(readAll(opened), model, "compressed read");
    workload(opened, model, 3, 60, { maxSectors: 20 });
    opened.close();
    expectClean(store);
  });

  it("a compressed stream that does not inflate to a cluster is DISK_CORRUPT", () => {
    const store = new MemoryStore();
    const image = createQcow2(store, { size: 1 << 20, clusterBits: 12 });
    image.write(8, pattern(8, 1));
    image.close();
    compressCluster(store, 1);
    // Damage the deflate stream: the last bytes of the file.
    const end = store.size;
    store.write(end - 16, new Uint8Array(16).fill(0xff));
    const opened = Qcow2Image.open(store, { readOnly: true });
    const out = new Uint8Array(8 * SECTOR_SIZE);
    expect(errorCode(() => opened.read(8, 8, out))).toBe("DISK_CORRUPT");
    opened.read(0, 8, out); // other clusters still read
  });
});
