/** Stable error codes of the machine package. */
export type MachineErrorCode =
  /** A device range overlaps one already mapped. */
  | "MACHINE_BUS_OVERLAP"
  /** A device range is empty, not whole, or reaches past 4 GiB. */
  | "MACHINE_BUS_RANGE"
  /** A board or device option is invalid. */
  | "MACHINE_BAD_CONFIG"
  /** A snapshot state does not fit the device it is given to. */
  | "MACHINE_BAD_STATE"
  /** An image (ELF, Linux Image, gzip, devicetree) is corrupt or truncated. */
  | "MACHINE_IMAGE_MALFORMED"
  /** An image is valid but of a kind this loader does not handle. */
  | "MACHINE_IMAGE_UNSUPPORTED"
  /** An image is for another architecture. */
  | "MACHINE_NOT_RISCV"
  /** An image does not fit in RAM. */
  | "MACHINE_IMAGE_TOO_LARGE"
  /** An image asks to be loaded at addresses outside RAM. */
  | "MACHINE_IMAGE_OUTSIDE_RAM"
  /** No free, aligned room in RAM for a blob (initrd, devicetree). */
  | "MACHINE_NO_SPACE"
  /** Devicetree builder misuse (unbalanced nodes, bad names). */
  | "MACHINE_FDT_USAGE";

/**
 * An error from the machine package: host misuse or bad input, never a guest
 * fault (guest faults are access faults and counters).
 */
export class MachineError extends Error {
  override readonly name = "MachineError";
  /** Stable, machine-readable error code. */
  readonly code: MachineErrorCode;

  constructor(code: MachineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** `0x`-prefixed hex for messages. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}
