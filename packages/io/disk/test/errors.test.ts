/**
 * Corrupt, truncated and unsupported images are refused with a DiskError
 * whose code is stable and whose message says what to do — never read
 * silently. Each case starts from a valid image and damages one field.
 */
import { describe, expect, it } from "vitest";
import {
  checkQcow2,
  createQcow2,
  DiskError,
  MemoryStore,
  openDiskImage,
  Qcow2Image,
  RawImage,
  SECTOR_SIZE,
} from "../src/index.js";
import { compressCluster, diskError, errorCode, pattern, readAll } from "./helpers.js";

const CS = 4096;

/**
 * A 1 MiB image with 4 KiB clusters laid out as createQcow2 lays it out:
 * header at 0, refcount table at 4096, refcount block at 8192, L1 at 12288;
 * guest clusters 0..3 written, then an L2 table and data after them.
 */
function image(): MemoryStore {
  const store = new MemoryStore();
  const img = createQcow2(store, { size: 1 << 20, clusterBits: 12 });
  img.write(0, pattern(32, 1));
  img.write(1000, pattern(8, 2));
  img.close();
  return store;
}

const u32 = (store: MemoryStore, offset: number, value: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0);
  store.write(offset, b);
};
const u64 = (store: MemoryStore, offset: number, value: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value);
  store.write(offset, b);
};
const get64 = (store: MemoryStore, offset: number) =>
  new DataView(store.read(offset, 8).buffer).getBigUint64(0);

const L1 = 3 * CS;
/** Offset of the L2 entry of guest cluster g (in the first L2 table). */
const l2Entry = (store: MemoryStore, g: number) => Number(get64(store, L1) & ((1n << 56n) - 512n)) + g * 8;

function openRead(store: MemoryStore): () => void {
  return () => readAll(Qcow2Image.open(store, { readOnly: true }));
}

describe("header errors", () => {
  const cases: Array<[string, (s: MemoryStore) => void, string, RegExp?]> = [
    ["bad magic", (s) => u32(s, 0, 0x12345678), "DISK_BAD_MAGIC", /not a qcow2 image/],
    ["version 1", (s) => u32(s, 4, 1), "DISK_UNSUPPORTED_VERSION", /qemu-img convert/],
    ["version 4", (s) => u32(s, 4, 4), "DISK_UNSUPPORTED_VERSION"],
    ["cluster_bits 8", (s) => u32(s, 20, 8), "DISK_BAD_HEADER", /cluster_bits/],
    ["cluster_bits 22", (s) => u32(s, 20, 22), "DISK_BAD_HEADER"],
    ["cluster_bits 2^32-1", (s) => u32(s, 20, 0xffffffff), "DISK_BAD_HEADER"],
    ["header_length not a multiple of 8", (s) => u32(s, 100, 108), "DISK_BAD_HEADER", /header_length/],
    ["header_length below 104", (s) => u32(s, 100, 96), "DISK_BAD_HEADER"],
    ["header_length past the cluster", (s) => u32(s, 100, CS + 8), "DISK_BAD_HEADER"],
    ["refcount_order 7", (s) => u32(s, 96, 7), "DISK_BAD_HEADER", /refcount_order/],
    ["encryption", (s) => u32(s, 32, 2), "DISK_UNSUPPORTED_FEATURE", /encrypted/],
    ["an unknown incompatible feature", (s) => u64(s, 72, 1n << 40n), "DISK_UNSUPPORTED_FEATURE", /bit 40/],
    ["external data file", (s) => u64(s, 72, 1n << 2n), "DISK_UNSUPPORTED_FEATURE", /external data/],
    ["extended L2 entries", (s) => u64(s, 72, 1n << 4n), "DISK_UNSUPPORTED_FEATURE", /extended L2/],
    ["compression type bit without a type", (s) => u64(s, 72, 1n << 3n), "DISK_BAD_HEADER"],
    ["virtual size beyond 2^53", (s) => u64(s, 24, 1n << 60n), "DISK_BAD_HEADER", /too large/],
    [
      "L1 table too small for the size",
      (s) => u64(s, 24, 1n << 40n),
      "DISK_CORRUPT",
      /L1 table has 1 entries/,
    ],
    ["L1 table over 32 MiB", (s) => u32(s, 36, 0x2000000), "DISK_BAD_HEADER", /32 MiB/],
    ["L1 table misaligned", (s) => u64(s, 40, BigInt(L1 + 8)), "DISK_CORRUPT", /not cluster-aligned/],
    ["L1 table beyond the end", (s) => u64(s, 40, 1n << 30n), "DISK_TRUNCATED", /truncated/],
    ["L1 table at offset 0", (s) => u64(s, 40, 0n), "DISK_CORRUPT", /header cluster/],
    ["L1 table over the refcount table", (s) => u64(s, 40, BigInt(CS)), "DISK_CORRUPT", /overlaps/],
    ["refcount table with no clusters", (s) => u32(s, 56, 0), "DISK_CORRUPT", /no clusters/],
    ["refcount table over 8 MiB", (s) => u32(s, 56, 4096), "DISK_BAD_HEADER", /8 MiB/],
    ["refcount table misaligned", (s) => u64(s, 48, BigInt(CS + 512)), "DISK_CORRUPT"],
    ["refcount table beyond the end", (s) => u64(s, 48, 1n << 40n), "DISK_TRUNCATED"],
    ["refcount table over the header", (s) => u64(s, 48, 0n), "DISK_CORRUPT"],
    ["too many snapshots", (s) => u32(s, 60, 70000), "DISK_BAD_HEADER"],
    [
      "snapshot table misaligned",
      (s) => {
        u32(s, 60, 1);
        u64(s, 64, 100n);
      },
      "DISK_CORRUPT",
      /snapshot table/,
    ],
    [
      "snapshot table beyond the end",
      (s) => {
        u32(s, 60, 1);
        u64(s, 64, 1n << 32n);
      },
      "DISK_CORRUPT",
    ],
    [
      "backing name offset outside the header cluster",
      (s) => {
        u64(s, 8, BigInt(CS + 8));
        u32(s, 16, 4);
      },
      "DISK_CORRUPT",
    ],
    [
      "backing name too long",
      (s) => {
        u64(s, 8, 3000n);
        u32(s, 16, 2000);
      },
      "DISK_CORRUPT",
      /1023/,
    ],
    [
      "a header extension running past the header",
      (s) => {
        u32(s, 112, 0x1234);
        u32(s, 116, CS);
      },
      "DISK_CORRUPT",
    ],
  ];
  for (const [what, damage, code, message] of cases) {
    it(`${what}: ${code}`, () => {
      const store = image();
      damage(store);
      const error = diskError(openRead(store));
      expect(error).toBeInstanceOf(DiskError);
      expect(error.code).toBe(code);
      if (message) expect(error.message).toMatch(message);
    });
  }

  it("names an unknown feature from the image's own feature name table", () => {
    const store = image();
    u64(store, 72, 1n << 7n);
    // Rewrite the first feature-table entry as incompatible bit 7, "frobnication".
    const table = 112 + 8;
    store.write(table, Uint8Array.of(0, 7));
    store.write(table + 2, new TextEncoder().encode("frobnication\0\0\0"));
    expect(diskError(openRead(store)).message).toMatch(/bit 7 \(frobnication\)/);
  });

  it("truncated files: every cut inside the metadata is refused, not read as zeros", () => {
    const full = image();
    for (const cut of [0, 3, 71, 100, 4095, 4096 + 100, 8192 + 4000, 12288 + 4, 16383]) {
      const store = MemoryStore.from(full.read(0, cut));
      const code = errorCode(openRead(store));
      expect(["DISK_BAD_MAGIC", "DISK_TRUNCATED", "DISK_CORRUPT"], `cut at ${cut}: ${code}`).toContain(code);
    }
  });

  it("a store that is not qcow2 opens as raw when probing, and is refused as qcow2", () => {
    const store = MemoryStore.from(pattern(4, 1));
    expect(openDiskImage(store).format).toBe("raw");
    expect(errorCode(() => openDiskImage(store, { format: "qcow2" }))).toBe("DISK_BAD_MAGIC");
  });
});

describe("table errors", () => {
  const cases: Array<[string, (s: MemoryStore) => void, string]> = [
    ["an L1 entry with reserved bits", (s) => u64(s, L1, get64(s, L1) | 0x100n), "DISK_CORRUPT"],
    ["an L1 entry with a misaligned L2 offset", (s) => u64(s, L1, get64(s, L1) + 512n), "DISK_CORRUPT"],
    ["an L1 entry beyond the end", (s) => u64(s, L1, (1n << 63n) | (1n << 40n)), "DISK_CORRUPT"],
    [
      "an L1 entry pointing at the refcount block",
      (s) => u64(s, L1, (1n << 63n) | BigInt(2 * CS)),
      "DISK_CORRUPT",
    ],
    ["an L1 entry pointing at the L1 table", (s) => u64(s, L1, (1n << 63n) | BigInt(L1)), "DISK_CORRUPT"],
    [
      "two L1 entries sharing an L2 table",
      (s) => {
        u32(s, 36, 2);
        u64(s, L1 + 8, get64(s, L1));
      },
      "DISK_CORRUPT",
    ],
    ["a refcount table entry beyond the end", (s) => u64(s, CS + 8, 1n << 40n), "DISK_CORRUPT"],
    ["a refcount table entry with reserved bits", (s) => u64(s, CS, get64(s, CS) | 1n), "DISK_CORRUPT"],
    [
      "a refcount block over the L2 table",
      (s) => u64(s, CS + 8, get64(s, L1) & ((1n << 56n) - 1n)),
      "DISK_CORRUPT",
    ],
  ];
  for (const [what, damage, code] of cases) {
    it(`${what}: ${code} at open`, () => {
      const store = image();
      damage(store);
      expect(errorCode(() => Qcow2Image.open(store, { readOnly: true }))).toBe(code);
    });
  }

  const readCases: Array<[string, (s: MemoryStore) => void]> = [
    ["a data cluster beyond the end", (s) => u64(s, l2Entry(s, 1), (1n << 63n) | (1n << 40n))],
    ["a misaligned data cluster", (s) => u64(s, l2Entry(s, 1), get64(s, l2Entry(s, 1)) + 512n)],
    ["a data cluster on the header", (s) => u64(s, l2Entry(s, 1), 1n << 63n)],
    ["a data cluster on the L1 table", (s) => u64(s, l2Entry(s, 1), (1n << 63n) | BigInt(L1))],
    ["an L2 entry with reserved bits", (s) => u64(s, l2Entry(s, 1), get64(s, l2Entry(s, 1)) | (1n << 57n))],
    ["a compressed cluster beyond the end", (s) => u64(s, l2Entry(s, 1), (1n << 62n) | (1n << 40n))],
    [
      "a compressed cluster on the refcount table",
      (s) => u64(s, l2Entry(s, 1), (1n << 62n) | BigInt(CS + 10)),
    ],
    [
      "a compressed cluster with the copied flag",
      (s) => u64(s, l2Entry(s, 1), (3n << 62n) | BigInt(20 * CS)),
    ],
    [
      "a compressed cluster that is not deflate data",
      (s) => u64(s, l2Entry(s, 1), (1n << 62n) | (2n << 58n) | (300n + BigInt(4 * CS))),
    ],
  ];
  for (const [what, damage] of readCases) {
    it(`${what}: DISK_CORRUPT on read, other clusters still read`, () => {
      const store = image();
      damage(store);
      const img = Qcow2Image.open(store, { readOnly: true });
      const out = new Uint8Array(8 * SECTOR_SIZE);
      expect(errorCode(() => img.read(8, 8, out))).toBe("DISK_CORRUPT");
      img.read(0, 8, out);
      expect(out).toEqual(pattern(8, 1));
    });
  }

  it("a zero flag in a version 2 image is DISK_CORRUPT", () => {
    const store = new MemoryStore();
    const img = createQcow2(store, { size: 1 << 20, clusterBits: 12, version: 2 });
    img.write(0, pattern(8, 1));
    img.close();
    u64(store, l2Entry(store, 0), get64(store, l2Entry(store, 0)) | 1n);
    expect(errorCode(openRead(store))).toBe("DISK_CORRUPT");
  });
});

describe("dirty and corrupt images", () => {
  it("a dirty image opens read-only and is refused for writing with DISK_DIRTY", () => {
    const store = image();
    u64(store, 72, 1n);
    const ro = Qcow2Image.open(store, { readOnly: true });
    expect(ro.info.dirty).toBe(true);
    const out = new Uint8Array(32 * SECTOR_SIZE);
    ro.read(0, 32, out);
    expect(out).toEqual(pattern(32, 1));
    const error = diskError(() => Qcow2Image.open(store));
    expect(error.code).toBe("DISK_DIRTY");
    expect(error.message).toMatch(/qemu-img check -r all/);
  });

  it("a corrupt-marked image opens read-only and is refused for writing with DISK_MARKED_CORRUPT", () => {
    const store = image();
    u64(store, 72, 2n);
    expect(Qcow2Image.open(store, { readOnly: true }).info.corrupt).toBe(true);
    expect(errorCode(() => Qcow2Image.open(store))).toBe("DISK_MARKED_CORRUPT");
  });

  it("corruption found while the image is open for writing marks it corrupt, as QEMU does", () => {
    const store = image();
    u64(store, l2Entry(store, 1), (1n << 63n) | BigInt(L1)); // guest cluster 1 -> the L1 table
    const img = Qcow2Image.open(store);
    expect(errorCode(() => img.write(8, pattern(8, 3)))).toBe("DISK_CORRUPT");
    expect(errorCode(() => img.write(0, pattern(8, 3)))).toBe("DISK_MARKED_CORRUPT");
    img.close();
    expect(Qcow2Image.open(store, { readOnly: true }).info.corrupt).toBe(true);
    expect(errorCode(() => Qcow2Image.open(store))).toBe("DISK_MARKED_CORRUPT");
    // The L1 table was not overwritten.
    expect(get64(store, L1) & (1n << 63n)).toBe(1n << 63n);
  });

  it("a version 2 image has no corrupt bit: the error is thrown, the header left alone", () => {
    const store = new MemoryStore();
    const img = createQcow2(store, { size: 1 << 20, clusterBits: 12, version: 2 });
    img.write(0, pattern(8, 1));
    img.close();
    u64(store, l2Entry(store, 0), (1n << 63n) | BigInt(L1));
    const opened = Qcow2Image.open(store);
    expect(errorCode(() => opened.write(0, pattern(8, 2)))).toBe("DISK_CORRUPT");
    expect(store.read(72, 8).every((b) => b === 0)).toBe(true);
  });
});

describe("checkQcow2", () => {
  it("is clean on a fresh image and counts compressed clusters' shared host clusters", () => {
    const store = image();
    compressCluster(store, 0);
    compressCluster(store, 1);
    expect(checkQcow2(store)).toMatchObject({ corruptions: 0, leaks: 0 });
  });

  it("reports a refcount below its references as an error and one above as a leak", () => {
    const store = image();
    const l2 = Number(get64(store, L1) & ((1n << 56n) - 512n)) / CS;
    const setRef = (cluster: number, value: number) => {
      const b = new Uint8Array(2);
      new DataView(b.buffer).setUint16(0, value);
      store.write(2 * CS + cluster * 2, b);
    };
    setRef(l2, 0);
    let result = checkQcow2(store);
    expect(result.corruptions).toBe(2); // refcount too low, and the L1 copied flag disagrees
    expect(result.messages.join("\n")).toMatch(/refcount=0 reference=1/);
    setRef(l2, 1);
    const spare = store.size / CS;
    store.resize(store.size + CS);
    setRef(spare, 1);
    result = checkQcow2(store);
    expect(result).toMatchObject({ corruptions: 0, leaks: 1 });
    expect(result.messages).toEqual([`Leaked cluster ${spare} refcount=1 reference=0`]);
  });

  it("reports a copied flag that disagrees with the refcount", () => {
    const store = image();
    u64(store, l2Entry(store, 0), get64(store, l2Entry(store, 0)) & ~(1n << 63n));
    const result = checkQcow2(store);
    expect(result.corruptions).toBe(1);
    expect(result.messages[0]).toMatch(/OFLAG_COPIED data cluster/);
  });

  it("reports references past the end of the file", () => {
    const store = image();
    u64(store, l2Entry(store, 5), (1n << 63n) | (1n << 30n));
    expect(checkQcow2(store).messages.join("\n")).toMatch(/exceeding the end of the file/);
  });
});

describe("raw images", () => {
  it("read, write, zero; a partial last sector reads zeros past the end and clips writes", () => {
    const store = MemoryStore.from(pattern(2, 1).subarray(0, 700));
    const raw = new RawImage(store);
    expect(raw.sectors).toBe(2);
    const out = new Uint8Array(1024);
    raw.read(0, 2, out);
    expect(out.subarray(0, 700)).toEqual(pattern(2, 1).subarray(0, 700));
    expect(out.subarray(700).every((b) => b === 0)).toBe(true);
    raw.write(1, new Uint8Array(512).fill(7));
    expect(store.size).toBe(700);
    raw.writeZeroes(0, 1);
    raw.read(0, 2, out);
    expect(out.subarray(0, 512).every((b) => b === 0)).toBe(true);
    expect(out.subarray(512, 700).every((b) => b === 7)).toBe(true);
    expect(errorCode(() => raw.read(1, 2, out))).toBe("DISK_RANGE");
    raw.close();
    expect(errorCode(() => raw.read(0, 1, out))).toBe("DISK_CLOSED");
    expect(
      errorCode(() => new RawImage(MemoryStore.from(out, { readOnly: true }), { readOnly: false })),
    ).toBe("DISK_READ_ONLY");
    expect(
      errorCode(() => new RawImage(new MemoryStore(512), { readOnly: true }).write(0, out.subarray(0, 512))),
    ).toBe("DISK_READ_ONLY");
  });
});
