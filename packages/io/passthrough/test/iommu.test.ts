/**
 * The IOMMU domain and the assigned device's DMA confinement: a guest that
 * programs the device with addresses outside its memory (the VMM's private
 * RAM right above it, below it, past 4 GiB) gets failed requests and IOMMU
 * faults, and the host's memory outside the VM is never written.
 */
import { VirtBoard } from "@hvkit/machine";
import { MemoryDisk } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import { IOMMU_FAULT, IommuDomain, PassthroughBlk, PassthroughError, passthrough } from "../src/index.js";

const MIB = 1024 * 1024;

describe("IommuDomain", () => {
  const host = new Uint8Array(8 * 4096);
  const make = () =>
    new IommuDomain({ hostMemory: host, hostBase: 0x8000_0000, vm: { base: 0x8000_0000, size: 4 * 4096 } });

  it("translates mapped pages and faults on the rest", () => {
    const d = make();
    d.map(0x1000_0000, 0x8000_1000, 2 * 4096);
    expect(d.translate(0x1000_0010, 0, 16)).toBe(0x1010);
    expect(d.translate(0x1000_0ff8, 0, 16)).toBe(0x1ff8); // across two contiguous pages
    expect(d.translate(0x1000_1ff8, 0, 16)).toBe(-1); // into an unmapped page
    expect(d.translate(0x2000_0000, 0, 1)).toBe(-1);
    expect(d.translate(0x1000_0000, 1, 1)).toBe(-1); // above 4 GiB
    expect(d.stats).toEqual({ translations: 2, faults: 3, mappedPages: 2 });
    expect(d.faults().map((f) => f.reason)).toEqual([
      IOMMU_FAULT.UNMAPPED,
      IOMMU_FAULT.UNMAPPED,
      IOMMU_FAULT.RANGE,
    ]);
    // Pages that are neighbours as IOVAs but not in host memory cannot be one DMA range.
    d.map(0x1000_2000, 0x8000_0000, 4096);
    expect(d.translate(0x1000_1ff0, 0, 32)).toBe(-1);
    expect(d.faults().at(-1)!.reason).toBe(IOMMU_FAULT.SPLIT);
    d.unmap(0x1000_0000, 4096);
    expect(d.translate(0x1000_0000, 0, 4)).toBe(-1);
    expect(d.stats.mappedPages).toBe(2);
  });

  it("never maps host memory outside the VM", () => {
    const d = make();
    expect(() => d.map(0, 0x8000_4000, 4096)).toThrow(PassthroughError);
    expect(() => d.map(0, 0x7fff_f000, 8192)).toThrow(/outside the VM's memory/);
    expect(() => d.map(0x10, 0x8000_0000, 4096)).toThrow(/whole pages/);
  });

  it("keeps the last 16 faults", () => {
    const d = make();
    for (let i = 0; i < 20; i++) d.translate(i * 4096, 0, 1);
    expect(d.faults().map((f) => f.iova / 4096)).toEqual(Array.from({ length: 16 }, (_, i) => i + 4));
    expect(d.stats.faults).toBe(20);
  });
});

describe("an assigned device under a hostile guest", () => {
  // virtio-mmio registers and bits the test drives (virtio 1.2, 4.2.2).
  const R = { FEATURES_SEL: 0x14, DRV_FEATURES: 0x20, DRV_SEL: 0x24, QSEL: 0x30, QNUM: 0x38, READY: 0x44 };
  const Q = { NOTIFY: 0x50, STATUS: 0x70, DESC: 0x80, DRIVER: 0x90, DEVICE: 0xa0 };
  const BASE = 0x1000_1000;

  function boardWith(host: PassthroughBlk) {
    const board = new VirtBoard({ ramSize: 16 * MIB, hiddenRamSize: 1 * MIB, virtio: [passthrough(host)] });
    const w = (off: number, v: number) => board.bus.store(BASE + off, 4, v >>> 0, 0);
    const r = (off: number) => {
      board.bus.load(BASE + off, 4);
      return board.bus.dataLo;
    };
    return { board, w, r };
  }

  /** Bring the device up with its queue at guest-physical `ring` (desc; avail +256; used +512). */
  function up(w: (o: number, v: number) => void, ring: number) {
    w(Q.STATUS, 0);
    w(Q.STATUS, 1);
    w(Q.STATUS, 3);
    w(R.DRV_SEL, 1);
    w(R.DRV_FEATURES, 1); // VIRTIO_F_VERSION_1
    w(Q.STATUS, 11);
    w(R.QSEL, 0);
    w(R.QNUM, 4);
    w(Q.DESC, ring);
    w(Q.DRIVER, ring + 256);
    w(Q.DEVICE, ring + 512);
    w(R.READY, 1);
    w(Q.STATUS, 15);
  }

  it("is declared direct and reads as a virtio-blk device", () => {
    const host = new PassthroughBlk({ backend: new MemoryDisk(MIB) });
    const { board, r } = boardWith(host);
    expect(board.directRanges()).toEqual([{ base: BASE, size: 0x1000 }]);
    expect(r(0)).toBe(0x74726976);
    expect(r(8)).toBe(2);
    expect(host.iommu!.stats.mappedPages).toBe((16 * MIB) / 4096);
    expect(() => new VirtBoard({ virtio: [passthrough(host)], ramSize: 16 * MIB })).toThrow(
      /assigned to a VM already/,
    );
  });

  it("refuses rings and buffers outside the VM: IOMMU faults, failed requests, host memory untouched", () => {
    const disk = new MemoryDisk(MIB);
    disk.data.fill(0x5a);
    const host = new PassthroughBlk({ backend: disk });
    const { board, w, r } = boardWith(host);
    const hidden = 0x8000_0000 + 16 * MIB; // the VMM's private RAM, right above the guest's
    board.hiddenRam.fill(0xee);
    // A queue in the VMM's RAM: the device refuses it (NEEDS_RESET) after an IOMMU fault.
    up(w, hidden);
    expect(r(Q.STATUS) & 0x40).toBe(0x40);
    expect(host.iommu!.stats.faults).toBeGreaterThan(0);
    // A queue in guest RAM with a read request whose data buffer points into the VMM's RAM.
    const ring = 0x8010_0000;
    up(w, ring);
    expect(r(Q.STATUS) & 0x40).toBe(0);
    const view = new DataView(board.ram.buffer, board.ram.byteOffset);
    const at = (pa: number) => pa - 0x8000_0000;
    const header = ring + 0x800;
    const status = ring + 0x900;
    view.setUint32(at(header), 0, true); // VIRTIO_BLK_T_IN
    view.setBigUint64(at(header + 8), 0n, true);
    const desc = (i: number, addr: number, len: number, flags: number, next: number) => {
      view.setBigUint64(at(ring + 16 * i), BigInt(addr), true);
      view.setUint32(at(ring + 16 * i + 8), len, true);
      view.setUint16(at(ring + 16 * i + 12), flags, true);
      view.setUint16(at(ring + 16 * i + 14), next, true);
    };
    desc(0, header, 16, 1, 1);
    desc(1, hidden + 0x100, 512, 3, 2); // device-writable, into the VMM's RAM
    desc(2, status, 1, 2, 0);
    view.setUint16(at(ring + 256 + 4), 0, true); // avail.ring[0] = head 0
    view.setUint16(at(ring + 256 + 2), 1, true); // avail.idx = 1
    const before = host.iommu!.stats.faults;
    w(Q.NOTIFY, 0);
    expect(host.iommu!.stats.faults).toBe(before + 1);
    expect(host.iommu!.faults().at(-1)).toMatchObject({ iova: hidden + 0x100, length: 512 });
    expect(board.hiddenRam.every((b) => b === 0xee)).toBe(true);
    // A good request still works after the device is reset.
    desc(1, ring + 0xa00, 512, 3, 2);
    view.setUint16(at(ring + 256 + 2), 0, true);
    view.setUint16(at(ring + 512 + 2), 0, true);
    up(w, ring);
    view.setUint16(at(ring + 256 + 2), 1, true);
    w(Q.NOTIFY, 0);
    expect(board.ram[at(ring + 0xa00)]).toBe(0x5a);
    expect(board.ram[at(status)]).toBe(0);
    expect(host.assigned!.counters()).toMatchObject({ doorbells: 2, "iommu.faults": before + 1 });
    expect(board.hiddenRam.every((b) => b === 0xee)).toBe(true);
  });
});
