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
}
