/**
 * Test helpers for code that stores disk images: the BlockStore contract
 * suite every store adapter runs, and a recording store for crash
 * simulation.
 *
 * ```ts
 * import { describeBlockStore } from "@hvkit/disk/testing";
 * describeBlockStore("my store", { create: () => new MyStore(), resize: true });
 * ```
 */
import { describe, expect, it } from "vitest";
import { DiskError } from "../errors.js";
import type { BlockStore } from "../store.js";

export { RecordingStore, type StoreOp } from "./recording-store.js";

/** How the contract suite gets stores, and what the adapter can do. */
export interface BlockStoreHarness {
  /** A new, empty, writable store. */
  create(): BlockStore;
  /** A read-only store holding bytes (omit to skip the read-only tests). */
  readOnly?(bytes: Uint8Array): BlockStore;
  /** The adapter implements resize(). */
  readonly resize: boolean;
  /** Reopen what a store durably holds after flush() and close() (omit to skip). */
  reopen?(store: BlockStore): BlockStore;
}

/** The BlockStore contract: what images rely on from any store. */
export function describeBlockStore(name: string, harness: BlockStoreHarness): void {
  describe(`BlockStore contract: ${name}`, () => {
    const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(DiskError);
        return (error as DiskError).code;
      }
      return "no error";
    };

    it("starts empty, grows on write and reads back what was written", () => {
      const store = harness.create();
      expect(store.size).toBe(0);
      expect(store.readOnly).toBe(false);
      const data = bytes(1000);
      store.write(100, data);
      expect(store.size).toBe(1100);
      expect([...store.read(100, 1000)]).toEqual([...data]);
      expect([...store.read(0, 100)]).toEqual(new Array(100).fill(0));
      store.close?.();
    });

    it("reads a gap left by a write past the end as zeros", () => {
      const store = harness.create();
      store.write(0, bytes(10));
      store.write(200_000, bytes(10, 7));
      expect(store.size).toBe(200_010);
      expect(store.read(10, 199_990).every((b) => b === 0)).toBe(true);
      expect([...store.read(200_000, 10)]).toEqual([...bytes(10, 7)]);
      store.close?.();
    });

    it("overwrites in place and returns copies the caller owns", () => {
      const store = harness.create();
      store.write(0, bytes(4096));
      store.write(1000, Uint8Array.of(9, 9, 9));
      const a = store.read(999, 5);
      expect([...a]).toEqual([bytes(4096)[999], 9, 9, 9, bytes(4096)[1003]]);
      a.fill(0);
      expect(store.read(1000, 1)[0]).toBe(9);
      store.close?.();
    });

    it("refuses reads outside its size with DISK_RANGE", () => {
      const store = harness.create();
      store.write(0, bytes(100));
      expect(code(() => store.read(50, 51))).toBe("DISK_RANGE");
      expect(code(() => store.read(-1, 1))).toBe("DISK_RANGE");
      expect(code(() => store.read(0.5, 1))).toBe("DISK_RANGE");
      expect(store.read(100, 0).length).toBe(0);
      store.close?.();
    });

    it("accepts flush() as a barrier at any time", () => {
      const store = harness.create();
      store.flush();
      store.write(0, bytes(10));
      store.flush();
      expect([...store.read(0, 10)]).toEqual([...bytes(10)]);
      store.close?.();
    });

    it.skipIf(!harness.resize)("resizes: truncation drops bytes, extension reads zeros", () => {
      const store = harness.create();
      store.write(0, bytes(100_000));
      store.resize!(50);
      expect(store.size).toBe(50);
      store.resize!(100_000);
      expect(store.size).toBe(100_000);
      expect([...store.read(0, 50)]).toEqual([...bytes(50)]);
      expect(store.read(50, 99_950).every((b) => b === 0)).toBe(true);
      store.close?.();
    });

    it.skipIf(!harness.readOnly)("a read-only store reads but refuses writes with DISK_READ_ONLY", () => {
      const store = harness.readOnly!(bytes(64));
      expect(store.readOnly).toBe(true);
      expect([...store.read(0, 64)]).toEqual([...bytes(64)]);
      expect(code(() => store.write(0, bytes(1)))).toBe("DISK_READ_ONLY");
      if (harness.resize) expect(code(() => store.resize!(0))).toBe("DISK_READ_ONLY");
      store.close?.();
    });

    it.skipIf(!harness.reopen)("keeps flushed data across close and reopen", () => {
      const store = harness.create();
      store.write(512, bytes(2048, 3));
      store.flush();
      const again = harness.reopen!(store);
      expect(again.size).toBe(2560);
      expect([...again.read(512, 2048)]).toEqual([...bytes(2048, 3)]);
      again.close?.();
    });

    it("refuses use after close() with DISK_CLOSED", () => {
      const store = harness.create();
      if (!store.close) return;
      store.close();
      expect(code(() => store.read(0, 0))).toBe("DISK_CLOSED");
      expect(code(() => store.write(0, bytes(1)))).toBe("DISK_CLOSED");
    });
  });
}
