/**
 * An empty virtio-mmio slot: the transport header with DeviceID 0 (virtio
 * 1.2, 4.2.2: "a device ID of 0 ... indicates a device with no function"),
 * so a driver probes it and moves on, as on QEMU's virt board. 4-byte
 * accesses are registers: MagicValue, Version 2 and VendorID read back, every
 * other register reads 0, writes are ignored. Other sizes are bad accesses.
 */
import type { Device, Stateful } from "../device.js";

/** Size of one virtio-mmio slot. */
export const VIRTIO_MMIO_SIZE = 0x1000;
/** MagicValue: "virt" little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** Version of the (non-legacy) virtio-mmio transport. */
export const VIRTIO_MMIO_VERSION = 2;
/** hvkit's VendorID: "hvkt" little-endian. */
export const VIRTIO_VENDOR_ID = 0x746b7668;

/** An empty slot. Stateless: its state is an empty object. */
export class VirtioMmioEmpty implements Device, Stateful<Record<string, never>> {
  readonly name: string;
  readonly size = VIRTIO_MMIO_SIZE;
  badAccesses = 0;

  constructor(name = "virtio-empty") {
    this.name = name;
  }

  read(offset: number, size: 1 | 2 | 4 | 8): number {
    if (size !== 4) {
      this.badAccesses++;
      return 0;
    }
    switch (offset) {
      case 0x000:
        return VIRTIO_MMIO_MAGIC;
      case 0x004:
        return VIRTIO_MMIO_VERSION;
      case 0x00c:
        return VIRTIO_VENDOR_ID;
      default:
        return 0; // DeviceID (0x008) and everything else
    }
  }

  write(_offset: number, size: 1 | 2 | 4 | 8, _lo: number, _hi: number): void {
    if (size !== 4) this.badAccesses++;
  }

  getState(): Record<string, never> {
    return {};
  }

  setState(): void {}
}
