/**
 * The physical address space outside RAM: devices mapped at fixed bases.
 *
 * Lookup is a binary search over at most a few dozen sorted ranges, after a
 * check of the last device hit (a guest polling one register hits the same
 * device again and again). Nothing here allocates or throws once mapping is
 * done; a guest's access to a hole is an access fault (load/store return
 * false) plus a counter.
 */
import type { DeviceBus } from "@hvkit/cpu";
import type { AccessSize, Device } from "./device.js";
import { hex, MachineError } from "./errors.js";

const FOUR_GIB = 2 ** 32;

/** One mapped device and its access counts (for `Bus.mappings()`). */
export interface BusMapping {
  /** Physical base address. */
  readonly base: number;
  /** The device. */
  readonly device: Device;
  /** Guest reads that reached the device (an 8-byte read split in two counts once). */
  readonly reads: number;
  /** Guest writes that reached the device. */
  readonly writes: number;
}

/** The device bus of a board: implements the hart's {@link DeviceBus}. */
export class Bus implements DeviceBus {
  /** Low 32 bits of the last load. */
  dataLo = 0;
  /** High 32 bits of the last 8-byte load. */
  dataHi = 0;
  /** Loads that hit no device (each raised a load access fault). */
  unmappedReads = 0;
  /** Stores that hit no device (each raised a store access fault). */
  unmappedWrites = 0;

  // Sorted by base. Parallel arrays keep the lookup free of object shapes.
  private bases: number[] = [];
  private ends: number[] = [];
  private devices: Device[] = [];
  private reads: number[] = [];
  private writes: number[] = [];
  private last = -1;

  /**
   * Map `device` at physical address `base`. Throws `MACHINE_BUS_RANGE` for an
   * empty or out-of-4-GiB range and `MACHINE_BUS_OVERLAP` for a range that
   * overlaps a mapped device.
   */
  map(base: number, device: Device): void {
    const size = device.size;
    if (!Number.isInteger(base) || base < 0 || !Number.isInteger(size) || size <= 0) {
      throw new MachineError(
        "MACHINE_BUS_RANGE",
        `cannot map ${device.name} at ${base} with size ${size}: base and size must be whole numbers and the size positive`,
      );
    }
    if (base + size > FOUR_GIB) {
      throw new MachineError(
        "MACHINE_BUS_RANGE",
        `cannot map ${device.name} at ${hex(base)}..${hex(base + size)}: physical addresses end at 4 GiB (0x100000000); choose a lower base`,
      );
    }
    const end = base + size;
    for (let i = 0; i < this.bases.length; i++) {
      if (base < this.ends[i]! && this.bases[i]! < end) {
        throw new MachineError(
          "MACHINE_BUS_OVERLAP",
          `cannot map ${device.name} at ${hex(base)}..${hex(end)}: it overlaps ${this.devices[i]!.name} at ${hex(this.bases[i]!)}..${hex(this.ends[i]!)}; move one of them`,
        );
      }
    }
    let at = 0;
    while (at < this.bases.length && this.bases[at]! < base) at++;
    this.bases.splice(at, 0, base);
    this.ends.splice(at, 0, end);
    this.devices.splice(at, 0, device);
    this.reads.splice(at, 0, 0);
    this.writes.splice(at, 0, 0);
    this.last = -1;
  }

  /** Remove a mapped device (hot-unplug); returns false if it was not mapped. */
  unmap(device: Device): boolean {
    const i = this.devices.indexOf(device);
    if (i < 0) return false;
    this.bases.splice(i, 1);
    this.ends.splice(i, 1);
    this.devices.splice(i, 1);
    this.reads.splice(i, 1);
    this.writes.splice(i, 1);
    this.last = -1;
    return true;
  }

  /** The device mapped at `pa` and its base, or undefined (for tools, not hot paths). */
  find(pa: number): { base: number; device: Device } | undefined {
    const i = this.indexOf(pa);
    return i < 0 ? undefined : { base: this.bases[i]!, device: this.devices[i]! };
  }

  /** Every mapping in address order, with its access counts (a copy). */
  mappings(): BusMapping[] {
    return this.devices.map((device, i) => ({
      base: this.bases[i]!,
      device,
      reads: this.reads[i]!,
      writes: this.writes[i]!,
    }));
  }

  /** Index of the mapping holding `pa`, or -1. */
  private indexOf(pa: number): number {
    const last = this.last;
    if (last >= 0 && pa >= this.bases[last]! && pa < this.ends[last]!) return last;
    const bases = this.bases;
    let lo = 0;
    let hi = bases.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bases[mid]! <= pa) lo = mid + 1;
      else hi = mid - 1;
    }
    // hi: the last mapping with base <= pa.
    if (hi >= 0 && pa < this.ends[hi]!) {
      this.last = hi;
      return hi;
    }
    return -1;
  }

  /** A guest load: false (an access fault) for a hole; otherwise the value is in dataLo/dataHi. */
  load(pa: number, size: AccessSize): boolean {
    const i = this.indexOf(pa);
    if (i < 0 || pa + size > this.ends[i]!) {
      this.unmappedReads++;
      return false;
    }
    const dev = this.devices[i]!;
    const off = pa - this.bases[i]!;
    this.reads[i]!++;
    if (size === 8) {
      if (dev.wide === true) {
        this.dataLo = dev.read(off, 8) >>> 0;
        this.dataHi = (dev.readHi ?? 0) >>> 0;
      } else {
        this.dataLo = dev.read(off, 4) >>> 0;
        this.dataHi = dev.read(off + 4, 4) >>> 0;
      }
      return true;
    }
    const v = dev.read(off, size);
    this.dataLo = size === 4 ? v >>> 0 : size === 2 ? v & 0xffff : v & 0xff;
    this.dataHi = 0;
    return true;
  }

  /** A guest store: false (an access fault) for a hole. */
  store(pa: number, size: AccessSize, lo: number, hi: number): boolean {
    const i = this.indexOf(pa);
    if (i < 0 || pa + size > this.ends[i]!) {
      this.unmappedWrites++;
      return false;
    }
    const dev = this.devices[i]!;
    const off = pa - this.bases[i]!;
    this.writes[i]!++;
    if (size === 8 && dev.wide !== true) {
      dev.write(off, 4, lo >>> 0, 0);
      dev.write(off + 4, 4, hi >>> 0, 0);
      return true;
    }
    const v = size === 4 || size === 8 ? lo >>> 0 : size === 2 ? lo & 0xffff : lo & 0xff;
    dev.write(off, size, v, size === 8 ? hi >>> 0 : 0);
    return true;
  }
}
