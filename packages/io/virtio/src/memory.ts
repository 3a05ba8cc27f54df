/**
 * Guest memory as a device sees it for DMA: the guest's RAM and nothing
 * else. Every address a guest hands the device (ring addresses, descriptor
 * buffers) goes through {@link GuestMemory.range}, which turns a 64-bit guest
 * physical range into an offset into `ram` or refuses it; the device touches
 * RAM only through offsets that passed. Writes are announced with
 * {@link GuestMemory.written} so the hart's decoded code and a strategy's
 * shadows stay coherent.
 */

/** A device's window onto guest RAM. */
export class GuestMemory {
  /** Guest RAM. */
  readonly ram: Uint8Array;
  /** Physical address of ram[0]. */
  readonly base: number;
  /** Bytes of RAM. */
  readonly size: number;
  private readonly view: DataView;
  private readonly onWrite: (pa: number, length: number) => void;

  /**
   * @param ram guest RAM
   * @param base its physical address
   * @param onWrite called after the device wrote [pa, pa+length)
   */
  constructor(ram: Uint8Array, base: number, onWrite: (pa: number, length: number) => void = () => {}) {
    this.ram = ram;
    this.base = base;
    this.size = ram.length;
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.onWrite = onWrite;
  }

  /**
   * The RAM offset of the guest range [hi:lo, +length), or -1 when any byte of
   * it lies outside RAM (the board's physical addresses are below 4 GiB, so a
   * non-zero high word is outside).
   */
  range(lo: number, hi: number, length: number): number {
    if (hi !== 0) return -1;
    const off = (lo >>> 0) - this.base;
    if (off < 0 || length < 0 || off + length > this.size) return -1;
    return off;
  }

  /** Little-endian u16 at RAM offset `off` (checked by the caller). */
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }

  /** Little-endian u32 at RAM offset `off`. */
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  /** Store a little-endian u16 at RAM offset `off` (call {@link written} afterwards). */
  setU16(off: number, value: number): void {
    this.view.setUint16(off, value, true);
  }

  /** Store a little-endian u32 at RAM offset `off`. */
  setU32(off: number, value: number): void {
    this.view.setUint32(off, value >>> 0, true);
  }

  /** The device wrote RAM offsets [off, off+length). */
  written(off: number, length: number): void {
    if (length > 0) this.onWrite(this.base + off, length);
  }
}
