/**
 * A minimal bare machine for tests and `hvkit run --bare`: RAM at
 * 0x8000_0000, no devices, and the HTIF `tohost`/`fromhost` protocol used by
 * the riscv-tests and other bare-metal programs to report a result and print.
 *
 * HTIF: a 64-bit write to `tohost` carries device (bits 63:56), command
 * (55:48) and payload (47:0). Device 0 command 0 with payload bit 0 set ends
 * the program with exit code payload >> 1; with bit 0 clear the payload
 * points at a syscall block (which, arg0, arg1, arg2...) of which SYS_write
 * (64) is served. Device 1 command 1 prints the payload's low byte.
 */
import { type IsaProfile, readElf } from "@hvkit/isa";
import { ExitReason, Irq } from "./constants.js";
import { CpuError } from "./errors.js";
import { Hart, type HartEngine } from "./hart.js";
import type { TranslationOptions } from "./jit/translator.js";
import { allocateGuestMemory, EmptyBus } from "./memory.js";
import { S } from "./state.js";

/** Where RAM starts on the bare machine (as on the virt board). */
export const BARE_RAM_BASE = 0x80000000;

const SYS_WRITE = 64;
/** Steps per `hart.run` slice: long enough to amortise the call, short enough to notice a halt quickly. */
const SLICE = 1 << 20;

/** Options for {@link BareMachine}. */
export interface BareMachineOptions {
  /** RAM size in bytes (multiple of 4 KiB). Default 64 MiB. */
  ramSize?: number;
  /** Called with each byte the program prints. */
  onOutput?: (byte: number) => void;
  /** PMP entries of the hart (0 or 16). Default 0: no physical memory protection. */
  pmpEntries?: 0 | 16;
  /** The hart's ISA profile (default: the standard, virtualizable one). */
  isaProfile?: IsaProfile;
  /** Give the hart the H extension (default false). */
  hypervisor?: boolean;
  /** The hart's execution engine (default "interpreter"). */
  engine?: HartEngine;
  /** Tuning of the translator (engine "translator"). */
  translation?: TranslationOptions;
}

/** The outcome of a bare-metal run. */
export interface BareResult {
  /** Exit code from tohost, or undefined if the program did not finish. */
  exitCode: number | undefined;
  /** Why the run stopped. */
  reason: "exit" | "budget" | "wfi-deadlock";
  /** Steps executed. */
  steps: number;
  /** Instructions retired. */
  instret: number;
}

/** RAM + a hart + HTIF. */
export class BareMachine {
  /** The hart. */
  readonly hart: Hart;
  /** Guest RAM. */
  readonly ram: Uint8Array;
  private tohost = -1;
  private fromhost = -1;
  private exitCode: number | undefined;
  private readonly onOutput: (byte: number) => void;
  private readonly view: DataView;

  constructor(options: BareMachineOptions = {}) {
    const size = options.ramSize ?? 64 * 1024 * 1024;
    const { ram, arena } = allocateGuestMemory(size);
    this.ram = ram;
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.length);
    this.hart = new Hart({
      memory: { ram, ramBase: BARE_RAM_BASE, bus: new EmptyBus(), ...(arena ? { arena } : {}) },
      pmpEntries: options.pmpEntries ?? 0,
      ...(options.isaProfile ? { isaProfile: options.isaProfile } : {}),
      hypervisor: options.hypervisor ?? false,
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.translation ? { translation: options.translation } : {}),
    });
    this.onOutput = options.onOutput ?? (() => {});
    this.hart.onWatchedStore = (pa) => this.watched(pa);
  }

  /** Load an ELF executable: its PT_LOAD segments into RAM, pc at its entry, tohost from its symbols. */
  loadElf(bytes: Uint8Array): void {
    const elf = readElf(bytes);
    for (const seg of elf.segments) {
      if (seg.type !== 1 || seg.memSize === 0) continue; // PT_LOAD
      const pa = Number(seg.paddr);
      const off = pa - BARE_RAM_BASE;
      if (off < 0 || off + seg.memSize > this.ram.length) {
        throw new CpuError(
          "CPU_IMAGE_OUTSIDE_RAM",
          `segment at 0x${seg.paddr.toString(16)} (${seg.memSize} bytes) is outside RAM 0x${BARE_RAM_BASE.toString(16)}..0x${(BARE_RAM_BASE + this.ram.length).toString(16)}; link the program for 0x80000000 or pass a larger RAM size`,
        );
      }
      this.ram.set(seg.data.subarray(0, seg.fileSize), off);
      this.ram.fill(0, off + seg.fileSize, off + seg.memSize);
    }
    this.hart.ramChanged(BARE_RAM_BASE, this.ram.length);
    const sym = (name: string) => elf.symbols.find((s) => s.name === name);
    const tohost = sym("tohost");
    if (tohost) this.setTohost(Number(tohost.value), sym("fromhost") ? Number(sym("fromhost")!.value) : -1);
    this.hart.reset(elf.entry);
  }

  /** Set the tohost (and optionally fromhost) address explicitly. */
  setTohost(tohost: number, fromhost = -1): void {
    if (tohost < BARE_RAM_BASE || tohost + 8 > BARE_RAM_BASE + this.ram.length) {
      throw new CpuError("CPU_NO_TOHOST", `tohost at 0x${tohost.toString(16)} is outside RAM`);
    }
    this.tohost = tohost;
    this.fromhost = fromhost;
    this.hart.watchPage(tohost);
  }

  /** Run until the program reports through tohost, or `maxSteps` steps have run. */
  run(maxSteps = Number.MAX_SAFE_INTEGER): BareResult {
    const hart = this.hart;
    const start = hart.cycles;
    while (this.exitCode === undefined) {
      const left = maxSteps - (hart.cycles - start);
      if (left <= 0) return this.result("budget", start);
      const reason = hart.run(Math.min(SLICE, left));
      if (reason === ExitReason.WFI) {
        // The only wake-up source is the Sstc timer: skip idle time to its deadline.
        // With no timer armed, a WFI with nothing pending never ends.
        const ticks = this.ticksToTimer();
        if (ticks > 0) hart.skipTime(ticks);
        else if ((hart.mip() & hart.csr[S.MIE]!) === 0) return this.result("wfi-deadlock", start);
      }
    }
    return this.result("exit", start);
  }

  /**
   * Ticks until the nearest enabled Sstc timer: stimecmp, and with the H
   * extension vstimecmp (compared with time + htimedelta); 0 when none.
   */
  private ticksToTimer(): number {
    const c = this.hart.csr;
    if ((c[S.MENVCFG + 1]! & 0x80000000) === 0) return 0;
    const now = this.hart.time();
    let ticks = 0;
    if ((c[S.MIE]! & (1 << Irq.STI)) !== 0) {
      const cmp = (c[S.STIMECMP + 1]! >>> 0) * 4294967296 + (c[S.STIMECMP]! >>> 0);
      if (cmp > now && cmp - now < Number.MAX_SAFE_INTEGER) ticks = cmp - now;
    }
    if (
      this.hart.hypervisor &&
      (c[S.HENVCFG + 1]! & 0x80000000) !== 0 &&
      (c[S.MIE]! & (1 << Irq.VSTI)) !== 0
    ) {
      const cmp = (c[S.VSTIMECMP + 1]! >>> 0) * 4294967296 + (c[S.VSTIMECMP]! >>> 0);
      const delta = c[S.HTIMEDELTA + 1]! * 4294967296 + (c[S.HTIMEDELTA]! >>> 0); // signed
      const t = cmp - delta - now;
      if (t > 0 && t < Number.MAX_SAFE_INTEGER && (ticks === 0 || t < ticks)) ticks = t;
    }
    return ticks;
  }

  private result(reason: BareResult["reason"], start: number): BareResult {
    return { exitCode: this.exitCode, reason, steps: this.hart.cycles - start, instret: this.hart.instret };
  }

  private watched(pa: number): void {
    if (this.tohost < 0 || pa < this.tohost || pa >= this.tohost + 8) return;
    const off = this.tohost - BARE_RAM_BASE;
    const lo = this.view.getUint32(off, true);
    const hi = this.view.getUint32(off + 4, true);
    if (lo === 0 && hi === 0) return;
    const device = hi >>> 24;
    const command = (hi >>> 16) & 0xff;
    const payload = (hi & 0xffff) * 4294967296 + lo;
    // The host consumes the request.
    this.view.setUint32(off, 0, true);
    this.view.setUint32(off + 4, 0, true);
    if (device === 0 && command === 0) {
      if (payload % 2 === 1) {
        this.exitCode = Math.floor(payload / 2);
        this.hart.requestHalt();
        return;
      }
      this.syscall(payload);
    } else if (device === 1 && command === 1) {
      this.onOutput(payload & 0xff);
    }
    if (this.fromhost >= 0) {
      const f = this.fromhost - BARE_RAM_BASE;
      this.view.setUint32(f, 1, true);
      this.view.setUint32(f + 4, (device << 24) | (command << 16), true);
    }
  }

  private syscall(addr: number): void {
    const off = addr - BARE_RAM_BASE;
    if (off < 0 || off + 64 > this.ram.length) return;
    const which = Number(this.view.getBigUint64(off, true));
    if (which === SYS_WRITE) {
      const buf = Number(this.view.getBigUint64(off + 16, true)) - BARE_RAM_BASE;
      const len = Number(this.view.getBigUint64(off + 24, true));
      if (buf >= 0 && len >= 0 && buf + len <= this.ram.length) {
        for (let i = 0; i < len; i++) this.onOutput(this.ram[buf + i]!);
        this.view.setBigUint64(off, BigInt(len), true);
        return;
      }
    }
    this.view.setBigInt64(off, -38n, true); // -ENOSYS
  }
}
