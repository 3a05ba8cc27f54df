/**
 * The `virt` board: one RV64GC hart, RAM at 0x8000_0000, and the devices of
 * QEMU's riscv64 `virt` machine at QEMU's addresses, so that OpenSBI, U-Boot
 * and Linux built for QEMU find what they expect (see {@link VIRT_MEMORY_MAP}).
 * The board wires the devices, generates the devicetree that describes them,
 * and runs the hart in slices bounded by the next timer event.
 */
import { allocateGuestMemory, CsrSlot, ExitReason, Hart, Irq } from "@hvkit/cpu";
import type { IsaProfile } from "@hvkit/isa";
import { Bus } from "./bus.js";
import type { Device, IrqLine, Stateful } from "./device.js";
import { Clint, type ClintState } from "./devices/clint.js";
import { PLIC_NDEV, Plic, type PlicState } from "./devices/plic.js";
import { record } from "./devices/state.js";
import { FINISHER_PASS, FINISHER_RESET, type PowerOffStatus, SifiveTest } from "./devices/syscon.js";
import { Uart16550, type UartState } from "./devices/uart.js";
import { VirtioMmioEmpty } from "./devices/virtio-empty.js";
import { hex, MachineError } from "./errors.js";
import { FdtBuilder } from "./fdt.js";
import { loadKernel, placeDtb, placeInitrd, type Region } from "./loaders.js";

/** Physical address map of the board (QEMU hw/riscv/virt.c `virt_memmap`). */
export const VIRT_MEMORY_MAP = {
  test: { base: 0x0010_0000, size: 0x1000 },
  clint: { base: 0x0200_0000, size: 0x1_0000 },
  plic: { base: 0x0c00_0000, size: 0x60_0000 },
  uart0: { base: 0x1000_0000, size: 0x100 },
  virtio: { base: 0x1000_1000, size: 0x1000, count: 8 },
  dram: { base: 0x8000_0000 },
} as const;

/** PLIC sources (QEMU's UART0_IRQ and VIRTIO_IRQ; virtio slot i uses `virtio + i`). */
export const VIRT_IRQ = { uart0: 10, virtio: 1 } as const;

/** Default RAM size: 512 MiB. */
export const DEFAULT_RAM_SIZE = 512 * 1024 * 1024;

/**
 * Devicetree timebase-frequency: 10 MHz, QEMU's value, so time-related
 * constants in guests look the same. hvkit's time is virtual: one tick is
 * `stepsPerTick` steps (10 by default), so a guest sees a machine that
 * executes stepsPerTick x 10 million instructions per second of its time.
 */
export const TIMEBASE_FREQUENCY = 10_000_000;

/** The ISA string of the hart in the devicetree. */
export const RISCV_ISA = "rv64imafdc_zicsr_zifencei_sstc";
/** The hart's extensions, for riscv,isa-extensions. */
export const RISCV_ISA_EXTENSIONS = [
  "i",
  "m",
  "a",
  "f",
  "d",
  "c",
  "zicsr",
  "zifencei",
  "zicntr",
  "sstc",
] as const;

/** What a virtio-mmio transport factory gets from the board. */
export interface VirtioSlotContext {
  /** Slot number, 0..7. */
  slot: number;
  /** Physical base of the slot's window. */
  base: number;
  /** PLIC source number of the slot. */
  plicSource: number;
  /** The slot's interrupt line. */
  irq: IrqLine;
  /** Guest RAM (for virtqueue DMA). */
  ram: Uint8Array;
  /** Physical address of ram[0]. */
  ramBase: number;
  /**
   * Tell the machine that the device wrote guest RAM [pa, pa+length) (DMA):
   * the hart drops decoded code there and the board's `onDmaWrite` hears of it.
   * Call it after every write into `ram`.
   */
  dmaWritten(pa: number, length: number): void;
}

/** Builds the device for a virtio-mmio slot (a transport with its backend). */
export type VirtioSlotFactory = (context: VirtioSlotContext) => Device;

/** Options of {@link VirtBoard}. */
export interface VirtBoardConfig {
  /** RAM size in bytes: a multiple of 4 KiB, at most 2 GiB. Default 512 MiB. */
  ramSize?: number;
  /**
   * Host-private RAM in bytes (a multiple of 4 KiB; default 0) placed right above
   * the guest's `ramSize` bytes: the hart can address it (a hypervisor keeps its
   * shadow page tables there), but the devicetree, the loaders and virtio DMA see
   * only `ram`. RAM plus hidden RAM is at most 2 GiB.
   */
  hiddenRamSize?: number;
  /** The ISA profile of the hart (@hvkit/isa; default the standard one). */
  isaProfile?: IsaProfile;
  /** Steps per tick of the hart's time. Default 10. */
  stepsPerTick?: number;
  /** PMP entries of the hart (0 or 16). Default 16. */
  pmpEntries?: 0 | 16;
  /**
   * Give the hart the H extension (VS/VU modes, two-stage translation, the
   * guest-mode exit controls), for a hardware-assisted hypervisor. The
   * devicetree still describes the machine a guest sees (no "h"). Default false.
   */
  hypervisor?: boolean;
  /** Called with each byte the guest writes to the UART. */
  onConsole?: (byte: number) => void;
  /** RX FIFO depth of the UART. Default 16. */
  uartFifoSize?: number;
  /** Devices for the virtio-mmio slots, by slot; a missing one leaves the slot empty. */
  virtio?: readonly (VirtioSlotFactory | undefined)[];
  /**
   * A virtio device wrote guest RAM [pa, pa+length) (after the hart's decoded
   * code there was dropped): a hypervisor refreshes what it derived from guest
   * memory (shadow page tables, translated code).
   */
  onDmaWrite?: (pa: number, length: number) => void;
  /** The guest powered off through the test device. */
  onPowerOff?: (status: PowerOffStatus) => void;
  /** The guest asked for a reset through the test device. */
  onReset?: () => void;
}

/** Options of {@link VirtBoard.devicetree}. */
export interface DevicetreeOptions {
  /** Kernel command line (/chosen/bootargs). */
  bootargs?: string;
  /** Where the initrd was placed (/chosen/linux,initrd-start and -end). */
  initrd?: Region;
}

/** Why {@link VirtBoard.run} returned. */
export type RunReason =
  /** The guest powered off (see `powerOff`). */
  | "poweroff"
  /** The guest asked for a reset: call `board.reset()` and set up a boot again. */
  | "reset"
  /** `maxSteps` steps ran. */
  | "budget"
  /** The hart waits (WFI) for an interrupt no timer will raise: feed input or stop. */
  | "idle"
  /** Someone else asked the hart to halt (`hart.requestHalt()`). */
  | "halt"
  /** The hart exited on a trap or interrupt selected by its exit controls: see `hart.exit`. */
  | "exit";

/** The outcome of {@link VirtBoard.run}. */
export interface RunResult {
  reason: RunReason;
  /** Steps executed by this call. */
  steps: number;
  /** The power-off status when reason is "poweroff". */
  powerOff?: PowerOffStatus;
}

/** Where {@link VirtBoard.loadLinux} put things; start the hart at `entry` with a0 = 0, a1 = `dtb.start`. */
export interface BootInfo {
  /** Kernel entry point. */
  entry: number;
  /** The kernel's footprint. */
  kernel: Region;
  /** The devicetree. */
  dtb: Region;
  /** The initrd, when given. */
  initrd?: Region;
  /** The kernel's format. */
  format: "elf" | "linux-image";
}

/** Snapshot state of the board's devices (RAM and the hart are saved by their owners). */
export interface VirtBoardDeviceState {
  clint: ClintState;
  plic: PlicState;
  uart0: UartState;
  /** Each virtio slot device's `getState()`, or null for a device without one. */
  virtio: unknown[];
}

/** Counters of the board and its devices. */
export interface VirtBoardCounters {
  /** Loads/stores that hit no device (access faults). */
  unmappedReads: number;
  unmappedWrites: number;
  /** Per mapped device: accesses and bad accesses. */
  devices: Record<string, { reads: number; writes: number; badAccesses: number }>;
  uart: { bytesIn: number; bytesOut: number; overruns: number };
  plic: { claims: number; emptyClaims: number; completions: number };
  clint: { timerInterrupts: number; softwareInterrupts: number };
}

function isStateful(d: Device): d is Device & Stateful<unknown> {
  const x = d as Partial<Stateful<unknown>>;
  return typeof x.getState === "function" && typeof x.setState === "function";
}

/** Steps per `hart.run` slice when no timer is closer: amortises the call, notices a halt quickly. */
const SLICE = 1 << 20;
const PHANDLE_CPU0_INTC = 1;
const PHANDLE_PLIC = 2;
const PHANDLE_TEST = 3;

/** The `virt` board. */
export class VirtBoard {
  /** The hart. */
  readonly hart: Hart;
  /** Guest RAM (what the devicetree describes). */
  readonly ram: Uint8Array;
  /** Host-private RAM right above `ram` (empty unless `hiddenRamSize` was given); the hart can address it. */
  readonly hiddenRam: Uint8Array;
  /** Physical address of ram[0] (0x8000_0000). */
  readonly ramBase = VIRT_MEMORY_MAP.dram.base;
  /** The device bus. */
  readonly bus = new Bus();
  /** The CLINT (msip, mtimecmp, mtime). */
  readonly clint: Clint;
  /** The PLIC (context 0: M-mode, 1: S-mode). */
  readonly plic: Plic;
  /** The console UART (PLIC source 10). */
  readonly uart: Uart16550;
  /** The SiFive test device (syscon for poweroff/reboot). */
  readonly test: SifiveTest;
  /** The device in each virtio-mmio slot (an empty header when none was given). */
  readonly virtio: readonly Device[];
  /** Set when the guest powered off. */
  powerOff: PowerOffStatus | undefined;
  /** Set when the guest asked for a reset. */
  resetRequested = false;

  constructor(config: VirtBoardConfig = {}) {
    const ramSize = config.ramSize ?? DEFAULT_RAM_SIZE;
    if (!Number.isInteger(ramSize) || ramSize <= 0 || ramSize % 4096 !== 0 || ramSize > 0x8000_0000) {
      throw new MachineError(
        "MACHINE_BAD_CONFIG",
        `ramSize ${ramSize} must be a positive multiple of 4096 and at most 2 GiB (RAM ends at 4 GiB)`,
      );
    }
    const hidden = config.hiddenRamSize ?? 0;
    if (!Number.isInteger(hidden) || hidden < 0 || hidden % 4096 !== 0 || ramSize + hidden > 0x8000_0000) {
      throw new MachineError(
        "MACHINE_BAD_CONFIG",
        `hiddenRamSize ${hidden} must be a multiple of 4096, and RAM plus hidden RAM at most 2 GiB`,
      );
    }
    const spt = config.stepsPerTick ?? 10;
    if (!Number.isInteger(spt) || spt < 1) {
      throw new MachineError("MACHINE_BAD_CONFIG", `stepsPerTick ${spt} must be a whole number >= 1`);
    }
    const slots = config.virtio ?? [];
    if (slots.length > VIRT_MEMORY_MAP.virtio.count) {
      throw new MachineError(
        "MACHINE_BAD_CONFIG",
        `${slots.length} virtio devices given; the board has ${VIRT_MEMORY_MAP.virtio.count} virtio-mmio slots`,
      );
    }
    // RAM in a WebAssembly memory where there is one: translated code compiled to WebAssembly runs on it.
    const { ram: all, arena } = allocateGuestMemory(ramSize + hidden);
    this.ram = all.subarray(0, ramSize);
    this.hiddenRam = all.subarray(ramSize);
    this.hart = new Hart({
      memory: { ram: all, ramBase: this.ramBase, bus: this.bus, ...(arena ? { arena } : {}) },
      stepsPerTick: spt,
      pmpEntries: config.pmpEntries ?? 16,
      ...(config.isaProfile ? { isaProfile: config.isaProfile } : {}),
      ...(config.hypervisor ? { hypervisor: true } : {}),
    });
    const hart = this.hart;
    const line =
      (irq: number): IrqLine =>
      (level) =>
        hart.setInterruptLine(irq, level);

    this.clint = new Clint({ clock: hart, msip: line(Irq.MSI), mtip: line(Irq.MTI) });
    this.plic = new Plic({ contexts: [line(Irq.MEI), line(Irq.SEI)], ndev: PLIC_NDEV });
    this.uart = new Uart16550({
      name: "uart0",
      irq: this.plic.line(VIRT_IRQ.uart0),
      ...(config.onConsole ? { onTransmit: config.onConsole } : {}),
      ...(config.uartFifoSize !== undefined ? { fifoSize: config.uartFifoSize } : {}),
    });
    const onPowerOff = config.onPowerOff;
    const onReset = config.onReset;
    this.test = new SifiveTest({
      onPowerOff: (status) => {
        this.powerOff = status;
        hart.requestHalt();
        onPowerOff?.(status);
      },
      onReset: () => {
        this.resetRequested = true;
        hart.requestHalt();
        onReset?.();
      },
    });

    const m = VIRT_MEMORY_MAP;
    this.bus.map(m.test.base, this.test);
    this.bus.map(m.clint.base, this.clint);
    this.bus.map(m.plic.base, this.plic);
    this.bus.map(m.uart0.base, this.uart);
    const onDmaWrite = config.onDmaWrite;
    const dmaWritten = (pa: number, length: number): void => {
      hart.ramChanged(pa, length);
      onDmaWrite?.(pa, length);
    };
    const virtio: Device[] = [];
    for (let i = 0; i < m.virtio.count; i++) {
      const base = m.virtio.base + i * m.virtio.size;
      const source = VIRT_IRQ.virtio + i;
      const factory = slots[i];
      const dev = factory
        ? factory({
            slot: i,
            base,
            plicSource: source,
            irq: this.plic.line(source),
            ram: this.ram,
            ramBase: this.ramBase,
            dmaWritten,
          })
        : new VirtioMmioEmpty(`virtio${i}`);
      if (dev.size > m.virtio.size) {
        throw new MachineError(
          "MACHINE_BAD_CONFIG",
          `virtio slot ${i}: device ${dev.name} is ${hex(dev.size)} bytes; a slot is ${hex(m.virtio.size)}`,
        );
      }
      this.bus.map(base, dev);
      virtio.push(dev);
    }
    this.virtio = virtio;
  }

  /** Generate the flattened devicetree describing this board. */
  devicetree(options: DevicetreeOptions = {}): Uint8Array {
    const m = VIRT_MEMORY_MAP;
    const reg = (base: number, size: number): number[] => [0, base, 0, size];
    const b = new FdtBuilder();
    b.beginNode("")
      .propU32("#address-cells", 2)
      .propU32("#size-cells", 2)
      .propString("compatible", "riscv-virtio")
      .propString("model", "hvkit,virt");

    b.beginNode("chosen");
    if (options.bootargs !== undefined) b.propString("bootargs", options.bootargs);
    b.propString("stdout-path", `/soc/serial@${m.uart0.base.toString(16)}`);
    if (options.initrd !== undefined) {
      b.propU64("linux,initrd-start", options.initrd.start).propU64("linux,initrd-end", options.initrd.end);
    }
    b.endNode(); // no rng-seed: runs stay deterministic

    b.beginNode("cpus").propU32("#address-cells", 1).propU32("#size-cells", 0);
    b.propU32("timebase-frequency", TIMEBASE_FREQUENCY);
    b.beginNode("cpu@0")
      .propString("device_type", "cpu")
      .propU32("reg", 0)
      .propString("status", "okay")
      .propString("compatible", "riscv")
      .propString("riscv,isa", RISCV_ISA)
      .propString("riscv,isa-base", "rv64i")
      .propStrings("riscv,isa-extensions", RISCV_ISA_EXTENSIONS)
      .propString("mmu-type", "riscv,sv48");
    b.beginNode("interrupt-controller")
      .propU32("#address-cells", 0)
      .propU32("#interrupt-cells", 1)
      .propEmpty("interrupt-controller")
      .propString("compatible", "riscv,cpu-intc")
      .propU32("phandle", PHANDLE_CPU0_INTC)
      .endNode();
    b.endNode().endNode(); // cpu@0, cpus

    b.beginNode(`memory@${this.ramBase.toString(16)}`)
      .propString("device_type", "memory")
      .propCells("reg", reg(this.ramBase, this.ram.length))
      .endNode();

    b.beginNode("poweroff")
      .propString("compatible", "syscon-poweroff")
      .propU32("regmap", PHANDLE_TEST)
      .propU32("offset", 0)
      .propU32("value", FINISHER_PASS)
      .endNode();
    b.beginNode("reboot")
      .propString("compatible", "syscon-reboot")
      .propU32("regmap", PHANDLE_TEST)
      .propU32("offset", 0)
      .propU32("value", FINISHER_RESET)
      .endNode();

    b.beginNode("soc")
      .propU32("#address-cells", 2)
      .propU32("#size-cells", 2)
      .propString("compatible", "simple-bus")
      .propEmpty("ranges");
    b.beginNode(`test@${m.test.base.toString(16)}`)
      .propStrings("compatible", ["sifive,test1", "sifive,test0", "syscon"])
      .propCells("reg", reg(m.test.base, m.test.size))
      .propU32("phandle", PHANDLE_TEST)
      .endNode();
    b.beginNode(`clint@${m.clint.base.toString(16)}`)
      .propStrings("compatible", ["sifive,clint0", "riscv,clint0"])
      .propCells("reg", reg(m.clint.base, m.clint.size))
      .propCells("interrupts-extended", [PHANDLE_CPU0_INTC, Irq.MSI, PHANDLE_CPU0_INTC, Irq.MTI])
      .endNode();
    b.beginNode(`plic@${m.plic.base.toString(16)}`)
      .propU32("#interrupt-cells", 1)
      .propU32("#address-cells", 0)
      .propStrings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"])
      .propEmpty("interrupt-controller")
      .propCells("interrupts-extended", [PHANDLE_CPU0_INTC, Irq.MEI, PHANDLE_CPU0_INTC, Irq.SEI])
      .propCells("reg", reg(m.plic.base, m.plic.size))
      .propU32("riscv,ndev", this.plic.ndev)
      .propU32("phandle", PHANDLE_PLIC)
      .endNode();
    b.beginNode(`serial@${m.uart0.base.toString(16)}`)
      .propString("compatible", "ns16550a")
      .propCells("reg", reg(m.uart0.base, m.uart0.size))
      .propU32("clock-frequency", 3_686_400)
      .propU32("interrupt-parent", PHANDLE_PLIC)
      .propU32("interrupts", VIRT_IRQ.uart0)
      .endNode();
    for (let i = 0; i < m.virtio.count; i++) {
      const base = m.virtio.base + i * m.virtio.size;
      const own = this.virtio[i]?.compatible;
      const compatible = own === undefined ? ["virtio,mmio"] : typeof own === "string" ? [own] : [...own];
      const first = compatible[0] ?? "virtio,mmio";
      const node = own === undefined ? "virtio_mmio" : first.slice(first.indexOf(",") + 1);
      b.beginNode(`${node}@${base.toString(16)}`)
        .propStrings("compatible", compatible)
        .propCells("reg", reg(base, m.virtio.size))
        .propU32("interrupt-parent", PHANDLE_PLIC)
        .propU32("interrupts", VIRT_IRQ.virtio + i)
        .endNode();
    }
    b.endNode(); // soc
    b.endNode(); // root
    return b.finish();
  }

  /**
   * Load a kernel (ELF or Linux Image, gzip allowed), an optional initrd and a
   * devicetree into RAM: the kernel where it asks, the devicetree at the top of
   * RAM (2 MiB aligned), the initrd below it. The hart is not touched: start it
   * at `entry` with a0 = hart id (0) and a1 = `dtb.start`.
   */
  loadLinux(options: { kernel: Uint8Array; initrd?: Uint8Array; bootargs?: string }): BootInfo {
    const k = loadKernel(this.ram, this.ramBase, options.kernel);
    const kernel = { start: k.start, end: k.end };
    const bootargs = options.bootargs !== undefined ? { bootargs: options.bootargs } : {};
    // The devicetree's size does not depend on the initrd's addresses: place it first.
    const probe = this.devicetree({
      ...bootargs,
      ...(options.initrd ? { initrd: { start: 0, end: 0 } } : {}),
    });
    const dtbSpot = placeDtb(this.ram, this.ramBase, probe, { avoid: [kernel] });
    let initrd: Region | undefined;
    if (options.initrd)
      initrd = placeInitrd(this.ram, this.ramBase, options.initrd, { avoid: [kernel, dtbSpot] });
    const dtb = this.devicetree({ ...bootargs, ...(initrd ? { initrd } : {}) });
    this.ram.set(dtb, dtbSpot.start - this.ramBase);
    this.hart.ramChanged(this.ramBase, this.ram.length);
    return {
      entry: k.entry,
      kernel,
      dtb: { start: dtbSpot.start, end: dtbSpot.start + dtb.length },
      ...(initrd ? { initrd } : {}),
      format: k.format,
    };
  }

  /**
   * Run the hart for up to `maxSteps` steps, in slices that end at the next
   * CLINT timer event; a WFI with a timer armed skips time to it.
   */
  run(maxSteps = Number.MAX_SAFE_INTEGER): RunResult {
    const hart = this.hart;
    const clint = this.clint;
    const start = hart.cycles;
    for (;;) {
      if (this.powerOff) return this.result("poweroff", start);
      if (this.resetRequested) return this.result("reset", start);
      const left = maxSteps - (hart.cycles - start);
      if (left <= 0) return this.result("budget", start);
      clint.update();
      const budget = Math.max(1, Math.min(left, SLICE, clint.stepsUntilNextEvent()));
      const reason = hart.run(budget);
      if (reason === ExitReason.BUDGET) continue;
      if (reason === ExitReason.HALT) {
        if (this.powerOff || this.resetRequested) continue;
        return this.result("halt", start);
      }
      if (reason === ExitReason.WFI) {
        const ticks = this.ticksToWake();
        if (ticks === 0) return this.result("idle", start);
        hart.skipTime(ticks);
        continue;
      }
      return this.result("exit", start);
    }
  }

  /** The outcome of a run that started at cycle `start` (a method, not a closure per run: run is called at every exit). */
  private result(reason: RunReason, start: number): RunResult {
    const steps = this.hart.cycles - start;
    return reason === "poweroff" && this.powerOff
      ? { reason, steps, powerOff: this.powerOff }
      : { reason, steps };
  }

  /**
   * Ticks until a timer that would wake a WFI fires, 0 when none is armed:
   * among the interrupts in `wake` (an mie-style mask; default the hart's
   * mie), the CLINT timer (MTI), the Sstc timer stimecmp (STI) and, with the
   * H extension, the VS-level Sstc timer vstimecmp (VSTI). A VMM that
   * emulates its guest's WFI skips time by this much, as the board does for a
   * WFI the hart runs.
   */
  ticksToWake(wake: number = this.hart.csr[CsrSlot.MIE]!): number {
    const hart = this.hart;
    const c = hart.csr;
    const now = hart.time();
    let best = Number.POSITIVE_INFINITY;
    if ((wake & (1 << Irq.MTI)) !== 0) {
      const cmp = this.clint.mtimecmp;
      if (cmp > now) best = cmp - now;
    }
    if ((wake & (1 << Irq.STI)) !== 0 && (c[CsrSlot.MENVCFG + 1]! & 0x80000000) !== 0) {
      const cmp = (c[CsrSlot.STIMECMP + 1]! >>> 0) * 4294967296 + (c[CsrSlot.STIMECMP]! >>> 0);
      if (cmp > now && cmp - now < best) best = cmp - now;
    }
    if ((wake & (1 << Irq.VSTI)) !== 0) {
      const t = vsTimerTicks(hart, now);
      if (t < best) best = t;
    }
    return best <= Number.MAX_SAFE_INTEGER ? Math.ceil(best) : 0;
  }

  /** Reset the devices and the hart (pc = `pc`, M-mode); RAM is kept. Clears the power-off and reset flags. */
  reset(pc: bigint = BigInt(this.ramBase)): void {
    this.hart.reset(pc);
    this.clint.reset();
    this.plic.reset();
    this.uart.reset();
    for (const dev of this.virtio) dev.reset?.();
    this.powerOff = undefined;
    this.resetRequested = false;
  }

  /**
   * The windows of the slot devices assigned to the guest (`direct`), for a
   * VMM that maps them straight into the guest instead of trapping accesses.
   */
  directRanges(): { base: number; size: number }[] {
    const out: { base: number; size: number }[] = [];
    const m = VIRT_MEMORY_MAP.virtio;
    this.virtio.forEach((d, i) => {
      if (d.direct === true) out.push({ base: m.base + i * m.size, size: m.size });
    });
    return out;
  }

  /** Counters of the bus and every device. */
  counters(): VirtBoardCounters {
    const devices: VirtBoardCounters["devices"] = {};
    for (const mp of this.bus.mappings()) {
      devices[mp.device.name] = { reads: mp.reads, writes: mp.writes, badAccesses: mp.device.badAccesses };
    }
    return {
      unmappedReads: this.bus.unmappedReads,
      unmappedWrites: this.bus.unmappedWrites,
      devices,
      uart: { bytesIn: this.uart.bytesIn, bytesOut: this.uart.bytesOut, overruns: this.uart.overruns },
      plic: {
        claims: this.plic.claims,
        emptyClaims: this.plic.emptyClaims,
        completions: this.plic.completions,
      },
      clint: {
        timerInterrupts: this.clint.timerInterrupts,
        softwareInterrupts: this.clint.softwareInterrupts,
      },
    };
  }

  /** Snapshot of the devices' state: the built-in ones, and each virtio slot device that has `getState()`. */
  getDeviceState(): VirtBoardDeviceState {
    return {
      clint: this.clint.getState(),
      plic: this.plic.getState(),
      uart0: this.uart.getState(),
      virtio: this.virtio.map((d) => (isStateful(d) ? d.getState() : null)),
    };
  }

  /** Restore {@link getDeviceState} output (after the hart's own state, so time is right). */
  setDeviceState(state: VirtBoardDeviceState): void {
    const s = record("board", state);
    const virtio = s.virtio;
    if (!Array.isArray(virtio) || virtio.length !== this.virtio.length) {
      throw new MachineError(
        "MACHINE_BAD_STATE",
        `board: invalid snapshot state (virtio must be an array of ${this.virtio.length}); pass an object returned by getDeviceState()`,
      );
    }
    this.plic.setState(s.plic as PlicState);
    this.uart.setState(s.uart0 as UartState);
    this.clint.setState(s.clint as ClintState);
    this.virtio.forEach((d, i) => {
      if (isStateful(d)) d.setState(virtio[i]);
    });
  }
}

/**
 * Ticks from host time `now` until the VS-level Sstc timer fires (H extension:
 * menvcfg.STCE and henvcfg.STCE set, guest time = time + htimedelta reaches
 * vstimecmp), or Infinity when it is off, pending already or out of reach.
 */
function vsTimerTicks(hart: Hart, now: number = hart.time()): number {
  const c = hart.csr;
  if (!hart.hypervisor || (c[CsrSlot.MENVCFG + 1]! & c[CsrSlot.HENVCFG + 1]! & 0x80000000) === 0) {
    return Number.POSITIVE_INFINITY;
  }
  if (hart.vsTimerPending()) return Number.POSITIVE_INFINITY;
  const cmp = (c[CsrSlot.VSTIMECMP + 1]! >>> 0) * 4294967296 + (c[CsrSlot.VSTIMECMP]! >>> 0);
  // htimedelta is signed; guest time wraps modulo 2^64.
  const delta = c[CsrSlot.HTIMEDELTA + 1]! * 4294967296 + (c[CsrSlot.HTIMEDELTA]! >>> 0);
  let t = cmp - delta;
  if (t >= 2 ** 64) t -= 2 ** 64;
  else if (t < 0) t += 2 ** 64;
  return t > now ? t - now : Number.POSITIVE_INFINITY;
}
