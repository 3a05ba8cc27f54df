/**
 * Interoperability with qemu-img and qemu-io (Debian: qemu-utils). Images
 * QEMU made open and read as `qemu-img convert -O raw` reads them; images
 * hvkit wrote pass `qemu-img check` with no errors and no leaks and convert
 * back to the bytes hvkit wrote. Skipped without qemu-img, except in CI.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkQcow2, type DiskImage, Qcow2Image, RawImage, SECTOR_SIZE } from "../src/index.js";
import { createOverlayFile, createQcow2File, openDiskImageFile } from "../src/node/index.js";
import {
  errorCode,
  expectSameBytes,
  hasQemu,
  loadStore,
  pattern,
  prng,
  qemu,
  qemuCheck,
  qemuRaw,
  randInt,
  readAll,
  skipWithoutQemu,
  tempDir,
} from "./helpers.js";

const tmp = tempDir("hvkit-qemu-");
afterAll(() => tmp.cleanup());
let n = 0;
const file = (ext: string) => join(tmp.dir, `img-${n++}.${ext}`);

/** A raw disk with data, zero runs and a tail, as a file. */
function rawFile(sectors: number, seed: number): { path: string; bytes: Uint8Array } {
  const bytes = pattern(sectors, seed);
  const random = prng(seed);
  for (let i = 0; i < 12; i++) {
    const start = randInt(random, sectors);
    const count = randInt(random, 300);
    bytes.fill(0, start * SECTOR_SIZE, Math.min(sectors, start + count) * SECTOR_SIZE);
  }
  // Compressible runs (a repeated byte), so convert -c really compresses some clusters.
  bytes.fill(0x5a, 10 * SECTOR_SIZE, 200 * SECTOR_SIZE);
  const path = file("raw");
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** hvkit writes a random workload; returns the model of the disk. */
function hvkitWorkload(image: DiskImage, initial: Uint8Array, seed: number, steps: number): Uint8Array {
  const model = initial.slice();
  const random = prng(seed);
  for (let step = 0; step < steps; step++) {
    const count = 1 + randInt(random, 200);
    const sector = randInt(random, image.sectors - count + 1);
    if (random() < 0.8 || !image.writeZeroes) {
      const data = pattern(count, seed + step);
      image.write(sector, data);
      model.set(data, sector * SECTOR_SIZE);
    } else {
      image.writeZeroes(sector, count);
      model.fill(0, sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE);
    }
  }
  return model;
}

/** qemu-img check finds nothing, and QEMU reads what hvkit wrote. */
function expectQemuAgrees(path: string, model: Uint8Array, leaks = 0): void {
  const check = qemuCheck(path);
  expect(check.corruptions, check.raw).toBe(0);
  expect(check.leaks, check.raw).toBe(leaks);
  expectSameBytes(qemuRaw(path, tmp.dir), model, `qemu-img convert of ${path}`);
}

it.runIf(process.env.CI)("qemu-img and qemu-io are installed (CI runs the interop tests)", () => {
  expect(hasQemu, "install Debian's qemu-utils: apt-get install -y qemu-utils").toBe(true);
});

describe.skipIf(skipWithoutQemu)("images made by QEMU open and read correctly", () => {
  it("an empty qemu-img create image: header, features and zeros", () => {
    const path = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", path, "64M"]);
    const image = openDiskImageFile(path, { readOnly: true }) as Qcow2Image;
    expect(image.format).toBe("qcow2");
    expect(image.sectors).toBe((64 << 20) / SECTOR_SIZE);
    expect(image.info).toMatchObject({ version: 3, clusterSize: 65536, refcountBits: 16, dirty: false });
    expect(image.info.featureNames.length).toBeGreaterThan(0);
    expect(readAll(image).every((b) => b === 0)).toBe(true);
    image.close();
  });

  it("data written by qemu-io: patterns, zero writes (with and without allocation), discards", () => {
    const path = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "8M"]);
    qemu("qemu-io", [
      "-f",
      "qcow2",
      "-c",
      "write -P 0xab 0 1M",
      "-c",
      "write -P 0x12 3M 65536",
      "-c",
      "write -z 512k 128k",
      "-c",
      "write -P 0x34 5000 3000",
      "-c",
      "write -z -u 3M 8192",
      "-c",
      "discard 768k 64k",
      "-c",
      "write -P 0x77 8384000 4608",
      path,
    ]);
    const image = openDiskImageFile(path, { readOnly: true });
    expectSameBytes(readAll(image), qemuRaw(path, tmp.dir));
    image.close();
  });

  const conversions: Array<{ name: string; args: string[] }> = [
    { name: "default options", args: [] },
    { name: "compressed (-c)", args: ["-c"] },
    { name: "compressed, 4 KiB clusters", args: ["-c", "-o", "cluster_size=4096"] },
    { name: "compressed, 512-byte clusters", args: ["-c", "-o", "cluster_size=512"] },
    { name: "compressed, 2 MiB clusters", args: ["-c", "-o", "cluster_size=2M"] },
    { name: "version 2 (compat=0.10), compressed", args: ["-c", "-o", "compat=0.10"] },
    { name: "1-bit refcounts", args: ["-o", "refcount_bits=1,cluster_size=4096"] },
    { name: "64-bit refcounts", args: ["-o", "refcount_bits=64"] },
    { name: "lazy refcounts on", args: ["-o", "lazy_refcounts=on"] },
    { name: "preallocation=metadata", args: ["-o", "preallocation=metadata,cluster_size=8192"] },
  ];
  for (const { name, args } of conversions) {
    it(`a raw file converted with qemu-img convert -O qcow2: ${name}`, () => {
      const raw = rawFile(4096 + 37, args.length + name.length);
      const path = file("qcow2");
      qemu("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", ...args, raw.path, path]);
      if (args.includes("-c")) expect(qemuCheck(path).compressed).toBeGreaterThan(0);
      const image = openDiskImageFile(path, { readOnly: true });
      expect(image.format).toBe("qcow2");
      expectSameBytes(readAll(image), raw.bytes, "hvkit read of the converted image");
      image.close();
      // And hvkit's checker agrees with qemu-img check that the image is clean.
      const mine = checkQcow2(loadStore(path));
      expect(mine.corruptions, mine.messages.join("\n")).toBe(0);
      expect(mine.leaks, mine.messages.join("\n")).toBe(0);
    });
  }

  it("overlays made by qemu-img: qcow2 over raw, qcow2 over qcow2, relative backing names", () => {
    const raw = rawFile(2048, 3);
    const mid = file("qcow2");
    const top = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", "-b", raw.path.split("/").pop()!, "-F", "raw", mid]);
    qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x61 100k 200k", mid]);
    qemu("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-o",
      "cluster_size=4096",
      "-b",
      mid,
      "-F",
      "qcow2",
      top,
    ]);
    qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x62 250k 8k", "-c", "write -z 0 4k", top]);
    const image = openDiskImageFile(top, { readOnly: true }) as Qcow2Image;
    expect(image.info.backingFile).toBe(mid);
    expect(image.info.backingFormat).toBe("qcow2");
    expect((image.backing as Qcow2Image).info.backingFormat).toBe("raw");
    expectSameBytes(readAll(image), qemuRaw(top, tmp.dir));
    image.close();
  });

  it("internal snapshots are tolerated: listed, preserved, and hvkit's writes copy shared clusters", () => {
    const path = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "4M"]);
    qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x10 0 1M", "-c", "write -P 0x11 2M 512k", path]);
    qemu("qemu-img", ["snapshot", "-c", "first", path]);
    qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x20 512k 64k", path]);
    const snapshotBefore = qemuSnapshotRaw(path, "first");
    const active = qemuRaw(path, tmp.dir);
    const image = openDiskImageFile(path) as Qcow2Image;
    expect(image.info.snapshots.map((s) => s.name)).toEqual(["first"]);
    expectSameBytes(readAll(image), active);
    const model = hvkitWorkload(image, active, 11, 80);
    image.close();
    expectQemuAgrees(path, model);
    expectSameBytes(qemuSnapshotRaw(path, "first"), snapshotBefore, "the snapshot is untouched");
  });

  it("hvkit writes over compressed clusters (a cluster moves out, the compressed bytes are freed)", () => {
    const raw = rawFile(2048, 9);
    const path = file("qcow2");
    qemu("qemu-img", [
      "convert",
      "-c",
      "-f",
      "raw",
      "-O",
      "qcow2",
      "-o",
      "cluster_size=4096",
      raw.path,
      path,
    ]);
    const compressed = qemuCheck(path).compressed;
    expect(compressed).toBeGreaterThan(10);
    const image = openDiskImageFile(path);
    const model = hvkitWorkload(image, raw.bytes, 5, 100);
    image.close();
    expectQemuAgrees(path, model);
    expect(qemuCheck(path).compressed).toBeLessThan(compressed);
  });

  it("a dirty image (lazy refcounts, killed) reads correctly read-only and is refused for writing", () => {
    const path = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on", path, "4M"]);
    try {
      qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0xaa 64k 128k", "-c", "sigraise 9", path]);
    } catch {
      // Killed by its own SIGKILL, as intended.
    }
    const image = openDiskImageFile(path, { readOnly: true }) as Qcow2Image;
    expect(image.info.dirty).toBe(true);
    const expected = new Uint8Array(4 << 20);
    expected.fill(0xaa, 64 << 10, 192 << 10);
    expectSameBytes(readAll(image), expected);
    image.close();
    expect(errorCode(() => openDiskImageFile(path))).toBe("DISK_DIRTY");
  });

  it("persistent bitmaps: hvkit clears the autoclear bit before writing, as a program without bitmap support must", () => {
    const path = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", path, "4M"]);
    qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x11 0 64k", path]);
    qemu("qemu-img", ["bitmap", "--add", path, "b0"]);
    const image = openDiskImageFile(path) as Qcow2Image;
    expect(image.info.autoclearFeatures).toBe(1n);
    const model = hvkitWorkload(image, qemuRaw(path, tmp.dir), 2, 10);
    image.close();
    const reopened = openDiskImageFile(path, { readOnly: true }) as Qcow2Image;
    expect(reopened.info.autoclearFeatures).toBe(0n);
    reopened.close();
    // QEMU now treats the bitmap as inconsistent; its clusters are leaks, nothing worse.
    const check = qemuCheck(path);
    expect(check.corruptions).toBe(0);
    expect(check.leaks).toBeGreaterThan(0);
    expectSameBytes(qemuRaw(path, tmp.dir), model);
  });

  it("refuses what it does not implement: zstd, extended L2, encryption, external data files", () => {
    const cases: Array<[string[], string]> = [
      [["-o", "compression_type=zstd"], "zstd"],
      [["-o", "extended_l2=on"], "extended L2"],
      [["-o", `data_file=${file("data")}`], "external data file"],
      [
        [
          "--object",
          "secret,id=s0,data=pw",
          "-o",
          "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=100",
        ],
        "encrypted",
      ],
    ];
    for (const [args, what] of cases) {
      const path = file("qcow2");
      // LUKS key setup times PBKDF2 and now and then fails to measure CPU time: retry.
      for (let attempt = 0; ; attempt++) {
        try {
          qemu("qemu-img", ["create", "-q", "-f", "qcow2", ...args, path, "1M"]);
          break;
        } catch (error) {
          if (attempt === 4) throw error;
        }
      }
      const store = loadStore(path);
      let message = "";
      try {
        Qcow2Image.open(store, { readOnly: true });
      } catch (error) {
        expect((error as { code: string }).code).toBe("DISK_UNSUPPORTED_FEATURE");
        message = (error as Error).message;
      }
      expect(message, what).toMatch(new RegExp(what, "i"));
    }
  });
});

/** A snapshot's content as QEMU reads it. */
function qemuSnapshotRaw(path: string, name: string): Uint8Array {
  const out = file("raw");
  qemu("qemu-img", ["convert", "-l", `snapshot.name=${name}`, "-O", "raw", path, out]);
  return new Uint8Array(loadStore(out).toBytes());
}

describe.skipIf(skipWithoutQemu)("images hvkit wrote pass qemu-img check and read back identically", () => {
  const configs = [
    { clusterBits: 16, refcountOrder: 4, version: 3 as const },
    { clusterBits: 9, refcountOrder: 4, version: 3 as const },
    { clusterBits: 12, refcountOrder: 0, version: 3 as const },
    { clusterBits: 12, refcountOrder: 3, version: 3 as const },
    { clusterBits: 10, refcountOrder: 6, version: 3 as const },
    { clusterBits: 13, refcountOrder: 4, version: 2 as const },
    { clusterBits: 21, refcountOrder: 4, version: 3 as const },
  ];
  for (const config of configs) {
    it(`a fresh image written by hvkit (${JSON.stringify(config)})`, () => {
      const path = file("qcow2");
      const size = (6 << 20) + 4096;
      const image = createQcow2File(path, { size, ...config });
      const model = hvkitWorkload(
        image,
        new Uint8Array(size),
        config.clusterBits + config.refcountOrder,
        120,
      );
      image.close();
      expectQemuAgrees(path, model);
      const info = qemu("qemu-img", ["info", "--output=json", path]);
      expect(JSON.parse(info)["virtual-size"]).toBe(size);
    });
  }

  it("the refcount table grows past its first cluster (512-byte clusters, 20 MiB of data)", () => {
    const path = file("qcow2");
    const size = 20 << 20;
    const image = createQcow2File(path, { size, clusterBits: 9 });
    const model = new Uint8Array(size);
    for (let s = 0; s < size / SECTOR_SIZE; s += 128) {
      const data = pattern(128, s);
      image.write(s, data);
      model.set(data, s * SECTOR_SIZE);
    }
    image.close();
    expectQemuAgrees(path, model);
  });

  it("an hvkit overlay over a raw base and over a qemu-made qcow2 base", () => {
    const raw = rawFile(3000, 21);
    const overRaw = file("qcow2");
    const a = createOverlayFile(overRaw, raw.path, { clusterBits: 12 });
    expect(a.info.backingFormat).toBe("raw");
    const modelA = hvkitWorkload(a, raw.bytes, 8, 60);
    a.close();
    expectQemuAgrees(overRaw, modelA);
    expectSameBytes(readAll(new RawImage(loadStore(raw.path))), raw.bytes, "base untouched");

    const base = file("qcow2");
    qemu("qemu-img", ["convert", "-c", "-f", "raw", "-O", "qcow2", raw.path, base]);
    const overQcow2 = file("qcow2");
    const b = createOverlayFile(overQcow2, base.split("/").pop()!);
    expect(b.info.backingFormat).toBe("qcow2");
    const modelB = hvkitWorkload(b, raw.bytes, 9, 60);
    b.close();
    expectQemuAgrees(overQcow2, modelB);
    const info = JSON.parse(qemu("qemu-img", ["info", "--output=json", overQcow2]));
    expect(info["backing-filename"]).toBe(base.split("/").pop());
    expect(info["backing-filename-format"]).toBe("qcow2");
  });

  it("writes into a qemu-made image (qemu-io data, then hvkit), and qemu-io reads hvkit's data", () => {
    const path = file("qcow2");
    qemu("qemu-img", ["create", "-q", "-f", "qcow2", path, "16M"]);
    qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x44 0 2M", "-c", "write -z 4M 1M", path]);
    const image = openDiskImageFile(path);
    image.write(100, new Uint8Array(8 * SECTOR_SIZE).fill(0x99));
    image.close();
    const out = qemu("qemu-io", [
      "-f",
      "qcow2",
      "-c",
      "read -P 0x99 51200 4096",
      "-c",
      "read -P 0x44 0 51200",
      path,
    ]);
    expect(out).not.toMatch(/Pattern verification failed/);
    expect(qemuCheck(path).corruptions).toBe(0);
  });
});
