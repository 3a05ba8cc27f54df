/**
 * The hart's state block: the registers, the words translated code leaves
 * for the dispatcher and the TLB arrays, at fixed byte offsets. The hart
 * keeps it in the WebAssembly memory that holds guest RAM when there is one
 * (a {@link WasmArena}), so translated code compiled to WebAssembly reads and
 * writes the same registers and TLBs as the interpreter, with no copies.
 */

/** x0-x31 as (lo, hi) Int32 pairs, then the sink pair that writes to x0 go to (66 words). */
export const ST_X = 0;
/** The jit words (an Int32Array of {@link JW_SIZE}): see the JW_ slots. */
export const ST_JW = 272;
/** Nine Int32Arrays of TLB entries each: itag, itagHi, ioff, rtag, rtagHi, roff, wtag, wtagHi, woff. */
export const ST_TLB = 320;

/** Jit word: where translated code left the pc (low, high word), when {@link JW_PC_KIND} is 0. */
export const JW_PC_LO = 0;
export const JW_PC_HI = 1;
/**
 * Jit word: how translated code left: 0 a control transfer, pc in JW_PC_LO/HI
 * (the dispatcher may chain to the region of the target); 1 the pc is in the
 * hart already (a slow path, a callout: back to the hart's dispatcher); 2 pc
 * in JW_PC_LO/HI, back to the hart's dispatcher (no block there, the budget,
 * a resync); 3 as 2, and the translations of RAM page {@link JW_STALE_PAGE}
 * are stale (an instruction straddling its end found another upper half on
 * the next page than it was translated with).
 */
export const JW_PC_KIND = 2;
/** Jit word: the LR reservation, a RAM offset (-1: none). */
export const JW_RESV = 3;
/** Jit words: blocks executed by translated code (a 64-bit count, low and high word). */
export const JW_BLOCKS_LO = 4;
export const JW_BLOCKS_HI = 5;
/** Jit word: the RAM page of a stale translation (exit kind 3, see {@link JW_PC_KIND}). */
export const JW_STALE_PAGE = 6;
/**
 * Jit word: the first TLB entry of the data set of the run translated code
 * is in (the hart's dBase; the dispatcher's loop sets it at entry).
 */
export const JW_DBASE = 7;
/** Jit words in all. */
export const JW_SIZE = 8;

/**
 * Entries per TLB set, direct-mapped by virtual page number: 1024 x 4 KiB
 * covers 4 MiB per mode. Measured on Debian's boot (page-table walks, the
 * TLB misses): 256 entries 789 K under emulation and 1.30 M under binary
 * translation, 1024 entries 254 K and 770 K; a full flush (4 K of them under
 * binary translation) clears 3 x 6 K entries.
 */
export const TLB_SET_BITS = 10;
export const TLB_SET_ENTRIES = 1 << TLB_SET_BITS;

/** The TLB arrays, in their order in the state block. */
export const TLB_ARRAYS = [
  "itag",
  "itagHi",
  "ioff",
  "rtag",
  "rtagHi",
  "roff",
  "wtag",
  "wtagHi",
  "woff",
] as const;

/** Byte offset of TLB array `k` (its index in {@link TLB_ARRAYS}) for `entries` entries per array. */
export function tlbOffset(k: number, entries: number): number {
  return ST_TLB + k * entries * 4;
}

/**
 * The jump cache of translated code (WebAssembly), after the TLB arrays:
 * {@link JC_ENTRIES} entries of 16 bytes, direct-mapped by pc, each a
 * target pc (64-bit), the physical page offset of its fetch TLB entry or'ed
 * with the context + 1, and the table slot of the block there (0: empty).
 * The chain looks a target up here after its fetch TLB check, instead of in
 * the directory and the page's block map (two dependent loads that miss
 * the cache). An entry holds while the fetch TLB maps the pc to the same
 * physical page, so only a change of translations empties the cache (see
 * the translator's retire).
 */
export const JC_ENTRIES = 2048;
export const JC_ENTRY_BYTES = 16;

/** Byte offset of the jump cache in the state block for `entries` TLB entries per array. */
export function jumpCacheOffset(entries: number): number {
  return (tlbOffset(TLB_ARRAYS.length, entries) + 15) & ~15;
}

/** Bytes of the state block for `entries` TLB entries per array. */
export function stateBytes(entries: number): number {
  return jumpCacheOffset(entries) + JC_ENTRIES * JC_ENTRY_BYTES;
}
