/**
 * Crash safety. A workload runs on a RecordingStore; then, for every N, the
 * storage a crash after the N-th write would leave is rebuilt and must open,
 * check without errors (leaks allowed, as after a QEMU crash), hold for every
 * sector a value the guest could legitimately see, and accept further
 * writes. Two crash models:
 *   - process killed: the first N writes persist (the page cache keeps issue order);
 *   - power loss: writes before the last flush persist, any subset after it does
 *     (storage reorders between barriers) — safe only with write barriers on.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BlockStore,
  checkQcow2,
  createOverlay,
  createQcow2,
  type DiskImage,
  MemoryStore,
  Qcow2Image,
  RawImage,
  SECTOR_SIZE,
} from "../src/index.js";
import { RecordingStore } from "../src/testing/index.js";
import {
  compressCluster,
  loadStore,
  pattern,
  prng,
  qemu,
  qemuCheck,
  randInt,
  skipWithoutQemu,
  tempDir,
} from "./helpers.js";

const tmp = tempDir("hvkit-crash-");
afterAll(() => tmp.cleanup());

/** One guest operation and the store mutations it issued: [start, end). */
interface Op {
  readonly kind: "write" | "zero" | "flush";
  readonly sector: number;
  readonly count: number;
  readonly data: Uint8Array | null;
  readonly start: number;
  readonly end: number;
}

interface Scenario {
  /** The durable image before the workload. */
  readonly initial: MemoryStore;
  /** Open an image on a store (read-only or not), with its backing if it has one. */
  open(store: BlockStore, readOnly: boolean, barriers?: boolean): Qcow2Image;
  /** The guest-visible content before the workload. */
  readonly before: Uint8Array;
}

/** Run a random workload on a recording copy of the scenario's image. */
function record(scenario: Scenario, seed: number, steps: number, barriers = true) {
  const store = new RecordingStore(scenario.initial);
  const image = scenario.open(store, false, barriers);
  const random = prng(seed);
  const ops: Op[] = [];
  const maxSector = image.sectors;
  for (let step = 0; step < steps; step++) {
    const start = store.mutations;
    const r = random();
    const count = 1 + randInt(random, r < 0.2 ? 40 : 9);
    const sector = randInt(random, maxSector - count + 1);
    if (r < 0.08) {
      image.flush();
      ops.push({ kind: "flush", sector: 0, count: 0, data: null, start, end: store.mutations });
    } else if (r < 0.2) {
      image.writeZeroes(sector, count);
      ops.push({ kind: "zero", sector, count, data: null, start, end: store.mutations });
    } else {
      const data = pattern(count, seed * 7919 + step);
      image.write(sector, data);
      ops.push({ kind: "write", sector, count, data, start, end: store.mutations });
    }
  }
  image.close();
  return { store, ops };
}

/** The bytes op writes to sector s (which it touches). */
function opSector(op: Op, s: number): Uint8Array {
  if (op.data === null) return new Uint8Array(SECTOR_SIZE);
  const at = (s - op.sector) * SECTOR_SIZE;
  return op.data.subarray(at, at + SECTOR_SIZE);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** For each sector, the indices of the operations that wrote it, in order. */
function indexOps(ops: readonly Op[], sectors: number): number[][] {
  const bySector: number[][] = Array.from({ length: sectors }, () => []);
  ops.forEach((op, i) => {
    if (op.kind !== "flush") for (let s = op.sector; s < op.sector + op.count; s++) bySector[s]!.push(i);
  });
  return bySector;
}

/**
 * Every sector holds the value of the last operation made durable by then
 * (or the initial value), or the value of a later operation already issued.
 */
function expectLegitimate(
  image: DiskImage,
  before: Uint8Array,
  ops: readonly Op[],
  bySector: readonly number[][],
  durable: number,
  n: number,
  label: string,
) {
  const all = new Uint8Array(image.sectors * SECTOR_SIZE);
  image.read(0, image.sectors, all);
  for (let s = 0; s < image.sectors; s++) {
    const got = all.subarray(s * SECTOR_SIZE, (s + 1) * SECTOR_SIZE);
    const writers = bySector[s]!;
    let k = 0;
    let last = -1;
    while (k < writers.length && ops[writers[k]!]!.end <= durable) last = writers[k++]!;
    if (
      same(last < 0 ? before.subarray(s * SECTOR_SIZE, (s + 1) * SECTOR_SIZE) : opSector(ops[last]!, s), got)
    ) {
      continue;
    }
    let ok = false;
    for (; k < writers.length && !ok; k++) {
      const op = ops[writers[k]!]!;
      if (op.start < n) ok = same(opSector(op, s), got);
    }
    if (!ok) expect.fail(`${label}: sector ${s} holds a value no write put there (last durable op ${last})`);
  }
}

/** The durable point under power loss: mutations before the last guest flush issued before the n-th. */
function durableAfterPowerLoss(ops: readonly Op[], n: number): number {
  let durable = 0;
  for (const op of ops) if (op.kind === "flush" && op.end < n) durable = Math.max(durable, op.end);
  return durable;
}

function expectNoErrors(store: MemoryStore, label: string) {
  const result = checkQcow2(store);
  if (result.corruptions !== 0) {
    expect.fail(`${label}: ${result.messages.filter((m) => m.startsWith("ERROR")).join("\n")}`);
  }
}

/** Every N: open, check, read legitimate data; every few N also recover by writing on. */
function crashEveryN(scenario: Scenario, seed: number, steps: number, qemuChecks = 0) {
  const { store, ops } = record(scenario, seed, steps);
  const total = store.mutations;
  expect(total).toBeGreaterThan(steps);
  const bySector = indexOps(ops, scenario.before.length / SECTOR_SIZE);
  const qemuStride = qemuChecks > 0 ? Math.max(1, Math.ceil(total / qemuChecks)) : 0;
  for (const { n, store: partial } of store.crashes()) {
    const label = `crash after ${n}/${total} writes`;
    expectNoErrors(partial, label);
    const image = scenario.open(partial, true);
    expectLegitimate(image, scenario.before, ops, bySector, n, n, label);
    image.close();
    if (qemuStride > 0 && (n % qemuStride === 0 || n === total)) {
      const path = join(tmp.dir, "partial.qcow2");
      writeFileSync(path, partial.toBytes());
      const check = qemuCheck(path);
      if (check.corruptions !== 0) expect.fail(`${label}: qemu-img check: ${check.raw}`);
    }
    if (n % 11 === 0) {
      // Recovery: the crashed image accepts writes and stays consistent.
      const copy = partial.snapshot();
      const again = scenario.open(copy, false);
      again.write(randInt(prng(n), again.sectors - 8), pattern(8, n));
      again.writeZeroes!(0, 16);
      again.close();
      expectNoErrors(copy, `${label}, then written`);
    }
  }
  return total;
}

/** 512-byte clusters and 64-bit refcounts, filled up to just below the end of what the refcount table covers. */
function nearlyFullScenario(): Scenario {
  const initial = new MemoryStore();
  const size = 2560 << 10;
  const image = createQcow2(initial, { size, clusterBits: 9, refcountOrder: 6, writeBarriers: false });
  const before = new Uint8Array(size);
  // One refcount table cluster covers 64 blocks of 64 clusters: 2 MiB of file.
  for (let s = 0; s < 3950; s += 50) {
    const data = pattern(50, s);
    image.write(s, data);
    before.set(data, s * SECTOR_SIZE);
  }
  image.close();
  expect(initial.size).toBeLessThan(2 << 20);
  expect(initial.size).toBeGreaterThan((2 << 20) - 200 * 512);
  return {
    initial,
    before,
    open: (store, readOnly, barriers) =>
      Qcow2Image.open(store, { readOnly, writeBarriers: barriers ?? true }),
  };
}

/** A 4 KiB-cluster overlay over a raw base, with some clusters already written and two compressed. */
function overlayScenario(): Scenario {
  const baseBytes = pattern(2048, 77);
  const base = new RawImage(MemoryStore.from(baseBytes, { readOnly: true }));
  const initial = new MemoryStore();
  const overlay = createOverlay(initial, base, { clusterBits: 12 });
  const before = baseBytes.slice();
  for (const s of [0, 64, 200, 1000]) {
    const data = pattern(24, s).map((b, i) => (i < 3000 ? b : 0));
    overlay.write(s, data);
    before.set(data, s * SECTOR_SIZE);
  }
  overlay.close();
  // Clusters 8 and 25 are wholly written, so the overlay alone holds their data.
  compressCluster(initial, 8);
  compressCluster(initial, 25);
  return {
    initial,
    before,
    open: (store, readOnly, barriers) =>
      Qcow2Image.open(store, { readOnly, backing: base, writeBarriers: barriers ?? true }),
  };
}

describe("crash safety: a killed process leaves a consistent image after every write", () => {
  it("allocations crossing refcount block and refcount table boundaries (512-byte clusters)", () => {
    const scenario = nearlyFullScenario();
    const total = crashEveryN(scenario, 1, 45);
    // The workload really moved the refcount table.
    const { store } = record(scenario, 1, 45);
    const header = new DataView(store.current().read(0, 72).buffer);
    expect(header.getUint32(56)).toBeGreaterThan(1);
    expect(total).toBeGreaterThan(300);
  }, 180_000);

  it("an overlay: copy-on-write from the base, compressed clusters rewritten, zero clusters over the base", () => {
    crashEveryN(overlayScenario(), 2, 100);
  });

  it.skipIf(skipWithoutQemu)(
    "qemu-img check agrees on every partial image",
    () => {
      crashEveryN(nearlyFullScenario(), 3, 25, 40);
      crashEveryN(overlayScenario(), 4, 40, 40);
    },
    180_000,
  );

  it.skipIf(skipWithoutQemu)(
    "an image with internal snapshots and compressed clusters made by QEMU",
    () => {
      const raw = join(tmp.dir, "snap.raw");
      const path = join(tmp.dir, "snap.qcow2");
      // Mostly incompressible data (stored plainly), with every 16th cluster compressible.
      const random = prng(5);
      writeFileSync(
        raw,
        new Uint8Array(2048 * SECTOR_SIZE).map((_, i) =>
          (i >> 12) % 16 === 0 ? (i * 7) & 0xff : randInt(random, 256),
        ),
      );
      qemu("qemu-img", ["convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096", raw, path]);
      qemu("qemu-io", ["-f", "qcow2", "-c", "write -P 0x31 512k 64k", path]);
      qemu("qemu-img", ["snapshot", "-c", "s1", path]);
      const initial = loadStore(path);
      const image = Qcow2Image.open(initial, { readOnly: true });
      const before = new Uint8Array(image.sectors * SECTOR_SIZE);
      image.read(0, image.sectors, before);
      const scenario: Scenario = {
        initial,
        before,
        open: (store, readOnly, barriers) =>
          Qcow2Image.open(store, { readOnly, writeBarriers: barriers ?? true }),
      };
      crashEveryN(scenario, 5, 30, 40);
    },
    180_000,
  );
});

describe("crash safety: power loss with storage reordering between flushes", () => {
  function powerLossEveryN(scenario: Scenario, seed: number, steps: number, barriers: boolean): number {
    const { store, ops } = record(scenario, seed, steps, barriers);
    const total = store.mutations;
    const bySector = indexOps(ops, scenario.before.length / SECTOR_SIZE);
    let corrupted = 0;
    for (const { n, store: partial } of store.powerLosses(prng(seed), 3)) {
      if (!barriers) {
        if (checkQcow2(partial).corruptions > 0) corrupted++;
        continue;
      }
      const label = `power loss after ${n}/${total} writes`;
      expectNoErrors(partial, label);
      const image = scenario.open(partial, true);
      expectLegitimate(image, scenario.before, ops, bySector, durableAfterPowerLoss(ops, n), n, label);
      image.close();
    }
    return corrupted;
  }

  it("with write barriers (the default) every reordering is consistent: allocations across table boundaries", () => {
    powerLossEveryN(nearlyFullScenario(), 6, 25, true);
  }, 180_000);

  it("with write barriers (the default) every reordering is consistent: an overlay", () => {
    powerLossEveryN(overlayScenario(), 7, 60, true);
  }, 180_000);

  it("without barriers a reordering can leave refcounts below references (why the barriers exist)", () => {
    expect(powerLossEveryN(overlayScenario(), 8, 80, false)).toBeGreaterThan(0);
  });
});
