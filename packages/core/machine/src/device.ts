/**
 * The device contract: a bus-agnostic state machine that sees offsets into
 * its own window, never absolute addresses (the Firecracker `BusDevice` /
 * rust-vmm vm-superio shape). Interrupts leave a device through an injected
 * {@link IrqLine}; a host backend (a console, a disk) is injected the same way.
 */

/** Access sizes in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

/** A memory-mapped device. */
export interface Device {
  /** Short name for messages and counters, e.g. "uart0". */
  readonly name: string;
  /** Size of the device's window in bytes. */
  readonly size: number;
  /**
   * When true, 8-byte accesses reach the device whole and an 8-byte read leaves
   * its high word in {@link readHi}. Otherwise the bus splits them into two
   * 4-byte accesses, low address first (what QEMU does for devices whose
   * largest access is 4 bytes).
   */
  readonly wide?: boolean;
  /** High 32 bits of the last 8-byte read (wide devices only). */
  readHi?: number;
  /** Read `size` bytes at `offset`; return the low 32 bits (zero-extended). Must not throw. */
  read(offset: number, size: AccessSize): number;
  /** Write `size` bytes at `offset`: the low word in `lo`, the high word of an 8-byte write in `hi`. Must not throw. */
  write(offset: number, size: AccessSize, lo: number, hi: number): void;
  /** Accesses of a size or offset the device does not implement (each read open-bus 0 or was ignored). */
  readonly badAccesses: number;
  /** Return to the power-on state (called by the board's reset); optional. */
  reset?(): void;
  /**
   * For a device in a virtio-mmio slot that is not a virtio transport: the
   * devicetree `compatible` string(s) of its node (the board names the node
   * after the first one's model part, e.g. "pio-blk@10001000"). Default:
   * the slot is described as "virtio,mmio".
   */
  readonly compatible?: string | readonly string[];
  /**
   * The device is assigned to the guest (direct assignment, "passthrough"):
   * a VMM maps its window straight into the guest (shadow or G-stage tables)
   * instead of trapping each access. Default false.
   */
  readonly direct?: boolean;
  /**
   * For a `direct` device: a VMM that can put the device's interrupts into
   * the guest without an exit (posted interrupts) registers `post`, which the
   * device calls right after each change of its interrupt line; `undefined`
   * unregisters. Optional: without it the interrupt reaches the VMM as usual.
   */
  postInterrupts?(post: (() => void) | undefined): void;
}

/** An interrupt output: the device drives it high or low (a level). */
export type IrqLine = (level: boolean) => void;

/** An interrupt line connected to nothing. */
export const NO_IRQ: IrqLine = () => {};

/** A device whose state can be saved and restored (snapshots, migration). */
export interface Stateful<S> {
  /** The device's state as a plain, JSON-safe object (a copy). */
  getState(): S;
  /** Restore a state from {@link getState}; throws `MACHINE_BAD_STATE` if it does not fit. */
  setState(state: S): void;
}
