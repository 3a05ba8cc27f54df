import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../src/index.js";
import { FileStore } from "../src/node/index.js";
import { describeBlockStore, RecordingStore } from "../src/testing/index.js";
import { errorCode, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let files = 0;
const nextPath = () => join(tmp.dir, `store-${files++}.img`);

describeBlockStore("MemoryStore", {
  create: () => new MemoryStore(),
  readOnly: (bytes) => MemoryStore.from(bytes, { readOnly: true }),
  resize: true,
});

describeBlockStore("FileStore", {
  create: () => FileStore.open(nextPath(), { create: true }),
  readOnly: (bytes) => {
    const store = FileStore.open(nextPath(), { create: true });
    store.write(0, bytes);
    store.close();
    return FileStore.open(store.path, { readOnly: true });
  },
  resize: true,
  reopen: (store) => {
    store.close?.();
    return FileStore.open((store as FileStore).path);
  },
});

describeBlockStore("RecordingStore", { create: () => new RecordingStore(), resize: true });

describe("MemoryStore", () => {
  it("is sparse: untouched and all-zero chunks cost nothing and read as zeros", () => {
    const store = new MemoryStore(1 << 30);
    expect(store.allocatedBytes).toBe(0);
    store.write(5 << 20, new Uint8Array(1 << 20)); // zeros stay a hole
    expect(store.allocatedBytes).toBe(0);
    store.write(700 << 20, Uint8Array.of(1));
    expect(store.allocatedBytes).toBe(64 * 1024);
    expect(store.read((700 << 20) - 2, 4)).toEqual(Uint8Array.of(0, 0, 1, 0));
  });

  it("snapshot() and from() copy, so later writes do not leak between them", () => {
    const a = MemoryStore.from(Uint8Array.of(1, 2, 3));
    const b = a.snapshot();
    a.write(0, Uint8Array.of(9));
    expect(b.read(0, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(a.toBytes()).toEqual(Uint8Array.of(9, 2, 3));
  });

  it("rejects bad sizes and offsets as host misuse", () => {
    expect(errorCode(() => new MemoryStore(-1))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => new MemoryStore().write(-5, Uint8Array.of(1)))).toBe("DISK_BAD_ARGUMENT");
    expect(errorCode(() => new MemoryStore().resize(1.5))).toBe("DISK_BAD_ARGUMENT");
  });
});

describe("FileStore", () => {
  it("resize() leaves a hole: a sparse file that reads as zeros", () => {
    const path = nextPath();
    const store = FileStore.open(path, { create: true });
    store.resize(1 << 30);
    store.write(512 << 20, Uint8Array.of(7));
    store.flush();
    expect(store.size).toBe(1 << 30);
    expect(store.read((512 << 20) - 1, 3)).toEqual(Uint8Array.of(0, 7, 0));
    // Allocated blocks stay far below the apparent size (a hole, not zeros).
    expect(statSync(path).blocks * 512).toBeLessThan(16 << 20);
    store.close();
  });

  it("writes reach the file", () => {
    const path = nextPath();
    const store = FileStore.open(path, { create: true });
    store.write(3, Uint8Array.of(1, 2));
    store.flush();
    expect(new Uint8Array(readFileSync(path))).toEqual(Uint8Array.of(0, 0, 0, 1, 2));
    store.close();
    store.close(); // idempotent
  });

  it("reports a missing file as DISK_IO and refuses to create read-only", () => {
    expect(errorCode(() => FileStore.open(join(tmp.dir, "missing.img")))).toBe("DISK_IO");
    expect(errorCode(() => FileStore.open(nextPath(), { create: true, readOnly: true }))).toBe(
      "DISK_BAD_ARGUMENT",
    );
  });
});

describe("RecordingStore", () => {
  it("rebuilds storage after a crash: a prefix of the writes, flush or not", () => {
    const store = new RecordingStore(MemoryStore.from(Uint8Array.of(0, 0, 0, 0)));
    store.write(0, Uint8Array.of(1));
    store.flush();
    store.write(1, Uint8Array.of(2));
    store.resize(8);
    store.write(2, Uint8Array.of(3));
    expect(store.mutations).toBe(4);
    expect(store.crashAfter(0).toBytes()).toEqual(Uint8Array.of(0, 0, 0, 0));
    expect(store.crashAfter(2).toBytes()).toEqual(Uint8Array.of(1, 2, 0, 0));
    expect(store.crashAfter(4).toBytes()).toEqual(Uint8Array.of(1, 2, 3, 0, 0, 0, 0, 0));
    expect(store.current().toBytes()).toEqual(store.crashAfter(4).toBytes());
  });

  it("after a power loss keeps everything before the last flush and any subset after it", () => {
    const store = new RecordingStore(new MemoryStore(3));
    store.write(0, Uint8Array.of(1));
    store.flush();
    store.write(1, Uint8Array.of(2));
    store.write(2, Uint8Array.of(3));
    expect(store.powerLoss(3, () => 0.9).toBytes()).toEqual(Uint8Array.of(1, 0, 0));
    expect(store.powerLoss(3, () => 0.1).toBytes()).toEqual(Uint8Array.of(1, 2, 3));
    expect(store.powerLoss(1, () => 0.9).toBytes()).toEqual(Uint8Array.of(0, 0, 0));
  });
});
