/**
 * VmConfig: one description of a VM that is the same for every strategy —
 * the guest image, initrd, command line, memory size, firmware, cost model,
 * devices.
 */
import type { IsaProfile } from "@hvkit/isa";
import { STANDARD_PROFILE } from "@hvkit/isa";
import { VIRT_MEMORY_MAP, type VirtioSlotFactory } from "@hvkit/machine";
import type { CostProfile } from "./cost.js";
import { COST_PROFILES, DEFAULT_COST_PROFILE } from "./cost.js";
import { HypervisorError } from "./errors.js";
import { type ExitOnConfig, type ResolvedExitOn, resolveExitOn } from "./exit-on.js";

/** Everything needed to create a VM, independent of the strategy that runs it. */
export interface VmConfig {
  /** The guest kernel: a RISC-V Linux Image (PE/EFI stub, possibly gzip-compressed) or an ELF executable. */
  kernel: Uint8Array;
  /** An initramfs (placed in RAM and announced in the devicetree). */
  initrd?: Uint8Array;
  /** The kernel command line (devicetree /chosen/bootargs). */
  cmdline?: string;
  /** Guest RAM in bytes: a multiple of 2 MiB, at least 16 MiB, at most 2 GiB. Default 512 MiB. */
  memory?: number;
  /** "builtin" (the host serves SBI) or an OpenSBI image (fw_dynamic.bin or fw_jump.bin). Default "builtin". */
  firmware?: "builtin" | Uint8Array;
  /** Cost-model profile by name or value. Default "modern". */
  costProfile?: string | CostProfile;
  /**
   * The hart's ISA profile (@hvkit/isa). Default STANDARD_PROFILE; the opt-in
   * NON_VIRTUALIZABLE_PROFILE lets a few sensitive operations complete in U-mode
   * without trapping, which strategies that deprivilege the guest must refuse or report.
   */
  isaProfile?: IsaProfile;
  /**
   * Guest exits to ask for beyond the ones the strategy needs (every CSR
   * access, WFI, page faults...), for experiments on the cost of exiting:
   * strategies that run the guest in the hart's guest mode (hardware-assisted)
   * program them; others refuse them. Default none.
   */
  exitOn?: ExitOnConfig;
  /**
   * Devices for the board's virtio-mmio slots, in slot order (slot i at
   * 0x1000_1000 + 0x1000 * i, PLIC source 1 + i, described in the
   * devicetree): at most 8. Each factory builds its transport when the VM is
   * created (e.g. `virtioMmio(new VirtioBlk(...))` from @hvkit/virtio). Every
   * device DMA write reaches the hart and the strategy (`guestMemoryWritten`).
   */
  devices?: readonly VirtioSlotFactory[];
}

/** A VmConfig with every default filled in and validated. */
export interface ResolvedVmConfig {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array | undefined;
  readonly cmdline: string;
  readonly memory: number;
  readonly firmware: "builtin" | Uint8Array;
  readonly costProfile: CostProfile;
  readonly isaProfile: IsaProfile;
  readonly exitOn: ResolvedExitOn;
  readonly devices: readonly VirtioSlotFactory[];
}

const MIB = 1024 * 1024;
/** Default guest RAM. */
export const DEFAULT_MEMORY = 512 * MIB;

/** Validate a VmConfig and fill in its defaults; throws HV_INVALID_CONFIG with what to change. */
export function resolveConfig(config: VmConfig): ResolvedVmConfig {
  if (!(config.kernel instanceof Uint8Array) || config.kernel.length === 0) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      "VmConfig.kernel must be the bytes of a kernel image (got none)",
    );
  }
  const memory = config.memory ?? DEFAULT_MEMORY;
  if (!Number.isInteger(memory) || memory % (2 * MIB) !== 0 || memory < 16 * MIB || memory > 2048 * MIB) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      `VmConfig.memory = ${memory} bytes; it must be a multiple of 2 MiB between 16 MiB and 2 GiB`,
    );
  }
  let costProfile: CostProfile;
  if (config.costProfile === undefined) costProfile = DEFAULT_COST_PROFILE;
  else if (typeof config.costProfile === "string") {
    const p = COST_PROFILES[config.costProfile];
    if (!p) {
      throw new HypervisorError(
        "HV_INVALID_CONFIG",
        `unknown cost profile "${config.costProfile}"; known: ${Object.keys(COST_PROFILES).join(", ")}`,
      );
    }
    costProfile = p;
  } else costProfile = config.costProfile;
  const firmware = config.firmware ?? "builtin";
  if (firmware !== "builtin" && !(firmware instanceof Uint8Array && firmware.length > 0)) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      'VmConfig.firmware must be "builtin" or the bytes of an OpenSBI image',
    );
  }
  if (config.initrd !== undefined && !(config.initrd instanceof Uint8Array)) {
    throw new HypervisorError("HV_INVALID_CONFIG", "VmConfig.initrd must be bytes");
  }
  const isaProfile = config.isaProfile ?? STANDARD_PROFILE;
  if (typeof isaProfile !== "object" || !Array.isArray(isaProfile.nonTrapping)) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      "VmConfig.isaProfile must be an IsaProfile from @hvkit/isa (STANDARD_PROFILE, NON_VIRTUALIZABLE_PROFILE)",
    );
  }
  const devices = config.devices ?? [];
  if (!Array.isArray(devices) || devices.some((d) => typeof d !== "function")) {
    throw new HypervisorError(
      "HV_INVALID_CONFIG",
      "VmConfig.devices must be an array of virtio slot factories (e.g. virtioMmio(device) from @hvkit/virtio)",
    );
  }
  const slots = VIRT_MEMORY_MAP.virtio.count;
  if (devices.length > slots) {
    throw new HypervisorError(
      "HV_TOO_MANY_DEVICES",
      `VmConfig.devices lists ${devices.length} devices; the board has ${slots} virtio-mmio slots: give at most ${slots}`,
    );
  }
  return {
    kernel: config.kernel,
    initrd: config.initrd,
    cmdline: config.cmdline ?? "",
    memory,
    firmware,
    costProfile,
    isaProfile,
    exitOn: resolveExitOn(config.exitOn),
    devices: [...devices],
  };
}
