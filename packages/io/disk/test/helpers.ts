import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "fflate";
import { expect } from "vitest";
import { DiskError, type DiskImage, MemoryStore, Qcow2Image, SECTOR_SIZE } from "../src/index.js";

/** A small seeded PRNG (mulberry32): reproducible workloads and mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [0, n). */
export function randInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** n sectors of recognisable bytes: each sector tagged with its seed and position. */
export function pattern(sectors: number, seed: number): Uint8Array {
  const out = new Uint8Array(sectors * SECTOR_SIZE);
  for (let i = 0; i < out.length; i++) out[i] = (seed * 131 + i * 7 + (i >> 9) * 13) & 0xff;
  return out;
}

/** The whole disk's content. */
export function readAll(image: DiskImage): Uint8Array {
  const out = new Uint8Array(image.sectors * SECTOR_SIZE);
  const step = 2048;
  for (let s = 0; s < image.sectors; s += step) {
    const n = Math.min(step, image.sectors - s);
    image.read(s, n, out.subarray(s * SECTOR_SIZE, (s + n) * SECTOR_SIZE));
  }
  return out;
}

/** Byte equality with a useful failure message (first differing offset). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      expect.fail(`${what} differ first at ${i} (sector ${i >> 9}): ${actual[i]} != ${expected[i]}`);
    }
  }
}

/** The DiskError code fn throws ("no error" if none); any other exception fails the test. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof DiskError)) throw error;
    return error.code;
  }
  return "no error";
}

/** The DiskError fn throws. */
export function diskError(fn: () => unknown): DiskError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiskError) return error;
    throw error;
  }
  throw new Error("expected a DiskError");
}

// ---- qemu-img ----

function findQemuImg(): boolean {
  return spawnSync("qemu-img", ["--version"], { stdio: "ignore" }).status === 0;
}

/** True when qemu-img and qemu-io are installed (Debian: qemu-utils). */
export const hasQemu = findQemuImg();

/**
 * Skip qemu interop tests where qemu-img is missing, except in CI, where a
 * missing qemu-utils package is a setup error the tests must report.
 */
export const skipWithoutQemu = !hasQemu && !process.env.CI;

/** Run qemu-img (or qemu-io) and return stdout; throws with stderr on failure. */
export function qemu(tool: "qemu-img" | "qemu-io", args: string[]): string {
  return execFileSync(tool, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** qemu-img check's verdict on a file (its JSON output; exit status 2 = corruptions, 3 = leaks). */
export function qemuCheck(path: string): {
  corruptions: number;
  leaks: number;
  compressed: number;
  status: number;
  raw: string;
} {
  const r = spawnSync("qemu-img", ["check", "--output=json", path], { encoding: "utf8" });
  if (r.status !== 0 && r.status !== 2 && r.status !== 3) {
    throw new Error(`qemu-img check ${path} failed (${r.status}): ${r.stderr}${r.stdout}`);
  }
  const json = JSON.parse(r.stdout) as {
    corruptions?: number;
    leaks?: number;
    "compressed-clusters"?: number;
  };
  return {
    corruptions: json.corruptions ?? 0,
    leaks: json.leaks ?? 0,
    compressed: json["compressed-clusters"] ?? 0,
    status: r.status ?? -1,
    raw: r.stdout,
  };
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix = "hvkit-disk-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write a memory store to a file (for qemu-img). */
export function saveStore(store: MemoryStore, path: string): void {
  writeFileSync(path, store.toBytes());
}

/** A memory store holding a file's bytes. */
export function loadStore(path: string, readOnly = false): MemoryStore {
  return MemoryStore.from(new Uint8Array(readFileSync(path)), { readOnly });
}

/** What qemu-img convert -O raw makes of an image file. */
export function qemuRaw(path: string, dir: string): Uint8Array {
  const out = join(dir, `converted-${Math.random().toString(36).slice(2)}.raw`);
  qemu("qemu-img", ["convert", "-O", "raw", path, out]);
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(out);
  return bytes;
}

/**
 * Turn guest cluster `guest` of an hvkit-made image (no backing, standard
 * cluster) into a compressed cluster: deflate its data to the end of the file,
 * point the L2 entry at it and move the refcount, as qemu-img convert -c lays
 * compressed clusters out.
 */
export function compressCluster(store: MemoryStore, guest: number): void {
  const image = Qcow2Image.open(store, { readOnly: true });
  const cs = image.info.clusterSize;
  const bits = Math.log2(cs);
  const data = new Uint8Array(cs);
  image.read((guest * cs) / SECTOR_SIZE, cs / SECTOR_SIZE, data);
  const header = new DataView(store.read(0, 72).buffer);
  const l1Offset = Number(header.getBigUint64(40));
  const l2Entries = cs / 8;
  const l2Offset =
    Number(new DataView(store.read(l1Offset + Math.floor(guest / l2Entries) * 8, 8).buffer).getBigUint64(0)) &
    ~(2 ** 63);
  const entryAt = (l2Offset % 2 ** 56) + (guest % l2Entries) * 8;
  const old = new DataView(store.read(entryAt, 8).buffer).getBigUint64(0);
  const oldHost = Number(old & ((1n << 56n) - 512n));
  const packed = deflateSync(data);
  const offset = store.size + 100; // deliberately not sector-aligned
  store.write(offset, packed);
  const x = 62 - (bits - 8);
  const extra = Math.floor((offset + packed.length - 1) / 512) - Math.floor(offset / 512);
  const entry = (1n << 62n) | (BigInt(extra) << BigInt(x)) | BigInt(offset);
  const e = new Uint8Array(8);
  new DataView(e.buffer).setBigUint64(0, entry);
  store.write(entryAt, e);
  // Refcounts: the old cluster is now unreferenced, the new data's clusters referenced.
  addRefcount16(store, oldHost / cs, -1);
  for (
    let c = Math.floor(offset / cs);
    c <= Math.floor((offset + (extra + 1) * 512 - (offset % 512) - 1) / cs);
    c++
  ) {
    addRefcount16(store, c, 1);
  }
}

/** Change a 16-bit refcount directly (test images have refcount_order 4 and enough refcount blocks). */
function addRefcount16(store: MemoryStore, cluster: number, delta: number): void {
  const header = new DataView(store.read(0, 104).buffer);
  const cs = 2 ** header.getUint32(20);
  const reftable = Number(header.getBigUint64(48));
  const perBlock = cs / 2;
  const block = Number(
    new DataView(store.read(reftable + Math.floor(cluster / perBlock) * 8, 8).buffer).getBigUint64(0),
  );
  if (block === 0) throw new Error("test image needs a refcount block there");
  const at = block + (cluster % perBlock) * 2;
  const v = store.read(at, 2);
  const view = new DataView(v.buffer);
  view.setUint16(0, view.getUint16(0) + delta);
  store.write(at, v);
}
