/**
 * CLINT (SiFive core-local interruptor; the ACLINT MSWI + MTIMER layout) for
 * one hart: msip at 0x0, mtimecmp at 0x4000, mtime at 0xBFF8 — the register
 * map OpenSBI's `sifive,clint0` driver and QEMU's virt board use.
 *
 * mtime is the hart's deterministic time (ticks derived from steps executed),
 * so the time CSR and mtime always agree; a guest write to mtime moves the
 * hart's time by the difference (QEMU keeps the same delta for both). MTIP is
 * the level `mtime >= mtimecmp`: re-evaluated on every mtimecmp or mtime write
 * and whenever the board calls {@link Clint.update} (before each run slice,
 * whose length it caps with {@link Clint.stepsUntilNextEvent}).
 *
 * Accesses are 4 bytes, or 8 bytes for mtimecmp and mtime (RV64 firmware uses
 * one 64-bit access); anything else is a bad access: reads 0, writes ignored.
 */
import type { Device, IrqLine, Stateful } from "../device.js";
import { NO_IRQ } from "../device.js";
import { int, record } from "./state.js";

/** The hart's clock as the CLINT needs it (a `Hart` satisfies this). */
export interface ClintClock {
  /** Current time in ticks. */
  time(): number;
  /** Steps executed before the current run slice. */
  readonly cycles: number;
  /** Steps executed in the current run slice (time is read mid-run by MMIO). */
  readonly stepsInRun: number;
  /** Steps per tick. */
  readonly stepsPerTick: number;
  /** Move time by `ticks` (negative for a backwards mtime write). */
  skipTime(ticks: number): void;
}

/** Observability hooks (no-ops by default). */
export interface ClintEvents {
  /** MTIP changed level. */
  mtip?(level: boolean): void;
  /** MSIP changed level. */
  msip?(level: boolean): void;
}

/** Options of {@link Clint}. */
export interface ClintOptions {
  /** The hart's clock. */
  clock: ClintClock;
  /** Machine software interrupt line of hart 0. */
  msip?: IrqLine;
  /** Machine timer interrupt line of hart 0. */
  mtip?: IrqLine;
  /** Observability hooks. */
  events?: ClintEvents;
}

/** Snapshot state of the CLINT (mtime itself lives in the hart's time). */
export interface ClintState {
  msip: number;
  mtimecmpLo: number;
  mtimecmpHi: number;
}

/** Size of the CLINT window. */
export const CLINT_SIZE = 0x10000;
/** Offset of hart 0's msip. */
export const CLINT_MSIP = 0x0;
/** Offset of hart 0's mtimecmp. */
export const CLINT_MTIMECMP = 0x4000;
/** Offset of mtime. */
export const CLINT_MTIME = 0xbff8;

const TWO32 = 4294967296;
const NONE: ClintEvents = {};

/** The CLINT of a one-hart board. */
export class Clint implements Device, Stateful<ClintState> {
  readonly name = "clint";
  readonly size = CLINT_SIZE;
  readonly wide = true;
  readHi = 0;
  badAccesses = 0;
  /** Rising edges of MTIP. */
  timerInterrupts = 0;
  /** Rising edges of MSIP. */
  softwareInterrupts = 0;

  private readonly clock: ClintClock;
  private readonly msipLine: IrqLine;
  private readonly mtipLine: IrqLine;
  private readonly events: ClintEvents;
  private msip = 0;
  // mtimecmp resets to all ones (the spec leaves it unspecified): no timer
  // interrupt until software programs one.
  private cmpLo = 0xffffffff;
  private cmpHi = 0xffffffff;
  private mtipLevel = false;

  constructor(options: ClintOptions) {
    this.clock = options.clock;
    this.msipLine = options.msip ?? NO_IRQ;
    this.mtipLine = options.mtip ?? NO_IRQ;
    this.events = options.events ?? NONE;
  }

  /** mtimecmp as a number (exact below 2^53; larger values only compare). */
  get mtimecmp(): number {
    return this.cmpHi * TWO32 + this.cmpLo;
  }

  /** Current mtime in ticks. */
  mtime(): number {
    return Math.floor(this.clock.time());
  }

  /** Re-evaluate MTIP against the current time; call before running the hart. */
  update(): void {
    const level = this.mtime() >= this.mtimecmp;
    if (level === this.mtipLevel) return;
    this.mtipLevel = level;
    if (level) this.timerInterrupts++;
    this.mtipLine(level);
    this.events.mtip?.(level);
  }

  /**
   * Steps until mtime reaches mtimecmp: 0 when it has and MTIP is not yet
   * raised (call {@link update}), Infinity when MTIP is already raised or
   * the deadline is beyond 2^53 steps.
   */
  stepsUntilNextEvent(): number {
    const cmp = this.mtimecmp;
    const now = this.clock.time();
    if (now >= cmp) return this.mtipLevel ? Number.POSITIVE_INFINITY : 0;
    const c = this.clock;
    const spt = c.stepsPerTick;
    const steps = Math.ceil((cmp - Math.floor(now)) * spt - ((c.cycles + c.stepsInRun) % spt));
    return steps > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : Math.max(1, steps);
  }

  /** Device reset: msip clear, mtimecmp all ones, both lines low. */
  reset(): void {
    this.msip = 0;
    this.cmpLo = 0xffffffff;
    this.cmpHi = 0xffffffff;
    this.mtipLevel = false;
    this.msipLine(false);
    this.mtipLine(false);
  }

  read(offset: number, size: 1 | 2 | 4 | 8): number {
    this.readHi = 0;
    if (size === 8) {
      if (offset === CLINT_MTIMECMP) {
        this.readHi = this.cmpHi;
        return this.cmpLo;
      }
      if (offset === CLINT_MTIME) {
        const t = this.mtime();
        this.readHi = Math.floor(t / TWO32) >>> 0;
        return t >>> 0;
      }
      if (offset === CLINT_MSIP) return this.msip; // msip + hart 1's (absent) msip
    } else if (size === 4) {
      switch (offset) {
        case CLINT_MSIP:
          return this.msip;
        case CLINT_MTIMECMP:
          return this.cmpLo;
        case CLINT_MTIMECMP + 4:
          return this.cmpHi;
        case CLINT_MTIME:
          return this.mtime() >>> 0;
        case CLINT_MTIME + 4:
          return Math.floor(this.mtime() / TWO32) >>> 0;
      }
    }
    this.badAccesses++;
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
    if (size === 8) {
      if (offset === CLINT_MTIMECMP) this.setMtimecmp(lo >>> 0, hi >>> 0);
      else if (offset === CLINT_MTIME) this.setMtime(lo >>> 0, hi >>> 0);
      else if (offset === CLINT_MSIP) this.setMsip(lo);
      else this.badAccesses++;
      return;
    }
    if (size !== 4) {
      this.badAccesses++;
      return;
    }
    switch (offset) {
      case CLINT_MSIP:
        this.setMsip(lo);
        break;
      case CLINT_MTIMECMP:
        this.setMtimecmp(lo >>> 0, this.cmpHi);
        break;
      case CLINT_MTIMECMP + 4:
        this.setMtimecmp(this.cmpLo, lo >>> 0);
        break;
      case CLINT_MTIME:
        this.setMtime(lo >>> 0, Math.floor(this.mtime() / TWO32) >>> 0);
        break;
      case CLINT_MTIME + 4:
        this.setMtime(this.mtime() >>> 0, lo >>> 0);
        break;
      default:
        this.badAccesses++;
    }
  }

  private setMsip(v: number): void {
    const bit = v & 1;
    if (bit === this.msip) return;
    this.msip = bit;
    if (bit) this.softwareInterrupts++;
    this.msipLine(bit === 1);
    this.events.msip?.(bit === 1);
  }

  private setMtimecmp(lo: number, hi: number): void {
    this.cmpLo = lo;
    this.cmpHi = hi;
    this.update();
  }

  private setMtime(lo: number, hi: number): void {
    const target = hi * TWO32 + lo;
    this.clock.skipTime(target - this.mtime());
    this.update();
  }

  getState(): ClintState {
    return { msip: this.msip, mtimecmpLo: this.cmpLo, mtimecmpHi: this.cmpHi };
  }

  setState(state: ClintState): void {
    const s = record(this.name, state);
    const msip = int(this.name, s, "msip", 0, 1);
    const lo = int(this.name, s, "mtimecmpLo", 0, 0xffffffff);
    const hi = int(this.name, s, "mtimecmpHi", 0, 0xffffffff);
    this.msip = msip;
    this.msipLine(msip === 1);
    this.cmpLo = lo;
    this.cmpHi = hi;
    this.mtipLevel = !(this.mtime() >= this.mtimecmp); // force the line to be driven
    this.update();
  }
}
