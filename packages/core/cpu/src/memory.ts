/**
 * What the hart needs from the machine: RAM as one buffer at a fixed physical
 * base, and a device bus for every other physical address. The hart never
 * knows device addresses; the machine never sees virtual addresses.
 *
 * Physical addresses are unsigned 32-bit numbers: hvkit's boards place RAM
 * (at most 2 GiB, at 0x8000_0000) and all devices below 4 GiB, and any
 * physical address at or above 2^32 is an access fault.
 */

/** Devices behind the hart: called only for physical addresses outside RAM. */
export interface DeviceBus {
  /**
   * Read `size` bytes at physical address `pa`. Return false for an access
   * fault (nothing there); otherwise leave the value in `dataLo`/`dataHi`
   * (zero-extended; `dataHi` only for 8-byte reads).
   */
  load(pa: number, size: 1 | 2 | 4 | 8): boolean;
  /** Write `size` bytes at `pa` (value in lo/hi). Return false for an access fault. */
  store(pa: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): boolean;
  /** Low 32 bits of the last load. */
  dataLo: number;
  /** High 32 bits of the last 8-byte load. */
  dataHi: number;
}

/** A bus with no devices: every non-RAM access faults. */
export class EmptyBus implements DeviceBus {
  dataLo = 0;
  dataHi = 0;
  load(): boolean {
    return false;
  }
  store(): boolean {
    return false;
  }
}

/** Guest physical memory as the hart sees it. */
export interface HartMemory {
  /** Guest RAM; its length is a multiple of 4096 and at most 2 GiB. */
  readonly ram: Uint8Array;
  /** Physical address of ram[0]; page-aligned. */
  readonly ramBase: number;
  /** Devices. */
  readonly bus: DeviceBus;
  /**
   * The WebAssembly memory whose buffer holds `ram` and, at `stateOffset`,
   * {@link HART_STATE_BYTES} for the hart's own state (registers, TLBs), so
   * that translated code compiled to WebAssembly works on both directly
   * ({@link allocateGuestMemory} makes one). Without it the translator
   * generates JavaScript.
   */
  readonly arena?: WasmArena;
}

/** A WebAssembly memory shared by guest RAM and a hart's state (see {@link HartMemory.arena}). */
export interface WasmArena {
  /** A `WebAssembly.Memory` that never grows (growing would detach the views over it). */
  readonly memory: { readonly buffer: ArrayBuffer };
  /**
   * Byte offset of the hart's state in the memory: a multiple of 8, clear of
   * RAM, with {@link arenaStateBytes} bytes for a RAM of its size.
   */
  readonly stateOffset: number;
}

/** Bytes of hart state (registers, translated code's exit words, TLBs, the jump cache) at the start of the state area. */
export const HART_STATE_BYTES = 262144;

/**
 * Function-table slots for translated blocks in a WebAssembly arena: a block
 * map entry holds a slot in 16 bits, and slot 0 is never used (0 in a map is
 * no block).
 */
export const ARENA_BLOCK_SLOTS = 65535;

/**
 * Pages whose translated blocks other translated code can chain to directly
 * (block maps, 4 KiB each: 4 MiB). A page without one is reached through
 * the hart's dispatcher. Debian's boot ends with 147 pages translated.
 */
export const ARENA_BLOCK_MAPS = 1024;

/** Bytes of one block map: a 16-bit entry per 2-byte offset of a page. */
export const BLOCK_MAP_BYTES = 4096;

/**
 * Bytes of a hart's state area in a {@link WasmArena} for `ramBytes` of RAM:
 * the state ({@link HART_STATE_BYTES}), the translator's block maps
 * ({@link ARENA_BLOCK_MAPS}: for each translated page, the function-table
 * slot of the block at each offset), then its directory (8
 * bytes per RAM page: the context and the block map of the page's
 * translated code), for chaining between regions.
 */
export function arenaStateBytes(ramBytes: number): number {
  return HART_STATE_BYTES + ARENA_BLOCK_MAPS * BLOCK_MAP_BYTES + (ramBytes >>> 12) * 8;
}

/** The part of the WebAssembly JavaScript API used here (no DOM types in isomorphic builds). */
interface WasmMemoryApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
}

/**
 * `size` bytes of zeroed guest memory (RAM plus any VMM-private RAM after it,
 * a multiple of 4096). Where the runtime has WebAssembly it lives in a
 * `WebAssembly.Memory` of fixed size, after room for one hart's state area
 * at offset 0, returned as the `arena` to give the hart; elsewhere in a
 * plain buffer. (So `ram.byteOffset` is not 0: views over `ram.buffer` take
 * it into account.)
 */
export function allocateGuestMemory(size: number): { ram: Uint8Array; arena?: WasmArena } {
  const api = (globalThis as { WebAssembly?: WasmMemoryApi }).WebAssembly;
  if (api !== undefined && size > 0 && size % 4096 === 0) {
    const pages = Math.ceil((size + arenaStateBytes(size)) / 65536);
    // At most 4 GiB (a 32-bit WebAssembly memory); hvkit's RAM is at most 2 GiB.
    if (pages <= 65536) {
      try {
        const memory = new api.Memory({ initial: pages, maximum: pages });
        // The state first: translated code then names registers, TLBs and jit words by small
        // constant offsets (one- to three-byte LEB128 immediates rather than five).
        const ramOffset = pages * 65536 - size;
        return { ram: new Uint8Array(memory.buffer, ramOffset, size), arena: { memory, stateOffset: 0 } };
      } catch {
        // The runtime could not reserve it: plain memory (the translator then generates JavaScript).
      }
    }
  }
  return { ram: new Uint8Array(size) };
}
