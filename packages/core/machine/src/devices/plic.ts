/**
 * PLIC (RISC-V Platform-Level Interrupt Controller, riscv-plic-spec 1.0.0)
 * with the layout of QEMU's virt board: priorities at 0x0 + 4*source,
 * pending bits at 0x1000, per-context enables at 0x2000 + 0x80*context,
 * per-context threshold at 0x200000 + 0x1000*context and claim/complete 4
 * bytes above. Context 0 is hart 0's M-mode (MEIP), context 1 its S-mode
 * (SEIP). Priorities and thresholds have 3 bits (0..7), as on QEMU.
 *
 * Sources are level-triggered through a gateway (spec chapter "Interrupt
 * Gateways"): an asserted level sets the pending bit; a claim clears it and
 * holds the source off until the completion; at completion a still-asserted
 * level sets it again. One liberty, taken as QEMU takes it: a level that
 * drops before the claim withdraws the pending request, so a device that
 * already deasserted (a UART whose THRE condition was cleared by a THR write)
 * causes no spurious claim.
 *
 * Registers are 32 bits; 1- and 2-byte accesses and reserved offsets are bad
 * accesses (read 0, writes ignored, counted).
 */
import type { Device, IrqLine, Stateful } from "../device.js";
import { MachineError } from "../errors.js";
import { ints, record } from "./state.js";

/** Number of sources QEMU's virt board declares (riscv,ndev). */
export const PLIC_NDEV = 95;
/** Size of the PLIC window (room for QEMU's 1024 contexts). */
export const PLIC_SIZE = 0x600000;
/** Offset of the pending bits. */
export const PLIC_PENDING = 0x1000;
/** Offset of context 0's enable bits; each context is 0x80 further. */
export const PLIC_ENABLE = 0x2000;
/** Stride of per-context enable blocks. */
export const PLIC_ENABLE_STRIDE = 0x80;
/** Offset of context 0's threshold; claim/complete is 4 above; each context is 0x1000 further. */
export const PLIC_CONTEXT = 0x200000;
/** Stride of per-context threshold/claim blocks. */
export const PLIC_CONTEXT_STRIDE = 0x1000;
/** Largest priority and threshold (3 bits). */
export const PLIC_MAX_PRIORITY = 7;

/** Observability hooks (no-ops by default). */
export interface PlicEvents {
  /** A context claimed `source` (0: nothing to claim). */
  claim?(context: number, source: number): void;
  /** A context completed `source`. */
  complete?(context: number, source: number): void;
}

/** Options of {@link Plic}. */
export interface PlicOptions {
  /** One interrupt output per context (context 0: hart 0 M-mode, 1: hart 0 S-mode). */
  contexts: readonly IrqLine[];
  /** Number of sources, 1..1023 (default {@link PLIC_NDEV}). */
  ndev?: number;
  /** Observability hooks. */
  events?: PlicEvents;
}

/** Snapshot state of the PLIC. Bit arrays hold one 32-bit word per 32 sources. */
export interface PlicState {
  priority: number[];
  pending: number[];
  /** Claimed and not yet completed (held off by the gateway). */
  claimed: number[];
  /** Source input levels. */
  level: number[];
  /** Enable words, context after context. */
  enable: number[];
  threshold: number[];
}

const NONE: PlicEvents = {};

/** The platform-level interrupt controller. */
export class Plic implements Device, Stateful<PlicState> {
  readonly name = "plic";
  readonly size = PLIC_SIZE;
  badAccesses = 0;
  /** Claims that returned a source. */
  claims = 0;
  /** Claims that returned 0 (nothing pending above the threshold). */
  emptyClaims = 0;
  /** Completions accepted. */
  completions = 0;

  /** Number of sources (IDs 1..ndev). */
  readonly ndev: number;
  private readonly words: number;
  private readonly lines: readonly IrqLine[];
  private readonly lineLevel: boolean[];
  private readonly events: PlicEvents;
  private readonly priority: Uint8Array;
  private readonly pending: Int32Array;
  private readonly claimed: Int32Array;
  private readonly level: Int32Array;
  private readonly enable: Int32Array;
  private readonly threshold: Uint8Array;

  constructor(options: PlicOptions) {
    const ndev = options.ndev ?? PLIC_NDEV;
    if (!Number.isInteger(ndev) || ndev < 1 || ndev > 1023) {
      throw new MachineError("MACHINE_BAD_CONFIG", `plic: ndev ${ndev} must be a whole number in 1..1023`);
    }
    const n = options.contexts.length;
    if (n < 1 || n > 15872) {
      throw new MachineError("MACHINE_BAD_CONFIG", `plic: ${n} contexts; give 1..15872 interrupt outputs`);
    }
    this.ndev = ndev;
    this.words = (ndev + 1 + 31) >>> 5;
    this.lines = options.contexts;
    this.lineLevel = new Array<boolean>(n).fill(false);
    this.events = options.events ?? NONE;
    this.priority = new Uint8Array(ndev + 1);
    this.pending = new Int32Array(this.words);
    this.claimed = new Int32Array(this.words);
    this.level = new Int32Array(this.words);
    this.enable = new Int32Array(this.words * n);
    this.threshold = new Uint8Array(n);
  }

  /** Number of contexts. */
  get contexts(): number {
    return this.lines.length;
  }

  /** Drive source `source`'s input level (a device's interrupt output). */
  setSource(source: number, level: boolean): void {
    if (source < 1 || source > this.ndev) return;
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    if (level) {
      this.level[w]! |= bit;
      if ((this.claimed[w]! & bit) === 0) this.pending[w]! |= bit;
    } else {
      this.level[w]! &= ~bit;
      this.pending[w]! &= ~bit; // withdrawn before the claim (see the header)
    }
    this.update();
  }

  /** An {@link IrqLine} wired to `source`. */
  line(source: number): IrqLine {
    return (level) => this.setSource(source, level);
  }

  /** Device reset: everything zero, every output low. */
  reset(): void {
    this.priority.fill(0);
    this.pending.fill(0);
    this.claimed.fill(0);
    this.enable.fill(0);
    this.threshold.fill(0);
    // Input levels are the devices' business: re-arm the ones still asserted.
    for (let w = 0; w < this.words; w++) this.pending[w] = this.level[w]!;
    for (let c = 0; c < this.lines.length; c++) {
      this.lineLevel[c] = false;
      this.lines[c]!(false);
    }
    this.update();
  }

  /** The source a claim by `context` would return now (0: none). */
  private best(context: number): number {
    const base = context * this.words;
    let bestId = 0;
    let bestPrio = this.threshold[context]!;
    for (let w = 0; w < this.words; w++) {
      let m = this.pending[w]! & this.enable[base + w]! & ~this.claimed[w]!;
      while (m !== 0) {
        const b = 31 - Math.clz32(m & -m);
        m &= m - 1;
        const id = (w << 5) | b;
        const p = this.priority[id]!;
        if (p > bestPrio) {
          bestPrio = p;
          bestId = id;
        }
      }
    }
    return bestId;
  }

  /** Recompute every context's output. */
  private update(): void {
    const lines = this.lines;
    for (let c = 0; c < lines.length; c++) {
      const level = this.best(c) !== 0;
      if (level !== this.lineLevel[c]) {
        this.lineLevel[c] = level;
        lines[c]!(level);
      }
    }
  }

  private claim(context: number): number {
    const id = this.best(context);
    if (id === 0) {
      this.emptyClaims++;
    } else {
      const w = id >>> 5;
      const bit = 1 << (id & 31);
      this.pending[w]! &= ~bit;
      this.claimed[w]! |= bit;
      this.claims++;
      this.update();
    }
    this.events.claim?.(context, id);
    return id;
  }

  private complete(context: number, id: number): void {
    if (id < 1 || id > this.ndev) return;
    const w = id >>> 5;
    const bit = 1 << (id & 31);
    // Spec: a completion for a source not enabled for the context is ignored.
    if ((this.enable[context * this.words + w]! & bit) === 0) return;
    if ((this.claimed[w]! & bit) === 0) return;
    this.claimed[w]! &= ~bit;
    if ((this.level[w]! & bit) !== 0) this.pending[w]! |= bit;
    this.completions++;
    this.update();
    this.events.complete?.(context, id);
  }

  read(offset: number, size: 1 | 2 | 4 | 8): number {
    if (size === 4 && (offset & 3) === 0) {
      if (offset < PLIC_PENDING) {
        const src = offset >>> 2;
        if (src >= 1 && src <= this.ndev) return this.priority[src]!;
      } else if (offset < PLIC_ENABLE) {
        const w = (offset - PLIC_PENDING) >>> 2;
        if (w < this.words) return this.pending[w]! >>> 0;
      } else if (offset < PLIC_CONTEXT) {
        const ctx = ((offset - PLIC_ENABLE) / PLIC_ENABLE_STRIDE) | 0;
        const w = ((offset - PLIC_ENABLE) % PLIC_ENABLE_STRIDE) >>> 2;
        if (ctx < this.lines.length && w < this.words) return this.enable[ctx * this.words + w]! >>> 0;
      } else {
        const ctx = ((offset - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE) | 0;
        const reg = (offset - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
        if (ctx < this.lines.length) {
          if (reg === 0) return this.threshold[ctx]!;
          if (reg === 4) return this.claim(ctx);
        }
      }
    }
    this.badAccesses++;
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4 | 8, lo: number, _hi: number): void {
    if (size === 4 && (offset & 3) === 0) {
      if (offset < PLIC_PENDING) {
        const src = offset >>> 2;
        if (src >= 1 && src <= this.ndev) {
          this.priority[src] = lo & PLIC_MAX_PRIORITY; // WARL
          this.update();
          return;
        }
      } else if (offset < PLIC_ENABLE) {
        // Pending bits are read-only: a write is a bad access.
      } else if (offset < PLIC_CONTEXT) {
        const ctx = ((offset - PLIC_ENABLE) / PLIC_ENABLE_STRIDE) | 0;
        const w = ((offset - PLIC_ENABLE) % PLIC_ENABLE_STRIDE) >>> 2;
        if (ctx < this.lines.length && w < this.words) {
          this.enable[ctx * this.words + w] = lo & this.validBits(w);
          this.update();
          return;
        }
      } else {
        const ctx = ((offset - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE) | 0;
        const reg = (offset - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
        if (ctx < this.lines.length) {
          if (reg === 0) {
            this.threshold[ctx] = lo & PLIC_MAX_PRIORITY;
            this.update();
            return;
          }
          if (reg === 4) {
            this.complete(ctx, lo >>> 0);
            return;
          }
        }
      }
    }
    this.badAccesses++;
  }

  /** Implemented source bits of word `w` (source 0 does not exist). */
  private validBits(w: number): number {
    let m = -1;
    if (w === 0) m &= ~1;
    const top = this.ndev - (w << 5); // highest valid bit index in this word
    if (top < 31) m &= (1 << (top + 1)) - 1;
    return m;
  }

  getState(): PlicState {
    return {
      priority: Array.from(this.priority),
      pending: Array.from(this.pending, (x) => x >>> 0),
      claimed: Array.from(this.claimed, (x) => x >>> 0),
      level: Array.from(this.level, (x) => x >>> 0),
      enable: Array.from(this.enable, (x) => x >>> 0),
      threshold: Array.from(this.threshold),
    };
  }

  setState(state: PlicState): void {
    const n = this.name;
    const s = record(n, state);
    const priority = ints(n, s, "priority", this.ndev + 1, 0, PLIC_MAX_PRIORITY);
    const pending = ints(n, s, "pending", this.words, 0, 0xffffffff);
    const claimed = ints(n, s, "claimed", this.words, 0, 0xffffffff);
    const level = ints(n, s, "level", this.words, 0, 0xffffffff);
    const enable = ints(n, s, "enable", this.words * this.lines.length, 0, 0xffffffff);
    const threshold = ints(n, s, "threshold", this.lines.length, 0, PLIC_MAX_PRIORITY);
    this.priority.set(priority);
    this.priority[0] = 0;
    for (let w = 0; w < this.words; w++) {
      const valid = this.validBits(w);
      this.pending[w] = pending[w]! & valid;
      this.claimed[w] = claimed[w]! & valid;
      this.level[w] = level[w]! & valid;
      for (let c = 0; c < this.lines.length; c++) {
        this.enable[c * this.words + w] = enable[c * this.words + w]! & valid;
      }
    }
    this.threshold.set(threshold);
    // Force every output to be driven with its restored level.
    for (let c = 0; c < this.lines.length; c++) this.lineLevel[c] = this.best(c) === 0;
    this.update();
  }
}
