/**
 * The strategy contract and the registry. A strategy is one way of
 * virtualizing the CPU, composed with a memory-virtualization technique and
 * I/O backends; the benchmark app and the CLI know strategies only through
 * this interface and the registry.
 */
import type { HartExit } from "@hvkit/cpu";
import type { ResolvedVmConfig } from "./config.js";
import { HypervisorError } from "./errors.js";
import type { GuestCpuState } from "./snapshot/cpu.js";
import type { VmCore } from "./vm.js";

/** How the CPU is virtualized. */
export type CpuTechnique =
  | "emulation"
  | "trap-and-emulate"
  | "binary-translation"
  | "paravirt"
  | "hardware-assisted";
/** How guest memory is virtualized. */
export type MemoryTechnique = "native" | "shadow-paging" | "nested-paging" | "paravirt";

/** The techniques a strategy composes. */
export interface Techniques {
  /** CPU virtualization technique. */
  readonly cpu: CpuTechnique;
  /** Memory virtualization technique. */
  readonly memory: MemoryTechnique;
  /** I/O backends ("emulated", "virtio", "passthrough"). */
  readonly io: readonly string[];
}

/** A strategy bound to one VM. */
export interface StrategyInstance {
  /** Called once, after the images are loaded and before the first run: program exit controls, initial mode. */
  start(): void;
  /**
   * A TRAP or INTERRUPT exit the VMM core did not consume. Return true when
   * handled (the guest resumes), false to stop the VM with a guest fault.
   */
  handleExit?(exit: HartExit): boolean;
  /** Strategy-specific counters for `vm.stats.counters`. */
  counters?(): Record<string, number>;
  /** Hypercalls the strategy serves itself (beyond the built-in SBI), by name, for `vm.stats.hypercalls`. */
  hypercalls?(): Record<string, number>;
  /**
   * The guest asked the SBI for a remote fence (RFENCE, or the legacy remote
   * sfence.vma calls): drop cached translations the strategy keeps beyond the
   * hart's TLB (shadow page tables, translated code keyed by virtual address).
   */
  remoteFence?(): void;
  /**
   * The VMM core wrote guest RAM [pa, pa+length) behind the guest's back (an
   * SBI console read, DMA): refresh what the strategy derived from it
   * (shadows of page tables it write-protects, translated code).
   */
  guestMemoryWritten?(pa: number, length: number): void;
  /**
   * Snapshots and migration: turn `cpu`, a copy of the real hart's state,
   * into the guest-visible hart (the guest's privilege and supervisor CSRs
   * where a machine the guest owned would hold them, V = 0), folding in the
   * strategy's virtual CPU. On restore the VMM core loads that state into the
   * hart and calls `start()`, which takes it over as it takes over the boot
   * state. Required of every strategy that keeps guest state outside the real
   * CSRs (without it, `vm.snapshot()` refuses with SNAPSHOT_UNSUPPORTED unless
   * the CPU technique is emulation). Derived state (shadow tables, translated
   * code) is not saved: `start()` rebuilds it.
   */
  guestState?(cpu: GuestCpuState): void;
}

/** A registered strategy. */
export interface StrategyDefinition {
  /** Registry name (`emulation`, `trap-and-emulate+shadow-sfence`, ...). */
  readonly name: string;
  /** One line for listings. */
  readonly description: string;
  /** What it composes. */
  readonly techniques: Techniques;
  /** Refuse a configuration this strategy cannot run (throw HV_INVALID_COMBINATION / HV_UNSUPPORTED). */
  validate?(config: ResolvedVmConfig): void;
  /**
   * Bytes of VMM-private RAM the strategy needs for this configuration (a
   * multiple of 4 KiB; default 0): placed right above guest RAM, addressable
   * by the hart (shadow page tables, translation caches) but absent from the
   * devicetree and out of reach of the loaders, guest DMA and the SBI. It is
   * `core.privateRam` at physical address `core.privateRamBase`.
   */
  privateMemory?(config: ResolvedVmConfig): number;
  /**
   * Run the guest in the hart's guest mode: the board's hart gets the H
   * extension (VS/VU modes, two-stage translation, the guest-mode exit
   * controls) and the strategy programs `config.exitOn` into those controls.
   * Default false: the hart has no H extension, and a VmConfig asking for
   * exits (`exitOn`) is refused with HV_INVALID_COMBINATION.
   */
  readonly hypervisorExtension?: boolean;
  /** Bind to a VM being created. */
  create(core: VmCore): StrategyInstance;
}

const registry = new Map<string, StrategyDefinition>();

/** Add a strategy to the registry; a name can be registered once. */
export function registerStrategy(definition: StrategyDefinition): void {
  if (registry.has(definition.name)) {
    if (registry.get(definition.name) === definition) return;
    throw new HypervisorError(
      "HV_DUPLICATE_STRATEGY",
      `a strategy named "${definition.name}" is already registered`,
    );
  }
  registry.set(definition.name, definition);
}

/** Look up a strategy by name; throws HV_UNKNOWN_STRATEGY listing the known ones. */
export function getStrategy(name: string): StrategyDefinition {
  const s = registry.get(name);
  if (!s) {
    const known = [...registry.keys()].sort().join(", ") || "none registered";
    throw new HypervisorError(
      "HV_UNKNOWN_STRATEGY",
      `unknown strategy "${name}"; known strategies: ${known}`,
    );
  }
  return s;
}

/** Every registered strategy, in registration order. */
export function listStrategies(): StrategyDefinition[] {
  return [...registry.values()];
}
