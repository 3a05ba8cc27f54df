/**
 * The VM and the VMM core shared by every strategy: boot (images, devicetree,
 * firmware), the run loop over hart exits, the SBI service (the hypercall
 * path every strategy shares), idle handling on WFI with deterministic time
 * skipping, console plumbing, power events and accounting.
 */
import {
  Cause,
  CounterSlot,
  CsrSlot,
  EXIT_REASON_NAMES,
  ExitReason,
  type Hart,
  Irq,
  MSTATUS,
  PRV_S,
  readCsr,
  TRAP_STATS_MRET,
  TRAP_STATS_SRET,
  writeCsr,
} from "@hvkit/cpu";
import { CSR, NON_VIRTUALIZABLE_PROFILE, STANDARD_PROFILE } from "@hvkit/isa";
import { type Device, MachineError, VirtBoard, type VirtBoardDeviceState } from "@hvkit/machine";
import { type ResolvedVmConfig, resolveConfig, type VmConfig } from "./config.js";
import { COST_PROFILES, type CostEvents, type CostProfile, emptyCostEvents, modeledCycles } from "./cost.js";
import { HypervisorError } from "./errors.js";
import { asksForExits } from "./exit-on.js";
import { SbiService } from "./sbi.js";
import { applyHart, captureHart, decodeCpu, encodeCpu, type GuestCpuState } from "./snapshot/cpu.js";
import {
  decodeContainer,
  encodeContainer,
  jsonSection,
  requireSection,
  type Section,
  SnapshotError,
  toJsonSection,
} from "./snapshot/format.js";
import { decodePages, encodePages } from "./snapshot/pages.js";
import type { VmStats } from "./stats.js";
import { getStrategy, type StrategyDefinition, type StrategyInstance } from "./strategy.js";

/** Steps per board.run() call: long enough to amortise it, short enough to poll input and wall-time limits. */
const SLICE = 1 << 22;
const PMPCFG0 = 0x3a0;
const PMPADDR0 = 0x3b0;
/**
 * Steps per slice while console input waits for the UART: 64 K steps are
 * ~0.7 ms of guest time at the 10-steps-per-tick timebase, so a guest
 * reading its UART (16-byte FIFO, or byte by byte before it enables the
 * FIFO) gets typed input at once instead of one FIFO-full per 4 M steps.
 */
const INPUT_SLICE = 1 << 16;
/** Where OpenSBI's fw_dynamic expects the next stage's mode: S (1). */
const FW_DYNAMIC_NEXT_MODE_S = 1;
/** fw_dynamic_info magic ("OSBI") and version. */
const FW_DYNAMIC_MAGIC = 0x4942534f;
const FW_DYNAMIC_VERSION = 2;

/** Why `vm.run()` returned. */
export type StopReason =
  /** The guest powered off (syscon, SBI SRST or HSM stop). */
  | "poweroff"
  /** The guest asked for a reset. */
  | "reset"
  /** The step or wall-time limit was reached; `run` can be called again. */
  | "limit"
  /** The guest waits for an interrupt no source will raise without input (only console input can wake it). */
  | "idle"
  /** The strategy could not handle an exit: the guest cannot continue. */
  | "fault";

/** Limits for one `vm.run()` call. */
export interface RunLimit {
  /** Stop after this many more steps (instructions plus traps). */
  steps?: number;
  /** Stop after about this many milliseconds of wall time. */
  wallMs?: number;
}

/** The outcome of `vm.run()`. */
export interface RunResult {
  /** Why it returned. */
  stop: StopReason;
  /** For "poweroff": 0 for a clean power-off, the guest's failure code otherwise. */
  exitStatus?: number;
  /** For "fault": what happened. */
  message?: string;
}

/** The VMM core as strategies see it. */
export interface VmCore {
  /** The resolved configuration. */
  readonly config: ResolvedVmConfig;
  /** The board: hart, RAM, bus and devices. */
  readonly board: VirtBoard;
  /** The hart. */
  readonly hart: Hart;
  /** Chargeable events; strategies add their own. */
  readonly events: CostEvents;
  /** Count an exit to the VMM under `reason`. */
  countExit(reason: string): void;
  /** VMM-private RAM the strategy asked for (`privateMemory`); empty otherwise. The guest cannot name it. */
  readonly privateRam: Uint8Array;
  /** Physical address of `privateRam[0]` (right above guest RAM). */
  readonly privateRamBase: number;
  /**
   * Serve the SBI call whose arguments are in the hart's registers, for a
   * strategy that runs the guest kernel's S-mode virtually (its `ecall` does
   * not arrive as an ecall from S): counts the "sbi" exit, charges the exit
   * and the hypercall. The caller advances the pc past the ecall. False when
   * the VM has no built-in SBI (OpenSBI firmware).
   */
  hypercall(): boolean;
  /**
   * The guest executed WFI with none of the interrupts in `wake` (an mie-style
   * mask: the guest's enables, whatever its global enable) pending, for a
   * strategy that emulates WFI: skip guest time to the next timer event among
   * them, as the board does for a WFI it runs, or, with no timer armed, stop
   * the run as "idle" once the exit is handled (console input can still wake it).
   */
  waitForInterrupt(wake: number): void;
  /** Send bytes to the console (what the SBI debug console does), for a strategy's own hypercalls. */
  consoleWrite(bytes: Uint8Array): void;
  /** Power off (exit status 0 when `failure` is 0, else 1) or reset, as SBI SRST does: the run stops after the exit. */
  systemReset(type: "shutdown" | "reboot", failure: number): void;
}

/** A virtual machine running one guest under one strategy. */
export class Vm implements VmCore {
  readonly config: ResolvedVmConfig;
  readonly board: VirtBoard;
  readonly hart: Hart;
  readonly events = emptyCostEvents();
  /** The strategy definition. */
  readonly strategy: StrategyDefinition;
  private readonly instance: StrategyInstance;
  private readonly sbi: SbiService | undefined;
  private readonly exits = new Map<string, number>();
  private readonly input: number[] = [];
  private readonly outputListeners: ((bytes: Uint8Array) => void)[] = [];
  private stopped: RunResult | undefined;
  /** Set once the guest reads console input through the SBI; input then bypasses the UART. */
  private sbiConsoleInput = false;
  private wallMs = 0;
  /** Set by waitForInterrupt when no timer can wake the guest. */
  private idlePending = false;
  readonly privateRam: Uint8Array;
  readonly privateRamBase: number;

  /** Create a VM for `config` under the strategy named `strategy` (or given as a definition). */
  static create(strategy: string | StrategyDefinition, config: VmConfig): Vm {
    const definition = typeof strategy === "string" ? getStrategy(strategy) : strategy;
    const resolved = resolveConfig(config);
    if (asksForExits(resolved.exitOn) && definition.hypervisorExtension !== true) {
      throw new HypervisorError(
        "HV_INVALID_COMBINATION",
        `VmConfig.exitOn programs the guest-mode exit controls of the hart's H extension, and the ${definition.name} strategy does not run the guest in guest mode: drop exitOn, or use a hardware-assisted strategy`,
      );
    }
    definition.validate?.(resolved);
    return new Vm(definition, resolved);
  }

  /**
   * Restore a VM from `vm.snapshot()` bytes, under the strategy it was taken
   * under or another one (`options.strategy`): the guest continues exactly
   * where it stopped. Virtio devices are not in the snapshot's bytes but
   * their state is: give the same devices again (`options.devices`, e.g.
   * disks reopened from the snapshot's `disks` references). Throws
   * SnapshotError: SNAPSHOT_NOT_A_SNAPSHOT, SNAPSHOT_TRUNCATED,
   * SNAPSHOT_CORRUPT, SNAPSHOT_VERSION, or SNAPSHOT_MISMATCH when the devices
   * do not fit.
   */
  static restore(bytes: Uint8Array, options: RestoreOptions = {}): Vm {
    const snap = readSnapshot(bytes);
    const m = snap.meta;
    const definition =
      options.strategy === undefined
        ? getStrategy(m.strategy)
        : typeof options.strategy === "string"
          ? getStrategy(options.strategy)
          : options.strategy;
    const isaProfile = [STANDARD_PROFILE, NON_VIRTUALIZABLE_PROFILE].find(
      (p) => p.name === m.config.isaProfile,
    );
    if (!isaProfile) {
      throw new SnapshotError(
        "SNAPSHOT_CORRUPT",
        `the snapshot names an unknown ISA profile "${m.config.isaProfile}"`,
      );
    }
    const devices = options.devices ?? [];
    if (devices.length !== m.config.devices) {
      throw new SnapshotError(
        "SNAPSHOT_MISMATCH",
        `the snapshot's VM had ${m.config.devices} virtio device(s) and ${devices.length} were given; pass the same devices in the same slots (options.devices)`,
      );
    }
    const config: VmConfig = {
      // The kernel, initrd and firmware are in the saved RAM; the config only keeps their kind.
      kernel: RESTORED_IMAGE,
      cmdline: m.config.cmdline,
      memory: m.config.memory,
      firmware: m.config.firmware === "builtin" ? "builtin" : RESTORED_IMAGE,
      costProfile: options.costProfile ?? COST_PROFILES[m.config.costProfile.name] ?? m.config.costProfile,
      isaProfile,
      devices,
    };
    // exitOn is saved resolved (the hardware-assisted strategy reprograms it on start).
    const resolved: ResolvedVmConfig = { ...resolveConfig(config), exitOn: m.config.exitOn };
    if (asksForExits(resolved.exitOn) && definition.hypervisorExtension !== true) {
      throw new HypervisorError(
        "HV_INVALID_COMBINATION",
        `the snapshot's VM asked for guest-mode exits (exitOn), which the ${definition.name} strategy cannot program; restore it under a hardware-assisted strategy`,
      );
    }
    definition.validate?.(resolved);
    if (options.baseRam !== undefined && options.baseRam.length !== resolved.memory) {
      throw new SnapshotError(
        "SNAPSHOT_MISMATCH",
        `options.baseRam holds ${options.baseRam.length} bytes; the snapshot's VM has ${resolved.memory} bytes of RAM`,
      );
    }
    const base = options.baseRam
      ? {
          baseRam: options.baseRam,
          ...(options.basePages !== undefined ? { basePages: options.basePages } : {}),
        }
      : {};
    return new Vm(definition, resolved, { ...snap, ...base });
  }

  private constructor(strategy: StrategyDefinition, config: ResolvedVmConfig, restore?: ReadSnapshot) {
    this.strategy = strategy;
    this.config = config;
    const hidden = strategy.privateMemory?.(config) ?? 0;
    if (!Number.isInteger(hidden) || hidden < 0 || hidden % 4096 !== 0) {
      throw new HypervisorError(
        "HV_INVALID_COMBINATION",
        `strategy ${strategy.name} asked for ${hidden} bytes of private memory; it must be a multiple of 4 KiB`,
      );
    }
    if (config.memory + hidden > 2048 * 1024 * 1024) {
      throw new HypervisorError(
        "HV_INVALID_CONFIG",
        `VmConfig.memory = ${config.memory} bytes plus the ${hidden} bytes the ${strategy.name} strategy keeps for itself exceed the board's 2 GiB of RAM; give the guest less memory`,
      );
    }
    this.board = new VirtBoard({
      ramSize: config.memory,
      hiddenRamSize: hidden,
      isaProfile: config.isaProfile,
      hypervisor: strategy.hypervisorExtension === true,
      onConsole: (byte) => this.emitByte(byte),
      virtio: config.devices,
      // Device DMA: the board already told the hart; the strategy refreshes its shadows.
      // (No device runs before the strategy exists: the loaders write RAM, not DMA.)
      onDmaWrite: (pa, length) => this.instance?.guestMemoryWritten?.(pa, length),
    });
    this.hart = this.board.hart;
    this.privateRam = this.board.hiddenRam;
    this.privateRamBase = this.board.ramBase + config.memory;
    const builtin = config.firmware === "builtin";
    this.sbi = builtin ? new SbiService(this.sbiHost()) : undefined;
    if (restore) this.applySnapshot(restore);
    else this.boot();
    this.instance = strategy.create(this);
    this.instance.start();
  }

  /** Load firmware, kernel, initrd and devicetree, and put the hart where the boot protocol wants it. */
  private boot(): void {
    const { config, board, hart } = this;
    const boot = board.loadLinux({
      kernel: config.kernel,
      ...(config.initrd ? { initrd: config.initrd } : {}),
      bootargs: config.cmdline,
    });
    const firmware = config.firmware === "builtin" ? undefined : config.firmware;
    if (firmware) {
      // OpenSBI at the start of RAM, in M-mode; fw_dynamic finds the kernel through
      // the info block in a2 (fw_jump ignores it and jumps to its built-in address).
      if (firmware.length > boot.kernel.start - board.ramBase) {
        throw new HypervisorError(
          "HV_INVALID_CONFIG",
          `the firmware (${firmware.length} bytes) does not fit below the kernel at 0x${boot.kernel.start.toString(16)}`,
        );
      }
      board.ram.set(firmware, 0);
      const info = ((boot.kernel.end + 7) & ~7) >>> 0;
      const view = new DataView(board.ram.buffer, board.ram.byteOffset);
      const at = info - board.ramBase;
      const fields = [FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, boot.entry, FW_DYNAMIC_NEXT_MODE_S, 0, 0];
      for (const [i, v] of fields.entries()) view.setBigUint64(at + 8 * i, BigInt(v), true);
      hart.ramChanged(board.ramBase, board.ram.length);
      board.reset(BigInt(board.ramBase));
      hart.setX(10, 0n);
      hart.setX(11, BigInt(boot.dtb.start));
      hart.setX(12, BigInt(info));
      return;
    }
    board.reset(BigInt(boot.entry));
    // Linux boot protocol: a0 = hart id, a1 = devicetree address, S-mode, satp = 0.
    hart.setX(10, 0n);
    hart.setX(11, BigInt(boot.dtb.start));
    // The built-in firmware: leave M-mode configured as an SBI firmware would and
    // start the kernel in S-mode. Everything but ecall from S-mode is delegated, so
    // M-mode never runs; SBI calls exit to the host.
    const w = (csr: number, lo: number, hi = 0): void => {
      writeCsr(hart, csr, lo | 0, hi | 0);
    };
    w(PMPADDR0, -1, 0x3fffff); // NAPOT over the whole address space
    w(PMPCFG0, 0x1f); // R W X, NAPOT
    w(CSR.medeleg, 0xb1ff); // all but ecall from S (9) and M (11)
    w(CSR.mideleg, (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI));
    w(CSR.mcounteren, 7); // cycle, time, instret readable from S
    w(CSR.menvcfg, 0, 0x80000000); // Sstc: S-mode owns stimecmp
    hart.csr[CsrSlot.MSTATUS] = (hart.csr[CsrSlot.MSTATUS]! & ~MSTATUS.MPP) | (PRV_S << 11);
    hart.priv = PRV_S;
    hart.privilegeChanged();
    this.builtinFirmwareExits();
  }

  /** The built-in firmware's one exit: ecall from S-mode (SBI calls) leaves the hart. */
  private builtinFirmwareExits(): void {
    if (this.sbi) this.hart.exitOnException[PRV_S] = 1 << Cause.ECALL_S;
  }

  /**
   * Save the VM: the guest-visible CPU (the strategy folds its virtual CPU
   * in), the devices, guest RAM (non-zero pages, deflated) and `disks`, the
   * caller's references to the disks behind its virtio devices. Call it
   * between `run()` calls. Throws SNAPSHOT_UNSUPPORTED for a strategy that
   * cannot describe its guest's CPU, SNAPSHOT_BUSY while a device has
   * requests in flight. The VM keeps running unchanged.
   */
  snapshot(options: SnapshotOptions = {}): Uint8Array {
    return encodeContainer(this.snapshotSections(options, encodePages(this.board.ram)));
  }

  /**
   * The snapshot's sections with the RAM section given (live migration sends
   * only the pages the target lacks; an empty page set is valid).
   */
  snapshotSections(options: SnapshotOptions, ram: Uint8Array): Section[] {
    const cpu = this.guestCpu();
    let devices: VirtBoardDeviceState;
    try {
      devices = this.board.getDeviceState();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === "VIRTIO_BUSY") throw new SnapshotError("SNAPSHOT_BUSY", (e as Error).message);
      throw e;
    }
    const c = this.config;
    const meta: SnapshotMeta = {
      format: "hvkit.snapshot/1",
      strategy: this.strategy.name,
      config: {
        cmdline: c.cmdline,
        memory: c.memory,
        firmware: c.firmware === "builtin" ? "builtin" : "external",
        costProfile: c.costProfile,
        isaProfile: c.isaProfile.name,
        exitOn: c.exitOn,
        devices: c.devices.length,
      },
      steps: this.hart.cycles,
      instret: this.hart.instret,
      vm: {
        input: [...this.input],
        sbiConsoleInput: this.sbiConsoleInput,
        stopped: this.stopped ?? null,
        ...(this.sbi ? { sbiPmu: { configured: this.sbi.pmuConfigured, started: this.sbi.pmuStarted } } : {}),
      },
      stats: { events: { ...this.events }, exits: Object.fromEntries(this.exits), wallMs: this.wallMs },
      disks: options.disks ?? [],
    };
    return [
      toJsonSection("META", meta),
      { tag: "CPU ", payload: encodeCpu(cpu) },
      toJsonSection("DEVS", devices),
      { tag: "RAM ", payload: ram },
    ];
  }

  /** The guest-visible hart (see GuestCpuState). */
  guestCpu(): GuestCpuState {
    const cpu = captureHart(this.hart);
    if (this.instance.guestState) this.instance.guestState(cpu);
    else if (this.strategy.techniques.cpu !== "emulation") {
      throw new SnapshotError(
        "SNAPSHOT_UNSUPPORTED",
        `the ${this.strategy.name} strategy cannot describe its guest's CPU (no guestState hook), so it cannot be snapshotted or migrated`,
      );
    }
    return cpu;
  }

  /** Load a read snapshot into this fresh VM (instead of booting). */
  private applySnapshot(snap: ReadSnapshot): void {
    const { board, hart } = this;
    if (snap.baseRam) {
      const base = snap.baseRam;
      const pages = snap.basePages;
      if (pages === undefined) board.ram.set(base);
      // Only the pages the caller says hold something: the rest of fresh RAM is zero already.
      else
        for (let i = 0; i < pages.length; i++) {
          const off = pages[i]! * 4096;
          if (off + 4096 <= board.ram.length) board.ram.set(base.subarray(off, off + 4096), off);
        }
    }
    decodePages(snap.ram, board.ram);
    hart.ramChanged(board.ramBase, board.ram.length);
    applyHart(hart, snap.cpu);
    try {
      board.setDeviceState(snap.devices as unknown as VirtBoardDeviceState);
    } catch (e) {
      if (e instanceof MachineError || (e as { code?: string }).code === "VIRTIO_BAD_STATE") {
        throw new SnapshotError(
          "SNAPSHOT_MISMATCH",
          `the snapshot's device state does not fit this VM's devices: ${(e as Error).message}`,
        );
      }
      throw e;
    }
    const m = snap.meta;
    this.input.push(...m.vm.input);
    this.sbiConsoleInput = m.vm.sbiConsoleInput;
    if (this.sbi && m.vm.sbiPmu) {
      this.sbi.pmuConfigured = m.vm.sbiPmu.configured;
      this.sbi.pmuStarted = m.vm.sbiPmu.started;
    }
    if (m.vm.stopped) this.stopped = m.vm.stopped;
    if (m.strategy === this.strategy.name) {
      Object.assign(this.events, m.stats.events);
      for (const [k, v] of Object.entries(m.stats.exits)) this.exits.set(k, v);
      this.wallMs = m.stats.wallMs;
    }
    this.builtinFirmwareExits();
  }

  private sbiHost() {
    return {
      hart: this.board.hart,
      readRam: (pa: number, length: number) => this.ramRange(pa, length),
      writeRam: (pa: number, bytes: Uint8Array) => {
        const r = this.ramRange(pa, bytes.length);
        if (!r) return false;
        r.set(bytes);
        this.hart.ramChanged(pa, bytes.length);
        this.instance.guestMemoryWritten?.(pa, bytes.length);
        return true;
      },
      consoleWrite: (bytes: Uint8Array) => this.emit(bytes),
      consoleRead: (max: number) => {
        // The guest reads its console through the SBI: input goes there from now on.
        this.sbiConsoleInput = true;
        return Uint8Array.from(this.input.splice(0, max));
      },
      setTimer: (ticks: number) => {
        // With Sstc the timer is stimecmp itself (as OpenSBI does when Sstc is present).
        const hi = ticks >= 2 ** 64 - 1 ? -1 : Math.floor(ticks / 4294967296) | 0;
        writeCsr(this.hart, CSR.stimecmp, (ticks % 4294967296) | 0, hi);
      },
      sendIpi: () => {
        // The guest's supervisor software interrupt, through its own sip: SSIP, or
        // with the guest in guest mode (V=1) vsip.SSIP, which is hvip.VSSIP.
        const hart = this.hart;
        if (readCsr(hart, CSR.sip)) writeCsr(hart, CSR.sip, hart.csrLo | (1 << Irq.SSI), 0);
      },
      remoteFence: () => {
        this.hart.flushTlb();
        this.instance.remoteFence?.();
      },
      systemReset: (type: number, reason: number) =>
        this.stop(type === 0 ? { stop: "poweroff", exitStatus: reason === 0 ? 0 : 1 } : { stop: "reset" }),
      suspend: () => {},
    };
  }

  /** A view of guest RAM [pa, pa+length), or undefined when the range is not all RAM. */
  private ramRange(pa: number, length: number): Uint8Array | undefined {
    const off = pa - this.board.ramBase;
    if (!Number.isSafeInteger(off) || off < 0 || length < 0 || off + length > this.board.ram.length)
      return undefined;
    return this.board.ram.subarray(off, off + length);
  }

  consoleWrite(bytes: Uint8Array): void {
    this.emit(bytes);
  }

  systemReset(type: "shutdown" | "reboot", failure: number): void {
    this.stop(
      type === "shutdown" ? { stop: "poweroff", exitStatus: failure === 0 ? 0 : 1 } : { stop: "reset" },
    );
  }

  /** Subscribe to console output (UART transmit and SBI console writes). */
  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.outputListeners.push(listener);
  }

  /** Queue console input for the guest (delivered to the UART, or to SBI console reads). */
  writeInput(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.input.push(bytes[i]! & 0xff);
  }

  private emit(bytes: Uint8Array): void {
    for (const l of this.outputListeners) l(bytes);
  }

  private readonly oneByte = new Uint8Array(1);

  private emitByte(byte: number): void {
    this.oneByte[0] = byte;
    this.emit(this.oneByte);
  }

  private stop(result: RunResult): void {
    if (!this.stopped) this.stopped = result;
    this.hart.requestHalt();
  }

  /** Count an exit to the VMM. */
  countExit(reason: string): void {
    this.exits.set(reason, (this.exits.get(reason) ?? 0) + 1);
  }

  /** Whether the VM has stopped for good (powered off, reset or faulted). */
  get finished(): RunResult | undefined {
    return this.stopped;
  }

  /**
   * Run the guest until it powers off, resets or faults, or a limit is hit.
   * Deterministic: the same guest and input give the same result for any limits.
   */
  run(limit: RunLimit = {}): RunResult {
    if (this.stopped) return this.stopped;
    const hart = this.hart;
    const board = this.board;
    const start = performance.now();
    const stepLimit = limit.steps ?? Number.POSITIVE_INFINITY;
    const startSteps = hart.cycles;
    try {
      for (;;) {
        if (this.stopped) return this.stopped;
        const used = hart.cycles - startSteps;
        if (used >= stepLimit) return { stop: "limit" };
        if (limit.wallMs !== undefined && performance.now() - start >= limit.wallMs) return { stop: "limit" };
        this.feedInput();
        // While input waits for room in the UART's FIFO, run short slices so it
        // trickles in at the guest's pace instead of one FIFO-full per slice.
        const slice =
          this.input.length > 0 && !this.sbiConsoleInput && board.uart.receiverInUse ? INPUT_SLICE : SLICE;
        const r = board.run(Math.min(slice, stepLimit - used));
        switch (r.reason) {
          case "poweroff": {
            const p = board.powerOff!;
            // A failure reported with code 0 is still a failure.
            return this.finish({ stop: "poweroff", exitStatus: p.pass ? 0 : p.code || 1 });
          }
          case "reset":
            return this.finish({ stop: "reset" });
          case "budget":
          case "halt":
            break;
          case "idle":
            this.countExit("wfi");
            // Only console input can wake a hart that waits with no timer armed, and
            // only through a UART whose driver listens (an SBI reader is not waiting in WFI).
            if (this.input.length === 0 || this.sbiConsoleInput || !board.uart.receiverInUse) {
              return { stop: "idle" };
            }
            break;
          case "exit":
            if (!this.handleExit()) return this.stopped ?? { stop: "fault" };
            if (this.idlePending) {
              // The strategy emulated a WFI that no timer will end (waitForInterrupt).
              this.idlePending = false;
              if (this.input.length === 0 || this.sbiConsoleInput || !board.uart.receiverInUse) {
                return { stop: "idle" };
              }
            }
            break;
        }
      }
    } finally {
      this.wallMs += performance.now() - start;
    }
  }

  private finish(result: RunResult): RunResult {
    this.stopped ??= result;
    return this.stopped;
  }

  /** A TRAP or INTERRUPT exit: SBI calls first, then the strategy. False when the guest cannot continue. */
  private handleExit(): boolean {
    const hart = this.hart;
    const e = hart.exit;
    if (e.reason === ExitReason.TRAP && this.sbi && e.cause === Cause.ECALL_S && e.mode === PRV_S) {
      this.hypercall();
      hart.setPc(e.pc + 4n);
      return true;
    }
    if (this.instance.handleExit?.(e)) return true;
    this.fault();
    return false;
  }

  hypercall(): boolean {
    if (!this.sbi) return false;
    this.countExit("sbi");
    this.chargeExit();
    this.events.hypercall++;
    // A retentive suspend (HSM) returns at once: a legal early wake-up; the guest's idle
    // loop then waits in WFI, where time is skipped. Resets stop the loop via `stopped`.
    this.sbi.handle();
    return true;
  }

  waitForInterrupt(wake: number): void {
    // The board's rule for a WFI the hart runs: skip to the next timer deadline, else idle.
    const ticks = this.board.ticksToWake(wake);
    if (ticks > 0) this.hart.skipTime(ticks);
    else this.idlePending = true;
  }

  /** Charge one exit: a native trap to firmware for emulation, a VM exit and entry otherwise. */
  private chargeExit(): void {
    if (this.strategy.techniques.cpu === "emulation") {
      this.events.trap++;
      this.events.trapReturn++;
    } else {
      this.events.vmExit++;
      this.events.vmEntry++;
    }
  }

  /** Move queued console input into the UART's receive FIFO as it has room. */
  private feedInput(): void {
    if (this.input.length === 0 || this.sbiConsoleInput) return;
    const uart = this.board.uart;
    // Hold input back until a UART driver listens (the guest may read through the SBI instead).
    if (!uart.receiverInUse) return;
    const room = uart.rxSpace();
    if (room > 0) uart.receive(this.input.splice(0, room));
  }

  private fault(): RunResult {
    const e = this.hart.exit;
    const where = `at pc 0x${e.pc.toString(16)}`;
    const message =
      e.reason === ExitReason.TRAP
        ? `the ${this.strategy.name} strategy did not handle exception ${e.cause} ${where} (tval 0x${e.tval.toString(16)})`
        : e.reason === ExitReason.INTERRUPT
          ? `the ${this.strategy.name} strategy did not handle interrupt ${e.cause}`
          : `the ${this.strategy.name} strategy did not handle a ${EXIT_REASON_NAMES[e.reason] ?? e.reason} exit ${where}${e.reason === ExitReason.CSR ? ` (CSR 0x${e.csr.toString(16)})` : e.reason === ExitReason.MMIO ? ` (guest-physical 0x${e.gpa.toString(16)})` : ""}`;
    this.stopped = { stop: "fault", message };
    return this.stopped;
  }

  /**
   * Counters of the devices in the virtio slots that report them (a
   * `counters()` method, as @hvkit/virtio's transports have), each key
   * prefixed with the device's name: "virtio0-blk.notifications".
   */
  deviceCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const dev of this.board.virtio) {
      if (!hasCounters(dev)) continue;
      for (const [k, v] of Object.entries(dev.counters())) out[`${dev.name}.${k}`] = v;
    }
    return out;
  }

  /** Queue notifications (kicks) the devices received, for the virtqueueNotify cost. */
  private deviceNotifications(): number {
    let n = 0;
    for (const dev of this.board.virtio) if (hasCounters(dev)) n += dev.counters().notifications ?? 0;
    return n;
  }

  /** Statistics in the common schema. */
  get stats(): VmStats {
    // First: a strategy may settle its accounts (e.g. instructions by the guest's own mode).
    const counters = { ...this.instance.counters?.(), ...this.deviceCounters() };
    const hart = this.hart;
    const t = hart.trapStats;
    let traps = 0;
    for (let i = 0; i < TRAP_STATS_MRET; i++) traps += t[i]!;
    const events = {
      ...this.events,
      instruction: hart.instret,
      trap: this.events.trap + traps,
      trapReturn: this.events.trapReturn + t[TRAP_STATS_MRET]! + t[TRAP_STATS_SRET]!,
      // A kick is backend work in the VMM under every strategy but emulation, where the
      // device stands in for hardware (its MMIO exits, if any, are charged by the strategy).
      virtqueueNotify:
        this.events.virtqueueNotify +
        (this.strategy.techniques.cpu === "emulation" ? 0 : this.deviceNotifications()),
    };
    const { byCategory, total } = modeledCycles(events, this.config.costProfile);
    const byReason = Object.fromEntries(this.exits);
    // SBI calls, and a strategy's own hypercalls (a paravirtual ABI) by name.
    const hypercalls = { ...(this.sbi ? this.sbi.calls() : {}), ...this.instance.hypercalls?.() };
    return {
      schema: "hvkit.vm-stats/1",
      strategy: this.strategy.name,
      techniques: { ...this.strategy.techniques, io: [...this.strategy.techniques.io] },
      instructions: {
        total: hart.instret,
        // A guest in the hart's guest mode runs its S and U in VS and VU.
        byMode: {
          M: hart.counters[CounterSlot.INSTRET_M]!,
          S: hart.counters[CounterSlot.INSTRET_S]! + hart.counters[CounterSlot.INSTRET_VS]!,
          U: hart.counters[CounterSlot.INSTRET_U]! + hart.counters[CounterSlot.INSTRET_VU]!,
        },
      },
      steps: hart.cycles,
      exits: { total: sum(byReason), byReason },
      hypercalls: { total: sum(hypercalls), byName: hypercalls },
      cycles: { profile: this.config.costProfile.name, total, byCategory: { ...byCategory } },
      wallSeconds: this.wallMs / 1000,
      counters,
    };
  }
}

/** Bytes standing in for the kernel and firmware images of a restored VM (they are in its RAM). */
const RESTORED_IMAGE = Uint8Array.of(0);

/** A reference to a disk behind one of the VM's virtio devices, for reopening it on restore. */
export interface DiskReference {
  /** The virtio slot of the disk's device. */
  slot: number;
  /** Where the image is (a path, a URL: the caller's own naming). */
  path: string;
  /** Image format: "raw", "qcow2", "cow" (copy-on-write overlay)... */
  format: string;
  /** Opened read-only. */
  readOnly?: boolean;
  /** For an overlay: the reference of its base image. */
  base?: DiskReference;
  /** Anything else the caller needs to reopen it (identity: size, a digest...). */
  identity?: Record<string, string | number | boolean>;
}

/** Options of `vm.snapshot()`. */
export interface SnapshotOptions {
  /** References to the disks behind the virtio devices (the VM cannot name them itself). */
  disks?: DiskReference[];
}

/** Options of `Vm.restore()`. */
export interface RestoreOptions {
  /** Restore under this strategy (default: the one the snapshot was taken under). */
  strategy?: string | StrategyDefinition;
  /** The virtio devices, in the slots they had (their state comes from the snapshot). */
  devices?: VmConfig["devices"];
  /** Cost profile for the restored VM's modeled cycles (default the snapshot's). */
  costProfile?: string | CostProfile;
  /**
   * Guest RAM as received before the snapshot (live migration: the pages
   * pre-copied in earlier rounds); the snapshot's RAM section is applied on
   * top of it instead of on zeroed RAM.
   */
  baseRam?: Uint8Array;
  /**
   * With baseRam: the only pages of it that may be non-zero (the others are
   * not copied, which saves touching all of a large RAM while the guest is
   * stopped). Default: all of it.
   */
  basePages?: ArrayLike<number>;
}

/** The snapshot's META section. */
export interface SnapshotMeta {
  format: "hvkit.snapshot/1";
  /** The strategy it was taken under. */
  strategy: string;
  config: {
    cmdline: string;
    memory: number;
    firmware: "builtin" | "external";
    costProfile: CostProfile;
    isaProfile: string;
    exitOn: ResolvedVmConfig["exitOn"];
    /** Number of virtio devices. */
    devices: number;
  };
  /** Steps and instructions retired when it was taken. */
  steps: number;
  instret: number;
  vm: {
    input: number[];
    sbiConsoleInput: boolean;
    stopped: RunResult | null;
    /** The built-in SBI's PMU counters configured and started (bit i: counter i); absent under other firmware. */
    sbiPmu?: { configured: number; started: number };
  };
  stats: { events: CostEvents; exits: Record<string, number>; wallMs: number };
  disks: DiskReference[];
}

/** A decoded, checked snapshot. */
interface ReadSnapshot {
  meta: SnapshotMeta;
  cpu: GuestCpuState;
  devices: Record<string, unknown>;
  ram: Uint8Array;
  /** Guest RAM received before (live migration's pre-copy); the RAM section goes on top. */
  baseRam?: Uint8Array;
  /** The pages of baseRam that may be non-zero (all when absent). */
  basePages?: ArrayLike<number>;
}

/** A mask of the built-in SBI's PMU counters (3 of them). */
function isCounterMask(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 7;
}

/** Read the META section of a snapshot (checks the whole container): what it holds, for tools. */
export function inspectSnapshot(bytes: Uint8Array): SnapshotMeta {
  return readSnapshot(bytes).meta;
}

function readSnapshot(bytes: Uint8Array): ReadSnapshot {
  const sections = decodeContainer(bytes);
  const meta = jsonSection(sections, "META") as unknown as SnapshotMeta;
  const bad = (what: string): SnapshotError =>
    new SnapshotError("SNAPSHOT_CORRUPT", `the snapshot's META section is damaged (${what})`);
  if (meta.format !== "hvkit.snapshot/1") throw bad(`format ${String(meta.format)}`);
  if (typeof meta.strategy !== "string") throw bad("strategy");
  const c = meta.config as Partial<SnapshotMeta["config"]> | undefined;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.cmdline !== "string" ||
    typeof c.memory !== "number" ||
    (c.firmware !== "builtin" && c.firmware !== "external") ||
    typeof c.costProfile !== "object" ||
    typeof c.isaProfile !== "string" ||
    typeof c.devices !== "number" ||
    typeof c.exitOn !== "object" ||
    c.exitOn === null ||
    !Array.isArray(c.exitOn.csrs)
  ) {
    throw bad("config");
  }
  const v = meta.vm as Partial<SnapshotMeta["vm"]> | undefined;
  if (
    typeof v !== "object" ||
    v === null ||
    !Array.isArray(v.input) ||
    v.input.some((b) => typeof b !== "number" || b < 0 || b > 255 || !Number.isInteger(b)) ||
    typeof v.sbiConsoleInput !== "boolean" ||
    (v.sbiPmu !== undefined &&
      (typeof v.sbiPmu !== "object" ||
        v.sbiPmu === null ||
        !isCounterMask(v.sbiPmu.configured) ||
        !isCounterMask(v.sbiPmu.started)))
  ) {
    throw bad("vm");
  }
  const st = meta.stats as Partial<SnapshotMeta["stats"]> | undefined;
  if (
    typeof st !== "object" ||
    st === null ||
    typeof st.events !== "object" ||
    typeof st.exits !== "object"
  ) {
    throw bad("stats");
  }
  if (!Array.isArray(meta.disks)) throw bad("disks");
  const cpu = decodeCpu(requireSection(sections, "CPU "));
  const devices = jsonSection(sections, "DEVS");
  return { meta, cpu, devices, ram: requireSection(sections, "RAM ") };
}

/** A device that reports counters (virtio transports do). */
function hasCounters(d: Device): d is Device & { counters(): Record<string, number> } {
  return typeof (d as { counters?: unknown }).counters === "function";
}

function sum(r: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(r)) s += v;
  return s;
}
