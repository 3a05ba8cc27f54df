/**
 * Guest RAM as a page set: which 4 KiB pages are there, which of them are all
 * zero (elided: only their index travels), and the others' bytes deflated in
 * one stream (fflate; see the README for why that library). Used by the
 * snapshot's RAM section and by every live-migration round.
 *
 *   u32 page size (4096) | u32 count | count x u32 (page index << 1 | 1 if all zero)
 *   | u32 deflated length | deflated bytes of the non-zero pages, in entry order
 */
import { deflateSync, inflateSync } from "fflate";
import { SnapshotError } from "./format.js";

/** Guest page size of snapshots and migration. */
export const PAGE_SIZE = 4096;
/**
 * deflate level: 1 (fastest). Measured on a Debian boot's RAM (512 MiB, 2-core
 * host): level 1 compresses in about a third of level 6's time for a file a
 * few percent larger; pre-copy rounds care more about time than bytes.
 */
const DEFLATE_LEVEL = 1;

/** Whether RAM page `page` is all zero. */
export function isZeroPage(ram32: Int32Array, page: number): boolean {
  const start = page * (PAGE_SIZE >> 2);
  const end = start + (PAGE_SIZE >> 2);
  for (let i = start; i < end; i++) if (ram32[i] !== 0) return false;
  return true;
}

/** A view of `ram` as int32 words (ram's offset and length are multiples of 4 KiB). */
export function words(ram: Uint8Array): Int32Array {
  return new Int32Array(ram.buffer, ram.byteOffset, ram.length >> 2);
}

/**
 * Encode the pages of `ram` listed in `pages` (indices, any order), or every
 * non-zero page when `pages` is undefined (zero pages then are not listed at
 * all: a restore starts from zeroed RAM).
 */
export function encodePages(ram: Uint8Array, pages?: ArrayLike<number>): Uint8Array {
  const ram32 = words(ram);
  const total = ram.length / PAGE_SIZE;
  const entries: number[] = [];
  let data = 0;
  const consider = (p: number, listZero: boolean): void => {
    const zero = isZeroPage(ram32, p);
    if (zero && !listZero) return;
    entries.push(p * 2 + (zero ? 1 : 0));
    if (!zero) data++;
  };
  if (pages === undefined) for (let p = 0; p < total; p++) consider(p, false);
  else for (let i = 0; i < pages.length; i++) consider(pages[i]!, true);
  const raw = new Uint8Array(data * PAGE_SIZE);
  let at = 0;
  for (const e of entries) {
    if (e & 1) continue;
    const off = (e >>> 1) * PAGE_SIZE;
    raw.set(ram.subarray(off, off + PAGE_SIZE), at);
    at += PAGE_SIZE;
  }
  const packed = deflateSync(raw, { level: DEFLATE_LEVEL });
  const out = new Uint8Array(12 + 4 * entries.length + packed.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, PAGE_SIZE, true);
  view.setUint32(4, entries.length, true);
  for (let i = 0; i < entries.length; i++) view.setUint32(8 + 4 * i, entries[i]!, true);
  view.setUint32(8 + 4 * entries.length, packed.length, true);
  out.set(packed, 12 + 4 * entries.length);
  return out;
}

/** What {@link decodePages} wrote. */
export interface DecodedPages {
  /** Pages written (zero pages included). */
  pages: number;
  /** Of those, pages that were all zero. */
  zeroPages: number;
}

/**
 * Write an encoded page set into `ram`, calling `written(page, zero)` for each page.
 * Everything is checked (SNAPSHOT_CORRUPT) before RAM is touched.
 */
export function decodePages(
  payload: Uint8Array,
  ram: Uint8Array,
  written?: (page: number, zero: boolean) => void,
): DecodedPages {
  const bad = (what: string): SnapshotError =>
    new SnapshotError("SNAPSHOT_CORRUPT", `the snapshot's memory pages are damaged (${what})`);
  if (payload.length < 12) throw bad("too short");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  if (view.getUint32(0, true) !== PAGE_SIZE) throw bad(`page size ${view.getUint32(0, true)}`);
  const count = view.getUint32(4, true);
  if (8 + 4 * count + 4 > payload.length) throw bad("page list runs past the end");
  const total = ram.length / PAGE_SIZE;
  let data = 0;
  for (let i = 0; i < count; i++) {
    const e = view.getUint32(8 + 4 * i, true);
    if (e >>> 1 >= total) {
      throw new SnapshotError(
        "SNAPSHOT_MISMATCH",
        `the snapshot holds guest page ${e >>> 1}, beyond this VM's ${total} pages of RAM; restore it with the memory size it was taken with`,
      );
    }
    if ((e & 1) === 0) data++;
  }
  const packedLength = view.getUint32(8 + 4 * count, true);
  const packedStart = 12 + 4 * count;
  if (packedStart + packedLength !== payload.length) throw bad("deflated length does not match");
  let raw: Uint8Array;
  try {
    raw =
      data === 0
        ? new Uint8Array(0)
        : inflateSync(payload.subarray(packedStart), { out: new Uint8Array(data * PAGE_SIZE) });
  } catch {
    throw bad("the deflate stream does not inflate");
  }
  if (raw.length !== data * PAGE_SIZE) throw bad("inflated size does not match the page list");
  let at = 0;
  let zeroPages = 0;
  for (let i = 0; i < count; i++) {
    const e = view.getUint32(8 + 4 * i, true);
    const off = (e >>> 1) * PAGE_SIZE;
    if (e & 1) {
      ram.fill(0, off, off + PAGE_SIZE);
      zeroPages++;
    } else {
      ram.set(raw.subarray(at, at + PAGE_SIZE), off);
      at += PAGE_SIZE;
    }
    written?.(e >>> 1, (e & 1) === 1);
  }
  return { pages: count, zeroPages };
}
