/**
 * ns16550a UART (8-bit registers, reg-shift 0), as Linux's 8250 driver and
 * OpenSBI's uart8250 driver drive it on QEMU's virt board.
 *
 * Transmission is instant: a byte written to THR goes to the injected sink at
 * once and THR is empty again, so LSR always shows THRE and TEMT and the THRE
 * interrupt re-arms right after each write. Reception: the host pushes bytes
 * with {@link Uart16550.receive} into the RX FIFO (16 bytes with FCR[0] set,
 * one holding register without); a byte that does not fit is an overrun
 * (LSR.OE, counted). A host should feed no more than {@link Uart16550.rxSpace}.
 *
 * Interrupts (16550D datasheet, "Interrupt Identification Register"), highest
 * priority first: receiver line status (OE with IER.ELSI; cleared by reading
 * LSR), received data (IER.ERBFI; IIR 0x4 at or above the FIFO trigger level,
 * else the character-timeout code 0xC at once — guest time has no character
 * times, so the timeout is immediate), THR empty (IER.ETBEI; cleared by an IIR
 * read that reports it or by a THR write, re-armed by any IER write with ETBEI
 * set while THR is empty, which Linux's THRE test and start_tx rely on), and
 * modem status (IER.EDSSI; cleared by reading MSR). MCR.OUT2 does not gate the
 * output (as on QEMU). Loopback (MCR.LOOP) routes TX into RX and MCR into MSR.
 *
 * Only 1-byte accesses to offsets 0..7 are registers; anything else reads 0,
 * ignores writes and counts as a bad access.
 */
import type { Device, IrqLine, Stateful } from "../device.js";
import { NO_IRQ } from "../device.js";
import { MachineError } from "../errors.js";
import { bool, int, ints, record } from "./state.js";

/** Size of the UART window on the virt board. */
export const UART_SIZE = 0x100;
/** RX FIFO depth of a 16550A. */
export const UART_FIFO_SIZE = 16;

// Register offsets.
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// Bits.
const IER_ERBFI = 0x01;
const IER_ETBEI = 0x02;
const IER_ELSI = 0x04;
const IER_EDSSI = 0x08;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const IIR_NONE = 0x01;
const IIR_MS = 0x00;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_RLS = 0x06;
const IIR_TIMEOUT = 0x0c;
const IIR_FIFO = 0xc0;
const FCR_FE = 0x01;
const FCR_RX_CLEAR = 0x02;
/** Modem inputs seen without loopback: CTS, DSR and DCD asserted, RI not (as on QEMU). */
const MSR_IDLE_INPUTS = 0xb0;
/** RX trigger levels by FCR[7:6]. */
const TRIGGER = [1, 4, 8, 14] as const;

/** Observability hooks (no-ops by default). */
export interface UartEvents {
  /** The interrupt output changed level. */
  interrupt?(level: boolean): void;
  /** A received byte was lost (RX FIFO full). */
  overrun?(): void;
}

/** Options of {@link Uart16550}. */
export interface UartOptions {
  /** Called with every byte the guest transmits (not in loopback). */
  onTransmit?: (byte: number) => void;
  /** Interrupt output (wired to a PLIC source). */
  irq?: IrqLine;
  /** Device name (default "uart0"). */
  name?: string;
  /** RX FIFO depth in FIFO mode, 1..4096 (default 16, a 16550A's). */
  fifoSize?: number;
  /** Observability hooks. */
  events?: UartEvents;
}

/** Snapshot state of the UART. */
export interface UartState {
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  fcr: number;
  overrun: boolean;
  thrInterrupt: boolean;
  msrInputs: number;
  msrDeltas: number;
  rx: number[];
}

const NONE: UartEvents = {};
const NO_SINK = (): void => {};

/** A 16550A-compatible UART. */
export class Uart16550 implements Device, Stateful<UartState> {
  readonly name: string;
  readonly size = UART_SIZE;
  badAccesses = 0;
  /** Bytes the guest transmitted. */
  bytesOut = 0;
  /** Bytes accepted into the RX FIFO (host input and loopback). */
  bytesIn = 0;
  /** Received bytes lost because the RX FIFO was full. */
  overruns = 0;

  private readonly sink: (byte: number) => void;
  private readonly irq: IrqLine;
  private readonly events: UartEvents;
  private readonly fifoSize: number;
  // RX FIFO: a ring of fifoSize bytes.
  private readonly rx: Uint8Array;
  private rxHead = 0;
  private rxCount = 0;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fcr = 0;
  private overrun = false;
  private thrInterrupt = false;
  private msrInputs = MSR_IDLE_INPUTS;
  private msrDeltas = 0;
  private irqLevel = false;
  /** The guest has read LSR since reset (a polling driver). */
  private lsrPolled = false;

  constructor(options: UartOptions = {}) {
    const fifoSize = options.fifoSize ?? UART_FIFO_SIZE;
    if (!Number.isInteger(fifoSize) || fifoSize < 1 || fifoSize > 4096) {
      throw new MachineError(
        "MACHINE_BAD_CONFIG",
        `uart: fifoSize ${fifoSize} must be a whole number in 1..4096`,
      );
    }
    this.name = options.name ?? "uart0";
    this.sink = options.onTransmit ?? NO_SINK;
    this.irq = options.irq ?? NO_IRQ;
    this.events = options.events ?? NONE;
    this.fifoSize = fifoSize;
    this.rx = new Uint8Array(fifoSize);
  }

  /**
   * Whether a driver is listening to the receiver: it enabled the receive
   * interrupt or has polled the line status. A host holds input back until
   * then, so a guest that reads its console another way (the SBI) gets all of it.
   */
  get receiverInUse(): boolean {
    return (this.ier & IER_ERBFI) !== 0 || this.lsrPolled;
  }

  /** Bytes the RX FIFO can take now without an overrun. */
  rxSpace(): number {
    return this.capacity() - this.rxCount;
  }

  /** Deliver bytes from the host; returns how many were accepted (the rest overran). */
  receive(bytes: ArrayLike<number>): number {
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) if (this.push(bytes[i]! & 0xff)) accepted++;
    this.updateIrq();
    return accepted;
  }

  /** Device reset (16550D "Reset" table): registers to their reset values, FIFO empty. */
  reset(): void {
    this.ier = 0;
    this.lsrPolled = false;
    this.lcr = 0;
    this.mcr = 0;
    this.scr = 0;
    this.dll = 0;
    this.dlm = 0;
    this.fcr = 0;
    this.overrun = false;
    this.thrInterrupt = false;
    this.msrInputs = MSR_IDLE_INPUTS;
    this.msrDeltas = 0;
    this.rxHead = 0;
    this.rxCount = 0;
    this.updateIrq();
  }

  private capacity(): number {
    return (this.fcr & FCR_FE) !== 0 ? this.fifoSize : 1;
  }

  private push(byte: number): boolean {
    if (this.rxCount >= this.capacity()) {
      this.overrun = true;
      this.overruns++;
      this.events.overrun?.();
      if ((this.fcr & FCR_FE) === 0) {
        // 16450 mode: the new character overwrites the holding register.
        this.rx[this.rxHead] = byte;
      }
      return false;
    }
    this.rx[(this.rxHead + this.rxCount) % this.fifoSize] = byte;
    this.rxCount++;
    this.bytesIn++;
    return true;
  }

  private pop(): number {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % this.fifoSize;
    this.rxCount--;
    return b;
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
  }

  /** The interrupt the IIR reports now (IIR_NONE when none). */
  private pendingInterrupt(): number {
    const ier = this.ier;
    if ((ier & IER_ELSI) !== 0 && this.overrun) return IIR_RLS;
    if ((ier & IER_ERBFI) !== 0 && this.rxCount > 0) {
      const fifo = (this.fcr & FCR_FE) !== 0;
      return !fifo || this.rxCount >= TRIGGER[this.fcr >>> 6]! ? IIR_RDA : IIR_TIMEOUT;
    }
    if ((ier & IER_ETBEI) !== 0 && this.thrInterrupt) return IIR_THRE;
    if ((ier & IER_EDSSI) !== 0 && this.msrDeltas !== 0) return IIR_MS;
    return IIR_NONE;
  }

  private updateIrq(): void {
    const level = this.pendingInterrupt() !== IIR_NONE;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq(level);
    this.events.interrupt?.(level);
  }

  /** The modem-status inputs implied by MCR (loopback) or the idle defaults. */
  private setModemInputs(): void {
    const m = this.mcr;
    const inputs =
      (m & MCR_LOOP) !== 0
        ? ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4) // RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD
        : MSR_IDLE_INPUTS;
    const changed = inputs ^ this.msrInputs;
    let d = 0;
    if (changed & 0x10) d |= 0x01; // DCTS
    if (changed & 0x20) d |= 0x02; // DDSR
    if (changed & 0x40 && (inputs & 0x40) === 0) d |= 0x04; // TERI: RI trailing edge
    if (changed & 0x80) d |= 0x08; // DDCD
    this.msrDeltas |= d;
    this.msrInputs = inputs;
  }

  private lsr(): number {
    return (this.rxCount > 0 ? LSR_DR : 0) | (this.overrun ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
  }

  read(offset: number, size: 1 | 2 | 4 | 8): number {
    if (size !== 1 || offset > SCR) {
      this.badAccesses++;
      return 0;
    }
    let v: number;
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) return this.dll;
        v = this.pop();
        break;
      case IER_DLM:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case IIR_FCR: {
        const id = this.pendingInterrupt();
        if (id === IIR_THRE) this.thrInterrupt = false;
        v = id | ((this.fcr & FCR_FE) !== 0 ? IIR_FIFO : 0);
        break;
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        v = this.lsr();
        this.overrun = false;
        this.lsrPolled = true;
        break;
      case MSR:
        v = this.msrInputs | this.msrDeltas;
        this.msrDeltas = 0;
        break;
      default:
        return this.scr;
    }
    this.updateIrq();
    return v;
  }

  write(offset: number, size: 1 | 2 | 4 | 8, lo: number, _hi: number): void {
    if (size !== 1 || offset > SCR) {
      this.badAccesses++;
      return;
    }
    const v = lo & 0xff;
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) {
          this.dll = v;
          return;
        }
        if (this.mcr & MCR_LOOP) {
          this.push(v);
        } else {
          this.bytesOut++;
          this.sink(v);
        }
        // The byte left at once: THR is empty again and its interrupt re-arms.
        this.thrInterrupt = true;
        break;
      case IER_DLM:
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
          return;
        }
        this.ier = v & 0x0f;
        this.thrInterrupt = (this.ier & IER_ETBEI) !== 0; // THR is always empty
        break;
      case IIR_FCR: {
        const enable = v & FCR_FE;
        if (enable !== (this.fcr & FCR_FE))
          this.clearRx(); // switching FIFO mode clears the FIFOs
        else if (v & FCR_RX_CLEAR) this.clearRx();
        this.fcr = v & 0xc1;
        break;
      }
      case LCR:
        this.lcr = v;
        return;
      case MCR:
        this.mcr = v & 0x1f;
        this.setModemInputs();
        break;
      case LSR:
      case MSR:
        return; // read-only (factory test writes on some parts): ignored
      default:
        this.scr = v;
        return;
    }
    this.updateIrq();
  }

  getState(): UartState {
    const rx: number[] = [];
    for (let i = 0; i < this.rxCount; i++) rx.push(this.rx[(this.rxHead + i) % this.fifoSize]!);
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fcr: this.fcr,
      overrun: this.overrun,
      thrInterrupt: this.thrInterrupt,
      msrInputs: this.msrInputs,
      msrDeltas: this.msrDeltas,
      rx,
    };
  }

  setState(state: UartState): void {
    const n = this.name;
    const s = record(n, state);
    const ier = int(n, s, "ier", 0, 0x0f);
    const lcr = int(n, s, "lcr", 0, 0xff);
    const mcr = int(n, s, "mcr", 0, 0x1f);
    const scr = int(n, s, "scr", 0, 0xff);
    const dll = int(n, s, "dll", 0, 0xff);
    const dlm = int(n, s, "dlm", 0, 0xff);
    const fcr = int(n, s, "fcr", 0, 0xff) & 0xc1;
    const overrun = bool(n, s, "overrun");
    const thrInterrupt = bool(n, s, "thrInterrupt");
    const msrInputs = int(n, s, "msrInputs", 0, 0xff) & 0xf0;
    const msrDeltas = int(n, s, "msrDeltas", 0, 0x0f);
    const rx = ints(n, s, "rx", -1, 0, 0xff);
    const cap = (fcr & FCR_FE) !== 0 ? this.fifoSize : 1;
    if (rx.length > cap) {
      throw new MachineError(
        "MACHINE_BAD_STATE",
        `${n}: invalid snapshot state (rx holds ${rx.length} bytes, the FIFO ${cap}); pass an object returned by getState() of a UART with the same fifoSize`,
      );
    }
    this.ier = ier;
    this.lcr = lcr;
    this.mcr = mcr;
    this.scr = scr;
    this.dll = dll;
    this.dlm = dlm;
    this.fcr = fcr;
    this.overrun = overrun;
    this.thrInterrupt = thrInterrupt;
    this.msrInputs = msrInputs;
    this.msrDeltas = msrDeltas;
    this.rxHead = 0;
    this.rxCount = rx.length;
    this.rx.set(rx);
    this.irqLevel = !(this.pendingInterrupt() !== IIR_NONE); // force the output to be driven
    this.updateIrq();
  }
}
