import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createQcow2, MemoryStore, type Qcow2Image, RawImage, SECTOR_SIZE } from "../src/index.js";
import {
  createOverlayFile,
  createQcow2File,
  createRawFile,
  FileStore,
  openDiskImageFile,
} from "../src/node/index.js";
import { diskError, errorCode, expectSameBytes, pattern, readAll, saveStore, tempDir } from "./helpers.js";

const tmp = tempDir("hvkit-node-");
afterAll(() => tmp.cleanup());

describe("disk image files", () => {
  it("a sparse raw file: a hole reads as zeros, written sectors read back, the file stays sparse", () => {
    const path = join(tmp.dir, "sparse.raw");
    const raw = createRawFile(path, 256 << 20);
    expect(raw.sectors).toBe((256 << 20) / SECTOR_SIZE);
    raw.write(100_000, pattern(8, 1));
    raw.close();
    const image = openDiskImageFile(path);
    expect(image.format).toBe("raw");
    const out = new Uint8Array(16 * SECTOR_SIZE);
    image.read(99_996, 16, out);
    expect(out.subarray(0, 4 * SECTOR_SIZE).every((b) => b === 0)).toBe(true);
    expectSameBytes(out.subarray(4 * SECTOR_SIZE, 12 * SECTOR_SIZE), pattern(8, 1));
    image.close();
    expect(statSync(path).size).toBe(256 << 20);
    expect(statSync(path).blocks * 512).toBeLessThan(8 << 20);
  });

  it("overlay chains resolve relative backing names against the naming image's directory", () => {
    const dir = join(tmp.dir, "chain");
    mkdirSync(join(dir, "bases"), { recursive: true });
    writeFileSync(join(dir, "bases", "base.raw"), pattern(256, 4));
    // mid names its base relative to its own directory (bases/), top names mid relative to dir.
    const mid = createOverlayFile(join(dir, "bases", "mid.qcow2"), "base.raw", { clusterBits: 12 });
    mid.write(0, pattern(4, 5));
    mid.close();
    const top = createOverlayFile(join(dir, "top.qcow2"), "bases/mid.qcow2");
    expect(top.info.backingFile).toBe("bases/mid.qcow2");
    expect(top.info.backingFormat).toBe("qcow2");
    top.write(8, pattern(4, 6));
    top.close();
    const image = openDiskImageFile(join(dir, "top.qcow2"), { readOnly: true });
    const model = pattern(256, 4);
    model.set(pattern(4, 5), 0);
    model.set(pattern(4, 6), 8 * SECTOR_SIZE);
    expectSameBytes(readAll(image), model);
    image.close();
    // The base file was never written.
    expectSameBytes(new Uint8Array(readFileSync(join(dir, "bases", "base.raw"))), pattern(256, 4));
  });

  it("a missing backing file is DISK_BACKING_MISSING naming where it was looked for", () => {
    const store = new MemoryStore();
    createQcow2(store, {
      size: 4096,
      backingFile: "gone.raw",
      backingFormat: "raw",
      backing: new RawImage(new MemoryStore(4096)),
    }).close();
    const path = join(tmp.dir, "orphan.qcow2");
    saveStore(store, path);
    const error = diskError(() => openDiskImageFile(path));
    expect(error.code).toBe("DISK_BACKING_MISSING");
    expect(error.message).toContain(join(tmp.dir, "gone.raw"));
    expect(error.message).toMatch(/qemu-img rebase/);
    expect(errorCode(() => createOverlayFile(join(tmp.dir, "x.qcow2"), "nothing-here.raw"))).toBe(
      "DISK_BACKING_MISSING",
    );
  });

  it("loops through files and symlinks are DISK_BACKING_LOOP", () => {
    const dir = join(tmp.dir, "loop");
    mkdirSync(dir);
    const write = (name: string, backingFile: string) => {
      const store = new MemoryStore();
      createQcow2(store, {
        size: 4096,
        backingFile,
        backingFormat: "qcow2",
        backing: new RawImage(new MemoryStore(4096)),
      }).close();
      saveStore(store, join(dir, name));
    };
    write("a.qcow2", "b.qcow2");
    write("b.qcow2", "link-to-a.qcow2");
    symlinkSync(join(dir, "a.qcow2"), join(dir, "link-to-a.qcow2"));
    const error = diskError(() => openDiskImageFile(join(dir, "a.qcow2")));
    expect(error.code).toBe("DISK_BACKING_LOOP");
    expect(error.message).toContain("a.qcow2 -> ");
  });

  it("refuses to create an image over a file in its own backing chain", () => {
    const dir = join(tmp.dir, "self");
    mkdirSync(dir);
    writeFileSync(join(dir, "base.raw"), pattern(16, 1));
    const mid = createOverlayFile(join(dir, "mid.qcow2"), "base.raw");
    mid.close();
    expect(errorCode(() => createOverlayFile(join(dir, "base.raw"), "mid.qcow2"))).toBe("DISK_BACKING_LOOP");
    expectSameBytes(new Uint8Array(readFileSync(join(dir, "base.raw"))), pattern(16, 1));
  });

  it("read-only files refuse writes; closing twice is harmless; use after close is DISK_CLOSED", () => {
    const path = join(tmp.dir, "ro.qcow2");
    const image = createQcow2File(path, { size: 1 << 20 });
    image.write(0, pattern(1, 1));
    image.close();
    image.close();
    expect(errorCode(() => image.flush())).toBe("DISK_CLOSED");
    const ro = openDiskImageFile(path, { readOnly: true }) as Qcow2Image;
    expect(ro.readOnly).toBe(true);
    expect(errorCode(() => ro.write(0, pattern(1, 2)))).toBe("DISK_READ_ONLY");
    ro.close();
    const store = FileStore.open(path, { readOnly: true });
    expect(errorCode(() => store.write(0, pattern(1, 2)))).toBe("DISK_READ_ONLY");
    store.close();
    expect(errorCode(() => store.read(0, 1))).toBe("DISK_CLOSED");
  });
});
