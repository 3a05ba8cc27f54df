/**
 * An emulated block controller driven by programmed I/O, in the manner of a
 * legacy ATA/IDE disk controller (ATA-3's PIO data-in and data-out
 * protocols): the driver writes the sector number, the sector count and a
 * command into registers, then moves every 32-bit word of every sector
 * through one data register, polling a status register or waiting for the
 * completion interrupt. Under a virtualizing strategy each of those register
 * accesses is an MMIO exit: a 512-byte sector costs 128 data-word exits plus
 * the command and status accesses, which is the point of the model (full
 * device emulation, the slowest of the three ways to virtualize I/O).
 *
 * Registers (4-byte accesses at 4-byte aligned offsets; anything else reads
 * 0, ignores writes and counts as a bad access):
 *
 * | offset | name | access | meaning |
 * | --- | --- | --- | --- |
 * | 0x00 | ID | R | {@link PIO_BLK_ID} ("PIOB") |
 * | 0x04 | VERSION | R | 1 |
 * | 0x08, 0x0c | CAPACITY_LO/HI | R | capacity in 512-byte sectors |
 * | 0x10 | FLAGS | R | bit 0: read-only |
 * | 0x14, 0x18 | LBA_LO/HI | RW | first sector of the next command |
 * | 0x1c | COUNT | RW | sectors of the next command, 1..{@link PIO_BLK_MAX_COUNT} |
 * | 0x20 | COMMAND | W | READ 0x20, WRITE 0x30, FLUSH 0xe7, IDENTIFY... (see {@link PIO_CMD}) |
 * | 0x24 | STATUS | R | BSY, DRDY, DF, DRQ, ERR (ATA bit positions); reading it acknowledges the interrupt |
 * | 0x28 | ALT_STATUS | R | STATUS without the acknowledge |
 * | 0x2c | ERROR | R | why ERR is set ({@link PIO_ERR}) |
 * | 0x30 | CONTROL | RW | bit 0 IEN (interrupt enable), bit 2 SRST (reset, self-clearing) |
 * | 0x34 | DATA | RW | the next 32-bit word of the sector buffer (while DRQ) |
 *
 * Interrupts (level, through the PLIC): raised when DRQ rises for a sector
 * of a READ (data ready), when a WRITE or FLUSH completes and when a command
 * fails, if CONTROL.IEN is set; cleared by a STATUS read, a new command or
 * a reset. A read-back of DATA without DRQ, a command while BSY or DRQ, an
 * unknown command, a count of 0 or above the maximum, a range past the
 * capacity, a write to a read-only disk and a failing backend all end in
 * STATUS.ERR with an ERROR code and a counter: never a host exception.
 *
 * Backends are @hvkit/virtio's {@link BlockBackend} (every @hvkit/disk image
 * fits). A synchronous backend completes inside the register access that
 * started the transfer, so runs are deterministic; a backend returning a
 * promise leaves BSY set until it settles.
 */
import type { Device, IrqLine, Stateful } from "@hvkit/machine";
import { NO_IRQ } from "@hvkit/machine";
import type { BlockBackend } from "@hvkit/virtio";
import { IoEmulatedError } from "./errors.js";

/** Size of the register window (it fits one virtio-mmio slot). */
export const PIO_BLK_SIZE = 0x1000;
/** ID register value: "PIOB" little-endian. */
export const PIO_BLK_ID = 0x424f_4950;
/** The register interface's version. */
export const PIO_BLK_VERSION = 1;
/** The devicetree compatible string of the controller. */
export const PIO_BLK_COMPATIBLE = "hvkit,pio-blk";
/** Most sectors one command moves (ATA's 256 for a count of 0; here 0 is refused). */
export const PIO_BLK_MAX_COUNT = 256;
/** Bytes per sector. */
export const SECTOR_SIZE = 512;

/** Register offsets. */
export const PIO_REG = {
  ID: 0x00,
  VERSION: 0x04,
  CAPACITY_LO: 0x08,
  CAPACITY_HI: 0x0c,
  FLAGS: 0x10,
  LBA_LO: 0x14,
  LBA_HI: 0x18,
  COUNT: 0x1c,
  COMMAND: 0x20,
  STATUS: 0x24,
  ALT_STATUS: 0x28,
  ERROR: 0x2c,
  CONTROL: 0x30,
  DATA: 0x34,
} as const;

/** Commands (ATA opcodes where ATA has one). */
export const PIO_CMD = {
  /** READ SECTORS: COUNT sectors from LBA, each offered through DATA. */
  READ: 0x20,
  /** WRITE SECTORS: COUNT sectors to LBA, each taken through DATA. */
  WRITE: 0x30,
  /** FLUSH CACHE: the backend's flush. */
  FLUSH: 0xe7,
} as const;

/** STATUS bits (ATA positions). */
export const PIO_STATUS = {
  ERR: 0x01,
  DRQ: 0x08,
  DF: 0x20,
  DRDY: 0x40,
  BSY: 0x80,
} as const;

/** CONTROL bits. */
export const PIO_CONTROL = {
  /** Interrupt enable (ATA's nIEN, inverted). */
  IEN: 0x01,
  /** Software reset: aborts the command; reads back 0. */
  SRST: 0x04,
} as const;

/** ERROR register codes. */
export const PIO_ERR = {
  NONE: 0,
  /** Unknown command. */
  BAD_COMMAND: 1,
  /** COUNT is 0 or above {@link PIO_BLK_MAX_COUNT}. */
  BAD_COUNT: 2,
  /** LBA + COUNT is past the capacity. */
  OUT_OF_RANGE: 3,
  /** WRITE to a read-only disk. */
  READ_ONLY: 4,
  /** The backend failed the transfer (DF is set too). */
  IO: 5,
  /** A command while BSY or DRQ, or DATA accessed without DRQ or in the wrong direction. */
  PROTOCOL: 6,
} as const;

/** FLAGS bits. */
const FLAG_RO = 1;

const PHASE_IDLE = 0;
const PHASE_READ = 1; // DRQ: the driver reads words out of the buffer
const PHASE_WRITE = 2; // DRQ: the driver writes words into the buffer
const PHASE_BUSY = 3; // an asynchronous backend call is in flight
const PIO_OP_READ = 0;
const PIO_OP_WRITE = 1;
const PIO_OP_FLUSH = 2;

/** Counters of a {@link PioBlk}. */
export interface PioBlkCounters {
  /** Commands accepted. */
  commands: number;
  /** Sectors read from the backend. */
  sectorsRead: number;
  /** Sectors written to the backend. */
  sectorsWritten: number;
  /** Flushes. */
  flushes: number;
  /** DATA register accesses that moved a word. */
  dataWords: number;
  /** Interrupts raised (rising edges). */
  interrupts: number;
  /** Commands that ended in ERR. */
  errors: number;
  /** Protocol violations by the driver (ERROR PROTOCOL). */
  protocolViolations: number;
}

/** Snapshot state of a {@link PioBlk}. */
export interface PioBlkState {
  lba: number;
  count: number;
  status: number;
  error: number;
  control: number;
  phase: number;
  /** Sectors left in the command, including the one in the buffer. */
  left: number;
  /** Next sector the command touches. */
  sector: number;
  /** Word index in the sector buffer. */
  word: number;
  /** The sector buffer, as numbers. */
  buffer: number[];
  pending: boolean;
}

/** Options of {@link PioBlk}. */
export interface PioBlkOptions {
  /** The disk. */
  backend: BlockBackend;
  /** Refuse writes even if the backend accepts them. Default: the backend's `readOnly`. */
  readOnly?: boolean;
}

/** The programmed-I/O block controller: see the file comment. */
export class PioBlk implements Device, Stateful<PioBlkState> {
  name = "pio-blk";
  readonly size = PIO_BLK_SIZE;
  readonly compatible = PIO_BLK_COMPATIBLE;
  badAccesses = 0;
  /** Counters (read them, do not write). */
  readonly stats: PioBlkCounters = {
    commands: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    flushes: 0,
    dataWords: 0,
    interrupts: 0,
    errors: 0,
    protocolViolations: 0,
  };
  /** The disk. */
  readonly backend: BlockBackend;
  /** Writes are refused. */
  readonly readOnly: boolean;

  private irq: IrqLine = NO_IRQ;
  private attached = false;
  private line = false;
  private lba = 0;
  private count = 0;
  private status: number = PIO_STATUS.DRDY;
  private error = 0;
  private control = 0;
  private phase = PHASE_IDLE;
  private left = 0;
  private sector = 0;
  private word = 0;
  /** Bumped by every reset and command, so a late asynchronous completion is dropped. */
  private epoch = 0;
  private readonly buffer = new Uint8Array(SECTOR_SIZE);
  private readonly words = new DataView(this.buffer.buffer);

  constructor(options: PioBlkOptions) {
    const b = options.backend;
    if (
      typeof b !== "object" ||
      b === null ||
      typeof b.read !== "function" ||
      typeof b.write !== "function" ||
      !Number.isSafeInteger(b.sectors) ||
      b.sectors < 0
    ) {
      throw new IoEmulatedError(
        "IO_EMULATED_BAD_CONFIG",
        "pio-blk: backend must be a BlockBackend ({ sectors, read, write }), e.g. an @hvkit/disk image or MemoryDisk",
      );
    }
    this.backend = b;
    this.readOnly = options.readOnly ?? b.readOnly === true;
  }

  /** Connect the interrupt line (once: one controller, one slot). */
  attach(name: string, irq: IrqLine): void {
    if (this.attached) {
      throw new IoEmulatedError(
        "IO_EMULATED_DEVICE_IN_USE",
        `${this.name}: this controller is attached already; create one PioBlk per VM (the backend can be shared in turn)`,
      );
    }
    this.attached = true;
    this.name = name;
    this.irq = irq;
  }

  read(offset: number, size: 1 | 2 | 4 | 8): number {
    if (size !== 4 || (offset & 3) !== 0) {
      this.badAccesses++;
      return 0;
    }
    switch (offset) {
      case PIO_REG.ID:
        return PIO_BLK_ID;
      case PIO_REG.VERSION:
        return PIO_BLK_VERSION;
      case PIO_REG.CAPACITY_LO:
        return this.backend.sectors >>> 0;
      case PIO_REG.CAPACITY_HI:
        return Math.floor(this.backend.sectors / 4294967296) >>> 0;
      case PIO_REG.FLAGS:
        return this.readOnly ? FLAG_RO : 0;
      case PIO_REG.LBA_LO:
        return this.lba >>> 0;
      case PIO_REG.LBA_HI:
        return Math.floor(this.lba / 4294967296) >>> 0;
      case PIO_REG.COUNT:
        return this.count;
      case PIO_REG.STATUS:
        this.setLine(false);
        return this.status;
      case PIO_REG.ALT_STATUS:
        return this.status;
      case PIO_REG.ERROR:
        return this.error;
      case PIO_REG.CONTROL:
        return this.control;
      case PIO_REG.DATA:
        return this.readData();
      default:
        this.badAccesses++;
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4 | 8, lo: number, _hi: number): void {
    if (size !== 4 || (offset & 3) !== 0) {
      this.badAccesses++;
      return;
    }
    switch (offset) {
      case PIO_REG.LBA_LO:
        this.lba = Math.floor(this.lba / 4294967296) * 4294967296 + (lo >>> 0);
        return;
      case PIO_REG.LBA_HI:
        // Sector numbers stay below 2^53 (a 4 EiB disk): the top bits are dropped.
        this.lba = ((lo >>> 0) & 0x1f_ffff) * 4294967296 + (this.lba % 4294967296);
        return;
      case PIO_REG.COUNT:
        this.count = lo >>> 0;
        return;
      case PIO_REG.COMMAND:
        this.command(lo & 0xff);
        return;
      case PIO_REG.CONTROL:
        if ((lo & PIO_CONTROL.SRST) !== 0) {
          this.reset();
          this.control = lo & PIO_CONTROL.IEN;
          return;
        }
        this.control = lo & PIO_CONTROL.IEN;
        this.updateLine();
        return;
      case PIO_REG.DATA:
        this.writeData(lo >>> 0);
        return;
      default:
        this.badAccesses++;
    }
  }

  /** Power-on state: idle, DRDY, interrupts off, the line low. */
  reset(): void {
    this.epoch++;
    this.lba = 0;
    this.count = 0;
    this.status = PIO_STATUS.DRDY;
    this.error = 0;
    this.control = 0;
    this.phase = PHASE_IDLE;
    this.left = 0;
    this.sector = 0;
    this.word = 0;
    this.setLine(false);
  }

  /** Counters for `vm.stats.counters`, which lists them under the device's name ("pio0-blk.dataWords"). */
  counters(): Record<string, number> {
    return { ...this.stats, badAccesses: this.badAccesses };
  }

  // ---- the protocol ----

  private command(cmd: number): void {
    if ((this.status & (PIO_STATUS.BSY | PIO_STATUS.DRQ)) !== 0) {
      // ATA: a command written while BSY or DRQ is indeterminate; here it aborts the transfer.
      this.stats.protocolViolations++;
      this.fail(PIO_ERR.PROTOCOL, false);
      return;
    }
    this.epoch++;
    this.setLine(false);
    this.error = 0;
    this.status = PIO_STATUS.DRDY;
    if (cmd === PIO_CMD.FLUSH) {
      this.stats.commands++;
      this.flush();
      return;
    }
    if (cmd !== PIO_CMD.READ && cmd !== PIO_CMD.WRITE) {
      this.fail(PIO_ERR.BAD_COMMAND, false);
      return;
    }
    const count = this.count;
    if (count === 0 || count > PIO_BLK_MAX_COUNT) {
      this.fail(PIO_ERR.BAD_COUNT, false);
      return;
    }
    if (this.lba + count > this.backend.sectors) {
      this.fail(PIO_ERR.OUT_OF_RANGE, false);
      return;
    }
    if (cmd === PIO_CMD.WRITE && this.readOnly) {
      this.fail(PIO_ERR.READ_ONLY, false);
      return;
    }
    this.stats.commands++;
    this.sector = this.lba;
    this.left = count;
    this.word = 0;
    if (cmd === PIO_CMD.READ) this.load();
    else {
      // PIO data-out: DRQ at once, no interrupt before the first sector (ATA).
      this.phase = PHASE_WRITE;
      this.status = PIO_STATUS.DRDY | PIO_STATUS.DRQ;
    }
  }

  /** Fetch the next sector of a READ into the buffer, then offer it (DRQ and an interrupt). */
  private load(): void {
    this.backendCall(PIO_OP_READ, this.onLoaded);
  }

  /**
   * Call the backend (`op`) and run `then` when it is done: at once for a
   * synchronous backend, when the promise settles otherwise (BSY meanwhile;
   * dropped if a reset or a new command came first). A throw or a rejection
   * is a device fault.
   */
  private backendCall(op: number, then: () => void): void {
    const epoch = this.epoch;
    let r: void | Promise<void>;
    try {
      r =
        op === PIO_OP_READ
          ? this.backend.read(this.sector, 1, this.buffer)
          : op === PIO_OP_WRITE
            ? this.backend.write(this.sector, this.buffer)
            : this.backend.flush?.();
    } catch {
      this.fail(PIO_ERR.IO, true);
      return;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === "function") {
      this.phase = PHASE_BUSY;
      this.status = PIO_STATUS.BSY;
      (r as Promise<void>).then(
        () => {
          if (epoch === this.epoch) then();
        },
        () => {
          if (epoch === this.epoch) this.fail(PIO_ERR.IO, true);
        },
      );
      return;
    }
    then();
  }

  private readonly onLoaded = (): void => this.loaded();
  private readonly onStored = (): void => this.stored();
  private readonly onFlushed = (): void => {
    this.stats.flushes++;
    this.done();
    this.setLine(true);
  };

  private loaded(): void {
    this.stats.sectorsRead++;
    this.sector++;
    this.word = 0;
    this.phase = PHASE_READ;
    this.status = PIO_STATUS.DRDY | PIO_STATUS.DRQ;
    this.setLine(true);
  }

  private readData(): number {
    if (this.phase !== PHASE_READ) {
      this.stats.protocolViolations++;
      if (this.phase === PHASE_WRITE) this.fail(PIO_ERR.PROTOCOL, false);
      return 0;
    }
    this.stats.dataWords++;
    const v = this.words.getUint32(this.word * 4, true);
    if (++this.word === SECTOR_SIZE / 4) {
      this.left--;
      if (this.left > 0) this.load();
      else this.done();
    }
    return v;
  }

  private writeData(v: number): void {
    if (this.phase !== PHASE_WRITE) {
      this.stats.protocolViolations++;
      if (this.phase === PHASE_READ) this.fail(PIO_ERR.PROTOCOL, false);
      return;
    }
    this.stats.dataWords++;
    this.words.setUint32(this.word * 4, v, true);
    if (++this.word < SECTOR_SIZE / 4) return;
    this.backendCall(PIO_OP_WRITE, this.onStored);
  }

  private stored(): void {
    this.stats.sectorsWritten++;
    this.sector++;
    this.word = 0;
    this.left--;
    if (this.left > 0) {
      this.phase = PHASE_WRITE;
      this.status = PIO_STATUS.DRDY | PIO_STATUS.DRQ;
    } else {
      this.done();
      this.setLine(true);
    }
  }

  private flush(): void {
    this.backendCall(PIO_OP_FLUSH, this.onFlushed);
  }

  private done(): void {
    this.phase = PHASE_IDLE;
    this.left = 0;
    this.word = 0;
    this.status = PIO_STATUS.DRDY;
  }

  private fail(code: number, deviceFault: boolean): void {
    this.epoch++;
    this.stats.errors++;
    this.error = code;
    this.phase = PHASE_IDLE;
    this.left = 0;
    this.word = 0;
    this.status = PIO_STATUS.DRDY | PIO_STATUS.ERR | (deviceFault ? PIO_STATUS.DF : 0);
    this.setLine(true);
  }

  /** Drive the interrupt request (gated by CONTROL.IEN at the output). */
  private setLine(pending: boolean): void {
    this.line = pending;
    this.updateLine();
  }

  private output = false;

  private updateLine(): void {
    const out = this.line && (this.control & PIO_CONTROL.IEN) !== 0;
    if (out === this.output) return;
    this.output = out;
    if (out) this.stats.interrupts++;
    this.irq(out);
  }

  // ---- Stateful ----

  getState(): PioBlkState {
    if (this.phase === PHASE_BUSY) {
      throw new IoEmulatedError(
        "IO_EMULATED_BUSY",
        `${this.name}: a backend request is in flight; snapshot when it has completed`,
      );
    }
    return {
      lba: this.lba,
      count: this.count,
      status: this.status,
      error: this.error,
      control: this.control,
      phase: this.phase,
      left: this.left,
      sector: this.sector,
      word: this.word,
      buffer: [...this.buffer],
      pending: this.line,
    };
  }

  setState(state: PioBlkState): void {
    const s = state as Partial<PioBlkState> | null;
    const int = (v: unknown, max: number): v is number =>
      typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= max;
    if (
      typeof s !== "object" ||
      s === null ||
      !int(s.lba, Number.MAX_SAFE_INTEGER) ||
      !int(s.count, 0xffff_ffff) ||
      !int(s.status, 0xff) ||
      !int(s.error, 0xff) ||
      !int(s.control, PIO_CONTROL.IEN) ||
      !int(s.phase, PHASE_WRITE) ||
      !int(s.left, PIO_BLK_MAX_COUNT) ||
      !int(s.sector, Number.MAX_SAFE_INTEGER) ||
      !int(s.word, SECTOR_SIZE / 4 - 1) ||
      !Array.isArray(s.buffer) ||
      s.buffer.length !== SECTOR_SIZE ||
      !s.buffer.every((b) => int(b, 0xff)) ||
      typeof s.pending !== "boolean"
    ) {
      throw new IoEmulatedError(
        "IO_EMULATED_BAD_STATE",
        `${this.name}: invalid snapshot state; pass an object returned by getState()`,
      );
    }
    this.epoch++;
    this.lba = s.lba;
    this.count = s.count;
    this.status = s.status;
    this.error = s.error;
    this.control = s.control;
    this.phase = s.phase;
    this.left = s.left;
    this.sector = s.sector;
    this.word = s.word;
    this.buffer.set(s.buffer);
    this.line = s.pending;
    this.updateLine();
  }
}
