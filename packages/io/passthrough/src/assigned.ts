/**
 * A host block device assigned to one VM. It stands in for a real
 * DMA-capable controller: its register interface is virtio-mmio version 2
 * with a virtio-blk function (so the guest's existing virtio-blk driver
 * drives it, as a guest drives a real virtio-capable NIC or disk that
 * hardware exposes), and it moves data by DMA straight into the memory the
 * guest's driver names.
 *
 * Three things make it "assigned" rather than emulated or paravirtual:
 *
 * - Its register window is declared `direct`: the strategies map the page
 *   into the guest (shadow leaves under trap-and-emulate, G-stage leaves
 *   under hardware-assisted), so the guest's loads and stores reach the
 *   device with no VMM exit; under emulation every device is reached that way.
 * - Its DMA goes through an {@link IommuDomain}: the device sees all of host
 *   memory (the board's RAM, with the VMM's private RAM above the guest's),
 *   and the domain maps only the VM's pages, so a guest that programs a DMA
 *   address outside its memory gets a refused request and an IOMMU fault,
 *   and the host is never written outside the VM.
 * - Its doorbell work (a queue kick) is the device's, not the VMM's: its
 *   counters say `doorbells`, not virtio's `notifications`, which the VMM
 *   core charges as virtqueue work of the VMM.
 *
 * Interrupts go through the board's PLIC like every device's; a VMM that
 * can deliver them to the guest without an exit registers a posting hook
 * (`postInterrupts`: hardware-assisted puts the PLIC's line straight into
 * hvip.VSEIP, as posted interrupts or an AIA guest interrupt file would).
 */
import type { Device, Stateful, VirtioSlotContext, VirtioSlotFactory } from "@hvkit/machine";
import { type BlockBackend, GuestMemory, VirtioBlk, VirtioMmio, type VirtioMmioState } from "@hvkit/virtio";
import { PassthroughError } from "./errors.js";
import { IommuDomain } from "./iommu.js";

/** DMA through an IOMMU domain: `range()` translates guest-physical ranges to host memory offsets. */
export class IommuMemory extends GuestMemory {
  /** The domain every range goes through. */
  readonly domain: IommuDomain;

  /**
   * @param domain the VM's IOMMU domain
   * @param hostMemory all host memory the device can address
   * @param hostBase its physical address
   * @param onWrite called with the host-physical range after each DMA write
   */
  constructor(
    domain: IommuDomain,
    hostMemory: Uint8Array,
    hostBase: number,
    onWrite: (pa: number, length: number) => void,
  ) {
    super(hostMemory, hostBase, onWrite);
    this.domain = domain;
  }

  override range(lo: number, hi: number, length: number): number {
    return this.domain.translate(lo, hi, length);
  }
}

/** Options of {@link PassthroughBlk}. */
export interface PassthroughBlkOptions {
  /** The disk behind the controller (any `@hvkit/disk` image). */
  backend: BlockBackend;
  /** Refuse writes. Default: the backend's `readOnly`. */
  readOnly?: boolean;
  /** The serial number (GET_ID). */
  serial?: string;
}

/** The host device: see the file comment. Assign it to a VM with {@link passthrough}. */
export class PassthroughBlk {
  /** The controller's function (virtio-blk). */
  readonly function: VirtioBlk;
  /** The IOMMU domain of the VM it is assigned to (undefined before). */
  iommu: IommuDomain | undefined;
  /** The assigned device on the VM's bus (undefined before). */
  assigned: AssignedDevice | undefined;

  constructor(options: PassthroughBlkOptions) {
    if (typeof options !== "object" || options === null || typeof options.backend?.read !== "function") {
      throw new PassthroughError(
        "PASSTHROUGH_BAD_CONFIG",
        "PassthroughBlk: backend must be a BlockBackend ({ sectors, read, write }), e.g. an @hvkit/disk image",
      );
    }
    this.function = new VirtioBlk({
      backend: options.backend,
      ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}),
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
    });
  }

  /** Build the VM-side device in a board slot (called by the slot factory). */
  assign(context: VirtioSlotContext): AssignedDevice {
    if (this.assigned) {
      throw new PassthroughError(
        "PASSTHROUGH_DEVICE_IN_USE",
        "this host device is assigned to a VM already; a device is assigned to one VM (create another PassthroughBlk)",
      );
    }
    // Host memory: the whole RAM buffer behind the guest's (guest RAM, then the VMM's).
    const ram = context.ram;
    const hostMemory = new Uint8Array(ram.buffer);
    const hostBase = context.ramBase - ram.byteOffset;
    const domain = new IommuDomain({ hostMemory, hostBase, vm: { base: context.ramBase, size: ram.length } });
    // Guest-physical = host-physical for guest RAM on this board: the IOVA space is the guest's
    // physical address space, mapped onto the pages that back it.
    domain.map(context.ramBase, context.ramBase, ram.length);
    // The interrupt line goes to the PLIC as every device's does, then to the VMM's posting
    // hook when one is registered (see AssignedDevice.postInterrupts).
    let assigned: AssignedDevice | undefined;
    const irq = (level: boolean): void => {
      context.irq(level);
      assigned?.interruptChanged(level);
    };
    const transport = new VirtioMmio(
      this.function,
      { ...context, irq },
      { memory: () => new IommuMemory(domain, hostMemory, hostBase, context.dmaWritten) },
    );
    assigned = new AssignedDevice(`pt${context.slot}-blk`, transport, domain);
    this.iommu = domain;
    this.assigned = assigned;
    return assigned;
  }
}

/** The assigned device as the VM's bus sees it: the host device's registers, declared `direct`. */
export class AssignedDevice implements Device, Stateful<VirtioMmioState> {
  readonly name: string;
  readonly size: number;
  readonly direct = true;
  /** The register interface. */
  readonly transport: VirtioMmio;
  /** The VM's IOMMU domain. */
  readonly iommu: IommuDomain;

  /** Interrupts raised while a VMM's posting hook was registered (delivered with no exit where it can). */
  interruptsPosted = 0;
  private post: (() => void) | undefined;

  constructor(name: string, transport: VirtioMmio, iommu: IommuDomain) {
    this.name = name;
    this.size = transport.size;
    this.transport = transport;
    this.iommu = iommu;
  }

  get badAccesses(): number {
    return this.transport.badAccesses;
  }

  read(offset: number, size: 1 | 2 | 4 | 8): number {
    return this.transport.read(offset, size);
  }

  write(offset: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
    this.transport.write(offset, size, lo, hi);
  }

  reset(): void {
    this.transport.reset();
  }

  postInterrupts(post: (() => void) | undefined): void {
    this.post = post;
  }

  /** The transport changed its interrupt line (after the PLIC heard of it). */
  interruptChanged(level: boolean): void {
    const post = this.post;
    if (post === undefined) return;
    if (level) this.interruptsPosted++;
    post();
  }

  /**
   * Counters for `vm.stats.counters` (as `pt<slot>-blk.*`): the device's own
   * (kicks as `doorbells`), and `iommu.translations` / `iommu.faults` /
   * `iommu.mappedPages`.
   */
  counters(): Record<string, number> {
    const { notifications, ...rest } = this.transport.counters();
    const s = this.iommu.stats;
    return {
      ...rest,
      doorbells: notifications ?? 0,
      "iommu.translations": s.translations,
      "iommu.faults": s.faults,
      "iommu.mappedPages": s.mappedPages,
      interruptsPosted: this.interruptsPosted,
    };
  }

  getState(): VirtioMmioState {
    return this.transport.getState();
  }

  setState(state: VirtioMmioState): void {
    this.transport.setState(state);
  }
}

/**
 * A `VmConfig.devices` entry: assign `device` (a {@link PassthroughBlk}, or
 * the options of a new one) to the VM in that slot. Its devicetree node is
 * an ordinary "virtio,mmio" node.
 */
export function passthrough(device: PassthroughBlk | PassthroughBlkOptions): VirtioSlotFactory {
  const host = device instanceof PassthroughBlk ? device : new PassthroughBlk(device);
  return (context) => host.assign(context);
}
