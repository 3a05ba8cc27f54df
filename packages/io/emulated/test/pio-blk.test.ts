/**
 * The programmed-I/O block controller driven register by register, as the
 * hvkit kernel's pio_blk.c drives it, plus everything a driver can get
 * wrong (each a STATUS.ERR with an ERROR code, never an exception).
 */
import { VirtBoard } from "@hvkit/machine";
import { MemoryDisk } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import {
  IoEmulatedError,
  PIO_BLK_ID,
  PIO_CMD,
  PIO_CONTROL,
  PIO_ERR,
  PIO_REG,
  PIO_STATUS,
  PioBlk,
  pioBlk,
} from "../src/index.js";

function setup(sectors = 64, readOnly = false) {
  const disk = new MemoryDisk(sectors * 512, { readOnly });
  const levels: boolean[] = [];
  const dev = new PioBlk({ backend: disk });
  dev.attach("pio0-blk", (l) => levels.push(l));
  const rd = (off: number) => dev.read(off, 4);
  const wr = (off: number, v: number) => dev.write(off, 4, v, 0);
  const command = (cmd: number, lba: number, count: number) => {
    wr(PIO_REG.LBA_LO, lba);
    wr(PIO_REG.LBA_HI, 0);
    wr(PIO_REG.COUNT, count);
    wr(PIO_REG.COMMAND, cmd);
  };
  return { disk, dev, rd, wr, command, levels };
}

describe("PioBlk", () => {
  it("identifies itself and its capacity", () => {
    const { rd } = setup(3 * 2 ** 20);
    expect(rd(PIO_REG.ID)).toBe(PIO_BLK_ID);
    expect(rd(PIO_REG.VERSION)).toBe(1);
    expect(rd(PIO_REG.CAPACITY_LO)).toBe(3 * 2 ** 20);
    expect(rd(PIO_REG.CAPACITY_HI)).toBe(0);
    expect(rd(PIO_REG.STATUS)).toBe(PIO_STATUS.DRDY);
  });

  it("writes two sectors word by word and reads them back, one data access per word", () => {
    const { disk, dev, rd, wr, command } = setup();
    command(PIO_CMD.WRITE, 5, 2);
    expect(rd(PIO_REG.STATUS)).toBe(PIO_STATUS.DRDY | PIO_STATUS.DRQ);
    for (let i = 0; i < 256; i++) wr(PIO_REG.DATA, (0x01020304 * (i + 1)) >>> 0);
    expect(rd(PIO_REG.STATUS)).toBe(PIO_STATUS.DRDY);
    const view = new DataView(disk.data.buffer);
    expect(view.getUint32(5 * 512, true)).toBe(0x01020304);
    expect(view.getUint32(6 * 512 + 127 * 4, true)).toBe((0x01020304 * 256) >>> 0);
    command(PIO_CMD.READ, 5, 2);
    const words: number[] = [];
    for (let s = 0; s < 2; s++) {
      expect(rd(PIO_REG.STATUS) & PIO_STATUS.DRQ).toBe(PIO_STATUS.DRQ);
      for (let i = 0; i < 128; i++) words.push(rd(PIO_REG.DATA));
    }
    expect(words).toEqual(Array.from({ length: 256 }, (_, i) => (0x01020304 * (i + 1)) >>> 0));
    expect(rd(PIO_REG.STATUS)).toBe(PIO_STATUS.DRDY);
    expect(dev.stats).toMatchObject({
      commands: 2,
      sectorsRead: 2,
      sectorsWritten: 2,
      dataWords: 512,
      errors: 0,
    });
  });

  it("interrupts through its line when enabled: data ready, completion; a STATUS read acknowledges", () => {
    const { dev, rd, wr, command, levels } = setup();
    command(PIO_CMD.READ, 0, 1);
    expect(levels).toEqual([]); // IEN clear: the request stays internal
    for (let i = 0; i < 128; i++) rd(PIO_REG.DATA);
    rd(PIO_REG.STATUS); // acknowledge, or enabling IEN would deliver the request still pending
    wr(PIO_REG.CONTROL, PIO_CONTROL.IEN);
    command(PIO_CMD.READ, 0, 1);
    expect(levels).toEqual([true]);
    rd(PIO_REG.ALT_STATUS);
    expect(levels).toEqual([true]);
    rd(PIO_REG.STATUS);
    expect(levels).toEqual([true, false]);
    for (let i = 0; i < 128; i++) rd(PIO_REG.DATA);
    command(PIO_CMD.WRITE, 1, 1);
    expect(levels).toEqual([true, false]); // no interrupt before the data of a write
    for (let i = 0; i < 128; i++) wr(PIO_REG.DATA, i);
    expect(levels).toEqual([true, false, true]);
    rd(PIO_REG.STATUS);
    command(PIO_CMD.FLUSH, 0, 0);
    expect(levels.at(-1)).toBe(true);
    expect(dev.stats.interrupts).toBe(3);
    expect(dev.stats.flushes).toBe(1);
  });

  it("answers every driver mistake with ERR and an ERROR code", () => {
    const { dev, rd, wr, command } = setup(16, true);
    const err = () => [rd(PIO_REG.STATUS) & PIO_STATUS.ERR, rd(PIO_REG.ERROR)];
    command(0x99, 0, 1);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.BAD_COMMAND]);
    command(PIO_CMD.READ, 0, 0);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.BAD_COUNT]);
    command(PIO_CMD.READ, 0, 257);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.BAD_COUNT]);
    command(PIO_CMD.READ, 15, 2);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.OUT_OF_RANGE]);
    wr(PIO_REG.LBA_HI, 0xffff_ffff);
    wr(PIO_REG.COUNT, 1);
    wr(PIO_REG.COMMAND, PIO_CMD.READ);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.OUT_OF_RANGE]);
    command(PIO_CMD.WRITE, 0, 1);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.READ_ONLY]);
    // Data without a command: ignored and counted; a command in mid-transfer aborts it.
    expect(rd(PIO_REG.DATA)).toBe(0);
    wr(PIO_REG.DATA, 1);
    command(PIO_CMD.READ, 0, 2);
    command(PIO_CMD.READ, 0, 1);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.PROTOCOL]);
    // Writing DATA while a read offers data aborts too.
    command(PIO_CMD.READ, 0, 1);
    wr(PIO_REG.DATA, 1);
    expect(err()).toEqual([PIO_STATUS.ERR, PIO_ERR.PROTOCOL]);
    // Wrong sizes and holes.
    expect(dev.read(PIO_REG.STATUS, 1)).toBe(0);
    dev.write(PIO_REG.DATA + 2, 4, 0, 0);
    expect(dev.read(0x800, 4)).toBe(0);
    expect(dev.badAccesses).toBe(3);
    expect(dev.stats.protocolViolations).toBe(4);
    // A fresh command works after all that.
    command(PIO_CMD.READ, 0, 1);
    expect(rd(PIO_REG.STATUS)).toBe(PIO_STATUS.DRDY | PIO_STATUS.DRQ);
  });

  it("reports a failing backend as a device fault", () => {
    const backend = {
      sectors: 8,
      read() {
        throw new Error("media error");
      },
      write() {},
    };
    const dev = new PioBlk({ backend });
    dev.write(PIO_REG.COUNT, 4, 1, 0);
    dev.write(PIO_REG.COMMAND, 4, PIO_CMD.READ, 0);
    expect(dev.read(PIO_REG.STATUS, 4)).toBe(PIO_STATUS.DRDY | PIO_STATUS.DF | PIO_STATUS.ERR);
    expect(dev.read(PIO_REG.ERROR, 4)).toBe(PIO_ERR.IO);
  });

  it("stays BSY while an asynchronous backend works, then offers the data", async () => {
    const disk = new MemoryDisk(8 * 512);
    disk.data[512] = 0xab;
    const backend = {
      sectors: 8,
      read: (s: number, c: number, into: Uint8Array) => Promise.resolve().then(() => disk.read(s, c, into)),
      write: (s: number, d: Uint8Array) => disk.write(s, d),
    };
    const dev = new PioBlk({ backend });
    dev.write(PIO_REG.LBA_LO, 4, 1, 0);
    dev.write(PIO_REG.COUNT, 4, 1, 0);
    dev.write(PIO_REG.COMMAND, 4, PIO_CMD.READ, 0);
    expect(dev.read(PIO_REG.STATUS, 4)).toBe(PIO_STATUS.BSY);
    expect(() => dev.getState()).toThrow(IoEmulatedError);
    await Promise.resolve();
    await Promise.resolve();
    expect(dev.read(PIO_REG.STATUS, 4)).toBe(PIO_STATUS.DRDY | PIO_STATUS.DRQ);
    expect(dev.read(PIO_REG.DATA, 4)).toBe(0xab);
  });

  it("snapshots mid-transfer and resumes in another controller", () => {
    const a = setup();
    a.command(PIO_CMD.WRITE, 2, 1);
    for (let i = 0; i < 50; i++) a.wr(PIO_REG.DATA, i);
    const state = JSON.parse(JSON.stringify(a.dev.getState()));
    const b = new PioBlk({ backend: a.disk });
    b.setState(state);
    for (let i = 50; i < 128; i++) b.write(PIO_REG.DATA, 4, i, 0);
    expect(new DataView(a.disk.data.buffer).getUint32(2 * 512 + 127 * 4, true)).toBe(127);
    expect(() => b.setState({ ...state, word: 500 })).toThrow(/invalid snapshot state/);
  });

  it("sits in a board slot, described in the devicetree as hvkit,pio-blk", () => {
    const board = new VirtBoard({
      ramSize: 16 * 1024 * 1024,
      virtio: [undefined as never, pioBlk({ backend: new MemoryDisk(4096) })],
    });
    const dtb = new TextDecoder("latin1").decode(board.devicetree());
    expect(dtb).toContain("pio-blk@10002000");
    expect(dtb).toContain("hvkit,pio-blk");
    expect(board.bus.load(0x1000_2000 + PIO_REG.ID, 4)).toBe(true);
    expect(board.bus.dataLo).toBe(PIO_BLK_ID);
    // Completion through the PLIC: slot 1 is source 2; its pending bit follows the controller's line.
    const pending = () => {
      board.bus.load(0x0c00_1000, 4);
      return board.bus.dataLo;
    };
    const store = (off: number, v: number) => board.bus.store(0x1000_2000 + off, 4, v, 0);
    store(PIO_REG.CONTROL, PIO_CONTROL.IEN);
    store(PIO_REG.COUNT, 1);
    store(PIO_REG.COMMAND, PIO_CMD.FLUSH);
    expect(pending() & (1 << 2)).toBe(1 << 2);
    expect(() => new PioBlk({ backend: {} as never })).toThrow(IoEmulatedError);
    const dev = new PioBlk({ backend: new MemoryDisk(512) });
    const factory = pioBlk(dev);
    new VirtBoard({ ramSize: 16 * 1024 * 1024, virtio: [factory] });
    expect(() => new VirtBoard({ ramSize: 16 * 1024 * 1024, virtio: [factory] })).toThrow(/attached already/);
  });
});

describe("PioBlk under a hostile driver", () => {
  it("random register traffic never throws, never reaches the disk out of range, and a reset brings it back", () => {
    let s = 0x9e3779b9;
    const rand = (): number => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 4294967296;
    };
    const sectors = 32;
    const disk = new MemoryDisk(sectors * 512);
    const seen: number[] = [];
    const backend = {
      sectors,
      read: (sector: number, count: number, into: Uint8Array) => {
        seen.push(sector + count);
        disk.read(sector, count, into);
      },
      write: (sector: number, data: Uint8Array) => {
        seen.push(sector + data.length / 512);
        disk.write(sector, data);
      },
      flush: () => {},
    };
    const dev = new PioBlk({ backend });
    let line = false;
    dev.attach("pio0-blk", (l) => {
      line = l;
    });
    const offsets = Object.values(PIO_REG);
    const sizes = [1, 2, 4, 4, 4, 8] as const;
    for (let i = 0; i < 20_000; i++) {
      const off = rand() < 0.9 ? offsets[Math.floor(rand() * offsets.length)]! : Math.floor(rand() * 0x1000);
      const size = sizes[Math.floor(rand() * sizes.length)]!;
      const r = rand();
      const value =
        r < 0.3
          ? Math.floor(rand() * 40)
          : r < 0.5
            ? [PIO_CMD.READ, PIO_CMD.WRITE, PIO_CMD.FLUSH][Math.floor(rand() * 3)]!
            : Math.floor(rand() * 2 ** 32);
      if (rand() < 0.5) dev.read(off, size);
      else dev.write(off, size, value, Math.floor(rand() * 2 ** 32));
      const status = dev.read(PIO_REG.ALT_STATUS, 4);
      expect(status & ~0xe9).toBe(0); // only BSY, DRDY, DF, DRQ, ERR
    }
    expect(Math.max(...seen)).toBeLessThanOrEqual(sectors);
    expect(dev.stats.commands + dev.stats.errors).toBeGreaterThan(100);
    expect(dev.badAccesses).toBeGreaterThan(100);
    dev.write(PIO_REG.CONTROL, 4, PIO_CONTROL.SRST, 0);
    expect(line).toBe(false);
    expect(dev.read(PIO_REG.STATUS, 4)).toBe(PIO_STATUS.DRDY);
    dev.write(PIO_REG.LBA_LO, 4, 3, 0);
    dev.write(PIO_REG.LBA_HI, 4, 0, 0);
    dev.write(PIO_REG.COUNT, 4, 1, 0);
    dev.write(PIO_REG.COMMAND, 4, PIO_CMD.READ, 0);
    expect(dev.read(PIO_REG.STATUS, 4)).toBe(PIO_STATUS.DRDY | PIO_STATUS.DRQ);
    const view = new DataView(disk.data.buffer);
    expect(dev.read(PIO_REG.DATA, 4)).toBe(view.getUint32(3 * 512, true));
  });
});
